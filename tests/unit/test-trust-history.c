/* SPDX-License-Identifier: Apache-2.0 */
/* test-trust, key histories and the deviations this suite found (the suite is in test-trust.c) */
#include "test-trust.h"

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

void suite_add_history(TCase *tc)
{
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
}
