/* SPDX-License-Identifier: Apache-2.0 */
/* test-trust.h: the fixture and helpers the parts of test-trust share (test-trust-fixture.c) */
#pragma once

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "checkpoint.h"
#include "hash.h"
#include "keys.h"
#include "testutil.h"
#include "trust.h"
#include "util.h"

#define S UINT64_C(1000000000)
#define NA 9

typedef struct Fx {
        uint8_t a[LS_CHAIN_ID_LEN], b[LS_CHAIN_ID_LEN];
        LsKeyPair *r0, *r1, *r2, *a0, *a1, *a2, *b0, *b1, *x;
        LsCert ca0, ca1, ca2, cb0, cb1, cr1, cr2;
        LsBatchHeader ha[NA], hb0;
        LsEpochClose close0, close1;
        uint8_t close0_hash[LS_HASH_LEN];
} Fx;

/* Built by fixture_init() (test-trust-fixture.c) before the suite runs. */
extern Fx fx;

LsKeyPair *key(const char *name, uint64_t epoch);
LsCert cert(const uint8_t chain[LS_CHAIN_ID_LEN], const LsKeyPair *subject, uint8_t kind,
            uint64_t epoch, uint64_t valid_from, uint16_t flags, const LsKeyPair *issuer);
LsBatchHeader hdr(const uint8_t chain[LS_CHAIN_ID_LEN], uint64_t b, uint64_t first_seq,
                  uint32_t count, uint64_t max_time, const uint8_t *prev, const char *variant,
                  const LsKeyPair *k);
LsEpochClose mkclose(const uint8_t chain[LS_CHAIN_ID_LEN], const LsKeyPair *closed, uint64_t epoch,
                     const LsBatchHeader *last, uint64_t max_time, const uint8_t *prev_close,
                     const LsKeyPair *issuer);
void fixture_init(void);
void fixture_free(void);

LsTrust *trust_new(const LsKeyPair *anchor);
/* Root r0, then a0..a<epochs-1> of chain A. */
LsTrust *trust_a(int epochs);
LsTrustDecision batch(LsTrust *t, const LsBatchHeader *h);
LsTrustDecision may(LsTrust *t, const LsKeyPair *k, const uint8_t *chain, uint64_t b,
                    uint64_t time);
/* The signed checkpoint of h (signed by k), as a verifier reads it. */
LsTrustDecision checkpoint(LsTrust *t, const LsBatchHeader *h, const LsKeyPair *k);
LsRevocation revocation(const uint8_t chain[LS_CHAIN_ID_LEN], const LsKeyPair *revoked,
                        uint64_t from_batch, uint64_t from_time, const LsKeyPair *issuer);

#define ck_trust(d, res)                                                                           \
        ck_assert_msg((d).result == (res), "result %s, expected %s (%s)",                          \
                      ls_trust_result_name((d).result), ls_trust_result_name(res),                 \
                      (d).why ? (d).why : "-")
#define ck_ok_bound(d)                                                                             \
        do {                                                                                       \
                ck_trust(d, LS_TRUST_OK);                                                          \
                ck_assert_int_eq((d).unbound, 0);                                                  \
        } while (0)
#define ck_ok_unbound(d)                                                                           \
        do {                                                                                       \
                ck_trust(d, LS_TRUST_OK);                                                          \
                ck_assert_int_eq((d).unbound, 1);                                                  \
        } while (0)

typedef struct Review {
        unsigned n;
        LsTrustResult result[8];
        uint64_t epoch[8];
        char detail[8][256];
} Review;
void on_review(void *ud, const LsKeyInfo *k, LsTrustResult result, const char *detail);

/* Each part adds its tests to the suite's test case, in this order. */
void suite_add_chains(TCase *tc);
void suite_add_closes(TCase *tc);
void suite_add_history(TCase *tc);
