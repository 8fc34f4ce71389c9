/* SPDX-License-Identifier: Apache-2.0 */
/* record.h: the record encoding of SPEC §3 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "defs.h"

/* A decoded record. Decoding points identity/body into the input buffer. */
typedef struct LsRecord {
        uint8_t type;          /* LS_REC_* */
        uint16_t flags;        /* LS_RECF_* */
        uint64_t seq;
        uint64_t time_ns;
        uint8_t transport;     /* LS_TRANSPORT_* */
        uint8_t family;        /* LS_FAMILY_* */
        uint16_t port;
        uint8_t address[16];   /* IPv4: 4 bytes + zeros; IPv6: 16; unix: pid,uid,gid,0 (u32 LE) */
        uint32_t conn_id;
        uint32_t orig_len;
        const uint8_t *identity;
        uint16_t identity_len;
        const uint8_t *body;
        uint32_t body_len;
} LsRecord;

/* Encoded size of r (56 + identity + body). */
size_t ls_record_size(const LsRecord *r);

/*
 * Checks the SPEC §3.1 rules on a record in memory: 0, -E2BIG for lengths
 * above their maximum, -EBADMSG otherwise.
 */
int ls_record_check(const LsRecord *r);

/* Encodes r into out[0..cap). -ENOBUFS when cap is too small; ls_record_check errors. */
int ls_record_encode(const LsRecord *r, uint8_t *out, size_t cap, size_t *ret_len);

/*
 * Decodes exactly n bytes. -ENODATA when shorter than the fixed part or than
 * its lengths say, -EBADMSG for trailing bytes or rule violations, -E2BIG for
 * lengths above maximum, -EPROTONOSUPPORT for an unknown record_version.
 * On error *ret_offset (if non-NULL) is the offset of the offending field.
 */
int ls_record_decode(LsRecord *r, const uint8_t *p, size_t n, size_t *ret_offset);

/* Unix peer credentials stored in the address field. */
void ls_record_set_ucred(LsRecord *r, uint32_t pid, uint32_t uid, uint32_t gid);
void ls_record_get_ucred(const LsRecord *r, uint32_t *pid, uint32_t *uid, uint32_t *gid);

const char *ls_transport_name(uint8_t transport);
