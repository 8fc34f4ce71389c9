/* SPDX-License-Identifier: Apache-2.0 */
/* test-merkle.c: RFC 9162 tree hashes, inclusion and consistency proofs, proof encodings */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hash.h"
#include "merkle.h"
#include "util.h"

/*
 * ck_assert() reports every passing check to the parent process; the
 * exhaustive loops below make millions of checks, so only report failures.
 */
#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                if (_unlikely_(!(cond)))                                                           \
                        ck_abort_msg(__VA_ARGS__);                                                 \
        } while (0)

#define REJECTED(r) ((r) == -EILSEQ || (r) == -EBADMSG)

#define MAX_INCL_SIZE 300 /* inclusion proofs: every leaf of every size 1..300 */
#define MAX_CONS_SIZE 100 /* consistency proofs: every pair 1 <= m <= n <= 100 */
#define N_LEAVES (MAX_INCL_SIZE + 2)
#define ALL_OTHER_INDICES_UP_TO 100 /* see inclusion_fails_for_any_other_index */

typedef uint8_t Hash[LS_HASH_LEN];

/* ---- independent reference: raw SHA-256, the RFC's recursive definitions ---- */

static void t_leaf(Hash out, const uint8_t *data, size_t n)
{
        uint8_t buf[1 + 64];

        if (n > 64)
                abort();
        buf[0] = 0x00;
        if (n > 0)
                memcpy(buf + 1, data, n);
        crypto_hash_sha256(out, buf, 1 + n);
}

static void t_node(Hash out, const Hash l, const Hash r)
{
        uint8_t buf[1 + 2 * LS_HASH_LEN];

        buf[0] = 0x01;
        memcpy(buf + 1, l, LS_HASH_LEN);
        memcpy(buf + 1 + LS_HASH_LEN, r, LS_HASH_LEN);
        crypto_hash_sha256(out, buf, sizeof(buf));
}

/* k of RFC 9162 §2.1.1: the largest power of two smaller than n (n >= 2). */
static uint64_t t_split(uint64_t n)
{
        uint64_t k = 1;

        while (k < n - k)
                k <<= 1;
        return k;
}

/* MTH(D[n]) straight from the definition. */
static void naive_mth(const Hash *lv, uint64_t n, Hash out)
{
        Hash l, r;
        uint64_t k;

        if (n == 0) {
                crypto_hash_sha256(out, (const uint8_t *) "", 0);
                return;
        }
        if (n == 1) {
                memcpy(out, lv[0], LS_HASH_LEN);
                return;
        }
        k = t_split(n);
        naive_mth(lv, k, l);
        naive_mth(lv + k, n - k, r);
        t_node(out, l, r);
}

/* Number of elements of PATH(i, D[n]) (§2.1.3.1) by its recursion. */
static unsigned ref_path_len(uint64_t i, uint64_t n)
{
        uint64_t k;

        if (n <= 1)
                return 0;
        k = t_split(n);
        return 1 + (i < k ? ref_path_len(i, k) : ref_path_len(i - k, n - k));
}

/* Number of elements of SUBPROOF(m, D[n], b) (§2.1.4.1) by its recursion. */
static unsigned ref_subproof_len(uint64_t m, uint64_t n, int b)
{
        uint64_t k;

        if (m == n)
                return b ? 0 : 1;
        k = t_split(n);
        return 1 + (m <= k ? ref_subproof_len(m, k, b) : ref_subproof_len(m - k, n - k, 0));
}

/*
 * Reference inclusion verifier: rebuilds the root along the recursion of
 * PATH(i, D[n]), whose last element is the sibling at the top split.
 */
static int ref_incl(uint64_t i, uint64_t n, const Hash leaf, const Hash *path, unsigned *pos,
                    Hash out)
{
        Hash sub;
        unsigned me;
        uint64_t k;

        if (n == 1) {
                memcpy(out, leaf, LS_HASH_LEN);
                return 0;
        }
        if (*pos == 0)
                return -1;
        me = --*pos;
        k = t_split(n);
        if (i < k) {
                if (ref_incl(i, k, leaf, path, pos, sub) < 0)
                        return -1;
                t_node(out, sub, path[me]);
        } else {
                if (ref_incl(i - k, n - k, leaf, path, pos, sub) < 0)
                        return -1;
                t_node(out, path[me], sub);
        }
        return 0;
}

static int ref_verify_inclusion(uint64_t i, uint64_t n, const Hash leaf, const Hash *path,
                                unsigned count, const Hash root)
{
        unsigned pos = count;
        Hash r;

        if (i >= n || ref_incl(i, n, leaf, path, &pos, r) < 0 || pos != 0)
                return -1;
        return memcmp(r, root, LS_HASH_LEN) == 0 ? 0 : -1;
}

/*
 * Reference consistency verifier: follows SUBPROOF(m, D[n], b) and computes
 * the old root (of the first m leaves) and the new root side by side.
 */
static int ref_cons(uint64_t m, uint64_t n, int b, const Hash root1, const Hash *proof,
                    unsigned *pos, Hash old, Hash new)
{
        Hash o, nw;
        unsigned me;
        uint64_t k;

        if (m == n) {
                if (b) {
                        memcpy(old, root1, LS_HASH_LEN);
                        memcpy(new, root1, LS_HASH_LEN);
                        return 0;
                }
                if (*pos == 0)
                        return -1;
                me = --*pos;
                memcpy(old, proof[me], LS_HASH_LEN);
                memcpy(new, proof[me], LS_HASH_LEN);
                return 0;
        }
        if (*pos == 0)
                return -1;
        me = --*pos;
        k = t_split(n);
        if (m <= k) {
                if (ref_cons(m, k, b, root1, proof, pos, o, nw) < 0)
                        return -1;
                memcpy(old, o, LS_HASH_LEN);
                t_node(new, nw, proof[me]);
        } else {
                if (ref_cons(m - k, n - k, 0, root1, proof, pos, o, nw) < 0)
                        return -1;
                t_node(old, proof[me], o);
                t_node(new, proof[me], nw);
        }
        return 0;
}

static int ref_verify_consistency(uint64_t m, uint64_t n, const Hash root1, const Hash root2,
                                  const Hash *proof, unsigned count)
{
        unsigned pos = count;
        Hash o, nw;

        if (m == 0 || m > n || ref_cons(m, n, 1, root1, proof, &pos, o, nw) < 0 || pos != 0)
                return -1;
        return memcmp(o, root1, LS_HASH_LEN) == 0 && memcmp(nw, root2, LS_HASH_LEN) == 0 ? 0 : -1;
}

/*
 * ---- fixture: leaves, naive roots, every proof generated once ----
 * An unchecked fixture runs in the runner process, before the tests fork, so
 * the ~9M node hashes of generating 45150 inclusion proofs are paid only once.
 * The tests check the generated proofs (rc, count, elements) themselves.
 */

typedef struct Leaves {
        const Hash *h;
        uint64_t n;
        uint64_t fetched;
        uint64_t fail_at; /* return -EIO when this index is fetched */
} Leaves;

static int get_leaf(void *userdata, uint64_t index, uint8_t out[LS_HASH_LEN])
{
        Leaves *l = userdata;

        if (index >= l->n)
                return -ERANGE;
        if (index == l->fail_at)
                return -EIO;
        l->fetched++;
        memcpy(out, l->h[index], LS_HASH_LEN);
        return 0;
}

typedef struct Proof {
        size_t off; /* into the element pool */
        unsigned count;
        int rc;
} Proof;

static Hash leaves[N_LEAVES];
static Hash roots[N_LEAVES + 1]; /* roots[n] = naive MTH of the first n leaves */
static Proof *incl;              /* [tri(n) + i] for 1 <= n <= MAX_INCL_SIZE */
static Hash *incl_pool;
static Proof *cons; /* [tri(n) + m - 1] for 1 <= m <= n <= MAX_CONS_SIZE */
static Hash *cons_pool;
static int fixture_ready;

static size_t tri(uint64_t n)
{
        return (size_t) (n * (n - 1) / 2);
}

static Leaves all_leaves(void)
{
        return (Leaves){.h = (const Hash *) leaves, .n = N_LEAVES, .fail_at = UINT64_MAX};
}

static void make_leaves(void)
{
        for (uint64_t i = 0; i < N_LEAVES; i++) {
                uint8_t d[8];

                ls_put64(d, i);
                t_leaf(leaves[i], d, sizeof(d));
        }
        for (uint64_t n = 0; n <= N_LEAVES; n++)
                naive_mth((const Hash *) leaves, n, roots[n]);
}

static void setup_all(void)
{
        Leaves l = all_leaves();
        size_t total = 0, used = 0;

        if (fixture_ready)
                return;
        make_leaves();

        incl = calloc(tri(MAX_INCL_SIZE + 1), sizeof(*incl));
        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++)
                for (uint64_t i = 0; i < n; i++)
                        total += ref_path_len(i, n);
        incl_pool = calloc(total + LS_MAX_INCLUSION_PROOF, sizeof(Hash));
        CHECK(incl && incl_pool, "out of memory");
        for (uint64_t n = 1; n <= MAX_INCL_SIZE; n++)
                for (uint64_t i = 0; i < n; i++) {
                        Proof *p = &incl[tri(n) + i];

                        p->off = used;
                        p->rc = ls_inclusion_proof(get_leaf, &l, i, n, incl_pool + used, &p->count);
                        if (p->rc == 0)
                                used += ref_path_len(i, n);
                        CHECK(used <= total, "inclusion proof pool overrun");
                }

        total = used = 0;
        cons = calloc(tri(MAX_CONS_SIZE + 1), sizeof(*cons));
        for (uint64_t n = 1; n <= MAX_CONS_SIZE; n++)
                for (uint64_t m = 1; m <= n; m++)
                        total += ref_subproof_len(m, n, 1);
        cons_pool = calloc(total + LS_MAX_CONSISTENCY_PROOF, sizeof(Hash));
        CHECK(cons && cons_pool, "out of memory");
        for (uint64_t n = 1; n <= MAX_CONS_SIZE; n++)
                for (uint64_t m = 1; m <= n; m++) {
                        Proof *p = &cons[tri(n) + m - 1];

                        p->off = used;
                        p->rc = ls_consistency_proof(get_leaf, &l, m, n, cons_pool + used,
                                                     &p->count);
                        if (p->rc == 0)
                                used += ref_subproof_len(m, n, 1);
                        CHECK(used <= total, "consistency proof pool overrun");
                }
        fixture_ready = 1;
}

static void free_all(void)
{
        free(incl);
        free(incl_pool);
        free(cons);
        free(cons_pool);
}

static const Proof *incl_proof(uint64_t i, uint64_t n, const Hash **path)
{
        const Proof *p = &incl[tri(n) + i];

        CHECK(p->rc == 0, "inclusion proof (%llu, %llu) failed to generate: %d",
              (unsigned long long) i, (unsigned long long) n, p->rc);
        *path = (const Hash *) incl_pool + p->off;
        return p;
}

static const Proof *cons_proof(uint64_t m, uint64_t n, const Hash **proof)
{
        const Proof *p = &cons[tri(n) + m - 1];

        CHECK(p->rc == 0, "consistency proof (%llu, %llu) failed to generate: %d",
              (unsigned long long) m, (unsigned long long) n, p->rc);
        *proof = (const Hash *) cons_pool + p->off;
        return p;
}

static void flip_bit(uint8_t *p, unsigned bit)
{
        p[bit / 8] ^= (uint8_t) (1u << (bit % 8));
}

static void check_hex(const uint8_t h[LS_HASH_LEN], const char *want, const char *what)
{
        char got[2 * LS_HASH_LEN + 1];

        sodium_bin2hex(got, sizeof(got), h, LS_HASH_LEN);
        ck_assert_msg(strcmp(got, want) == 0, "%s: got %s, want %s", what, got, want);
}

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

/* ---- proof encodings (SPEC §5.1) ---- */

static size_t encode(uint8_t kind, uint64_t a, uint64_t b, const Hash *path, unsigned count,
                     uint8_t *out, size_t cap)
{
        LsProof p = {.kind = kind, .count = count, .a = a, .b = b, .path = (const uint8_t *) path};
        size_t len = 0;

        ck_assert_int_eq(ls_proof_encode(&p, out, cap, &len), 0);
        ck_assert_uint_eq(len, LS_PROOF_HDR_LEN + (size_t) count * LS_HASH_LEN);
        return len;
}

START_TEST(proof_encoding_round_trips)
{
        static uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        static const uint64_t pairs[][2] = {{0, 1}, {0, 2}, {6, 7},    {99, 300}, {1, 1},
                                            {1, 2}, {3, 7}, {63, 100}, {100, 100}};

        for (size_t z = 0; z < ELEMENTSOF(pairs); z++) {
                uint8_t kind = z < 4 ? LS_PROOF_INCLUSION : LS_PROOF_CONSISTENCY;
                uint64_t a = pairs[z][0], b = pairs[z][1];
                const Hash *path;
                const Proof *p = kind == LS_PROOF_INCLUSION ? incl_proof(a, b, &path)
                                                            : cons_proof(a, b, &path);
                LsProof d;
                size_t len;

                len = encode(kind, a, b, path, p->count, buf, sizeof(buf));
                ck_assert_uint_eq(buf[0], kind);
                ck_assert_uint_eq(buf[1], p->count);
                ck_assert_uint_eq(buf[2], 0);
                ck_assert_uint_eq(buf[3], 0);
                ck_assert_uint_eq(ls_get64(buf + 4), a);
                ck_assert_uint_eq(ls_get64(buf + 12), b);
                ck_assert_uint_eq(buf[4], (uint8_t) a); /* little-endian */
                ck_assert_uint_eq(buf[12], (uint8_t) b);
                if (p->count > 0)
                        ck_assert_mem_eq(buf + LS_PROOF_HDR_LEN, path, p->count * sizeof(Hash));

                ck_assert_int_eq(ls_proof_decode(&d, buf, len), 0);
                ck_assert_uint_eq(d.kind, kind);
                ck_assert_uint_eq(d.count, p->count);
                ck_assert_uint_eq(d.a, a);
                ck_assert_uint_eq(d.b, b);
                ck_assert_ptr_eq(d.path, buf + LS_PROOF_HDR_LEN);

                /* The decoded proof verifies. */
                if (kind == LS_PROOF_INCLUSION)
                        ck_assert_int_eq(ls_verify_inclusion(d.a, d.b, leaves[a],
                                                             (const uint8_t(*)[LS_HASH_LEN]) d.path,
                                                             d.count, roots[b]),
                                         0);
                else
                        ck_assert_int_eq(ls_verify_consistency(
                                                 d.a, d.b, roots[a], roots[b],
                                                 (const uint8_t(*)[LS_HASH_LEN]) d.path, d.count),
                                         0);
        }
}
END_TEST

START_TEST(proof_encoding_of_a_large_tree_round_trips)
{
        Hash path[LS_MAX_INCLUSION_PROOF];
        uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_INCLUSION_PROOF * LS_HASH_LEN];
        LsProof d;
        size_t len;

        /* 64 elements, the most an inclusion proof can have; the hashes are arbitrary. */
        memcpy(path, leaves, sizeof(path));
        len = encode(LS_PROOF_INCLUSION, 0, UINT64_MAX, (const Hash *) path, 64, buf, sizeof(buf));
        ck_assert_uint_eq(len, sizeof(buf));
        ck_assert_int_eq(ls_proof_decode(&d, buf, len), 0);
        ck_assert_uint_eq(d.count, 64);
        ck_assert_uint_eq(d.a, 0);
        ck_assert_uint_eq(d.b, UINT64_MAX);
        ck_assert_mem_eq(d.path, path, sizeof(path));
}
END_TEST

START_TEST(proof_decode_rejects_truncated_input_as_missing_data)
{
        uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        const Hash *path;
        const Proof *p = incl_proof(17, 300, &path);
        const Proof *q;
        size_t len;
        LsProof d;

        len = encode(LS_PROOF_INCLUSION, 17, 300, path, p->count, buf, sizeof(buf));
        for (size_t n = 0; n < len; n++)
                ck_assert_int_eq(ls_proof_decode(&d, buf, n), -ENODATA);
        ck_assert_int_eq(ls_proof_decode(&d, NULL, 0), -ENODATA);

        q = cons_proof(37, 99, &path);
        len = encode(LS_PROOF_CONSISTENCY, 37, 99, path, q->count, buf, sizeof(buf));
        for (size_t n = 0; n < len; n++)
                ck_assert_int_eq(ls_proof_decode(&d, buf, n), -ENODATA);
}
END_TEST

START_TEST(proof_decode_rejects_leftover_bytes)
{
        uint8_t buf[LS_PROOF_HDR_LEN + 20 * LS_HASH_LEN];
        const Hash *path;
        const Proof *p = incl_proof(5, 6, &path);
        size_t len;
        LsProof d;

        memset(buf, 0, sizeof(buf));
        len = encode(LS_PROOF_INCLUSION, 5, 6, path, p->count, buf, sizeof(buf));
        for (size_t extra = 1; extra <= 2 * LS_HASH_LEN; extra++)
                ck_assert_int_eq(ls_proof_decode(&d, buf, len + extra), -EBADMSG);

        len = encode(LS_PROOF_CONSISTENCY, 4, 4, NULL, 0, buf, sizeof(buf));
        ck_assert_uint_eq(len, LS_PROOF_HDR_LEN);
        ck_assert_int_eq(ls_proof_decode(&d, buf, len), 0);
        ck_assert_int_eq(ls_proof_decode(&d, buf, len + 1), -EBADMSG);
        ck_assert_int_eq(ls_proof_decode(&d, buf, len + LS_HASH_LEN), -EBADMSG);
}
END_TEST

START_TEST(proof_decode_rejects_an_unknown_kind)
{
        uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_INCLUSION_PROOF * LS_HASH_LEN];
        const Hash *path;
        const Proof *p = incl_proof(5, 6, &path);
        size_t len;
        LsProof d;

        len = encode(LS_PROOF_INCLUSION, 5, 6, path, p->count, buf, sizeof(buf));
        for (unsigned kind = 0; kind < 256; kind++) {
                buf[0] = (uint8_t) kind;
                if (kind == LS_PROOF_INCLUSION)
                        ck_assert_int_eq(ls_proof_decode(&d, buf, len), 0);
                else
                        ck_assert_int_eq(ls_proof_decode(&d, buf, len), -EBADMSG);
        }
}
END_TEST

START_TEST(proof_decode_rejects_nonzero_reserved_bits)
{
        uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        const Hash *path;
        const Proof *p = cons_proof(3, 7, &path);
        size_t len;
        LsProof d;

        len = encode(LS_PROOF_CONSISTENCY, 3, 7, path, p->count, buf, sizeof(buf));
        for (unsigned bit = 16; bit < 32; bit++) {
                flip_bit(buf, bit);
                ck_assert_int_eq(ls_proof_decode(&d, buf, len), -EBADMSG);
                flip_bit(buf, bit);
        }
        ck_assert_int_eq(ls_proof_decode(&d, buf, len), 0);
}
END_TEST

START_TEST(proof_decode_rejects_a_count_above_the_maximum)
{
        static uint8_t buf[LS_PROOF_HDR_LEN + 255 * LS_HASH_LEN];
        static const struct {
                uint8_t kind;
                unsigned count;
        } cases[] = {
                {LS_PROOF_INCLUSION, LS_MAX_INCLUSION_PROOF + 1},
                {LS_PROOF_INCLUSION, 255},
                {LS_PROOF_CONSISTENCY, LS_MAX_CONSISTENCY_PROOF + 1},
                {LS_PROOF_CONSISTENCY, 255},
        };
        LsProof d;

        for (size_t z = 0; z < ELEMENTSOF(cases); z++) {
                size_t len = LS_PROOF_HDR_LEN + cases[z].count * LS_HASH_LEN;

                memset(buf, 0, sizeof(buf));
                buf[0] = cases[z].kind;
                buf[1] = (uint8_t) cases[z].count;
                ls_put64(buf + 4, 1);
                ls_put64(buf + 12, UINT64_MAX);
                /* Complete, and also short: more input cannot make it valid. */
                ck_assert_int_eq(ls_proof_decode(&d, buf, len), -EBADMSG);
                ck_assert_int_eq(ls_proof_decode(&d, buf, LS_PROOF_HDR_LEN), -EBADMSG);
        }
}
END_TEST

START_TEST(proof_decode_rejects_a_count_inconsistent_with_the_sizes)
{
        static uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        static const struct {
                uint8_t kind;
                uint64_t a, b;
        } cases[] = {
                {LS_PROOF_INCLUSION, 0, 1},     {LS_PROOF_INCLUSION, 5, 6},
                {LS_PROOF_INCLUSION, 17, 300},  {LS_PROOF_INCLUSION, 0, UINT64_MAX},
                {LS_PROOF_CONSISTENCY, 1, 1},   {LS_PROOF_CONSISTENCY, 3, 7},
                {LS_PROOF_CONSISTENCY, 64, 65}, {LS_PROOF_CONSISTENCY, 5, UINT64_MAX},
        };
        LsProof d;

        memset(buf, 0xa5, sizeof(buf));
        for (size_t z = 0; z < ELEMENTSOF(cases); z++) {
                unsigned want = cases[z].kind == LS_PROOF_INCLUSION
                                        ? ls_inclusion_proof_len(cases[z].a, cases[z].b)
                                        : ls_consistency_proof_len(cases[z].a, cases[z].b);
                unsigned max = cases[z].kind == LS_PROOF_INCLUSION ? LS_MAX_INCLUSION_PROOF
                                                                   : LS_MAX_CONSISTENCY_PROOF;

                buf[0] = cases[z].kind;
                buf[2] = buf[3] = 0;
                ls_put64(buf + 4, cases[z].a);
                ls_put64(buf + 12, cases[z].b);
                for (unsigned c = 0; c <= max; c++) {
                        buf[1] = (uint8_t) c;
                        ck_assert_int_eq(
                                ls_proof_decode(&d, buf, LS_PROOF_HDR_LEN + c * LS_HASH_LEN),
                                c == want ? 0 : -EBADMSG);
                }
        }
}
END_TEST

START_TEST(proof_decode_rejects_sizes_no_proof_can_have)
{
        static uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        static const struct {
                uint8_t kind;
                uint64_t a, b;
        } cases[] = {
                {LS_PROOF_INCLUSION, 0, 0},   {LS_PROOF_INCLUSION, 6, 6},
                {LS_PROOF_INCLUSION, 7, 6},   {LS_PROOF_INCLUSION, UINT64_MAX, 6},
                {LS_PROOF_CONSISTENCY, 0, 0}, {LS_PROOF_CONSISTENCY, 0, 8},
                {LS_PROOF_CONSISTENCY, 8, 7}, {LS_PROOF_CONSISTENCY, UINT64_MAX, 1},
        };
        LsProof d;

        memset(buf, 0, sizeof(buf));
        for (size_t z = 0; z < ELEMENTSOF(cases); z++) {
                unsigned max = cases[z].kind == LS_PROOF_INCLUSION ? LS_MAX_INCLUSION_PROOF
                                                                   : LS_MAX_CONSISTENCY_PROOF;

                buf[0] = cases[z].kind;
                ls_put64(buf + 4, cases[z].a);
                ls_put64(buf + 12, cases[z].b);
                for (unsigned c = 0; c <= max; c++) {
                        buf[1] = (uint8_t) c;
                        ck_assert_int_eq(
                                ls_proof_decode(&d, buf, LS_PROOF_HDR_LEN + c * LS_HASH_LEN),
                                -EBADMSG);
                }
        }
}
END_TEST

START_TEST(proof_encode_refuses_a_short_buffer_and_proofs_it_could_not_decode)
{
        uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        const Hash *path;
        const Proof *p = incl_proof(17, 300, &path);
        size_t need = LS_PROOF_HDR_LEN + p->count * LS_HASH_LEN, len = 12345;
        LsProof e = {.kind = LS_PROOF_INCLUSION,
                     .count = p->count,
                     .a = 17,
                     .b = 300,
                     .path = (const uint8_t *) path};

        ck_assert_int_eq(ls_proof_encode(&e, buf, need - 1, &len), -ENOBUFS);
        ck_assert_int_eq(ls_proof_encode(&e, buf, 0, &len), -ENOBUFS);
        ck_assert_uint_eq(len, 12345);
        ck_assert_int_eq(ls_proof_encode(&e, buf, need, &len), 0);
        ck_assert_uint_eq(len, need);

        e.kind = 3;
        ck_assert_int_eq(ls_proof_encode(&e, buf, sizeof(buf), &len), -EINVAL);
        e.kind = LS_PROOF_CONSISTENCY;
        ck_assert_int_eq(ls_proof_encode(&e, buf, sizeof(buf), &len), -EINVAL);
        e.kind = LS_PROOF_INCLUSION;
        e.count++;
        ck_assert_int_eq(ls_proof_encode(&e, buf, sizeof(buf), &len), -EINVAL);
        e.count = 300;
        ck_assert_int_eq(ls_proof_encode(&e, buf, sizeof(buf), &len), -EINVAL);
        e.count = p->count;
        e.a = 300;
        ck_assert_int_eq(ls_proof_encode(&e, buf, sizeof(buf), &len), -EINVAL);
}
END_TEST

/* The exhaustive tests take seconds: above Check's 4 s default, unless the environment says. */
static TCase *tcase_new(const char *name)
{
        TCase *tc = tcase_create(name);

        tcase_add_unchecked_fixture(tc, setup_all, NULL);
        if (!getenv("CK_DEFAULT_TIMEOUT"))
                tcase_set_timeout(tc, 120);
        return tc;
}

static Suite *merkle_suite(void)
{
        Suite *s = suite_create("merkle");
        TCase *tc;

        tc = tcase_new("tree");
        tcase_add_test(tc, empty_tree_root_is_sha256_of_the_empty_string);
        tcase_add_test(tc, incremental_root_equals_naive_mth_for_every_size_0_to_300);
        tcase_add_test(tc, subtree_hash_equals_naive_mth_of_every_range_and_reads_each_leaf_once);
        tcase_add_test(tc, subtree_hash_rejects_a_reversed_range);
        tcase_add_test(tc, tree_hashes_match_values_computed_with_sha256sum);
        tcase_add_test(tc, proofs_match_values_computed_with_sha256sum);
        tcase_add_test(tc, proofs_follow_the_rfc9162_worked_example);
        tcase_add_test(tc, append_refuses_to_grow_the_tree_beyond_2_pow_63_leaves);
        tcase_add_test(tc, proof_lengths_equal_the_rfc_recursions);
        suite_add_tcase(s, tc);

        tc = tcase_new("inclusion");
        tcase_add_test(tc, inclusion_proofs_verify_for_every_leaf_of_every_size_1_to_300);
        tcase_add_test(tc, inclusion_proof_fails_when_any_element_has_a_bit_flipped);
        tcase_add_test(tc, inclusion_proof_fails_for_any_other_index);
        tcase_add_test(tc, inclusion_proof_fails_when_the_tree_size_changes_by_one);
        tcase_add_test(tc, inclusion_proof_binds_the_root_not_the_exact_size);
        tcase_add_test(tc, inclusion_proof_fails_when_an_element_is_added_or_removed);
        tcase_add_test(tc, inclusion_proof_fails_for_another_leaf_or_root);
        tcase_add_test(tc, inclusion_rejects_an_index_at_or_beyond_the_size);
        tcase_add_test(tc, proof_generation_passes_on_leaf_callback_errors);
        suite_add_tcase(s, tc);

        tc = tcase_new("consistency");
        tcase_add_test(tc, consistency_proofs_verify_for_every_pair_up_to_100);
        tcase_add_test(tc, proof_plan_gives_the_same_proofs_and_root_in_one_pass);
        tcase_add_test(tc, proof_plan_refuses_proofs_it_was_not_asked_for);
        tcase_add_test(tc, consistency_proof_fails_when_any_element_has_a_bit_flipped);
        tcase_add_test(tc, consistency_proof_fails_when_either_size_changes);
        tcase_add_test(tc, consistency_proof_fails_when_an_element_is_added_or_removed);
        tcase_add_test(tc, consistency_from_an_empty_tree_is_rejected);
        tcase_add_test(tc, consistency_between_equal_sizes_needs_an_empty_proof_and_equal_roots);
        tcase_add_test(tc, consistency_rejects_a_shrinking_tree);
        suite_add_tcase(s, tc);

        tc = tcase_new("encoding");
        tcase_add_test(tc, proof_encoding_round_trips);
        tcase_add_test(tc, proof_encoding_of_a_large_tree_round_trips);
        tcase_add_test(tc, proof_decode_rejects_truncated_input_as_missing_data);
        tcase_add_test(tc, proof_decode_rejects_leftover_bytes);
        tcase_add_test(tc, proof_decode_rejects_an_unknown_kind);
        tcase_add_test(tc, proof_decode_rejects_nonzero_reserved_bits);
        tcase_add_test(tc, proof_decode_rejects_a_count_above_the_maximum);
        tcase_add_test(tc, proof_decode_rejects_a_count_inconsistent_with_the_sizes);
        tcase_add_test(tc, proof_decode_rejects_sizes_no_proof_can_have);
        tcase_add_test(tc, proof_encode_refuses_a_short_buffer_and_proofs_it_could_not_decode);
        suite_add_tcase(s, tc);

        return s;
}

int main(void)
{
        SRunner *sr;
        int failed;

        if (sodium_init() < 0)
                return 99;

        sr = srunner_create(merkle_suite());
        srunner_run_all(sr, CK_ENV);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        free_all();
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
