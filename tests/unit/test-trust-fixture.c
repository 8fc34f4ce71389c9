/* SPDX-License-Identifier: Apache-2.0 */
/* test-trust, the fixture and the helpers the parts share (the suite is in test-trust.c) */
#include "test-trust.h"

Fx fx;

/* Building the fixture cannot fail; it also runs outside any test (no ck_assert there). */
#define NEED(x)                                                                                    \
        do {                                                                                       \
                if (!(x)) {                                                                        \
                        fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #x);             \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

LsKeyPair *key(const char *name, uint64_t epoch)
{
        uint8_t seed[32];
        LsKeyPair *k;

        tu_seed(seed, name);
        NEED(ls_keypair_from_seed(&k, seed, epoch) == 0);
        return k;
}

LsCert cert(const uint8_t chain[LS_CHAIN_ID_LEN], const LsKeyPair *subject, uint8_t kind,
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
LsBatchHeader hdr(const uint8_t chain[LS_CHAIN_ID_LEN], uint64_t b, uint64_t first_seq,
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
LsEpochClose mkclose(const uint8_t chain[LS_CHAIN_ID_LEN], const LsKeyPair *closed,
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

void fixture_init(void)
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

void fixture_free(void)
{
        LsKeyPair **all[] = {&fx.r0, &fx.r1, &fx.r2, &fx.a0, &fx.a1, &fx.a2, &fx.b0, &fx.b1, &fx.x};
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                *all[i] = ls_keypair_free(*all[i]);
}

/* ---- helpers ---- */

LsTrust *trust_new(const LsKeyPair *anchor)
{
        LsTrust *t;

        ck_assert_int_eq(ls_trust_new(&t, anchor->pk), 0);
        return t;
}

/* Root r0, then a0..a<epochs-1> of chain A. */
LsTrust *trust_a(int epochs)
{
        const LsCert *c[] = {&fx.ca0, &fx.ca1, &fx.ca2};
        LsTrust *t = trust_new(fx.r0);

        for (int i = 0; i < epochs; i++)
                ck_assert_int_eq(ls_trust_add_cert(t, c[i], NULL), 0);
        return t;
}

LsTrustDecision batch(LsTrust *t, const LsBatchHeader *h)
{
        LsTrustDecision d;

        memset(&d, 0xaa, sizeof(d));
        ls_trust_check_batch(t, h, &d);
        return d;
}

LsTrustDecision may(LsTrust *t, const LsKeyPair *k, const uint8_t *chain, uint64_t b,
                    uint64_t time)
{
        LsTrustDecision d;

        memset(&d, 0xaa, sizeof(d));
        ls_trust_may_sign(t, k->key_id, chain, b, time, &d);
        return d;
}

/* The signed checkpoint of h (signed by k), as a verifier reads it. */
LsTrustDecision checkpoint(LsTrust *t, const LsBatchHeader *h, const LsKeyPair *k)
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

LsRevocation revocation(const uint8_t chain[LS_CHAIN_ID_LEN], const LsKeyPair *revoked,
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


void on_review(void *ud, const LsKeyInfo *k, LsTrustResult result, const char *detail)
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
