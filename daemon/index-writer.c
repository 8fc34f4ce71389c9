/* SPDX-License-Identifier: Apache-2.0 */
/* index-writer.c: the index's writer: the fields it derives from records, its position, and
 * catching up with the archives batch by batch (see index.h) */
#include <arpa/inet.h>
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

#include "chain-writer.h"
#include "archive-reader.h"
#include "batchkeys.h"
#include "hash.h"
#include "index-internal.h"
#include "magic.h"
#include "parse.h"
#include "state.h"
#include "util.h"

#define CONFLICT_RETRIES 1000

/* ---- small statement helpers ---- */

static int step_done(Index *ix, sqlite3_stmt *st, const char *what)
{
        int rc = sqlite3_step(st);

        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
                return ix_sql_fail(ix, ix->db, rc, what);
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
                                r = ix_fail(ix, -EUCLEAN, "%s: damaged position row", STATE_INDEX);
                        else
                                memcpy(p->last_hash, h, LS_HASH_LEN);
                }
        } else {
                r = rc == SQLITE_DONE ? ix_fail(ix, -EUCLEAN, "%s: the position row is missing",
                                                STATE_INDEX)
                                      : ix_sql_fail(ix, ix->db, rc, "reading the position");
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

/* The syslog header fields of a record from m, the parse of its body (NULL: none). */
static void fields_of(const LsRecord *rec, const LsSyslogMsg *m, IndexFields *f)
{
        f->facility = -1;
        f->severity = -1;
        if (!m)
                return;
        f->facility = m->facility;
        f->severity = m->severity;
        if (m->flags & LS_SYSLOG_HAVE_TIME) {
                f->have_msg_time = 1;
                f->msg_time_ns = m->time_ns;
        }
        set_span(rec, m->hostname, &f->host, &f->host_len);
        set_span(rec, m->app_name, &f->app, &f->app_len);
        set_span(rec, m->procid, &f->procid, &f->procid_len);
        set_span(rec, m->msgid, &f->msgid, &f->msgid_len);
}

/* The syslog header fields of a record (none unless it parses as syslog): what both the
 * batch keys and index_record_fields take from a message. */
static void syslog_fields(const LsRecord *rec, IndexFields *f)
{
        /* A BSD timestamp's missing year comes from the receive time: deterministic. */
        LsSyslogParseOpts opts = {.now = (int64_t) (rec->time_ns / 1000000000u)};
        LsSyslogMsg m;
        int ok = rec->type == LS_REC_SYSLOG &&
                 ls_syslog_parse(rec->body, rec->body_len, &opts, &m) >= 0;

        fields_of(rec, ok ? &m : NULL, f);
}

void index_record_keys(const LsRecord *rec, const LsSyslogMsg *m, IndexKeyTuple *k)
{
        IndexFields f = {0};

        fields_of(rec, rec->type == LS_REC_SYSLOG ? m : NULL, &f);
        k->host = f.host;
        k->host_len = (uint32_t) f.host_len;
        k->app = f.app;
        k->app_len = (uint32_t) f.app_len;
        k->facility = f.facility >= 0 && f.facility < 24 ? f.facility : -1;
        k->severity = f.severity >= 0 && f.severity < 8 ? f.severity : -1;
        k->identity = rec->identity_len ? rec->identity : NULL;
        k->identity_len = rec->identity_len;
}

void index_record_fields(const LsRecord *rec, IndexFields *f)
{
        memset(f, 0, sizeof(*f));
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
        syslog_fields(rec, f);
}

/* ---- the keys of a batch ---- */

#define KEYS_MIN_CAP 256

static uint32_t key_hash(int kind, const uint8_t *p, size_t n)
{
        uint32_t h = 2166136261u ^ (uint32_t) kind; /* FNV-1a */

        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * 16777619u;
        return h;
}

static int keys_reset(Index *ix)
{
        if (!ix->keys) {
                ix->keys = calloc(KEYS_MIN_CAP, sizeof(*ix->keys));
                if (!ix->keys)
                        return ix_fail(ix, -ENOMEM, "%s: out of memory", STATE_INDEX);
                ix->keys_cap = KEYS_MIN_CAP;
        } else if (ix->nkeys) {
                memset(ix->keys, 0, ix->keys_cap * sizeof(*ix->keys));
        }
        ix->nkeys = 0;
        return 0;
}

static void keys_place(IxKey *tab, size_t cap, const IxKey *k)
{
        size_t i = k->hash & (cap - 1);

        while (tab[i].p)
                i = (i + 1) & (cap - 1);
        tab[i] = *k;
}

/* Adds a key (a span of the decoded payload) unless the batch already has it. At most two
 * slots per record and kind are ever needed: the table is bounded by the batch. */
static int keys_add(Index *ix, int kind, const uint8_t *p, size_t n)
{
        IxKey k = {.p = p, .len = (uint32_t) n, .hash = key_hash(kind, p, n), .kind = kind};
        size_t i;

        if (!p || n == 0 || n > INT32_MAX)
                return 0;
        for (i = k.hash & (ix->keys_cap - 1); ix->keys[i].p; i = (i + 1) & (ix->keys_cap - 1)) {
                const IxKey *o = &ix->keys[i];
                if (o->hash == k.hash && o->kind == kind && o->len == k.len &&
                    !memcmp(o->p, p, n))
                        return 0;
        }
        if ((ix->nkeys + 1) * 2 > ix->keys_cap) {
                size_t cap = ix->keys_cap * 2;
                IxKey *t = calloc(cap, sizeof(*t));
                if (!t)
                        return ix_fail(ix, -ENOMEM, "%s: out of memory", STATE_INDEX);
                for (size_t j = 0; j < ix->keys_cap; j++)
                        if (ix->keys[j].p)
                                keys_place(t, cap, &ix->keys[j]);
                free(ix->keys);
                ix->keys = t;
                ix->keys_cap = cap;
        }
        keys_place(ix->keys, ix->keys_cap, &k);
        ix->nkeys++;
        return 0;
}

/* The keys of one tuple (index_record_keys): each goes into the batch's set. */
static int tuple_keys(Index *ix, const IndexKeyTuple *k)
{
        static const char *const numbers[24] = {"0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",
                                                "8",  "9",  "10", "11", "12", "13", "14", "15",
                                                "16", "17", "18", "19", "20", "21", "22", "23"};
        int r;

        r = keys_add(ix, IX_KEY_HOST, k->host, k->host_len);
        r = r ?: keys_add(ix, IX_KEY_APP, k->app, k->app_len);
        if (k->facility >= 0 && k->facility < 24)
                r = r ?: keys_add(ix, IX_KEY_FACILITY, (const uint8_t *) numbers[k->facility],
                                  strlen(numbers[k->facility]));
        if (k->severity >= 0 && k->severity < 8)
                r = r ?: keys_add(ix, IX_KEY_SEVERITY, (const uint8_t *) numbers[k->severity],
                                  strlen(numbers[k->severity]));
        r = r ?: keys_add(ix, IX_KEY_IDENTITY, k->identity, k->identity_len);
        return r;
}

/* The keys of one record read from the archive: its body parsed as the ingest parsed it. */
static int record_keys(Index *ix, const LsRecord *rec)
{
        LsSyslogParseOpts opts = {.now = (int64_t) (rec->time_ns / 1000000000u)};
        LsSyslogMsg m;
        IndexKeyTuple k;
        int ok = rec->type == LS_REC_SYSLOG &&
                 ls_syslog_parse(rec->body, rec->body_len, &opts, &m) >= 0;

        index_record_keys(rec, ok ? &m : NULL, &k);
        return tuple_keys(ix, &k);
}

static int insert_keys(Index *ix, const LsBatchHeader *h)
{
        sqlite3_stmt *st = ix->ins_key;
        int r = 0;

        for (size_t i = 0; i < ix->keys_cap && r == 0; i++) {
                const IxKey *k = &ix->keys[i];
                if (!k->p)
                        continue;
                sqlite3_bind_int(st, 1, k->kind);
                sqlite3_bind_text(st, 2, (const char *) k->p, (int) k->len, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, i64(h->batch_no));
                r = step_done(ix, st, "inserting a batch's keys");
                sqlite3_clear_bindings(st); /* the spans point into the payload */
        }
        return r;
}

/* The full-text index (when enabled) has a row per syslog message. */
static int insert_fulltext(Index *ix, const LsRecord *rec)
{
        int r;

        if (!ix->ins_fts || rec->type != LS_REC_SYSLOG)
                return 0;
        sqlite3_bind_int64(ix->ins_fts, 1, i64(rec->seq));
        sqlite3_bind_text(ix->ins_fts, 2, (const char *) rec->body, (int) rec->body_len,
                          SQLITE_STATIC);
        r = step_done(ix, ix->ins_fts, "inserting into the full-text index");
        sqlite3_clear_bindings(ix->ins_fts);
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
        ix_vformat(what, fmt, ap);
        va_end(ap);
        return ix_fail(ix, -EBADMSG, "%s (archive %" PRIu64 "), offset %" PRIu64 ": %s", name,
                       archive_no, offset, what);
}

/*
 * Indexes one batch (frame at p->offset): decode, insert, advance the position, all in
 * one transaction. -EAGAIN when another writer moved the position meanwhile. With carried
 * (logseald's live path, batchkeys.h), the batch's keys are those ingest found in its
 * records: its payload is only checked against its header, not decompressed and parsed.
 */
static int index_batch(Index *ix, Pos *p, const Frame *fr, const char *name, Run *run,
                       const BkEntry *carried)
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
        int r, k, fresh;

        if (carried) {
                uint8_t digest[LS_HASH_LEN];
                ls_sha256(digest, fr->payload, h->payload_len);
                r = ls_hash_equal(digest, h->payload_hash) ? 0 : -EILSEQ;
        } else {
                r = ls_payload_open_dict(ix->payload, h,
                                         ix->dict_no == h->archive_no ? ix->dict : NULL,
                                         fr->payload, h->payload_len);
        }
        if (r < 0)
                return archive_damage(ix, name, h->archive_no, p->offset,
                                      "batch %" PRIu64 ": payload: %s", h->batch_no,
                                      ix_class_name(r));
        if (!carried) {
                raw = ls_payload_raw(ix->payload, &rawlen);
                ls_payload_iter_init(&it, h, raw, rawlen);
        }
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
        /* A batch indexed before (another writer) is not counted, nor its keys added again. */
        fresh = sqlite3_changes(ix->db) == 1;
        r = keys_reset(ix);
        if (r < 0)
                goto fail;
        if (carried) {
                for (uint32_t i = 0; fresh && i < carried->set.n; i++) {
                        IndexKeyTuple kt;
                        bkset_get(&carried->set, i, &kt);
                        r = tuple_keys(ix, &kt);
                        if (r < 0)
                                goto fail;
                }
                if (fresh)
                        added = h->record_count;
        } else {
                while ((k = ls_payload_next(&it, &rec, &bytes, &len, NULL, &eoff)) > 0) {
                        if (!fresh)
                                continue;
                        r = record_keys(ix, &rec);
                        r = r ?: insert_fulltext(ix, &rec);
                        if (r < 0)
                                goto fail;
                        added++;
                }
                if (k < 0) {
                        r = archive_damage(ix, name, h->archive_no, p->offset,
                                           "batch %" PRIu64 ", record %" PRIu32
                                           " (decompressed offset %zu): %s",
                                           h->batch_no, it.index, eoff, ix_class_name(k));
                        goto fail;
                }
        }
        if (fresh) {
                r = insert_keys(ix, h);
                if (r < 0)
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
        if (carried)
                ix->batches_carried++;
        else
                ix->batches_read++;
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
                        return ix_fail(ix, -ESTALE,
                                       "%s: the archive holding the last indexed batch %" PRIu64
                                       " is gone: the index must be rebuilt",
                                       name, p->next_batch_no - 1);
                return ix_fail(ix, -errno, "%s: %s", name, strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return ix_fail(ix, -errno, "%s: %s", name, strerror(errno));
        if ((uint64_t) st.st_size < p->offset && p->archive_no == p->last_archive_no)
                return ix_fail(ix, -ESTALE,
                               "%s: %" PRIu64 " bytes, shorter than the indexed %" PRIu64
                               ": the index must be rebuilt",
                               name, (uint64_t) st.st_size, p->offset);
        if ((uint64_t) st.st_size < p->last_offset + sizeof(buf))
                r = -ENODATA;
        else
                r = ix_pread_all(fd, buf, sizeof(buf), p->last_offset);
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
                return ix_fail(ix, -ESTALE,
                               "%s, offset %" PRIu64 ": not the batch %" PRIu64
                               " the index holds: the index must be rebuilt",
                               name, p->last_offset, p->next_batch_no - 1);
        if (r < 0)
                return ix_fail(ix, r, "%s: %s", name, strerror(-r));
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
                        return ix_fail(ix, -ESTALE,
                                       "%s: the archive being indexed is gone: the index must be "
                                       "rebuilt",
                                       name);
                return ix_fail(ix, -errno, "%s: %s", name, strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return ix_fail(ix, -errno, "%s: %s", name, strerror(errno));
        size = (uint64_t) st.st_size;
        run->progress.archive_no = a->no;
        if (ix->dict_no != a->no || ix->dict_end == 0) {
                /* The archive's dictionary (SPEC §8.6), read once per archive. */
                ix->dict = ls_dict_unref(ix->dict);
                ix->dict_end = 0;
                r = ls_archive_read_dict(fd, &ix->dict, &ix->dict_end);
                if (r == -EAGAIN && is_last)
                        return 0; /* just created */
                if (r < 0)
                        return archive_damage(ix, name, a->no, 0, "archive header or dictionary: %s",
                                              ix_class_name(r));
                ix->dict_no = a->no;
        }

        if (p->offset == 0) {
                LsArchiveHeader h;
                uint64_t end = 0;
                r = ix_read_archive_header(ix, fd, size, name, &h, &end);
                if (r < 0)
                        return r;
                if (r == 0) {
                        if (is_last)
                                return 0; /* just created */
                        return ix_fail(ix, -EBADMSG,
                                       "%s (archive %" PRIu64 "): no complete archive header",
                                       name, a->no);
                }
                if (memcmp(h.chain_id, ix->chain_id, LS_CHAIN_ID_LEN) != 0 ||
                    h.archive_no != a->no)
                        return ix_fail(ix, -EBADMSG,
                                       "%s: the archive header names archive %" PRIu64
                                       " of another chain or number",
                                       name, h.archive_no);
                if (p->have_last &&
                    (h.first_batch_no != p->next_batch_no || h.first_seq != p->next_seq))
                        return ix_fail(ix, -EBADMSG,
                                       "%s (archive %" PRIu64 "): starts at batch %" PRIu64
                                       ", seq %" PRIu64 "; the chain continues at batch %" PRIu64
                                       ", seq %" PRIu64 " (archives missing?)",
                                       name, a->no, h.first_batch_no, h.first_seq, p->next_batch_no,
                                       p->next_seq);
                if (ix->dict) /* batches start after the dictionary frame */
                        end = ix->dict_end;
                p->offset = end;
                run->progress.bytes_done += end;
        }

        for (;;) {
                Frame fr;
                uint64_t start = p->offset;

                if (ix->cancel && atomic_load(ix->cancel))
                        return 0;
                r = ix_read_frame(fd, size, p->offset, &fr, &ix->buf, &ix->cap);
                if (r < 0)
                        return ix_fail(ix, r, "%s: offset %" PRIu64 ": %s", name, p->offset,
                                       strerror(-r));
                switch (fr.kind) {
                case FRAME_INCOMPLETE:
                        if (is_last)
                                return 0; /* being appended to, or a torn tail: later */
                        /* Abandoned without a trailer (recovery seals such archives; an
                         * older daemon or a copy may not have): go on with the next one. */
                        ix_note(ix, INDEX_LOG_WARNING,
                                "%s: %" PRIu64 " bytes at offset %" PRIu64
                                " are not a complete frame and the archive has no seal trailer; "
                                "indexing continues with the next archive",
                                name, size - p->offset, p->offset);
                        return 1;
                case FRAME_DAMAGE:
                        return archive_damage(ix, name, a->no, start, "%s: %s (at offset %" PRIu64 ")",
                                              fr.what, ix_class_name(fr.error), fr.error_offset);
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
                                return ix_fail(ix, r,
                                               "%s (archive %" PRIu64 "), offset %" PRIu64
                                               ": batch %" PRIu64 " is NOT AUTHENTIC: %s; it is "
                                               "not indexed, nor anything after it",
                                               name, a->no, start, fr.batch.batch_no, why);
                        if (r < 0)
                                return ix_fail(ix, r, "%s", index_auth_error(ix->auth));
                }
                {
                        /* logseald's live path: the keys ingest found (batchkeys.h), when
                         * they are there for exactly this batch; the archive otherwise. */
                        BkEntry *e = NULL;
                        if (ix->carried && !ix->ins_fts) {
                                uint8_t hh[LS_HASH_LEN];
                                ls_batch_header_hash(&fr.batch, hh);
                                e = bk_queue_take(ix->carried, fr.batch.batch_no, hh);
                        }
                        r = index_batch(ix, p, &fr, name, run, e);
                        bk_entry_free(e);
                }
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
        r = ix_list_archives(ix, archive_dirfd, p.archive_no, &run->archives, &run->n);
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
                                        return ix_fail(ix, -ESTALE,
                                                       "%s: the archive being indexed is gone: the "
                                                       "index must be rebuilt",
                                                       name);
                                return ix_fail(ix, -EBADMSG,
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
                        r = ix_fail(ix, -EBUSY, "%s: another writer keeps moving the position",
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
        r = ix_ensure_indexes(ix);
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
        r = ix_empty(ix);
        if (r < 0)
                return r;
        r = catch_up(ix, archive_dirfd, ret_records_added);
        if (ix->cancel && atomic_load(ix->cancel))
                return r; /* the next catch-up makes the indexes */
        k = ix_ensure_indexes(ix);
        if (r == 0 && k < 0)
                r = k;
        return r;
}

