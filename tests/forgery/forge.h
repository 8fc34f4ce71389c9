/* SPDX-License-Identifier: Apache-2.0 */
/* forge.h: what the files of forge share; one forge-*.c per forgery family (tests/forgery) */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "archive-reader.h"
#include "archive-writer.h"
#include "batch-builder.h"
#include "batch.h"
#include "bundle-writer.h"
#include "bundle.h"
#include "chain-writer.h"
#include "checkpoint.h"
#include "control.h"
#include "hash.h"
#include "magic.h"
#include "merkle.h"
#include "payload.h"
#include "record.h"
#include "testutil.h"
#include "util.h"

#define PROG "forge"
#define MAX_RECS 256
#define MAX_HEADERS 4096
#define MAX_ARCHIVE_BYTES (256u << 20)
#define MAX_HISTORY_BYTES (64u << 20)
#define DAY_NS (86400ull * 1000000000ull)

int log_err(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define TRY(expr, ...)                                                                             \
        do {                                                                                       \
                int _r = (expr);                                                                   \
                if (_r < 0)                                                                        \
                        return log_err(_r, __VA_ARGS__);                                           \
        } while (0)

/* ---- what the attacker holds, and the chain state it rebuilt ---- */

typedef struct Rec {
        uint8_t *enc; /* the record's encoding (seq assigned) */
        size_t len;
        uint64_t seq;
        uint8_t salt[LS_SALT_LEN];
        uint8_t leaf[LS_HASH_LEN];
        int disclose;
} Rec;

typedef struct Forge {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        int have_chain;
        /* genuine state, then forged batches appended */
        LsMerkle tree;
        uint8_t (*leaves)[LS_HASH_LEN];
        uint64_t nleaves, cap;
        LsBatchHeader last; /* the last batch (genuine or forged) */
        int have_last;
        LsBatchHeader *headers; /* every genuine batch header, by position */
        size_t nheaders;
        uint64_t last_archive_no;
        int have_archive, last_sealed;
        uint8_t last_seal_hash[LS_HASH_LEN];
        char version[65]; /* VERSION of the genuine START records */
        /* the key that signs now: the stolen one, or a key it handed over to */
        LsKeyPair *key;
        LsSigner signer;
        LsKeyPair *stolen; /* the stolen key once it handed over */
        /* the batch being forged */
        LsBatchBuilder *bb;
        uint8_t seed[LS_HASH_LEN];
        uint64_t first_seq;
        Rec recs[MAX_RECS];
        size_t nrecs;
        ssize_t custody; /* index in recs, -1 when none */
        LsControlBuilder *cb;
} Forge;

/* forge.c: the options of every command, and the check that one was given */
typedef struct Opts {
        const char *key, *keys, *out, *bundle, *old, *proof, *chain_id, *host;
        uint64_t batch, epoch, records, days, time_ns, grow;
        int have_batch, have_epoch, fork, handover;
} Opts;

int need(const char *what, const char *v);

/* forge-chain.c: the attacker's state and the genuine chain it reads */
void forge_clear_batch(Forge *f);
void forge_done(Forge *f);
int forge_init(Forge *f);
int push_leaf(Forge *f, const uint8_t leaf[LS_HASH_LEN]);
int leaf_fn(void *ud, uint64_t i, uint8_t out[LS_HASH_LEN]);
/* The tree of the first n leaves. */
int tree_at(Forge *f, uint64_t n, LsMerkle *ret);
int load_key(Forge *f, const char *path);
int read_history(const char *path, uint8_t **ret, size_t *ret_len);
/* The certificate of key_id in a key history (SPEC §10.3). */
int history_find_cert(const uint8_t *p, size_t n, const uint8_t key_id[LS_KEY_ID_LEN], LsCert *ret);
int load_chain(Forge *f, char **paths, int n, int print_info);

/* forge-write.c: forging a batch, self-checks, writing */
int forge_begin(Forge *f, uint64_t archive_no, uint64_t batch_no,
                const uint8_t prev_header_hash[LS_HASH_LEN]);
/* The next batch of the rebuilt chain: links to the last one. */
int forge_begin_next(Forge *f, uint64_t archive_no);
int forge_add_control(Forge *f, uint64_t t);
/* n fabricated syslog messages, at t, t+1ms, … (RFC 5424, sender's time = receive time). */
int forge_messages(Forge *f, uint64_t t, unsigned n, const char *host, const char *what,
                   int disclose);
int forge_start_record(Forge *f, uint64_t t);
/* The custody record of an export of the records marked `disclose` in this batch (SPEC §14.1). */
int forge_custody(Forge *f, uint64_t t, const char *filter);
int forge_stop_record(Forge *f, uint64_t t);
/* Closes the batch, signed with the current key (see forge-write.c). */
int forge_finish(Forge *f, LsBatchHeader *ret, const uint8_t **ret_bytes, size_t *ret_len);
/* Reads an archive back and checks it as a verifier would (see forge-write.c). */
int check_archive(const char *path, const LsMerkle *start, LsKeyPair *const *keys, size_t nkeys,
                  const uint8_t prev_seal[LS_HASH_LEN]);
/* A checkpoint text parses and the signature line verifies under pk. */
int check_checkpoint(const char *text, size_t n, const uint8_t pk[LS_PK_LEN], int want_batch,
                     LsCheckpoint *ret);
int create_file(const char *path);
/* Starts an archive after the chain's last one whose first batch is h (tree `start` at it). */
int archive_open(Forge *f, const char *dir, const LsMerkle *start, const LsBatchHeader *h,
                 uint64_t t, LsArchiveWriter **ret, char *ret_path, size_t cap);
int write_file(const char *path, const void *p, size_t n);
int mkdir_p(const char *dir);
/* An evidence bundle of the records marked `disclose` in the batch just finished. */
int write_bundle(Forge *f, const char *dir, const LsBatchHeader *h, const uint8_t *keys,
                 size_t keys_len);

/* The commands (forge --help): forge-old-epoch.c, forge-foreign-chain.c, forge-checkpoint.c,
 * forge-keys.c; each file says what its forgeries play. */
int cmd_old_epoch(Forge *f, const Opts *o, int n, char **paths, int bundle);
int cmd_foreign_chain(Forge *f, const Opts *o);
int cmd_checkpoint_3line(Forge *f, const Opts *o, int n, char **paths);
int cmd_checkpoint_wrong_key(Forge *f, const Opts *o, int n, char **paths);
int cmd_unsigned_checkpoint(Forge *f, const Opts *o, int n, char **paths);
int cmd_emulate_close(Forge *f, const Opts *o, int n, char **paths);
int cmd_rogue_cert(Forge *f, const Opts *o, int n, char **paths);
