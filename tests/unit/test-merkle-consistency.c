/* SPDX-License-Identifier: Apache-2.0 */
/* test-merkle, consistency proofs (the suite is in test-merkle.c) */
#include "test-merkle.h"

/* ---- consistency proofs ---- */

START_TEST(proof_plan_gives_the_same_proofs_and_root_in_one_pass)
{
        /* Every inclusion proof of sizes 1..300 and every consistency proof up to 100, from
         * one plan per size; compared with the leaf-callback generator. */
        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++) {
                LsProofPlan *p;
                Leaves l = {.h = (const Hash *) leaves, .n = n, .fail_at = UINT64_MAX};
                uint8_t root[LS_HASH_LEN];

                ck_assert_int_eq(ls_proof_plan_new(&p, n), 0);
                for (uint64_t i = 0; i < n; i++)
                        ck_assert_int_eq(ls_proof_plan_want_inclusion(p, i), 0);
                if (n <= MAX_CONS_SIZE)
                        for (uint64_t m = 1; m <= n; m++)
                                ck_assert_int_eq(ls_proof_plan_want_consistency(p, m), 0);
                ck_assert_int_eq(ls_proof_plan_root(p, root), -EAGAIN);
                for (uint64_t i = 0; i < n; i++)
                        ck_assert_int_eq(ls_proof_plan_feed(p, leaves[i]), 0);
                ck_assert_int_eq(ls_proof_plan_feed(p, leaves[0]), -EOVERFLOW);
                ck_assert_int_eq(ls_proof_plan_root(p, root), 0);
                CHECK(memcmp(root, roots[n], LS_HASH_LEN) == 0, "root of size %d", (int) n);
                for (uint64_t i = 0; i < n; i++) {
                        uint8_t a[LS_MAX_INCLUSION_PROOF][LS_HASH_LEN], b[LS_MAX_INCLUSION_PROOF][LS_HASH_LEN];
                        unsigned ca, cb;
                        ck_assert_int_eq(ls_proof_plan_inclusion(p, i, a, &ca), 0);
                        ck_assert_int_eq(ls_inclusion_proof(get_leaf, &l, i, n, b, &cb), 0);
                        CHECK(ca == cb && memcmp(a, b, (size_t) ca * LS_HASH_LEN) == 0,
                              "inclusion %d of %d", (int) i, (int) n);
                }
                for (uint64_t m = 1; n <= MAX_CONS_SIZE && m <= n; m++) {
                        uint8_t a[LS_MAX_CONSISTENCY_PROOF][LS_HASH_LEN], b[LS_MAX_CONSISTENCY_PROOF][LS_HASH_LEN];
                        unsigned ca, cb;
                        ck_assert_int_eq(ls_proof_plan_consistency(p, m, a, &ca), 0);
                        ck_assert_int_eq(ls_consistency_proof(get_leaf, &l, m, n, b, &cb), 0);
                        CHECK(ca == cb && memcmp(a, b, (size_t) ca * LS_HASH_LEN) == 0,
                              "consistency %d -> %d", (int) m, (int) n);
                }
                ls_proof_plan_free(p);
        }
}
END_TEST

START_TEST(proof_plan_refuses_proofs_it_was_not_asked_for)
{
        LsProofPlan *p;
        uint8_t a[LS_MAX_INCLUSION_PROOF][LS_HASH_LEN];
        unsigned c;

        ck_assert_int_eq(ls_proof_plan_new(&p, 100), 0);
        ck_assert_int_eq(ls_proof_plan_want_inclusion(p, 7), 0);
        ck_assert_int_eq(ls_proof_plan_want_inclusion(p, 100), -EINVAL);
        for (uint64_t i = 0; i < 100; i++)
                ck_assert_int_eq(ls_proof_plan_feed(p, leaves[i]), 0);
        ck_assert_int_eq(ls_proof_plan_want_inclusion(p, 8), -EBUSY);
        ck_assert_int_eq(ls_proof_plan_inclusion(p, 7, a, &c), 0);
        ck_assert_int_eq(ls_proof_plan_inclusion(p, 70, a, &c), -ENOENT);
        ls_proof_plan_free(p);
        ck_assert_int_eq(ls_proof_plan_new(&p, 0), -EINVAL);
}
END_TEST

START_TEST(consistency_proofs_verify_for_every_pair_up_to_100)
{
        for (uint64_t n = 1; n <= MAX_CONS_SIZE; n++)
                for (uint64_t m = 1; m <= n; m++) {
                        const Hash *proof;
                        const Proof *p = cons_proof(m, n, &proof);
                        int r;

                        CHECK(p->count == ref_subproof_len(m, n, 1), "(%d, %d) has %u elements",
                              (int) m, (int) n, p->count);
                        r = ls_verify_consistency(m, n, roots[m], roots[n], proof, p->count);
                        CHECK(r == 0, "(%d, %d) does not verify: %d", (int) m, (int) n, r);
                        CHECK(ref_verify_consistency(m, n, roots[m], roots[n], proof, p->count) ==
                                      0,
                              "(%d, %d) fails the reference verifier", (int) m, (int) n);
                }
}
END_TEST

START_TEST(consistency_proof_fails_when_any_element_has_a_bit_flipped)
{
        Hash proof[LS_MAX_CONSISTENCY_PROOF], h;

        for (uint64_t n = 2; n <= MAX_CONS_SIZE; n++)
                for (uint64_t m = 1; m < n; m++) {
                        const Hash *orig;
                        const Proof *p = cons_proof(m, n, &orig);
                        int r;

                        memcpy(proof, orig, p->count * sizeof(Hash));
                        for (unsigned y = 0; y < p->count; y++) {
                                unsigned first = (unsigned) (m * 13 + n * 5 + y * 7) % 256;
                                unsigned nbits = n <= 8 ? 256 : 3;

                                for (unsigned bit = 0; bit < nbits; bit++) {
                                        unsigned b = (first + bit * 101) % 256;

                                        flip_bit(proof[y], b);
                                        r = ls_verify_consistency(m, n, roots[m], roots[n],
                                                                  (const Hash *) proof, p->count);
                                        flip_bit(proof[y], b);
                                        CHECK(r == -EILSEQ,
                                              "(%d, %d) element %u bit %u flipped: %d", (int) m,
                                              (int) n, y, b, r);
                                }
                        }

                        /* Either root altered. */
                        memcpy(h, roots[m], LS_HASH_LEN);
                        flip_bit(h, (unsigned) (m + n) % 256);
                        r = ls_verify_consistency(m, n, h, roots[n], orig, p->count);
                        CHECK(r == -EILSEQ, "(%d, %d) with a flipped old root: %d", (int) m,
                              (int) n, r);
                        memcpy(h, roots[n], LS_HASH_LEN);
                        flip_bit(h, (unsigned) (m * n) % 256);
                        r = ls_verify_consistency(m, n, roots[m], h, orig, p->count);
                        CHECK(r == -EILSEQ, "(%d, %d) with a flipped new root: %d", (int) m,
                              (int) n, r);
                        r = ls_verify_consistency(m, n, roots[n], roots[m], orig, p->count);
                        CHECK(r == -EILSEQ, "(%d, %d) with swapped roots: %d", (int) m, (int) n, r);
                }
}
END_TEST

/*
 * As for inclusion: against the roots of the claimed sizes a changed size is
 * always rejected; against the original roots the RFC algorithm accepts
 * exactly when the reference recursion for the claimed sizes does.
 */
START_TEST(consistency_proof_fails_when_either_size_changes)
{
        unsigned accepted = 0;

        for (uint64_t n = 2; n <= MAX_CONS_SIZE; n++)
                for (uint64_t m = 1; m < n; m++) {
                        const Hash *proof;
                        const Proof *p = cons_proof(m, n, &proof);
                        const uint64_t alt[][2] = {
                                {m - 1, n}, {m + 1, n},     {m, n - 1},
                                {m, n + 1}, {m + 1, n + 1}, {m - 1, n - 1},
                        };

                        for (size_t z = 0; z < ELEMENTSOF(alt); z++) {
                                uint64_t s1 = alt[z][0], s2 = alt[z][1];
                                int r, ref;

                                r = ls_verify_consistency(s1, s2, roots[s1], roots[s2], proof,
                                                          p->count);
                                CHECK(REJECTED(r), "(%d, %d) accepted as (%d, %d): %d", (int) m,
                                      (int) n, (int) s1, (int) s2, r);

                                r = ls_verify_consistency(s1, s2, roots[m], roots[n], proof,
                                                          p->count);
                                ref = ref_verify_consistency(s1, s2, roots[m], roots[n], proof,
                                                             p->count);
                                CHECK(r == 0 ? ref == 0 : REJECTED(r) && ref != 0,
                                      "(%d, %d) as (%d, %d) against the old roots: %d, ref %d",
                                      (int) m, (int) n, (int) s1, (int) s2, r, ref);
                                accepted += r == 0;
                        }
                }
        ck_assert_uint_gt(accepted, 0);
}
END_TEST

START_TEST(consistency_proof_fails_when_an_element_is_added_or_removed)
{
        Hash proof[LS_MAX_CONSISTENCY_PROOF + 1];

        for (uint64_t n = 1; n <= MAX_CONS_SIZE; n++)
                for (uint64_t m = 1; m <= n; m++) {
                        const Hash *orig;
                        const Proof *p = cons_proof(m, n, &orig);
                        unsigned c = p->count;
                        int r;

                        memcpy(proof, orig, c * sizeof(Hash));
                        memcpy(proof[c], roots[n], LS_HASH_LEN);
                        r = ls_verify_consistency(m, n, roots[m], roots[n], (const Hash *) proof,
                                                  c + 1);
                        CHECK(r == -EBADMSG, "(%d, %d) + root: %d", (int) m, (int) n, r);

                        /* RFC 9162 prepends root1 itself when m is a power of two; not on the wire.
                         */
                        memcpy(proof[0], roots[m], LS_HASH_LEN);
                        memcpy(proof + 1, orig, c * sizeof(Hash));
                        r = ls_verify_consistency(m, n, roots[m], roots[n], (const Hash *) proof,
                                                  c + 1);
                        CHECK(r == -EBADMSG, "old root + (%d, %d): %d", (int) m, (int) n, r);

                        for (unsigned y = 0; y < c; y++) {
                                memcpy(proof, orig, y * sizeof(Hash));
                                memcpy(proof + y, orig + y + 1, (c - y - 1) * sizeof(Hash));
                                r = ls_verify_consistency(m, n, roots[m], roots[n],
                                                          (const Hash *) proof, c - 1);
                                CHECK(r == -EBADMSG, "(%d, %d) without element %u: %d", (int) m,
                                      (int) n, y, r);
                        }
                }
}
END_TEST

START_TEST(consistency_from_an_empty_tree_is_rejected)
{
        Leaves l = all_leaves();
        Hash out[LS_MAX_CONSISTENCY_PROOF];
        unsigned count = 77;

        for (uint64_t n = 0; n <= 20; n++) {
                ck_assert_int_eq(ls_verify_consistency(0, n, roots[0], roots[n], NULL, 0),
                                 -EBADMSG);
                ck_assert_int_eq(
                        ls_verify_consistency(0, n, roots[0], roots[n], (const Hash *) roots, 1),
                        -EBADMSG);
                ck_assert_int_eq(ls_consistency_proof(get_leaf, &l, 0, n, out, &count), -EINVAL);
        }
        ck_assert_uint_eq(count, 77);
}
END_TEST

START_TEST(consistency_between_equal_sizes_needs_an_empty_proof_and_equal_roots)
{
        Leaves l = all_leaves();
        Hash out[LS_MAX_CONSISTENCY_PROOF];
        unsigned count = 77;

        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++) {
                ck_assert_int_eq(ls_consistency_proof(get_leaf, &l, n, n, out, &count), 0);
                ck_assert_uint_eq(count, 0);
                CHECK(ls_verify_consistency(n, n, roots[n], roots[n], NULL, 0) == 0, "%d", (int) n);
                CHECK(ls_verify_consistency(n, n, roots[n], roots[n - 1], NULL, 0) == -EILSEQ, "%d",
                      (int) n);
                CHECK(ls_verify_consistency(n, n, roots[n], roots[n], (const Hash *) roots, 1) ==
                              -EBADMSG,
                      "%d", (int) n);
        }
        ck_assert_uint_eq(l.fetched, 0);
}
END_TEST

START_TEST(consistency_rejects_a_shrinking_tree)
{
        Leaves l = all_leaves();
        Hash out[LS_MAX_CONSISTENCY_PROOF];
        unsigned count = 77;

        for (uint64_t n = 1; n <= 20; n++) {
                const Hash *proof;
                const Proof *p = cons_proof(n, n + 1, &proof);

                ck_assert_int_eq(
                        ls_verify_consistency(n + 1, n, roots[n + 1], roots[n], proof, p->count),
                        -EBADMSG);
                ck_assert_int_eq(ls_verify_consistency(n + 1, n, roots[n + 1], roots[n], NULL, 0),
                                 -EBADMSG);
                ck_assert_int_eq(ls_consistency_proof(get_leaf, &l, n + 1, n, out, &count),
                                 -EINVAL);
        }
        ck_assert_uint_eq(count, 77);
}
END_TEST

TCase *tcase_consistency(void)
{
        TCase *tc = tcase_new("consistency");

        tcase_add_test(tc, consistency_proofs_verify_for_every_pair_up_to_100);
        tcase_add_test(tc, proof_plan_gives_the_same_proofs_and_root_in_one_pass);
        tcase_add_test(tc, proof_plan_refuses_proofs_it_was_not_asked_for);
        tcase_add_test(tc, consistency_proof_fails_when_any_element_has_a_bit_flipped);
        tcase_add_test(tc, consistency_proof_fails_when_either_size_changes);
        tcase_add_test(tc, consistency_proof_fails_when_an_element_is_added_or_removed);
        tcase_add_test(tc, consistency_from_an_empty_tree_is_rejected);
        tcase_add_test(tc, consistency_between_equal_sizes_needs_an_empty_proof_and_equal_roots);
        tcase_add_test(tc, consistency_rejects_a_shrinking_tree);
        return tc;
}
