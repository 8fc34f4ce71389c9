/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify.h: what the parts of logseal-verify share. One mode per file (archives.c,
 * bundle.c, consistency.c), the inputs they read (inputs.c, trust-files.c), what they
 * print (dump.c, report.c, report-bundle.c) and the command line (logseal-verify.c).
 * Prototypes are grouped by source file.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "bundle-reader.h"
#include "chain-verify.h"
#include "checkpoint.h"
#include "report.h"

/* An archive file to verify, and where the chain puts it (from its header). */
typedef struct Input {
        char *path;
        int header_ok;
        uint64_t archive_no;
} Input;

/* A --checkpoint file, and what the evidence says about it. */
typedef struct Checkpoint {
        char *file;
        char *text;
        size_t len;
        LsCheckpoint cp;
        int matched;
        int agrees;             /* the verified batch at its tree size is the one it names */
        int authentic;          /* a key that may sign its batch signed it, bound (§9.3) */
        uint64_t matched_batch;
        uint64_t matched_time_ns; /* that batch's latest record time */
        CheckpointCheck check;
} Checkpoint;

/* --dump: text escaped for people (text.h), raw bytes (to a pipe only), JSON lines. */
typedef enum DumpMode { DUMP_NONE, DUMP_RAW, DUMP_JSON, DUMP_TEXT } DumpMode;

/* The command line, once parsed (logseal-verify.c). */
typedef struct Options {
        const char *root_file, *report_file, *consistency, *proof;
        const char *upto;               /* --upto FILE: the evidence ends at its batch */
        unsigned jobs;                  /* --jobs; 0: one per online CPU */
        uint8_t root_pk[LS_PK_LEN];     /* read from root_file: the only trust anchor */
        const char *keyfiles[64], *cpfiles[64];
        size_t nkeyfiles, ncpfiles;
        int json, quiet;
} Options;

/* One run of the verifier: its report and what the modes accumulate. */
typedef struct Ctx {
        Report report;
        LsChainVerifier *v;
        Input *inputs;
        size_t ninputs;
        Checkpoint *cps;
        size_t ncps;
        int have_upto;
        size_t upto_index;      /* --upto: cps[upto_index] */
        DumpMode dump;
        uint64_t dump_from, dump_to, dump_seq_from, dump_seq_to;
        int progress;
        const char *current_file;
        int oom;
} Ctx;

enum { NOT_BUNDLE, BUNDLE_DIR, BUNDLE_TAR };

/* ---- archives.c: a --keys history that conflicts with the evidence (SPEC §9.3) ---- */

/* The input error naming the conflict (both keys, the epoch, the history files). */
void add_conflict_finding(Ctx *c, const LsTrustConflict *k, const Options *o);
/* A note: what the verdict was with that history (its worst finding). */
void verdict_with_history(const Ctx *c, LsFinding *f);

/* ---- logseal-verify.c ---- */

/*
 * Prints a report (text, or JSON with --json) to out unless quiet, and with --report FILE
 * writes FILE (text) and FILE.json: 0, or 2 when a report file cannot be written.
 */
typedef struct ReportWriter {
        void (*text)(void *userdata, FILE *f);
        int (*json)(void *userdata, FILE *f);   /* <0: the report file is not complete */
        void *userdata;
} ReportWriter;
int emit_report(const ReportWriter *w, const Options *o, FILE *out);

/* ---- inputs.c ---- */

uint64_t now_ns(void);
/* A regular file of at most max bytes, NUL-terminated (*ret_len excludes the NUL). */
int read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len);
/* An archive, or the archive candidates of a directory tree (SPEC §8.5), into c->inputs. */
int add_path(Ctx *c, const char *path, int depth);
/* Sorts c->inputs in chain order (from their signed headers, never their names). */
void sort_inputs(Ctx *c);
/* NOT_BUNDLE, BUNDLE_DIR or BUNDLE_TAR. */
int bundle_kind(const char *path);

/* ---- trust-files.c ---- */

/* A --keys file into the chain verifier's trust module (errors printed). */
int load_keys(Ctx *c, const char *path);
/* A --checkpoint file into c->cps (errors printed). */
int load_checkpoint(Ctx *c, const char *path);
/* A checkpoint file read and parsed, at most max bytes (errors printed). */
int read_checkpoint(const char *path, size_t max, LsCheckpoint *cp, char **ret_text,
                    size_t *ret_len);
/* 1 (and a hint printed) when the anchor given is a later root of the evidence's chain. */
int later_root_hint(LsTrust *t);

/* ---- dump.c ---- */

/* A record as JSON: the --dump=json line, and a disclosed record of a bundle report. */
json_t *record_json(const LsRecord *rec);
/* Prints rec with --dump when it is in the --from/--to/--seq range. */
void dump_record(Ctx *c, const LsRecord *rec);

/* ---- archives.c ---- */

/* Verifies the archives in paths as one chain and reports: the exit status. */
int run_archives(Ctx *c, const Options *o, char *const *paths, size_t npaths);

/* ---- bundle.c ---- */

typedef struct BundleRec {
        uint8_t *bytes;                 /* the record's encoding, decoded again to print */
        size_t len;
} BundleRec;

typedef struct BundleFileRow {
        char *name;
        LsBundleFileStatus status;
        uint64_t size;
        int have_hash;
        uint8_t sha256[LS_HASH_LEN];
        int authenticated;              /* an evidence file (LsBundleFile) */
} BundleFileRow;

typedef struct BundleCp {
        const Checkpoint *cp;
        const char *result;
        char detail[256];
} BundleCp;

typedef struct Bundle {
        Ctx *c;
        const char *path;
        int kind;
        LsBundleReader *reader;
        LsBundleSummary sum;
        BundleRec *recs;
        size_t nrecs, rec_bytes;
        uint64_t recs_not_listed;
        BundleFileRow *files;
        size_t nfiles;
        BundleCp *cps;
        size_t ncps;
} Bundle;

/* Verifies one bundle (directory or tar) and prints its report: the exit status. */
int run_bundle(Ctx *c, const Options *o, const char *path, int kind);

/* ---- report-bundle.c ---- */

void bundle_write_text(Bundle *b, FILE *f);
int bundle_write_json(Bundle *b, FILE *f);

/* ---- consistency.c ---- */

/* --consistency OLD NEW: the exit status. */
int run_consistency(Ctx *c, const Options *o, const char *old_path, const char *new_path);
