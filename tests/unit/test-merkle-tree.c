/* SPDX-License-Identifier: Apache-2.0 */
/* test-merkle, tree hashes and proof lengths (the suite is in test-merkle.c) */
#include "test-merkle.h"

/* ---- tree hashes ---- */

START_TEST(empty_tree_root_is_sha256_of_the_empty_string)
{
        Leaves l = all_leaves();
        LsMerkle m;
        Hash h;

        ls_merkle_init(&m);
        ck_assert_uint_eq(m.size, 0);
        ck_assert_uint_eq(m.n, 0);
        ls_merkle_root(&m, h);
        check_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "root");

        ck_assert_int_eq(ls_merkle_subtree_hash(get_leaf, &l, 7, 7, h), 0);
        check_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "subtree");
        ck_assert_uint_eq(l.fetched, 0);
}
END_TEST

START_TEST(incremental_root_equals_naive_mth_for_every_size_0_to_300)
{
        Leaves l = all_leaves();
        LsMerkle m;
        Hash h;

        ls_merkle_init(&m);
        for (uint64_t n = 0; n <= MAX_INCL_SIZE; n++) {
                ck_assert_uint_eq(m.size, n);
                ck_assert_uint_eq(m.n, (unsigned) __builtin_popcountll(n));
                ls_merkle_root(&m, h);
                ck_assert_msg(memcmp(h, roots[n], LS_HASH_LEN) == 0, "root of size %llu",
                              (unsigned long long) n);

                ck_assert_int_eq(ls_merkle_subtree_hash(get_leaf, &l, 0, n, h), 0);
                ck_assert_msg(memcmp(h, roots[n], LS_HASH_LEN) == 0, "subtree [0, %llu)",
                              (unsigned long long) n);

                ck_assert_int_eq(ls_merkle_append(&m, leaves[n]), 0);
        }
}
END_TEST

START_TEST(subtree_hash_equals_naive_mth_of_every_range_and_reads_each_leaf_once)
{
        for (uint64_t s = 0; s <= 70; s++)
                for (uint64_t e = s; e <= 70; e++) {
                        Leaves l = all_leaves();
                        Hash got, want;

                        naive_mth((const Hash *) leaves + s, e - s, want);
                        CHECK(ls_merkle_subtree_hash(get_leaf, &l, s, e, got) == 0, "[%d, %d)",
                              (int) s, (int) e);
                        CHECK(memcmp(got, want, LS_HASH_LEN) == 0, "MTH of [%d, %d)", (int) s,
                              (int) e);
                        CHECK(l.fetched == e - s, "[%d, %d) fetched %d leaves", (int) s, (int) e,
                              (int) l.fetched);
                }
}
END_TEST

START_TEST(subtree_hash_rejects_a_reversed_range)
{
        Leaves l = all_leaves();
        Hash h;

        ck_assert_int_eq(ls_merkle_subtree_hash(get_leaf, &l, 5, 4, h), -EINVAL);
}
END_TEST

/*
 * Expected values computed offline with coreutils sha256sum, on the leaf
 * inputs of the RFC 6962 reference implementation's tests (the results equal
 * its published roots):
 *
 *   h() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')" | sha256sum | cut -c1-64; }
 *   leaf() { h "00$1"; }          # leaf = H(0x00 || data)
 *   node() { h "01$1$2"; }        # node = H(0x01 || left || right)
 *   l0=$(leaf "") l1=$(leaf 00) l2=$(leaf 10) l3=$(leaf 2021) l4=$(leaf 3031)
 *   l5=$(leaf 40414243) l6=$(leaf 5051525354555657) l7=$(leaf 606162636465666768696a6b6c6d6e6f)
 *   n01=$(node $l0 $l1) n23=$(node $l2 $l3) n45=$(node $l4 $l5) n67=$(node $l6 $l7)
 *   n03=$(node $n01 $n23) n47=$(node $n45 $n67)
 *   size1: $l0               size2: $n01                       size3: $(node $n01 $l2)
 *   size4: $n03              size5: $(node $n03 $l4)           size6: $(node $n03 $n45)
 *   size7: $(node $n03 $(node $n45 $l6))                       size8: $(node $n03 $n47)
 */
static const char *const kat_data[8] = {
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
};
static const char *const kat_root[9] = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", /* H("") */
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
#define KAT_L0 "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
#define KAT_L1 "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
#define KAT_L2 "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"
#define KAT_L3 "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"
#define KAT_L4 "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
#define KAT_N01 "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
#define KAT_N23 "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
#define KAT_N03 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"

static void kat_leaves(Hash out[8])
{
        for (unsigned i = 0; i < 8; i++) {
                uint8_t d[16];
                size_t n = strlen(kat_data[i]) / 2;

                ck_assert_int_eq(sodium_hex2bin(d, sizeof(d), kat_data[i], 2 * n, NULL, NULL, NULL),
                                 0);
                t_leaf(out[i], d, n);
        }
}

START_TEST(tree_hashes_match_values_computed_with_sha256sum)
{
        Hash lv[8], h;
        Leaves l = {.h = (const Hash *) lv, .n = 8, .fail_at = UINT64_MAX};
        LsMerkle m;

        kat_leaves(lv);
        check_hex(lv[0], KAT_L0, "leaf 0");
        check_hex(lv[1], KAT_L1, "leaf 1");
        check_hex(lv[2], KAT_L2, "leaf 2");
        check_hex(lv[3], KAT_L3, "leaf 3");
        check_hex(lv[4], KAT_L4, "leaf 4");
        ls_node_hash(h, lv[0], lv[1]);
        check_hex(h, KAT_N01, "node 0..1");
        ls_node_hash(h, lv[2], lv[3]);
        check_hex(h, KAT_N23, "node 2..3");

        ls_merkle_init(&m);
        for (unsigned n = 0; n <= 8; n++) {
                char what[32];

                snprintf(what, sizeof(what), "incremental root of size %u", n);
                ls_merkle_root(&m, h);
                check_hex(h, kat_root[n], what);

                snprintf(what, sizeof(what), "subtree hash of size %u", n);
                ck_assert_int_eq(ls_merkle_subtree_hash(get_leaf, &l, 0, n, h), 0);
                check_hex(h, kat_root[n], what);

                if (n < 8)
                        ck_assert_int_eq(ls_merkle_append(&m, lv[n]), 0);
        }
}
END_TEST

START_TEST(proofs_match_values_computed_with_sha256sum)
{
        Hash lv[8], path[LS_MAX_INCLUSION_PROOF], proof[LS_MAX_CONSISTENCY_PROOF], r3, r5;
        Leaves l = {.h = (const Hash *) lv, .n = 8, .fail_at = UINT64_MAX};
        unsigned count;

        kat_leaves(lv);
        ck_assert_int_eq(sodium_hex2bin(r3, LS_HASH_LEN, kat_root[3], 64, NULL, NULL, NULL), 0);
        ck_assert_int_eq(sodium_hex2bin(r5, LS_HASH_LEN, kat_root[5], 64, NULL, NULL, NULL), 0);

        /* PATH(2, D[5]) = PATH(0, D[2:3]) : l3 : n01 : l4, leaf upward */
        ck_assert_int_eq(ls_inclusion_proof(get_leaf, &l, 2, 5, path, &count), 0);
        ck_assert_uint_eq(count, 3);
        check_hex(path[0], KAT_L3, "PATH(2, D[5])[0]");
        check_hex(path[1], KAT_N01, "PATH(2, D[5])[1]");
        check_hex(path[2], KAT_L4, "PATH(2, D[5])[2]");
        ck_assert_int_eq(ls_verify_inclusion(2, 5, lv[2], (const Hash *) path, count, r5), 0);

        /* PROOF(3, D[5]) = [l2, l3, n01, l4] */
        ck_assert_int_eq(ls_consistency_proof(get_leaf, &l, 3, 5, proof, &count), 0);
        ck_assert_uint_eq(count, 4);
        check_hex(proof[0], KAT_L2, "PROOF(3, D[5])[0]");
        check_hex(proof[1], KAT_L3, "PROOF(3, D[5])[1]");
        check_hex(proof[2], KAT_N01, "PROOF(3, D[5])[2]");
        check_hex(proof[3], KAT_L4, "PROOF(3, D[5])[3]");
        ck_assert_int_eq(ls_verify_consistency(3, 5, r3, r5, (const Hash *) proof, count), 0);
}
END_TEST

/* The worked example of RFC 9162 §2.1.5 (a tree of seven leaves d0..d6). */
START_TEST(proofs_follow_the_rfc9162_worked_example)
{
        Leaves l = all_leaves();
        const Hash *a = &leaves[0], *b = &leaves[1], *c = &leaves[2], *d = &leaves[3];
        const Hash *e = &leaves[4], *f = &leaves[5], *j = &leaves[6];
        Hash g, h, i, k, lt, out[LS_MAX_CONSISTENCY_PROOF];
        unsigned count;
        struct {
                uint64_t x, n;
                int consistency;
                unsigned count;
                const uint8_t *want[4];
        } cases[] = {
                {0, 7, 0, 3, {*b, h, lt}}, {3, 7, 0, 3, {*c, g, lt}},     {4, 7, 0, 3, {*f, *j, k}},
                {6, 7, 0, 2, {i, k}},      {3, 7, 1, 4, {*c, *d, g, lt}}, {4, 7, 1, 1, {lt}},
                {6, 7, 1, 3, {i, *j, k}},
        };

        /* The table above points at g, h, i, k and lt; fill them in. */
        t_node(g, *a, *b);
        t_node(h, *c, *d);
        t_node(i, *e, *f);
        t_node(k, g, h);
        t_node(lt, i, *j);

        for (size_t x = 0; x < ELEMENTSOF(cases); x++) {
                if (cases[x].consistency)
                        ck_assert_int_eq(ls_consistency_proof(get_leaf, &l, cases[x].x, cases[x].n,
                                                              out, &count),
                                         0);
                else
                        ck_assert_int_eq(ls_inclusion_proof(get_leaf, &l, cases[x].x, cases[x].n,
                                                            out, &count),
                                         0);
                ck_assert_uint_eq(count, cases[x].count);
                for (unsigned y = 0; y < count; y++)
                        ck_assert_msg(memcmp(out[y], cases[x].want[y], LS_HASH_LEN) == 0,
                                      "case %zu element %u", x, y);
        }
}
END_TEST

START_TEST(append_refuses_to_grow_the_tree_beyond_2_pow_63_leaves)
{
        static LsMerkle m; /* 2 KiB, keep it off the stack */
        Hash leaf, want, h;

        /* A tree of 2^63 - 1 leaves has 63 peaks; the next leaf merges all of them. */
        ls_merkle_init(&m);
        m.size = (UINT64_C(1) << 63) - 1;
        m.n = 63;
        for (unsigned x = 0; x < 63; x++)
                memcpy(m.peaks[x], leaves[x], LS_HASH_LEN);
        memcpy(leaf, leaves[63], LS_HASH_LEN);

        memcpy(want, leaf, LS_HASH_LEN);
        for (unsigned x = 63; x > 0; x--) {
                t_node(h, leaves[x - 1], want);
                memcpy(want, h, LS_HASH_LEN);
        }
        ls_merkle_root(&m, h);
        ck_assert_mem_ne(h, want, LS_HASH_LEN);

        ck_assert_int_eq(ls_merkle_append(&m, leaf), 0);
        ck_assert_uint_eq(m.size, UINT64_C(1) << 63);
        ck_assert_uint_eq(m.n, 1);
        ls_merkle_root(&m, h);
        ck_assert_mem_eq(h, want, LS_HASH_LEN);

        ck_assert_int_eq(ls_merkle_append(&m, leaf), -EOVERFLOW);
        ck_assert_uint_eq(m.size, UINT64_C(1) << 63);
        ck_assert_uint_eq(m.n, 1);
        ls_merkle_root(&m, h);
        ck_assert_mem_eq(h, want, LS_HASH_LEN);
}
END_TEST

/* ---- proof lengths ---- */

START_TEST(proof_lengths_equal_the_rfc_recursions)
{
        static const uint64_t big[] = {
                1,
                2,
                3,
                (UINT64_C(1) << 32) - 1,
                UINT64_C(1) << 32,
                (UINT64_C(1) << 32) + 1,
                (UINT64_C(1) << 62) + 1,
                (UINT64_C(1) << 63) - 1,
                UINT64_C(1) << 63,
                (UINT64_C(1) << 63) + 1,
                UINT64_MAX - 1,
                UINT64_MAX,
        };
        unsigned max_incl = 0, max_cons = 0;

        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++)
                for (uint64_t x = 0; x < n; x++) {
                        CHECK(ls_inclusion_proof_len(x, n) == ref_path_len(x, n),
                              "inclusion (%d, %d)", (int) x, (int) n);
                        CHECK(ls_consistency_proof_len(x + 1, n) == ref_subproof_len(x + 1, n, 1),
                              "consistency (%d, %d)", (int) x + 1, (int) n);
                }

        /* The decoder's maxima hold for every size a u64 can express. */
        for (size_t x = 0; x < ELEMENTSOF(big); x++)
                for (size_t y = 0; y < ELEMENTSOF(big); y++) {
                        uint64_t s1 = big[x], s2 = big[y], idx[] = {0, s1 / 2, s1 - 1};

                        for (size_t z = 0; z < ELEMENTSOF(idx) && s1 <= s2; z++) {
                                unsigned len = ls_inclusion_proof_len(idx[z], s2);

                                ck_assert_uint_eq(len, ref_path_len(idx[z], s2));
                                max_incl = MAX(max_incl, len);
                        }
                        if (s1 <= s2) {
                                unsigned len = ls_consistency_proof_len(s1, s2);

                                ck_assert_uint_eq(len, ref_subproof_len(s1, s2, 1));
                                max_cons = MAX(max_cons, len);
                        }
                }
        ck_assert_uint_eq(ls_inclusion_proof_len(0, UINT64_MAX), 64);
        ck_assert_uint_eq(ls_inclusion_proof_len(UINT64_MAX - 1, UINT64_MAX), 63);
        ck_assert_uint_le(max_incl, LS_MAX_INCLUSION_PROOF);
        ck_assert_uint_le(max_cons, LS_MAX_CONSISTENCY_PROOF);
}
END_TEST

TCase *tcase_tree(void)
{
        TCase *tc = tcase_new("tree");

        tcase_add_test(tc, empty_tree_root_is_sha256_of_the_empty_string);
        tcase_add_test(tc, incremental_root_equals_naive_mth_for_every_size_0_to_300);
        tcase_add_test(tc, subtree_hash_equals_naive_mth_of_every_range_and_reads_each_leaf_once);
        tcase_add_test(tc, subtree_hash_rejects_a_reversed_range);
        tcase_add_test(tc, tree_hashes_match_values_computed_with_sha256sum);
        tcase_add_test(tc, proofs_match_values_computed_with_sha256sum);
        tcase_add_test(tc, proofs_follow_the_rfc9162_worked_example);
        tcase_add_test(tc, append_refuses_to_grow_the_tree_beyond_2_pow_63_leaves);
        tcase_add_test(tc, proof_lengths_equal_the_rfc_recursions);
        return tc;
}
