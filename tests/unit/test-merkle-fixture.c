/* SPDX-License-Identifier: Apache-2.0 */
/* test-merkle, the independent reference and the fixture (the suite is in test-merkle.c) */
#include "test-merkle.h"

/* ---- independent reference: raw SHA-256, the RFC's recursive definitions ---- */

void t_leaf(Hash out, const uint8_t *data, size_t n)
{
        uint8_t buf[1 + 64];

        if (n > 64)
                abort();
        buf[0] = 0x00;
        if (n > 0)
                memcpy(buf + 1, data, n);
        crypto_hash_sha256(out, buf, 1 + n);
}

void t_node(Hash out, const Hash l, const Hash r)
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
void naive_mth(const Hash *lv, uint64_t n, Hash out)
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
unsigned ref_path_len(uint64_t i, uint64_t n)
{
        uint64_t k;

        if (n <= 1)
                return 0;
        k = t_split(n);
        return 1 + (i < k ? ref_path_len(i, k) : ref_path_len(i - k, n - k));
}

/* Number of elements of SUBPROOF(m, D[n], b) (§2.1.4.1) by its recursion. */
unsigned ref_subproof_len(uint64_t m, uint64_t n, int b)
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

int ref_verify_inclusion(uint64_t i, uint64_t n, const Hash leaf, const Hash *path,
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

int ref_verify_consistency(uint64_t m, uint64_t n, const Hash root1, const Hash root2,
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


int get_leaf(void *userdata, uint64_t index, uint8_t out[LS_HASH_LEN])
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


Hash leaves[N_LEAVES];
Hash roots[N_LEAVES + 1]; /* roots[n] = naive MTH of the first n leaves */
static Proof *incl;              /* [tri(n) + i] for 1 <= n <= MAX_INCL_SIZE */
static Hash *incl_pool;
static Proof *cons; /* [tri(n) + m - 1] for 1 <= m <= n <= MAX_CONS_SIZE */
static Hash *cons_pool;
static int fixture_ready;

static size_t tri(uint64_t n)
{
        return (size_t) (n * (n - 1) / 2);
}

Leaves all_leaves(void)
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

void setup_all(void)
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

void free_all(void)
{
        free(incl);
        free(incl_pool);
        free(cons);
        free(cons_pool);
}

const Proof *incl_proof(uint64_t i, uint64_t n, const Hash **path)
{
        const Proof *p = &incl[tri(n) + i];

        CHECK(p->rc == 0, "inclusion proof (%llu, %llu) failed to generate: %d",
              (unsigned long long) i, (unsigned long long) n, p->rc);
        *path = (const Hash *) incl_pool + p->off;
        return p;
}

const Proof *cons_proof(uint64_t m, uint64_t n, const Hash **proof)
{
        const Proof *p = &cons[tri(n) + m - 1];

        CHECK(p->rc == 0, "consistency proof (%llu, %llu) failed to generate: %d",
              (unsigned long long) m, (unsigned long long) n, p->rc);
        *proof = (const Hash *) cons_pool + p->off;
        return p;
}

void flip_bit(uint8_t *p, unsigned bit)
{
        p[bit / 8] ^= (uint8_t) (1u << (bit % 8));
}

void check_hex(const uint8_t h[LS_HASH_LEN], const char *want, const char *what)
{
        char got[2 * LS_HASH_LEN + 1];

        sodium_bin2hex(got, sizeof(got), h, LS_HASH_LEN);
        ck_assert_msg(strcmp(got, want) == 0, "%s: got %s, want %s", what, got, want);
}

/* The exhaustive tests take seconds: above Check's 4 s default, unless the environment says. */
TCase *tcase_new(const char *name)
{
        TCase *tc = tcase_create(name);

        tcase_add_unchecked_fixture(tc, setup_all, NULL);
        if (!getenv("CK_DEFAULT_TIMEOUT"))
                tcase_set_timeout(tc, 120);
        return tc;
}
