/* SPDX-License-Identifier: Apache-2.0 */
/* batchkeys.h: the index keys of records carried from ingest through the sealer to the
 * indexing thread (batchkeys.c), so that the live index need not read batches back */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "defs.h"
#include "index.h"
#include "record.h"

/*
 * ingest.c parses every message already; what the index takes from a record
 * (index_record_keys: host, app, facility, severity, identity) is kept beside the chunk as a
 * tuple, the chunk's distinct tuples in a BkSet and one tuple number per record. The sealing
 * thread collects the distinct tuples of each batch as it adds the records (BkBatch) and,
 * once the batch is durable, offers them with the batch's header hash (BkQueue). The
 * indexing thread takes the set of the batch it indexes, if there is one for exactly that
 * header, and inserts its keys instead of decompressing, rebuilding and parsing the batch.
 *
 * Whatever is not certain is not carried, and the indexer reads the archive as always: a
 * batch holding a record without carried keys (re-sealed from the WAL after a crash),
 * beyond the caps below, after a failed write, or whose set was dropped because the
 * indexer lags more than BK_QUEUE_MAX_BYTES behind. Memory: at most BK_MAX_TUPLES tuples and
 * BK_MAX_POOL bytes of names per chunk and per batch, BK_QUEUE_MAX_BYTES queued.
 */

#define BK_MAX_TUPLES 8192u
#define BK_MAX_POOL (512u * 1024)
#define BK_QUEUE_MAX_BYTES ((size_t) 32 << 20)

/* A tuple: its names are host_len + app_len + identity_len bytes at off of the pool. */
typedef struct BkTuple {
        uint32_t off;
        uint32_t host_len, app_len, identity_len;
        uint32_t hash;
        int8_t facility, severity; /* -1: none */
} BkTuple;

/* Distinct tuples, in the order first added. */
typedef struct BkSet {
        BkTuple *t;
        uint32_t n, cap;
        uint32_t *slot;            /* open addressing: tuple number + 1, 0 empty */
        uint32_t nslots;           /* a power of 2, at least 2 n */
        uint8_t *pool;
        size_t pool_len, pool_cap;
} BkSet;

/* Adds k unless present: its tuple number, -E2BIG beyond the caps, -ENOMEM. */
int bkset_add(BkSet *s, const IndexKeyTuple *k);
/* Tuple i as an IndexKeyTuple (pointers into the set's pool). */
void bkset_get(const BkSet *s, uint32_t i, IndexKeyTuple *k);
void bkset_clear(BkSet *s);
void bkset_done(BkSet *s);
size_t bkset_bytes(const BkSet *s);

/* A record's tuple number in its chunk, or one of: */
enum {
        BK_REC_NONE = 0xfffe,      /* no keys at all (a control record) */
        BK_REC_UNKNOWN = 0xffff,   /* not known: the batch is indexed from the archive */
};

/* Beside a chunk (sealer.h): its tuples and one tuple number per record, in order. */
typedef struct ChunkKeys {
        BkSet set;
        uint16_t *rec;
        uint32_t nrec, rec_cap;
        int broken;                /* a note failed (memory): nothing of this chunk is known */
} ChunkKeys;

/* Notes the keys of the chunk's record i, the one just added (k NULL: it has none). Never
 * fails: a record it cannot note is BK_REC_UNKNOWN, or the chunk's keys end there. */
void chunk_keys_note(ChunkKeys **ck, uint32_t i, const IndexKeyTuple *k);
ChunkKeys *chunk_keys_free(ChunkKeys *ck);

typedef struct BkQueue BkQueue;

/* The sealing thread's set for the batch it is building. */
typedef struct BkBatch {
        BkSet set;
        int unknown;               /* some record's keys are not known (or a write failed) */
        uint32_t gen;              /* of this batch: seen[] entries of other batches differ */
        uint32_t *seen;            /* per tuple of the current chunk: gen when added */
        size_t seen_cap;
        const ChunkKeys *chunk;    /* of the chunk being added */
} BkBatch;

/* A chunk's records are about to be added. */
void bk_batch_chunk(BkBatch *b, const ChunkKeys *ck);
/* Record i of that chunk (rec, as decoded from it) went into the open batch. */
void bk_batch_record(BkBatch *b, uint32_t i, const LsRecord *rec);
/* The open batch's records may not be what the set says (a failed write). */
void bk_batch_unknown(BkBatch *b);
/* The open batch is durable as h: offers its set (unless unknown) and begins the next. */
void bk_batch_flushed(BkBatch *b, BkQueue *q, const LsBatchHeader *h);
void bk_batch_done(BkBatch *b);

/* ---- the queue from the sealing thread to the indexing thread ---- */

typedef struct BkEntry {
        struct BkEntry *next;
        uint64_t batch_no;
        uint8_t header_hash[LS_HASH_LEN];
        BkSet set;
} BkEntry;

int bk_queue_new(BkQueue **ret);
BkQueue *bk_queue_free(BkQueue *q);
/* Nobody takes from the queue (no index, or a full-text one, which needs the bodies):
 * offers are dropped from now on. */
void bk_queue_close(BkQueue *q);
/* The set of batch batch_no if its header hash is hh (the caller frees it), else NULL;
 * every set of a batch up to batch_no leaves the queue. */
BkEntry *bk_queue_take(BkQueue *q, uint64_t batch_no, const uint8_t hh[LS_HASH_LEN]);
BkEntry *bk_entry_free(BkEntry *e);
