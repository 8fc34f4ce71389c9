/* SPDX-License-Identifier: Apache-2.0 */
/* batchkeys.c: the index keys of records carried from ingest through the sealer to the
 * indexing thread (see batchkeys.h) */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batchkeys.h"
#include "hash.h"
#include "util.h"

/* ---- sets of distinct tuples ---- */

static inline uint64_t rd64(const uint8_t *p)
{
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
}

static inline uint64_t rd32(const uint8_t *p)
{
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
}

/* A word at a time (ingest hashes every message's tuple); the tail as whole loads (an
 * overlapping last word, or wyhash's 4+4 and 3-byte reads), never byte stores. */
static uint64_t hash_bytes(uint64_t h, const uint8_t *p, uint32_t n)
{
        const uint64_t m = 0x9e3779b97f4a7c15ull;
        uint64_t w;

        if (n >= 8) {
                const uint8_t *end = p + n;
                for (; end - p > 8; p += 8) {
                        h = (h ^ rd64(p)) * m;
                        h ^= h >> 29;
                }
                w = rd64(end - 8);
        } else if (n >= 4) {
                w = rd32(p) << 32 | rd32(p + n - 4);
        } else if (n > 0) {
                w = (uint64_t) p[0] << 16 | (uint64_t) p[n >> 1] << 8 | p[n - 1];
        } else {
                w = 0;
        }
        h = (h ^ w ^ ((uint64_t) n << 56)) * m;
        return h ^ (h >> 32);
}

static uint32_t tuple_hash(const IndexKeyTuple *k)
{
        uint64_t h = (uint64_t) (uint8_t) k->facility << 8 | (uint8_t) k->severity;

        h = hash_bytes(h ^ ((uint64_t) k->host_len << 16), k->host, k->host_len);
        h = hash_bytes(h ^ ((uint64_t) k->app_len << 16), k->app, k->app_len);
        if (k->identity_len)
                h = hash_bytes(h ^ ((uint64_t) k->identity_len << 16), k->identity,
                               k->identity_len);
        return (uint32_t) h;
}

static int tuple_equal(const BkSet *s, const BkTuple *t, const IndexKeyTuple *k, uint32_t hash)
{
        const uint8_t *p = s->pool + t->off;

        return t->hash == hash && t->facility == k->facility && t->severity == k->severity &&
               t->host_len == k->host_len && t->app_len == k->app_len &&
               t->identity_len == k->identity_len &&
               (!k->host_len || !memcmp(p, k->host, k->host_len)) &&
               (!k->app_len || !memcmp(p + k->host_len, k->app, k->app_len)) &&
               (!k->identity_len ||
                !memcmp(p + k->host_len + k->app_len, k->identity, k->identity_len));
}

static int rehash(BkSet *s, uint32_t nslots)
{
        uint32_t *slot = calloc(nslots, sizeof(*slot));

        if (!slot)
                return -ENOMEM;
        for (uint32_t i = 0; i < s->n; i++) {
                uint32_t j = s->t[i].hash & (nslots - 1);
                while (slot[j])
                        j = (j + 1) & (nslots - 1);
                slot[j] = i + 1;
        }
        free(s->slot);
        s->slot = slot;
        s->nslots = nslots;
        return 0;
}

int bkset_add(BkSet *s, const IndexKeyTuple *k)
{
        uint32_t hash = tuple_hash(k), j;
        size_t names = (size_t) k->host_len + k->app_len + k->identity_len;

        if (s->nslots) {
                for (j = hash & (s->nslots - 1); s->slot[j]; j = (j + 1) & (s->nslots - 1))
                        if (tuple_equal(s, &s->t[s->slot[j] - 1], k, hash))
                                return (int) (s->slot[j] - 1);
        }
        if (s->n >= BK_MAX_TUPLES || names > BK_MAX_POOL - s->pool_len)
                return -E2BIG;
        if (s->n == s->cap) {
                uint32_t cap = s->cap ? s->cap * 2 : 64;
                BkTuple *t = reallocarray(s->t, cap, sizeof(*t));
                if (!t)
                        return -ENOMEM;
                s->t = t;
                s->cap = cap;
        }
        if ((s->n + 1) * 2 > s->nslots && rehash(s, s->nslots ? s->nslots * 2 : 128) < 0)
                return -ENOMEM;
        if (names > s->pool_cap - s->pool_len) {
                size_t cap = MAX(s->pool_cap * 2, s->pool_len + names);
                uint8_t *pool = realloc(s->pool, MAX(cap, (size_t) 1024));
                if (!pool)
                        return -ENOMEM;
                s->pool = pool;
                s->pool_cap = MAX(cap, (size_t) 1024);
        }
        s->t[s->n] = (BkTuple) {.off = (uint32_t) s->pool_len,
                                .host_len = k->host_len,
                                .app_len = k->app_len,
                                .identity_len = k->identity_len,
                                .hash = hash,
                                .facility = (int8_t) k->facility,
                                .severity = (int8_t) k->severity};
        if (k->host_len)
                memcpy(s->pool + s->pool_len, k->host, k->host_len);
        if (k->app_len)
                memcpy(s->pool + s->pool_len + k->host_len, k->app, k->app_len);
        if (k->identity_len)
                memcpy(s->pool + s->pool_len + k->host_len + k->app_len, k->identity,
                       k->identity_len);
        s->pool_len += names;
        for (j = hash & (s->nslots - 1); s->slot[j]; j = (j + 1) & (s->nslots - 1))
                ;
        s->slot[j] = s->n + 1;
        return (int) s->n++;
}

void bkset_get(const BkSet *s, uint32_t i, IndexKeyTuple *k)
{
        const BkTuple *t = &s->t[i];
        const uint8_t *p = s->pool + t->off;

        *k = (IndexKeyTuple) {.host = t->host_len ? p : NULL,
                              .host_len = t->host_len,
                              .app = t->app_len ? p + t->host_len : NULL,
                              .app_len = t->app_len,
                              .identity = t->identity_len ? p + t->host_len + t->app_len : NULL,
                              .identity_len = t->identity_len,
                              .facility = t->facility,
                              .severity = t->severity};
}

void bkset_clear(BkSet *s)
{
        if (s->n && s->slot)
                memset(s->slot, 0, s->nslots * sizeof(*s->slot));
        s->n = 0;
        s->pool_len = 0;
}

void bkset_done(BkSet *s)
{
        free(s->t);
        free(s->slot);
        free(s->pool);
        memset(s, 0, sizeof(*s));
}

size_t bkset_bytes(const BkSet *s)
{
        return sizeof(*s) + s->cap * sizeof(*s->t) + s->nslots * sizeof(*s->slot) + s->pool_cap;
}

/* ---- a chunk's keys (ingest) ---- */

void chunk_keys_note(ChunkKeys **ckp, uint32_t rec_no, const IndexKeyTuple *k)
{
        ChunkKeys *ck = *ckp;
        int i = BK_REC_NONE;

        if (!ck) {
                /* Records the chunk's keys do not reach are not known (the archive path). */
                if (rec_no != 0)
                        return;
                ck = *ckp = calloc(1, sizeof(*ck));
                if (!ck)
                        return;
        }
        if (ck->broken || ck->nrec != rec_no) {
                ck->broken = 1;
                return;
        }
        if (ck->nrec == ck->rec_cap) {
                uint32_t cap = ck->rec_cap ? ck->rec_cap * 2 : 1024;
                uint16_t *rec = reallocarray(ck->rec, cap, sizeof(*rec));
                if (!rec) {
                        ck->broken = 1;
                        return;
                }
                ck->rec = rec;
                ck->rec_cap = cap;
        }
        if (k && (k->host_len || k->app_len || k->identity_len || k->facility >= 0 ||
                  k->severity >= 0)) {
                i = bkset_add(&ck->set, k);
                if (i == -ENOMEM) {
                        ck->broken = 1;
                        return;
                }
                if (i < 0)
                        i = BK_REC_UNKNOWN;
        }
        static_assert(BK_MAX_TUPLES < BK_REC_NONE, "tuple numbers fit beside the markers");
        ck->rec[ck->nrec++] = (uint16_t) i;
}

ChunkKeys *chunk_keys_free(ChunkKeys *ck)
{
        if (ck) {
                bkset_done(&ck->set);
                free(ck->rec);
                free(ck);
        }
        return NULL;
}

/* ---- a batch's keys (the sealing thread) ---- */

void bk_batch_chunk(BkBatch *b, const ChunkKeys *ck)
{
        b->chunk = ck && !ck->broken ? ck : NULL;
        if (!b->chunk || b->chunk->set.n == 0)
                return;
        if (b->seen_cap < b->chunk->set.n) {
                uint32_t *seen = reallocarray(b->seen, b->chunk->set.n, sizeof(*seen));
                if (!seen) {
                        b->chunk = NULL;
                        return;
                }
                b->seen = seen;
                b->seen_cap = b->chunk->set.n;
        }
        /* gen is never 0: nothing of this chunk is in the open batch yet. */
        memset(b->seen, 0, b->chunk->set.n * sizeof(*b->seen));
}

void bk_batch_record(BkBatch *b, uint32_t i, const LsRecord *rec)
{
        const ChunkKeys *ck = b->chunk;
        uint16_t t;

        if (b->unknown)
                return;
        if (!ck || i >= ck->nrec) {
                /* Not noted by ingest (a record re-sealed from the WAL, a declaration made
                 * at start-up): a control record has no keys; anything else is unknown. */
                if (rec->type == LS_REC_SYSLOG || rec->identity_len)
                        b->unknown = 1;
                return;
        }
        t = ck->rec[i];
        if (t == BK_REC_NONE)
                return;
        if (t == BK_REC_UNKNOWN || t >= ck->set.n) {
                b->unknown = 1;
                return;
        }
        if (b->gen == 0)
                b->gen = 1;
        if (b->seen[t] == b->gen)
                return;
        b->seen[t] = b->gen;
        {
                IndexKeyTuple k;
                bkset_get(&ck->set, t, &k);
                if (bkset_add(&b->set, &k) < 0)
                        b->unknown = 1;
        }
}

void bk_batch_unknown(BkBatch *b)
{
        b->unknown = 1;
}

/* The set is the queue's now: the batch begins with an empty one. */
static void queue_offer(BkQueue *q, const LsBatchHeader *h, BkSet *set);

void bk_batch_flushed(BkBatch *b, BkQueue *q, const LsBatchHeader *h)
{
        if (q && !b->unknown)
                queue_offer(q, h, &b->set);
        bkset_clear(&b->set);
        b->unknown = 0;
        /* seen[] of the chunk being added holds this gen for the batch just closed. */
        if (++b->gen == 0) {
                b->gen = 1;
                if (b->seen)
                        memset(b->seen, 0, b->seen_cap * sizeof(*b->seen));
        }
}

void bk_batch_done(BkBatch *b)
{
        bkset_done(&b->set);
        free(b->seen);
        memset(b, 0, sizeof(*b));
}

/* ---- the queue ---- */

struct BkQueue {
        pthread_mutex_t mu;
        BkEntry *head, *tail;
        size_t bytes;
        int closed;
};

int bk_queue_new(BkQueue **ret)
{
        BkQueue *q = calloc(1, sizeof(*q));

        if (!q)
                return -ENOMEM;
        pthread_mutex_init(&q->mu, NULL);
        *ret = q;
        return 0;
}

BkEntry *bk_entry_free(BkEntry *e)
{
        if (e) {
                bkset_done(&e->set);
                free(e);
        }
        return NULL;
}

/* Under q->mu. */
static void drop_head(BkQueue *q)
{
        BkEntry *e = q->head;

        q->head = e->next;
        if (!q->head)
                q->tail = NULL;
        q->bytes -= bkset_bytes(&e->set);
        bk_entry_free(e);
}

BkQueue *bk_queue_free(BkQueue *q)
{
        if (q) {
                while (q->head)
                        drop_head(q);
                pthread_mutex_destroy(&q->mu);
                free(q);
        }
        return NULL;
}

void bk_queue_close(BkQueue *q)
{
        if (!q)
                return;
        pthread_mutex_lock(&q->mu);
        q->closed = 1;
        while (q->head)
                drop_head(q);
        pthread_mutex_unlock(&q->mu);
}

static void queue_offer(BkQueue *q, const LsBatchHeader *h, BkSet *set)
{
        BkEntry *e;
        size_t n;

        pthread_mutex_lock(&q->mu);
        if (q->closed) {
                pthread_mutex_unlock(&q->mu);
                return;
        }
        pthread_mutex_unlock(&q->mu);
        e = calloc(1, sizeof(*e));
        if (!e)
                return;
        e->batch_no = h->batch_no;
        ls_batch_header_hash(h, e->header_hash);
        /* The set's arrays move to the entry, trimmed to what they hold. */
        e->set = *set;
        memset(set, 0, sizeof(*set));
        n = bkset_bytes(&e->set);
        pthread_mutex_lock(&q->mu);
        /* The indexer lags (it runs on idle CPU only): the oldest sets go, those batches are
         * read from the archive when their turn comes. */
        while (q->head && q->bytes + n > BK_QUEUE_MAX_BYTES)
                drop_head(q);
        if (q->closed || n > BK_QUEUE_MAX_BYTES) {
                pthread_mutex_unlock(&q->mu);
                bk_entry_free(e);
                return;
        }
        if (q->tail)
                q->tail->next = e;
        else
                q->head = e;
        q->tail = e;
        q->bytes += n;
        pthread_mutex_unlock(&q->mu);
}

BkEntry *bk_queue_take(BkQueue *q, uint64_t batch_no, const uint8_t hh[LS_HASH_LEN])
{
        BkEntry *e = NULL;

        pthread_mutex_lock(&q->mu);
        while (q->head && q->head->batch_no < batch_no)
                drop_head(q);
        if (q->head && q->head->batch_no == batch_no) {
                e = q->head;
                q->head = e->next;
                if (!q->head)
                        q->tail = NULL;
                q->bytes -= bkset_bytes(&e->set);
                e->next = NULL;
        }
        pthread_mutex_unlock(&q->mu);
        if (e && !ls_hash_equal(e->header_hash, hh))
                e = bk_entry_free(e);
        return e;
}
