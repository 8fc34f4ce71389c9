/* SPDX-License-Identifier: Apache-2.0 */
/* test-merkle, inclusion proofs (the suite is in test-merkle.c) */
#include "test-merkle.h"

/* ---- inclusion proofs ---- */

START_TEST(inclusion_proofs_verify_for_every_leaf_of_every_size_1_to_300)
{
        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++)
                for (uint64_t x = 0; x < n; x++) {
                        const Hash *path;
                        const Proof *p = incl_proof(x, n, &path);
                        int r;

                        CHECK(p->count == ref_path_len(x, n), "(%d, %d) has %u elements", (int) x,
                              (int) n, p->count);
                        r = ls_verify_inclusion(x, n, leaves[x], path, p->count, roots[n]);
                        CHECK(r == 0, "(%d, %d) does not verify: %d", (int) x, (int) n, r);
                        CHECK(ref_verify_inclusion(x, n, leaves[x], path, p->count, roots[n]) == 0,
                              "(%d, %d) fails the reference verifier", (int) x, (int) n);
                }
}
END_TEST

START_TEST(inclusion_proof_fails_when_any_element_has_a_bit_flipped)
{
        Hash path[LS_MAX_INCLUSION_PROOF];

        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++)
                for (uint64_t x = 0; x < n; x++) {
                        const Hash *orig;
                        const Proof *p = incl_proof(x, n, &orig);

                        memcpy(path, orig, p->count * sizeof(Hash));
                        for (unsigned y = 0; y < p->count; y++) {
                                /* Every bit for small trees, one varying bit for the rest. */
                                unsigned first = (unsigned) (x * 31 + y * 7) % 256;
                                unsigned nbits = n <= 8 ? 256 : 1;

                                for (unsigned bit = 0; bit < nbits; bit++) {
                                        unsigned b = (first + bit) % 256;
                                        int r;

                                        flip_bit(path[y], b);
                                        r = ls_verify_inclusion(x, n, leaves[x],
                                                                (const Hash *) path, p->count,
                                                                roots[n]);
                                        flip_bit(path[y], b);
                                        CHECK(r == -EILSEQ,
                                              "(%d, %d) element %u bit %u flipped: %d", (int) x,
                                              (int) n, y, b, r);
                                }
                        }
                }
}
END_TEST

static void check_other_index(uint64_t x, uint64_t n, uint64_t other, const Hash *path,
                              unsigned count)
{
        int r;

        if (other == x || other >= n)
                return;
        r = ls_verify_inclusion(other, n, leaves[x], path, count, roots[n]);
        CHECK(REJECTED(r), "proof of %d in %d accepted for index %d: %d", (int) x, (int) n,
              (int) other, r);
}

/*
 * Every other index for trees up to ALL_OTHER_INDICES_UP_TO leaves (O(n^3 log n)
 * in total, so not to 300); above that, the indices most likely to share the
 * proof's shape: neighbours, both ends, and the index with any one bit flipped.
 */
START_TEST(inclusion_proof_fails_for_any_other_index)
{
        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++)
                for (uint64_t x = 0; x < n; x++) {
                        const Hash *path;
                        const Proof *p = incl_proof(x, n, &path);

                        if (n <= ALL_OTHER_INDICES_UP_TO) {
                                for (uint64_t o = 0; o < n; o++)
                                        check_other_index(x, n, o, path, p->count);
                                continue;
                        }
                        for (uint64_t d = 1; d <= 3; d++) {
                                check_other_index(x, n, x + d, path, p->count);
                                check_other_index(x, n, x - d, path, p->count);
                                check_other_index(x, n, d - 1, path, p->count);
                                check_other_index(x, n, n - d, path, p->count);
                        }
                        for (unsigned bit = 0; bit < 9; bit++)
                                check_other_index(x, n, x ^ (UINT64_C(1) << bit), path, p->count);
                }
}
END_TEST

/*
 * A changed size must be rejected against the root of the claimed size. Against
 * the original root, RFC 9162 §2.1.3.2 accepts exactly when the claimed size
 * combines the same elements in the same order (e.g. leaf 0 of 3 leaves also
 * "verifies" as leaf 0 of 4): an inclusion proof binds the root, and the size
 * only as far as the shape goes. Check that against the reference recursion.
 */
START_TEST(inclusion_proof_fails_when_the_tree_size_changes_by_one)
{
        unsigned accepted = 0;

        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++)
                for (uint64_t x = 0; x < n; x++) {
                        const Hash *path;
                        const Proof *p = incl_proof(x, n, &path);
                        uint64_t sizes[] = {n - 1, n + 1};

                        for (size_t z = 0; z < ELEMENTSOF(sizes); z++) {
                                uint64_t s = sizes[z];
                                int r, ref;

                                r = ls_verify_inclusion(x, s, leaves[x], path, p->count, roots[s]);
                                CHECK(REJECTED(r), "(%d, %d) accepted as size %d: %d", (int) x,
                                      (int) n, (int) s, r);

                                r = ls_verify_inclusion(x, s, leaves[x], path, p->count, roots[n]);
                                ref = ref_verify_inclusion(x, s, leaves[x], path, p->count,
                                                           roots[n]);
                                CHECK(r == 0 ? ref == 0 : REJECTED(r) && ref != 0,
                                      "(%d, %d) as size %d against the old root: %d, ref %d",
                                      (int) x, (int) n, (int) s, r, ref);
                                accepted += r == 0;
                        }
                }
        ck_assert_uint_gt(accepted, 0);
}
END_TEST

START_TEST(inclusion_proof_binds_the_root_not_the_exact_size)
{
        const Hash *path;
        const Proof *p = incl_proof(0, 3, &path);

        ck_assert_int_eq(ls_verify_inclusion(0, 4, leaves[0], path, p->count, roots[3]), 0);
        ck_assert_int_eq(ls_verify_inclusion(0, 4, leaves[0], path, p->count, roots[4]), -EILSEQ);
}
END_TEST

START_TEST(inclusion_proof_fails_when_an_element_is_added_or_removed)
{
        Hash path[LS_MAX_INCLUSION_PROOF + 1];

        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++)
                for (uint64_t x = 0; x < n; x++) {
                        const Hash *orig;
                        const Proof *p = incl_proof(x, n, &orig);
                        unsigned c = p->count;
                        int r;

                        /* Appended: a copy of the root, the last element, or zeros. */
                        memcpy(path, orig, c * sizeof(Hash));
                        memcpy(path[c], roots[n], LS_HASH_LEN);
                        r = ls_verify_inclusion(x, n, leaves[x], (const Hash *) path, c + 1,
                                                roots[n]);
                        CHECK(r == -EBADMSG, "(%d, %d) + root: %d", (int) x, (int) n, r);
                        memset(path[c], 0, LS_HASH_LEN);
                        r = ls_verify_inclusion(x, n, leaves[x], (const Hash *) path, c + 1,
                                                roots[n]);
                        CHECK(r == -EBADMSG, "(%d, %d) + zeros: %d", (int) x, (int) n, r);

                        /* Prepended. */
                        memcpy(path[0], leaves[x], LS_HASH_LEN);
                        memcpy(path + 1, orig, c * sizeof(Hash));
                        r = ls_verify_inclusion(x, n, leaves[x], (const Hash *) path, c + 1,
                                                roots[n]);
                        CHECK(r == -EBADMSG, "leaf + (%d, %d): %d", (int) x, (int) n, r);

                        if (c == 0)
                                continue;
                        /* Removed: first, last, or any one in between. */
                        for (unsigned y = 0; y < c; y++) {
                                memcpy(path, orig, y * sizeof(Hash));
                                memcpy(path + y, orig + y + 1, (c - y - 1) * sizeof(Hash));
                                r = ls_verify_inclusion(x, n, leaves[x], (const Hash *) path, c - 1,
                                                        roots[n]);
                                CHECK(r == -EBADMSG, "(%d, %d) without element %u: %d", (int) x,
                                      (int) n, y, r);
                        }
                }
}
END_TEST

START_TEST(inclusion_proof_fails_for_another_leaf_or_root)
{
        Hash h;

        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++)
                for (uint64_t x = 0; x < n; x++) {
                        const Hash *path;
                        const Proof *p = incl_proof(x, n, &path);
                        int r;

                        r = ls_verify_inclusion(x, n, leaves[(x + 1) % N_LEAVES], path, p->count,
                                                roots[n]);
                        CHECK(r == -EILSEQ, "(%d, %d) with another leaf: %d", (int) x, (int) n, r);
                        memcpy(h, leaves[x], LS_HASH_LEN);
                        flip_bit(h, (unsigned) (x + n) % 256);
                        r = ls_verify_inclusion(x, n, h, path, p->count, roots[n]);
                        CHECK(r == -EILSEQ, "(%d, %d) with a flipped leaf: %d", (int) x, (int) n,
                              r);
                        memcpy(h, roots[n], LS_HASH_LEN);
                        flip_bit(h, (unsigned) (x * 3) % 256);
                        r = ls_verify_inclusion(x, n, leaves[x], path, p->count, h);
                        CHECK(r == -EILSEQ, "(%d, %d) with a flipped root: %d", (int) x, (int) n,
                              r);
                }
}
END_TEST

START_TEST(inclusion_rejects_an_index_at_or_beyond_the_size)
{
        Leaves l = all_leaves();
        Hash path[LS_MAX_INCLUSION_PROOF];
        unsigned count = 77;

        ck_assert_int_eq(ls_verify_inclusion(5, 5, leaves[5], NULL, 0, roots[5]), -EBADMSG);
        ck_assert_int_eq(ls_verify_inclusion(5, 5, leaves[5], NULL, 3, roots[5]), -EBADMSG);
        ck_assert_int_eq(ls_verify_inclusion(0, 0, leaves[0], NULL, 0, roots[0]), -EBADMSG);
        ck_assert_int_eq(ls_verify_inclusion(UINT64_MAX, 5, leaves[0], NULL, 0, roots[5]),
                         -EBADMSG);
        ck_assert_int_eq(ls_inclusion_proof(get_leaf, &l, 5, 5, path, &count), -EINVAL);
        ck_assert_int_eq(ls_inclusion_proof(get_leaf, &l, 0, 0, path, &count), -EINVAL);
        ck_assert_uint_eq(count, 77);
        ck_assert_uint_eq(l.fetched, 0);
}
END_TEST

START_TEST(proof_generation_passes_on_leaf_callback_errors)
{
        Hash out[LS_MAX_CONSISTENCY_PROOF];
        unsigned count = 77;

        for (uint64_t fail = 0; fail < 13; fail++) {
                Leaves l = all_leaves();

                l.fail_at = fail;
                ck_assert_int_eq(ls_merkle_subtree_hash(get_leaf, &l, 0, 13, out[0]), -EIO);
                ck_assert_int_eq(ls_inclusion_proof(get_leaf, &l, (fail + 1) % 13, 13, out, &count),
                                 -EIO);
                ck_assert_int_eq(ls_consistency_proof(get_leaf, &l, 5, 13, out, &count), -EIO);
        }
        ck_assert_uint_eq(count, 77);
}
END_TEST

TCase *tcase_inclusion(void)
{
        TCase *tc = tcase_new("inclusion");

        tcase_add_test(tc, inclusion_proofs_verify_for_every_leaf_of_every_size_1_to_300);
        tcase_add_test(tc, inclusion_proof_fails_when_any_element_has_a_bit_flipped);
        tcase_add_test(tc, inclusion_proof_fails_for_any_other_index);
        tcase_add_test(tc, inclusion_proof_fails_when_the_tree_size_changes_by_one);
        tcase_add_test(tc, inclusion_proof_binds_the_root_not_the_exact_size);
        tcase_add_test(tc, inclusion_proof_fails_when_an_element_is_added_or_removed);
        tcase_add_test(tc, inclusion_proof_fails_for_another_leaf_or_root);
        tcase_add_test(tc, inclusion_rejects_an_index_at_or_beyond_the_size);
        tcase_add_test(tc, proof_generation_passes_on_leaf_callback_errors);
        return tc;
}
