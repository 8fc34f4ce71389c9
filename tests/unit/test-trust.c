/* SPDX-License-Identifier: Apache-2.0 */
/* test-trust: the key trust rules of SPEC §9.3 and §9.4, one by one, through the ls_trust_* API */
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

/*
 * Every rule is tested with the forgery and with the genuine case next to it, so that a test
 * passes neither because the module accepts everything nor because it refuses everything.
 *
 * The fixture: one root (generation 0) and two later root generations; chain A with epochs
 * 0, 1, 2 (keys a0, a1, a2; a1 valid from batch 3, a2 from batch 6, each handed over by its
 * predecessor, all with the CLOSED flag), chain B with epochs 0 and 1 (b0, b1; b1 valid from
 * batch 3), a rogue key x nobody certified. Batch b of chain A holds records 2b and 2b+1 and is
 * dated TU_T0 + b seconds; batches 0-2 are signed by a0, 3-5 by a1, 6-8 by a2. close0 (signed
 * by a1) and close1 (signed by a2) close epochs 0 and 1.
 *
 * The last four tests were deviations of the module from SPEC §9.3/§9.4 that this suite
 * found (registered then only with LOGSEAL_KNOWN_BUGS=1); the module is fixed.
 */

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

static Fx fx;

/* Building the fixture cannot fail; it also runs outside any test (no ck_assert there). */
#define NEED(x)                                                                                    \
        do {                                                                                       \
                if (!(x)) {                                                                        \
                        fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #x);             \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

static LsKeyPair *key(const char *name, uint64_t epoch)
{
        uint8_t seed[32];
        LsKeyPair *k;

        tu_seed(seed, name);
        NEED(ls_keypair_from_seed(&k, seed, epoch) == 0);
        return k;
}

static LsCert cert(const uint8_t chain[LS_CHAIN_ID_LEN], const LsKeyPair *subject, uint8_t kind,
                   uint64_t epoch, uint64_t valid_from, uint16_t flags, const LsKeyPair *issuer)
{
        LsCert c = {.kind = kind,
                    .flags = flags,
                    .epoch = epoch,
                    .valid_from_batch = valid_from,
                    .issued_ns = TU_T0};
        LsSigner s;

        if (kind == LS_CERT_SIGNING)
                memcpy(c.chain_id, chain, LS_CHAIN_ID_LEN);
        memcpy(c.pk, subject->pk, LS_PK_LEN);
        ls_signer_from_keypair(&s, (LsKeyPair *) issuer);
        NEED(ls_cert_sign(&c, &s) == 0);
        return c;
}

/* A signed batch header; `variant` makes the tree root (the content) differ from the genuine. */
static LsBatchHeader hdr(const uint8_t chain[LS_CHAIN_ID_LEN], uint64_t b, uint64_t first_seq,
                         uint32_t count, uint64_t max_time, const uint8_t *prev,
                         const char *variant, const LsKeyPair *k)
{
        LsBatchHeader h = {.archive_no = b / 3,
                           .batch_no = b,
                           .first_seq = first_seq,
                           .record_count = count,
                           .payload_raw_len = 120 * count,
                           .min_time_ns = max_time - 1000,
                           .max_time_ns = max_time,
                           .tree_size = first_seq + count,
                           .payload_len = 100};
        char name[128];
        LsSigner s;

        memcpy(h.chain_id, chain, LS_CHAIN_ID_LEN);
        snprintf(name, sizeof(name), "trust-root-of-%" PRIu64 "-%s", b, variant);
        tu_seed(h.tree_root, name);
        snprintf(name, sizeof(name), "trust-payload-of-%" PRIu64 "-%s", b, variant);
        tu_seed(h.payload_hash, name);
        tu_seed(h.salt_seed, "trust-salt");
        if (prev)
                memcpy(h.prev_header_hash, prev, LS_HASH_LEN);
        ls_signer_from_keypair(&s, (LsKeyPair *) k);
        NEED(ls_batch_header_sign(&h, &s) == 0);
        return h;
}

/* The close of the epoch whose last batch is `last`, signed by `issuer`. */
static LsEpochClose mkclose(const uint8_t chain[LS_CHAIN_ID_LEN], const LsKeyPair *closed,
                            uint64_t epoch, const LsBatchHeader *last, uint64_t max_time,
                            const uint8_t *prev_close, const LsKeyPair *issuer)
{
        LsEpochClose c = {.closed_epoch = epoch,
                          .last_batch_no = last->batch_no,
                          .tree_size = last->tree_size,
                          .max_time_ns = max_time,
                          .issued_ns = last->max_time_ns + 1};
        LsSigner s;

        memcpy(c.chain_id, chain, LS_CHAIN_ID_LEN);
        memcpy(c.closed_key_id, closed->key_id, LS_KEY_ID_LEN);
        memcpy(c.tree_root, last->tree_root, LS_HASH_LEN);
        ls_batch_header_hash(last, c.last_header_hash);
        if (prev_close)
                memcpy(c.prev_close_hash, prev_close, LS_HASH_LEN);
        ls_signer_from_keypair(&s, (LsKeyPair *) issuer);
        NEED(ls_close_sign(&c, &s) == 0);
        return c;
}

static void fixture_init(void)
{
        uint8_t seed[32], prev[LS_HASH_LEN] = {0};

        tu_seed(seed, "trust-chain-a");
        memcpy(fx.a, seed, LS_CHAIN_ID_LEN);
        tu_seed(seed, "trust-chain-b");
        memcpy(fx.b, seed, LS_CHAIN_ID_LEN);
        fx.r0 = key("root-key", 0);
        fx.r1 = key("trust-root-1", 1);
        fx.r2 = key("trust-root-2", 2);
        fx.a0 = key("trust-a0", 0);
        fx.a1 = key("trust-a1", 1);
        fx.a2 = key("trust-a2", 2);
        fx.b0 = key("trust-b0", 0);
        fx.b1 = key("trust-b1", 1);
        fx.x = key("trust-rogue", 1);
        fx.ca0 = cert(fx.a, fx.a0, LS_CERT_SIGNING, 0, 0, LS_CERT_F_CLOSED, fx.r0);
        fx.ca1 = cert(fx.a, fx.a1, LS_CERT_SIGNING, 1, 3, LS_CERT_F_CLOSED, fx.a0);
        fx.ca2 = cert(fx.a, fx.a2, LS_CERT_SIGNING, 2, 6, LS_CERT_F_CLOSED, fx.a1);
        fx.cb0 = cert(fx.b, fx.b0, LS_CERT_SIGNING, 0, 0, LS_CERT_F_CLOSED, fx.r0);
        fx.cb1 = cert(fx.b, fx.b1, LS_CERT_SIGNING, 1, 3, LS_CERT_F_CLOSED, fx.b0);
        fx.cr1 = cert(NULL, fx.r1, LS_CERT_ROOT, 1, 0, 0, fx.r0);
        fx.cr2 = cert(NULL, fx.r2, LS_CERT_ROOT, 2, 0, 0, fx.r1);
        for (uint64_t b = 0; b < NA; b++) {
                const LsKeyPair *k = b < 3 ? fx.a0 : b < 6 ? fx.a1 : fx.a2;
                fx.ha[b] = hdr(fx.a, b, 2 * b, 2, TU_T0 + b * S, b ? prev : NULL, "genuine", k);
                ls_batch_header_hash(&fx.ha[b], prev);
        }
        fx.hb0 = hdr(fx.b, 0, 0, 2, TU_T0, NULL, "genuine", fx.b0);
        fx.close0 = mkclose(fx.a, fx.a0, 0, &fx.ha[2], fx.ha[2].max_time_ns, NULL, fx.a1);
        ls_close_hash(&fx.close0, fx.close0_hash);
        fx.close1 = mkclose(fx.a, fx.a1, 1, &fx.ha[5], fx.ha[5].max_time_ns, fx.close0_hash, fx.a2);
}

static void fixture_free(void)
{
        LsKeyPair **all[] = {&fx.r0, &fx.r1, &fx.r2, &fx.a0, &fx.a1, &fx.a2, &fx.b0, &fx.b1, &fx.x};
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                *all[i] = ls_keypair_free(*all[i]);
}

/* ---- helpers ---- */

static LsTrust *trust_new(const LsKeyPair *anchor)
{
        LsTrust *t;

        ck_assert_int_eq(ls_trust_new(&t, anchor->pk), 0);
        return t;
}

/* Root r0, then a0..a<epochs-1> of chain A. */
static LsTrust *trust_a(int epochs)
{
        const LsCert *c[] = {&fx.ca0, &fx.ca1, &fx.ca2};
        LsTrust *t = trust_new(fx.r0);

        for (int i = 0; i < epochs; i++)
                ck_assert_int_eq(ls_trust_add_cert(t, c[i], NULL), 0);
        return t;
}

static LsTrustDecision batch(LsTrust *t, const LsBatchHeader *h)
{
        LsTrustDecision d;

        memset(&d, 0xaa, sizeof(d));
        ls_trust_check_batch(t, h, &d);
        return d;
}

static LsTrustDecision may(LsTrust *t, const LsKeyPair *k, const uint8_t *chain, uint64_t b,
                           uint64_t time)
{
        LsTrustDecision d;

        memset(&d, 0xaa, sizeof(d));
        ls_trust_may_sign(t, k->key_id, chain, b, time, &d);
        return d;
}

/* The signed checkpoint of h (signed by k), as a verifier reads it. */
static LsTrustDecision checkpoint(LsTrust *t, const LsBatchHeader *h, const LsKeyPair *k)
{
        char text[1024];
        LsCheckpoint cp;
        LsTrustDecision d;
        int n = ls_batch_checkpoint(h, k->pk, text, sizeof(text));

        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, text, (size_t) n, NULL), 0);
        memset(&d, 0xaa, sizeof(d));
        ls_trust_check_checkpoint(t, &cp, text, &d);
        return d;
}

static LsRevocation revocation(const uint8_t chain[LS_CHAIN_ID_LEN], const LsKeyPair *revoked,
                               uint64_t from_batch, uint64_t from_time, const LsKeyPair *issuer)
{
        LsRevocation r = {.from_batch = from_batch,
                          .from_time_ns = from_time,
                          .issued_ns = TU_T0 + 86400 * S,
                          .reason = "test",
                          .reason_len = 4};
        LsSigner s;

        memcpy(r.chain_id, chain, LS_CHAIN_ID_LEN);
        memcpy(r.revoked_key_id, revoked->key_id, LS_KEY_ID_LEN);
        ls_signer_from_keypair(&s, (LsKeyPair *) issuer);
        ck_assert_int_eq(ls_revocation_sign(&r, &s), 0);
        return r;
}

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

static void on_review(void *ud, const LsKeyInfo *k, LsTrustResult result, const char *detail)
{
        Review *r = ud;

        ck_assert_ptr_nonnull(detail);
        if (r->n < 8) {
                r->result[r->n] = result;
                r->epoch[r->n] = k->epoch;
                snprintf(r->detail[r->n], sizeof(r->detail[0]), "%s", detail);
        }
        r->n++;
}

/* ---- chain binding ---- */

START_TEST(a_key_certified_for_chain_b_never_may_sign_chain_a)
{
        LsTrust *t = trust_a(1);
        LsBatchHeader forged = hdr(fx.a, 0, 0, 2, TU_T0, NULL, "by-b0", fx.b0);

        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb0, NULL), 0);
        /* forgery: chain B's key over chain A's batches and checkpoints */
        ck_trust(may(t, fx.b0, fx.a, 0, TU_T0), LS_TRUST_DENIED);
        ck_trust(batch(t, &forged), LS_TRUST_DENIED);
        ck_trust(checkpoint(t, &forged, fx.b0), LS_TRUST_UNKNOWN_KEY);
        /* genuine: each key over its own chain */
        ck_ok_bound(may(t, fx.b0, fx.b, 0, TU_T0));
        ck_ok_bound(batch(t, &fx.hb0));
        ck_ok_bound(checkpoint(t, &fx.hb0, fx.b0));
        ck_ok_bound(batch(t, &fx.ha[0]));
        ls_trust_free(t);

        /* with the chain under verification set, another chain's certificate is kept apart */
        t = trust_new(fx.r0);
        ls_trust_set_chain(t, fx.a);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb0, NULL), -EXDEV);
        ck_assert_ptr_null(ls_trust_key(t, fx.b0->key_id));
        ck_trust(batch(t, &forged), LS_TRUST_UNKNOWN_KEY);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca0, NULL), 0);
        ck_ok_bound(batch(t, &fx.ha[0]));
        ls_trust_free(t);
}
END_TEST

START_TEST(a_signing_key_of_chain_a_cannot_certify_a_key_of_chain_b)
{
        LsTrust *t = trust_a(1);
        LsCert forged = cert(fx.b, fx.x, LS_CERT_SIGNING, 1, 3, LS_CERT_F_CLOSED, fx.a0);
        const char *why = NULL;

        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb0, NULL), 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &forged, &why), -EKEYREJECTED);
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_null(ls_trust_key(t, fx.x->key_id));
        /* nor can chain B's key hand over within chain A */
        forged = cert(fx.a, fx.x, LS_CERT_SIGNING, 1, 3, LS_CERT_F_CLOSED, fx.b0);
        ck_assert_int_eq(ls_trust_add_cert(t, &forged, NULL), -EKEYREJECTED);
        ck_assert_ptr_null(ls_trust_key(t, fx.x->key_id));
        /* genuine: handovers within each chain */
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb1, NULL), 0);
        ck_ok_bound(batch(t, &fx.ha[3]));
        ls_trust_free(t);
}
END_TEST

START_TEST(revocations_and_closes_apply_only_to_the_chain_they_name)
{
        LsTrust *t = trust_a(2);
        LsRevocation rb = revocation(fx.b, fx.a0, 0, LS_UNSET, fx.r0);
        LsRevocation ra = revocation(fx.a, fx.a0, 0, LS_UNSET, fx.r0);
        LsEpochClose cb;

        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb0, NULL), 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb1, NULL), 0);
        /* a revocation naming a0's key id in chain B leaves a0 in chain A alone */
        ck_assert_int_eq(ls_trust_add_revocation(t, &rb, NULL), 0);
        ck_ok_unbound(batch(t, &fx.ha[1]));
        /* a close of chain B's epoch 0 binds nothing of chain A's epoch 0 */
        cb = mkclose(fx.b, fx.b0, 0, &fx.hb0, fx.hb0.max_time_ns, NULL, fx.b1);
        cb.last_batch_no = 2; /* b1 is valid from batch 3 */
        cb.tree_size = 6;
        {
                LsSigner s;
                ls_signer_from_keypair(&s, fx.b1);
                ck_assert_int_eq(ls_close_sign(&cb, &s), 0);
        }
        ck_assert_int_eq(ls_trust_add_close(t, &cb, NULL), 0);
        ck_assert_ptr_null(ls_trust_close(t, fx.a, 0));
        ck_assert_ptr_nonnull(ls_trust_close(t, fx.b, 0));
        ck_assert_uint_eq(ls_trust_known_last_batch(t, fx.a), LS_UNSET);
        ck_ok_unbound(batch(t, &fx.ha[2]));
        /* genuine: the same revocation for chain A covers a0 there */
        ck_assert_int_eq(ls_trust_add_revocation(t, &ra, NULL), 0);
        ck_trust(batch(t, &fx.ha[1]), LS_TRUST_REVOKED);
        ls_trust_free(t);
}
END_TEST

/* ---- handover ---- */

START_TEST(a_signing_key_hands_over_only_to_the_next_epoch_later_in_its_chain)
{
        static const struct {
                uint64_t epoch, valid_from;
        } bad[] = {{2, 3}, {0, 3}, {1, 0}, {5, 10}, {UINT64_MAX, 3}};
        LsTrust *t = trust_a(1);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                LsCert c = cert(fx.a, fx.x, LS_CERT_SIGNING, bad[i].epoch, bad[i].valid_from,
                                LS_CERT_F_CLOSED, fx.a0);
                const char *why = NULL;
                ck_assert_msg(ls_trust_add_cert(t, &c, &why) == -EKEYREJECTED,
                              "epoch %" PRIu64 " valid from %" PRIu64 " accepted", bad[i].epoch,
                              bad[i].valid_from);
                ck_assert_ptr_nonnull(why);
        }
        ck_assert_ptr_null(ls_trust_key(t, fx.x->key_id));
        /* a key that starts later than its issuer (by one batch is enough) */
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
        /* a1 may not hand over to a start at or before its own */
        LsCert back = cert(fx.a, fx.x, LS_CERT_SIGNING, 2, 3, LS_CERT_F_CLOSED, fx.a1);
        ck_assert_int_eq(ls_trust_add_cert(t, &back, NULL), -EKEYREJECTED);
        LsCert next = cert(fx.a, fx.x, LS_CERT_SIGNING, 2, 4, LS_CERT_F_CLOSED, fx.a1);
        ck_assert_int_eq(ls_trust_add_cert(t, &next, NULL), 0);
        ls_trust_free(t);

        /* the root may put any key in charge (admin rotation): any epoch, any start */
        t = trust_new(fx.r0);
        LsCert admin = cert(fx.a, fx.x, LS_CERT_SIGNING, 5, 0, LS_CERT_F_CLOSED, fx.r0);
        ck_assert_int_eq(ls_trust_add_cert(t, &admin, NULL), 0);
        ck_assert(ls_trust_key(t, fx.x->key_id)->root_issued);
        ls_trust_free(t);
}
END_TEST

START_TEST(after_a_handover_the_old_key_may_sign_only_before_its_successor_starts)
{
        LsTrust *t = trust_a(2);
        LsBatchHeader late = hdr(fx.a, 3, 6, 2, TU_T0 + 3 * S, NULL, "by-a0", fx.a0);
        LsBatchHeader early = hdr(fx.a, 2, 4, 2, TU_T0 + 2 * S, NULL, "by-a1", fx.a1);
        LsBatchHeader wrong_epoch = fx.ha[3];

        ck_ok_unbound(may(t, fx.a0, fx.a, 2, LS_UNSET));
        ck_trust(may(t, fx.a0, fx.a, 3, LS_UNSET), LS_TRUST_DENIED);
        ck_trust(batch(t, &late), LS_TRUST_DENIED);
        ck_trust(may(t, fx.a1, fx.a, 2, LS_UNSET), LS_TRUST_DENIED);
        ck_trust(batch(t, &early), LS_TRUST_DENIED);
        ck_ok_bound(may(t, fx.a1, fx.a, 3, LS_UNSET));
        ck_ok_bound(batch(t, &fx.ha[3]));
        ck_ok_bound(may(t, fx.a1, fx.a, 1000000, LS_UNSET));
        /* a root signs certificates and revocations, never batches */
        ck_trust(may(t, fx.r0, fx.a, 0, LS_UNSET), LS_TRUST_DENIED);
        /* the header's epoch must be the key's */
        wrong_epoch.epoch = 0;
        {
                LsSigner s;
                ls_signer_from_keypair(&s, fx.a1);
                s.epoch = 0;
                ck_assert_int_eq(ls_batch_header_sign(&wrong_epoch, &s), 0);
        }
        ck_trust(batch(t, &wrong_epoch), LS_TRUST_DENIED);
        /* a key nobody certified, and a signature that does not verify */
        LsBatchHeader rogue = hdr(fx.a, 3, 6, 2, TU_T0 + 3 * S, NULL, "rogue", fx.x);
        ck_trust(batch(t, &rogue), LS_TRUST_UNKNOWN_KEY);
        LsBatchHeader bad = fx.ha[3];
        bad.sig[5] ^= 1;
        ck_trust(batch(t, &bad), LS_TRUST_BAD_SIGNATURE);
        ls_trust_free(t);
}
END_TEST

/* ---- fork ---- */

START_TEST(two_keys_for_one_epoch_are_a_forked_history_and_the_second_is_rejected)
{
        LsTrust *t = trust_a(2);
        LsCert fork_a0 = cert(fx.a, fx.x, LS_CERT_SIGNING, 1, 3, LS_CERT_F_CLOSED, fx.a0);
        LsCert fork_root = cert(fx.a, fx.x, LS_CERT_SIGNING, 1, 3, LS_CERT_F_CLOSED, fx.r0);
        LsCert moved = cert(fx.a, fx.a1, LS_CERT_SIGNING, 1, 4, LS_CERT_F_CLOSED, fx.a0);
        LsCert other_epoch = cert(fx.a, fx.a1, LS_CERT_SIGNING, 3, 9, LS_CERT_F_CLOSED, fx.r0);
        const char *why = NULL;

        ck_assert_int_eq(ls_trust_add_cert(t, &fork_a0, &why), -EKEYREJECTED);
        ck_assert_ptr_nonnull(strstr(why, "fork"));
        ck_assert_int_eq(ls_trust_add_cert(t, &fork_root, NULL), -EKEYREJECTED);
        ck_assert_ptr_null(ls_trust_key(t, fx.x->key_id));
        /* the same key certified differently */
        ck_assert_int_eq(ls_trust_add_cert(t, &moved, NULL), -EKEYREJECTED);
        ck_assert_int_eq(ls_trust_add_cert(t, &other_epoch, NULL), -EKEYREJECTED);
        ck_assert_uint_eq(ls_trust_key(t, fx.a1->key_id)->valid_from_batch, 3);
        /* genuine: the identical certificate again is a no-op */
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca0, NULL), 0);
        const LsKeyInfo *keys;
        ck_assert_uint_eq(ls_trust_keys(t, &keys), 3);
        /* an epoch of another chain is not a fork */
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb0, NULL), 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb1, NULL), 0);
        ls_trust_free(t);
}
END_TEST

/* ---- roots ---- */

START_TEST(root_generations_must_increase_from_issuer_to_subject)
{
        LsTrust *t = trust_new(fx.r0);
        LsCert same = cert(NULL, fx.r1, LS_CERT_ROOT, 0, 0, 0, fx.r0);
        LsCert back = cert(NULL, fx.r2, LS_CERT_ROOT, 1, 0, 0, fx.r1);
        LsCert by_signing = cert(NULL, fx.r2, LS_CERT_ROOT, 5, 0, 0, fx.a0);

        ck_assert_int_eq(ls_trust_add_cert(t, &same, NULL), -EKEYREJECTED);
        ck_assert_ptr_null(ls_trust_key(t, fx.r1->key_id));
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cr1, NULL), 0);
        ck_assert(ls_trust_key(t, fx.r1->key_id)->is_root);
        ck_assert_uint_eq(ls_trust_key(t, fx.r1->key_id)->epoch, 1);
        ck_assert_int_eq(ls_trust_add_cert(t, &back, NULL), -EKEYREJECTED);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cr2, NULL), 0);
        /* a signing key never certifies a root */
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca0, NULL), 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &by_signing, NULL), -EKEYREJECTED);
        /* a later root certifies signing keys and signs revocations */
        LsCert a1_by_r2 = cert(fx.a, fx.a1, LS_CERT_SIGNING, 1, 3, LS_CERT_F_CLOSED, fx.r2);
        ck_assert_int_eq(ls_trust_add_cert(t, &a1_by_r2, NULL), 0);
        LsRevocation rv = revocation(fx.a, fx.a1, 4, LS_UNSET, fx.r2);
        ck_assert_int_eq(ls_trust_add_revocation(t, &rv, NULL), 0);
        ck_ok_bound(batch(t, &fx.ha[3]));
        ck_trust(batch(t, &fx.ha[4]), LS_TRUST_REVOKED);
        ls_trust_free(t);

        /* any greater generation is accepted (the appliance writes highest + 1) */
        t = trust_new(fx.r0);
        LsCert skip = cert(NULL, fx.r2, LS_CERT_ROOT, 3, 0, 0, fx.r0);
        ck_assert_int_eq(ls_trust_add_cert(t, &skip, NULL), 0);
        ls_trust_free(t);
}
END_TEST

START_TEST(a_later_root_given_as_the_anchor_is_recognised_and_the_original_named)
{
        uint8_t issuer[LS_KEY_ID_LEN];
        uint64_t gen = 0;
        LsTrust *t;

        /* genuine: the original root as anchor; nothing to hint */
        t = trust_new(fx.r0);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cr1, NULL), 0);
        ck_assert_int_eq(ls_trust_anchor_is_later_root(t, issuer, &gen), 0);
        ls_trust_free(t);

        /* generation 1 as anchor: the certificate naming it has an unknown issuer */
        t = trust_new(fx.r1);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca0, NULL), -ENOKEY);
        ck_assert_int_eq(ls_trust_anchor_is_later_root(t, issuer, &gen), 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cr1, NULL), -ENOKEY);
        ck_assert_int_eq(ls_trust_anchor_is_later_root(t, issuer, &gen), 1);
        ck_assert_mem_eq(issuer, fx.r0->key_id, LS_KEY_ID_LEN);
        ck_assert_uint_eq(gen, 1);
        /* generation 1 certifies generation 2: that is about another key, nothing changes */
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cr2, NULL), 0);
        ck_assert_int_eq(ls_trust_anchor_is_later_root(t, issuer, &gen), 1);
        ck_assert_mem_eq(issuer, fx.r0->key_id, LS_KEY_ID_LEN);
        ls_trust_free(t);

        /* generation 2 as anchor */
        t = trust_new(fx.r2);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cr1, NULL), -ENOKEY);
        ck_assert_int_eq(ls_trust_anchor_is_later_root(t, issuer, &gen), 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cr2, NULL), -ENOKEY);
        ck_assert_int_eq(ls_trust_anchor_is_later_root(t, issuer, &gen), 1);
        ck_assert_mem_eq(issuer, fx.r1->key_id, LS_KEY_ID_LEN);
        ck_assert_uint_eq(gen, 2);
        ls_trust_free(t);
}
END_TEST

/* ---- revocations ---- */

START_TEST(a_revocation_by_batch_covers_that_batch_and_later_only)
{
        LsTrust *t = trust_a(1);
        LsRevocation rv = revocation(fx.a, fx.a0, 2, LS_UNSET, fx.r0);

        ck_assert_int_eq(ls_trust_add_revocation(t, &rv, NULL), 0);
        ck_assert_int_eq(ls_trust_add_revocation(t, &rv, NULL), 0); /* again: no-op */
        ck_ok_bound(batch(t, &fx.ha[0]));
        ck_ok_bound(batch(t, &fx.ha[1]));
        ck_trust(batch(t, &fx.ha[2]), LS_TRUST_REVOKED);
        ck_ok_bound(may(t, fx.a0, fx.a, 1, LS_UNSET));
        ck_trust(may(t, fx.a0, fx.a, 2, TU_T0), LS_TRUST_REVOKED);
        /* a checkpoint is judged by its batch number against a batch-based revocation */
        ck_ok_bound(checkpoint(t, &fx.ha[1], fx.a0));
        ck_trust(checkpoint(t, &fx.ha[2], fx.a0), LS_TRUST_REVOKED);
        ck_assert(ls_trust_key(t, fx.a0->key_id)->revoked);
        ls_trust_free(t);
}
END_TEST

START_TEST(a_revocation_by_time_covers_batches_dated_from_then_and_every_checkpoint)
{
        LsTrust *t = trust_a(1);
        LsRevocation rv = revocation(fx.a, fx.a0, LS_UNSET, fx.ha[1].max_time_ns, fx.r0);

        ck_assert_int_eq(ls_trust_add_revocation(t, &rv, NULL), 0);
        ck_ok_bound(batch(t, &fx.ha[0]));
        ck_trust(batch(t, &fx.ha[1]), LS_TRUST_REVOKED); /* max_time == from_time */
        ck_trust(batch(t, &fx.ha[2]), LS_TRUST_REVOKED);
        ck_ok_bound(may(t, fx.a0, fx.a, 5, fx.ha[1].max_time_ns - 1));
        ck_trust(may(t, fx.a0, fx.a, 0, LS_UNSET), LS_TRUST_REVOKED);
        /* a checkpoint carries no time: every time-based revocation of its key covers it */
        ck_trust(checkpoint(t, &fx.ha[0], fx.a0), LS_TRUST_REVOKED);
        ls_trust_free(t);
}
END_TEST

START_TEST(a_revocation_learnt_after_the_batches_applies_to_them_in_the_review)
{
        LsRevocation by_batch = revocation(fx.a, fx.a0, 1, LS_UNSET, fx.r0);
        LsRevocation by_time = revocation(fx.a, fx.a0, LS_UNSET, fx.ha[2].max_time_ns, fx.r0);
        LsRevocation late = revocation(fx.a, fx.a0, 3, LS_UNSET, fx.r0);
        Review rv = {};
        LsTrust *t;

        /* genuine: nothing to review */
        t = trust_a(1);
        for (int b = 0; b < 3; b++) {
                ck_ok_bound(batch(t, &fx.ha[b]));
                ls_trust_note_signed(t, &fx.ha[b]);
        }
        ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 0);
        /* a revocation that starts after the last batch noted covers none of them */
        ck_assert_int_eq(ls_trust_add_revocation(t, &late, NULL), 0);
        ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 0);
        /* learnt afterwards (a REVOCATION record of a later batch): batches 1..2 */
        ck_assert_int_eq(ls_trust_add_revocation(t, &by_batch, NULL), 0);
        ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 1);
        ck_assert_uint_eq(rv.n, 1);
        ck_assert_int_eq(rv.result[0], LS_TRUST_REVOKED);
        ck_assert_uint_eq(rv.epoch[0], 0);
        ck_assert_msg(strstr(rv.detail[0], "batches 1..2"), "detail: %s", rv.detail[0]);
        /* reported once */
        ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 0);
        ls_trust_free(t);

        /* the same by time */
        memset(&rv, 0, sizeof(rv));
        t = trust_a(1);
        for (int b = 0; b < 3; b++)
                ls_trust_note_signed(t, &fx.ha[b]);
        ck_assert_int_eq(ls_trust_add_revocation(t, &by_time, NULL), 0);
        ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 1);
        ck_assert_int_eq(rv.result[0], LS_TRUST_REVOKED);
        ck_assert_msg(strstr(rv.detail[0], "batch 2"), "detail: %s", rv.detail[0]);
        ls_trust_free(t);

        /* learnt before or after, a batch gets the same answer */
        t = trust_a(1);
        ck_assert_int_eq(ls_trust_add_revocation(t, &by_batch, NULL), 0);
        ck_trust(batch(t, &fx.ha[1]), LS_TRUST_REVOKED);
        ls_trust_free(t);
}
END_TEST

START_TEST(a_revocation_must_be_signed_by_a_trusted_root)
{
        LsTrust *t = trust_a(1);
        LsRevocation by_signing = revocation(fx.a, fx.a0, 0, LS_UNSET, fx.a0);
        LsRevocation by_unknown = revocation(fx.a, fx.a0, 0, LS_UNSET, fx.r1);
        LsRevocation forged = revocation(fx.a, fx.a0, 0, LS_UNSET, fx.r0);

        forged.from_batch = 1; /* altered after signing */
        ck_assert_int_eq(ls_trust_add_revocation(t, &by_signing, NULL), -ENOKEY);
        ck_assert_int_eq(ls_trust_add_revocation(t, &by_unknown, NULL), -ENOKEY);
        ck_assert_int_eq(ls_trust_add_revocation(t, &forged, NULL), -EKEYREJECTED);
        ck_ok_bound(batch(t, &fx.ha[1]));
        ck_assert(!ls_trust_key(t, fx.a0->key_id)->revoked);
        /* once the later root is trusted, its revocation counts */
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cr1, NULL), 0);
        ck_assert_int_eq(ls_trust_add_revocation(t, &by_unknown, NULL), 0);
        ck_trust(batch(t, &fx.ha[0]), LS_TRUST_REVOKED);
        ls_trust_free(t);

        /* another chain's revocation is kept apart when the chain is set */
        t = trust_a(1);
        ls_trust_set_chain(t, fx.a);
        LsRevocation other = revocation(fx.b, fx.b0, 0, LS_UNSET, fx.r0);
        ck_assert_int_eq(ls_trust_add_revocation(t, &other, NULL), -EXDEV);
        ls_trust_free(t);
}
END_TEST

START_TEST(a_key_handed_over_by_a_revoked_key_inherits_the_revocation)
{
        LsRevocation covers_handover = revocation(fx.a, fx.a0, 2, LS_UNSET, fx.r0);
        LsRevocation after_handover = revocation(fx.a, fx.a0, 3, LS_UNSET, fx.r0);
        LsRevocation by_time = revocation(fx.a, fx.a0, LS_UNSET, TU_T0, fx.r0);
        LsCert a1_admin = cert(fx.a, fx.a1, LS_CERT_SIGNING, 1, 3, LS_CERT_F_CLOSED, fx.r0);
        Review rv = {};
        LsTrust *t;

        /* a0 revoked from the batch that carried the handover: a1, and a2 after it, inherit */
        t = trust_a(3);
        ck_assert_int_eq(ls_trust_add_revocation(t, &covers_handover, NULL), 0);
        ck_ok_unbound(batch(t, &fx.ha[1]));
        ck_trust(batch(t, &fx.ha[2]), LS_TRUST_REVOKED);
        ck_trust(batch(t, &fx.ha[3]), LS_TRUST_REVOKED);
        ck_trust(batch(t, &fx.ha[6]), LS_TRUST_REVOKED);
        ck_trust(checkpoint(t, &fx.ha[6], fx.a2), LS_TRUST_REVOKED);
        ls_trust_free(t);

        /* genuine: revoked only after the handover, or by time (the certificate carries no
         * batch time), or a successor the root put in charge */
        t = trust_a(3);
        ck_assert_int_eq(ls_trust_add_revocation(t, &after_handover, NULL), 0);
        ck_ok_unbound(batch(t, &fx.ha[2]));
        ck_ok_unbound(batch(t, &fx.ha[3]));
        ck_ok_bound(batch(t, &fx.ha[6]));
        ls_trust_free(t);
        t = trust_a(2);
        ck_assert_int_eq(ls_trust_add_revocation(t, &by_time, NULL), 0);
        ck_trust(batch(t, &fx.ha[2]), LS_TRUST_REVOKED);
        ck_ok_bound(batch(t, &fx.ha[3]));
        ls_trust_free(t);
        t = trust_a(1);
        ck_assert_int_eq(ls_trust_add_cert(t, &a1_admin, NULL), 0);
        ck_assert_int_eq(ls_trust_add_revocation(t, &covers_handover, NULL), 0);
        ck_ok_bound(batch(t, &fx.ha[3]));
        ls_trust_free(t);

        /* learnt after a1's batches were verified: the review finds them */
        t = trust_a(2);
        ls_trust_note_signed(t, &fx.ha[3]);
        ls_trust_note_signed(t, &fx.ha[4]);
        ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 0);
        ck_assert_int_eq(ls_trust_add_revocation(t, &covers_handover, NULL), 0);
        ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 1);
        ck_assert_int_eq(rv.result[0], LS_TRUST_REVOKED);
        ck_assert_uint_eq(rv.epoch[0], 1);
        ls_trust_free(t);
}
END_TEST

/* ---- epoch closes: acceptance ---- */

START_TEST(a_close_is_accepted_only_from_the_successor_that_starts_right_after_it)
{
        LsTrust *t = trust_a(1);
        LsEpochClose short_close =
                mkclose(fx.a, fx.a0, 0, &fx.ha[1], fx.ha[1].max_time_ns, NULL, fx.a1);
        LsEpochClose by_a2 = mkclose(fx.a, fx.a0, 0, &fx.ha[2], fx.ha[2].max_time_ns, NULL, fx.a2);
        LsEpochClose by_root =
                mkclose(fx.a, fx.a0, 0, &fx.ha[2], fx.ha[2].max_time_ns, NULL, fx.r0);
        /* a2 starts right after batch 5, but it is epoch 2's key, not epoch 1's */
        LsEpochClose skips = mkclose(fx.a, fx.a0, 0, &fx.ha[5], fx.ha[5].max_time_ns, NULL, fx.a2);
        LsEpochClose altered = fx.close0;
        const char *why = NULL;

        altered.max_time_ns++;
        /* the successor is not known yet: the close waits */
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), -ENOKEY);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca2, NULL), 0);
        /* forgeries */
        ck_assert_int_eq(ls_trust_add_close(t, &short_close, &why), -EKEYREJECTED);
        ck_assert_ptr_nonnull(why);
        ck_assert_int_eq(ls_trust_add_close(t, &by_a2, NULL), -EKEYREJECTED);
        ck_assert_int_eq(ls_trust_add_close(t, &skips, NULL), -EKEYREJECTED);
        ck_assert_int_eq(ls_trust_add_close(t, &by_root, NULL), -EKEYREJECTED);
        ck_assert_int_eq(ls_trust_add_close(t, &altered, NULL), -EKEYREJECTED);
        ck_assert_ptr_null(ls_trust_close(t, fx.a, 0));
        /* genuine */
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0); /* again: no-op */
        ck_assert_ptr_nonnull(ls_trust_close(t, fx.a, 0));
        ck_assert_uint_eq(ls_trust_close(t, fx.a, 0)->last_batch_no, 2);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close1, NULL), 0);
        ls_trust_free(t);
}
END_TEST

START_TEST(a_close_signed_by_the_closed_key_itself_is_rejected)
{
        LsTrust *t = trust_a(2);
        LsEpochClose self = mkclose(fx.a, fx.a0, 0, &fx.ha[2], fx.ha[2].max_time_ns, NULL, fx.a0);
        /* the holder of a0 stretching its own epoch: "last batch 5" */
        LsEpochClose stretch =
                mkclose(fx.a, fx.a0, 0, &fx.ha[5], fx.ha[5].max_time_ns, NULL, fx.a0);

        ck_assert_int_eq(ls_trust_add_close(t, &self, NULL), -EKEYREJECTED);
        ck_assert_int_eq(ls_trust_add_close(t, &stretch, NULL), -EKEYREJECTED);
        ck_assert_ptr_null(ls_trust_close(t, fx.a, 0));
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ls_trust_free(t);
}
END_TEST

START_TEST(a_close_signed_by_a_key_of_another_chain_is_rejected)
{
        for (int set = 0; set < 2; set++) {
                LsTrust *t = trust_a(1);
                /* b1 is chain B's epoch 1, valid from batch 3 like a1 */
                LsEpochClose foreign =
                        mkclose(fx.a, fx.a0, 0, &fx.ha[2], fx.ha[2].max_time_ns, NULL, fx.b1);
                if (set)
                        ls_trust_set_chain(t, fx.a);
                ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb0, NULL), set ? -EXDEV : 0);
                ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb1, NULL), set ? -ENOKEY : 0);
                ck_assert_int_lt(ls_trust_add_close(t, &foreign, NULL), 0);
                ck_assert_ptr_null(ls_trust_close(t, fx.a, 0));
                ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
                /* with the chain set, chain B's keys are never learnt at all */
                ck_assert_int_eq(ls_trust_add_close(t, &foreign, NULL),
                                 set ? -ENOKEY : -EKEYREJECTED);
                ck_assert_ptr_null(ls_trust_close(t, fx.a, 0));
                ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
                ls_trust_free(t);
        }
}
END_TEST

START_TEST(a_close_must_name_the_key_certified_for_the_closed_epoch)
{
        LsTrust *t = trust_a(2);
        const LsKeyPair *wrong[] = {fx.b0, fx.a1, fx.r0};

        ck_assert_int_eq(ls_trust_add_cert(t, &fx.cb0, NULL), 0);
        for (size_t i = 0; i < ELEMENTSOF(wrong); i++) {
                LsEpochClose c =
                        mkclose(fx.a, wrong[i], 0, &fx.ha[2], fx.ha[2].max_time_ns, NULL, fx.a1);
                ck_assert_int_eq(ls_trust_add_close(t, &c, NULL), -EKEYREJECTED);
        }
        ck_assert_ptr_null(ls_trust_close(t, fx.a, 0));
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ls_trust_free(t);
}
END_TEST

START_TEST(two_different_closes_of_one_epoch_mean_the_histories_disagree)
{
        LsTrust *t = trust_a(2);
        LsEpochClose other =
                mkclose(fx.a, fx.a0, 0, &fx.ha[2], fx.ha[2].max_time_ns + S, NULL, fx.a1);
        const char *why = NULL;

        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_assert_int_eq(ls_trust_add_close(t, &other, &why), -EILSEQ);
        ck_assert_ptr_nonnull(why);
        ck_assert_uint_eq(ls_trust_close(t, fx.a, 0)->max_time_ns, fx.close0.max_time_ns);
        ls_trust_free(t);

        /* the other order: the first one stays, the second is the disagreement */
        t = trust_a(2);
        ck_assert_int_eq(ls_trust_add_close(t, &other, NULL), 0);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), -EILSEQ);
        ls_trust_free(t);
}
END_TEST

START_TEST(the_prev_close_hash_link_is_checked_both_ways)
{
        uint8_t wrong[LS_HASH_LEN];
        LsEpochClose unlinked, zero_prev;
        LsTrust *t;

        tu_seed(wrong, "trust-wrong-close-hash");
        unlinked = mkclose(fx.a, fx.a1, 1, &fx.ha[5], fx.ha[5].max_time_ns, wrong, fx.a2);
        /* "zero when the chain has no close of epoch e-1": wrong once that close is known */
        zero_prev = mkclose(fx.a, fx.a1, 1, &fx.ha[5], fx.ha[5].max_time_ns, NULL, fx.a2);

        /* epoch 0's close first, then epoch 1's */
        t = trust_a(3);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_assert_int_eq(ls_trust_add_close(t, &unlinked, NULL), -EILSEQ);
        ck_assert_int_eq(ls_trust_add_close(t, &zero_prev, NULL), -EILSEQ);
        ck_assert_ptr_null(ls_trust_close(t, fx.a, 1));
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close1, NULL), 0);
        ls_trust_free(t);

        /* epoch 1's close first: epoch 0's close must be the one it links to */
        t = trust_a(3);
        ck_assert_int_eq(ls_trust_add_close(t, &unlinked, NULL), 0);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), -EILSEQ);
        ls_trust_free(t);
        t = trust_a(3);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close1, NULL), 0);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_assert_uint_eq(ls_trust_known_last_batch(t, fx.a), 6);
        ls_trust_free(t);

        /* epoch 0's close links to nothing: a non-zero prev_close_hash is malformed */
        {
                uint8_t enc[LS_CLOSE_LEN];
                LsEpochClose c;
                ls_close_encode(&fx.close0, enc);
                enc[136] = 1;
                ck_assert_int_eq(ls_close_decode(&c, enc, sizeof(enc)), -EBADMSG);
        }
}
END_TEST

/* ---- epoch closes: consequences ---- */

START_TEST(after_its_close_the_old_key_may_sign_nothing_after_the_last_batch)
{
        LsTrust *t = trust_a(2);
        LsBatchHeader after = hdr(fx.a, 3, 6, 2, fx.ha[2].max_time_ns, NULL, "after", fx.a0);
        LsTrustDecision d;

        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        /*
         * Denied by the successor's window before the close is consulted (the close's issuer
         * is always that successor, valid from last + 1): either answer refuses it.
         */
        d = batch(t, &after);
        ck_assert_msg(d.result == LS_TRUST_AFTER_CLOSE || d.result == LS_TRUST_DENIED,
                      "batch after the close: %s", ls_trust_result_name(d.result));
        d = checkpoint(t, &after, fx.a0);
        ck_assert_msg(d.result == LS_TRUST_AFTER_CLOSE || d.result == LS_TRUST_DENIED,
                      "checkpoint after the close: %s", ls_trust_result_name(d.result));
        ck_ok_bound(batch(t, &fx.ha[2]));
        ls_trust_free(t);
}
END_TEST

START_TEST(after_its_close_the_last_batch_must_be_the_one_the_close_names)
{
        LsTrust *t = trust_a(2);
        /* same number, same tree size, other content */
        LsBatchHeader other = hdr(fx.a, 2, 4, 2, fx.ha[2].max_time_ns, fx.ha[2].prev_header_hash,
                                  "rewritten", fx.a0);
        LsBatchHeader bigger = hdr(fx.a, 2, 4, 3, fx.ha[2].max_time_ns, fx.ha[2].prev_header_hash,
                                   "genuine", fx.a0);

        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_trust(batch(t, &other), LS_TRUST_AFTER_CLOSE);
        ck_trust(batch(t, &bigger), LS_TRUST_AFTER_CLOSE);
        ck_trust(checkpoint(t, &other, fx.a0), LS_TRUST_AFTER_CLOSE);
        ck_ok_bound(batch(t, &fx.ha[2]));
        ls_trust_free(t);
}
END_TEST

START_TEST(after_its_close_no_batch_of_the_epoch_may_be_dated_after_its_end)
{
        LsTrust *t = trust_a(2);
        LsBatchHeader late1 = hdr(fx.a, 1, 2, 2, fx.close0.max_time_ns + 1,
                                  fx.ha[1].prev_header_hash, "a-year-later", fx.a0);
        LsBatchHeader late2 = hdr(fx.a, 2, 4, 2, TU_T0 + 86400 * 365 * S, fx.ha[2].prev_header_hash,
                                  "a-year-later", fx.a0);

        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_trust(batch(t, &late1), LS_TRUST_AFTER_CLOSE);
        ck_trust(batch(t, &late2), LS_TRUST_AFTER_CLOSE);
        ck_trust(batch(t, &fx.ha[1]), LS_TRUST_OK);
        ck_ok_bound(batch(t, &fx.ha[2]));
        ls_trust_free(t);
}
END_TEST

START_TEST(after_its_close_an_earlier_batch_may_not_hold_a_larger_tree)
{
        LsTrust *t = trust_a(2);
        /* batch 1 ending at the close's size leaves no record for batch 2 */
        LsBatchHeader full =
                hdr(fx.a, 1, 2, 4, fx.ha[1].max_time_ns, fx.ha[1].prev_header_hash, "full", fx.a0);
        LsBatchHeader fits =
                hdr(fx.a, 1, 2, 3, fx.ha[1].max_time_ns, fx.ha[1].prev_header_hash, "fits", fx.a0);

        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_assert_uint_eq(fx.close0.tree_size, 6);
        ck_trust(batch(t, &full), LS_TRUST_AFTER_CLOSE);
        ck_assert_int_eq(batch(t, &fits).result, LS_TRUST_OK);
        ls_trust_free(t);
}
END_TEST

START_TEST(a_checkpoint_of_the_close_head_is_bound_one_inside_the_epoch_is_not_proven)
{
        LsTrust *t = trust_a(2);

        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_ok_bound(checkpoint(t, &fx.ha[2], fx.a0));
        ck_ok_unbound(checkpoint(t, &fx.ha[1], fx.a0));
        ck_ok_unbound(checkpoint(t, &fx.ha[0], fx.a0));
        /* the current epoch has not ended: its checkpoints are bound */
        ck_ok_bound(checkpoint(t, &fx.ha[4], fx.a1));
        ck_assert(ls_trust_epoch_ended(t, ls_trust_key(t, fx.a0->key_id)));
        ck_assert(!ls_trust_epoch_ended(t, ls_trust_key(t, fx.a1->key_id)));
        ls_trust_free(t);
}
END_TEST

/*
 * An adversarial review found it: a checkpoint's root is signed apart from its header hash, so
 * the holder of the erased key can copy the close's batch number, tree size and header hash
 * and put any root beside them. Such a checkpoint must not be the "close head".
 */
START_TEST(a_checkpoint_at_the_close_head_with_another_root_is_refused)
{
        LsTrust *t = trust_a(2);
        const LsBatchHeader *h = &fx.ha[2];
        uint8_t hh[LS_HASH_LEN], fake[LS_HASH_LEN], sig[LS_SIG_LEN];
        char body[512], text[1024];
        LsCheckpoint cp;
        LsTrustDecision d;
        LsSigner sg;
        int n, m;

        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ls_batch_header_hash(h, hh);
        memcpy(fake, h->tree_root, LS_HASH_LEN);
        fake[0] ^= 1;
        n = ls_checkpoint_body(body, sizeof(body), h->chain_id, h->tree_size, fake, h->batch_no, hh);
        ck_assert_int_gt(n, 0);
        ls_signer_from_keypair(&sg, fx.a0);
        ck_assert_int_eq(ls_sign(&sg, NULL, (const uint8_t *) body, (size_t) n, sig), 0);
        m = ls_checkpoint_format(text, sizeof(text), body, (size_t) n, fx.a0->pk, sig);
        ck_assert_int_gt(m, 0);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, text, (size_t) m, NULL), 0);
        ls_trust_check_checkpoint(t, &cp, text, &d);
        ck_trust(d, LS_TRUST_AFTER_CLOSE);
        /* the genuine close head is bound */
        ck_ok_bound(checkpoint(t, h, fx.a0));
        ls_trust_free(t);
}
END_TEST

START_TEST(a_closed_flag_key_with_a_successor_and_no_close_is_unbound)
{
        LsTrust *t = trust_a(1);

        /* no successor known: the epoch has not ended as far as anyone can tell */
        ck_ok_bound(batch(t, &fx.ha[1]));
        ck_ok_bound(checkpoint(t, &fx.ha[2], fx.a0));
        ck_assert(!ls_trust_epoch_ended(t, ls_trust_key(t, fx.a0->key_id)));
        /* the successor is known, the close is not (stripped from the history) */
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
        ck_ok_unbound(may(t, fx.a0, fx.a, 1, LS_UNSET));
        ck_ok_unbound(batch(t, &fx.ha[1]));
        ck_ok_unbound(batch(t, &fx.ha[2]));
        ck_ok_unbound(checkpoint(t, &fx.ha[2], fx.a0));
        ck_ok_bound(batch(t, &fx.ha[3]));
        ck_assert(ls_trust_epoch_ended(t, ls_trust_key(t, fx.a0->key_id)));
        /* the close arrives: the head is bound again */
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_ok_bound(batch(t, &fx.ha[2]));
        ck_ok_bound(checkpoint(t, &fx.ha[2], fx.a0));
        ls_trust_free(t);
}
END_TEST

START_TEST(a_format_1_key_with_a_successor_is_unbound_as_it_never_has_a_close)
{
        LsTrust *t = trust_new(fx.r0);
        LsCert c0 = cert(fx.a, fx.a0, LS_CERT_SIGNING, 0, 0, 0, fx.r0);
        LsCert c1 = cert(fx.a, fx.a1, LS_CERT_SIGNING, 1, 3, 0, fx.a0);

        ck_assert_int_eq(ls_trust_add_cert(t, &c0, NULL), 0);
        ck_ok_bound(batch(t, &fx.ha[1]));
        ck_ok_bound(checkpoint(t, &fx.ha[1], fx.a0));
        /* the successor is known: what the format-1 epoch sealed is stated nowhere */
        ck_assert_int_eq(ls_trust_add_cert(t, &c1, NULL), 0);
        ck_assert_uint_eq(ls_trust_key(t, fx.a0->key_id)->cert_flags, 0);
        ck_ok_unbound(may(t, fx.a0, fx.a, 1, LS_UNSET));
        ck_ok_unbound(batch(t, &fx.ha[2]));
        ck_ok_unbound(checkpoint(t, &fx.ha[1], fx.a0));
        ck_ok_unbound(checkpoint(t, &fx.ha[2], fx.a0));
        ck_assert(ls_trust_epoch_ended(t, ls_trust_key(t, fx.a0->key_id)));
        ck_trust(may(t, fx.a0, fx.a, 3, LS_UNSET), LS_TRUST_DENIED);
        ck_ok_bound(checkpoint(t, &fx.ha[3], fx.a1));
        ls_trust_free(t);
}
END_TEST

/* ---- checkpoints ---- */

START_TEST(a_three_line_checkpoint_is_never_evidence)
{
        char body[LS_NOTE_BODY_MAX], text[1024];
        LsTrust *t = trust_a(2);
        LsCheckpoint cp;
        LsTrustDecision d;
        uint8_t sig[LS_SIG_LEN];
        LsSigner s;
        int n, lines = 0;
        size_t len = 0;

        n = ls_batch_note_body(&fx.ha[4], body, sizeof(body));
        ck_assert_int_gt(n, 0);
        while (lines < 3)
                if (body[len++] == '\n')
                        lines++;
        /* signed by the current, genuine key of the chain: still not evidence */
        ls_signer_from_keypair(&s, fx.a1);
        ck_assert_int_eq(ls_sign(&s, NULL, (const uint8_t *) body, len, sig), 0);
        n = ls_checkpoint_format(text, sizeof(text), body, len, fx.a1->pk, sig);
        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, text, (size_t) n, NULL), 0);
        ck_assert(!cp.has_batch);
        ls_trust_check_checkpoint(t, &cp, text, &d);
        ck_trust(d, LS_TRUST_NOT_EVIDENCE);
        /* the 4-line note of the same batch is */
        ck_ok_bound(checkpoint(t, &fx.ha[4], fx.a1));
        ls_trust_free(t);
}
END_TEST

START_TEST(a_checkpoint_signed_by_nobody_known_or_not_verifying_is_refused)
{
        LsTrust *t = trust_a(2);
        LsBatchHeader rogue = hdr(fx.a, 4, 8, 2, TU_T0 + 4 * S, NULL, "rogue", fx.x);
        LsBatchHeader bad = fx.ha[4];
        LsTrustDecision d;

        ck_trust(checkpoint(t, &rogue, fx.x), LS_TRUST_UNKNOWN_KEY);
        bad.sig[0] ^= 1;
        d = checkpoint(t, &bad, fx.a1);
        ck_trust(d, LS_TRUST_BAD_SIGNATURE);
        ck_assert_ptr_eq(d.key, ls_trust_key(t, fx.a1->key_id));
        /* a genuine key outside its window */
        LsBatchHeader early = hdr(fx.a, 1, 2, 2, TU_T0 + S, NULL, "by-a1", fx.a1);
        ck_trust(checkpoint(t, &early, fx.a1), LS_TRUST_DENIED);
        ck_ok_bound(checkpoint(t, &fx.ha[4], fx.a1));
        ls_trust_free(t);
}
END_TEST

/* ---- the review: closes learnt after the batches ---- */

START_TEST(the_review_finds_batches_noted_before_their_close_was_learnt)
{
        LsBatchHeader after = hdr(fx.a, 3, 6, 2, fx.ha[2].max_time_ns, NULL, "after", fx.a0);
        LsBatchHeader other = hdr(fx.a, 2, 4, 2, fx.ha[2].max_time_ns, fx.ha[2].prev_header_hash,
                                  "rewritten", fx.a0);
        LsBatchHeader late = hdr(fx.a, 1, 2, 2, fx.close0.max_time_ns + 1,
                                 fx.ha[1].prev_header_hash, "late", fx.a0);
        const LsBatchHeader *forged[] = {&after, &other, &late};

        for (size_t i = 0; i < ELEMENTSOF(forged); i++) {
                LsTrust *t = trust_a(1);
                Review rv = {};
                /* before the successor and the close are known, a0 may sign it */
                ck_assert_int_eq(batch(t, forged[i]).result, LS_TRUST_OK);
                ls_trust_note_signed(t, &fx.ha[0]);
                ls_trust_note_signed(t, forged[i]);
                ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 0);
                ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
                ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
                ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 1);
                ck_assert_int_eq(rv.result[0], LS_TRUST_AFTER_CLOSE);
                ck_assert_uint_eq(rv.epoch[0], 0);
                ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 0);
                ls_trust_free(t);
        }
        /* genuine: the batches the close names */
        LsTrust *t = trust_a(1);
        Review rv = {};
        for (int b = 0; b < 3; b++)
                ls_trust_note_signed(t, &fx.ha[b]);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 0);
        ls_trust_free(t);
}
END_TEST

/* ---- key histories ---- */

typedef struct Item {
        uint8_t p[LS_REVOCATION_MAX_LEN];
        size_t n;
} Item;

typedef struct Rejected {
        unsigned n;
        size_t offset[8];
        char kind[8];
        int result[8];
} Rejected;

static void on_item(void *ud, size_t offset, char kind, int result, const char *why)
{
        Rejected *r = ud;

        ck_assert_ptr_nonnull(why);
        if (r->n < 8) {
                r->offset[r->n] = offset;
                r->kind[r->n] = kind;
                r->result[r->n] = result;
        }
        r->n++;
}

static size_t concat(uint8_t *out, const Item *items, const size_t *order, size_t n)
{
        size_t len = 0;

        for (size_t i = 0; i < n; i++) {
                memcpy(out + len, items[order[i]].p, items[order[i]].n);
                len += items[order[i]].n;
        }
        return len;
}

static int next_permutation(size_t *a, size_t n)
{
        size_t i = n - 1, j = n - 1;

        while (i > 0 && a[i - 1] >= a[i])
                i--;
        if (i == 0)
                return 0;
        while (a[j] <= a[i - 1])
                j--;
        size_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
        for (size_t l = i, r = n - 1; l < r; l++, r--) {
                tmp = a[l];
                a[l] = a[r];
                a[r] = tmp;
        }
        return 1;
}

static int key_id_cmp(const void *x, const void *y)
{
        return memcmp(x, y, LS_KEY_ID_LEN);
}

/* The key ids a trust holds, sorted, as one comparable string of bytes. */
static size_t key_set(LsTrust *t, uint8_t out[16][LS_KEY_ID_LEN])
{
        const LsKeyInfo *keys;
        size_t n = ls_trust_keys(t, &keys);

        ck_assert_uint_le(n, 16);
        for (size_t i = 0; i < n; i++)
                memcpy(out[i], keys[i].key_id, LS_KEY_ID_LEN);
        qsort(out, n, LS_KEY_ID_LEN, key_id_cmp);
        return n;
}

START_TEST(a_key_history_loads_the_same_in_any_order)
{
        Item items[7];
        size_t order[7] = {0, 1, 2, 3, 4, 5, 6}, perms = 0, len, nref = 0;
        uint8_t buf[8 * LS_REVOCATION_MAX_LEN], ref[16][LS_KEY_ID_LEN], got[16][LS_KEY_ID_LEN];
        LsRevocation rv = revocation(fx.a, fx.a2, 7, LS_UNSET, fx.r1);

        ls_cert_encode(&fx.ca0, items[0].p);
        ls_cert_encode(&fx.ca1, items[1].p);
        ls_cert_encode(&fx.ca2, items[2].p);
        ls_cert_encode(&fx.cr1, items[3].p);
        ls_close_encode(&fx.close0, items[4].p);
        ls_close_encode(&fx.close1, items[5].p);
        for (int i = 0; i < 4; i++)
                items[i].n = LS_CERT_LEN;
        items[4].n = items[5].n = LS_CLOSE_LEN;
        ck_assert_int_eq(ls_revocation_encode(&rv, items[6].p, sizeof(items[6].p), &items[6].n), 0);
        do {
                LsTrust *t = trust_new(fx.r0);
                Rejected rej = {};
                size_t off = 0, n;

                len = concat(buf, items, order, 7);
                ck_assert_int_eq(ls_trust_load_history(t, buf, len, on_item, &rej, &off), 0);
                ck_assert_msg(rej.n == 0, "order %zu: %u items not accepted (first at %zu)", perms,
                              rej.n, rej.offset[0]);
                n = key_set(t, got);
                if (perms == 0) {
                        nref = n;
                        memcpy(ref, got, sizeof(got));
                        ck_assert_uint_eq(n, 5); /* r0, r1, a0, a1, a2 */
                }
                ck_assert_uint_eq(n, nref);
                ck_assert_mem_eq(got, ref, n * LS_KEY_ID_LEN);
                ck_assert_ptr_nonnull(ls_trust_close(t, fx.a, 0));
                ck_assert_ptr_nonnull(ls_trust_close(t, fx.a, 1));
                ck_assert_uint_eq(ls_trust_known_last_batch(t, fx.a), 6);
                ck_ok_bound(batch(t, &fx.ha[6]));
                ck_trust(batch(t, &fx.ha[7]), LS_TRUST_REVOKED);
                ck_ok_bound(batch(t, &fx.ha[2]));
                ck_trust(batch(t, &fx.ha[4]), LS_TRUST_OK);
                ls_trust_free(t);
                perms++;
        } while (next_permutation(order, 7));
        ck_assert_uint_eq(perms, 5040);
}
END_TEST

START_TEST(a_history_item_never_accepted_is_reported_with_its_offset_and_kind)
{
        uint8_t buf[4096];
        size_t len = 0, off = 0;
        LsCert rogue_issued = cert(fx.a, fx.a2, LS_CERT_SIGNING, 2, 6, LS_CERT_F_CLOSED, fx.x);
        LsEpochClose self = mkclose(fx.a, fx.a0, 0, &fx.ha[2], fx.ha[2].max_time_ns, NULL, fx.a0);
        LsEpochClose other =
                mkclose(fx.a, fx.a0, 0, &fx.ha[2], fx.ha[2].max_time_ns + S, NULL, fx.a1);
        LsRevocation by_signing = revocation(fx.a, fx.a1, 0, LS_UNSET, fx.a0);
        Rejected rej = {};
        LsTrust *t = trust_new(fx.r0);
        size_t rl;

        ls_trust_set_chain(t, fx.a);
        ls_cert_encode(&fx.ca0, buf + len); /* 0: accepted */
        len += LS_CERT_LEN;
        ls_cert_encode(&rogue_issued, buf + len); /* 168: issuer never trusted */
        len += LS_CERT_LEN;
        ls_close_encode(&self, buf + len); /* 336: closed key's own close */
        len += LS_CLOSE_LEN;
        ls_cert_encode(&fx.ca1, buf + len); /* 584: accepted */
        len += LS_CERT_LEN;
        ls_close_encode(&fx.close0, buf + len); /* 752: accepted */
        len += LS_CLOSE_LEN;
        ls_close_encode(&other, buf + len); /* 1000: conflicting close */
        len += LS_CLOSE_LEN;
        ck_assert_int_eq(ls_revocation_encode(&by_signing, buf + len, sizeof(buf) - len, &rl), 0);
        len += rl;                          /* 1248: not by a root */
        ls_cert_encode(&fx.cb0, buf + len); /* 1248 + rl: another chain */
        len += LS_CERT_LEN;
        ck_assert_int_eq(ls_trust_load_history(t, buf, len, on_item, &rej, &off), 0);
        ck_assert_uint_eq(rej.n, 5);
        ck_assert_uint_eq(rej.offset[0], 168);
        ck_assert_int_eq(rej.kind[0], 'C');
        ck_assert_int_eq(rej.result[0], -ENOKEY);
        ck_assert_uint_eq(rej.offset[1], 336);
        ck_assert_int_eq(rej.kind[1], 'X');
        ck_assert_int_eq(rej.result[1], -EKEYREJECTED);
        ck_assert_uint_eq(rej.offset[2], 1000);
        ck_assert_int_eq(rej.kind[2], 'X');
        ck_assert_int_eq(rej.result[2], -EILSEQ);
        ck_assert_uint_eq(rej.offset[3], 1248);
        ck_assert_int_eq(rej.kind[3], 'R');
        ck_assert_int_eq(rej.result[3], -ENOKEY);
        ck_assert_uint_eq(rej.offset[4], 1248 + rl);
        ck_assert_int_eq(rej.kind[4], 'C');
        ck_assert_int_eq(rej.result[4], -EXDEV);
        ck_assert_ptr_nonnull(ls_trust_key(t, fx.a1->key_id));
        ck_assert_uint_eq(ls_trust_close(t, fx.a, 0)->max_time_ns, fx.close0.max_time_ns);
        ls_trust_free(t);

        /* bytes that are no item make the whole file invalid, with their offset */
        t = trust_new(fx.r0);
        memcpy(buf + LS_CERT_LEN, "garbage!garbage!", 16);
        ck_assert_int_eq(ls_trust_load_history(t, buf, LS_CERT_LEN + 16, NULL, NULL, &off),
                         -EBADMSG);
        ck_assert_uint_eq(off, LS_CERT_LEN);
        /* a truncated last item too */
        ls_cert_encode(&fx.ca1, buf + LS_CERT_LEN);
        ck_assert_int_eq(ls_trust_load_history(t, buf, 2 * LS_CERT_LEN - 1, NULL, NULL, &off),
                         -EBADMSG);
        ck_assert_uint_eq(off, LS_CERT_LEN);
        ls_trust_free(t);
}
END_TEST

START_TEST(the_known_last_batch_is_the_last_batch_of_the_latest_close)
{
        LsTrust *t = trust_a(3);

        ck_assert_uint_eq(ls_trust_known_last_batch(t, fx.a), LS_UNSET);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_assert_uint_eq(ls_trust_known_last_batch(t, fx.a), 3); /* the batch sealing it */
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close1, NULL), 0);
        ck_assert_uint_eq(ls_trust_known_last_batch(t, fx.a), 6);
        ck_assert_uint_eq(ls_trust_known_last_batch(t, fx.b), LS_UNSET);
        ls_trust_free(t);
}
END_TEST

/* With an admin rotation the successor is known without the closed key; the order of a
 * history's items must not decide whether a close naming another chain's key is accepted. */
START_TEST(a_close_naming_a_key_of_another_chain_is_refused_whatever_the_order)
{
        LsCert a1_admin = cert(fx.a, fx.a1, LS_CERT_SIGNING, 1, 3, LS_CERT_F_CLOSED, fx.r0);
        LsEpochClose names_b0 =
                mkclose(fx.a, fx.b0, 0, &fx.ha[2], fx.ha[2].max_time_ns, NULL, fx.a1);
        uint8_t buf[3 * LS_CERT_LEN + LS_CLOSE_LEN];
        size_t order[4] = {0, 1, 2, 3}, off;
        Item items[4];
        unsigned rejected[24];
        int k = 0;

        ls_cert_encode(&fx.ca0, items[0].p);
        ls_cert_encode(&a1_admin, items[1].p);
        ls_cert_encode(&fx.cb0, items[2].p);
        ls_close_encode(&names_b0, items[3].p);
        items[0].n = items[1].n = items[2].n = LS_CERT_LEN;
        items[3].n = LS_CLOSE_LEN;
        do {
                Rejected rej = {};
                size_t len = concat(buf, items, order, 4);
                LsTrust *t = trust_new(fx.r0);
                ck_assert_int_eq(ls_trust_load_history(t, buf, len, on_item, &rej, &off), 0);
                rejected[k++] = rej.n;
                ls_trust_free(t);
        } while (next_permutation(order, 4));
        ck_assert_int_eq(k, 24);
        for (int i = 0; i < k; i++)
                ck_assert_msg(rejected[i] == 1, "permutation %d: %u items refused", i, rejected[i]);
}
END_TEST

/* ---- found by this suite, fixed in trust.c ---- */

/*
 * SPEC §9.4 "these apply also to batches verified before the close was learnt": an earlier
 * batch b must have tree_size <= close.tree_size - (last_batch_no - b). ls_trust_check_batch
 * applies it (after_its_close_an_earlier_batch_may_not_hold_a_larger_tree), ls_trust_review
 * does not: it compares only the key's last batch, its time and its hash.
 */
START_TEST(the_review_finds_an_earlier_batch_with_a_larger_tree_than_the_close_allows)
{
        LsBatchHeader full =
                hdr(fx.a, 1, 2, 4, fx.ha[1].max_time_ns, fx.ha[1].prev_header_hash, "full", fx.a0);
        LsTrust *t = trust_a(1);
        Review rv = {};

        ls_trust_note_signed(t, &fx.ha[0]);
        ls_trust_note_signed(t, &full);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), 0);
        ck_trust(batch(t, &full), LS_TRUST_AFTER_CLOSE);          /* checked now: refused */
        ck_assert_uint_eq(ls_trust_review(t, on_review, &rv), 1); /* noted before: the same */
        ls_trust_free(t);
}
END_TEST

/*
 * SPEC §9.3: "the result MUST NOT depend on where they come from or in which order". Two
 * certificates of a1 that differ only in the CLOSED flag (the holder of the erased key a0 can
 * re-issue a1's certificate without it): whichever arrives first decides whether a1's epoch is
 * format 1 or format 2, and the second is accepted as "identical" (0), so nothing is reported.
 */
START_TEST(the_closed_flag_cannot_be_changed_by_a_second_certificate)
{
        LsCert plain = cert(fx.a, fx.a1, LS_CERT_SIGNING, 1, 3, 0, fx.a0);
        uint16_t flags[2];

        for (int order = 0; order < 2; order++) {
                LsTrust *t = trust_a(1);
                int r1 = ls_trust_add_cert(t, order ? &plain : &fx.ca1, NULL);
                int r2 = ls_trust_add_cert(t, order ? &fx.ca1 : &plain, NULL);
                ck_assert_int_eq(r1, 0);
                flags[order] = ls_trust_key(t, fx.a1->key_id)->cert_flags;
                /* either the second is refused as "certified differently", or the result is
                 * the same whatever the order */
                if (r2 == 0)
                        ck_assert_msg(order == 0 || flags[0] == flags[1],
                                      "a1's flags: %u when the CLOSED certificate comes first, "
                                      "%u when the plain one does",
                                      flags[0], flags[1]);
                ls_trust_free(t);
        }
}
END_TEST

/*
 * SPEC §9.4: "the closed key, when known, is the key certified for closed_epoch in that chain".
 * The module looks the close's closed_key_id up and checks it only when that key is known: a
 * close naming a key nobody certified is accepted while another key (a0) is certified for the
 * epoch, and then binds a0's epoch (and, the other way round, a0's certificate arriving after
 * such a close is refused). Only the successor's key can sign such a close.
 */
START_TEST(a_close_naming_a_key_nobody_certified_is_refused)
{
        LsTrust *t = trust_a(2);
        LsEpochClose names_x = mkclose(fx.a, fx.x, 0, &fx.ha[2], fx.ha[2].max_time_ns, NULL, fx.a1);

        /* a0 is the key certified for epoch 0; the close names x */
        ck_assert_int_eq(ls_trust_add_close(t, &names_x, NULL), -EKEYREJECTED);
        ls_trust_free(t);
}
END_TEST

/*
 * Issue 12 item 5 and /work/notes/trust-design.md: "knowledge proves the chain reached batch
 * N (close.last_batch_no; a cert issued by a signing key: valid_from - 1)". a1's certificate,
 * issued by a0 and valid from batch 3, was sealed in batch 2 (SPEC §9.3, the daemon's key
 * transition), so the chain reached batch 2 even when no close is known (format-1 histories).
 * The module counts closes only (as SPEC §9.4 and §11 say): the design and SPEC disagree.
 */
START_TEST(a_handover_certificate_alone_proves_nothing_about_how_far_the_chain_went)
{
        /*
         * Decided (SPEC §9.4): only a close proves how far the chain went (to the batch after
         * its last, which seals it). A handover certificate is written to the history before
         * the batch that carries it is durable, so it proves nothing on its own.
         */
        LsTrust *t = trust_a(2);

        ck_assert_uint_eq(ls_trust_known_last_batch(t, fx.a), LS_UNSET);
        ls_trust_free(t);
}
END_TEST

/* ---- a history that contradicts the evidence (F3 of the adversarial review) ---- */

START_TEST(a_history_forking_the_evidence_is_a_conflict_not_a_verdict_on_the_evidence)
{
        /*
         * The rogue key x certified for epoch 1 with a copy of a0, handed over in a key
         * history; the chain itself carries the genuine certificate of a1. Whatever the
         * history made the module decide, the conflict is recorded for the verifier (which
         * verifies again without that history): it names both keys and the epoch.
         */
        LsCert rogue = cert(fx.a, fx.x, LS_CERT_SIGNING, 1, 3, LS_CERT_F_CLOSED, fx.a0);
        LsTrustConflict k;
        LsTrust *t = trust_a(1);

        ls_trust_from_history(t, 1);
        ck_assert_int_eq(ls_trust_add_cert(t, &rogue, NULL), 0);
        ls_trust_from_history(t, 0);
        ck_assert_int_eq(ls_trust_conflict(t, NULL), 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), -EKEYREJECTED);
        ck_assert_int_eq(ls_trust_conflict(t, &k), 1);
        ck_assert_int_eq(k.kind, 'C');
        ck_assert_uint_eq(k.epoch, 1);
        ck_assert_mem_eq(k.history_key_id, fx.x->key_id, LS_KEY_ID_LEN);
        ck_assert_mem_eq(k.evidence_key_id, fx.a1->key_id, LS_KEY_ID_LEN);
        ck_assert_mem_eq(k.chain_id, fx.a, LS_CHAIN_ID_LEN);
        ls_trust_free(t);

        /* the other way round: the evidence first, the history's rogue item is refused
         * (an input error of the history), and that is no conflict to resolve */
        t = trust_a(2);
        ls_trust_from_history(t, 1);
        ck_assert_int_eq(ls_trust_add_cert(t, &rogue, NULL), -EKEYREJECTED);
        ls_trust_from_history(t, 0);
        ck_assert_int_eq(ls_trust_conflict(t, NULL), 0);
        ls_trust_free(t);

        /* genuine: the same certificate in the history and in the chain */
        t = trust_a(1);
        ls_trust_from_history(t, 1);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
        ls_trust_from_history(t, 0);
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), 0);
        ck_assert_int_eq(ls_trust_conflict(t, NULL), 0);
        /* a fork within the evidence alone is the evidence's own finding, no conflict */
        ck_assert_int_eq(ls_trust_add_cert(t, &rogue, NULL), -EKEYREJECTED);
        ck_assert_int_eq(ls_trust_conflict(t, NULL), 0);
        ls_trust_free(t);
}
END_TEST

START_TEST(a_history_close_contradicting_the_evidence_is_a_conflict)
{
        /* In the history: a rogue successor x certified with a copy of a0, and x's close of
         * epoch 0 ending it at batch 1; then the chain's genuine a1 certificate. */
        LsCert rogue = cert(fx.a, fx.x, LS_CERT_SIGNING, 1, 2, LS_CERT_F_CLOSED, fx.a0);
        LsEpochClose rogue_close = mkclose(fx.a, fx.a0, 0, &fx.ha[1], fx.ha[1].max_time_ns, NULL,
                                           fx.x);
        LsTrustConflict k;
        LsTrust *t = trust_a(1);

        ls_trust_from_history(t, 1);
        ck_assert_int_eq(ls_trust_add_cert(t, &rogue, NULL), 0);
        ck_assert_int_eq(ls_trust_add_close(t, &rogue_close, NULL), 0);
        ls_trust_from_history(t, 0);
        /* the genuine certificate of a1 is refused twice over (fork, and the close names
         * another key); the first reason recorded is the fork */
        ck_assert_int_eq(ls_trust_add_cert(t, &fx.ca1, NULL), -EKEYREJECTED);
        ck_assert_int_eq(ls_trust_conflict(t, &k), 1);
        ck_assert_mem_eq(k.history_key_id, fx.x->key_id, LS_KEY_ID_LEN);
        ls_trust_free(t);

        /* only the close in the history, the genuine certificate learnt from the chain:
         * the chain's close of epoch 0 disagrees with the history's */
        LsEpochClose rogue_close_a1 = mkclose(fx.a, fx.a0, 0, &fx.ha[2], fx.ha[1].max_time_ns,
                                              NULL, fx.a1);
        t = trust_a(2);
        ls_trust_from_history(t, 1);
        ck_assert_int_eq(ls_trust_add_close(t, &rogue_close_a1, NULL), 0);
        ls_trust_from_history(t, 0);
        ck_assert_int_eq(ls_trust_add_close(t, &fx.close0, NULL), -EILSEQ);
        ck_assert_int_eq(ls_trust_conflict(t, &k), 1);
        ck_assert_int_eq(k.kind, 'X');
        ck_assert_uint_eq(k.epoch, 0);
        ls_trust_free(t);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("trust");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, a_key_certified_for_chain_b_never_may_sign_chain_a);
        tcase_add_test(tc, a_signing_key_of_chain_a_cannot_certify_a_key_of_chain_b);
        tcase_add_test(tc, revocations_and_closes_apply_only_to_the_chain_they_name);
        tcase_add_test(tc, a_signing_key_hands_over_only_to_the_next_epoch_later_in_its_chain);
        tcase_add_test(tc, after_a_handover_the_old_key_may_sign_only_before_its_successor_starts);
        tcase_add_test(tc, two_keys_for_one_epoch_are_a_forked_history_and_the_second_is_rejected);
        tcase_add_test(tc, root_generations_must_increase_from_issuer_to_subject);
        tcase_add_test(tc, a_later_root_given_as_the_anchor_is_recognised_and_the_original_named);
        tcase_add_test(tc, a_revocation_by_batch_covers_that_batch_and_later_only);
        tcase_add_test(tc,
                       a_revocation_by_time_covers_batches_dated_from_then_and_every_checkpoint);
        tcase_add_test(tc, a_revocation_learnt_after_the_batches_applies_to_them_in_the_review);
        tcase_add_test(tc, a_revocation_must_be_signed_by_a_trusted_root);
        tcase_add_test(tc, a_key_handed_over_by_a_revoked_key_inherits_the_revocation);
        tcase_add_test(tc, a_close_is_accepted_only_from_the_successor_that_starts_right_after_it);
        tcase_add_test(tc, a_close_signed_by_the_closed_key_itself_is_rejected);
        tcase_add_test(tc, a_close_signed_by_a_key_of_another_chain_is_rejected);
        tcase_add_test(tc, a_close_must_name_the_key_certified_for_the_closed_epoch);
        tcase_add_test(tc, two_different_closes_of_one_epoch_mean_the_histories_disagree);
        tcase_add_test(tc, the_prev_close_hash_link_is_checked_both_ways);
        tcase_add_test(tc, after_its_close_the_old_key_may_sign_nothing_after_the_last_batch);
        tcase_add_test(tc, after_its_close_the_last_batch_must_be_the_one_the_close_names);
        tcase_add_test(tc, after_its_close_no_batch_of_the_epoch_may_be_dated_after_its_end);
        tcase_add_test(tc, after_its_close_an_earlier_batch_may_not_hold_a_larger_tree);
        tcase_add_test(tc,
                       a_checkpoint_of_the_close_head_is_bound_one_inside_the_epoch_is_not_proven);
        tcase_add_test(tc, a_checkpoint_at_the_close_head_with_another_root_is_refused);
        tcase_add_test(tc, a_closed_flag_key_with_a_successor_and_no_close_is_unbound);
        tcase_add_test(tc, a_format_1_key_with_a_successor_is_unbound_as_it_never_has_a_close);
        tcase_add_test(tc, a_three_line_checkpoint_is_never_evidence);
        tcase_add_test(tc, a_checkpoint_signed_by_nobody_known_or_not_verifying_is_refused);
        tcase_add_test(tc, the_review_finds_batches_noted_before_their_close_was_learnt);
        tcase_add_test(tc, a_key_history_loads_the_same_in_any_order);
        tcase_add_test(tc, a_history_item_never_accepted_is_reported_with_its_offset_and_kind);
        tcase_add_test(tc, the_known_last_batch_is_the_last_batch_of_the_latest_close);
        tcase_add_test(tc, a_close_naming_a_key_of_another_chain_is_refused_whatever_the_order);
        tcase_add_test(tc,
                       the_review_finds_an_earlier_batch_with_a_larger_tree_than_the_close_allows);
        tcase_add_test(tc, the_closed_flag_cannot_be_changed_by_a_second_certificate);
        tcase_add_test(tc, a_close_naming_a_key_nobody_certified_is_refused);
        tcase_add_test(tc,
                       a_history_forking_the_evidence_is_a_conflict_not_a_verdict_on_the_evidence);
        tcase_add_test(tc, a_history_close_contradicting_the_evidence_is_a_conflict);
        tcase_add_test(tc, a_handover_certificate_alone_proves_nothing_about_how_far_the_chain_went);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr;
        int failed;

        if (sodium_init() < 0)
                return 1;
        fixture_init();
        sr = srunner_create(suite());
        srunner_run_all(sr, CK_ENV);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        fixture_free();
        return failed ? 1 : 0;
}
