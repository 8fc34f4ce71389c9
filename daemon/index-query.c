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

int index_record_count(Index *ix, uint64_t *ret)
{
        sqlite3_stmt *st = NULL;
        int64_t n = 0;
        int rc, r;

        rc = sqlite3_prepare_v2(ix->db, "SELECT coalesce(sum(record_count), 0) FROM batches", -1,
                                &st, NULL);
        if (rc != SQLITE_OK)
                return ix_sql_fail(ix, ix->db, rc, "counting");
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

/* ---- index_query: batches from the index, records from the archives ---- */

/* Hits waiting for their turn, smallest (time_ns, seq) first: a binary heap. */
typedef struct HitHeap {
        IndexHit *v;
        size_t n, cap;
} HitHeap;

static int hit_less(const IndexHit *a, const IndexHit *b)
{
        return a->time_ns < b->time_ns || (a->time_ns == b->time_ns && a->seq < b->seq);
}

static int heap_push(HitHeap *h, const IndexHit *hit)
{
        size_t i;

        if (h->n == h->cap) {
                size_t cap = h->cap ? h->cap * 2 : 1024;
                IndexHit *v = reallocarray(h->v, cap, sizeof(*v));
                if (!v)
                        return -ENOMEM;
                h->v = v;
                h->cap = cap;
        }
        for (i = h->n++; i > 0 && hit_less(hit, &h->v[(i - 1) / 2]); i = (i - 1) / 2)
                h->v[i] = h->v[(i - 1) / 2];
        h->v[i] = *hit;
        return 0;
}

static void heap_pop(HitHeap *h)
{
        IndexHit last = h->v[--h->n];
        size_t i = 0;

        for (;;) {
                size_t c = 2 * i + 1;
                if (c >= h->n)
                        break;
                if (c + 1 < h->n && hit_less(&h->v[c + 1], &h->v[c]))
                        c++;
                if (!hit_less(&h->v[c], &last))
                        break;
                h->v[i] = h->v[c];
                i = c;
        }
        if (h->n)
                h->v[i] = last;
}

typedef struct QueryRun {
        HitHeap heap;
        uint64_t emitted;
        IndexHitFn fn;
        void *userdata;
        const IndexFilter *f;
        uint8_t *fts_bits;         /* match: which records of the batch the full-text index names */
        size_t fts_cap;
} QueryRun;

/* Passes on the waiting hits that come before `until` (all of them: UINT64_MAX): 1 when the
 * limit is reached, <0 when fn stopped. */
static int emit_until(QueryRun *q, uint64_t until, int all)
{
        while (q->heap.n && (all || q->heap.v[0].time_ns < until)) {
                IndexHit hit = q->heap.v[0];
                int r;
                heap_pop(&q->heap);
                if (q->f->limit && q->emitted == q->f->limit)
                        return 1;
                q->emitted++;
                r = q->fn(q->userdata, &hit);
                if (r < 0)
                        return r;
        }
        return q->f->limit && q->emitted == q->f->limit;
}

static int reader_record(IndexBatchReader *b, uint64_t i, LsRecord *rec);

/* The records of full-text hits in the batch's seq range, as bits. */
static int fts_mark(Index *ix, sqlite3_stmt *fts, QueryRun *q, uint64_t first_seq,
                    uint32_t count)
{
        int rc;

        if (q->fts_cap < count) {
                uint8_t *v = realloc(q->fts_bits, count);
                if (!v)
                        return -ENOMEM;
                q->fts_bits = v;
                q->fts_cap = count;
        }
        memset(q->fts_bits, 0, count);
        sqlite3_bind_int64(fts, 2, i64(first_seq));
        sqlite3_bind_int64(fts, 3, i64(first_seq + count));
        while ((rc = sqlite3_step(fts)) == SQLITE_ROW) {
                uint64_t s = col_u64(fts, 0);
                if (s >= first_seq && s - first_seq < count)
                        q->fts_bits[s - first_seq] = 1;
        }
        sqlite3_reset(fts);
        if (rc != SQLITE_DONE)
                return ix_sql_fail(ix, ix->db, rc, "querying the full-text index");
        return 0;
}

/*
 * One batch the index selected: its records re-read from the archive, filtered, queued.
 * A batch that cannot be read (gone, damaged, not authentic, not where the index says)
 * queues one hit, its first record, so that the caller's get() meets and reports the
 * same failure. A batch whose archive contradicts the index (no record of the host, app
 * or identity it was selected for; another time range) counts as a mismatch.
 */
static int query_batch(Index *ix, IndexBatchReader *b, QueryRun *q, sqlite3_stmt *fts,
                       const IndexHit *base, uint64_t first_seq, uint32_t count,
                       uint64_t min_time, uint64_t max_time)
{
        const IndexFilter *f = q->f;
        const LsBatchHeader *h;
        IndexHit hit = *base;
        LsRecord rec;
        int r, host_seen = 0, app_seen = 0, id_seen = 0;

        hit.seq = first_seq;
        hit.time_ns = min_time;
        r = index_batch_reader_get(b, &hit, &rec);
        if (r == -ENOMEM || r == -EMFILE)
                return r;
        if (r < 0)
                return heap_push(&q->heap, &hit);
        h = index_batch_reader_header(b);
        if (h->first_seq != first_seq || h->record_count != count ||
            h->min_time_ns != min_time || h->max_time_ns != max_time)
                ix->query_mismatches++;
        if (f->match) {
                r = fts_mark(ix, fts, q, first_seq, count);
                if (r < 0)
                        return r;
        }
        for (uint64_t i = 0; i < count; i++) {
                IndexFields fl;
                if (i > 0) {
                        r = reader_record(b, i, &rec);
                        if (r < 0)
                                return r;
                }
                index_record_fields(&rec, &fl);
                host_seen |= f->host && span_equals(fl.host, fl.host_len, f->host);
                app_seen |= f->app && span_equals(fl.app, fl.app_len, f->app);
                id_seen |= f->identity &&
                           identity_matches(rec.identity, rec.identity_len, f->identity);
                if (!index_filter_match(f, &rec, &fl) || (f->match && !q->fts_bits[i]))
                        continue;
                hit.seq = rec.seq;
                hit.time_ns = rec.time_ns;
                r = heap_push(&q->heap, &hit);
                if (r < 0)
                        return r;
        }
        if ((f->host && !host_seen) || (f->app && !app_seen) || (f->identity && !id_seen))
                ix->query_mismatches++;
        return 0;
}

static int bind_match(Index *ix, sqlite3_stmt *st, int i, const char *match)
{
        /* The text's tokens (as unicode61 splits ASCII), each quoted, ANDed: no FTS5 syntax
         * from the user, and no phrases (detail=none). The caller checks the exact text
         * against the archive's bytes. */
        size_t n = strlen(match), o = 0;
        char *q = malloc(n * 3 + 16);
        int tokens = 0;

        if (!q)
                return ix_fail(ix, -ENOMEM, "out of memory");
        for (size_t k = 0; k < n;) {
                while (k < n && (uint8_t) match[k] < 0x80 && !isalnum((unsigned char) match[k]))
                        k++;
                if (k == n)
                        break;
                o += (size_t) sprintf(q + o, "%s\"", tokens++ ? " AND " : "");
                while (k < n && ((uint8_t) match[k] >= 0x80 || isalnum((unsigned char) match[k])))
                        q[o++] = match[k++];
                q[o++] = '"';
        }
        q[o] = 0;
        if (!tokens) {
                free(q);
                return ix_fail(ix, -EINVAL, "--match needs a letter or digit");
        }
        sqlite3_bind_text(st, i, q, -1, free);
        return 0;
}

int index_query(Index *ix, IndexBatchReader *b, const IndexFilter *f, IndexHitFn fn,
                void *userdata)
{
        char sql[2048];
        sqlite3_stmt *st = NULL, *fts = NULL;
        QueryRun q = {.fn = fn, .userdata = userdata, .f = f};
        int rc, r = 0;

        ix->err[0] = 0;
        ix->query_mismatches = 0;
        if (f->match && !ix->ins_fts)
                return ix_fail(ix, -ENOPROTOOPT,
                               "%s has no full-text index: enable it with [index] fulltext = yes, "
                               "or 'logsealctl reindex --fulltext'",
                               STATE_INDEX);
        /* The batches that may hold a match, in the order of their first receive time. */
        snprintf(sql, sizeof(sql),
                 "SELECT b.batch_no, b.archive_no, b.offset, b.first_seq, b.record_count,"
                 " b.min_time, b.max_time, b.header_hash FROM batches b"
                 " WHERE b.max_time >= ?1 AND b.min_time < ?2 AND b.record_count > 0%s%s%s%s%s%s%s%s"
                 " ORDER BY b.min_time, b.batch_no",
                 f->host ? " AND b.batch_no IN (SELECT batch_no FROM batch_keys WHERE kind = 0"
                           " AND name = ?3)" : "",
                 f->app ? " AND b.batch_no IN (SELECT batch_no FROM batch_keys WHERE kind = 1"
                          " AND name = ?4)" : "",
                 f->has_facility ? " AND b.batch_no IN (SELECT batch_no FROM batch_keys"
                                   " WHERE kind = 3 AND name = CAST(?6 AS TEXT))" : "",
                 f->has_severity ? " AND b.batch_no IN (SELECT batch_no FROM batch_keys"
                                   " WHERE kind = 4 AND name IN ('0', '1', '2', '3', '4', '5',"
                                   " '6', '7') AND CAST(name AS INTEGER) <= ?7)" : "",
                 f->seq_from ? " AND b.first_seq + b.record_count > ?8" : "",
                 f->seq_to ? " AND b.first_seq < ?9" : "",
                 f->match ? " AND EXISTS (SELECT 1 FROM messages WHERE messages MATCH ?10 AND"
                            " rowid >= b.first_seq AND rowid < b.first_seq + b.record_count)" :
                            "",
                 f->identity ? " AND b.batch_no IN (SELECT batch_no FROM batch_keys WHERE"
                               " kind = 2 AND (name = ?11 OR name = 'subject=' || ?11 OR"
                               " substr(name, 1, length(?12)) = ?12))" :
                               "");
        rc = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return ix_sql_fail(ix, ix->db, rc, "querying");
        sqlite3_bind_int64(st, 1, i64(f->from_ns));
        sqlite3_bind_int64(st, 2, i64(f->to_ns));
        if (f->host)
                sqlite3_bind_text(st, 3, f->host, -1, SQLITE_STATIC);
        if (f->app)
                sqlite3_bind_text(st, 4, f->app, -1, SQLITE_STATIC);
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
                rc = sqlite3_prepare_v2(ix->db,
                                        "SELECT rowid FROM messages WHERE messages MATCH ?1 AND"
                                        " rowid >= ?2 AND rowid < ?3",
                                        -1, &fts, NULL);
                if (rc != SQLITE_OK) {
                        sqlite3_finalize(st);
                        return ix_sql_fail(ix, ix->db, rc, "querying");
                }
                r = bind_match(ix, st, 10, f->match);
                r = r ?: bind_match(ix, fts, 1, f->match);
                if (r < 0)
                        goto out;
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                IndexHit base = {
                        .batch_no = col_u64(st, 0),
                        .archive_no = col_u64(st, 1),
                        .offset = col_u64(st, 2),
                };
                uint64_t first_seq = col_u64(st, 3), count = col_u64(st, 4);
                uint64_t min_time = col_u64(st, 5), max_time = col_u64(st, 6);
                const void *hh = sqlite3_column_blob(st, 7);
                if (hh && sqlite3_column_bytes(st, 7) == LS_HASH_LEN)
                        memcpy(base.header_hash, hh, LS_HASH_LEN);
                r = emit_until(&q, min_time, 0);
                if (r != 0)
                        break;
                r = query_batch(ix, b, &q, fts, &base, first_seq,
                                count > UINT32_MAX ? UINT32_MAX : (uint32_t) count, min_time,
                                max_time);
                if (r < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = ix_sql_fail(ix, ix->db, rc, "querying");
        if (r == 0)
                r = emit_until(&q, 0, 1);
        if (r > 0)
                r = 0;
out:
        sqlite3_finalize(st);
        sqlite3_finalize(fts);
        free(q.heap.v);
        free(q.fts_bits);
        return r;
}

uint64_t index_query_mismatches(const Index *ix)
{
        return ix->query_mismatches;
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
        return reader_record(b, i, rec);
}

/* Record i of the loaded batch (i < record_count). */
static int reader_record(IndexBatchReader *b, uint64_t i, LsRecord *rec)
{
        uint32_t len = ls_get32(b->raw + b->entries[i]);
        int r = ls_record_decode(rec, b->raw + b->entries[i] + 4, len, NULL);

        if (r < 0 || rec->seq != b->h.first_seq + i) {
                char name[128];
                ls_archive_name(name, sizeof(name), b->chain_id, b->archive_no);
                return reader_fail(b, -EBADMSG, "%s, batch %" PRIu64 ", seq %" PRIu64 ": %s",
                                   name, b->h.batch_no, b->h.first_seq + i,
                                   ix_class_name(r < 0 ? r : -EBADMSG));
        }
        return 0;
}

