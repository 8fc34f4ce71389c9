/* SPDX-License-Identifier: Apache-2.0 */
/* archive-writer.c: archive files, written append-only with cut-back on failure */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-writer.h"
#include "hash.h"
#include "magic.h"
#include "util.h"

struct LsArchiveWriter {
        int fd;
        uint64_t size;             /* bytes durable-or-written, all complete frames */
        LsSha256 content;          /* H of everything written so far */
        LsArchiveHeader hdr;
        uint64_t batches;
        uint64_t records;
        uint64_t min_time, max_time;
        uint64_t next_batch_no;
        uint64_t next_seq;
        LsBatchHeader last;
        uint8_t last_hash[LS_HASH_LEN];
};

static LsPwriteFn pwrite_fn = pwrite;

void ls_archive_writer_set_pwrite(LsPwriteFn fn)
{
        pwrite_fn = fn ? fn : pwrite;
}

static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
        while (n > 0) {
                ssize_t k = pwrite_fn(fd, p, n, (off_t) off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t) k;
                off += (uint64_t) k;
        }
        return 0;
}

/* Writes at the end; on failure cuts the file back so no partial frame remains. */
static int append_bytes(LsArchiveWriter *w, const uint8_t *p, size_t n)
{
        int r = pwrite_all(w->fd, p, n, w->size);

        if (r < 0) {
                /* Best effort: if even this fails, readers see a torn tail, never a bad frame. */
                if (ftruncate(w->fd, (off_t) w->size) < 0)
                        return r;
                return r;
        }
        ls_sha256_update(&w->content, p, n);
        w->size += n;
        return 0;
}

int ls_archive_writer_new(LsArchiveWriter **ret, int fd, LsArchiveHeader *hdr,
                          const LsMerkle *tree, const LsSigner *s)
{
        return ls_archive_writer_new_dict(ret, fd, hdr, tree, s, NULL, 0);
}

int ls_archive_writer_new_dict(LsArchiveWriter **ret, int fd, LsArchiveHeader *hdr,
                               const LsMerkle *tree, const LsSigner *s, const uint8_t *dict,
                               size_t dict_len)
{
        uint8_t buf[LS_FRAME_HDR_LEN + LS_ARCHIVE_HEADER_MAX_LEN];
        uint8_t *dbuf = NULL;
        LsArchiveWriter *w;
        size_t n;
        int r;

        if (tree->size != hdr->first_seq)
                return -EINVAL;
        hdr->incompat_flags = 0;
        if (dict) {
                if (dict_len < LS_DICT_MIN || dict_len > LS_MAX_DICT)
                        return -EINVAL;
                dbuf = malloc(LS_FRAME_HDR_LEN + LS_DICT_FIXED_LEN + dict_len);
                if (!dbuf)
                        return -ENOMEM;
                n = ls_dict_encode(dict, dict_len, dbuf + LS_FRAME_HDR_LEN);
                ls_frame_put(dbuf, (uint32_t) n);
                ls_sha256(hdr->dict_hash, dbuf + LS_FRAME_HDR_LEN, n);
                hdr->incompat_flags = LS_ARCHIVE_INCOMPAT_DICT;
        }
        hdr->peak_count = (uint8_t) tree->n;
        memcpy(hdr->peaks, tree->peaks, (size_t) tree->n * LS_HASH_LEN);
        r = ls_archive_header_sign(hdr, s);
        if (r < 0) {
                free(dbuf);
                return r;
        }
        w = calloc(1, sizeof(*w));
        if (!w) {
                free(dbuf);
                return -ENOMEM;
        }
        w->fd = fd;
        ls_sha256_init(&w->content);
        w->hdr = *hdr;
        w->min_time = UINT64_MAX;
        w->next_batch_no = hdr->first_batch_no;
        w->next_seq = hdr->first_seq;
        n = ls_archive_header_encode(hdr, buf + LS_FRAME_HDR_LEN);
        ls_frame_put(buf, (uint32_t) n);
        r = append_bytes(w, buf, LS_FRAME_HDR_LEN + n);
        /* The dictionary frame right after the header (§8.6), durable with it. */
        if (r == 0 && dbuf)
                r = append_bytes(w, dbuf, LS_FRAME_HDR_LEN + LS_DICT_FIXED_LEN + dict_len);
        free(dbuf);
        if (r == 0 && fdatasync(fd) < 0)
                r = -errno;
        if (r < 0) {
                w->fd = -1; /* the caller still owns fd on failure */
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

int ls_archive_writer_adopt(LsArchiveWriter **ret, int fd, uint64_t size,
                            const LsArchiveHeader *hdr, const LsArchiveTally *tally)
{
        uint8_t buf[65536];
        LsArchiveWriter *w;
        uint64_t off = 0;

        if (ftruncate(fd, (off_t) size) < 0 || fdatasync(fd) < 0)
                return -errno;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        ls_sha256_init(&w->content);
        while (off < size) {
                ssize_t k = pread(fd, buf, (size_t) MIN((uint64_t) sizeof(buf), size - off),
                                  (off_t) off);
                if (k <= 0) {
                        free(w);
                        return k < 0 ? -errno : -EIO;
                }
                ls_sha256_update(&w->content, buf, (size_t) k);
                off += (uint64_t) k;
        }
        w->fd = fd;
        w->size = size;
        w->hdr = *hdr;
        w->batches = tally->batches;
        w->records = tally->records;
        w->min_time = tally->batches ? tally->min_time_ns : UINT64_MAX;
        w->max_time = tally->max_time_ns;
        w->next_batch_no = hdr->first_batch_no + tally->batches;
        w->next_seq = tally->batches ? tally->last.tree_size : hdr->first_seq;
        if (tally->batches) {
                w->last = tally->last;
                ls_batch_header_hash(&tally->last, w->last_hash);
        }
        *ret = w;
        return 0;
}

LsArchiveWriter *ls_archive_writer_free(LsArchiveWriter *w)
{
        if (!w)
                return NULL;
        if (w->fd >= 0)
                close(w->fd);
        free(w);
        return NULL;
}

int ls_archive_writer_append(LsArchiveWriter *w, const LsBatchHeader *h, const uint8_t *bytes,
                             size_t n)
{
        int r;

        if (h->archive_no != w->hdr.archive_no || h->batch_no != w->next_batch_no ||
            h->first_seq != w->next_seq ||
            memcmp(h->chain_id, w->hdr.chain_id, LS_CHAIN_ID_LEN) != 0 ||
            n != LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN + (size_t) h->payload_len)
                return -EINVAL;
        r = append_bytes(w, bytes, n);
        if (r < 0)
                return r;
        w->batches++;
        w->records += h->record_count;
        w->min_time = MIN(w->min_time, h->min_time_ns);
        w->max_time = MAX(w->max_time, h->max_time_ns);
        w->next_batch_no++;
        w->next_seq = h->tree_size;
        w->last = *h;
        ls_batch_header_hash(h, w->last_hash);
        return 0;
}

int ls_archive_writer_sync(LsArchiveWriter *w)
{
        return fdatasync(w->fd) < 0 ? -errno : 0;
}

int ls_archive_writer_seal(LsArchiveWriter *w, const LsSigner *s, uint64_t sealed_ns,
                           LsTrailer *ret)
{
        uint8_t buf[LS_FRAME_HDR_LEN + LS_TRAILER_LEN];
        LsSha256 content = w->content;
        LsTrailer t = {};
        int r;

        if (w->batches == 0)
                return -ENODATA;
        memcpy(t.chain_id, w->hdr.chain_id, LS_CHAIN_ID_LEN);
        t.archive_no = w->hdr.archive_no;
        t.first_batch_no = w->hdr.first_batch_no;
        t.batch_count = w->batches;
        t.first_seq = w->hdr.first_seq;
        t.record_count = w->records;
        t.min_time_ns = w->min_time;
        t.max_time_ns = w->max_time;
        t.sealed_ns = sealed_ns;
        t.tree_size = w->last.tree_size;
        memcpy(t.tree_root, w->last.tree_root, LS_HASH_LEN);
        memcpy(t.last_header_hash, w->last_hash, LS_HASH_LEN);
        ls_sha256_final(&content, t.content_hash);
        r = ls_trailer_sign(&t, s);
        if (r < 0)
                return r;
        ls_frame_put(buf, LS_TRAILER_LEN);
        ls_trailer_encode(&t, buf + LS_FRAME_HDR_LEN);
        r = append_bytes(w, buf, sizeof(buf));
        if (r < 0)
                return r;
        if (fsync(w->fd) < 0)
                return -errno;
        if (fchmod(w->fd, 0440) < 0)
                return -errno;
        if (close(w->fd) < 0) {
                w->fd = -1;
                return -errno;
        }
        w->fd = -1;
        if (ret)
                *ret = t;
        return 0;
}

uint64_t ls_archive_writer_size(const LsArchiveWriter *w)
{
        return w->size;
}

uint64_t ls_archive_writer_batches(const LsArchiveWriter *w)
{
        return w->batches;
}
