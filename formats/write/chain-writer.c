/* SPDX-License-Identifier: Apache-2.0 */
/* chain-writer.c: one chain's sealing pipeline over the batch builder and archive writer */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>

#include "archive-writer.h"
#include "batch-builder.h"
#include "chain-writer.h"
#include "hash.h"
#include "util.h"

struct LsChainWriter {
        LsChainWriterConfig cfg;
        LsChainPosition pos;
        LsBatchBuilder *builder;
        int batch_open;
        LsArchiveWriter *archive;
        /* The open batch is signed but its write failed: written as is by the next flush. */
        int signed_pending;
        LsBatchHeader pend_hdr;
        LsMerkle pend_tree;
        const uint8_t *pend_bytes;   /* in the builder, valid until the next begin */
        size_t pend_len;
        LsSamples samp;              /* what the next dictionary learns from (SPEC §8.6) */
        int archive_dict;            /* the open archive has a dictionary */
        size_t dict_limit;           /* 0: dict_size only */
        size_t tried_samples;        /* samples when the open archive's training gave none */
        uint64_t train_ns;
        size_t train_size, train_samples;
};

/* Samples are chunks of payload content; zstd's trainer reads each as one sample. */
#define SAMPLE_CHUNK (8u * 1024)
#ifndef DICT_SAMPLE_RATIO
#define DICT_SAMPLE_RATIO 16
#endif

int ls_samples_add(LsSamples *s, const uint8_t *p, size_t n)
{
        if (s->max < SAMPLE_CHUNK)
                return 0;
        if (!s->buf) {
                s->buf = malloc(s->max);
                s->sizes = calloc(s->max / 8 + 1, sizeof(*s->sizes));
                if (!s->buf || !s->sizes) {
                        ls_samples_free(s);
                        return -ENOMEM;
                }
        }
        while (n > 0) {
                size_t c = MIN(n, (size_t) SAMPLE_CHUNK);
                if (c < 8)
                        break; /* too short to teach anything */
                if (s->len + c > s->max) {
                        /* Full: drop the older half, keep the latest data. */
                        size_t drop = 0, k = 0;
                        while (k < s->n && (drop < s->max / 2 || s->len - drop + c > s->max))
                                drop += s->sizes[k++];
                        memmove(s->buf, s->buf + drop, s->len - drop);
                        memmove(s->sizes, s->sizes + k, (s->n - k) * sizeof(*s->sizes));
                        s->len -= drop;
                        s->n -= k;
                }
                memcpy(s->buf + s->len, p, c);
                s->len += c;
                s->sizes[s->n++] = c;
                p += c;
                n -= c;
        }
        return 0;
}

void ls_samples_free(LsSamples *s)
{
        free(s->buf);
        free(s->sizes);
        s->buf = NULL;
        s->sizes = NULL;
        s->len = s->n = 0;
}

int ls_chain_writer_add_sample(LsChainWriter *w, const uint8_t *p, size_t n)
{
        if (w->cfg.dict_size == 0)
                return 0;
        return ls_samples_add(&w->samp, p, n);
}

void ls_chain_writer_set_dict_limit(LsChainWriter *w, size_t bytes)
{
        w->dict_limit = bytes;
}

int ls_chain_writer_dict_due(const LsChainWriter *w)
{
        /* After a training that gave nothing, only once the samples have doubled: a writer
         * that cannot get a dictionary must not end an archive after every batch. */
        return w->cfg.dict_size > 0 && w->archive && !w->archive_dict &&
               w->samp.len >= w->cfg.dict_samples_min &&
               w->samp.len / 2 >= w->tried_samples;
}

void ls_chain_writer_last_train(const LsChainWriter *w, uint64_t *ret_ns, size_t *ret_size,
                                size_t *ret_samples)
{
        *ret_ns = w->train_ns;
        *ret_size = w->train_size;
        *ret_samples = w->train_samples;
}

static uint64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/*
 * Trains the next archive's dictionary on the samples: *ret (malloc'ed) and its size, or
 * NULL when there are too few samples or training fails (the archive then has none).
 */
static uint8_t *train_dict(LsChainWriter *w, size_t *ret_len)
{
        ZDICT_fastCover_params_t prm = {
                .d = 8,
                .steps = 4,
                .nbThreads = 1,
                .splitPoint = 1.0,
                .accel = 1,
                .zParams = {.compressionLevel = w->cfg.zstd_level},
        };
        size_t cap = MIN(w->cfg.dict_size, (size_t) LS_MAX_DICT), len;
        uint64_t t0 = mono_ns();
        uint8_t *d;

        w->train_size = 0;
        w->train_samples = w->samp.len;
        if (w->cfg.dict_size == 0 || w->samp.len < w->cfg.dict_samples_min || w->samp.n < 8)
                return NULL;
        /*
         * A dictionary no larger than a sixteenth of what it learns from: zstd's trainer wants
         * far more samples than dictionary, and a dictionary is stored once per archive, so
         * one trained early (a new chain, dictionary_after) must stay small.
         */
        cap = MIN(cap, w->samp.len / DICT_SAMPLE_RATIO);
        if (w->dict_limit)
                cap = MIN(cap, w->dict_limit);
        if (cap < LS_DICT_MIN)
                return NULL;
        d = malloc(cap);
        if (!d)
                return NULL;
        len = ZDICT_optimizeTrainFromBuffer_fastCover(d, cap, w->samp.buf, w->samp.sizes,
                                                      (unsigned) w->samp.n, &prm);
        w->train_ns = mono_ns() - t0;
        if (ZDICT_isError(len) || len < LS_DICT_MIN || len > cap) {
                free(d);
                return NULL;
        }
        w->train_size = len;
        *ret_len = len;
        return d;
}

void ls_archive_name(char *out, size_t cap, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                     uint64_t archive_no)
{
        char hex[2 * LS_CHAIN_ID_LEN + 1];

        ls_hex(hex, chain_id, LS_CHAIN_ID_LEN);
        snprintf(out, cap, "chain-%s-%08" PRIu64 ".lsa", hex, archive_no);
}

int ls_chain_writer_new(LsChainWriter **ret, const LsChainWriterConfig *cfg,
                        const LsChainPosition *pos)
{
        LsChainWriter *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        w->cfg = *cfg;
        w->samp.max = cfg->dict_samples_max;
        if (pos)
                w->pos = *pos;
        else
                ls_merkle_init(&w->pos.tree);
        r = ls_batch_builder_new(&w->builder, cfg->chain_id, cfg->zstd_level, cfg->max_batch_raw,
                                 cfg->max_batch_records);
        if (r < 0) {
                free(w);
                return r;
        }
        if (cfg->sign_batch)
                ls_batch_builder_set_sign(w->builder, cfg->sign_batch, cfg->sign_batch_ud);
        r = ls_batch_builder_set_columns(w->builder, cfg->columns);
        if (r < 0) {
                ls_batch_builder_free(w->builder);
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

LsChainWriter *ls_chain_writer_free(LsChainWriter *w)
{
        if (!w)
                return NULL;
        ls_archive_writer_free(w->archive);
        ls_batch_builder_free(w->builder);
        ls_samples_free(&w->samp);
        free(w);
        return NULL;
}

static void begin_batch(LsChainWriter *w)
{
        uint8_t seed[LS_HASH_LEN];

        if (w->cfg.seed_fn)
                w->cfg.seed_fn(w->cfg.seed_ud, w->pos.batch_no, seed);
        ls_batch_builder_begin(w->builder, w->pos.archive_no, w->pos.batch_no, w->pos.tree.size,
                               w->pos.prev_header_hash, w->cfg.seed_fn ? seed : NULL);
        w->batch_open = 1;
}

int ls_chain_writer_add(LsChainWriter *w, LsRecord *r)
{
        if (!w->batch_open)
                begin_batch(w);
        if (w->signed_pending)
                return -ENOSPC;
        return ls_batch_builder_add(w->builder, r);
}

uint32_t ls_chain_writer_pending(const LsChainWriter *w)
{
        return w->batch_open ? ls_batch_builder_count(w->builder) : 0;
}

int ls_chain_writer_batch_full(const LsChainWriter *w)
{
        return w->batch_open && ls_batch_builder_full(w->builder);
}

static int open_archive(LsChainWriter *w, const LsSigner *s, uint64_t now_ns)
{
        LsArchiveHeader h = {};
        char name[96];
        uint8_t *dict;
        size_t dict_len = 0;
        int fd, r;

        ls_archive_name(name, sizeof(name), w->cfg.chain_id, w->pos.archive_no);
        fd = openat(w->cfg.dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        memcpy(h.chain_id, w->cfg.chain_id, LS_CHAIN_ID_LEN);
        h.archive_no = w->pos.archive_no;
        h.first_batch_no = w->pos.batch_no;
        h.first_seq = w->pos.tree.size;
        h.created_ns = now_ns;
        memcpy(h.prev_seal_hash, w->pos.prev_seal_hash, LS_HASH_LEN);
        dict = train_dict(w, &dict_len);
        r = ls_batch_builder_set_dict(w->builder, dict, dict_len);
        if (r < 0 && dict) { /* a dictionary zstd cannot load: none for this archive */
                free(dict);
                dict = NULL;
                r = ls_batch_builder_set_dict(w->builder, NULL, 0);
        }
        if (r == 0)
                r = ls_archive_writer_new_dict(&w->archive, fd, &h, &w->pos.tree, s, dict,
                                               dict_len);
        w->archive_dict = dict != NULL;
        w->tried_samples = dict ? 0 : w->samp.len;
        free(dict);
        if (r < 0) {
                (void) ls_batch_builder_set_dict(w->builder, NULL, 0);
                close(fd);
                (void) unlinkat(w->cfg.dirfd, name, 0);
                return r;
        }
        /* The new name must survive a crash as well as its content. */
        if (fsync(w->cfg.dirfd) < 0)
                return -errno;
        return 0;
}

int ls_chain_writer_flush(LsChainWriter *w, const LsSigner *s, uint64_t now_ns,
                          LsBatchHeader *ret_hdr)
{
        int r;

        if (!w->batch_open || ls_batch_builder_count(w->builder) == 0)
                return 0;
        if (!w->archive) {
                r = open_archive(w, s, now_ns);
                if (r < 0)
                        return r;
        }
        if (!w->signed_pending) {
                /* Signed once: a batch number never gets two different signed headers. */
                w->pend_tree = w->pos.tree;
                r = ls_batch_builder_finish(w->builder, &w->pend_tree, s, &w->pend_hdr,
                                            &w->pend_bytes, &w->pend_len);
                if (r < 0)
                        return r;
                w->signed_pending = 1;
                if (w->cfg.dict_size) {
                        const uint8_t *c;
                        size_t cn;
                        ls_batch_builder_content(w->builder, &c, &cn);
                        (void) ls_chain_writer_add_sample(w, c, cn); /* best effort */
                }
        }
        r = ls_archive_writer_append(w->archive, &w->pend_hdr, w->pend_bytes, w->pend_len);
        if (r < 0)
                return r; /* the signed batch stays open: retry later */
        w->signed_pending = 0;
        w->pos.tree = w->pend_tree;
        w->pos.batch_no++;
        ls_batch_header_hash(&w->pend_hdr, w->pos.prev_header_hash);
        w->batch_open = 0;
        if (ret_hdr)
                *ret_hdr = w->pend_hdr;
        return 0;
}

int ls_chain_writer_sync(LsChainWriter *w)
{
        return w->archive ? ls_archive_writer_sync(w->archive) : 0;
}

int ls_chain_writer_seal(LsChainWriter *w, const LsSigner *s, uint64_t now_ns)
{
        LsTrailer t;
        int r;

        if (w->batch_open && ls_batch_builder_count(w->builder) > 0)
                return -EBUSY; /* flush first: the open batch names this archive */
        if (!w->archive || ls_archive_writer_batches(w->archive) == 0)
                return 0;
        w->batch_open = 0;
        r = ls_archive_writer_seal(w->archive, s, now_ns, &t);
        if (r < 0)
                return r;
        ls_trailer_hash(&t, w->pos.prev_seal_hash);
        w->archive = ls_archive_writer_free(w->archive);
        w->pos.archive_no++;
        return 0;
}

const LsChainPosition *ls_chain_writer_position(const LsChainWriter *w)
{
        return &w->pos;
}

uint64_t ls_chain_writer_archive_size(const LsChainWriter *w)
{
        return w->archive ? ls_archive_writer_size(w->archive) : 0;
}

uint64_t ls_chain_writer_next_seq(const LsChainWriter *w)
{
        return w->pos.tree.size + ls_chain_writer_pending(w);
}

void ls_chain_writer_set_hurry(LsChainWriter *w, int hurry)
{
        ls_batch_builder_set_hurry(w->builder, hurry);
}

int ls_chain_writer_zstd_level(const LsChainWriter *w)
{
        return ls_batch_builder_last_level(w->builder);
}
