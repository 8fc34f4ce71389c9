/* SPDX-License-Identifier: Apache-2.0 */
/* index.c: the derived SQLite search index over the archives (see index.h) */
#include <arpa/inet.h>
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "archive.h"
#include "batch.h"
#include "chain-writer.h"
#include "hash.h"
#include "index.h"
#include "magic.h"
#include "owner.h"
#include "parse.h"
#include "payload.h"
#include "state.h"
#include "util.h"

#define ERR_MAX 512
#define BUSY_TIMEOUT_MS 10000
#define CONFLICT_RETRIES 1000
#define FRAME_PEEK (LS_FRAME_HDR_LEN + LS_MAGIC_LEN)
#define WORKER_NICE 10

/* ---- schema ---- */

static const char schema_sql[] =
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE position("
        " id INTEGER PRIMARY KEY CHECK (id = 0),"
        " gen INTEGER NOT NULL,"
        " archive_no INTEGER NOT NULL,"
        " offset INTEGER NOT NULL,"
        " next_batch_no INTEGER,"
        " next_seq INTEGER,"
        " last_archive_no INTEGER,"
        " last_offset INTEGER,"
        " last_header_hash BLOB);"
        "CREATE TABLE batches("
        " batch_no INTEGER PRIMARY KEY,"
        " archive_no INTEGER NOT NULL,"
        " offset INTEGER NOT NULL,"
        " first_seq INTEGER NOT NULL,"
        " record_count INTEGER NOT NULL,"
        " min_time INTEGER NOT NULL,"
        " max_time INTEGER NOT NULL,"
        " header_hash BLOB NOT NULL);"
        "CREATE TABLE records("
        " seq INTEGER PRIMARY KEY,"
        " time_ns INTEGER NOT NULL,"
        " batch_no INTEGER NOT NULL,"
        " archive_no INTEGER NOT NULL,"
        " type INTEGER NOT NULL,"
        " transport INTEGER NOT NULL,"
        " peer TEXT,"
        " port INTEGER,"
        " conn_id INTEGER,"
        " flags INTEGER NOT NULL,"
        " facility INTEGER,"
        " severity INTEGER,"
        " host TEXT,"
        " app TEXT,"
        " procid TEXT,"
        " msgid TEXT,"
        " msg_time_ns INTEGER);"
        "INSERT INTO position(id, gen, archive_no, offset) VALUES (0, 0, 0, 0);";

/* The query indexes: dropped while index_rebuild() loads, made again after it. */
#define SECONDARY_INDEXES 3
static const char create_indexes_sql[] =
        "CREATE INDEX IF NOT EXISTS records_time ON records(time_ns);"
        "CREATE INDEX IF NOT EXISTS records_host_time ON records(host, time_ns);"
        "CREATE INDEX IF NOT EXISTS records_app_time ON records(app, time_ns);";
static const char drop_indexes_sql[] = "DROP INDEX IF EXISTS records_time;"
                                       "DROP INDEX IF EXISTS records_host_time;"
                                       "DROP INDEX IF EXISTS records_app_time;";

/* ---- types ---- */

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

struct Index {
        sqlite3 *db;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        sqlite3_stmt *get_pos, *set_pos, *ins_batch, *ins_rec, *begin, *commit, *rollback;
        sqlite3_stmt *ins_fts;     /* full-text index of messages, when enabled */
        LsPayload *payload;
        uint8_t *buf;              /* one frame: batch header and payload */
        size_t cap;
        uint64_t limit;            /* max tree_size to index */
        const atomic_int *cancel;  /* set: stop between batches */
        IndexAuth *auth;           /* set: only authentic batches are indexed */
        IndexLogFn log;
        void *log_ud;
        IndexProgressFn progress;
        void *progress_ud;
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

static _Thread_local char open_err[ERR_MAX];

/* ---- errors and notes ---- */

static void vformat(char *out, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void vformat(char *out, const char *fmt, va_list ap)
{
        vsnprintf(out, ERR_MAX, fmt, ap);
}

/* Records the message and returns r. */
static int fail(Index *ix, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(Index *ix, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vformat(ix ? ix->err : open_err, fmt, ap);
        va_end(ap);
        return r;
}

static void note(Index *ix, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(Index *ix, int level, const char *fmt, ...)
{
        char msg[ERR_MAX];
        va_list ap;

        if (!ix->log)
                return;
        va_start(ap, fmt);
        vformat(msg, fmt, ap);
        va_end(ap);
        ix->log(ix->log_ud, level, msg);
}

static int sqlite_errno(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                return -EACCES;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
        case SQLITE_FORMAT:
        case SQLITE_SCHEMA:
        case SQLITE_MISMATCH:
        case SQLITE_CONSTRAINT:
                return -EUCLEAN;
        default:
                return -EIO;
        }
}

/* An SQLite failure: "index.sqlite: <what>: <sqlite message>". */
static int sql_fail(Index *ix, sqlite3 *db, int rc, const char *what)
{
        return fail(ix, sqlite_errno(rc) ?: -EIO, "%s: %s: %s", STATE_INDEX, what,
                    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

const char *index_last_error(const Index *ix)
{
        return ix ? ix->err : open_err;
}

void index_set_log(Index *ix, IndexLogFn fn, void *userdata)
{
        ix->log = fn;
        ix->log_ud = userdata;
}

void index_set_progress(Index *ix, IndexProgressFn fn, void *userdata)
{
        ix->progress = fn;
        ix->progress_ud = userdata;
}

void index_set_auth(Index *ix, IndexAuth *a)
{
        ix->auth = a;
}

void index_set_limit(Index *ix, uint64_t max_tree_size)
{
        ix->limit = max_tree_size;
}

static const char *class_name(int error)
{
        switch (-error) {
        case EBADMSG:
                return "malformed";
        case ENODATA:
                return "truncated";
        case E2BIG:
                return "length above its maximum";
        case EPROTONOSUPPORT:
                return "unsupported version or flag";
        case EILSEQ:
                return "hash mismatch";
        default:
                return strerror(-error);
        }
}

/* SQLite stores signed 64-bit integers; every u64 here is far below 2^63 in practice. */
static int64_t i64(uint64_t v)
{
        return v > INT64_MAX ? INT64_MAX : (int64_t) v;
}

static uint64_t col_u64(sqlite3_stmt *st, int i)
{
        int64_t v = sqlite3_column_int64(st, i);
        return v < 0 ? 0 : (uint64_t) v;
}

/* ---- opening ---- */

static int exec(Index *ix, const char *sql, const char *what)
{
        int rc = sqlite3_exec(ix->db, sql, NULL, NULL, NULL);

        if (rc != SQLITE_OK)
                return sql_fail(ix, ix->db, rc, what);
        return 0;
}

static int prepare(Index *ix, sqlite3_stmt **st, const char *sql)
{
        int rc = sqlite3_prepare_v3(ix->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

        if (rc != SQLITE_OK)
                return sql_fail(ix, ix->db, rc, "preparing a statement");
        return 0;
}

/* Reads meta[key] into out (cap bytes): 1 found, 0 absent, <0 error. */
static int meta_get(Index *ix, const char *key, char *out, size_t cap)
{
        sqlite3_stmt *st = NULL;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(ix->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sql_fail(ix, ix->db, rc, "reading meta");
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const char *v = (const char *) sqlite3_column_text(st, 0);
                snprintf(out, cap, "%s", v ? v : "");
                r = 1;
        } else if (rc != SQLITE_DONE) {
                r = sql_fail(ix, ix->db, rc, "reading meta");
        }
        sqlite3_finalize(st);
        return r;
}

static int count_rows(Index *ix, const char *sql, int64_t *ret)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return sql_fail(ix, ix->db, rc, "reading the schema");
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
                return sql_fail(ix, ix->db, rc, "reading the schema");
        return 0;
}

/* Makes the query indexes when missing (after an interrupted rebuild). */
static int ensure_indexes(Index *ix)
{
        int64_t n = 0;
        int r;

        r = count_rows(ix, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN"
                           " ('records_time', 'records_host_time', 'records_app_time')",
                       &n);
        if (r < 0 || n == SECONDARY_INDEXES)
                return r;
        return exec(ix, create_indexes_sql, "creating the query indexes");
}

/* Creates the schema in a new file, or checks the version and chain of an existing one. */
static int setup_schema(Index *ix)
{
        char hex[2 * LS_CHAIN_ID_LEN + 1], v[80];
        int64_t have_meta = 0, tables = 0, pos_rows = 0;
        int r;

        ls_hex(hex, ix->chain_id, LS_CHAIN_ID_LEN);
        r = exec(ix, "BEGIN IMMEDIATE", "starting a transaction");
        if (r < 0)
                return r;
        r = count_rows(ix, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                       &have_meta);
        if (r == 0)
                r = count_rows(ix, "SELECT count(*) FROM sqlite_master", &tables);
        if (r < 0)
                goto out;
        if (!have_meta) {
                char *sql;
                if (tables > 0) {
                        r = fail(ix, -EUCLEAN, "%s: an SQLite database, but not a logseal index",
                                 STATE_INDEX);
                        goto out;
                }
                r = exec(ix, schema_sql, "creating the schema");
                if (r == 0)
                        r = exec(ix, create_indexes_sql, "creating the schema");
                if (r < 0)
                        goto out;
                sql = sqlite3_mprintf("INSERT INTO meta(key, value) VALUES ('schema_version', '%d'),"
                                      " ('chain_id', %Q)",
                                      INDEX_SCHEMA_VERSION, hex);
                if (!sql) {
                        r = fail(ix, -ENOMEM, "%s: out of memory", STATE_INDEX);
                        goto out;
                }
                r = exec(ix, sql, "creating the schema");
                sqlite3_free(sql);
                if (r < 0)
                        goto out;
        } else {
                r = meta_get(ix, "schema_version", v, sizeof(v));
                if (r < 0)
                        goto out;
                if (r == 0 || strtol(v, NULL, 10) != INDEX_SCHEMA_VERSION ||
                    strspn(v, "0123456789") != strlen(v)) {
                        r = fail(ix, -EPROTONOSUPPORT,
                                 "%s: schema version %s, this program knows version %d: delete the "
                                 "file and run 'logsealctl reindex'",
                                 STATE_INDEX, r == 0 ? "missing" : v, INDEX_SCHEMA_VERSION);
                        goto out;
                }
                r = meta_get(ix, "chain_id", v, sizeof(v));
                if (r < 0)
                        goto out;
                if (r == 0 || strcmp(v, hex) != 0) {
                        r = fail(ix, -EXDEV, "%s: an index of chain %s, not of this chain %s",
                                 STATE_INDEX, r == 0 ? "(none)" : v, hex);
                        goto out;
                }
                r = count_rows(ix, "SELECT count(*) FROM position WHERE id = 0", &pos_rows);
                if (r < 0)
                        goto out;
                if (pos_rows != 1) {
                        r = fail(ix, -EUCLEAN, "%s: the position row is missing", STATE_INDEX);
                        goto out;
                }
        }
        r = exec(ix, "COMMIT", "committing the schema");
out:
        if (r < 0)
                (void) sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

static int open_statements(Index *ix)
{
        int r = 0;

        r = r ?: prepare(ix, &ix->get_pos,
                         "SELECT gen, archive_no, offset, next_batch_no, next_seq, last_archive_no,"
                         " last_offset, last_header_hash FROM position WHERE id = 0");
        r = r ?: prepare(ix, &ix->set_pos,
                         "UPDATE position SET gen = gen + 1, archive_no = ?1, offset = ?2,"
                         " next_batch_no = ?3, next_seq = ?4, last_archive_no = ?5,"
                         " last_offset = ?6, last_header_hash = ?7 WHERE id = 0 AND gen = ?8");
        r = r ?: prepare(ix, &ix->ins_batch,
                         "INSERT OR IGNORE INTO batches(batch_no, archive_no, offset, first_seq,"
                         " record_count, min_time, max_time, header_hash)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        r = r ?: prepare(ix, &ix->ins_rec,
                         "INSERT OR IGNORE INTO records(seq, time_ns, batch_no, archive_no, type,"
                         " transport, peer, port, conn_id, flags, facility, severity, host, app,"
                         " procid, msgid, msg_time_ns)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                         " ?15, ?16, ?17)");
        r = r ?: prepare(ix, &ix->begin, "BEGIN IMMEDIATE");
        r = r ?: prepare(ix, &ix->commit, "COMMIT");
        r = r ?: prepare(ix, &ix->rollback, "ROLLBACK");
        if (r == 0) {
                int64_t fts = 0;
                r = count_rows(ix, "SELECT count(*) FROM sqlite_master WHERE name = 'messages'",
                               &fts);
                if (r == 0 && fts)
                        r = prepare(ix, &ix->ins_fts,
                                    "INSERT INTO messages(rowid, body) VALUES (?1, ?2)");
        }
        return r;
}

/*
 * Full-text search (opt-in): an FTS5 table over the message bodies, contentless (the
 * archives hold the text) and without positions (detail=none: terms, not phrases). Measured
 * on 1M records: ~30 MB and ~100k rows/s to build; a rare term answers in well under a
 * millisecond instead of a scan of every archive.
 */
#define FTS_CREATE "CREATE VIRTUAL TABLE IF NOT EXISTS messages USING fts5(body, content='', detail=none)"

int index_enable_fulltext(Index *ix)
{
        int r;

        if (ix->ins_fts)
                return 0;
        r = exec(ix, FTS_CREATE, "creating the full-text index");
        if (r == 0)
                r = prepare(ix, &ix->ins_fts, "INSERT INTO messages(rowid, body) VALUES (?1, ?2)");
        return r < 0 ? r : 1;
}

int index_has_fulltext(const Index *ix)
{
        return ix->ins_fts != NULL;
}

int index_open(Index **ret, int state_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        Index *ix;
        char path[64];
        int fd, rc, r;

        open_err[0] = 0;
        /* STATE/index/ is made by `logsealctl init`; older state directories lack it. What
         * logsealctl run as root creates is the state directory's owner's (owner.h); SQLite
         * gives its -wal and -shm files the owner of the database file. */
        if (mkdirat(state_dirfd, STATE_INDEX_DIR, STATE_INDEX_DIR_MODE) == 0) {
                fd = openat(state_dirfd, STATE_INDEX_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = fd < 0 ? -errno : state_adopt(state_dirfd, fd);
                if (fd >= 0)
                        close(fd);
                if (r < 0)
                        return fail(NULL, r, "%s: %s", STATE_INDEX_DIR, strerror(-r));
        } else if (errno != EEXIST)
                return fail(NULL, -errno, "%s: %s", STATE_INDEX_DIR, strerror(errno));
        /* Create the file ourselves: exact mode, and never through a symlink. */
        fd = openat(state_dirfd, STATE_INDEX,
                    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
        r = fd < 0 ? 0 : state_adopt(state_dirfd, fd);
        if (fd < 0 && errno == EEXIST)
                fd = openat(state_dirfd, STATE_INDEX, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return fail(NULL, -errno, "%s: %s", STATE_INDEX, strerror(errno));
        close(fd);
        if (r < 0)
                return fail(NULL, r, "%s: %s", STATE_INDEX, strerror(-r));

        ix = calloc(1, sizeof(*ix));
        if (!ix)
                return fail(NULL, -ENOMEM, "%s: out of memory", STATE_INDEX);
        memcpy(ix->chain_id, chain_id, LS_CHAIN_ID_LEN);
        ix->limit = UINT64_MAX;

        /* SQLite wants a path: name the file through the directory descriptor. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", state_dirfd, STATE_INDEX);
        rc = sqlite3_open_v2(path, &ix->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK) {
                r = sql_fail(NULL, ix->db, rc, "opening");
                goto fail;
        }
        sqlite3_busy_timeout(ix->db, BUSY_TIMEOUT_MS);
        {
                sqlite3_stmt *st = NULL;
                const char *mode = NULL;
                rc = sqlite3_prepare_v2(ix->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
                if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
                        mode = (const char *) sqlite3_column_text(st, 0);
                if (!mode || strcmp(mode, "wal") != 0) {
                        r = rc == SQLITE_ROW ? fail(NULL, -EIO, "%s: cannot use WAL mode (%s)",
                                                    STATE_INDEX, mode ? mode : "?")
                                             : sql_fail(NULL, ix->db, rc, "setting WAL mode");
                        sqlite3_finalize(st);
                        goto fail;
                }
                sqlite3_finalize(st);
        }
        /* WAL + NORMAL: a crash may lose the last transactions (the position goes back
         * with them: they are indexed again), never corrupt the file. */
        rc = sqlite3_exec(ix->db, "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384",
                          NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                r = sql_fail(NULL, ix->db, rc, "setting synchronous");
                goto fail;
        }
        r = setup_schema(ix);
        if (r == 0)
                r = open_statements(ix);
        if (r == 0)
                r = ls_payload_new(&ix->payload);
        if (r < 0) {
                if (ix->err[0])
                        snprintf(open_err, sizeof(open_err), "%s", ix->err);
                else if (!open_err[0])
                        fail(NULL, r, "%s: %s", STATE_INDEX, strerror(-r));
                goto fail;
        }
        *ret = ix;
        return 0;
fail:
        index_free(ix);
        return r;
}

Index *index_free(Index *ix)
{
        if (!ix)
                return NULL;
        sqlite3_finalize(ix->get_pos);
        sqlite3_finalize(ix->set_pos);
        sqlite3_finalize(ix->ins_batch);
        sqlite3_finalize(ix->ins_rec);
        sqlite3_finalize(ix->ins_fts);
        sqlite3_finalize(ix->begin);
        sqlite3_finalize(ix->commit);
        sqlite3_finalize(ix->rollback);
        sqlite3_close_v2(ix->db);
        ls_payload_free(ix->payload);
        free(ix->buf);
        free(ix);
        return NULL;
}

/* ---- small statement helpers ---- */

static int step_done(Index *ix, sqlite3_stmt *st, const char *what)
{
        int rc = sqlite3_step(st);

        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
                return sql_fail(ix, ix->db, rc, what);
        return 0;
}

static void rollback(Index *ix)
{
        if (!sqlite3_get_autocommit(ix->db)) {
                (void) sqlite3_step(ix->rollback);
                sqlite3_reset(ix->rollback);
        }
}

static int load_pos(Index *ix, Pos *p)
{
        sqlite3_stmt *st = ix->get_pos;
        int rc, r = 0;

        memset(p, 0, sizeof(*p));
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                p->gen = sqlite3_column_int64(st, 0);
                p->archive_no = col_u64(st, 1);
                p->offset = col_u64(st, 2);
                p->have_last = sqlite3_column_type(st, 3) != SQLITE_NULL;
                if (p->have_last) {
                        const void *h = sqlite3_column_blob(st, 7);
                        p->next_batch_no = col_u64(st, 3);
                        p->next_seq = col_u64(st, 4);
                        p->last_archive_no = col_u64(st, 5);
                        p->last_offset = col_u64(st, 6);
                        if (!h || sqlite3_column_bytes(st, 7) != LS_HASH_LEN)
                                r = fail(ix, -EUCLEAN, "%s: damaged position row", STATE_INDEX);
                        else
                                memcpy(p->last_hash, h, LS_HASH_LEN);
                }
        } else {
                r = rc == SQLITE_DONE ? fail(ix, -EUCLEAN, "%s: the position row is missing",
                                             STATE_INDEX)
                                      : sql_fail(ix, ix->db, rc, "reading the position");
        }
        sqlite3_reset(st);
        return r;
}

/*
 * Writes p as the new position, within the caller's transaction, if nobody else moved
 * it since p->gen was read: 0 (and p->gen advances), -EAGAIN when somebody did.
 */
static int store_pos(Index *ix, Pos *p)
{
        sqlite3_stmt *st = ix->set_pos;
        int r;

        sqlite3_bind_int64(st, 1, i64(p->archive_no));
        sqlite3_bind_int64(st, 2, i64(p->offset));
        if (p->have_last) {
                sqlite3_bind_int64(st, 3, i64(p->next_batch_no));
                sqlite3_bind_int64(st, 4, i64(p->next_seq));
                sqlite3_bind_int64(st, 5, i64(p->last_archive_no));
                sqlite3_bind_int64(st, 6, i64(p->last_offset));
                sqlite3_bind_blob(st, 7, p->last_hash, LS_HASH_LEN, SQLITE_TRANSIENT);
        } else {
                for (int i = 3; i <= 7; i++)
                        sqlite3_bind_null(st, i);
        }
        sqlite3_bind_int64(st, 8, p->gen);
        r = step_done(ix, st, "updating the position");
        if (r < 0)
                return r;
        if (sqlite3_changes(ix->db) != 1)
                return -EAGAIN;
        p->gen++;
        return 0;
}

/* Stores p in a transaction of its own. */
static int commit_pos(Index *ix, Pos *p)
{
        int r = step_done(ix, ix->begin, "starting a transaction");

        if (r < 0)
                return r;
        r = store_pos(ix, p);
        if (r == 0)
                r = step_done(ix, ix->commit, "committing");
        if (r < 0)
                rollback(ix);
        return r;
}

/* ---- archives on disk ---- */

static int arch_cmp(const void *a, const void *b)
{
        const Arch *x = a, *y = b;
        return x->no < y->no ? -1 : x->no > y->no;
}

/* Parses "chain-<our hex>-<n>.lsa" in exactly the form the daemon writes it. */
static int archive_name_no(const char *name, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                           uint64_t *ret)
{
        char prefix[64], hex[2 * LS_CHAIN_ID_LEN + 1], canon[128];
        const char *p;
        uint64_t n = 0;
        size_t pl;

        ls_hex(hex, chain_id, LS_CHAIN_ID_LEN);
        pl = (size_t) snprintf(prefix, sizeof(prefix), "chain-%s-", hex);
        if (strncmp(name, prefix, pl) != 0)
                return 0;
        p = name + pl;
        if (*p < '0' || *p > '9')
                return 0;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (n > (UINT64_MAX - 9) / 10)
                        return 0;
                n = n * 10 + (uint64_t) (*p - '0');
        }
        ls_archive_name(canon, sizeof(canon), chain_id, n);
        if (strcmp(canon, name) != 0)
                return 0;
        *ret = n;
        return 1;
}

/* The chain's archives numbered from `from` on, sorted. */
static int list_archives(Index *ix, int archive_dirfd, uint64_t from, Arch **ret, size_t *ret_n)
{
        _cleanup_free_ Arch *v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;
        int fd = openat(archive_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return fail(ix, -errno, "%s: %s", STATE_ARCHIVES, strerror(errno));
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return fail(ix, -ENOMEM, "%s: out of memory", STATE_ARCHIVES);
        }
        for (;;) {
                struct stat st;
                uint64_t no;
                errno = 0;
                de = readdir(d);
                if (!de)
                        break;
                if (!archive_name_no(de->d_name, ix->chain_id, &no) || no < from)
                        continue;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        Arch *q = reallocarray(v, ncap, sizeof(*v));
                        if (!q) {
                                closedir(d);
                                return fail(ix, -ENOMEM, "%s: out of memory", STATE_ARCHIVES);
                        }
                        v = q;
                        cap = ncap;
                }
                v[n].no = no;
                v[n].size = (uint64_t) st.st_size;
                n++;
        }
        if (errno) {
                int e = errno;
                closedir(d);
                return fail(ix, -e, "%s: %s", STATE_ARCHIVES, strerror(e));
        }
        closedir(d);
        if (n > 1)
                qsort(v, n, sizeof(*v), arch_cmp);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = pread(fd, p, n, (off_t) off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -ENODATA; /* the file is shorter than it was */
                p += k;
                n -= (size_t) k;
                off += (uint64_t) k;
        }
        return 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t n)
{
        uint8_t *q;

        if (*cap >= n)
                return 0;
        q = realloc(*buf, n);
        if (!q)
                return -ENOMEM;
        *buf = q;
        *cap = n;
        return 0;
}

static int damage(Frame *f, int error, uint64_t error_offset, const char *what)
{
        f->kind = FRAME_DAMAGE;
        f->error = error;
        f->error_offset = error_offset;
        f->what = what;
        return 0;
}

/*
 * Reads the batch or trailer frame at `off` of an archive of `size` bytes (SPEC §8.1):
 * 0 with *f filled (a batch's payload in *buf), or -errno on I/O errors. A frame that
 * runs past `size` is INCOMPLETE: the daemon may still be writing it.
 */
static int read_frame(int fd, uint64_t size, uint64_t off, Frame *f, uint8_t **buf, size_t *cap)
{
        uint8_t peek[FRAME_PEEK];
        uint32_t flen;
        size_t eoff = 0;
        int r;

        memset(f, 0, sizeof(*f));
        if (off > size || size - off < FRAME_PEEK) {
                f->kind = FRAME_INCOMPLETE;
                return 0;
        }
        r = pread_all(fd, peek, sizeof(peek), off);
        if (r < 0)
                return r;
        if (ls_get32(peek) != LS_SKIPPABLE_MAGIC)
                return damage(f, -EBADMSG, off, "frame magic");
        flen = ls_get32(peek + 4);
        if (ls_magic_check(peek + LS_FRAME_HDR_LEN, LS_MAGIC_BATCH)) {
                uint64_t end;
                if (flen != LS_BATCH_HEADER_LEN)
                        return damage(f, -EBADMSG, off + 4, "batch frame length");
                if (size - off < LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN) {
                        f->kind = FRAME_INCOMPLETE;
                        return 0;
                }
                r = grow(buf, cap, LS_BATCH_HEADER_LEN);
                if (r < 0)
                        return r;
                r = pread_all(fd, *buf, LS_BATCH_HEADER_LEN, off + LS_FRAME_HDR_LEN);
                if (r < 0)
                        return r;
                r = ls_batch_header_decode(&f->batch, *buf, LS_BATCH_HEADER_LEN, &eoff);
                if (r < 0)
                        return damage(f, r, off + LS_FRAME_HDR_LEN + eoff, "batch header");
                end = off + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN + f->batch.payload_len;
                if (end > size) {
                        f->kind = FRAME_INCOMPLETE;
                        return 0;
                }
                r = grow(buf, cap, f->batch.payload_len);
                if (r < 0)
                        return r;
                r = pread_all(fd, *buf, f->batch.payload_len,
                              off + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN);
                if (r < 0)
                        return r;
                f->kind = FRAME_BATCH;
                f->payload = *buf;
                f->end = end;
                return 0;
        }
        if (ls_magic_check(peek + LS_FRAME_HDR_LEN, LS_MAGIC_TRAILER)) {
                uint8_t t[LS_TRAILER_LEN];
                if (flen != LS_TRAILER_LEN)
                        return damage(f, -EBADMSG, off + 4, "trailer frame length");
                if (size - off < LS_FRAME_HDR_LEN + LS_TRAILER_LEN) {
                        f->kind = FRAME_INCOMPLETE;
                        return 0;
                }
                r = pread_all(fd, t, sizeof(t), off + LS_FRAME_HDR_LEN);
                if (r < 0)
                        return r;
                r = ls_trailer_decode(&f->trailer, t, sizeof(t), &eoff);
                if (r < 0)
                        return damage(f, r, off + LS_FRAME_HDR_LEN + eoff, "seal trailer");
                f->kind = FRAME_TRAILER;
                f->end = off + LS_FRAME_HDR_LEN + LS_TRAILER_LEN;
                return 0;
        }
        return damage(f, -EBADMSG, off + LS_FRAME_HDR_LEN, "unknown structure");
}

/*
 * Reads the archive header: 1 with *h and *ret_end, 0 when the file is too short yet
 * (just created), -EBADMSG (message set) when it is not a header.
 */
static int read_archive_header(Index *ix, int fd, uint64_t size, const char *name,
                               LsArchiveHeader *h, uint64_t *ret_end)
{
        uint8_t buf[LS_FRAME_HDR_LEN + LS_ARCHIVE_HEADER_MAX_LEN];
        uint32_t flen;
        size_t eoff = 0;
        int r;

        if (size < LS_FRAME_HDR_LEN + LS_MAGIC_LEN)
                return 0;
        r = pread_all(fd, buf, LS_FRAME_HDR_LEN + LS_MAGIC_LEN, 0);
        if (r < 0)
                return fail(ix, r, "%s: %s", name, strerror(-r));
        flen = ls_get32(buf + 4);
        if (ls_get32(buf) != LS_SKIPPABLE_MAGIC || !ls_magic_check(buf + 8, LS_MAGIC_ARCHIVE))
                return fail(ix, -EBADMSG, "%s: offset 0: no archive header", name);
        if (flen < LS_ARCHIVE_HEADER_MIN_LEN || flen > LS_ARCHIVE_HEADER_MAX_LEN)
                return fail(ix, -EBADMSG, "%s: offset 4: archive header frame length", name);
        if (size < LS_FRAME_HDR_LEN + (uint64_t) flen)
                return 0;
        r = pread_all(fd, buf, LS_FRAME_HDR_LEN + flen, 0);
        if (r < 0)
                return fail(ix, r, "%s: %s", name, strerror(-r));
        r = ls_archive_header_decode(h, buf + LS_FRAME_HDR_LEN, flen, &eoff);
        if (r < 0)
                return fail(ix, -EBADMSG, "%s: offset %zu: archive header: %s", name,
                            LS_FRAME_HDR_LEN + eoff, class_name(r));
        *ret_end = LS_FRAME_HDR_LEN + (uint64_t) flen;
        return 1;
}

/* ---- derived fields ---- */

static void set_span(const LsRecord *rec, LsSpan s, const uint8_t **p, size_t *n)
{
        if (s.len == 0 || (uint64_t) s.off + s.len > rec->body_len) {
                *p = NULL;
                *n = 0;
                return;
        }
        *p = rec->body + s.off;
        *n = s.len;
}

void index_record_fields(const LsRecord *rec, IndexFields *f)
{
        memset(f, 0, sizeof(*f));
        f->facility = -1;
        f->severity = -1;
        if (rec->family == LS_FAMILY_IPV4 || rec->family == LS_FAMILY_IPV6) {
                if (!inet_ntop(rec->family == LS_FAMILY_IPV4 ? AF_INET : AF_INET6, rec->address,
                               f->peer, sizeof(f->peer)))
                        f->peer[0] = 0;
                f->have_port = 1;
                f->port = rec->port;
        } else if (rec->family == LS_FAMILY_UNIX) {
                uint32_t pid, uid, gid;
                ls_record_get_ucred(rec, &pid, &uid, &gid);
                snprintf(f->peer, sizeof(f->peer), "pid=%" PRIu32 " uid=%" PRIu32 " gid=%" PRIu32,
                         pid, uid, gid);
        }
        if (rec->type == LS_REC_SYSLOG) {
                /* A BSD timestamp's missing year comes from the receive time: deterministic. */
                LsSyslogParseOpts opts = {.now = (int64_t) (rec->time_ns / 1000000000u)};
                LsSyslogMsg m;
                if (ls_syslog_parse(rec->body, rec->body_len, &opts, &m) < 0)
                        return;
                f->facility = m.facility;
                f->severity = m.severity;
                if (m.flags & LS_SYSLOG_HAVE_TIME) {
                        f->have_msg_time = 1;
                        f->msg_time_ns = m.time_ns;
                }
                set_span(rec, m.hostname, &f->host, &f->host_len);
                set_span(rec, m.app_name, &f->app, &f->app_len);
                set_span(rec, m.procid, &f->procid, &f->procid_len);
                set_span(rec, m.msgid, &f->msgid, &f->msgid_len);
        }
}

static void bind_span(sqlite3_stmt *st, int i, const uint8_t *p, size_t n)
{
        if (p && n)
                sqlite3_bind_text(st, i, (const char *) p, (int) n, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, i);
}

static int insert_record(Index *ix, const LsBatchHeader *h, const LsRecord *rec, int *ret_added)
{
        sqlite3_stmt *st = ix->ins_rec;
        IndexFields f;
        int r;

        index_record_fields(rec, &f);
        sqlite3_bind_int64(st, 1, i64(rec->seq));
        sqlite3_bind_int64(st, 2, i64(rec->time_ns));
        sqlite3_bind_int64(st, 3, i64(h->batch_no));
        sqlite3_bind_int64(st, 4, i64(h->archive_no));
        sqlite3_bind_int(st, 5, rec->type);
        sqlite3_bind_int(st, 6, rec->transport);
        if (f.peer[0])
                sqlite3_bind_text(st, 7, f.peer, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 7);
        if (f.have_port)
                sqlite3_bind_int(st, 8, f.port);
        else
                sqlite3_bind_null(st, 8);
        if (rec->conn_id)
                sqlite3_bind_int64(st, 9, rec->conn_id);
        else
                sqlite3_bind_null(st, 9);
        sqlite3_bind_int(st, 10, rec->flags);
        if (f.facility >= 0)
                sqlite3_bind_int(st, 11, f.facility);
        else
                sqlite3_bind_null(st, 11);
        if (f.severity >= 0)
                sqlite3_bind_int(st, 12, f.severity);
        else
                sqlite3_bind_null(st, 12);
        bind_span(st, 13, f.host, f.host_len);
        bind_span(st, 14, f.app, f.app_len);
        bind_span(st, 15, f.procid, f.procid_len);
        bind_span(st, 16, f.msgid, f.msgid_len);
        if (f.have_msg_time)
                sqlite3_bind_int64(st, 17, f.msg_time_ns);
        else
                sqlite3_bind_null(st, 17);
        r = step_done(ix, st, "inserting a record");
        sqlite3_clear_bindings(st); /* the spans point into the payload */
        if (r < 0)
                return r;
        *ret_added = sqlite3_changes(ix->db);
        if (ix->ins_fts && *ret_added && rec->type == LS_REC_SYSLOG) {
                sqlite3_bind_int64(ix->ins_fts, 1, i64(rec->seq));
                sqlite3_bind_text(ix->ins_fts, 2, (const char *) rec->body, (int) rec->body_len,
                                  SQLITE_STATIC);
                r = step_done(ix, ix->ins_fts, "inserting into the full-text index");
                sqlite3_clear_bindings(ix->ins_fts);
        }
        return r;
}

/* ---- catching up ---- */

typedef struct Run {
        Arch *archives;
        size_t n;
        uint64_t added;
        IndexProgress progress;
} Run;

static int archive_damage(Index *ix, const char *name, uint64_t archive_no, uint64_t offset,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int archive_damage(Index *ix, const char *name, uint64_t archive_no, uint64_t offset,
                          const char *fmt, ...)
{
        char what[ERR_MAX];
        va_list ap;

        va_start(ap, fmt);
        vformat(what, fmt, ap);
        va_end(ap);
        return fail(ix, -EBADMSG, "%s (archive %" PRIu64 "), offset %" PRIu64 ": %s", name,
                    archive_no, offset, what);
}

/*
 * Indexes one batch (frame at p->offset): decode, insert, advance the position, all in
 * one transaction. -EAGAIN when another writer moved the position meanwhile.
 */
static int index_batch(Index *ix, Pos *p, const Frame *fr, const char *name, Run *run)
{
        const LsBatchHeader *h = &fr->batch;
        sqlite3_stmt *st = ix->ins_batch;
        LsPayloadIter it;
        LsRecord rec;
        const uint8_t *raw, *bytes;
        uint8_t hh[LS_HASH_LEN];
        size_t rawlen, len, eoff = 0;
        uint64_t added = 0;
        Pos np = *p;
        int r, k;

        r = ls_payload_open(ix->payload, h, fr->payload, h->payload_len);
        if (r < 0)
                return archive_damage(ix, name, h->archive_no, p->offset,
                                      "batch %" PRIu64 ": payload: %s", h->batch_no,
                                      class_name(r));
        raw = ls_payload_raw(ix->payload, &rawlen);
        ls_payload_iter_init(&it, h, raw, rawlen);
        ls_batch_header_hash(h, hh);

        r = step_done(ix, ix->begin, "starting a transaction");
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, i64(h->batch_no));
        sqlite3_bind_int64(st, 2, i64(h->archive_no));
        sqlite3_bind_int64(st, 3, i64(p->offset));
        sqlite3_bind_int64(st, 4, i64(h->first_seq));
        sqlite3_bind_int64(st, 5, h->record_count);
        sqlite3_bind_int64(st, 6, i64(h->min_time_ns));
        sqlite3_bind_int64(st, 7, i64(h->max_time_ns));
        sqlite3_bind_blob(st, 8, hh, LS_HASH_LEN, SQLITE_STATIC);
        r = step_done(ix, st, "inserting a batch");
        if (r < 0)
                goto fail;
        while ((k = ls_payload_next(&it, &rec, &bytes, &len, NULL, &eoff)) > 0) {
                int one = 0;
                r = insert_record(ix, h, &rec, &one);
                if (r < 0)
                        goto fail;
                added += (uint64_t) one;
        }
        if (k < 0) {
                r = archive_damage(ix, name, h->archive_no, p->offset,
                                   "batch %" PRIu64 ", record %" PRIu32
                                   " (decompressed offset %zu): %s",
                                   h->batch_no, it.index, eoff, class_name(k));
                goto fail;
        }
        np.offset = fr->end;
        np.have_last = 1;
        np.next_batch_no = h->batch_no + 1;
        np.next_seq = h->tree_size;
        np.last_archive_no = h->archive_no;
        np.last_offset = p->offset;
        memcpy(np.last_hash, hh, LS_HASH_LEN);
        r = store_pos(ix, &np);
        if (r < 0)
                goto fail;
        r = step_done(ix, ix->commit, "committing a batch");
        if (r < 0)
                goto fail;
        *p = np;
        run->added += added;
        return 0;
fail:
        rollback(ix);
        return r;
}

/*
 * Is the last batch the index holds still in the archives, where and as it was indexed?
 * 0 yes (or the archive was removed since, as retention does), -ESTALE no.
 */
static int check_last(Index *ix, int archive_dirfd, const Pos *p)
{
        uint8_t buf[LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN], hh[LS_HASH_LEN];
        char name[128];
        LsBatchHeader h;
        struct stat st;
        _cleanup_close_ int fd = -1;
        int r;

        if (!p->have_last)
                return 0;
        ls_archive_name(name, sizeof(name), ix->chain_id, p->last_archive_no);
        fd = openat(archive_dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT && p->archive_no > p->last_archive_no)
                        return 0;
                if (errno == ENOENT)
                        return fail(ix, -ESTALE,
                                    "%s: the archive holding the last indexed batch %" PRIu64
                                    " is gone: the index must be rebuilt",
                                    name, p->next_batch_no - 1);
                return fail(ix, -errno, "%s: %s", name, strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return fail(ix, -errno, "%s: %s", name, strerror(errno));
        if ((uint64_t) st.st_size < p->offset && p->archive_no == p->last_archive_no)
                return fail(ix, -ESTALE,
                            "%s: %" PRIu64 " bytes, shorter than the indexed %" PRIu64
                            ": the index must be rebuilt",
                            name, (uint64_t) st.st_size, p->offset);
        if ((uint64_t) st.st_size < p->last_offset + sizeof(buf))
                r = -ENODATA;
        else
                r = pread_all(fd, buf, sizeof(buf), p->last_offset);
        if (r == 0 && (ls_get32(buf) != LS_SKIPPABLE_MAGIC ||
                       ls_batch_header_decode(&h, buf + LS_FRAME_HDR_LEN, LS_BATCH_HEADER_LEN,
                                              NULL) < 0))
                r = -EBADMSG;
        if (r == 0) {
                ls_batch_header_hash(&h, hh);
                if (!ls_hash_equal(hh, p->last_hash))
                        r = -EBADMSG;
                else if (p->last_offset + sizeof(buf) + h.payload_len > (uint64_t) st.st_size)
                        r = -ENODATA; /* cut since (recovery after a crash does this) */
        }
        if (r == -ENODATA || r == -EBADMSG)
                return fail(ix, -ESTALE,
                            "%s, offset %" PRIu64 ": not the batch %" PRIu64
                            " the index holds: the index must be rebuilt",
                            name, p->last_offset, p->next_batch_no - 1);
        if (r < 0)
                return fail(ix, r, "%s: %s", name, strerror(-r));
        return 0;
}

/*
 * Indexes what follows the position in archive a: 1 when the archive is done (sealed,
 * or abandoned without a trailer while a later archive exists), 0 when the end of what
 * is there was reached (an open archive), <0 on errors (-EAGAIN: position moved by
 * another writer).
 */
static int catch_up_archive(Index *ix, int archive_dirfd, Pos *p, const Arch *a, int is_last,
                            Run *run)
{
        char name[128];
        _cleanup_close_ int fd = -1;
        struct stat st;
        uint64_t size;
        int r;

        ls_archive_name(name, sizeof(name), ix->chain_id, a->no);
        fd = openat(archive_dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT && p->offset > 0)
                        return fail(ix, -ESTALE,
                                    "%s: the archive being indexed is gone: the index must be "
                                    "rebuilt",
                                    name);
                return fail(ix, -errno, "%s: %s", name, strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return fail(ix, -errno, "%s: %s", name, strerror(errno));
        size = (uint64_t) st.st_size;
        run->progress.archive_no = a->no;

        if (p->offset == 0) {
                LsArchiveHeader h;
                uint64_t end = 0;
                r = read_archive_header(ix, fd, size, name, &h, &end);
                if (r < 0)
                        return r;
                if (r == 0) {
                        if (is_last)
                                return 0; /* just created */
                        return fail(ix, -EBADMSG,
                                    "%s (archive %" PRIu64 "): no complete archive header",
                                    name, a->no);
                }
                if (memcmp(h.chain_id, ix->chain_id, LS_CHAIN_ID_LEN) != 0 ||
                    h.archive_no != a->no)
                        return fail(ix, -EBADMSG,
                                    "%s: the archive header names archive %" PRIu64
                                    " of another chain or number",
                                    name, h.archive_no);
                if (p->have_last &&
                    (h.first_batch_no != p->next_batch_no || h.first_seq != p->next_seq))
                        return fail(ix, -EBADMSG,
                                    "%s (archive %" PRIu64 "): starts at batch %" PRIu64
                                    ", seq %" PRIu64 "; the chain continues at batch %" PRIu64
                                    ", seq %" PRIu64 " (archives missing?)",
                                    name, a->no, h.first_batch_no, h.first_seq, p->next_batch_no,
                                    p->next_seq);
                p->offset = end;
                run->progress.bytes_done += end;
        }

        for (;;) {
                Frame fr;
                uint64_t start = p->offset;

                if (ix->cancel && atomic_load(ix->cancel))
                        return 0;
                r = read_frame(fd, size, p->offset, &fr, &ix->buf, &ix->cap);
                if (r < 0)
                        return fail(ix, r, "%s: offset %" PRIu64 ": %s", name, p->offset,
                                    strerror(-r));
                switch (fr.kind) {
                case FRAME_INCOMPLETE:
                        if (is_last)
                                return 0; /* being appended to, or a torn tail: later */
                        /* Abandoned without a trailer (recovery seals such archives; an
                         * older daemon or a copy may not have): go on with the next one. */
                        note(ix, INDEX_LOG_WARNING,
                             "%s: %" PRIu64 " bytes at offset %" PRIu64
                             " are not a complete frame and the archive has no seal trailer; "
                             "indexing continues with the next archive",
                             name, size - p->offset, p->offset);
                        return 1;
                case FRAME_DAMAGE:
                        return archive_damage(ix, name, a->no, start, "%s: %s (at offset %" PRIu64 ")",
                                              fr.what, class_name(fr.error), fr.error_offset);
                case FRAME_TRAILER:
                        if (fr.end != size)
                                return archive_damage(ix, name, a->no, fr.end,
                                                      "data after the seal trailer");
                        if (fr.trailer.archive_no != a->no ||
                            memcmp(fr.trailer.chain_id, ix->chain_id, LS_CHAIN_ID_LEN) != 0)
                                return archive_damage(ix, name, a->no, start,
                                                      "the seal trailer is of another archive");
                        run->progress.bytes_done += fr.end - start;
                        return 1;
                case FRAME_BATCH:
                        break;
                }
                if (memcmp(fr.batch.chain_id, ix->chain_id, LS_CHAIN_ID_LEN) != 0 ||
                    fr.batch.archive_no != a->no)
                        return archive_damage(ix, name, a->no, start,
                                              "batch %" PRIu64 " is of another chain or archive",
                                              fr.batch.batch_no);
                if (p->have_last) {
                        if (fr.batch.batch_no != p->next_batch_no ||
                            fr.batch.first_seq != p->next_seq)
                                return archive_damage(ix, name, a->no, start,
                                                      "batch %" PRIu64 " (seq %" PRIu64
                                                      ") where batch %" PRIu64 " (seq %" PRIu64
                                                      ") should follow",
                                                      fr.batch.batch_no, fr.batch.first_seq,
                                                      p->next_batch_no, p->next_seq);
                        if (!ls_hash_equal(fr.batch.prev_header_hash, p->last_hash))
                                return archive_damage(ix, name, a->no, start,
                                                      "batch %" PRIu64
                                                      " does not link to the previous batch",
                                                      fr.batch.batch_no);
                }
                if (fr.batch.tree_size > ix->limit)
                        return 0; /* not durable yet */
                if (ix->auth) {
                        char why[ERR_MAX / 2];
                        r = index_auth_batch(ix->auth, &fr.batch, why, sizeof(why));
                        if (r == -EKEYREJECTED)
                                return fail(ix, r,
                                            "%s (archive %" PRIu64 "), offset %" PRIu64
                                            ": batch %" PRIu64 " is NOT AUTHENTIC: %s; it is not "
                                            "indexed, nor anything after it",
                                            name, a->no, start, fr.batch.batch_no, why);
                        if (r < 0)
                                return fail(ix, r, "%s", index_auth_error(ix->auth));
                }
                r = index_batch(ix, p, &fr, name, run);
                if (r < 0)
                        return r;
                run->progress.bytes_done += fr.end - start;
                run->progress.records_added = run->added;
                if (ix->progress)
                        ix->progress(ix->progress_ud, &run->progress);
        }
}

/* One pass from the stored position; -EAGAIN when another writer moved it. */
static int catch_up_once(Index *ix, int archive_dirfd, Run *run)
{
        Pos p;
        size_t i;
        int r;

        r = load_pos(ix, &p);
        if (r < 0)
                return r;
        r = check_last(ix, archive_dirfd, &p);
        if (r < 0)
                return r;
        free(run->archives);
        run->archives = NULL;
        r = list_archives(ix, archive_dirfd, p.archive_no, &run->archives, &run->n);
        if (r < 0)
                return r;
        run->progress.bytes_total = 0;
        for (i = 0; i < run->n; i++)
                run->progress.bytes_total += run->archives[i].size;
        if (run->n > 0 && run->archives[0].no == p.archive_no)
                run->progress.bytes_total -= MIN(p.offset, run->archives[0].size);

        for (i = 0; i < run->n; i++) {
                const Arch *a = &run->archives[i];
                if (a->no != p.archive_no) {
                        /* Nothing indexed yet: begin with the oldest archive there is
                         * (retention may have removed the first ones). */
                        if (p.have_last || p.offset != 0) {
                                char name[128];
                                ls_archive_name(name, sizeof(name), ix->chain_id, p.archive_no);
                                if (p.offset != 0)
                                        return fail(ix, -ESTALE,
                                                    "%s: the archive being indexed is gone: the "
                                                    "index must be rebuilt",
                                                    name);
                                return fail(ix, -EBADMSG,
                                            "%s (archive %" PRIu64 ") is missing: the chain "
                                            "continues with archive %" PRIu64,
                                            name, p.archive_no, a->no);
                        }
                        p.archive_no = a->no;
                }
                r = catch_up_archive(ix, archive_dirfd, &p, a, i + 1 == run->n, run);
                if (r <= 0)
                        return r;
                if (ix->cancel && atomic_load(ix->cancel))
                        return 0;
                /* Done with this archive: the position moves to the next one. */
                p.archive_no = a->no + 1;
                p.offset = 0;
                r = commit_pos(ix, &p);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int catch_up(Index *ix, int archive_dirfd, uint64_t *ret_records_added)
{
        Run run = {};
        int r;

        for (int i = 0;; i++) {
                r = catch_up_once(ix, archive_dirfd, &run);
                if (r != -EAGAIN)
                        break;
                if (i == CONFLICT_RETRIES) {
                        r = fail(ix, -EBUSY, "%s: another writer keeps moving the position",
                                 STATE_INDEX);
                        break;
                }
        }
        free(run.archives);
        if (ret_records_added)
                *ret_records_added = run.added;
        return r;
}

int index_catch_up(Index *ix, int archive_dirfd, uint64_t *ret_records_added)
{
        int r;

        ix->err[0] = 0;
        if (ret_records_added)
                *ret_records_added = 0;
        r = ensure_indexes(ix);
        if (r < 0)
                return r;
        return catch_up(ix, archive_dirfd, ret_records_added);
}

int index_rebuild(Index *ix, int archive_dirfd, uint64_t *ret_records_added)
{
        int r, k;

        ix->err[0] = 0;
        if (ret_records_added)
                *ret_records_added = 0;
        /* Loading without the query indexes and sorting them in afterwards is faster than
         * keeping them up to date row by row. Queries meanwhile scan. */
        r = exec(ix, "BEGIN IMMEDIATE", "emptying the index");
        r = r ?: exec(ix, drop_indexes_sql, "emptying the index");
        r = r ?: exec(ix, "DELETE FROM records;"
                          "DELETE FROM batches;"
                          "UPDATE position SET gen = gen + 1, archive_no = 0, offset = 0,"
                          " next_batch_no = NULL, next_seq = NULL, last_archive_no = NULL,"
                          " last_offset = NULL, last_header_hash = NULL WHERE id = 0",
                      "emptying the index");
        if (ix->ins_fts)
                r = r ?: exec(ix, "INSERT INTO messages(messages) VALUES ('delete-all')",
                              "emptying the full-text index");
        r = r ?: exec(ix, "COMMIT", "emptying the index");
        if (r < 0) {
                (void) sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
                return r;
        }
        r = catch_up(ix, archive_dirfd, ret_records_added);
        if (ix->cancel && atomic_load(ix->cancel))
                return r; /* the next catch-up makes the indexes */
        k = ensure_indexes(ix);
        if (r == 0 && k < 0)
                r = k;
        return r;
}

/* ---- reading ---- */

int index_query_count(Index *ix, const char *host, uint64_t from_ns, uint64_t to_ns,
                      uint64_t *ret)
{
        sqlite3_stmt *st = NULL;
        int rc;

        rc = sqlite3_prepare_v2(ix->db,
                                host ? "SELECT count(*) FROM records WHERE host = ?3 AND"
                                       " time_ns >= ?1 AND time_ns < ?2"
                                     : "SELECT count(*) FROM records WHERE"
                                       " time_ns >= ?1 AND time_ns < ?2",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sql_fail(ix, ix->db, rc, "counting");
        sqlite3_bind_int64(st, 1, i64(from_ns));
        sqlite3_bind_int64(st, 2, i64(to_ns));
        if (host)
                sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = col_u64(st, 0);
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
                return sql_fail(ix, ix->db, rc, "counting");
        return 0;
}

static int span_equals(const uint8_t *p, size_t n, const char *want)
{
        return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

int index_filter_match(const IndexFilter *f, const LsRecord *rec, const IndexFields *fl)
{
        return !((f->host && !span_equals(fl->host, fl->host_len, f->host)) ||
                 (f->app && !span_equals(fl->app, fl->app_len, f->app)) ||
                 rec->time_ns < f->from_ns || rec->time_ns >= f->to_ns ||
                 (f->syslog_only && rec->type != LS_REC_SYSLOG) ||
                 (f->has_facility && fl->facility != f->facility) ||
                 (f->has_severity && (fl->severity < 0 || fl->severity > f->severity)) ||
                 rec->seq < f->seq_from || (f->seq_to && rec->seq >= f->seq_to));
}

int index_query(Index *ix, const IndexFilter *f, IndexHitFn fn, void *userdata)
{
        char sql[1024];
        sqlite3_stmt *st = NULL;
        int rc, r = 0;

        ix->err[0] = 0;
        /* records first (CROSS JOIN fixes the order): its indexes give (time_ns, seq) order. */
        snprintf(sql, sizeof(sql),
                 "SELECT r.seq, r.time_ns, r.batch_no, b.archive_no, b.offset, b.header_hash"
                 " FROM records r CROSS JOIN batches b ON b.batch_no = r.batch_no"
                 " WHERE r.time_ns >= ?1 AND r.time_ns < ?2%s%s%s%s%s%s%s%s"
                 " ORDER BY r.time_ns, r.seq%s",
                 f->host ? " AND r.host = ?3" : "", f->app ? " AND r.app = ?4" : "",
                 f->syslog_only ? " AND r.type = 1" : "",
                 f->has_facility ? " AND r.facility = ?6" : "",
                 f->has_severity ? " AND r.severity <= ?7" : "",
                 f->seq_from ? " AND r.seq >= ?8" : "", f->seq_to ? " AND r.seq < ?9" : "",
                 f->match ? " AND r.seq IN (SELECT rowid FROM messages WHERE messages MATCH ?10)" :
                            "",
                 f->limit ? " LIMIT ?5" : "");
        if (f->match && !ix->ins_fts)
                return fail(ix, -ENOPROTOOPT, "%s has no full-text index: enable it with [index] "
                                              "fulltext = yes, or 'logsealctl reindex --fulltext'",
                            STATE_INDEX);
        rc = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sql_fail(ix, ix->db, rc, "querying");
        sqlite3_bind_int64(st, 1, i64(f->from_ns));
        sqlite3_bind_int64(st, 2, i64(f->to_ns));
        if (f->host)
                sqlite3_bind_text(st, 3, f->host, -1, SQLITE_STATIC);
        if (f->app)
                sqlite3_bind_text(st, 4, f->app, -1, SQLITE_STATIC);
        if (f->limit)
                sqlite3_bind_int64(st, 5, i64(f->limit));
        if (f->has_facility)
                sqlite3_bind_int(st, 6, f->facility);
        if (f->has_severity)
                sqlite3_bind_int(st, 7, f->severity);
        if (f->seq_from)
                sqlite3_bind_int64(st, 8, i64(f->seq_from));
        if (f->seq_to)
                sqlite3_bind_int64(st, 9, i64(f->seq_to));
        if (f->match) {
                /* The text's tokens (as unicode61 splits ASCII), each quoted, ANDed: no FTS5
                 * syntax from the user, and no phrases (detail=none). The caller checks the
                 * exact text against the archive's bytes. */
                size_t n = strlen(f->match), o = 0;
                char *q = malloc(n * 3 + 16);
                int tokens = 0;
                if (!q) {
                        sqlite3_finalize(st);
                        return fail(ix, -ENOMEM, "out of memory");
                }
                for (size_t i = 0; i < n;) {
                        while (i < n && (uint8_t) f->match[i] < 0x80 && !isalnum((unsigned char) f->match[i]))
                                i++;
                        if (i == n)
                                break;
                        o += (size_t) sprintf(q + o, "%s\"", tokens++ ? " AND " : "");
                        while (i < n && ((uint8_t) f->match[i] >= 0x80 || isalnum((unsigned char) f->match[i])))
                                q[o++] = f->match[i++];
                        q[o++] = '"';
                }
                q[o] = 0;
                if (!tokens) {
                        free(q);
                        sqlite3_finalize(st);
                        return fail(ix, -EINVAL, "--match needs a letter or digit");
                }
                sqlite3_bind_text(st, 10, q, -1, free);
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                IndexHit h = {
                        .seq = col_u64(st, 0),
                        .time_ns = col_u64(st, 1),
                        .batch_no = col_u64(st, 2),
                        .archive_no = col_u64(st, 3),
                        .offset = col_u64(st, 4),
                };
                const void *hh = sqlite3_column_blob(st, 5);
                if (hh && sqlite3_column_bytes(st, 5) == LS_HASH_LEN)
                        memcpy(h.header_hash, hh, LS_HASH_LEN);
                r = fn(userdata, &h);
                if (r < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = sql_fail(ix, ix->db, rc, "querying");
        sqlite3_finalize(st);
        return r;
}

/* ---- re-reading records from the archives ---- */

struct IndexBatchReader {
        int archive_dirfd;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        int fd;                    /* archive `fd_no` */
        uint64_t fd_no;
        uint64_t fd_size;
        int loaded;                /* the batch below is decoded */
        uint64_t archive_no, offset, batch_no;
        LsBatchHeader h;
        uint8_t *buf;
        size_t cap;
        LsPayload *payload;
        const uint8_t *raw;
        uint32_t *entries;         /* offset of each entry (its u32 length) in raw */
        size_t entries_cap;
        IndexAuth *auth;           /* set: records of batches that are not authentic are refused */
        int rejected;              /* the batch below was refused: hits in it fail at once */
        uint64_t rej_archive_no, rej_offset, rej_batch_no;
        uint8_t rej_hash[LS_HASH_LEN];
        char rej_err[ERR_MAX];
        char err[ERR_MAX];
};

int index_batch_reader_new(IndexBatchReader **ret, int archive_dirfd,
                           const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        IndexBatchReader *b = calloc(1, sizeof(*b));
        int r;

        if (!b)
                return -ENOMEM;
        b->fd = -1;
        b->archive_dirfd = archive_dirfd;
        memcpy(b->chain_id, chain_id, LS_CHAIN_ID_LEN);
        r = ls_payload_new(&b->payload);
        if (r < 0) {
                free(b);
                return r;
        }
        *ret = b;
        return 0;
}

IndexBatchReader *index_batch_reader_free(IndexBatchReader *b)
{
        if (!b)
                return NULL;
        if (b->fd >= 0)
                close(b->fd);
        ls_payload_free(b->payload);
        free(b->buf);
        free(b->entries);
        free(b);
        return NULL;
}

void index_batch_reader_set_auth(IndexBatchReader *b, IndexAuth *a)
{
        b->auth = a;
        b->rejected = 0;
}

const char *index_batch_reader_error(const IndexBatchReader *b)
{
        return b->err;
}

static int reader_fail(IndexBatchReader *b, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int reader_fail(IndexBatchReader *b, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vformat(b->err, fmt, ap);
        va_end(ap);
        return r;
}

static int reader_load(IndexBatchReader *b, const IndexHit *hit, const char *name)
{
        LsPayloadIter it;
        LsRecord rec;
        const uint8_t *bytes;
        uint8_t hh[LS_HASH_LEN];
        size_t rawlen, len, eoff = 0;
        Frame fr;
        int r, k;

        b->loaded = 0;
        if (b->fd < 0 || b->fd_no != hit->archive_no) {
                struct stat st;
                if (b->fd >= 0)
                        close(b->fd);
                b->fd = openat(b->archive_dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (b->fd < 0)
                        return reader_fail(b, -errno, "%s: %s", name, strerror(errno));
                if (fstat(b->fd, &st) < 0)
                        return reader_fail(b, -errno, "%s: %s", name, strerror(errno));
                b->fd_no = hit->archive_no;
                b->fd_size = (uint64_t) st.st_size;
        }
        r = read_frame(b->fd, b->fd_size, hit->offset, &fr, &b->buf, &b->cap);
        if (r < 0)
                return reader_fail(b, r, "%s: offset %" PRIu64 ": %s", name, hit->offset,
                                   strerror(-r));
        if (fr.kind != FRAME_BATCH)
                return reader_fail(b, -ESTALE,
                                   "%s, offset %" PRIu64 ": no batch there (%s): the index is out "
                                   "of step with the archives (run 'logsealctl reindex'), or the "
                                   "archive is damaged",
                                   name, hit->offset,
                                   fr.kind == FRAME_DAMAGE    ? fr.what
                                   : fr.kind == FRAME_TRAILER ? "a seal trailer"
                                                              : "end of file");
        ls_batch_header_hash(&fr.batch, hh);
        if (memcmp(fr.batch.chain_id, b->chain_id, LS_CHAIN_ID_LEN) != 0 ||
            fr.batch.archive_no != hit->archive_no || fr.batch.batch_no != hit->batch_no ||
            !ls_hash_equal(hh, hit->header_hash))
                return reader_fail(b, -ESTALE,
                                   "%s, offset %" PRIu64 ": batch %" PRIu64
                                   " is not the batch %" PRIu64 " the index names (run "
                                   "'logsealctl reindex')",
                                   name, hit->offset, fr.batch.batch_no, hit->batch_no);
        if (b->auth) {
                char why[ERR_MAX / 2];
                r = index_auth_batch(b->auth, &fr.batch, why, sizeof(why));
                if (r == -EKEYREJECTED) {
                        b->rejected = 1;
                        b->rej_archive_no = hit->archive_no;
                        b->rej_offset = hit->offset;
                        b->rej_batch_no = hit->batch_no;
                        memcpy(b->rej_hash, hh, LS_HASH_LEN);
                        snprintf(b->rej_err, sizeof(b->rej_err),
                                 "%s, offset %" PRIu64 ", batch %" PRIu64
                                 ": NOT AUTHENTIC: %s; its records are refused",
                                 name, hit->offset, hit->batch_no, why);
                        return reader_fail(b, r, "%s", b->rej_err);
                }
                if (r < 0)
                        return reader_fail(b, r, "%s", index_auth_error(b->auth));
        }
        b->h = fr.batch;
        r = ls_payload_open(b->payload, &b->h, fr.payload, b->h.payload_len);
        if (r < 0)
                return reader_fail(b, -EBADMSG, "%s, offset %" PRIu64 ", batch %" PRIu64
                                   ": payload: %s",
                                   name, hit->offset, b->h.batch_no, class_name(r));
        b->raw = ls_payload_raw(b->payload, &rawlen);
        if (b->entries_cap < b->h.record_count) {
                uint32_t *q = reallocarray(b->entries, b->h.record_count, sizeof(*q));
                if (!q)
                        return reader_fail(b, -ENOMEM, "out of memory");
                b->entries = q;
                b->entries_cap = b->h.record_count;
        }
        ls_payload_iter_init(&it, &b->h, b->raw, rawlen);
        for (;;) {
                size_t at = it.pos;
                k = ls_payload_next(&it, &rec, &bytes, &len, NULL, &eoff);
                if (k <= 0)
                        break;
                b->entries[it.index - 1] = (uint32_t) at;
        }
        if (k < 0)
                return reader_fail(b, -EBADMSG, "%s, offset %" PRIu64 ", batch %" PRIu64
                                   ", record %" PRIu32 ": %s",
                                   name, hit->offset, b->h.batch_no, it.index, class_name(k));
        b->archive_no = hit->archive_no;
        b->offset = hit->offset;
        b->batch_no = hit->batch_no;
        b->loaded = 1;
        return 0;
}

const LsBatchHeader *index_batch_reader_header(const IndexBatchReader *b)
{
        return b->loaded ? &b->h : NULL;
}

int index_batch_reader_get(IndexBatchReader *b, const IndexHit *hit, LsRecord *rec)
{
        char name[128];
        uint64_t i;
        uint32_t len;
        int r;

        b->err[0] = 0;
        if (b->rejected && b->rej_archive_no == hit->archive_no && b->rej_offset == hit->offset &&
            b->rej_batch_no == hit->batch_no && ls_hash_equal(b->rej_hash, hit->header_hash))
                return reader_fail(b, -EKEYREJECTED, "%s", b->rej_err);
        ls_archive_name(name, sizeof(name), b->chain_id, hit->archive_no);
        if (!b->loaded || b->archive_no != hit->archive_no || b->offset != hit->offset ||
            b->batch_no != hit->batch_no) {
                r = reader_load(b, hit, name);
                if (r < 0)
                        return r;
        }
        if (hit->seq < b->h.first_seq || hit->seq - b->h.first_seq >= b->h.record_count)
                return reader_fail(b, -ESTALE,
                                   "%s, offset %" PRIu64 ": batch %" PRIu64 " does not hold seq %" PRIu64
                                   " (run 'logsealctl reindex')",
                                   name, hit->offset, b->h.batch_no, hit->seq);
        i = hit->seq - b->h.first_seq;
        len = ls_get32(b->raw + b->entries[i]);
        r = ls_record_decode(rec, b->raw + b->entries[i] + 4, len, NULL);
        if (r < 0 || rec->seq != hit->seq)
                return reader_fail(b, -EBADMSG, "%s, batch %" PRIu64 ", seq %" PRIu64 ": %s",
                                   name, b->h.batch_no, hit->seq, class_name(r < 0 ? r : -EBADMSG));
        return 0;
}

/* ---- the daemon's indexing thread ---- */

struct IndexWorker {
        Index *ix;
        int archive_dirfd;
        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        uint64_t durable;          /* the newest durable tree size kicked */
        int kicked, stop;
        atomic_int cancel;
        IndexLogFn log;
        void *log_ud;
        char last_err[ERR_MAX];    /* the last error logged, to log each one once */
};

static void worker_log(IndexWorker *w, int level, const char *msg)
{
        if (w->log)
                w->log(w->log_ud, level, msg);
}

static void worker_run_once(IndexWorker *w, uint64_t durable)
{
        uint64_t added = 0;
        int r;

        index_set_limit(w->ix, durable);
        r = index_catch_up(w->ix, w->archive_dirfd, &added);
        if (r == -ESTALE) {
                char msg[ERR_MAX + 32];
                snprintf(msg, sizeof(msg), "%s; rebuilding", index_last_error(w->ix));
                worker_log(w, INDEX_LOG_WARNING, msg);
                r = index_rebuild(w->ix, w->archive_dirfd, &added);
                if (r == 0) {
                        snprintf(msg, sizeof(msg), "index rebuilt: %" PRIu64 " records", added);
                        worker_log(w, INDEX_LOG_INFO, msg);
                }
        }
        if (r < 0 && !atomic_load(&w->cancel)) {
                const char *e = index_last_error(w->ix);
                if (strcmp(e, w->last_err) != 0) {
                        worker_log(w, INDEX_LOG_ERR, e[0] ? e : strerror(-r));
                        snprintf(w->last_err, sizeof(w->last_err), "%s", e);
                }
        } else if (r == 0) {
                w->last_err[0] = 0;
        }
}

static void *worker_main(void *arg)
{
        IndexWorker *w = arg;

        /* Off the critical path: ingest and sealing come first. SCHED_IDLE runs the indexer
         * only on otherwise idle CPU time (under sustained overload the index lags and
         * catches up afterwards; queries catch up themselves); nice as a fallback. */
        {
                struct sched_param sp = {.sched_priority = 0};
                if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0)
                        (void) setpriority(PRIO_PROCESS, (id_t) gettid(), WORKER_NICE);
        }

        for (;;) {
                uint64_t durable;
                pthread_mutex_lock(&w->mu);
                while (!w->stop && !w->kicked)
                        pthread_cond_wait(&w->cv, &w->mu);
                if (w->stop) {
                        pthread_mutex_unlock(&w->mu);
                        break;
                }
                w->kicked = 0;
                durable = w->durable;
                pthread_mutex_unlock(&w->mu);
                worker_run_once(w, durable);
        }
        return NULL;
}

int index_remove_legacy(int state_dirfd)
{
        static const char *const names[] = {STATE_INDEX_LEGACY, STATE_INDEX_LEGACY "-wal",
                                            STATE_INDEX_LEGACY "-shm"};
        int removed = 0;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                if (unlinkat(state_dirfd, names[i], 0) == 0)
                        removed++;
                else if (errno != ENOENT)
                        return -errno;
        }
        return removed;
}

int index_worker_start(IndexWorker **ret, int state_dirfd, int archive_dirfd,
                       const uint8_t chain_id[LS_CHAIN_ID_LEN], int fulltext, IndexLogFn log,
                       void *userdata)
{
        IndexWorker *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return fail(NULL, -ENOMEM, "%s: out of memory", STATE_INDEX);
        w->log = log;
        w->log_ud = userdata;
        w->archive_dirfd = fcntl(archive_dirfd, F_DUPFD_CLOEXEC, 3);
        if (w->archive_dirfd < 0) {
                r = fail(NULL, -errno, "%s: %s", STATE_ARCHIVES, strerror(errno));
                free(w);
                return r;
        }
        r = index_open(&w->ix, state_dirfd, chain_id);
        if (r < 0) {
                close(w->archive_dirfd);
                free(w);
                return r;
        }
        w->ix->cancel = &w->cancel;
        index_set_log(w->ix, log, userdata);
        if (fulltext && index_enable_fulltext(w->ix) > 0)
                note(w->ix, INDEX_LOG_WARNING,
                     "full-text index created; records indexed before are added by "
                     "'logsealctl reindex'");
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
        r = -pthread_create(&w->thread, NULL, worker_main, w);
        if (r < 0) {
                fail(NULL, r, "%s: cannot start the indexing thread: %s", STATE_INDEX, strerror(-r));
                pthread_mutex_destroy(&w->mu);
                pthread_cond_destroy(&w->cv);
                index_free(w->ix);
                close(w->archive_dirfd);
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

void index_worker_kick(IndexWorker *w, uint64_t durable_tree_size)
{
        if (!w)
                return;
        pthread_mutex_lock(&w->mu);
        w->durable = MAX(w->durable, durable_tree_size);
        w->kicked = 1;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
}

IndexWorker *index_worker_stop(IndexWorker *w)
{
        if (!w)
                return NULL;
        atomic_store(&w->cancel, 1);
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        index_free(w->ix);
        close(w->archive_dirfd);
        free(w);
        return NULL;
}
