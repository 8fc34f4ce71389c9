/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle-reader-internal.h: what the parts of the bundle reader share (not installed, not
 * for callers: bundle-reader.h is the interface).
 *
 *   bundle-reader.c   the reader: findings, step 2 (checkpoint and evidence header),
 *                     step 4 (the checkpoint's signature) and the order of the steps
 *   bundle-files.c    names, the manifest and step 1 (the bundle's files)
 *   bundle-keys.c     step 3: the key material (histories, certificates, revocations, closes)
 *   bundle-entries.c  steps 5 and 6: the entries, their inclusion proofs, the custody record
 *   bundle-ahead.c    the entries' leaves and proofs hashed ahead on worker threads
 */
#pragma once

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "bundle-reader.h"
#include "work-pool.h"

#define IOBUF_LEN 65536
#define MAX_KEY_SOURCES 64
#define NAME_MAX_LEN 255

typedef struct ManEntry {
        char name[NAME_MAX_LEN + 1];
        uint8_t hash[LS_HASH_LEN];
        uint64_t offset;            /* of its line in the manifest */
} ManEntry;

typedef struct KeySource {
        char *name;
        uint8_t *p;
        size_t n;
} KeySource;

/* The bundle's three evidence files: what step 1 already said about each. */
enum { F_EVIDENCE, F_CHECKPOINT, F_KEYS, F_COUNT };

typedef struct Stream {
        int fd;
        uint64_t off;               /* file offset of buf[pos] */
        uint64_t size;              /* from fstat at open */
        size_t pos, len;
        uint8_t *buf;               /* IOBUF_LEN */
} Stream;

struct LsBundleReader {
        LsBundleCallbacks cb;
        LsChainVerifier *v;
        KeySource srcs[MAX_KEY_SOURCES];
        size_t nsrcs;
        int used;

        const char *label;
        char fname[NAME_MAX_LEN + 4096 + 2];  /* label/name of the current finding */
        LsBundleSummary *s;
        int dirfd;

        ManEntry *man;              /* manifest lines, sorted by name after step 1 */
        size_t nman;
        int man_usable;             /* a manifest was read: unlisted files are findings */
        int reported[F_COUNT];      /* step 1 reported a problem with this file */

        int have_chain;             /* the chain the key material must belong to */
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        char cp_text[LS_MAX_CHECKPOINT_TEXT + 1];
        size_t cp_len;

        uint8_t *iobuf;             /* IOBUF_LEN */
        uint8_t *rec;               /* one record, grown up to LS_MAX_RECORD_LEN */
        size_t rec_cap;
        uint8_t proof[LS_BUNDLE_MAX_PROOF_LEN];
        struct Ahead *ahead;        /* entries hashed ahead on worker threads, or NULL */

        /* evidence.lsb of a later format (SPEC §14.1, §1.1): bundle-later.c */
        int later;
        uint16_t later_version, later_flags, later_size;
        uint64_t later_custody_offset;
        uint8_t later_hdr[LS_BUNDLE_LATER_HEADER_MAX];
};

/* A finding of class TAMPERED; `code` is the caller's local of that name. */
#define TAMPERED(b, check, file, off, seq, ...)                                                   \
        bundle_finding(b, LS_CLASS_TAMPERED, code, check, file, off, LS_UNSET, seq, __VA_ARGS__)

/* bundle-ahead.c: the window of entries hashed ahead */
#define AHEAD_MAX_ENTRIES 4096
#define AHEAD_BYTES ((size_t) 4 << 20)
#define AHEAD_NOT_RUN 1 /* incl: the worker did not verify the proof */

typedef struct AheadEntry {
        uint64_t off;      /* file offset of the entry */
        LsBundleEntry e;
        size_t data;       /* record ‖ proof in bytes[] */
        uint8_t leaf[LS_HASH_LEN];
        int incl;          /* ls_verify_inclusion(), or AHEAD_NOT_RUN */
} AheadEntry;

typedef struct AheadJob {
        LsPoolJob pj;
        struct Ahead *a;
        size_t from, to;
} AheadJob;

typedef struct Ahead {
        LsPool *pool;
        uint64_t first, stalled; /* entry index of ent[0]; index where a fill found none */
        size_t n;
        uint64_t tree_size;
        const uint8_t *root;     /* NULL: the proofs are not checked */
        AheadEntry ent[AHEAD_MAX_ENTRIES];
        AheadJob jobs[64];
        uint8_t *bytes;          /* AHEAD_BYTES */
} Ahead;

/* bundle-reader.c */
__attribute__((format(printf, 9, 10))) void bundle_finding(LsBundleReader *b, LsClass cls, int code,
                                                          const char *check, const char *file,
                                                          uint64_t offset, uint64_t batch_no,
                                                          uint64_t seq, const char *fmt, ...);
const char *bundle_errname(int code);
int bundle_read_full(int fd, void *p, size_t n);
ssize_t bundle_stream_read(Stream *st, void *dst, size_t n);

/* bundle-files.c */
void bundle_step_manifest(LsBundleReader *b);
int bundle_open_required(LsBundleReader *b, int which, struct stat *st);

/* bundle-keys.c */
void bundle_step_keys(LsBundleReader *b);

/* bundle-entries.c */
void bundle_step_entries(LsBundleReader *b, Stream *st);

/* bundle-later.c: step 5 and 6 for an evidence.lsb of a later format */
void bundle_step_later(LsBundleReader *b, Stream *st);

/* bundle-ahead.c */
const AheadEntry *bundle_ahead_get(LsBundleReader *b, const Stream *st, uint64_t i, uint64_t off,
                                   uint64_t left, const LsBundleEntry *e);
