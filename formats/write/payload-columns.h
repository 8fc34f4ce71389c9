/* SPDX-License-Identifier: Apache-2.0 */
/* payload-columns.h: a batch's record entries rewritten as the column layout (SPEC §6.4) */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct LsColumnEncoder LsColumnEncoder;

int ls_column_encoder_new(LsColumnEncoder **ret);
LsColumnEncoder *ls_column_encoder_free(LsColumnEncoder *e);

/*
 * Rewrites `count` well-formed entries raw[0..raw_len) (u32 record_len ‖ record, seq from
 * first_seq, as the builder wrote them) as column content. *ret points into the encoder,
 * valid until the next call. -ENOSPC when the columns would not be shorter than the entries
 * (the batch is then written as entries), -ENOMEM.
 */
int ls_column_encode(LsColumnEncoder *e, uint64_t min_time_ns, const uint8_t *raw, size_t raw_len,
                     uint32_t count, const uint8_t **ret, size_t *ret_len);
