/* SPDX-License-Identifier: Apache-2.0 */
/* bundle.h: evidence bundle encodings (SPEC §14): evidence.lsb header and entries, selection hash */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "defs.h"
#include "hash.h"

#define LS_MAGIC_EVIDENCE 'E'
#define LS_BUNDLE_HEADER_LEN 64
#define LS_BUNDLE_ENTRY_FIXED_LEN 48
#define LS_BUNDLE_MAX_RECORDS 1048576u
#define LS_BUNDLE_MAX_PROOF_LEN (20 + 32 * 64)
#define LS_BUNDLE_MANIFEST_MAX (1u << 20)
#define LS_BUNDLE_MAX_FILES 4096

#define LS_BUNDLE_EVIDENCE "evidence.lsb"
#define LS_BUNDLE_CHECKPOINT "checkpoint.txt"
#define LS_BUNDLE_KEYS "keys.lsk"
#define LS_BUNDLE_MANIFEST "MANIFEST.sha256"

typedef struct LsBundleHeader {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint64_t tree_size;
        uint32_t record_count;
        uint64_t custody_seq;
} LsBundleHeader;

void ls_bundle_header_encode(const LsBundleHeader *h, uint8_t out[LS_BUNDLE_HEADER_LEN]);
/* Exactly LS_BUNDLE_HEADER_LEN bytes: -ENODATA shorter, -EBADMSG malformed,
 * -EPROTONOSUPPORT unknown version or incompatible flag, -E2BIG record_count. */
int ls_bundle_header_decode(LsBundleHeader *h, const uint8_t *p, size_t n);

/*
 * The envelope of an evidence.lsb header of a later format (SPEC §14.1, §1.1), after
 * ls_bundle_header_decode returned -EPROTONOSUPPORT: n bytes, at least the 64 of this format;
 * magic, `size` (64..LS_BUNDLE_LATER_HEADER_MAX, the header's length: *ret_size), the fields
 * of this format up to custody_seq and, at 56, `custody_offset` (*ret_custody_offset: where
 * the custody entry starts, at or after the header). 0, -ENODATA, -EBADMSG, -E2BIG.
 */
#define LS_BUNDLE_LATER_HEADER_MAX 4096
int ls_bundle_header_decode_later(LsBundleHeader *h, uint16_t *ret_size,
                                  uint64_t *ret_custody_offset, const uint8_t *p, size_t n);
/* The custody record's MANIFEST_HASH for a later header: H("logseal-bundle-header-v1\n" ‖
 * header[0..size)). */
void ls_bundle_header_later_hash(const uint8_t *p, size_t size, uint8_t out[LS_HASH_LEN]);

/* One entry's fixed part (SPEC §14.1); record and proof follow it. */
typedef struct LsBundleEntry {
        uint32_t record_len;
        uint32_t proof_len;
        uint64_t seq;
        uint8_t salt[LS_SALT_LEN];
} LsBundleEntry;

void ls_bundle_entry_encode(const LsBundleEntry *e, uint8_t out[LS_BUNDLE_ENTRY_FIXED_LEN]);
/* The fixed part of an entry: -ENODATA when n < 48, -EBADMSG / -E2BIG for bad lengths. */
int ls_bundle_entry_decode(LsBundleEntry *e, const uint8_t *p, size_t n);

/* Selection hash (SPEC §14.1), fed entry by entry. */
typedef struct LsSelection {
        LsSha256 h;
} LsSelection;

void ls_selection_init(LsSelection *s, uint32_t record_count);
void ls_selection_add(LsSelection *s, uint64_t seq, const uint8_t leaf[LS_HASH_LEN]);
void ls_selection_final(LsSelection *s, uint8_t out[LS_HASH_LEN]);
