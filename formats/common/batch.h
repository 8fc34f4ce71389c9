/* SPDX-License-Identifier: Apache-2.0 */
/* batch.h: the signed batch header, which doubles as a checkpoint (SPEC §6, §7) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "defs.h"
#include "keys.h"

typedef struct LsBatchHeader {
        uint16_t incompat_flags;   /* LS_BATCH_INCOMPAT_*: the payload layout (SPEC §6.2) */
        uint16_t compat_flags;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint64_t archive_no;
        uint64_t batch_no;
        uint64_t first_seq;
        uint32_t record_count;
        uint32_t payload_raw_len;
        uint64_t min_time_ns;
        uint64_t max_time_ns;
        uint64_t tree_size;
        uint8_t tree_root[LS_HASH_LEN];
        uint8_t prev_header_hash[LS_HASH_LEN];
        uint8_t salt_seed[LS_HASH_LEN];
        uint32_t payload_len;
        uint8_t payload_hash[LS_HASH_LEN];
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t epoch;
        uint8_t sig[LS_SIG_LEN];
} LsBatchHeader;

void ls_batch_header_encode(const LsBatchHeader *h, uint8_t out[LS_BATCH_HEADER_LEN]);
/*
 * Structural decode of exactly n bytes (-ENODATA shorter, -EBADMSG longer or
 * inconsistent, -EPROTONOSUPPORT version/flags, -E2BIG bounds). *ret_offset
 * (optional) is the offset of the offending field.
 */
int ls_batch_header_decode(LsBatchHeader *h, const uint8_t *p, size_t n, size_t *ret_offset);
/*
 * The envelope of a batch header of a later format (SPEC §1.1), after ls_batch_header_decode
 * returned -EPROTONOSUPPORT: magic and size (304) are checked, nothing else; every field is
 * read at its offset (incompat_flags as written), *ret_version is the version written and
 * header_hash is H of the bytes as written. 0, -ENODATA, -EBADMSG.
 */
int ls_batch_header_decode_later(LsBatchHeader *h, uint8_t header_hash[LS_HASH_LEN],
                                 uint16_t *ret_version, const uint8_t *p, size_t n,
                                 size_t *ret_offset);
/* The signature of h over its note body with this header hash: 0 or -EKEYREJECTED. */
int ls_batch_header_verify_hash(const LsBatchHeader *h, const uint8_t header_hash[LS_HASH_LEN],
                                const uint8_t pk[LS_PK_LEN]);
/* header_hash = H(header[0..240)) */
void ls_batch_header_hash(const LsBatchHeader *h, uint8_t out[LS_HASH_LEN]);
/* The checkpoint note body this header's signature covers (SPEC §7.1). */
int ls_batch_note_body(const LsBatchHeader *h, char *out, size_t cap);
/* Sets key_id and epoch from the signer and signs the note body. */
int ls_batch_header_sign(LsBatchHeader *h, const LsSigner *s);
/* 0 or -EKEYREJECTED (also when pk does not match key_id). */
int ls_batch_header_verify(const LsBatchHeader *h, const uint8_t pk[LS_PK_LEN]);
/* The signed checkpoint text of this batch (SPEC §7.2); returns its length. */
int ls_batch_checkpoint(const LsBatchHeader *h, const uint8_t pk[LS_PK_LEN], char *out,
                        size_t cap);
