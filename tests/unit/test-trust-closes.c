/* SPDX-License-Identifier: Apache-2.0 */
/* test-trust, epoch closes, checkpoints and the review (the suite is in test-trust.c) */
#include "test-trust.h"

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

void suite_add_closes(TCase *tc)
{
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
}
