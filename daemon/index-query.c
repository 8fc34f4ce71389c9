/* SPDX-License-Identifier: Apache-2.0 */
/* index-query.c: the index's reader: queries select records, and the archives answer (the
 * batch reader re-reads them; see index.h) */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "archive-reader.h"
#include "hash.h"
#include "chain-writer.h"
#include "index-internal.h"
#include "state.h"
#include "util.h"

/* ---- reading ---- */

int index_query_count(Index *ix, const char *host, uint64_t from_ns, uint64_t to_ns,
                      uint64_t *ret)
{
        sqlite3_stmt *st = NULL;
        int64_t n = 0;
        int rc, r;

        rc = sqlite3_prepare_v2(ix->db,
                                host ? "SELECT count(*) FROM records WHERE host = ?3 AND"
                                       " time_ns >= ?1 AND time_ns < ?2"
                                     : "SELECT count(*) FROM records WHERE"
                                       " time_ns >= ?1 AND time_ns < ?2",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return ix_sql_fail(ix, ix->db, rc, "counting");
        sqlite3_bind_int64(st, 1, i64(from_ns));
        sqlite3_bind_int64(st, 2, i64(to_ns));
        if (host)
                sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
        r = ix_one_row(ix, st, "counting", &n);
        if (r == 0)
                *ret = n < 0 ? 0 : (uint64_t) n;
        return r;
}

static int span_equals(const uint8_t *p, size_t n, const char *want)
{
        return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

/* The sender identity is `want`, "subject=" want, or "subject=" want " peer=..." (the form
 * ingest gives it, SPEC §3). */
static int identity_matches(const uint8_t *p, size_t n, const char *want)
{
        static const char pre[] = "subject=", peer[] = " peer=";
        size_t k = strlen(want), lp = sizeof(pre) - 1, lpeer = sizeof(peer) - 1;

        if (n == k && !memcmp(p, want, k))
                return 1;
        if (n < lp + k || memcmp(p, pre, lp) || memcmp(p + lp, want, k))
                return 0;
        return n == lp + k || (n >= lp + k + lpeer && !memcmp(p + lp + k, peer, lpeer));
}

int index_filter_match(const IndexFilter *f, const LsRecord *rec, const IndexFields *fl)
{
        return !((f->identity && !identity_matches(rec->identity, rec->identity_len, f->identity)) ||
                 (f->host && !span_equals(fl->host, fl->host_len, f->host)) ||
                 (f->app && !span_equals(fl->app, fl->app_len, f->app)) ||
                 rec->time_ns < f->from_ns || rec->time_ns >= f->to_ns ||
                 (f->syslog_only && rec->type != LS_REC_SYSLOG) ||
                 (f->has_facility && fl->facility != f->facility) ||
                 (f->has_severity && (fl->severity < 0 || fl->severity > f->severity)) ||
                 rec->seq < f->seq_from || (f->seq_to && rec->seq >= f->seq_to));
}

int index_query(Index *ix, const IndexFilter *f, IndexHitFn fn, void *userdata)
{
        char sql[2048];
        sqlite3_stmt *st = NULL;
        int rc, r = 0;

        ix->err[0] = 0;
        /* records first (CROSS JOIN fixes the order): its indexes give (time_ns, seq) order. */
        snprintf(sql, sizeof(sql),
                 "SELECT r.seq, r.time_ns, r.batch_no, b.archive_no, b.offset, b.header_hash"
                 " FROM records r CROSS JOIN batches b ON b.batch_no = r.batch_no"
                 " WHERE r.time_ns >= ?1 AND r.time_ns < ?2%s%s%s%s%s%s%s%s%s"
                 " ORDER BY r.time_ns, r.seq%s",
                 f->host ? " AND r.host = ?3" : "", f->app ? " AND r.app = ?4" : "",
                 f->syslog_only ? " AND r.type = 1" : "",
                 f->has_facility ? " AND r.facility = ?6" : "",
                 f->has_severity ? " AND r.severity <= ?7" : "",
                 f->seq_from ? " AND r.seq >= ?8" : "", f->seq_to ? " AND r.seq < ?9" : "",
                 f->match ? " AND r.seq IN (SELECT rowid FROM messages WHERE messages MATCH ?10)" :
                            "",
                 f->identity ? " AND (r.identity = ?11 OR r.identity = 'subject=' || ?11 OR"
                               " substr(r.identity, 1, length(?12)) = ?12)" :
                               "",
                 f->limit ? " LIMIT ?5" : "");
        if (f->match && !ix->ins_fts)
                return ix_fail(ix, -ENOPROTOOPT,
                               "%s has no full-text index: enable it with [index] fulltext = yes, "
                               "or 'logsealctl reindex --fulltext'",
                               STATE_INDEX);
        rc = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return ix_sql_fail(ix, ix->db, rc, "querying");
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
        if (f->identity) {
                char *prefix = sqlite3_mprintf("subject=%s peer=", f->identity);
                if (!prefix) {
                        sqlite3_finalize(st);
                        return ix_fail(ix, -ENOMEM, "out of memory");
                }
                sqlite3_bind_text(st, 11, f->identity, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 12, prefix, -1, sqlite3_free);
        }
        if (f->match) {
                /* The text's tokens (as unicode61 splits ASCII), each quoted, ANDed: no FTS5
                 * syntax from the user, and no phrases (detail=none). The caller checks the
                 * exact text against the archive's bytes. */
                size_t n = strlen(f->match), o = 0;
                char *q = malloc(n * 3 + 16);
                int tokens = 0;
                if (!q) {
                        sqlite3_finalize(st);
                        return ix_fail(ix, -ENOMEM, "out of memory");
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
                        return ix_fail(ix, -EINVAL, "--match needs a letter or digit");
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
                r = ix_sql_fail(ix, ix->db, rc, "querying");
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
        LsDict *dict;              /* the open archive's dictionary (SPEC §8.6), or NULL */
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
        ls_dict_unref(b->dict);
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
        ix_vformat(b->err, fmt, ap);
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
                b->dict = ls_dict_unref(b->dict);
                r = ls_archive_read_dict(b->fd, &b->dict, NULL);
                if (r < 0) {
                        close(b->fd);
                        b->fd = -1;
                        return reader_fail(b, r == -EAGAIN ? -ESTALE : -EBADMSG,
                                           "%s: archive header or dictionary: %s", name,
                                           strerror(-r));
                }
        }
        r = ix_read_frame(b->fd, b->fd_size, hit->offset, &fr, &b->buf, &b->cap);
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
        r = ls_payload_open_dict(b->payload, &b->h, b->dict, fr.payload, b->h.payload_len);
        if (r < 0)
                return reader_fail(b, -EBADMSG, "%s, offset %" PRIu64 ", batch %" PRIu64
                                   ": payload: %s",
                                   name, hit->offset, b->h.batch_no, ix_class_name(r));
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
                                   name, hit->offset, b->h.batch_no, it.index, ix_class_name(k));
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
                                   name, b->h.batch_no, hit->seq,
                                   ix_class_name(r < 0 ? r : -EBADMSG));
        return 0;
}

