/* SPDX-License-Identifier: Apache-2.0 */
/* test-bundle.h: what the parts of test-bundle share (the helpers are in test-bundle-util.c) */
#pragma once

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle-reader.h"
#include "bundle.h"
#include "checkpoint.h"
#include "control.h"
#include "hash.h"
#include "keys.h"
#include "merkle.h"
#include "testutil.h"
#include "util.h"

#define MAX_FINDINGS 256
#define MAX_RECS 16

typedef struct Res {
        LsClass cls;
        LsBundleSummary sum;
        unsigned n;                            /* findings, notes included */
        LsClass classes[MAX_FINDINGS];
        char checks[MAX_FINDINGS][48];
        uint64_t seqs[MAX_FINDINGS], offsets[MAX_FINDINGS];
        char files[MAX_FINDINGS][128];
        unsigned nrec;
        uint64_t rec_seq[MAX_RECS];
        int rec_verified[MAX_RECS];
        unsigned nfiles;
        LsBundleFileStatus file_status[16];
        char file_names[16][64];
} Res;

const char *vdir(void);
void root_key(uint8_t pk[LS_PK_LEN]);
/* Verifies the bundle in dir; extra (optional) is an out-of-band key history. */
Res *verify_with(const char *dir, const uint8_t root[LS_PK_LEN], const uint8_t *extra,
                 size_t extra_len);
Res *verify(const char *dir);
int has_check(const Res *r, const char *check);
const char *first_tampered(const Res *r);
unsigned count_class(const Res *r, LsClass c);

#define assert_tampered(r, check)                                                                  \
        do {                                                                                       \
                ck_assert_int_eq((r)->cls, LS_CLASS_TAMPERED);                                     \
                ck_assert_str_eq(first_tampered(r), check);                                        \
        } while (0)

/* Scratch copies of the golden bundle. */
char *path_in(const char *dir, const char *name);
void put(const char *dir, const char *name, const void *p, size_t n);
uint8_t *get(const char *dir, const char *name, size_t *n);
char *scratch_copy(void);
void remove_dir(char *dir);
/* Rewrites MANIFEST.sha256 over the regular files present, as an attacker would. */
void rehash(const char *dir);

/* evidence.lsb surgery */
typedef struct Entry {
        size_t off, len;           /* the whole entry */
        uint64_t seq;
        size_t rec_off, rec_len, proof_off, proof_len;
} Entry;

size_t entries(const uint8_t *p, size_t n, Entry *e, size_t max);
/* Builds evidence.lsb from the golden header (record_count set) and the given entries. */
void write_evidence(const char *dir, const uint8_t *hdr, uint32_t record_count,
                    const uint8_t *const *ents, const size_t *lens, size_t n);

/* Each part adds its tests to the suite's test case, in this order. */
void suite_add_tamper(TCase *tc);
void suite_add_keys(TCase *tc);
void suite_add_bytes(TCase *tc);
