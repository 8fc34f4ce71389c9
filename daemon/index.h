/* SPDX-License-Identifier: Apache-2.0 */
/* index.h: the derived search index STATE/index/index.sqlite (ARCHITECTURE invariant 1); its
 * parts, daemon/index-*.c, are listed in index-internal.h */
#pragma once

/*
 * The index is derived data. Everything in it is computed from the archives
 * alone, it can be deleted and rebuilt at any time (index_rebuild, `logsealctl
 * reindex`), and nothing in it is evidence: a query selects sequence numbers
 * and archive positions from it, then re-reads the records from the archives
 * (IndexBatchReader) and prints those bytes. The verifier never reads it.
 *
 * Schema (version 3). Versions 1 and 2 had a row per record (records, with indexes on
 * time, host and app: about 4-6 µs of CPU per message to keep); index_open() drops that table,
 * creates batch_keys and empties the index, which the next catch-up fills again from the
 * archives. An index of another version is refused (-EPROTONOSUPPORT); `logsealctl reindex`
 * makes it again.
 *   meta(key PRIMARY KEY, value)        'schema_version' = 3, 'chain_id' = 32 hex digits
 *   position(id = 0, gen, archive_no, offset, next_batch_no, next_seq,
 *            last_archive_no, last_offset, last_header_hash)
 *                                       where catching up resumes: the archive and byte
 *                                       offset of the next unindexed frame (offset 0: the
 *                                       archive header is still to be read), and the last
 *                                       indexed batch (its place and header hash) so that a
 *                                       change of the archives under the index is noticed
 *   batches(batch_no PRIMARY KEY, archive_no, offset, first_seq, record_count, min_time,
 *           max_time, header_hash)      offset: the batch's frame in its archive; min_time
 *                                       and max_time: its records' receive times (indexed:
 *                                       batches_time on min_time)
 *   batch_keys(kind, name, batch_no) PRIMARY KEY (kind, name, batch_no)
 *                                       the distinct keys of each batch's records: kind 0
 *                                       the syslog host name, 1 the app name, 3 the facility
 *                                       and 4 the severity in decimal (from ls_syslog_parse of
 *                                       the raw body; absent ones are not stored), 2 the
 *                                       sender identity (SPEC §3, "subject=S peer=P" from a
 *                                       trusted front end)
 *   messages                            (optional) FTS5 of the syslog bodies, rowid = seq
 * A query selects batches from it (time range, keys, seq range, full-text rowids), then
 * reads those batches from the archives and keeps the records that match (index_query).
 *
 * u64 values (seq, times) are stored as SQLite's signed 64-bit integers; times are
 * meaningful up to the year 2262. host/app/procid/msgid are the raw bytes of the message
 * (TEXT, UTF-8 not checked). msg_time_ns is the sender's timestamp; without a zone in the
 * message it is the sender's wall clock read as UTC.
 *
 * Authenticity: rows say where a record is, never that it is genuine. With an IndexAuth set
 * (index_set_auth, index_batch_reader_set_auth: `logsealctl reindex` and `query`), a batch is
 * indexed, and its records re-read, only when its signature verifies under a key that the
 * state directory's root key and key history let sign it (SPEC §9.3, decided by the trust
 * module formats/read/trust.c). logseald's own indexing thread runs confined, without keys/:
 * what it indexes is checked when a query re-reads it.
 *
 * Threads: an Index is one SQLite connection; use it from one thread at a time. Several
 * processes may open the same file (WAL mode): a `logsealctl query` reads while the
 * daemon's indexer writes, and two writers (the daemon and `logsealctl reindex`) take
 * turns per batch, each noticing the other's progress (the position's generation).
 */

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "defs.h"
#include "record.h"

#define INDEX_SCHEMA_VERSION 3

typedef struct Index Index;

/* Log levels for IndexLogFn, as syslog's. */
enum {
        INDEX_LOG_ERR = 3,
        INDEX_LOG_WARNING = 4,
        INDEX_LOG_INFO = 6,
};

/* The index never prints: notes go to this callback (when set). */
typedef void (*IndexLogFn)(void *userdata, int level, const char *msg);

typedef struct IndexProgress {
        uint64_t archive_no;      /* archive being read */
        uint64_t records_added;   /* during this call */
        uint64_t bytes_done;      /* archive bytes read during this call */
        uint64_t bytes_total;     /* archive bytes to read, as found at the start of the call */
} IndexProgress;

/* Called after every indexed batch. */
typedef void (*IndexProgressFn)(void *userdata, const IndexProgress *p);

/*
 * Opens STATE/index/index.sqlite (mode 0640 when created; the directory 0750 when missing,
 * as in state directories of older versions), creating the schema when the file is new. journal_mode=WAL, synchronous=NORMAL, a 10 s busy timeout.
 * Errors: -EXDEV the index belongs to another chain; -EPROTONOSUPPORT an unknown schema
 * version; -EUCLEAN not an SQLite database or corrupt (delete it and reindex); -EACCES,
 * -EROFS, -ENOSPC, -ENOMEM, -EIO. index_last_error(NULL) then says more (per thread).
 */
int index_open(Index **ret, int state_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN]);
/* Removes STATE/index.sqlite and its -wal and -shm, where older versions kept the index:
 * the number of files removed, or -errno. logseald calls it before it confines itself,
 * logsealctl reindex before it rebuilds. */
int index_remove_legacy(int state_dirfd);
Index *index_free(Index *ix);

void index_set_log(Index *ix, IndexLogFn fn, void *userdata);
void index_set_progress(Index *ix, IndexProgressFn fn, void *userdata);
/*
 * Batches whose tree_size is above max_tree_size are left for later (default: no limit).
 * The daemon passes its durable tree size, so that a batch written but not yet
 * fdatasync'd is never indexed.
 */
void index_set_limit(Index *ix, uint64_t max_tree_size);

/*
 * What the last failing call was about, e.g. "chain-…-00000003.lsa: offset 1234567:
 * batch payload: hash mismatch". With ix NULL: the last index_open failure of this thread.
 */
const char *index_last_error(const Index *ix);

/*
 * Indexes everything in the archives (chain-<id>-<n>.lsa in archive_dirfd, in archive_no
 * order) that is not indexed yet, from the stored position: each batch in one
 * transaction with its records and the new position. Returns 0 when it reached the end
 * of what is there — including an open archive that ends in a torn tail or is still
 * being appended to (call again later) — with *ret_records_added (may be NULL) the number
 * of records added. Idempotent.
 * Errors (index_last_error() names the file and the offset):
 *   -EBADMSG  the archives are damaged or inconsistent (a frame that is not one, a payload
 *             that does not match its header, a batch missing from the sequence, an
 *             archive of another chain); indexing stops there, nothing after it is indexed
 *   -EKEYREJECTED  (with an IndexAuth) a batch that is not authentic: its signature does not
 *             verify, or its key may not sign it; indexing stops there, nothing after it is
 *             indexed
 *   -ESTALE   the index does not match the archives any more (the last indexed batch is
 *             not where the index says, an archive it was reading is gone): rebuild it
 *   -EUCLEAN, -EBUSY, -ENOSPC, -EIO, -ENOMEM: the SQLite file; -errno from reading archives
 */
int index_catch_up(Index *ix, int archive_dirfd, uint64_t *ret_records_added);

/* Drops every row, resets the position and catches up (`logsealctl reindex`). */
int index_rebuild(Index *ix, int archive_dirfd, uint64_t *ret_records_added);

/* Number of records in the indexed batches. */
int index_record_count(Index *ix, uint64_t *ret);

/* Full-text index (FTS5) of message bodies: 1 created (reindex to fill it), 0 present. */
int index_enable_fulltext(Index *ix);
int index_has_fulltext(const Index *ix);

/* ---- authenticity: which batches the state directory's keys vouch for ---- */

/*
 * The state directory's trust material: root.pub and keys/history.lsk (every certificate and
 * revocation and epoch close the appliance made), fed to the trust module formats/read/trust.c,
 * which alone decides which key may sign which batch. Reloads the history when it meets a key the history did not
 * certify when it was loaded (logseald rotated meanwhile).
 * index_auth_new errors: -ENOENT, -EACCES, … (root.pub, keys/history.lsk), -EBADMSG (either
 * one malformed), -ENOMEM; index_auth_error(NULL) then says which file (per thread).
 */
typedef struct IndexAuth IndexAuth;

int index_auth_new(IndexAuth **ret, int state_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN]);
IndexAuth *index_auth_free(IndexAuth *a);
const char *index_auth_error(const IndexAuth *a);
/*
 * Is batch h authentic (ls_trust_check_batch: a key of this chain certified from the root,
 * a signature that verifies, the key's epoch, window and close, revocations)? 0 yes;
 * -EKEYREJECTED no, with the reason in why; other -errno when the history cannot be reread.
 */
int index_auth_batch(IndexAuth *a, const LsBatchHeader *h, char *why, size_t cap);

/* Catch-up and rebuild index only authentic batches (a stays the caller's). */
void index_set_auth(Index *ix, IndexAuth *a);

/* ---- queries: the index selects, the archives answer ---- */

typedef struct IndexFilter {
        const char *host;         /* NULL: any */
        const char *app;          /* NULL: any */
        uint64_t from_ns;         /* receive time, inclusive */
        uint64_t to_ns;           /* exclusive; UINT64_MAX: no end */
        int syslog_only;          /* only type 1 (syslog) records */
        uint64_t limit;           /* 0: no limit */
        int has_facility;         /* facility == facility */
        int facility;
        int has_severity;         /* severity <= severity (as severe or more) */
        int severity;
        uint64_t seq_from;        /* inclusive */
        uint64_t seq_to;          /* exclusive; 0: no end */
        const char *match;        /* full-text: records whose message has these words */
        const char *identity;     /* NULL: any; else the sender identity is "subject=S" or
                                   * "subject=S peer=..." with S this, or is this whole */
} IndexFilter;


/* Where the index says a record is. */
typedef struct IndexHit {
        uint64_t seq;
        uint64_t time_ns;         /* as indexed (the archive's value is the truth) */
        uint64_t batch_no;
        uint64_t archive_no;
        uint64_t offset;          /* the batch's frame in that archive */
        uint8_t header_hash[LS_HASH_LEN];
} IndexHit;

/* Return 0 to go on, <0 to stop index_query() with that value. */
typedef int (*IndexHitFn)(void *userdata, const IndexHit *hit);

typedef struct IndexBatchReader IndexBatchReader;

/*
 * Calls fn for each matching record in (time_ns, seq) order. The index selects batches
 * (their time range, host/app/identity/facility/severity keys, seq range, full-text rowids); b re-reads each
 * one from the archives and the records that match f there are passed on (the archive
 * decides, index_filter_match). A batch b cannot read (gone, damaged, not authentic with
 * b's IndexAuth, not where the index says) is passed on as one hit, its first record, so
 * that fn's index_batch_reader_get() meets and reports the failure. Memory: the matches of
 * batches whose time ranges overlap (normally one batch's).
 */
int index_query(Index *ix, IndexBatchReader *b, const IndexFilter *f, IndexHitFn fn,
                void *userdata);
/* Batches the last index_query() read whose archive contradicts the index (none of their
 * records has the host, app or identity they were selected for, or another time range or
 * seq range than the index says): the index is out of step, rebuild it. */
uint64_t index_query_mismatches(const Index *ix);

/*
 * The fields the index derives from a record, computed the same way at query time from
 * the re-read record. Spans point into rec->body; len 0 means absent. Control records
 * have no syslog fields.
 */
typedef struct IndexFields {
        int facility;             /* -1: none */
        int severity;             /* -1: none */
        int have_msg_time;
        int64_t msg_time_ns;
        const uint8_t *host, *app, *procid, *msgid;
        size_t host_len, app_len, procid_len, msgid_len;
        char peer[64];            /* "" when none */
        int have_port;
        uint16_t port;
} IndexFields;

void index_record_fields(const LsRecord *rec, IndexFields *f);

/*
 * What batch_keys takes from one record: the host, app, facility and severity of a syslog
 * record whose body parses (m: ls_syslog_parse of rec->body with opts.now =
 * rec->time_ns / 10^9, having returned 0; NULL when it did not or rec is not syslog), and its
 * sender identity. Spans point into rec; len 0 (or -1) means absent. The archive path
 * (index-writer.c) and logseald's ingest (carrying keys to the live index, batchkeys.h) both
 * take the keys from here, so both give the same rows.
 */
typedef struct IndexKeyTuple {
        const uint8_t *host, *app, *identity;
        uint32_t host_len, app_len, identity_len;
        int facility;             /* 0-23, or -1 */
        int severity;             /* 0-7, or -1 */
} IndexKeyTuple;

struct LsSyslogMsg;
void index_record_keys(const LsRecord *rec, const struct LsSyslogMsg *m, IndexKeyTuple *k);

/* Whether a re-read record's fields match the filter (the archive decides, not the index). */
int index_filter_match(const IndexFilter *f, const LsRecord *rec, const IndexFields *fl);

/*
 * Re-reads records from the archives at the places an IndexHit names. Keeps the last
 * batch decoded (hits of one batch come together), so memory is bounded by one batch.
 */
int index_batch_reader_new(IndexBatchReader **ret, int archive_dirfd,
                           const uint8_t chain_id[LS_CHAIN_ID_LEN]);
IndexBatchReader *index_batch_reader_free(IndexBatchReader *b);
/*
 * The record hit->seq from the archive: the frame at hit->offset of archive
 * hit->archive_no must be a batch of this chain and archive with batch number
 * hit->batch_no and header hash hit->header_hash whose payload matches its header
 * hash, and it must hold that seq. *rec points into the reader until the next call.
 * -ESTALE when the archive does not hold it there (the index is out of step: reindex),
 * -EBADMSG when the batch there is damaged, -ENOENT when the archive is gone,
 * -EKEYREJECTED (with an IndexAuth) when the batch is not authentic (index_auth_batch);
 * index_batch_reader_error() says more.
 */
int index_batch_reader_get(IndexBatchReader *b, const IndexHit *hit, LsRecord *rec);
/* get() returns only records of authentic batches (a stays the caller's). */
void index_batch_reader_set_auth(IndexBatchReader *b, IndexAuth *a);
const char *index_batch_reader_error(const IndexBatchReader *b);
/* The header of the batch the last successful get() read from (salts come from its seed). */
const LsBatchHeader *index_batch_reader_header(const IndexBatchReader *b);

/* ---- the daemon's indexing thread ---- */

/*
 * A thread that keeps the index caught up while logseald runs. Call pattern:
 *   after recovery:                index_worker_start() (failure: run without an index)
 *   after each durable batch       index_worker_kick(w, durable tree size)  — cheap, never
 *   (the sealer's eventfd):        waits for SQLite; kicks while it works coalesce
 *   at exit, after sealer_stop():  index_worker_stop(w) — stops between two batches
 * Only batches within the durable tree size are indexed. -ESTALE (the archives changed
 * under the index, e.g. recovery cut a batch the index held) makes it rebuild the index;
 * other errors are logged once each and retried at the next kick. What remains unindexed
 * at exit is indexed after the next start's first durable batch.
 */
typedef struct IndexWorker IndexWorker;

int index_worker_start(IndexWorker **ret, int state_dirfd, int archive_dirfd,
                       const uint8_t chain_id[LS_CHAIN_ID_LEN], int fulltext, IndexLogFn log,
                       void *userdata);
void index_worker_kick(IndexWorker *w, uint64_t durable_tree_size);
/*
 * Before the first kick: the keys logseald's ingest found, per durable batch (batchkeys.h,
 * q stays the caller's and must outlive w). A batch whose set is there is indexed from it
 * (its payload is read and checked against its header, not decompressed and parsed), any
 * other from the archive as always. With a full-text index the bodies are needed: q is
 * closed.
 */
struct BkQueue;
void index_worker_carry(IndexWorker *w, struct BkQueue *q);
/* ret_carried, ret_read (may be NULL): how many batches it indexed from carried keys (see
 * index_worker_carry) and from the archives. */
IndexWorker *index_worker_stop(IndexWorker *w, uint64_t *ret_carried, uint64_t *ret_read);
