/* SPDX-License-Identifier: Apache-2.0 */
/* payload.h: check, decompress and walk a batch payload (SPEC §6.2) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "hash.h"
#include "record.h"

typedef struct LsPayload LsPayload;

/*
 * An archive's zstd dictionary (SPEC §8.6), ready for decompression. Reference counted: the
 * archive reader holds one reference, a batch job that outlives the reader's next item takes
 * its own. ls_dict_new decodes a dictionary structure (ls_dict_decode) and copies what it
 * needs; memory is bounded by LS_MAX_DICT.
 */
typedef struct LsDict LsDict;
int ls_dict_new(LsDict **ret, const uint8_t *structure, size_t n, size_t *ret_offset);
LsDict *ls_dict_ref(const LsDict *d);
LsDict *ls_dict_unref(LsDict *d);
uint32_t ls_dict_id(const LsDict *d);
/* H(dictionary structure): what the archive header's dict_hash names. */
const uint8_t *ls_dict_hash(const LsDict *d);

int ls_payload_new(LsPayload **ret);
LsPayload *ls_payload_free(LsPayload *p);

/*
 * Checks H(payload) against the header (-EILSEQ), that it is exactly one
 * zstd frame (-EBADMSG) and decompresses it to exactly payload_raw_len bytes
 * (-EBADMSG otherwise). Memory is bounded by LS_MAX_BATCH_RAW.
 */
int ls_payload_open(LsPayload *p, const LsBatchHeader *h, const uint8_t *payload, size_t len);
/*
 * The same with the batch's archive dictionary (NULL: the archive has none). A batch with the
 * DICT flag needs one and a frame naming it (-EBADMSG otherwise: "no dictionary"); a batch
 * without the flag must not name any dictionary.
 */
int ls_payload_open_dict(LsPayload *p, const LsBatchHeader *h, const LsDict *dict,
                         const uint8_t *payload, size_t len);

/* The decompressed content after a successful open. */
const uint8_t *ls_payload_raw(const LsPayload *p, size_t *ret_len);
/* What the zstd frame held after a successful open: the column content of a COLUMNS batch
 * (SPEC §6.4), else the entries (ls_payload_raw). The writer trains dictionaries on it. */
const uint8_t *ls_payload_content(const LsPayload *p, size_t *ret_len);

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
