/* SPDX-License-Identifier: Apache-2.0 */
/* payload.h: check, decompress and walk a batch payload (SPEC §6.2) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "hash.h"
#include "record.h"

typedef struct LsPayload LsPayload;

int ls_payload_new(LsPayload **ret);
LsPayload *ls_payload_free(LsPayload *p);

/*
 * Checks H(payload) against the header (-EILSEQ), that it is exactly one
 * zstd frame (-EBADMSG) and decompresses it to exactly payload_raw_len bytes
 * (-EBADMSG otherwise). Memory is bounded by LS_MAX_BATCH_RAW.
 */
int ls_payload_open(LsPayload *p, const LsBatchHeader *h, const uint8_t *payload, size_t len);

/* The decompressed content after a successful open. */
const uint8_t *ls_payload_raw(const LsPayload *p, size_t *ret_len);

typedef struct LsPayloadIter {
        const uint8_t *raw;
        size_t len;
        size_t pos;            /* offset of the next entry in the decompressed content */
        uint64_t next_seq;
        uint32_t index, count;
        LsSaltKey salt_key;
} LsPayloadIter;

void ls_payload_iter_init(LsPayloadIter *it, const LsBatchHeader *h, const uint8_t *raw,
                          size_t len);

/*
 * Next record: 1 with *rec (pointing into raw), its encoding and its leaf hash
 * (skipped when leaf is NULL);
 * 0 after the last entry (when the content was used up exactly); <0 on
 * malformed entries, with *ret_offset the offset in the decompressed content.
 * Checks record_len bounds, record decoding, seq contiguity, the entry count.
 */
int ls_payload_next(LsPayloadIter *it, LsRecord *rec, const uint8_t **ret_bytes,
                    size_t *ret_len, uint8_t leaf[LS_HASH_LEN], size_t *ret_offset);
