/* SPDX-License-Identifier: Apache-2.0 */
/* index-schema.c: the index's SQLite file: its schema, opening it, errors and notes (see
 * index.h) */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "index-internal.h"
#include "owner.h"
#include "state.h"
#include "util.h"

#define BUSY_TIMEOUT_MS 10000

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
        "CREATE TABLE batch_keys("
        " kind INTEGER NOT NULL,"
        " name TEXT NOT NULL,"
        " batch_no INTEGER NOT NULL,"
        " PRIMARY KEY (kind, name, batch_no)) WITHOUT ROWID;"
        "INSERT INTO position(id, gen, archive_no, offset) VALUES (0, 0, 0, 0);";

/* The query index on the batches' time ranges: dropped while index_rebuild() loads, made
 * again after it. */
#define SECONDARY_INDEXES 1
static const char create_indexes_sql[] =
        "CREATE INDEX IF NOT EXISTS batches_time ON batches(min_time);";
static const char drop_indexes_sql[] = "DROP INDEX IF EXISTS batches_time;";

static _Thread_local char open_err[ERR_MAX];

/* ---- errors and notes ---- */

void ix_vformat(char *out, const char *fmt, va_list ap)
{
        vsnprintf(out, ERR_MAX, fmt, ap);
}

/* Records the message and returns r. */
int ix_fail(Index *ix, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        ix_vformat(ix ? ix->err : open_err, fmt, ap);
        va_end(ap);
        return r;
}

void ix_note(Index *ix, int level, const char *fmt, ...)
{
        char msg[ERR_MAX];
        va_list ap;

        if (!ix->log)
                return;
        va_start(ap, fmt);
        ix_vformat(msg, fmt, ap);
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
int ix_sql_fail(Index *ix, sqlite3 *db, int rc, const char *what)
{
        return ix_fail(ix, sqlite_errno(rc) ?: -EIO, "%s: %s: %s", STATE_INDEX, what,
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

const char *ix_class_name(int error)
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

/* ---- opening ---- */

static int ix_exec(Index *ix, const char *sql, const char *what)
{
        int rc = sqlite3_exec(ix->db, sql, NULL, NULL, NULL);

        if (rc != SQLITE_OK)
                return ix_sql_fail(ix, ix->db, rc, what);
        return 0;
}

static int prepare(Index *ix, sqlite3_stmt **st, const char *sql)
{
        int rc = sqlite3_prepare_v3(ix->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

        if (rc != SQLITE_OK)
                return ix_sql_fail(ix, ix->db, rc, "preparing a statement");
        return 0;
}

/* Reads meta[key] into out (cap bytes): 1 found, 0 absent, <0 error. */
static int meta_get(Index *ix, const char *key, char *out, size_t cap)
{
        sqlite3_stmt *st = NULL;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(ix->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return ix_sql_fail(ix, ix->db, rc, "reading meta");
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const char *v = (const char *) sqlite3_column_text(st, 0);
                snprintf(out, cap, "%s", v ? v : "");
                r = 1;
        } else if (rc != SQLITE_DONE) {
                r = ix_sql_fail(ix, ix->db, rc, "reading meta");
        }
        sqlite3_finalize(st);
        return r;
}

int ix_one_row(Index *ix, sqlite3_stmt *st, const char *what, int64_t *ret)
{
        int rc = sqlite3_step(st);

        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
                return ix_sql_fail(ix, ix->db, rc, what);
        return 0;
}

static int ix_count_rows(Index *ix, const char *sql, int64_t *ret)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return ix_sql_fail(ix, ix->db, rc, "reading the schema");
        return ix_one_row(ix, st, "reading the schema", ret);
}

int ix_ensure_indexes(Index *ix)
{
        int64_t n = 0;
        int r;

        r = ix_count_rows(ix, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN"
                           " ('batches_time')",
                       &n);
        if (r < 0 || n == SECONDARY_INDEXES)
                return r;
        return ix_exec(ix, create_indexes_sql, "creating the query indexes");
}

/* Loading without the query indexes and sorting them in afterwards is faster than keeping
 * them up to date row by row (index_rebuild). Queries meanwhile scan. */
int ix_empty(Index *ix)
{
        int r;

        r = ix_exec(ix, "BEGIN IMMEDIATE", "emptying the index");
        r = r ?: ix_exec(ix, drop_indexes_sql, "emptying the index");
        r = r ?: ix_exec(ix, "DELETE FROM batch_keys;"
                             "DELETE FROM batches;"
                             "UPDATE position SET gen = gen + 1, archive_no = 0, offset = 0,"
                             " next_batch_no = NULL, next_seq = NULL, last_archive_no = NULL,"
                             " last_offset = NULL, last_header_hash = NULL WHERE id = 0",
                         "emptying the index");
        if (ix->ins_fts)
                r = r ?: ix_exec(ix, "INSERT INTO messages(messages) VALUES ('delete-all')",
                                 "emptying the full-text index");
        r = r ?: ix_exec(ix, "COMMIT", "emptying the index");
        if (r < 0)
                (void) sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

/*
 * Versions 1 and 2 had a row per record (the table records, with three secondary indexes);
 * version 3 has a few rows per batch (batch_keys). The index is derived data: in the open
 * transaction the old table goes, the new one comes, every row is dropped as by ix_empty(),
 * and whoever catches up next (the daemon's indexing thread, a query) indexes the archives
 * again. The file keeps its owner, which a `logsealctl reindex` run as root would not.
 */
static int migrate_old(Index *ix, const char *from)
{
        int64_t fts = 0;
        char what[160];
        int r;

        snprintf(what, sizeof(what), "moving the index from schema version %s to %d", from,
                 INDEX_SCHEMA_VERSION);
        r = ix_count_rows(ix,
                          "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                          "name = 'messages'",
                          &fts);
        r = r ?: ix_exec(ix, "DROP TABLE IF EXISTS records;"
                             "CREATE TABLE IF NOT EXISTS batch_keys("
                             " kind INTEGER NOT NULL,"
                             " name TEXT NOT NULL,"
                             " batch_no INTEGER NOT NULL,"
                             " PRIMARY KEY (kind, name, batch_no)) WITHOUT ROWID;"
                             "DELETE FROM batch_keys;"
                             "DELETE FROM batches;"
                             "UPDATE position SET gen = gen + 1, archive_no = 0, offset = 0,"
                             " next_batch_no = NULL, next_seq = NULL, last_archive_no = NULL,"
                             " last_offset = NULL, last_header_hash = NULL WHERE id = 0;",
                         what);
        r = r ?: ix_exec(ix, create_indexes_sql, what);
        if (r == 0) {
                char *sql = sqlite3_mprintf("UPDATE meta SET value = '%d' WHERE key = "
                                            "'schema_version'",
                                            INDEX_SCHEMA_VERSION);
                if (!sql)
                        return ix_fail(ix, -ENOMEM, "%s: out of memory", STATE_INDEX);
                r = ix_exec(ix, sql, what);
                sqlite3_free(sql);
        }
        if (fts)
                r = r ?: ix_exec(ix, "INSERT INTO messages(messages) VALUES ('delete-all')",
                                 "emptying the full-text index");
        if (r == 0)
                ix_note(ix, INDEX_LOG_INFO,
                        "%s: schema version %s: emptied and made version %d; the archives "
                        "are indexed again",
                        STATE_INDEX, from, INDEX_SCHEMA_VERSION);
        return r;
}

/* Creates the schema in a new file, or checks the version and chain of an existing one. */
static int setup_schema(Index *ix)
{
        char hex[2 * LS_CHAIN_ID_LEN + 1], v[80];
        int64_t have_meta = 0, tables = 0, pos_rows = 0;
        int r;

        ls_hex(hex, ix->chain_id, LS_CHAIN_ID_LEN);
        r = ix_exec(ix, "BEGIN IMMEDIATE", "starting a transaction");
        if (r < 0)
                return r;
        r = ix_count_rows(ix,
                          "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                          &have_meta);
        if (r == 0)
                r = ix_count_rows(ix, "SELECT count(*) FROM sqlite_master", &tables);
        if (r < 0)
                goto out;
        if (!have_meta) {
                char *sql;
                if (tables > 0) {
                        r = ix_fail(ix, -EUCLEAN, "%s: an SQLite database, but not a logseal index",
                                    STATE_INDEX);
                        goto out;
                }
                r = ix_exec(ix, schema_sql, "creating the schema");
                if (r == 0)
                        r = ix_exec(ix, create_indexes_sql, "creating the schema");
                if (r < 0)
                        goto out;
                sql = sqlite3_mprintf("INSERT INTO meta(key, value) VALUES ('schema_version', '%d'),"
                                      " ('chain_id', %Q)",
                                      INDEX_SCHEMA_VERSION, hex);
                if (!sql) {
                        r = ix_fail(ix, -ENOMEM, "%s: out of memory", STATE_INDEX);
                        goto out;
                }
                r = ix_exec(ix, sql, "creating the schema");
                sqlite3_free(sql);
                if (r < 0)
                        goto out;
        } else {
                int old;
                r = meta_get(ix, "schema_version", v, sizeof(v));
                if (r < 0)
                        goto out;
                old = r > 0 && (!strcmp(v, "1") || !strcmp(v, "2"));
                if (r == 0 || (strtol(v, NULL, 10) != INDEX_SCHEMA_VERSION && !old) ||
                    strspn(v, "0123456789") != strlen(v)) {
                        r = ix_fail(ix, -EPROTONOSUPPORT,
                                    "%s: schema version %s, this program knows version %d: "
                                    "delete the file and run 'logsealctl reindex'",
                                    STATE_INDEX, r == 0 ? "missing" : v, INDEX_SCHEMA_VERSION);
                        goto out;
                }
                r = meta_get(ix, "chain_id", v, sizeof(v));
                if (r < 0)
                        goto out;
                if (r == 0 || strcmp(v, hex) != 0) {
                        r = ix_fail(ix, -EXDEV, "%s: an index of chain %s, not of this chain %s",
                                    STATE_INDEX, r == 0 ? "(none)" : v, hex);
                        goto out;
                }
                r = ix_count_rows(ix, "SELECT count(*) FROM position WHERE id = 0", &pos_rows);
                if (r < 0)
                        goto out;
                if (pos_rows != 1) {
                        r = ix_fail(ix, -EUCLEAN, "%s: the position row is missing", STATE_INDEX);
                        goto out;
                }
                if (old) {
                        r = migrate_old(ix, v);
                        if (r < 0)
                                goto out;
                }
        }
        r = ix_exec(ix, "COMMIT", "committing the schema");
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
        r = r ?: prepare(ix, &ix->ins_key,
                         "INSERT OR IGNORE INTO batch_keys(kind, name, batch_no)"
                         " VALUES (?1, ?2, ?3)");
        r = r ?: prepare(ix, &ix->begin, "BEGIN IMMEDIATE");
        r = r ?: prepare(ix, &ix->commit, "COMMIT");
        r = r ?: prepare(ix, &ix->rollback, "ROLLBACK");
        if (r == 0) {
                int64_t fts = 0;
                r = ix_count_rows(ix, "SELECT count(*) FROM sqlite_master WHERE name = 'messages'",
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
        r = ix_exec(ix, FTS_CREATE, "creating the full-text index");
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
                r = fd < 0 ? -errno : state_give_to_owner(state_dirfd, fd);
                if (fd >= 0)
                        close(fd);
                if (r < 0)
                        return ix_fail(NULL, r, "%s: %s", STATE_INDEX_DIR, strerror(-r));
        } else if (errno != EEXIST)
                return ix_fail(NULL, -errno, "%s: %s", STATE_INDEX_DIR, strerror(errno));
        /* Create the file ourselves: exact mode, and never through a symlink. */
        fd = openat(state_dirfd, STATE_INDEX,
                    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
        r = fd < 0 ? 0 : state_give_to_owner(state_dirfd, fd);
        if (fd < 0 && errno == EEXIST)
                fd = openat(state_dirfd, STATE_INDEX, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return ix_fail(NULL, -errno, "%s: %s", STATE_INDEX, strerror(errno));
        close(fd);
        if (r < 0)
                return ix_fail(NULL, r, "%s: %s", STATE_INDEX, strerror(-r));

        ix = calloc(1, sizeof(*ix));
        if (!ix)
                return ix_fail(NULL, -ENOMEM, "%s: out of memory", STATE_INDEX);
        memcpy(ix->chain_id, chain_id, LS_CHAIN_ID_LEN);
        ix->limit = UINT64_MAX;

        /* SQLite wants a path: name the file through the directory descriptor. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", state_dirfd, STATE_INDEX);
        rc = sqlite3_open_v2(path, &ix->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK) {
                r = ix_sql_fail(NULL, ix->db, rc, "opening");
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
                        r = rc == SQLITE_ROW ? ix_fail(NULL, -EIO, "%s: cannot use WAL mode (%s)",
                                                       STATE_INDEX, mode ? mode : "?")
                                             : ix_sql_fail(NULL, ix->db, rc, "setting WAL mode");
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
                r = ix_sql_fail(NULL, ix->db, rc, "setting synchronous");
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
                        ix_fail(NULL, r, "%s: %s", STATE_INDEX, strerror(-r));
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
        sqlite3_finalize(ix->ins_key);
        sqlite3_finalize(ix->ins_fts);
        sqlite3_finalize(ix->begin);
        sqlite3_finalize(ix->commit);
        sqlite3_finalize(ix->rollback);
        sqlite3_close_v2(ix->db);
        ls_payload_free(ix->payload);
        ls_dict_unref(ix->dict);
        free(ix->buf);
        free(ix->keys);
        free(ix);
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

