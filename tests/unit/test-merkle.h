/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-merkle.h: what the parts of test-merkle share: the independent reference (raw SHA-256,
 * the RFC's recursive definitions) and the fixture of every proof generated once, both in
 * test-merkle-fixture.c; each test-merkle-<case>.c returns its test case from tcase_<case>().
 */
#pragma once

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

/* test-merkle-fixture.c: the reference */
void t_leaf(Hash out, const uint8_t *data, size_t n);
void t_node(Hash out, const Hash l, const Hash r);
/* MTH(D[n]) straight from the definition. */
void naive_mth(const Hash *lv, uint64_t n, Hash out);
/* Number of elements of PATH(i, D[n]) (§2.1.3.1) by its recursion. */
unsigned ref_path_len(uint64_t i, uint64_t n);
/* Number of elements of SUBPROOF(m, D[n], b) (§2.1.4.1) by its recursion. */
unsigned ref_subproof_len(uint64_t m, uint64_t n, int b);
int ref_verify_inclusion(uint64_t i, uint64_t n, const Hash leaf, const Hash *path, unsigned count,
                         const Hash root);
int ref_verify_consistency(uint64_t m, uint64_t n, const Hash root1, const Hash root2,
                           const Hash *proof, unsigned count);

/* test-merkle-fixture.c: the fixture (see there) */
typedef struct Leaves {
        const Hash *h;
        uint64_t n;
        uint64_t fetched;
        uint64_t fail_at; /* return -EIO when this index is fetched */
} Leaves;

typedef struct Proof {
        size_t off; /* into the element pool */
        unsigned count;
        int rc;
} Proof;

extern Hash leaves[N_LEAVES];
extern Hash roots[N_LEAVES + 1]; /* roots[n] = naive MTH of the first n leaves */
int get_leaf(void *userdata, uint64_t index, uint8_t out[LS_HASH_LEN]);
Leaves all_leaves(void);
void setup_all(void);
void free_all(void);
const Proof *incl_proof(uint64_t i, uint64_t n, const Hash **path);
const Proof *cons_proof(uint64_t m, uint64_t n, const Hash **proof);
void flip_bit(uint8_t *p, unsigned bit);
void check_hex(const uint8_t h[LS_HASH_LEN], const char *want, const char *what);
/* The exhaustive tests take seconds: above Check's 4 s default, unless the environment says. */
TCase *tcase_new(const char *name);

/* The test cases, one per file. */
TCase *tcase_tree(void);
TCase *tcase_inclusion(void);
TCase *tcase_consistency(void);
TCase *tcase_encoding(void);
