/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trust-internal.h: what the parts of the trust module share (not for callers: trust.h is
 * the one interface, SPEC §9.3).
 *
 *   trust.c         the store: keys, revocations and closes, their indexes and lookups
 *   trust-learn.c   learning: certificates, revocations, closes, a key history
 *   trust-decide.c  decisions: may a key sign, a batch, a checkpoint, the review at the end
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "trust.h"


/* Bounds on trust material: a 64 MiB history holds at most ~400,000 items; memory stays
 * bounded (hourly epochs for 50 years are 438,000 keys and closes). */
#define MAX_KEYS (1u << 19)
#define MAX_REVS 65536
#define MAX_CLOSES (1u << 19)

typedef struct Rev {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t from_batch, from_time_ns;
} Rev;

typedef struct Close {
        LsEpochClose c;
        uint8_t hash[LS_HASH_LEN];
        int in_history, in_evidence;   /* where it was learnt (see LsKeyInfo) */
} Close;

/*
 * Open-addressing indexes (slot = element index + 1, 0 empty), so that every lookup a
 * batch needs is O(1) however many epochs a chain has lived through (hourly epochs for
 * years are tens of thousands of keys and closes).
 */
typedef struct Index {
        size_t *slot;
        size_t cap;         /* a power of two, or 0 */
} Index;

struct LsTrust {
        Index by_id;        /* keys by key_id */
        Index by_epoch;     /* signing keys by (chain, epoch) */
        Index close_by_epoch;
        size_t last_hit;    /* the key found last (batches of one key come in runs) */
        uint64_t gen;       /* bumped when a key or a revocation is added (invalidates caches) */
        int loading;        /* within ls_trust_load_history: keys learnt come from a history */
        LsKeyInfo *keys;
        size_t nkeys, keys_cap;
        Rev *revs;
        size_t nrevs, revs_cap;
        Close *closes;
        size_t ncloses, closes_cap;
        int have_chain;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        /* a root certificate whose subject is the anchor but whose issuer is unknown */
        int later_root;
        uint8_t later_root_issuer[LS_KEY_ID_LEN];
        uint64_t later_root_generation;
        /* the first conflict between the investigator's history and the evidence */
        int have_conflict;
        LsTrustConflict conflict;
};

/* trust.c */
uint64_t trust_hash_epoch(const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t epoch);
int trust_index_put(Index *ix, uint64_t h, size_t i, size_t count);
int trust_index_reset(Index *ix, size_t count);
int trust_grow(void **p, size_t *cap, size_t n, size_t elem, size_t max);
const LsKeyInfo *trust_key_by_epoch(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                                    uint64_t epoch);
int trust_key_add(LsTrust *t, const LsKeyInfo *k);
int trust_other_chain(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN]);
Close *trust_close_find(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t epoch);
const LsKeyInfo *trust_successor(const LsTrust *t, const LsKeyInfo *k);
