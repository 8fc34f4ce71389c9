/* SPDX-License-Identifier: Apache-2.0 */
/* control.h: control record bodies, a tagged field list (SPEC §4) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "defs.h"

typedef struct LsControl {
        uint16_t type;
        const uint8_t *body;   /* the whole body, fields start at body + 4 */
        size_t len;
} LsControl;

/*
 * Validates a control body: field order, sizes, critical tags, required tags
 * of known types. -ENODATA truncated field, -E2BIG value above its maximum,
 * -EBADMSG malformed, -EPROTONOSUPPORT unknown critical tag. *ret_offset
 * (optional) is the offset in the body of the offending field.
 */
int ls_control_decode(LsControl *c, const uint8_t *body, size_t n, size_t *ret_offset);

/* Looks up a field of a decoded body: 1 found, 0 absent. */
int ls_control_get(const LsControl *c, uint16_t tag, const uint8_t **ret_val, uint16_t *ret_len);
/* Typed lookups for fixed-size fields (u16/u32/u64/i64 by tag type): 1 found, 0 absent. */
int ls_control_get_u64(const LsControl *c, uint16_t tag, uint64_t *ret);

const char *ls_control_type_name(uint16_t type);
const char *ls_control_tag_name(uint16_t tag);
const char *ls_loss_cause_name(uint16_t cause);
const char *ls_custody_action_name(uint16_t action);

/* Builder: fields must be added in increasing tag order; errors are sticky. */
typedef struct LsControlBuilder {
        uint8_t buf[LS_MAX_CONTROL_BODY];
        size_t len;
        int last_tag;
        int err;
} LsControlBuilder;

void ls_control_begin(LsControlBuilder *b, uint16_t type);
void ls_control_add(LsControlBuilder *b, uint16_t tag, const void *p, size_t n);
void ls_control_add_u16(LsControlBuilder *b, uint16_t tag, uint16_t v);
void ls_control_add_u32(LsControlBuilder *b, uint16_t tag, uint32_t v);
void ls_control_add_u64(LsControlBuilder *b, uint16_t tag, uint64_t v);
void ls_control_add_str(LsControlBuilder *b, uint16_t tag, const char *s);
/* Validates what was built (ls_control_decode); 0 or the first error. */
int ls_control_end(LsControlBuilder *b, const uint8_t **ret_body, size_t *ret_len);
