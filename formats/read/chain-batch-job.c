/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chain-batch-job.c: a batch's own checks on a worker thread (SPEC §6.3): payload, records,
 * leaves
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "chain-verify-internal.h"
#include "util.h"

/* ---- batch jobs (worker side: pure functions of one batch) ---- */

void chain_job_free(BatchJob *j)
{
        if (!j)
                return;
        ls_payload_free(j->pc);
        ls_dict_unref(j->dict);
        free(j->payload);
        free(j->recs);
        free(j);
}

/* Leaves per chunk: a perfect subtree hashed two hashes at a time (ls_*_x2). */
#define CHUNK_LOG 10

/* Root of the perfect subtree of the 2^lg leaves of records i.. (lg <= CHUNK_LOG). */
static void chunk_root(const BatchJob *j, const uint8_t *raw, const LsSaltKey *k, uint32_t i,
                       unsigned lg, uint8_t (*l)[LS_HASH_LEN], uint8_t out[LS_HASH_LEN])
{
        const uint64_t s = j->h.first_seq + i;
        const uint32_t c = UINT32_C(1) << lg;
        uint8_t s0[LS_SALT_LEN], s1[LS_SALT_LEN];

        if (c == 1) {
                ls_salt_derive(k, s, s0);
                ls_leaf_hash(out, s0, raw + j->recs[i].off, j->recs[i].len);
                sodium_memzero(s0, sizeof(s0));
                return;
        }
        for (uint32_t x = 0; x < c; x += 2) {
                const RecInfo *r0 = &j->recs[i + x], *r1 = &j->recs[i + x + 1];
                ls_salt_derive_x2(k, s + x, s0, s + x + 1, s1);
                ls_leaf_hash_x2(l[x], s0, raw + r0->off, r0->len, l[x + 1], s1, raw + r1->off,
                                r1->len);
        }
        sodium_memzero(s0, sizeof(s0));
        sodium_memzero(s1, sizeof(s1));
        /* level by level, in place: node x reads 2x and 2x+1 before it is written */
        for (uint32_t w = c / 2; w >= 2; w /= 2)
                for (uint32_t x = 0; x < w; x += 2)
                        ls_node_hash_x2(l[x], l[2 * x], l[2 * x + 1], l[x + 1], l[2 * x + 2],
                                        l[2 * x + 3]);
        ls_node_hash(out, l[0], l[1]);
}

/*
 * Perfect subtrees of leaves [first_seq, first_seq + record_count), left to right, hashed
 * chunk by chunk while the records are decoded (the chunk is still in the cache). The
 * results count only when every record decoded (k == 0): then nrec == record_count.
 */
typedef struct Hasher {
        uint64_t pos;      /* tree position of the current subtree */
        uint32_t i, end;   /* next record to hash; end of the current subtree */
        unsigned ht;       /* height of the current subtree */
        LsSaltKey k;
        LsMerkle m;        /* chunks of a subtree above CHUNK_LOG */
} Hasher;

static void hasher_sub(const BatchJob *j, Hasher *hs)
{
        unsigned ht = hs->pos ? (unsigned) __builtin_ctzll(hs->pos) : 62;

        if (ht > 62)
                ht = 62;
        while ((UINT64_C(1) << ht) > (uint64_t) (j->h.record_count - hs->i))
                ht--;
        hs->ht = ht;
        hs->end = hs->i + (uint32_t) (UINT64_C(1) << ht);
        if (ht > CHUNK_LOG)
                ls_merkle_init(&hs->m);
}

static void hasher_init(const BatchJob *j, Hasher *hs)
{
        hs->pos = j->h.first_seq;
        hs->i = 0;
        ls_salt_key_init(&hs->k, j->h.salt_seed);
        hasher_sub(j, hs);
}

/* Hashes every whole chunk among the first `avail` records. */
static void hasher_run(BatchJob *j, const uint8_t *raw, Hasher *hs, uint32_t avail)
{
        static _Thread_local uint8_t l[1u << CHUNK_LOG][LS_HASH_LEN];
        uint8_t root[LS_HASH_LEN];

        while (hs->i < j->h.record_count && j->nsub < MAX_SUBTREES) {
                const unsigned lg = MIN(hs->ht, (unsigned) CHUNK_LOG);
                const uint32_t c = UINT32_C(1) << lg;
                if ((uint64_t) hs->i + c > avail)
                        return;
                if (hs->ht <= CHUNK_LOG) {
                        chunk_root(j, raw, &hs->k, hs->i, lg, l, j->sub[j->nsub].hash);
                } else {
                        chunk_root(j, raw, &hs->k, hs->i, lg, l, root);
                        (void) ls_merkle_append_subtree(&hs->m, root, lg);
                }
                hs->i += c;
                if (hs->i == hs->end) {
                        if (hs->ht > CHUNK_LOG)
                                memcpy(j->sub[j->nsub].hash, hs->m.peaks[0], LS_HASH_LEN);
                        j->sub[j->nsub].height = hs->ht;
                        j->nsub++;
                        hs->pos += UINT64_C(1) << hs->ht;
                        if (hs->i < j->h.record_count)
                                hasher_sub(j, hs);
                }
        }
}

void chain_job_run(LsPoolJob *pj)
{
        BatchJob *j = (BatchJob *) pj;
        const LsBatchHeader *h = &j->h;
        LsPayloadIter it;
        LsRecord rec;
        const uint8_t *bytes, *raw;
        size_t len, rawlen, want;
        Hasher hs;
        int k;

        j->err = 0;
        j->k = 0;
        j->roff = 0;
        j->nrec = j->nsub = 0;
        j->tmin = UINT64_MAX;
        j->tmax = 0;
        j->open_r = ls_payload_open_dict(j->pc, h, j->dict, j->payload, j->payload_len);
        if (j->open_r < 0)
                return;
        raw = ls_payload_raw(j->pc, &rawlen);
        /* Every entry takes at least 4 + LS_RECORD_FIXED_LEN bytes: bounded by the payload. */
        want = MIN((size_t) h->record_count, rawlen / (4 + LS_RECORD_FIXED_LEN) + 1);
        if (j->recs_cap < want) {
                RecInfo *q = realloc(j->recs, want * sizeof(*q));
                if (!q) {
                        j->err = -ENOMEM;
                        return;
                }
                j->recs = q;
                j->recs_cap = want;
        }
        ls_payload_iter_init(&it, h, raw, rawlen);
        hasher_init(j, &hs);
        while ((k = ls_payload_next(&it, &rec, &bytes, &len, NULL, &j->roff)) > 0) {
                RecInfo *ri;
                if (j->nrec == j->recs_cap) { /* cannot happen: the bound above holds */
                        k = -EBADMSG;
                        break;
                }
                ri = &j->recs[j->nrec++];
                ri->time_ns = rec.time_ns;
                ri->off = (uint32_t) (bytes - raw);
                ri->len = (uint32_t) len;
                ri->flags = rec.flags;
                ri->type = rec.type;
                j->tmin = MIN(j->tmin, rec.time_ns);
                j->tmax = MAX(j->tmax, rec.time_ns);
                if ((j->nrec & 255) == 0)
                        hasher_run(j, raw, &hs, j->nrec);
        }
        j->k = k;
        j->it_index = it.index;
        j->it_next_seq = it.next_seq;
        if (k == 0)
                hasher_run(j, raw, &hs, j->nrec);
        ls_salt_key_wipe(&hs.k);
}

