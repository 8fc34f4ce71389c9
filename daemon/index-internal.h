/* SPDX-License-Identifier: Apache-2.0 */
/*
 * index-internal.h: what the parts of the index share; index.h is the interface.
 *   index-schema.c    the SQLite file: schema, opening, errors and notes
 *   index-archives.c  reading the archives: which there are, their headers and frames
 *   index-writer.c    the derived fields, the position, catching up and rebuilding
 *   index-worker.c    logseald's indexing thread
 *   index-query.c     queries, and re-reading the records they select from the archives
 *   index-auth.c      which batches the state directory's keys vouch for
 * Prototypes are grouped by source file.
 */
#pragma once

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "archive.h"
#include "batch.h"
#include "index.h"
#include "payload.h"

#define ERR_MAX 512

/* Where catching up resumes (the position row). */
typedef struct Pos {
        int64_t gen;
        uint64_t archive_no;
        uint64_t offset;           /* 0: the archive header is still to be read */
        int have_last;             /* a batch was indexed: the fields below are set */
        uint64_t next_batch_no;
        uint64_t next_seq;
        uint64_t last_archive_no;
        uint64_t last_offset;
        uint8_t last_hash[LS_HASH_LEN];
} Pos;

/* What batch_keys holds for a batch: each distinct host, app, sender identity, facility and
 * severity of its records (index.h). */
enum {
        IX_KEY_HOST = 0,
        IX_KEY_APP = 1,
        IX_KEY_IDENTITY = 2,
        IX_KEY_FACILITY = 3,       /* name: the number in decimal, "0" to "23" */
        IX_KEY_SEVERITY = 4,       /* "0" to "7" */
};

/* A key of the batch being indexed; p points into the decoded payload (NULL: free slot). */
typedef struct IxKey {
        const uint8_t *p;
        uint32_t len;
        uint32_t hash;
        int kind;
} IxKey;

struct Index {
        sqlite3 *db;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        sqlite3_stmt *get_pos, *set_pos, *ins_batch, *ins_key, *begin, *commit, *rollback;
        sqlite3_stmt *ins_fts;     /* full-text index of messages, when enabled */
        LsPayload *payload;
        LsDict *dict;              /* the dictionary of archive dict_no (SPEC §8.6), or NULL */
        uint64_t dict_no, dict_end; /* dict_end: where that archive's batches start */
        IxKey *keys;               /* the distinct keys of the batch being indexed: an */
        size_t keys_cap, nkeys;    /* open-addressing set of keys_cap (a power of 2) slots */
        uint8_t *buf;              /* one frame: batch header and payload */
        size_t cap;
        uint64_t limit;            /* max tree_size to index */
        const atomic_int *cancel;  /* set: stop between batches */
        IndexAuth *auth;           /* set: only authentic batches are indexed */
        IndexLogFn log;
        void *log_ud;
        IndexProgressFn progress;
        void *progress_ud;
        uint64_t query_mismatches; /* of the last index_query() */
        struct BkQueue *carried;   /* logseald: the keys ingest found (batchkeys.h), or NULL */
        uint64_t batches_carried, batches_read; /* indexed from carried keys, from archives */
        char err[ERR_MAX];
};

/* An archive file found in the directory. */
typedef struct Arch {
        uint64_t no;
        uint64_t size;
} Arch;

typedef enum FrameKind {
        FRAME_BATCH,
        FRAME_TRAILER,
        FRAME_INCOMPLETE,          /* runs past the end of the file (still being written?) */
        FRAME_DAMAGE,
} FrameKind;

typedef struct Frame {
        FrameKind kind;
        uint64_t end;              /* offset after the frame */
        LsBatchHeader batch;
        const uint8_t *payload;    /* into the caller's buffer */
        LsTrailer trailer;
        const char *what;          /* DAMAGE: the failed check */
        int error;                 /* DAMAGE: the library's error class */
        uint64_t error_offset;
} Frame;

/* SQLite stores signed 64-bit integers; every u64 here is far below 2^63 in practice. */
static inline int64_t i64(uint64_t v)
{
        return v > INT64_MAX ? INT64_MAX : (int64_t) v;
}

static inline uint64_t col_u64(sqlite3_stmt *st, int i)
{
        int64_t v = sqlite3_column_int64(st, i);
        return v < 0 ? 0 : (uint64_t) v;
}

/* ---- index-schema.c ---- */

void ix_vformat(char *out, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Records the message (ix NULL: index_open's, per thread) and returns r. */
int ix_fail(Index *ix, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A note to the log callback, when set. */
void ix_note(Index *ix, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An SQLite failure: "index.sqlite: <what>: <sqlite message>". */
int ix_sql_fail(Index *ix, sqlite3 *db, int rc, const char *what);
/* The words for a formats/ library error class ("malformed", "hash mismatch", …). */
const char *ix_class_name(int error);
/* Steps st, a statement of one row, for its first column; finalizes st either way. */
int ix_one_row(Index *ix, sqlite3_stmt *st, const char *what, int64_t *ret);
/* Makes the query indexes when missing (after an interrupted rebuild). */
int ix_ensure_indexes(Index *ix);
/* Drops every row and the query indexes, and resets the position, in one transaction. */
int ix_empty(Index *ix);

/* ---- index-archives.c ---- */

/* The chain's archives numbered from `from` on, sorted. */
int ix_list_archives(Index *ix, int archive_dirfd, uint64_t from, Arch **ret, size_t *ret_n);
/* n bytes at off: -ENODATA when the file is shorter. */
int ix_pread_all(int fd, void *buf, size_t n, uint64_t off);
int ix_read_frame(int fd, uint64_t size, uint64_t off, Frame *f, uint8_t **buf, size_t *cap);
int ix_read_archive_header(Index *ix, int fd, uint64_t size, const char *name,
                           LsArchiveHeader *h, uint64_t *ret_end);
