/* SPDX-License-Identifier: Apache-2.0 */
/* test-bundle, key histories, revocations and epoch closes (the suite is in test-bundle.c) */
#include "test-bundle.h"

START_TEST(an_empty_key_history_leaves_the_checkpoint_uncertified)
{
        char *dir = scratch_copy();
        Res *r;

        put(dir, "keys.lsk", "", 0);
        rehash(dir);
        r = verify(dir);
        assert_tampered(r, "checkpoint key");
        ck_assert_uint_eq(r->n, 1);
        ck_assert(!r->sum.checkpoint_verified);
        /* the proofs check out against the root, but nothing authenticates the root */
        ck_assert_uint_eq(r->sum.records_verified, 0);
        ck_assert_uint_eq(r->nrec, 3);
        ck_assert(!r->rec_verified[0]);
        ck_assert(!r->sum.custody_ok);
        free(r);
        remove_dir(dir);
}
END_TEST

START_TEST(another_root_key_certifies_nothing)
{
        char *dir = path_in(vdir(), "bundle");
        uint8_t root[LS_PK_LEN], seed[32];
        LsKeyPair *other;
        Res *r;

        tu_seed(seed, "some-other-root");
        ck_assert_int_eq(ls_keypair_from_seed(&other, seed, 0), 0);
        memcpy(root, other->pk, LS_PK_LEN);
        ls_keypair_free(other);
        r = verify_with(dir, root, NULL, 0);
        assert_tampered(r, "key certificate");
        ck_assert(has_check(r, "checkpoint key"));
        ck_assert_uint_eq(r->sum.records_verified, 0);
        free(r);
        free(dir);
}
END_TEST

/* A root-signed revocation of the bundle's signing key (by batch or by time). */
static size_t make_revocation(uint8_t *out, size_t cap, uint64_t from_batch, uint64_t from_time)
{
        uint8_t seed[32];
        LsKeyPair *root, *k0;
        LsSigner rs;
        LsRevocation rv = {.from_batch = from_batch, .from_time_ns = from_time,
                           .issued_ns = TU_T0 + 3600000000000ull, .reason = "test"};
        size_t len;

        tu_seed(seed, "bundle-chain-id");
        memcpy(rv.chain_id, seed, LS_CHAIN_ID_LEN);
        tu_seed(seed, "root-key");
        ck_assert_int_eq(ls_keypair_from_seed(&root, seed, 0), 0);
        tu_seed(seed, "epoch-key-0");
        ck_assert_int_eq(ls_keypair_from_seed(&k0, seed, 0), 0);
        memcpy(rv.revoked_key_id, k0->key_id, LS_KEY_ID_LEN);
        rv.reason_len = 4;
        ls_signer_from_keypair(&rs, root);
        ck_assert_int_eq(ls_revocation_sign(&rv, &rs), 0);
        ck_assert_int_eq(ls_revocation_encode(&rv, out, cap, &len), 0);
        ls_keypair_free(root);
        ls_keypair_free(k0);
        return len;
}

START_TEST(revocations_in_the_bundle_or_out_of_band_apply_to_the_checkpoint)
{
        uint8_t rv[LS_REVOCATION_MAX_LEN], root[LS_PK_LEN], *keys;
        char *dir, *golden = path_in(vdir(), "bundle");
        size_t n, len;
        Res *r;

        root_key(root);
        /* from batch 0, in keys.lsk */
        dir = scratch_copy();
        keys = get(dir, "keys.lsk", &n);
        len = make_revocation(rv, sizeof(rv), 0, LS_UNSET);
        keys = realloc(keys, n + len);
        memcpy(keys + n, rv, len);
        put(dir, "keys.lsk", keys, n + len);
        free(keys);
        rehash(dir);
        r = verify(dir);
        /* a revocation is not tampering: its own class (SPEC §11) */
        ck_assert_int_eq(r->cls, LS_CLASS_REVOKED);
        ck_assert_str_eq(r->checks[0], "revoked");
        ck_assert_uint_eq(r->sum.keys_accepted, 2);
        free(r);
        remove_dir(dir);

        /* from batch 1: batch 0 stays signable */
        len = make_revocation(rv, sizeof(rv), 1, LS_UNSET);
        r = verify_with(golden, root, rv, len);
        ck_assert_int_eq(r->cls, LS_CLASS_INTACT);
        free(r);

        /* by time, out of band: a checkpoint carries no batch time, so it counts as covered */
        len = make_revocation(rv, sizeof(rv), LS_UNSET, TU_T0 + 3600000000000ull);
        r = verify_with(golden, root, rv, len);
        ck_assert_int_eq(r->cls, LS_CLASS_REVOKED);
        ck_assert_str_eq(r->checks[0], "revoked");
        free(r);

        /* out-of-band garbage is an input error, not tampering */
        r = verify_with(golden, root, (const uint8_t *) "garbage!garbage!", 16);
        ck_assert_int_eq(r->cls, LS_CLASS_IO);
        ck_assert_str_eq(r->checks[0], "key history");
        ck_assert_str_eq(r->files[0], "extra.lsk");
        free(r);
        free(golden);
}
END_TEST

/*
 * Format 2 (SPEC §9.4, §14.3 steps 4-5) out of band: the successor of the bundle's epoch-0 key
 * ("bundle-format2-epoch-key-1", valid from last + 1, certified by the epoch-0 key) and its
 * close of epoch 0. Returns the history's length.
 */
static size_t make_close_history(uint8_t *out, uint64_t last, uint64_t tree_size,
                                 const uint8_t *header_hash, uint64_t max_time, int with_close)
{
        uint8_t seed[32], *cp;
        char *golden = path_in(vdir(), "bundle");
        LsKeyPair *k0, *k1;
        LsSigner s0, s1;
        LsCheckpoint ckpt;
        LsCert c = {.kind = LS_CERT_SIGNING,
                    .flags = LS_CERT_F_CLOSED,
                    .epoch = 1,
                    .valid_from_batch = last + 1,
                    .issued_ns = TU_T0 + 9000000001ull};
        LsEpochClose cl = {.closed_epoch = 0,
                           .last_batch_no = last,
                           .tree_size = tree_size,
                           .max_time_ns = max_time,
                           .issued_ns = TU_T0 + 10000000000ull};
        size_t n;

        cp = get(golden, "checkpoint.txt", &n);
        ck_assert_int_eq(ls_checkpoint_parse(&ckpt, (const char *) cp, n, NULL), 0);
        free(cp);
        free(golden);
        tu_seed(seed, "epoch-key-0");
        ck_assert_int_eq(ls_keypair_from_seed(&k0, seed, 0), 0);
        tu_seed(seed, "bundle-format2-epoch-key-1");
        ck_assert_int_eq(ls_keypair_from_seed(&k1, seed, 1), 0);
        ls_signer_from_keypair(&s0, k0);
        ls_signer_from_keypair(&s1, k1);
        memcpy(c.chain_id, ckpt.chain_id, LS_CHAIN_ID_LEN);
        memcpy(c.pk, k1->pk, LS_PK_LEN);
        ck_assert_int_eq(ls_cert_sign(&c, &s0), 0);
        ls_cert_encode(&c, out);
        n = LS_CERT_LEN;
        if (with_close) {
                memcpy(cl.chain_id, ckpt.chain_id, LS_CHAIN_ID_LEN);
                memcpy(cl.closed_key_id, k0->key_id, LS_KEY_ID_LEN);
                memcpy(cl.tree_root, ckpt.root, LS_HASH_LEN);
                memcpy(cl.last_header_hash, header_hash ? header_hash : ckpt.header_hash,
                       LS_HASH_LEN);
                ck_assert_int_eq(ls_close_sign(&cl, &s1), 0);
                ls_close_encode(&cl, out + n);
                n += LS_CLOSE_LEN;
        }
        ls_keypair_free(k0);
        ls_keypair_free(k1);
        return n;
}

START_TEST(an_epoch_close_given_out_of_band_binds_the_bundles_checkpoint_and_records)
{
        uint8_t hist[LS_CERT_LEN + LS_CLOSE_LEN], root[LS_PK_LEN], other[LS_HASH_LEN];
        char *golden = path_in(vdir(), "bundle");
        const uint64_t end = TU_T0 + 9000000000ull; /* the custody record, the batch's last */
        size_t len;
        Res *r;

        root_key(root);
        /* genuine: the close of epoch 0 names the checkpoint's batch as its last */
        len = make_close_history(hist, 0, 10, NULL, end, 1);
        r = verify_with(golden, root, hist, len);
        ck_assert_int_eq(r->cls, LS_CLASS_INTACT);
        ck_assert_uint_eq(r->n, 0);
        ck_assert(r->sum.checkpoint_verified);
        ck_assert(!r->sum.checkpoint_unbound);
        ck_assert(r->sum.signer_epoch_ended);
        free(r);

        /* the close states an earlier end: records 7 and 9 (the custody record) were made
         * after it, so with the erased key */
        len = make_close_history(hist, 0, 10, NULL, TU_T0 + 5000000000ull, 1);
        r = verify_with(golden, root, hist, len);
        assert_tampered(r, "epoch close");
        ck_assert_uint_eq(r->sum.records_verified, 2);
        ck_assert_uint_eq(r->nrec, 2); /* record 7 is not listed */
        ck_assert_uint_eq(r->rec_seq[1], 5);
        free(r);

        /* the close names another batch 0: the checkpoint is off the epoch's final tree */
        tu_seed(other, "bundle-format2-other-header");
        len = make_close_history(hist, 0, 10, other, end, 1);
        r = verify_with(golden, root, hist, len);
        assert_tampered(r, "epoch close");
        ck_assert(!r->sum.checkpoint_verified);
        free(r);

        /* the epoch went on to batch 1: a checkpoint inside it is not proven (partial) */
        len = make_close_history(hist, 1, 12, other, end + 1000, 1);
        r = verify_with(golden, root, hist, len);
        ck_assert_int_eq(r->cls, LS_CLASS_PARTIAL);
        ck_assert_str_eq(r->checks[0], "epoch close");
        ck_assert(r->sum.checkpoint_unbound);
        free(r);

        /* the successor without the close: the epoch has ended and its (format-1) key never
         * states what it sealed, so the checkpoint is not proven (SPEC §9.4) */
        len = make_close_history(hist, 0, 10, NULL, end, 0);
        r = verify_with(golden, root, hist, len);
        ck_assert_int_eq(r->cls, LS_CLASS_PARTIAL);
        ck_assert_str_eq(r->checks[0], "epoch close");
        ck_assert(r->sum.checkpoint_unbound);
        ck_assert(r->sum.signer_epoch_ended);
        free(r);
        free(golden);
}
END_TEST

void suite_add_keys(TCase *tc)
{
        tcase_add_test(tc, an_empty_key_history_leaves_the_checkpoint_uncertified);
        tcase_add_test(tc, another_root_key_certifies_nothing);
        tcase_add_test(tc, revocations_in_the_bundle_or_out_of_band_apply_to_the_checkpoint);
        tcase_add_test(tc, an_epoch_close_given_out_of_band_binds_the_bundles_checkpoint_and_records);
}
