/* SPDX-License-Identifier: Apache-2.0 */
/* test-trust, chain binding, handovers, forks, roots, revocations (suite in test-trust.c) */
#include "test-trust.h"

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

void suite_add_chains(TCase *tc)
{
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
}
