/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chain-verify-internal.h: what the parts of the chain verifier share (not for callers:
 * chain-verify.h is the interface).
 *
 *   chain-verify.c     classes, findings, keys (all decided by trust.c), setup
 *   chain-batch-job.c  the worker side: what depends only on one batch's own bytes
 *   chain-batch.c      the in-order checks of one batch (links, trust, tree, heartbeats)
 *   chain-archive.c    archive header and seal, the window of batches in flight, the
 *                      archive reading loop (ls_chain_verify_archive)
 *   chain-summary.c    the end of the run: the review, the verdict, the guarantee text
 *
 * The worker pool itself is work-pool.c.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "chain-verify.h"
#include "merkle.h"
#include "payload.h"
#include "work-pool.h"

typedef struct ArchiveCtx {
        const char *file;
        int have_header;          /* a structurally valid header was read */
        int header_verified;
        LsArchiveHeader hdr;
        uint64_t offset_header;
        int damaged;              /* any damage or failed batch in this archive */
        int later;                /* a structure of a later format was met (SPEC §1.1) */
        uint64_t batches, records, min_time, max_time;
        uint64_t first_batch_no;
        int have_last_no;         /* a batch header was read in this archive ... */
        uint64_t last_no;         /* ... the last one's batch_no: the seal's key must be one
                                   * that may sign it or the next (not the batch the seal's own
                                   * batch_count names) */
        int have_last;
        LsBatchHeader last;       /* last verified batch */
        LsArchiveSummary sum;
} ArchiveCtx;

/*
 * Parallel verification: everything that depends only on one batch's own bytes
 * (payload digest, decompression, record decoding, salts, leaves and the perfect
 * subtrees of its leaves) is a BatchJob, run on worker threads; the job's results
 * are then taken in file order by chain_verify_batch(), which makes every decision
 * (links, trust, tree, findings, callbacks) on the caller's thread exactly as a
 * sequential verifier would. With one job there are no threads and the same
 * functions run one after the other.
 */

/* What the in-order pass needs of each record (its bytes stay in the job's payload). */
typedef struct RecInfo {
        uint64_t time_ns;
        uint32_t off, len; /* the record's encoding in the decompressed payload */
        uint16_t flags;
        uint8_t type;
} RecInfo;

/* Perfect subtrees of one batch's leaves: at most two per level. */
#define MAX_SUBTREES 130

typedef struct BatchJob {
        LsPoolJob pj; /* first: the pool hands this back */
        struct BatchJob *next;
        /* input */
        LsBatchHeader h;
        uint64_t offset, length;
        uint8_t *payload;
        size_t payload_cap, payload_len;
        LsPayload *pc;
        LsDict *dict;    /* the archive's dictionary (a reference), NULL: none */
        size_t held_raw; /* the largest decompressed payload pc has held */
        size_t cost; /* bytes counted against the window's budget */
        /* results */
        int open_r;           /* ls_payload_open() */
        int err;              /* -ENOMEM: no room for the records' facts */
        int k;                /* the last ls_payload_next() */
        size_t roff;
        uint64_t it_next_seq;
        uint32_t it_index;
        uint32_t nrec;
        RecInfo *recs;
        size_t recs_cap;
        uint64_t tmin, tmax;
        unsigned nsub;
        struct {
                uint8_t hash[LS_HASH_LEN];
                unsigned height;
        } sub[MAX_SUBTREES];
} BatchJob;

/* Jobs kept for reuse only while their buffers are small. */
#define JOB_KEEP_BYTES (8u << 20)
#define DEFAULT_BUDGET ((size_t) 256 << 20)

struct LsChainVerifier {
        LsVerifyCallbacks cb;
        LsTrust *trust;

        /* the window of batches in flight, oldest first, bounded by budget bytes */
        unsigned jobs;
        size_t budget, win_bytes;
        size_t kept_bytes;            /* buffers of the jobs kept for reuse, at most budget */
        unsigned win_count, max_count;
        LsPool *pool;
        BatchJob *win_head, *win_tail, *free_jobs;

        int have_chain;
        uint8_t chain_id[LS_CHAIN_ID_LEN];

        /* where the next batch must continue */
        int have_prev_batch;
        int links_known;          /* next_* and prev_header_hash are trustworthy */
        uint64_t next_batch_no, next_seq;
        uint8_t prev_header_hash[LS_HASH_LEN];
        int tree_valid;
        LsMerkle tree;

        /* archive chain */
        int have_prev_archive;
        int prev_archive_sealed;
        uint64_t next_archive_no;
        uint8_t prev_seal_hash[LS_HASH_LEN];

        /* heartbeat coverage (SPEC §11): silence longer than the announced interval */
        uint64_t hb_ns;               /* from the last START, 0: not announced */
        int confine_noted;            /* a run without confinement was noted (SPEC §4.5) */
        uint64_t last_time;           /* time of the previous record, LS_UNSET: unknown */
        int last_was_stop;
        struct {
                int active;
                uint64_t from, to, batch, seq, offset;
        } gap;

        int first_archive_seen;
        uint8_t last_key_id[LS_KEY_ID_LEN];   /* key of the last verified batch */
        int have_history;                     /* a key history came from the investigator */
        uint64_t upto;                        /* ls_chain_verifier_set_upto; LS_UNSET: all */
        int upto_reached;                     /* batch upto was taken: examine nothing more */
        int later_seen;                       /* an authentic structure of a later format was
                                               * met (SPEC §1.1) */
        uint64_t later_batch;                 /* the greatest batch number such a structure
                                               * concerns; LS_UNSET: none */
        char guarantee[512];
        uint64_t first_archive_no;
        int last_archive_open;
        ArchiveCtx a;
        LsVerifyStats st;
};

/* chain-verify.c */
__attribute__((format(printf, 8, 9))) void chain_report(LsChainVerifier *v, LsClass cls, int code,
                                                       const char *check, uint64_t offset,
                                                       uint64_t batch_no, uint64_t seq,
                                                       const char *fmt, ...);

/* chain-batch-job.c */
void chain_job_run(LsPoolJob *pj);
void chain_job_free(BatchJob *j);

/* chain-batch.c */
void chain_verify_batch(LsChainVerifier *v, BatchJob *j);
void chain_report_gap(LsChainVerifier *v);
/* An authentic structure of a later format concerning batch b was met (SPEC §1.1). */
void chain_later_seen(LsChainVerifier *v, uint64_t b);
/* May a key this verifier does not know sign batch b, not judged (SPEC §1.1)? */
int chain_later_unknown_ok(LsChainVerifier *v, uint64_t b);

/* chain-archive.c */
void chain_verify_archive_header_sig(LsChainVerifier *v);
