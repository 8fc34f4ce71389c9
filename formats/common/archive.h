/* SPDX-License-Identifier: Apache-2.0 */
/* archive.h: archive header and seal trailer (SPEC §8) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "defs.h"
#include "keys.h"

typedef struct LsArchiveHeader {
        uint16_t incompat_flags;            /* 0 or LS_ARCHIVE_INCOMPAT_DICT */
        uint16_t compat_flags;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint64_t archive_no;
        uint64_t first_batch_no;
        uint64_t first_seq;
        uint64_t created_ns;
        uint8_t prev_seal_hash[LS_HASH_LEN];
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t epoch;
        /* Merkle tree state at first_seq: the perfect-subtree roots, largest first. */
        uint8_t peak_count;                 /* == popcount(first_seq) */
        uint8_t peaks[64][LS_HASH_LEN];
        uint8_t dict_hash[LS_HASH_LEN];     /* with DICT: H(dictionary structure), §8.6 */
        uint8_t sig[LS_SIG_LEN];
} LsArchiveHeader;

/* Encoded size: LS_ARCHIVE_HEADER_MIN_LEN + 32 * peak_count (+ 32 with DICT). */
size_t ls_archive_header_size(const LsArchiveHeader *h);
/* out must hold LS_ARCHIVE_HEADER_MAX_LEN bytes; returns the encoded size. */
size_t ls_archive_header_encode(const LsArchiveHeader *h, uint8_t *out);
int ls_archive_header_decode(LsArchiveHeader *h, const uint8_t *p, size_t n, size_t *ret_offset);
int ls_archive_header_sign(LsArchiveHeader *h, const LsSigner *s);
/*
 * The envelope of an archive header of a later format (SPEC §1.1), after
 * ls_archive_header_decode returned -EPROTONOSUPPORT: magic and `size` (184..65535, exactly
 * n) are checked; the fixed fields up to `epoch` and the signature (the last 64 bytes) are
 * read; peak_count is 0 (a later format may lay out the rest differently).
 */
#define LS_ARCHIVE_HEADER_LATER_MAX_LEN 65535
int ls_archive_header_decode_later(LsArchiveHeader *h, uint16_t *ret_version, const uint8_t *p,
                                   size_t n, size_t *ret_offset);
/* The signature of an archive header as written (n bytes at p): 0 or -EKEYREJECTED. */
int ls_archive_header_verify_raw(const uint8_t *p, size_t n, const uint8_t pk[LS_PK_LEN]);
int ls_archive_header_verify(const LsArchiveHeader *h, const uint8_t pk[LS_PK_LEN]);

typedef struct LsTrailer {
        uint16_t compat_flags;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint64_t archive_no;
        uint64_t first_batch_no;
        uint64_t batch_count;
        uint64_t first_seq;
        uint64_t record_count;
        uint64_t min_time_ns;
        uint64_t max_time_ns;
        uint64_t sealed_ns;
        uint64_t tree_size;
        uint8_t tree_root[LS_HASH_LEN];
        uint8_t last_header_hash[LS_HASH_LEN];
        uint8_t content_hash[LS_HASH_LEN];
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t epoch;
        uint8_t sig[LS_SIG_LEN];
} LsTrailer;

void ls_trailer_encode(const LsTrailer *t, uint8_t out[LS_TRAILER_LEN]);
int ls_trailer_decode(LsTrailer *t, const uint8_t *p, size_t n, size_t *ret_offset);
int ls_trailer_sign(LsTrailer *t, const LsSigner *s);
int ls_trailer_verify(const LsTrailer *t, const uint8_t pk[LS_PK_LEN]);
/* The envelope of a seal trailer of a later format (SPEC §1.1): every field at its offset. */
int ls_trailer_decode_later(LsTrailer *t, uint16_t *ret_version, const uint8_t *p, size_t n,
                            size_t *ret_offset);
/* The signature of a trailer as written (280 bytes at p): 0 or -EKEYREJECTED. */
int ls_trailer_verify_raw(const uint8_t *p, size_t n, const uint8_t pk[LS_PK_LEN]);
/* seal_hash = H(trailer[0..216)) */
void ls_trailer_hash(const LsTrailer *t, uint8_t out[LS_HASH_LEN]);

/*
 * Dictionary structure (SPEC §8.6): fixed part and the zstd dictionary dict[0..len), written
 * to out (LS_DICT_FIXED_LEN + len bytes). Decode checks the fixed part and the dictionary's
 * zstd magic and id; *ret_dict points into p.
 */
size_t ls_dict_encode(const uint8_t *dict, size_t len, uint8_t *out);
int ls_dict_decode(const uint8_t *p, size_t n, const uint8_t **ret_dict, size_t *ret_len,
                   uint32_t *ret_id, size_t *ret_offset);
