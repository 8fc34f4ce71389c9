/* SPDX-License-Identifier: Apache-2.0 */
/* chain-writer.c: one chain's sealing pipeline over the batch builder and archive writer */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
};

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
        r = ls_archive_writer_new(&w->archive, fd, &h, &w->pos.tree, s);
        if (r < 0) {
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
