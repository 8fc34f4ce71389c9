/* SPDX-License-Identifier: Apache-2.0 */
/* gen-vectors.h: what the files of gen-vectors share; each gen-vectors-*.c makes one family */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-reader.h"
#include "batch-builder.h"
#include "batch.h"
#include "bundle-writer.h"
#include "checkpoint.h"
#include "hash.h"
#include "merkle.h"
#include "payload.h"
#include "testutil.h"
#include "util.h"

#define TRY(x)                                                                                     \
        do {                                                                                       \
                int _r = (x);                                                                      \
                if (_r < 0) {                                                                      \
                        fprintf(stderr, "gen-vectors: %s: %s\n", #x, strerror(-_r));               \
                        return 1;                                                                  \
                }                                                                                  \
        } while (0)

typedef struct Frame {
        uint64_t off, len;
        LsItemKind kind;
} Frame;

/* gen-vectors.c: the leaf hashes of the golden chain's records, in order. */
#define MAX_LEAVES 64
extern uint8_t leaves[MAX_LEAVES][LS_HASH_LEN];

/* gen-vectors-forgeries.c: forged archives, one line each in forgeries.txt */
/* Archive 0 frames are header, batch 0, 1, 2, trailer. */
int make_forgeries(FILE *fl, const TuGolden *g, const char *a0, const char *a1, const uint8_t *b0,
                   size_t n0, const uint8_t *b1, size_t n1, const Frame *f0, const Frame *f1);

/* gen-vectors-bundle.c: the golden evidence bundle (SPEC §14) */
int make_bundle(const TuGolden *g);

/* gen-vectors-format2.c: the F2 chain and the helpers format 3 reuses */
#define F2_S UINT64_C(1000000000)

typedef struct F2 {
        uint8_t chain_id[LS_CHAIN_ID_LEN], other_chain_id[LS_CHAIN_ID_LEN];
        LsKeyPair *root, *k[3], *other;
        LsCert cert[3], other_cert;
        LsEpochClose close[2];
        LsBatchHeader h[6];
        LsChainPosition after_archive0;
        LsBatchHeader forged[2]; /* forged-after-close.lsa's batches 2 and 3 */
        LsControlBuilder *cb;
} F2;

void f2_seed(void *ud, uint64_t batch_no, uint8_t out[LS_HASH_LEN]);
/* A kind-1 certificate with the CLOSED flag (format 2). */
int f2_cert(LsCert *c, const uint8_t chain_id[LS_CHAIN_ID_LEN], const LsKeyPair *subject,
            uint64_t valid_from, uint64_t issued_ns, LsKeyPair *issuer);
int f2_msg(LsChainWriter *w, uint64_t t, const char *msg);
int f2_ctl(LsChainWriter *w, uint64_t t, LsControlBuilder *b);
int f2_transition(F2 *f, LsChainWriter *w, uint64_t t, const LsCert *c, const char *text);
int f2_start(F2 *f, LsChainWriter *w, uint64_t t);
void f2_put_hex(FILE *e, const char *name, const uint8_t *p, size_t n);
/* format2/: a chain whose epochs end with signed closes, its history and forgeries */
int make_format2(FILE *fl);

/* gen-vectors-format3.c: format3/, a chain whose batches use the column layout */
int make_format3(FILE *fl);
int make_format4(FILE *fl); /* gen-vectors-dict.c: format 4, SPEC §8.6 */

/* gen-vectors-later.c: later/, archive 1 as a later format writes it, and forgeries (§1.1) */
int make_later(FILE *fl, const TuGolden *g, const char *a0, const uint8_t *b1, size_t n1,
               const Frame *f1);
/* later/bundle*: evidence bundles of a later format (§14.1), after make_bundle */
int make_later_bundles(const TuGolden *g);
/* gen-vectors-later-attack.c: later/attack-*, attempts to make a forgery milder through §1.1 */
int make_later_attacks(FILE *fl, const char *a0);
/* gen-vectors-later.c: signs a batch header as written (304 bytes at p) with k (SPEC §7.1). */
int later_sign_batch(uint8_t *p, LsKeyPair *k);
int make_later_attack_bundles(void); /* after make_later_bundles */
