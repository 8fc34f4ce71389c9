/* SPDX-License-Identifier: Apache-2.0 */
/* test-batchkeys: the index keys carried from ingest to the indexing thread
 * (daemon/batchkeys.c): distinct tuples, their caps, a chunk's notes, a batch's set across
 * chunks and batches, and the queue (exact header, oldest dropped, closed). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchkeys.h"
#include "hash.h"
#include "tu-check.h"

static IndexKeyTuple tuple(const char *host, const char *app, const char *id, int fac, int sev)
{
        return (IndexKeyTuple){.host = (const uint8_t *) host,
                               .host_len = host ? (uint32_t) strlen(host) : 0,
                               .app = (const uint8_t *) app,
                               .app_len = app ? (uint32_t) strlen(app) : 0,
                               .identity = (const uint8_t *) id,
                               .identity_len = id ? (uint32_t) strlen(id) : 0,
                               .facility = fac,
                               .severity = sev};
}

static int same(const IndexKeyTuple *a, const IndexKeyTuple *b)
{
        return a->host_len == b->host_len && a->app_len == b->app_len &&
               a->identity_len == b->identity_len && a->facility == b->facility &&
               a->severity == b->severity &&
               !memcmp(a->host ?: (const uint8_t *) "", b->host ?: (const uint8_t *) "",
                       a->host_len) &&
               !memcmp(a->app ?: (const uint8_t *) "", b->app ?: (const uint8_t *) "",
                       a->app_len) &&
               !memcmp(a->identity ?: (const uint8_t *) "", b->identity ?: (const uint8_t *) "",
                       a->identity_len);
}

START_TEST(set_should_keep_each_distinct_tuple_once)
{
        BkSet s = {0};
        IndexKeyTuple a = tuple("h1", "sshd", NULL, 4, 6), b = tuple("h1", "sshd", NULL, 4, 5),
                      c = tuple("h1s", "shd", NULL, 4, 6), /* same bytes, other split */
                d = tuple(NULL, NULL, "subject=x", -1, -1), got;

        ck_assert_int_eq(bkset_add(&s, &a), 0);
        ck_assert_int_eq(bkset_add(&s, &b), 1);
        ck_assert_int_eq(bkset_add(&s, &c), 2);
        ck_assert_int_eq(bkset_add(&s, &d), 3);
        ck_assert_int_eq(bkset_add(&s, &a), 0);
        ck_assert_int_eq(bkset_add(&s, &d), 3);
        ck_assert_uint_eq(s.n, 4);
        bkset_get(&s, 2, &got);
        ck_assert(same(&got, &c));
        bkset_get(&s, 3, &got);
        ck_assert(same(&got, &d));
        ck_assert_ptr_null(got.host);
        /* many, through several rehashes */
        for (int i = 0; i < 3000; i++) {
                char h[32];
                snprintf(h, sizeof(h), "host%d", i);
                IndexKeyTuple k = tuple(h, "app", NULL, i % 24, i % 8);
                ck_assert_int_eq(bkset_add(&s, &k), 4 + i);
        }
        for (int i = 0; i < 3000; i++) {
                char h[32];
                snprintf(h, sizeof(h), "host%d", i);
                IndexKeyTuple k = tuple(h, "app", NULL, i % 24, i % 8);
                ck_assert_int_eq(bkset_add(&s, &k), 4 + i);
        }
        bkset_clear(&s);
        ck_assert_int_eq(bkset_add(&s, &b), 0);
        bkset_done(&s);
}
END_TEST

START_TEST(set_should_refuse_beyond_its_caps)
{
        BkSet s = {0};
        char *big = malloc(BK_MAX_POOL + 2);
        int i;

        for (i = 0; i < (int) BK_MAX_TUPLES; i++) {
                char h[32];
                snprintf(h, sizeof(h), "h%d", i);
                IndexKeyTuple k = tuple(h, NULL, NULL, -1, -1);
                ck_assert_int_eq(bkset_add(&s, &k), i);
        }
        IndexKeyTuple more = tuple("one more", NULL, NULL, -1, -1);
        ck_assert_int_eq(bkset_add(&s, &more), -E2BIG);
        IndexKeyTuple old = tuple("h7", NULL, NULL, -1, -1);
        ck_assert_int_eq(bkset_add(&s, &old), 7); /* present ones are still found */
        bkset_clear(&s);
        memset(big, 'x', BK_MAX_POOL + 1);
        big[BK_MAX_POOL + 1] = 0;
        IndexKeyTuple huge = tuple(big, NULL, NULL, -1, -1);
        ck_assert_int_eq(bkset_add(&s, &huge), -E2BIG);
        bkset_done(&s);
        free(big);
}
END_TEST

static LsRecord syslog_rec(void)
{
        return (LsRecord){.type = LS_REC_SYSLOG, .body = (const uint8_t *) "x", .body_len = 1};
}

static LsBatchHeader header(uint64_t batch_no)
{
        LsBatchHeader h;

        memset(&h, 0, sizeof(h));
        h.batch_no = batch_no;
        h.tree_size = batch_no * 10 + 10;
        return h;
}

/* Two chunks across three batches: each batch offers its own distinct tuples. */
START_TEST(batch_should_collect_the_tuples_of_its_own_records)
{
        ChunkKeys *c1 = NULL, *c2 = NULL;
        IndexKeyTuple a = tuple("a", "x", NULL, 1, 1), b = tuple("b", "x", NULL, 1, 1),
                      c = tuple("c", NULL, "id", -1, -1), got;
        LsRecord rec = syslog_rec(), ctl = {.type = LS_REC_CONTROL};
        BkBatch bb = {0};
        BkQueue *q;
        BkEntry *e;
        LsBatchHeader h0 = header(0), h1 = header(1), h2 = header(2);
        uint8_t hh[LS_HASH_LEN];

        ck_assert_int_eq(bk_queue_new(&q), 0);
        chunk_keys_note(&c1, 0, &a);
        chunk_keys_note(&c1, 1, NULL);
        chunk_keys_note(&c1, 2, &b);
        chunk_keys_note(&c1, 3, &a);
        chunk_keys_note(&c2, 0, &c);
        chunk_keys_note(&c2, 1, &a);
        ck_assert_uint_eq(c1->nrec, 4);
        ck_assert_uint_eq(c1->set.n, 2);

        bk_batch_chunk(&bb, c1);
        bk_batch_record(&bb, 0, &rec);
        bk_batch_record(&bb, 1, &ctl);
        bk_batch_flushed(&bb, q, &h0); /* batch 0: a */
        bk_batch_record(&bb, 2, &rec);
        bk_batch_record(&bb, 3, &rec);
        bk_batch_chunk(&bb, c2);
        bk_batch_record(&bb, 0, &rec);
        bk_batch_flushed(&bb, q, &h1); /* batch 1: b, a, c */
        bk_batch_record(&bb, 1, &rec);
        bk_batch_flushed(&bb, q, &h2); /* batch 2: a */

        ls_batch_header_hash(&h0, hh);
        e = bk_queue_take(q, 0, hh);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->set.n, 1);
        bkset_get(&e->set, 0, &got);
        ck_assert(same(&got, &a));
        e = bk_entry_free(e);
        ls_batch_header_hash(&h1, hh);
        e = bk_queue_take(q, 1, hh);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->set.n, 3);
        bkset_get(&e->set, 0, &got);
        ck_assert(same(&got, &b));
        bkset_get(&e->set, 1, &got);
        ck_assert(same(&got, &a));
        bkset_get(&e->set, 2, &got);
        ck_assert(same(&got, &c));
        e = bk_entry_free(e);
        ls_batch_header_hash(&h2, hh);
        e = bk_queue_take(q, 2, hh);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->set.n, 1);
        e = bk_entry_free(e);

        bk_batch_done(&bb);
        chunk_keys_free(c1);
        chunk_keys_free(c2);
        bk_queue_free(q);
}
END_TEST

/* A record the chunk did not note (re-sealed from the WAL), a note out of step, a failed
 * write: that batch is not offered, the next one is. */
START_TEST(batch_should_not_offer_what_is_not_certain)
{
        ChunkKeys *c1 = NULL;
        IndexKeyTuple a = tuple("a", NULL, NULL, -1, -1);
        LsRecord rec = syslog_rec(), ctl = {.type = LS_REC_CONTROL};
        BkBatch bb = {0};
        BkQueue *q;
        LsBatchHeader h;
        uint8_t hh[LS_HASH_LEN];

        ck_assert_int_eq(bk_queue_new(&q), 0);
        bk_batch_chunk(&bb, NULL); /* replayed: control records are fine */
        bk_batch_record(&bb, 0, &ctl);
        h = header(0);
        bk_batch_flushed(&bb, q, &h);
        bk_batch_record(&bb, 1, &rec); /* a syslog record is not */
        h = header(1);
        bk_batch_flushed(&bb, q, &h);
        chunk_keys_note(&c1, 0, &a);
        chunk_keys_note(&c1, 2, &a); /* out of step: the chunk's keys end */
        ck_assert(c1->broken);
        bk_batch_chunk(&bb, c1);
        bk_batch_record(&bb, 0, &rec);
        h = header(2);
        bk_batch_flushed(&bb, q, &h);
        bk_batch_record(&bb, 0, &rec);
        bk_batch_unknown(&bb);
        h = header(3);
        bk_batch_flushed(&bb, q, &h);

        h = header(0);
        ls_batch_header_hash(&h, hh);
        BkEntry *e = bk_queue_take(q, 0, hh);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->set.n, 0);
        bk_entry_free(e);
        for (uint64_t i = 1; i <= 3; i++) {
                h = header(i);
                ls_batch_header_hash(&h, hh);
                ck_assert_ptr_null(bk_queue_take(q, i, hh));
        }
        bk_batch_done(&bb);
        chunk_keys_free(c1);
        bk_queue_free(q);
}
END_TEST

START_TEST(queue_should_answer_only_for_the_exact_header)
{
        BkQueue *q;
        BkBatch bb = {0};
        LsBatchHeader h = header(5), other = header(5);
        uint8_t hh[LS_HASH_LEN];

        ck_assert_int_eq(bk_queue_new(&q), 0);
        for (uint64_t i = 1; i <= 6; i++) {
                LsBatchHeader x = header(i);
                bk_batch_flushed(&bb, q, &x);
        }
        other.tree_size++; /* batch 5 of another header (a rebuilt tail) */
        ls_batch_header_hash(&other, hh);
        ck_assert_ptr_null(bk_queue_take(q, 5, hh));
        ls_batch_header_hash(&h, hh);
        ck_assert_ptr_null(bk_queue_take(q, 5, hh)); /* gone with the mismatch */
        h = header(3);                               /* older than what was taken: gone too */
        ls_batch_header_hash(&h, hh);
        ck_assert_ptr_null(bk_queue_take(q, 3, hh));
        h = header(6);
        ls_batch_header_hash(&h, hh);
        BkEntry *e = bk_queue_take(q, 6, hh);
        ck_assert_ptr_nonnull(e);
        bk_entry_free(e);
        bk_queue_close(q); /* nobody takes: offers are dropped */
        h = header(7);
        bk_batch_flushed(&bb, q, &h);
        ls_batch_header_hash(&h, hh);
        ck_assert_ptr_null(bk_queue_take(q, 7, hh));
        bk_batch_done(&bb);
        bk_queue_free(q);
}
END_TEST

/* The indexer lags: the queue holds at most BK_QUEUE_MAX_BYTES, the oldest sets go first. */
START_TEST(queue_should_drop_the_oldest_beyond_its_bound)
{
        BkQueue *q;
        BkBatch bb = {0};
        ChunkKeys *ck = NULL;
        LsRecord rec = syslog_rec();
        uint8_t hh[LS_HASH_LEN];
        char name[400];
        uint64_t n = 0;

        ck_assert_int_eq(bk_queue_new(&q), 0);
        memset(name, 'n', sizeof(name) - 1);
        name[sizeof(name) - 1] = 0;
        for (uint32_t i = 0; i < 1000; i++) {
                IndexKeyTuple k = tuple(name, NULL, NULL, (int) (i % 24), -1);
                snprintf(name, 12, "%011u", i);
                name[11] = 'n';
                chunk_keys_note(&ck, i, &k);
        }
        bk_batch_chunk(&bb, ck);
        /* 1000 tuples of 400 bytes per batch: about 0.5 MB a set */
        for (n = 0; n < 200; n++) {
                LsBatchHeader h = header(n);
                for (uint32_t i = 0; i < 1000; i++)
                        bk_batch_record(&bb, i, &rec);
                bk_batch_flushed(&bb, q, &h);
        }
        LsBatchHeader h = header(0);
        ls_batch_header_hash(&h, hh);
        ck_assert_ptr_null(bk_queue_take(q, 0, hh));
        h = header(199);
        ls_batch_header_hash(&h, hh);
        BkEntry *e = bk_queue_take(q, 199, hh);
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->set.n, 1000);
        bk_entry_free(e);
        bk_batch_done(&bb);
        chunk_keys_free(ck);
        bk_queue_free(q);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("batchkeys");
        TCase *tc = tcase_create("batchkeys");

        tcase_add_test(tc, set_should_keep_each_distinct_tuple_once);
        tcase_add_test(tc, set_should_refuse_beyond_its_caps);
        tcase_add_test(tc, batch_should_collect_the_tuples_of_its_own_records);
        tcase_add_test(tc, batch_should_not_offer_what_is_not_certain);
        tcase_add_test(tc, queue_should_answer_only_for_the_exact_header);
        tcase_add_test(tc, queue_should_drop_the_oldest_beyond_its_bound);
        tcase_set_timeout(tc, 60);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
