/* SPDX-License-Identifier: Apache-2.0 */
/* merkle.c: RFC 9162 Merkle tree (SPEC §5): incremental root, proofs, proof encodings */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "merkle.h"
#include "util.h"

#define LS_MAX_TREE_SIZE (UINT64_C(1) << 63)

/* The largest power of two smaller than n (RFC 9162 §2.1.1 "k"); n >= 2. */
static uint64_t split_point(uint64_t n)
{
        return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

static int is_pow2(uint64_t n)
{
        return n != 0 && (n & (n - 1)) == 0;
}

void ls_merkle_init(LsMerkle *m)
{
        memset(m, 0, sizeof(*m));
}

int ls_merkle_append(LsMerkle *m, const uint8_t leaf[LS_HASH_LEN])
{
        uint8_t h[LS_HASH_LEN];
        unsigned n = m->n;

        if (m->size >= LS_MAX_TREE_SIZE)
                return -EOVERFLOW;
        /* A state whose peaks do not match its size would index out of bounds. */
        if (n != (unsigned) __builtin_popcountll(m->size))
                return -EINVAL;

        memcpy(m->peaks[n++], leaf, LS_HASH_LEN);
        /* Each trailing one bit of the old size is a peak of the new leaf's height: merge. */
        for (uint64_t s = m->size; s & 1; s >>= 1) {
                ls_node_hash(h, m->peaks[n - 2], m->peaks[n - 1]);
                memcpy(m->peaks[n - 2], h, LS_HASH_LEN);
                n--;
        }
        m->n = n;
        m->size++;
        return 0;
}

int ls_merkle_append_subtree(LsMerkle *m, const uint8_t root[LS_HASH_LEN], unsigned height)
{
        uint8_t h[LS_HASH_LEN];
        unsigned n = m->n;

        if (height > 62 || (m->size & ((1ull << height) - 1)) != 0)
                return -EINVAL;
        if (m->size > LS_MAX_TREE_SIZE - (1ull << height))
                return -EOVERFLOW;
        if (n != (unsigned) __builtin_popcountll(m->size))
                return -EINVAL;

        memcpy(m->peaks[n++], root, LS_HASH_LEN);
        /* As ls_merkle_append(), one level up for each level of the subtree. */
        for (uint64_t s = m->size >> height; s & 1; s >>= 1) {
                ls_node_hash(h, m->peaks[n - 2], m->peaks[n - 1]);
                memcpy(m->peaks[n - 2], h, LS_HASH_LEN);
                n--;
        }
        m->n = n;
        m->size += 1ull << height;
        return 0;
}

void ls_merkle_root(const LsMerkle *m, uint8_t out[LS_HASH_LEN])
{
        uint8_t r[LS_HASH_LEN], h[LS_HASH_LEN];

        if (m->n == 0) {
                ls_sha256(out, "", 0);
                return;
        }
        /* MTH splits at the largest power of two, so the peaks nest right to left. */
        memcpy(r, m->peaks[m->n - 1], LS_HASH_LEN);
        for (unsigned i = m->n - 1; i > 0; i--) {
                ls_node_hash(h, m->peaks[i - 1], r);
                memcpy(r, h, LS_HASH_LEN);
        }
        memcpy(out, r, LS_HASH_LEN);
}

int ls_merkle_subtree_hash(LsLeafFn fn, void *ud, uint64_t start, uint64_t end,
                           uint8_t out[LS_HASH_LEN])
{
        uint8_t left[LS_HASH_LEN], right[LS_HASH_LEN];
        uint64_t k;
        int r;

        if (start > end)
                return -EINVAL;
        if (start == end) {
                ls_sha256(out, "", 0);
                return 0;
        }
        if (end - start == 1)
                return fn(ud, start, out);

        /* Depth is bounded by 64: the left part is perfect, the right part shrinks. */
        k = split_point(end - start);
        r = ls_merkle_subtree_hash(fn, ud, start, start + k, left);
        if (r < 0)
                return r;
        r = ls_merkle_subtree_hash(fn, ud, start + k, end, right);
        if (r < 0)
                return r;
        ls_node_hash(out, left, right);
        return 0;
}

unsigned ls_inclusion_proof_len(uint64_t index, uint64_t size)
{
        unsigned len = 0;

        if (index >= size)
                return 0;
        /* One element per split on the way from the root down to the leaf. */
        while (size > 1) {
                uint64_t k = split_point(size);

                if (index < k) {
                        size = k;
                } else {
                        index -= k;
                        size -= k;
                }
                len++;
        }
        return len;
}

unsigned ls_consistency_proof_len(uint64_t size1, uint64_t size2)
{
        unsigned len = 0;
        int whole = 1;

        if (size1 == 0 || size1 > size2)
                return 0;
        /* SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1, counting instead of hashing. */
        while (size1 != size2) {
                uint64_t k = split_point(size2);

                if (size1 <= k) {
                        size2 = k;
                } else {
                        size1 -= k;
                        size2 -= k;
                        whole = 0;
                }
                len++;
        }
        /* SUBPROOF(m, D[m], false) = {MTH(D[m])}; with b true the verifier knows it. */
        return whole ? len : len + 1;
}


/* The proof algorithms ask for subtree hashes MTH(D[start:end]) through one of these. */
typedef int (*SubtreeFn)(void *ud, uint64_t start, uint64_t end, uint8_t out[LS_HASH_LEN]);

typedef struct LeafSource {
        LsLeafFn fn;
        void *ud;
} LeafSource;

static int subtree_from_leaves(void *ud, uint64_t start, uint64_t end, uint8_t out[LS_HASH_LEN])
{
        LeafSource *ls = ud;
        return ls_merkle_subtree_hash(ls->fn, ls->ud, start, end, out);
}

static int inclusion_path(SubtreeFn fn, void *ud, uint64_t index, uint64_t size,
                          uint8_t path[][LS_HASH_LEN], unsigned *ret_count)
{
        uint64_t lo = 0, hi = size;
        unsigned count, pos;
        int r;

        if (index >= size)
                return -EINVAL;

        count = ls_inclusion_proof_len(index, size);
        if (count > LS_MAX_INCLUSION_PROOF)
                return -EINVAL;

        /* Walk down from the root; the RFC lists the siblings leaf upward, so fill from the end. */
        pos = count;
        while (hi - lo > 1) {
                uint64_t k = split_point(hi - lo);

                if (index < lo + k) {
                        r = fn(ud, lo + k, hi, path[--pos]);
                        hi = lo + k;
                } else {
                        r = fn(ud, lo, lo + k, path[--pos]);
                        lo += k;
                }
                if (r < 0)
                        return r;
        }
        if (pos != 0)
                return -EINVAL;

        *ret_count = count;
        return 0;
}

int ls_inclusion_proof(LsLeafFn fn, void *ud, uint64_t index, uint64_t size,
                       uint8_t path[][LS_HASH_LEN], unsigned *ret_count)
{
        LeafSource ls = {fn, ud};
        return inclusion_path(subtree_from_leaves, &ls, index, size, path, ret_count);
}

static int consistency_path(SubtreeFn fn, void *ud, uint64_t size1, uint64_t size2,
                            uint8_t proof[][LS_HASH_LEN], unsigned *ret_count)
{
        uint64_t lo = 0, hi = size2, m = size1;
        unsigned count, pos;
        int whole = 1, r;

        if (size1 == 0 || size1 > size2)
                return -EINVAL;

        count = ls_consistency_proof_len(size1, size2);
        if (count > LS_MAX_CONSISTENCY_PROOF)
                return -EINVAL;

        /*
         * SUBPROOF(m, D[lo:hi], b) unrolled: each level appends its node after
         * the nodes of the deeper levels, so fill from the end.
         */
        pos = count;
        while (m != hi - lo) {
                uint64_t k = split_point(hi - lo);

                if (m <= k) {
                        r = fn(ud, lo + k, hi, proof[--pos]);
                        hi = lo + k;
                } else {
                        r = fn(ud, lo, lo + k, proof[--pos]);
                        lo += k;
                        m -= k;
                        whole = 0;
                }
                if (r < 0)
                        return r;
        }
        if (!whole) {
                r = fn(ud, lo, hi, proof[--pos]);
                if (r < 0)
                        return r;
        }
        if (pos != 0)
                return -EINVAL;

        *ret_count = count;
        return 0;
}

int ls_consistency_proof(LsLeafFn fn, void *ud, uint64_t size1, uint64_t size2,
                         uint8_t proof[][LS_HASH_LEN], unsigned *ret_count)
{
        LeafSource ls = {fn, ud};
        return consistency_path(subtree_from_leaves, &ls, size1, size2, proof, ret_count);
}

/* ---- many proofs in one pass over the leaves ---- */

/*
 * Every subtree hash a proof needs is made of perfect, aligned subtrees
 * (level j, index i: leaves [i·2^j, (i+1)·2^j)). The plan records which, then
 * keeps exactly those while the leaves stream through an LsMerkle-like stack
 * of peaks: every node of the tree is formed there once.
 */
typedef struct PlanNode {
        uint64_t key;                 /* level << 58 | index */
        uint8_t hash[LS_HASH_LEN];
        int have;
} PlanNode;

struct LsProofPlan {
        uint64_t size, fed;
        PlanNode *need;
        size_t n, cap;
        int sorted;
        unsigned depth;
        struct {
                unsigned level;
                uint64_t index;
                uint8_t hash[LS_HASH_LEN];
        } stack[65];
};

#define PLAN_KEY(level, index) (((uint64_t) (level) << 58) | (index))
#define PLAN_MAX_NODES (UINT64_C(1) << 24)

static int plan_add(LsProofPlan *p, unsigned level, uint64_t index)
{
        if (p->n == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 256;
                PlanNode *q;
                if (cap > PLAN_MAX_NODES)
                        return -E2BIG;
                q = realloc(p->need, cap * sizeof(*q));
                if (!q)
                        return -ENOMEM;
                p->need = q;
                p->cap = cap;
        }
        p->need[p->n].key = PLAN_KEY(level, index);
        p->need[p->n].have = 0;
        p->n++;
        p->sorted = 0;
        return 0;
}

/* Splits [start, end) into perfect aligned subtrees, as MTH does. */
static int plan_decompose(LsProofPlan *p, uint64_t start, uint64_t end)
{
        while (end > start) {
                uint64_t n = end - start;
                if (is_pow2(n) && start % n == 0)
                        return plan_add(p, (unsigned) __builtin_ctzll(n), start / n);
                uint64_t k = split_point(n);
                int r = plan_add(p, (unsigned) __builtin_ctzll(k), start / k);
                if (r < 0)
                        return r;
                start += k;
        }
        return 0;
}

static int plan_collect(void *ud, uint64_t start, uint64_t end, uint8_t out[LS_HASH_LEN])
{
        memset(out, 0, LS_HASH_LEN);
        return plan_decompose(ud, start, end);
}

static int cmp_node(const void *a, const void *b)
{
        uint64_t x = ((const PlanNode *) a)->key, y = ((const PlanNode *) b)->key;
        return x < y ? -1 : x > y;
}

static PlanNode *plan_find(LsProofPlan *p, uint64_t key)
{
        size_t lo = 0, hi = p->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (p->need[mid].key < key)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < p->n && p->need[lo].key == key ? &p->need[lo] : NULL;
}

static void plan_sort(LsProofPlan *p)
{
        size_t w = 0;

        if (p->sorted)
                return;
        if (p->n > 1)
                qsort(p->need, p->n, sizeof(*p->need), cmp_node);
        for (size_t i = 0; i < p->n; i++)
                if (w == 0 || p->need[w - 1].key != p->need[i].key)
                        p->need[w++] = p->need[i];
        p->n = w;
        p->sorted = 1;
}

/* MTH(D[start:end]) from the kept perfect subtrees. */
static int plan_lookup(void *ud, uint64_t start, uint64_t end, uint8_t out[LS_HASH_LEN])
{
        LsProofPlan *p = ud;
        uint64_t n = end - start;
        PlanNode *node;

        if (end <= start)
                return -EINVAL;
        if (is_pow2(n) && start % n == 0) {
                node = plan_find(p, PLAN_KEY(__builtin_ctzll(n), start / n));
                if (!node || !node->have)
                        return -ENOENT; /* not planned, or not fed yet */
                memcpy(out, node->hash, LS_HASH_LEN);
                return 0;
        }
        uint8_t left[LS_HASH_LEN], right[LS_HASH_LEN];
        uint64_t k = split_point(n);
        int r = plan_lookup(p, start, start + k, left);
        if (r == 0)
                r = plan_lookup(p, start + k, end, right);
        if (r == 0)
                ls_node_hash(out, left, right);
        return r;
}

int ls_proof_plan_new(LsProofPlan **ret, uint64_t size)
{
        LsProofPlan *p;

        if (size == 0 || size >= LS_MAX_TREE_SIZE)
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->size = size;
        *ret = p;
        return 0;
}

LsProofPlan *ls_proof_plan_free(LsProofPlan *p)
{
        if (p) {
                free(p->need);
                free(p);
        }
        return NULL;
}

int ls_proof_plan_want_inclusion(LsProofPlan *p, uint64_t index)
{
        uint8_t path[LS_MAX_INCLUSION_PROOF][LS_HASH_LEN];
        unsigned count;

        if (p->fed)
                return -EBUSY;
        return inclusion_path(plan_collect, p, index, p->size, path, &count);
}

int ls_proof_plan_want_consistency(LsProofPlan *p, uint64_t size1)
{
        uint8_t proof[LS_MAX_CONSISTENCY_PROOF][LS_HASH_LEN];
        unsigned count;

        if (p->fed)
                return -EBUSY;
        return consistency_path(plan_collect, p, size1, p->size, proof, &count);
}

static void plan_keep(LsProofPlan *p, unsigned level, uint64_t index, const uint8_t h[LS_HASH_LEN])
{
        PlanNode *node = plan_find(p, PLAN_KEY(level, index));

        if (node) {
                memcpy(node->hash, h, LS_HASH_LEN);
                node->have = 1;
        }
}

int ls_proof_plan_feed(LsProofPlan *p, const uint8_t leaf[LS_HASH_LEN])
{
        if (p->fed == p->size)
                return -EOVERFLOW;
        plan_sort(p);
        p->stack[p->depth].level = 0;
        p->stack[p->depth].index = p->fed;
        memcpy(p->stack[p->depth].hash, leaf, LS_HASH_LEN);
        p->depth++;
        plan_keep(p, 0, p->fed, leaf);
        /* Merge equal levels, as ls_merkle_append(): each merge forms one tree node. */
        while (p->depth >= 2 && p->stack[p->depth - 1].level == p->stack[p->depth - 2].level) {
                unsigned level = p->stack[p->depth - 2].level + 1;
                uint64_t index = p->stack[p->depth - 2].index >> 1;
                uint8_t h[LS_HASH_LEN];
                ls_node_hash(h, p->stack[p->depth - 2].hash, p->stack[p->depth - 1].hash);
                p->depth--;
                p->stack[p->depth - 1].level = level;
                p->stack[p->depth - 1].index = index;
                memcpy(p->stack[p->depth - 1].hash, h, LS_HASH_LEN);
                plan_keep(p, level, index, h);
        }
        p->fed++;
        return 0;
}

int ls_proof_plan_root(LsProofPlan *p, uint8_t out[LS_HASH_LEN])
{
        uint8_t r[LS_HASH_LEN], h[LS_HASH_LEN];

        if (p->fed != p->size)
                return -EAGAIN;
        memcpy(r, p->stack[p->depth - 1].hash, LS_HASH_LEN);
        for (unsigned i = p->depth - 1; i > 0; i--) {
                ls_node_hash(h, p->stack[i - 1].hash, r);
                memcpy(r, h, LS_HASH_LEN);
        }
        memcpy(out, r, LS_HASH_LEN);
        return 0;
}

int ls_proof_plan_inclusion(LsProofPlan *p, uint64_t index, uint8_t path[][LS_HASH_LEN],
                            unsigned *ret_count)
{
        if (p->fed != p->size)
                return -EAGAIN;
        return inclusion_path(plan_lookup, p, index, p->size, path, ret_count);
}

int ls_proof_plan_consistency(LsProofPlan *p, uint64_t size1, uint8_t proof[][LS_HASH_LEN],
                              unsigned *ret_count)
{
        if (p->fed != p->size)
                return -EAGAIN;
        return consistency_path(plan_lookup, p, size1, p->size, proof, ret_count);
}

int ls_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[LS_HASH_LEN],
                        const uint8_t path[][LS_HASH_LEN], unsigned count,
                        const uint8_t root[LS_HASH_LEN])
{
        uint8_t r[LS_HASH_LEN], h[LS_HASH_LEN];
        uint64_t fn, sn;

        if (index >= size)
                return -EBADMSG;
        if (count != ls_inclusion_proof_len(index, size))
                return -EBADMSG;

        fn = index;
        sn = size - 1;
        memcpy(r, leaf, LS_HASH_LEN);
        for (unsigned i = 0; i < count; i++) {
                if (sn == 0)
                        return -EBADMSG;
                if ((fn & 1) || fn == sn) {
                        ls_node_hash(h, path[i], r);
                        while (fn != 0 && !(fn & 1)) {
                                fn >>= 1;
                                sn >>= 1;
                        }
                } else {
                        ls_node_hash(h, r, path[i]);
                }
                memcpy(r, h, LS_HASH_LEN);
                fn >>= 1;
                sn >>= 1;
        }
        if (sn != 0)
                return -EBADMSG;

        return ls_hash_equal(r, root) ? 0 : -EILSEQ;
}

int ls_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[LS_HASH_LEN],
                          const uint8_t root2[LS_HASH_LEN], const uint8_t proof[][LS_HASH_LEN],
                          unsigned count)
{
        uint8_t fr[LS_HASH_LEN], sr[LS_HASH_LEN], h[LS_HASH_LEN];
        uint64_t fn, sn;
        unsigned i;
        int ok1, ok2;

        if (size1 == 0 || size1 > size2)
                return -EBADMSG;
        if (size1 == size2) {
                if (count != 0)
                        return -EBADMSG;
                return ls_hash_equal(root1, root2) ? 0 : -EILSEQ;
        }
        if (count == 0 || count != ls_consistency_proof_len(size1, size2))
                return -EBADMSG;

        fn = size1 - 1;
        sn = size2 - 1;
        while (fn & 1) {
                fn >>= 1;
                sn >>= 1;
        }

        /* When size1 is a power of two the RFC prepends root1 to the path. */
        if (is_pow2(size1)) {
                memcpy(fr, root1, LS_HASH_LEN);
                i = 0;
        } else {
                memcpy(fr, proof[0], LS_HASH_LEN);
                i = 1;
        }
        memcpy(sr, fr, LS_HASH_LEN);

        for (; i < count; i++) {
                if (sn == 0)
                        return -EBADMSG;
                if ((fn & 1) || fn == sn) {
                        ls_node_hash(h, proof[i], fr);
                        memcpy(fr, h, LS_HASH_LEN);
                        ls_node_hash(h, proof[i], sr);
                        memcpy(sr, h, LS_HASH_LEN);
                        while (fn != 0 && !(fn & 1)) {
                                fn >>= 1;
                                sn >>= 1;
                        }
                } else {
                        ls_node_hash(h, sr, proof[i]);
                        memcpy(sr, h, LS_HASH_LEN);
                }
                fn >>= 1;
                sn >>= 1;
        }
        if (sn != 0)
                return -EBADMSG;

        ok1 = ls_hash_equal(fr, root1);
        ok2 = ls_hash_equal(sr, root2);
        return ok1 && ok2 ? 0 : -EILSEQ;
}

/* Shape checks shared by the encoder (-EINVAL) and the decoder (-EBADMSG). */
static int proof_valid(uint8_t kind, unsigned count, uint64_t a, uint64_t b)
{
        switch (kind) {
        case LS_PROOF_INCLUSION:
                if (count > LS_MAX_INCLUSION_PROOF || a >= b)
                        return 0;
                return count == ls_inclusion_proof_len(a, b);
        case LS_PROOF_CONSISTENCY:
                if (count > LS_MAX_CONSISTENCY_PROOF || a == 0 || a > b)
                        return 0;
                return count == ls_consistency_proof_len(a, b);
        default:
                return 0;
        }
}

int ls_proof_encode(const LsProof *p, uint8_t *out, size_t cap, size_t *ret_len)
{
        size_t len;

        if (!proof_valid(p->kind, p->count, p->a, p->b))
                return -EINVAL;

        len = LS_PROOF_HDR_LEN + (size_t) p->count * LS_HASH_LEN;
        if (cap < len)
                return -ENOBUFS;

        out[0] = p->kind;
        out[1] = (uint8_t) p->count;
        ls_put16(out + 2, 0);
        ls_put64(out + 4, p->a);
        ls_put64(out + 12, p->b);
        if (p->count > 0)
                memcpy(out + LS_PROOF_HDR_LEN, p->path, (size_t) p->count * LS_HASH_LEN);

        if (ret_len)
                *ret_len = len;
        return 0;
}

int ls_proof_decode(LsProof *p, const uint8_t *in, size_t n)
{
        unsigned count, max;
        uint64_t a, b;
        uint8_t kind;
        size_t len;

        if (n < LS_PROOF_HDR_LEN)
                return -ENODATA;

        kind = in[0];
        count = in[1];
        switch (kind) {
        case LS_PROOF_INCLUSION:
                max = LS_MAX_INCLUSION_PROOF;
                break;
        case LS_PROOF_CONSISTENCY:
                max = LS_MAX_CONSISTENCY_PROOF;
                break;
        default:
                return -EBADMSG;
        }
        if (ls_get16(in + 2) != 0)
                return -EBADMSG;
        /* Checked before the length: more input would not make this header valid. */
        if (count > max)
                return -EBADMSG;

        len = LS_PROOF_HDR_LEN + (size_t) count * LS_HASH_LEN;
        if (n < len)
                return -ENODATA;
        if (n > len)
                return -EBADMSG;

        a = ls_get64(in + 4);
        b = ls_get64(in + 12);
        if (!proof_valid(kind, count, a, b))
                return -EBADMSG;

        *p = (LsProof){
                .kind = kind,
                .count = count,
                .a = a,
                .b = b,
                .path = in + LS_PROOF_HDR_LEN,
        };
        return 0;
}
