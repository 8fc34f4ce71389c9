/* SPDX-License-Identifier: Apache-2.0 */
/* test-encoding, key certificates and revocations (the suite is in test-encoding.c) */
#include "test-encoding.h"

/* ---------------------------------------------------------------------------------------------
 * Key certificate (SPEC §9.1)
 */

static void ref_cert(const LsCert *c, uint8_t out[168])
{
        memset(out, 0, 168);
        put_magic(out, 'C');
        le16(out + 8, 1);
        le16(out + 10, 168);
        out[12] = c->kind;
        memcpy(out + 16, c->chain_id, 16);
        memcpy(out + 32, c->pk, 32);
        memcpy(out + 64, c->key_id, 8);
        le64(out + 72, c->epoch);
        le64(out + 80, c->valid_from_batch);
        le64(out + 88, c->issued_ns);
        memcpy(out + 96, c->issuer_key_id, 8);
        memcpy(out + 104, c->sig, 64);
}

static void assert_cert_equal(const LsCert *a, const LsCert *b)
{
        ck_assert_uint_eq(a->kind, b->kind);
        ck_assert(memcmp(a->chain_id, b->chain_id, 16) == 0);
        ck_assert(memcmp(a->pk, b->pk, 32) == 0);
        ck_assert(memcmp(a->key_id, b->key_id, 8) == 0);
        ck_assert_uint_eq(a->epoch, b->epoch);
        ck_assert_uint_eq(a->valid_from_batch, b->valid_from_batch);
        ck_assert_uint_eq(a->issued_ns, b->issued_ns);
        ck_assert(memcmp(a->issuer_key_id, b->issuer_key_id, 8) == 0);
        ck_assert(memcmp(a->sig, b->sig, 64) == 0);
}

static int dec_cert(const uint8_t *p, size_t n)
{
        LsCert c;
        return ls_cert_decode(&c, p, n);
}

void keys_setup(Keys *k)
{
        LsKeyPair *root2;

        k->root = key_from_name("root-key", 0);
        k->epoch0 = key_from_name("epoch-key-0", 0);
        k->epoch1 = key_from_name("epoch-key-1", 1);
        k->other = key_from_name("unrelated-key", 0);
        fill(k->chain_id, 16, "chain");
        ck_assert_int_eq(tu_cert(&k->signing, k->chain_id, k->epoch1, LS_CERT_SIGNING, 17,
                                 TU_T0 + 5, k->epoch0),
                         0);
        root2 = key_from_name("root-key-2", 1);
        ck_assert_int_eq(
                tu_cert(&k->root_cert, k->chain_id, root2, LS_CERT_ROOT, 0, TU_T0 + 6, k->root), 0);
        ls_keypair_free(root2);
}

void keys_free(Keys *k)
{
        ls_keypair_free(k->root);
        ls_keypair_free(k->epoch0);
        ls_keypair_free(k->epoch1);
        ls_keypair_free(k->other);
}

START_TEST(cert_round_trip_preserves_fields_and_bytes)
{
        Keys k;
        LsCert d;
        uint8_t p[168], q[168], ref[168];

        keys_setup(&k);
        const LsCert *certs[] = {&k.signing, &k.root_cert};
        for (size_t i = 0; i < 2; i++) {
                ls_cert_encode(certs[i], p);
                ref_cert(certs[i], ref);
                ck_assert(memcmp(p, ref, 168) == 0);
                ck_assert_int_eq(ls_cert_decode(&d, p, 168), 0);
                assert_cert_equal(certs[i], &d);
                ls_cert_encode(&d, q);
                ck_assert(memcmp(p, q, 168) == 0);
        }
        /* what ls_cert_sign filled in */
        uint8_t id[8];
        ref_key_id(id, k.epoch1->pk);
        ck_assert(memcmp(k.signing.key_id, id, 8) == 0);
        ck_assert(memcmp(k.signing.issuer_key_id, k.epoch0->key_id, 8) == 0);
        ck_assert(memcmp(k.root_cert.issuer_key_id, k.root->key_id, 8) == 0);
        ck_assert(ls_all_zero(k.root_cert.chain_id, 16));
        keys_free(&k);
}
END_TEST

START_TEST(cert_every_strict_prefix_is_enodata_and_trailing_bytes_ebadmsg)
{
        Keys k;
        uint8_t p[168];

        keys_setup(&k);
        ls_cert_encode(&k.signing, p);
        assert_prefixes_rejected(dec_cert, p, 168, -ENODATA, "certificate");
        assert_trailing_rejected(dec_cert, p, 168, "certificate");
        ls_cert_encode(&k.root_cert, p);
        assert_prefixes_rejected(dec_cert, p, 168, -ENODATA, "root certificate");
        assert_trailing_rejected(dec_cert, p, 168, "root certificate");
        keys_free(&k);
}
END_TEST

START_TEST(cert_malformed_values_are_ebadmsg)
{
        Keys k;
        LsCert c;
        uint8_t p[168];

        keys_setup(&k);
        ls_cert_encode(&k.signing, p);
        for (size_t i = 0; i < 8; i++)
                ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, i, p[i] ^ 0x04), -EBADMSG);
        ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 3, 'R'), -EBADMSG);
        ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 10, 167), -EBADMSG);
        ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 10, 169), -EBADMSG);
        ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 11, 1), -EBADMSG);
        /* version */
        ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 8, 2), -EPROTONOSUPPORT);
        ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 8, 0), -EPROTONOSUPPORT);
        /* kind other than 1 or 2 */
        static const uint8_t kinds[] = {0, 3, 0xff};
        for (size_t i = 0; i < sizeof(kinds); i++)
                ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 12, kinds[i]), -EBADMSG);
        /* reserved byte 13; flags 14..15: bit 0 (CLOSED, format 2) is known, others refused */
        ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 13, 1), -EBADMSG);
        ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 14, 1), 0);
        ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 14, 2), -EPROTONOSUPPORT);
        ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, 15, 1), -EPROTONOSUPPORT);
        /* key_id does not match public_key: in either field */
        for (size_t i = 32; i < 72; i += 7)
                ck_assert_int_eq(decode_with_byte(dec_cert, p, 168, i, p[i] ^ 1), -EBADMSG);
        /* root certificate: chain_id zero, valid_from_batch 0 */
        c = k.root_cert;
        c.chain_id[0] = 1;
        ref_cert(&c, p);
        ck_assert_int_eq(dec_cert(p, 168), -EBADMSG);
        c = k.root_cert;
        c.chain_id[15] = 0x80;
        ref_cert(&c, p);
        ck_assert_int_eq(dec_cert(p, 168), -EBADMSG);
        c = k.root_cert;
        c.valid_from_batch = 1;
        ref_cert(&c, p);
        ck_assert_int_eq(dec_cert(p, 168), -EBADMSG);
        keys_free(&k);
}
END_TEST

START_TEST(cert_signature_verifies_only_with_the_issuer_and_unchanged_fields)
{
        Keys k;
        LsCert d;
        uint8_t p[168], ctx[20 + 104];

        keys_setup(&k);
        ck_assert_int_eq(ls_cert_verify(&k.signing, k.epoch0->pk), 0);
        ck_assert_int_eq(ls_cert_verify(&k.root_cert, k.root->pk), 0);
        ck_assert_int_eq(ls_cert_verify(&k.signing, k.root->pk), -EKEYREJECTED);
        ck_assert_int_eq(ls_cert_verify(&k.signing, k.epoch1->pk), -EKEYREJECTED);
        ck_assert_int_eq(ls_cert_verify(&k.root_cert, k.other->pk), -EKEYREJECTED);
        /* Ed25519 over "logseal-key-cert-v1\n" ‖ cert[0..104) */
        ls_cert_encode(&k.signing, p);
        memcpy(ctx, "logseal-key-cert-v1\n", 20);
        memcpy(ctx + 20, p, 104);
        ck_assert_int_eq(crypto_sign_verify_detached(p + 104, ctx, sizeof(ctx), k.epoch0->pk), 0);
        /* issuer id rewritten to another key */
        d = k.signing;
        memcpy(d.issuer_key_id, k.other->key_id, 8);
        ck_assert_int_eq(ls_cert_verify(&d, k.other->pk), -EKEYREJECTED);
        ck_assert_int_eq(ls_cert_verify(&d, k.epoch0->pk), -EKEYREJECTED);
        const LsCert *certs[] = {&k.signing, &k.root_cert};
        const uint8_t *issuers[] = {k.epoch0->pk, k.root->pk};
        for (size_t c = 0; c < 2; c++) {
                unsigned decoded = 0;
                ls_cert_encode(certs[c], p);
                for (size_t i = 0; i < 168; i++)
                        for (int bit = 0; bit < 8; bit++) {
                                p[i] ^= (uint8_t) (1u << bit);
                                if (ls_cert_decode(&d, p, 168) == 0) {
                                        decoded++;
                                        ck_assert_msg(ls_cert_verify(&d, issuers[c]) ==
                                                              -EKEYREJECTED,
                                                      "cert %zu bit %d of byte %zu", c, bit, i);
                                }
                                p[i] ^= (uint8_t) (1u << bit);
                        }
                ck_assert_uint_gt(decoded, 600);
        }
        keys_free(&k);
}
END_TEST

START_TEST(binary_signatures_do_not_verify_under_another_context)
{
        /* SPEC §1 domain separation: each role signs context ‖ bytes */
        static const char *const ctxs[] = {"logseal-archive-header-v1\n", "logseal-seal-v1\n",
                                           "logseal-key-cert-v1\n", "logseal-revocation-v1\n",
                                           NULL};
        Keys k;
        uint8_t p[168];

        keys_setup(&k);
        ls_cert_encode(&k.signing, p);
        for (size_t i = 0; i < ELEMENTSOF(ctxs); i++) {
                int want = ctxs[i] && strcmp(ctxs[i], LS_CTX_CERT) == 0 ? 0 : -EKEYREJECTED;
                ck_assert_msg(ls_verify(k.epoch0->pk, ctxs[i], p, 104, p + 104) == want,
                              "context %zu", i);
        }
        keys_free(&k);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Revocation (SPEC §9.2)
 */

static void revocation_fixture(LsRevocation *r, Keys *k, const char *reason, size_t reason_len)
{
        LsSigner s;

        memset(r, 0, sizeof(*r));
        memcpy(r->chain_id, k->chain_id, 16);
        memcpy(r->revoked_key_id, k->epoch0->key_id, 8);
        r->from_batch = 12;
        r->from_time_ns = LS_UNSET;
        r->issued_ns = TU_T0 + 77;
        r->reason = reason;
        r->reason_len = (uint16_t) reason_len;
        ls_signer_from_keypair(&s, k->root);
        ck_assert_int_eq(ls_revocation_sign(r, &s), 0);
        ck_assert(memcmp(r->issuer_key_id, k->root->key_id, 8) == 0);
}

static size_t ref_revocation(const LsRevocation *r, uint8_t *out)
{
        memset(out, 0, 72);
        put_magic(out, 'R');
        le16(out + 8, 1);
        le16(out + 10, r->reason_len);
        memcpy(out + 16, r->chain_id, 16);
        memcpy(out + 32, r->revoked_key_id, 8);
        le64(out + 40, r->from_batch);
        le64(out + 48, r->from_time_ns);
        le64(out + 56, r->issued_ns);
        memcpy(out + 64, r->issuer_key_id, 8);
        if (r->reason_len)
                memcpy(out + 72, r->reason, r->reason_len);
        memcpy(out + 72 + r->reason_len, r->sig, 64);
        return 136 + (size_t) r->reason_len;
}

static void assert_revocation_equal(const LsRevocation *a, const LsRevocation *b)
{
        ck_assert(memcmp(a->chain_id, b->chain_id, 16) == 0);
        ck_assert(memcmp(a->revoked_key_id, b->revoked_key_id, 8) == 0);
        ck_assert_uint_eq(a->from_batch, b->from_batch);
        ck_assert_uint_eq(a->from_time_ns, b->from_time_ns);
        ck_assert_uint_eq(a->issued_ns, b->issued_ns);
        ck_assert(memcmp(a->issuer_key_id, b->issuer_key_id, 8) == 0);
        ck_assert_uint_eq(a->reason_len, b->reason_len);
        ck_assert(a->reason_len == 0 || memcmp(a->reason, b->reason, a->reason_len) == 0);
        ck_assert(memcmp(a->sig, b->sig, 64) == 0);
}

static int dec_revocation(const uint8_t *p, size_t n)
{
        LsRevocation r;
        return ls_revocation_decode(&r, p, n);
}

static char long_reason[1100];

START_TEST(revocation_round_trip_preserves_fields_and_bytes)
{
        Keys k;
        LsRevocation r, d;
        static uint8_t p[LS_REVOCATION_MAX_LEN], q[LS_REVOCATION_MAX_LEN],
                ref[LS_REVOCATION_MAX_LEN];
        static const size_t lens[] = {0, 1, 27, 1024};
        size_t n, n2;

        memset(long_reason, 'r', sizeof(long_reason));
        memcpy(long_reason, "key compromised: \xc3\xa9", 19);
        keys_setup(&k);
        for (size_t i = 0; i < ELEMENTSOF(lens); i++)
                for (int variant = 0; variant < 3; variant++) {
                        revocation_fixture(&r, &k, long_reason, lens[i]);
                        if (variant == 1) {
                                r.from_batch = LS_UNSET;
                                r.from_time_ns = TU_T0;
                        } else if (variant == 2) {
                                r.from_time_ns = 0;
                        }
                        LsSigner s;
                        ls_signer_from_keypair(&s, k.root);
                        ck_assert_int_eq(ls_revocation_sign(&r, &s), 0);
                        ck_assert_uint_eq(ls_revocation_size(&r), 136 + lens[i]);
                        ck_assert_int_eq(ls_revocation_encode(&r, p, sizeof(p), &n), 0);
                        ck_assert_uint_eq(n, 136 + lens[i]);
                        ck_assert_uint_eq(ref_revocation(&r, ref), n);
                        ck_assert(memcmp(p, ref, n) == 0);
                        ck_assert_int_eq(ls_revocation_decode(&d, p, n), 0);
                        assert_revocation_equal(&r, &d);
                        ck_assert_int_eq(ls_revocation_encode(&d, q, sizeof(q), &n2), 0);
                        ck_assert_uint_eq(n, n2);
                        ck_assert(memcmp(p, q, n) == 0);
                        ck_assert_int_eq(ls_revocation_verify(&d, k.root->pk), 0);
                        ck_assert_int_eq(ls_revocation_encode(&r, p, n - 1, &n2), -ENOBUFS);
                }
        keys_free(&k);
}
END_TEST

START_TEST(revocation_every_strict_prefix_is_enodata_and_trailing_bytes_ebadmsg)
{
        Keys k;
        LsRevocation r;
        static uint8_t p[LS_REVOCATION_MAX_LEN];
        static const size_t lens[] = {0, 5, 1024};
        size_t n;

        memset(long_reason, 'q', sizeof(long_reason));
        keys_setup(&k);
        for (size_t i = 0; i < ELEMENTSOF(lens); i++) {
                revocation_fixture(&r, &k, long_reason, lens[i]);
                ck_assert_int_eq(ls_revocation_encode(&r, p, sizeof(p), &n), 0);
                assert_prefixes_rejected(dec_revocation, p, n, -ENODATA, "revocation");
                assert_trailing_rejected(dec_revocation, p, n, "revocation");
        }
        keys_free(&k);
}
END_TEST

START_TEST(revocation_reason_above_1024_is_e2big)
{
        Keys k;
        LsRevocation r;
        static uint8_t p[LS_REVOCATION_MAX_LEN + 64];
        size_t n;
        LsSigner s;

        memset(long_reason, 'x', sizeof(long_reason));
        keys_setup(&k);
        revocation_fixture(&r, &k, long_reason, 1024);
        ck_assert_int_eq(ls_revocation_encode(&r, p, sizeof(p), &n), 0);
        r.reason_len = 1025;
        ck_assert_int_eq(ls_revocation_encode(&r, p, sizeof(p), &n), -E2BIG);
        ls_signer_from_keypair(&s, k.root);
        ck_assert_int_eq(ls_revocation_sign(&r, &s), -E2BIG);
        n = ref_revocation(&r, p);
        ck_assert_uint_eq(n, 136 + 1025);
        ck_assert_int_eq(dec_revocation(p, n), -E2BIG);
        /* checked before the bytes are counted */
        ck_assert_int_eq(dec_revocation(p, 136), -E2BIG);
        le16(p + 10, 0xffff);
        ck_assert_int_eq(dec_revocation(p, 136), -E2BIG);
        keys_free(&k);
}
END_TEST

START_TEST(revocation_malformed_values_are_ebadmsg)
{
        Keys k;
        LsRevocation r;
        uint8_t p[256];
        size_t n;

        keys_setup(&k);
        revocation_fixture(&r, &k, "why", 3);
        n = ref_revocation(&r, p);
        ck_assert_int_eq(dec_revocation(p, n), 0);
        for (size_t i = 0; i < 8; i++)
                ck_assert_int_eq(decode_with_byte(dec_revocation, p, n, i, p[i] ^ 0x10), -EBADMSG);
        ck_assert_int_eq(decode_with_byte(dec_revocation, p, n, 3, 'C'), -EBADMSG);
        ck_assert_int_eq(decode_with_byte(dec_revocation, p, n, 8, 2), -EPROTONOSUPPORT);
        ck_assert_int_eq(decode_with_byte(dec_revocation, p, n, 9, 1), -EPROTONOSUPPORT);
        /* reserved 12..15 */
        for (size_t i = 12; i < 16; i++)
                ck_assert_int_eq(decode_with_byte(dec_revocation, p, n, i, 1), -EBADMSG);
        /* reason_len that disagrees with the length: shorter claim -> trailing bytes */
        ck_assert_int_eq(decode_with_byte(dec_revocation, p, n, 10, 2), -EBADMSG);
        ck_assert_int_eq(decode_with_byte(dec_revocation, p, n, 10, 4), -ENODATA);
        /* neither from_batch nor from_time_ns set */
        r.from_batch = LS_UNSET;
        r.from_time_ns = LS_UNSET;
        n = ref_revocation(&r, p);
        ck_assert_int_eq(dec_revocation(p, n), -EBADMSG);
        ck_assert_int_eq(ls_revocation_encode(&r, p, sizeof(p), &n), -EBADMSG);
        r.from_time_ns = LS_UNSET - 1;
        n = ref_revocation(&r, p);
        ck_assert_int_eq(dec_revocation(p, n), 0);
        keys_free(&k);
}
END_TEST

START_TEST(revocation_signature_verifies_only_with_the_issuer_and_unchanged_fields)
{
        Keys k;
        LsRevocation r, d;
        uint8_t p[256], ctx[22 + 256];
        size_t n;

        keys_setup(&k);
        revocation_fixture(&r, &k, "rotation", 8);
        ck_assert_int_eq(ls_revocation_verify(&r, k.root->pk), 0);
        ck_assert_int_eq(ls_revocation_verify(&r, k.epoch0->pk), -EKEYREJECTED);
        ck_assert_int_eq(ls_revocation_verify(&r, k.other->pk), -EKEYREJECTED);
        n = ref_revocation(&r, p);
        memcpy(ctx, "logseal-revocation-v1\n", 22);
        memcpy(ctx + 22, p, n - 64);
        ck_assert_int_eq(crypto_sign_verify_detached(p + n - 64, ctx, 22 + n - 64, k.root->pk), 0);
        d = r;
        memcpy(d.issuer_key_id, k.other->key_id, 8);
        ck_assert_int_eq(ls_revocation_verify(&d, k.other->pk), -EKEYREJECTED);
        unsigned decoded = 0;
        for (size_t i = 0; i < n; i++)
                for (int bit = 0; bit < 8; bit++) {
                        p[i] ^= (uint8_t) (1u << bit);
                        if (ls_revocation_decode(&d, p, n) == 0) {
                                decoded++;
                                ck_assert_msg(ls_revocation_verify(&d, k.root->pk) == -EKEYREJECTED,
                                              "bit %d of byte %zu", bit, i);
                        }
                        p[i] ^= (uint8_t) (1u << bit);
                }
        ck_assert_uint_gt(decoded, 800);
        keys_free(&k);
}
END_TEST

void suite_add_keys(TCase *tc)
{
        tcase_add_test(tc, cert_round_trip_preserves_fields_and_bytes);
        tcase_add_test(tc, cert_every_strict_prefix_is_enodata_and_trailing_bytes_ebadmsg);
        tcase_add_test(tc, cert_malformed_values_are_ebadmsg);
        tcase_add_test(tc, cert_signature_verifies_only_with_the_issuer_and_unchanged_fields);
        tcase_add_test(tc, binary_signatures_do_not_verify_under_another_context);
        tcase_add_test(tc, revocation_round_trip_preserves_fields_and_bytes);
        tcase_add_test(tc, revocation_every_strict_prefix_is_enodata_and_trailing_bytes_ebadmsg);
        tcase_add_test(tc, revocation_reason_above_1024_is_e2big);
        tcase_add_test(tc, revocation_malformed_values_are_ebadmsg);
        tcase_add_test(tc, revocation_signature_verifies_only_with_the_issuer_and_unchanged_fields);
        suite_add_keyfiles(tc);
}
