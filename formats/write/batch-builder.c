/* SPDX-License-Identifier: Apache-2.0 */
/* batch-builder.c: records -> leaves, payload, zstd frame, signed header */
#include <errno.h>
#include <string.h>

#include <sodium.h>
#include <zdict.h>
#include <zstd.h>

#include "batch-builder.h"
#include "hash.h"
#include "magic.h"
#include "payload-columns.h"
#include "util.h"

struct LsBatchBuilder {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        int level;                  /* 1..19, or LS_ZSTD_LEVEL_AUTO (0) */
        int hurry;                  /* auto: a backlog waits, compress fast */
        int cur_level, want_level;  /* auto: the level in use, a higher one wanted */
        unsigned want_count;        /* ... for this many batches in a row */
        size_t max_raw;
        uint32_t max_records;
        ZSTD_CCtx *cctx;

        LsBatchHeader hdr;          /* fields known at begin, plus running min/max */
        LsSaltKey salt_key;
        uint32_t count;
        uint8_t *raw;               /* payload entries */
        size_t raw_len, raw_cap;
        uint8_t (*leaves)[LS_HASH_LEN];
        size_t leaves_cap;

        uint8_t *out;               /* frame + header + compressed payload */
        size_t out_cap;

        LsColumnEncoder *columns;   /* NULL: payloads are record entries (formats 1, 2) */
        uint8_t *dict;              /* the archive's dictionary (§8.6), NULL: none */
        size_t dict_len;
        ZSTD_CDict *cdict;          /* dict digested at cdict_level (zstd takes the level from it) */
        int cdict_level;
        const uint8_t *content;     /* what the last finish compressed */
        size_t content_len;

        LsBatchSignFn sign_fn;      /* NULL: ls_batch_header_sign() */
        void *sign_ud;
};

void ls_batch_builder_set_sign(LsBatchBuilder *b, LsBatchSignFn fn, void *ud)
{
        b->sign_fn = fn;
        b->sign_ud = ud;
}

int ls_batch_builder_set_columns(LsBatchBuilder *b, int on)
{
        if (!on) {
                b->columns = ls_column_encoder_free(b->columns);
                return 0;
        }
        return b->columns ? 0 : ls_column_encoder_new(&b->columns);
}

int ls_batch_builder_set_dict(LsBatchBuilder *b, const uint8_t *dict, size_t len)
{
        uint8_t *copy = NULL;

        if (dict) {
                if (len < LS_DICT_MIN || len > LS_MAX_DICT)
                        return -EINVAL;
                if (ZDICT_getDictID(dict, len) == 0)
                        return -EINVAL; /* not a zstd-format dictionary */
                copy = malloc(len);
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, dict, len);
        }
        ZSTD_freeCDict(b->cdict);
        b->cdict = NULL;
        free(b->dict);
        b->dict = copy;
        b->dict_len = dict ? len : 0;
        return 0;
}

void ls_batch_builder_set_hurry(LsBatchBuilder *b, int hurry)
{
        b->hurry = hurry;
}

int ls_batch_builder_last_level(const LsBatchBuilder *b)
{
        return b->cur_level;
}

/*
 * LS_ZSTD_LEVEL_AUTO: the level for a batch of content_len bytes. Batches close at the
 * latency (1 s by default) unless they fill, so a small batch means a low rate, and a high
 * level costs little there: at most about 30-40 ms of one core per batch at each step's
 * upper size (measured on log text: level 19 about 3 MB/s, 15 about 10 MB/s, 9 about 100
 * MB/s). A backlog (hurry) takes level 1 at once; a lower level is taken at once, a higher
 * one only after AUTO_RISE batches that want it (a digested dictionary costs up to 100 ms
 * to redo at level 19, so the level must not follow every batch).
 */
#define AUTO_RISE 8
static int auto_level(LsBatchBuilder *b, size_t content_len)
{
        int want = content_len <= 96 * 1024 ? 19 : content_len <= 384 * 1024 ? 15 : 9;

        if (b->hurry)
                want = 1;
        if (b->cur_level == 0 || want <= b->cur_level) {
                b->cur_level = want;
                b->want_count = 0;
        } else if (want == b->want_level && ++b->want_count >= AUTO_RISE) {
                b->cur_level = want;
                b->want_count = 0;
        } else if (want != b->want_level) {
                b->want_level = want;
                b->want_count = 1;
        }
        return b->cur_level;
}

void ls_batch_builder_content(const LsBatchBuilder *b, const uint8_t **ret, size_t *ret_len)
{
        *ret = b->content;
        *ret_len = b->content_len;
}

int ls_batch_builder_new(LsBatchBuilder **ret, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                         int zstd_level, size_t max_raw, uint32_t max_records)
{
        LsBatchBuilder *b;

        if (max_raw == 0 || max_raw > LS_MAX_BATCH_RAW || max_records == 0 ||
            max_records > LS_MAX_BATCH_RECORDS)
                return -EINVAL;
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        memcpy(b->chain_id, chain_id, LS_CHAIN_ID_LEN);
        b->level = zstd_level;
        b->max_raw = max_raw;
        b->max_records = max_records;
        b->cctx = ZSTD_createCCtx();
        if (!b->cctx) {
                free(b);
                return -ENOMEM;
        }
        *ret = b;
        return 0;
}

LsBatchBuilder *ls_batch_builder_free(LsBatchBuilder *b)
{
        if (!b)
                return NULL;
        ZSTD_freeCCtx(b->cctx);
        ZSTD_freeCDict(b->cdict);
        free(b->dict);
        ls_column_encoder_free(b->columns);
        free(b->raw);
        free(b->leaves);
        free(b->out);
        free(b);
        return NULL;
}

void ls_batch_builder_begin(LsBatchBuilder *b, uint64_t archive_no, uint64_t batch_no,
                            uint64_t first_seq, const uint8_t prev_header_hash[LS_HASH_LEN],
                            const uint8_t *seed)
{
        memset(&b->hdr, 0, sizeof(b->hdr));
        memcpy(b->hdr.chain_id, b->chain_id, LS_CHAIN_ID_LEN);
        b->hdr.archive_no = archive_no;
        b->hdr.batch_no = batch_no;
        b->hdr.first_seq = first_seq;
        memcpy(b->hdr.prev_header_hash, prev_header_hash, LS_HASH_LEN);
        if (seed)
                memcpy(b->hdr.salt_seed, seed, LS_HASH_LEN);
        else
                randombytes_buf(b->hdr.salt_seed, LS_HASH_LEN);
        ls_salt_key_init(&b->salt_key, b->hdr.salt_seed);
        b->hdr.min_time_ns = UINT64_MAX;
        b->count = 0;
        b->raw_len = 0;
}

static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
        void **p = pp;
        size_t n = *cap ? *cap : 16;

        if (need <= *cap)
                return 0;
        while (n < need)
                n *= 2;
        void *q = realloc(*p, n * elem);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = n;
        return 0;
}

int ls_batch_builder_add(LsBatchBuilder *b, LsRecord *r)
{
        size_t n = ls_record_size(r), len;
        uint8_t salt[LS_SALT_LEN];
        uint8_t *rec;
        int k;

        if (b->count >= b->max_records)
                return -ENOSPC;
        /* A record alone may exceed max_raw, never LS_MAX_BATCH_RAW. */
        if (b->count > 0 && b->raw_len + 4 + n > b->max_raw)
                return -ENOSPC;
        if (b->raw_len + 4 + n > LS_MAX_BATCH_RAW)
                return -ENOSPC;
        r->seq = b->hdr.first_seq + b->count;
        k = ls_record_check(r);
        if (k < 0)
                return k;
        if (grow(&b->raw, &b->raw_cap, b->raw_len + 4 + n, 1) < 0 ||
            grow(&b->leaves, &b->leaves_cap, (size_t) b->count + 1, LS_HASH_LEN) < 0)
                return -ENOMEM;
        rec = b->raw + b->raw_len + 4;
        k = ls_record_encode(r, rec, n, &len);
        if (k < 0)
                return k;
        ls_put32(b->raw + b->raw_len, (uint32_t) len);
        ls_salt_derive(&b->salt_key, r->seq, salt);
        ls_leaf_hash(b->leaves[b->count], salt, rec, len);
        b->raw_len += 4 + len;
        b->count++;
        b->hdr.min_time_ns = MIN(b->hdr.min_time_ns, r->time_ns);
        b->hdr.max_time_ns = MAX(b->hdr.max_time_ns, r->time_ns);
        return 0;
}

uint32_t ls_batch_builder_count(const LsBatchBuilder *b)
{
        return b->count;
}

size_t ls_batch_builder_raw_len(const LsBatchBuilder *b)
{
        return b->raw_len;
}

int ls_batch_builder_full(const LsBatchBuilder *b)
{
        return b->count >= b->max_records || b->raw_len >= b->max_raw;
}

int ls_batch_builder_finish(LsBatchBuilder *b, LsMerkle *tree, const LsSigner *s,
                            LsBatchHeader *ret_hdr, const uint8_t **ret_bytes, size_t *ret_len)
{
        const size_t head = LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN;
        const uint8_t *content = b->raw;
        size_t bound, clen, content_len = b->raw_len;
        LsMerkle t;
        int k, level;

        if (b->count == 0)
                return -ENODATA;
        if (tree->size != b->hdr.first_seq)
                return -EINVAL;
        b->hdr.incompat_flags = 0;
        if (b->columns) {
                k = ls_column_encode(b->columns, b->hdr.min_time_ns, b->raw, b->raw_len, b->count,
                                     &content, &content_len);
                if (k == 0)
                        b->hdr.incompat_flags = LS_BATCH_INCOMPAT_COLUMNS;
                else if (k != -ENOSPC)
                        return k;
                else
                        content = b->raw, content_len = b->raw_len; /* not shorter: entries */
        }
        bound = ZSTD_compressBound(content_len);
        if (grow(&b->out, &b->out_cap, head + bound, 1) < 0)
                return -ENOMEM;
        level = b->level == LS_ZSTD_LEVEL_AUTO ? auto_level(b, content_len) : b->level;
        if (b->level != LS_ZSTD_LEVEL_AUTO)
                b->cur_level = level;
        if (b->dict && (!b->cdict || b->cdict_level != level)) {
                ZSTD_freeCDict(b->cdict);
                b->cdict = ZSTD_createCDict(b->dict, b->dict_len, level);
                if (!b->cdict)
                        return -ENOMEM;
                b->cdict_level = level;
        }
        ZSTD_CCtx_reset(b->cctx, ZSTD_reset_session_and_parameters);
        ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_contentSizeFlag, 1);
        ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_checksumFlag, 0);
        if (b->cdict) {
                /* The frame names the dictionary by its id (dictIDFlag, zstd's default). */
                if (ZSTD_isError(ZSTD_CCtx_refCDict(b->cctx, b->cdict)))
                        return -EIO;
                b->hdr.incompat_flags |= LS_BATCH_INCOMPAT_DICT;
        }
        clen = ZSTD_compress2(b->cctx, b->out + head, bound, content, content_len);
        if (ZSTD_isError(clen))
                return -EIO;
        b->content = content;
        b->content_len = content_len;
        if (clen > LS_MAX_BATCH_PAYLOAD)
                return -E2BIG;

        /* Work on a copy of the tree so a failed signature leaves it untouched. */
        t = *tree;
        for (uint32_t i = 0; i < b->count; i++) {
                k = ls_merkle_append(&t, b->leaves[i]);
                if (k < 0)
                        return k;
        }
        b->hdr.record_count = b->count;
        b->hdr.payload_raw_len = (uint32_t) b->raw_len;
        b->hdr.tree_size = t.size;
        ls_merkle_root(&t, b->hdr.tree_root);
        b->hdr.payload_len = (uint32_t) clen;
        ls_sha256(b->hdr.payload_hash, b->out + head, clen);
        if (b->sign_fn) {
                memcpy(b->hdr.key_id, s->key_id, LS_KEY_ID_LEN);
                b->hdr.epoch = s->epoch;
                k = b->sign_fn(b->sign_ud, &b->hdr);
        } else {
                k = ls_batch_header_sign(&b->hdr, s);
        }
        if (k < 0)
                return k;
        ls_frame_put(b->out, LS_BATCH_HEADER_LEN);
        ls_batch_header_encode(&b->hdr, b->out + LS_FRAME_HDR_LEN);
        *tree = t;
        if (ret_hdr)
                *ret_hdr = b->hdr;
        *ret_bytes = b->out;
        *ret_len = head + clen;
        return 0;
}
