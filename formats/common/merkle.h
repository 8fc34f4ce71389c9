/* SPDX-License-Identifier: Apache-2.0 */
/* merkle.h: RFC 9162 Merkle tree (SPEC §5): incremental root, proofs, proof encodings */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "defs.h"

/*
 * Incremental tree state in O(log n): the roots of the perfect subtrees that
 * make up a tree of `size` leaves (one per set bit of size, largest first).
 * This is all the verifier keeps to check every batch's root.
 */
typedef struct LsMerkle {
        uint64_t size;
        unsigned n;                       /* entries in `peaks` == popcount(size) */
        uint8_t peaks[64][LS_HASH_LEN];
} LsMerkle;

void ls_merkle_init(LsMerkle *m);
/* Appends one leaf hash. -EOVERFLOW when size would exceed 2^63. */
int ls_merkle_append(LsMerkle *m, const uint8_t leaf[LS_HASH_LEN]);
/*
 * Appends the root of a perfect subtree of 2^height leaves (the same state as
 * appending its leaves one by one). -EINVAL unless size is a multiple of
 * 2^height; -EOVERFLOW as ls_merkle_append().
 */
int ls_merkle_append_subtree(LsMerkle *m, const uint8_t root[LS_HASH_LEN], unsigned height);
/* Root of the current tree; H("") for the empty tree. */
void ls_merkle_root(const LsMerkle *m, uint8_t out[LS_HASH_LEN]);

/* Fetches leaf hash `index` for proof generation. Returns 0 or -errno. */
typedef int (*LsLeafFn)(void *userdata, uint64_t index, uint8_t out[LS_HASH_LEN]);

/* MTH of leaves [start, end) (RFC 9162 §2.1.1), by fetching leaves; O(end-start). */
int ls_merkle_subtree_hash(LsLeafFn fn, void *ud, uint64_t start, uint64_t end,
                           uint8_t out[LS_HASH_LEN]);

/* Number of proof elements the RFC algorithms need (strict length checks). */
unsigned ls_inclusion_proof_len(uint64_t index, uint64_t size);
unsigned ls_consistency_proof_len(uint64_t size1, uint64_t size2);

/*
 * RFC 9162 §2.1.3.1 PATH(index, D[size]). `path` holds LS_MAX_INCLUSION_PROOF
 * hashes; *ret_count receives the length. -EINVAL when index >= size.
 */
int ls_inclusion_proof(LsLeafFn fn, void *ud, uint64_t index, uint64_t size,
                       uint8_t path[][LS_HASH_LEN], unsigned *ret_count);
/*
 * RFC 9162 §2.1.4.1 PROOF(size1, D[size2]); `proof` holds
 * LS_MAX_CONSISTENCY_PROOF hashes. -EINVAL when size1 == 0 or size1 > size2.
 */
int ls_consistency_proof(LsLeafFn fn, void *ud, uint64_t size1, uint64_t size2,
                         uint8_t proof[][LS_HASH_LEN], unsigned *ret_count);

/*
 * RFC 9162 §2.1.3.2. 0 when the proof verifies, -EBADMSG for index >= size or
 * a count other than ls_inclusion_proof_len(), -EILSEQ when the root differs.
 */
int ls_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[LS_HASH_LEN],
                        const uint8_t path[][LS_HASH_LEN], unsigned count,
                        const uint8_t root[LS_HASH_LEN]);
/*
 * RFC 9162 §2.1.4.2. 0 when the proof verifies; -EBADMSG for size1 == 0,
 * size1 > size2, a wrong count, or a non-empty proof when size1 == size2;
 * -EILSEQ when either root differs.
 */
int ls_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[LS_HASH_LEN],
                          const uint8_t root2[LS_HASH_LEN], const uint8_t proof[][LS_HASH_LEN],
                          unsigned count);

/*
 * Many proofs against one tree of `size` leaves in a single pass over its
 * leaves: O(size) hashing, memory for the nodes the proofs need only. Say
 * which proofs (want_*), feed every leaf 0..size-1 in order, then read them.
 */
typedef struct LsProofPlan LsProofPlan;
int ls_proof_plan_new(LsProofPlan **ret, uint64_t size);
LsProofPlan *ls_proof_plan_free(LsProofPlan *p);
int ls_proof_plan_want_inclusion(LsProofPlan *p, uint64_t index);
int ls_proof_plan_want_consistency(LsProofPlan *p, uint64_t size1);
int ls_proof_plan_feed(LsProofPlan *p, const uint8_t leaf[LS_HASH_LEN]);
/* After the last leaf: the tree's root, and the proofs asked for (-ENOENT: not asked). */
int ls_proof_plan_root(LsProofPlan *p, uint8_t out[LS_HASH_LEN]);
int ls_proof_plan_inclusion(LsProofPlan *p, uint64_t index, uint8_t path[][LS_HASH_LEN],
                            unsigned *ret_count);
int ls_proof_plan_consistency(LsProofPlan *p, uint64_t size1, uint8_t proof[][LS_HASH_LEN],
                              unsigned *ret_count);

/* Proof encodings (SPEC §5.1). Decoders point `path` into the input. */
typedef struct LsProof {
        uint8_t kind;          /* 1 inclusion, 2 consistency */
        unsigned count;
        uint64_t a;            /* leaf_index or size1 */
        uint64_t b;            /* tree_size or size2 */
        const uint8_t *path;   /* count * 32 bytes */
} LsProof;

enum {
        LS_PROOF_INCLUSION = 1,
        LS_PROOF_CONSISTENCY = 2,
};

/* Writes 20 + 32*count bytes into out (cap bytes); -ENOBUFS when too small. */
int ls_proof_encode(const LsProof *p, uint8_t *out, size_t cap, size_t *ret_len);
/* Strict decode: -ENODATA truncated, -EBADMSG malformed (incl. wrong count or leftover bytes). */
int ls_proof_decode(LsProof *p, const uint8_t *in, size_t n);
