/* SPDX-License-Identifier: Apache-2.0 */
/* archive-reader.c: frames, structures, resynchronisation after damage */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-reader.h"
#include "hash.h"
#include "magic.h"
#include "util.h"

#define SCAN_CHUNK (64 * 1024)
#define PEEK_LEN (LS_FRAME_HDR_LEN + LS_MAGIC_LEN)

struct LsArchiveReader {
        int fd;
        uint64_t size;     /* file size at open: archives are read as they are */
        uint64_t pos;      /* everything before pos is consumed and hashed */
        LsSha256 content;
        int seen_header;
        int done;          /* end reached */
        int after_trailer; /* a trailer was read and bytes follow it */
        int want_dict;     /* the header has DICT: a dictionary frame comes next */
        uint8_t dict_hash[LS_HASH_LEN];
        LsDict *dict;
        uint8_t *payload;
        size_t payload_cap;
        uint8_t *scan;
        uint8_t *later;    /* the bytes of a LATER item */
        int envelope;      /* the archive header or dictionary is of a later format: every
                            * further frame is read by its envelope only (SPEC §1.1) */
};

int ls_archive_reader_new(LsArchiveReader **ret, int fd)
{
        LsArchiveReader *r;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->scan = malloc(SCAN_CHUNK + PEEK_LEN);
        if (!r->scan) {
                free(r);
                return -ENOMEM;
        }
        r->fd = fd;
        r->size = (uint64_t) st.st_size;
        ls_sha256_init(&r->content);
        *ret = r;
        return 0;
}

LsArchiveReader *ls_archive_reader_free(LsArchiveReader *r)
{
        if (!r)
                return NULL;
        if (r->fd >= 0)
                close(r->fd);
        free(r->payload);
        free(r->scan);
        free(r->later);
        ls_dict_unref(r->dict);
        free(r);
        return NULL;
}

uint64_t ls_archive_reader_file_size(const LsArchiveReader *r)
{
        return r->size;
}

int ls_archive_reader_file_hash(LsArchiveReader *r, uint8_t out[LS_HASH_LEN])
{
        LsSha256 copy = r->content;

        if (r->pos != r->size)
                return -EAGAIN;
        ls_sha256_final(&copy, out);
        return 0;
}

uint64_t ls_archive_reader_position(const LsArchiveReader *r)
{
        return r->pos;
}

static int pread_all(int fd, uint8_t *p, size_t n, uint64_t off)
{
        while (n > 0) {
                ssize_t k = pread(fd, p, n, (off_t) off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO; /* the file shrank under us */
                p += k;
                n -= (size_t) k;
                off += (uint64_t) k;
        }
        return 0;
}

/* Reads n bytes at pos into p, hashes them and advances. */
static int consume(LsArchiveReader *r, uint8_t *p, size_t n)
{
        int k = pread_all(r->fd, p, n, r->pos);
        if (k < 0)
                return k;
        ls_sha256_update(&r->content, p, n);
        r->pos += n;
        return 0;
}

/* Hashes and skips n bytes (used when skipping damage). */
static int skip(LsArchiveReader *r, uint64_t n)
{
        while (n > 0) {
                size_t c = (size_t) MIN(n, (uint64_t) SCAN_CHUNK);
                int k = consume(r, r->scan, c);
                if (k < 0)
                        return k;
                n -= c;
        }
        return 0;
}

/* Is there a plausible batch or trailer frame at p (PEEK_LEN bytes)? */
static int frame_start(const uint8_t *p)
{
        if (ls_get32(p) != LS_SKIPPABLE_MAGIC)
                return 0;
        if (ls_magic_check(p + 8, LS_MAGIC_BATCH))
                return ls_get32(p + 4) == LS_BATCH_HEADER_LEN;
        if (ls_magic_check(p + 8, LS_MAGIC_TRAILER))
                return ls_get32(p + 4) == LS_TRAILER_LEN;
        return 0;
}

/*
 * Offset of the next plausible batch/trailer frame strictly after `from`, or
 * r->size when there is none. Does not consume.
 */
static int find_resync(LsArchiveReader *r, uint64_t from, uint64_t *ret)
{
        uint64_t off = from + 1;

        while (off + PEEK_LEN <= r->size) {
                size_t want = (size_t) MIN((uint64_t) SCAN_CHUNK + PEEK_LEN, r->size - off);
                int k = pread_all(r->fd, r->scan, want, off);
                if (k < 0)
                        return k;
                for (size_t i = 0; i + PEEK_LEN <= want; i++) {
                        if (r->scan[i] == 0x5B && frame_start(r->scan + i)) {
                                *ret = off + i;
                                return 0;
                        }
                }
                off += want - PEEK_LEN + 1;
        }
        *ret = r->size;
        return 0;
}

/* Reports bytes [start, next frame) as damage (or as a torn tail when nothing follows). */
static int damage(LsArchiveReader *r, LsReadItem *it, uint64_t start, int error,
                  uint64_t error_offset, const char *what)
{
        uint64_t next;
        int k = find_resync(r, start, &next);

        if (k < 0)
                return k;
        memset(it, 0, sizeof(*it));
        it->offset = start;
        it->length = next - start;
        it->error = error;
        it->error_offset = error_offset;
        it->what = what;
        it->kind = next == r->size && error == -ENODATA ? LS_ITEM_TORN_TAIL : LS_ITEM_DAMAGE;
        if (it->kind == LS_ITEM_DAMAGE && error == -ENODATA)
                it->error = -EBADMSG; /* a length ran into the next frame */
        /* Bring pos to `next`, hashing everything in between. */
        if (r->pos < start) {
                k = skip(r, start - r->pos);
                if (k < 0)
                        return k;
        }
        k = skip(r, next - r->pos);
        if (k < 0)
                return k;
        if (next == r->size)
                r->done = 1;
        return 1;
}

/* H(n bytes at off), read without consuming them. */
static int hash_range(LsArchiveReader *r, uint64_t off, uint64_t n, uint8_t out[LS_HASH_LEN])
{
        LsSha256 c;

        ls_sha256_init(&c);
        while (n > 0) {
                size_t k = (size_t) MIN(n, (uint64_t) SCAN_CHUNK);
                int e = pread_all(r->fd, r->scan, k, off);
                if (e < 0)
                        return e;
                ls_sha256_update(&c, r->scan, k);
                off += k;
                n -= k;
        }
        ls_sha256_final(&c, out);
        return 0;
}

/*
 * A structure of a later format (SPEC §1.1), its frame starting at `start`, its bytes (n,
 * copied) the frame's content: a LATER item that spans `span` bytes from start (consumed and
 * hashed here; for a batch its payload too).
 */
static int later(LsArchiveReader *r, LsReadItem *it, uint64_t start, uint64_t span, char magic,
                 const uint8_t *p, size_t n, uint16_t version, uint16_t unknown_flags)
{
        uint8_t *copy = malloc(n ? n : 1);
        int k;

        if (!copy)
                return -ENOMEM;
        memcpy(copy, p, n);
        free(r->later);
        r->later = copy;
        it->kind = LS_ITEM_LATER;
        it->offset = start;
        it->length = span;
        it->later_magic = magic;
        it->later_version = version;
        it->later_flags = unknown_flags;
        it->raw = copy;
        it->raw_len = n;
        if (r->pos < start + span) {
                k = skip(r, start + span - r->pos);
                if (k < 0)
                        return k;
        }
        if (r->pos >= r->size)
                r->done = 1;
        return 1;
}

/*
 * The dictionary frame right after a DICT header (§8.6). Its hash must be the header's
 * dict_hash; a dictionary that does not match is reported (-EILSEQ) and not used, so the
 * batches that need it fail as "no dictionary" as well.
 */
static int read_dict(LsArchiveReader *r, LsReadItem *it, uint64_t start, uint32_t flen)
{
        uint8_t *buf, digest[LS_HASH_LEN];
        size_t off = 0;
        LsDict *d = NULL;
        int k;

        /* Bounded before allocation: the length is checked against the limit (§12). */
        if (flen < LS_DICT_FIXED_LEN + LS_DICT_MIN || flen > LS_DICT_FIXED_LEN + LS_MAX_DICT)
                return damage(r, it, start, flen > LS_DICT_FIXED_LEN + LS_MAX_DICT ? -E2BIG
                                                                                  : -EBADMSG,
                              start + 4, "dictionary frame length");
        if (r->size - r->pos < LS_FRAME_HDR_LEN + (uint64_t) flen)
                return damage(r, it, start, -ENODATA, r->size, "dictionary truncated");
        buf = malloc(flen);
        if (!buf)
                return -ENOMEM;
        k = pread_all(r->fd, buf, flen, r->pos + LS_FRAME_HDR_LEN);
        if (k < 0) {
                free(buf);
                return k;
        }
        ls_sha256(digest, buf, flen);
        if (!ls_hash_equal(digest, r->dict_hash)) {
                free(buf);
                k = skip(r, LS_FRAME_HDR_LEN + (uint64_t) flen);
                if (k < 0)
                        return k;
                memset(it, 0, sizeof(*it));
                it->kind = LS_ITEM_DAMAGE;
                it->offset = start;
                it->length = r->pos - start;
                it->error = -EILSEQ;
                it->error_offset = start + LS_FRAME_HDR_LEN;
                it->what = "dictionary does not match the archive header's dict_hash";
                return 1;
        }
        k = ls_dict_new(&d, buf, flen, &off);
        if (k == -EPROTONOSUPPORT) {
                /* authenticated by the header's dict_hash, of a later format (SPEC §1.1) */
                memset(it, 0, sizeof(*it));
                r->envelope = 1;
                k = later(r, it, start, LS_FRAME_HDR_LEN + (uint64_t) flen, LS_MAGIC_DICT, buf,
                          flen, ls_get16(buf + 8), ls_get16(buf + 12));
                free(buf);
                return k;
        }
        free(buf);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return damage(r, it, start, k == -ENODATA ? -EBADMSG : k,
                              start + LS_FRAME_HDR_LEN + off, "dictionary");
        k = skip(r, LS_FRAME_HDR_LEN + (uint64_t) flen);
        if (k < 0) {
                ls_dict_unref(d);
                return k;
        }
        ls_dict_unref(r->dict);
        r->dict = d;
        memset(it, 0, sizeof(*it));
        it->kind = LS_ITEM_DICT;
        it->offset = start;
        it->length = r->pos - start;
        it->dict = d;
        return 1;
}

/* The archive header frame at offset 0 (SPEC §8.2), or one of a later format (§1.1). */
static int read_header(LsArchiveReader *r, LsReadItem *it, uint64_t start, uint32_t flen)
{
        uint8_t *buf;
        size_t off = 0;
        int k;

        /* a later format may make the header longer (SPEC §1.1): bounded by its u16 size */
        if (flen < LS_ARCHIVE_HEADER_MIN_LEN || flen > LS_ARCHIVE_HEADER_LATER_MAX_LEN)
                return damage(r, it, start, -EBADMSG, start + 4, "archive header frame length");
        if (r->size - r->pos < LS_FRAME_HDR_LEN + (uint64_t) flen)
                return damage(r, it, start, -ENODATA, r->size, "archive header truncated");
        buf = malloc(flen);
        if (!buf)
                return -ENOMEM;
        k = consume(r, buf, LS_FRAME_HDR_LEN);
        if (k >= 0)
                k = consume(r, buf, flen);
        if (k < 0) {
                free(buf);
                return k;
        }
        memset(it, 0, sizeof(*it));
        k = ls_archive_header_decode(&it->header, buf, flen, &off);
        if (k == -EPROTONOSUPPORT) {
                uint16_t ver;
                if (ls_archive_header_decode_later(&it->header, &ver, buf, flen, NULL) == 0) {
                        r->envelope = 1;
                        k = later(r, it, start, LS_FRAME_HDR_LEN + (uint64_t) flen,
                                  LS_MAGIC_ARCHIVE, buf, flen, ver,
                                  ls_get16(buf + 12) & (uint16_t) ~LS_ARCHIVE_INCOMPAT_DICT);
                        free(buf);
                        return k;
                }
        }
        free(buf);
        it->offset = start;
        it->length = r->pos - start;
        if (k < 0) {
                it->kind = LS_ITEM_DAMAGE;
                it->error = k;
                it->error_offset = start + LS_FRAME_HDR_LEN + off;
                it->what = "archive header";
                return 1;
        }
        it->kind = LS_ITEM_HEADER;
        if (it->header.incompat_flags & LS_ARCHIVE_INCOMPAT_DICT) {
                r->want_dict = 1;
                memcpy(r->dict_hash, it->header.dict_hash, LS_HASH_LEN);
        }
        return 1;
}

int ls_archive_reader_next(LsArchiveReader *r, LsReadItem *it)
{
        uint8_t peek[PEEK_LEN];
        uint64_t start = r->pos;
        uint32_t flen;
        size_t off = 0;
        int k;

        if (r->done || r->pos >= r->size)
                return 0;
        if (r->after_trailer) {
                memset(it, 0, sizeof(*it));
                it->kind = LS_ITEM_DAMAGE;
                it->offset = start;
                it->length = r->size - start;
                it->error = -EBADMSG;
                it->error_offset = start;
                it->what = "data after trailer";
                k = skip(r, r->size - start);
                if (k < 0)
                        return k;
                r->done = 1;
                return 1;
        }
        if (r->size - r->pos < PEEK_LEN)
                return damage(r, it, start, -ENODATA, r->pos, "incomplete frame header");
        k = pread_all(r->fd, peek, PEEK_LEN, r->pos);
        if (k < 0)
                return k;
        if (ls_get32(peek) != LS_SKIPPABLE_MAGIC)
                return damage(r, it, start, -EBADMSG, start, "frame magic");
        flen = ls_get32(peek + 4);

        if (!r->seen_header) {
                r->seen_header = 1;
                if (start == 0 && ls_magic_check(peek + 8, LS_MAGIC_ARCHIVE)) {
                        return read_header(r, it, start, flen);
                }
                return damage(r, it, start, -EBADMSG, start, "archive header missing");
        }

        if (r->want_dict) {
                r->want_dict = 0;
                if (!ls_magic_check(peek + 8, LS_MAGIC_DICT)) {
                        /* Nothing consumed: what follows is read as usual. */
                        memset(it, 0, sizeof(*it));
                        it->kind = LS_ITEM_DAMAGE;
                        it->offset = start;
                        it->error = -EBADMSG;
                        it->error_offset = start;
                        it->what = "dictionary frame missing (the archive header has DICT)";
                        return 1;
                }
                return read_dict(r, it, start, flen);
        }

        if (ls_magic_check(peek + 8, LS_MAGIC_BATCH)) {
                uint8_t buf[LS_BATCH_HEADER_LEN];
                LsBatchHeader h;

                if (flen != LS_BATCH_HEADER_LEN)
                        return damage(r, it, start, -EBADMSG, start + 4, "batch frame length");
                if (r->size - r->pos < LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN)
                        return damage(r, it, start, -ENODATA, r->size, "batch header truncated");
                k = pread_all(r->fd, buf, LS_BATCH_HEADER_LEN, r->pos + LS_FRAME_HDR_LEN);
                if (k < 0)
                        return k;
                k = ls_batch_header_decode(&h, buf, LS_BATCH_HEADER_LEN, &off);
                if (k == -EPROTONOSUPPORT || (k == 0 && r->envelope)) {
                        /* A later format: its envelope and its payload's length (SPEC §1.1). */
                        uint16_t ver;
                        memset(it, 0, sizeof(*it));
                        if (ls_batch_header_decode_later(&it->batch, it->later_hash, &ver, buf,
                                                         LS_BATCH_HEADER_LEN, NULL) == 0) {
                                uint64_t span = LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN +
                                                (uint64_t) it->batch.payload_len;
                                if (span > r->size - start)
                                        return damage(r, it, start, -ENODATA, r->size,
                                                      "batch payload truncated");
                                /* its payload's digest, for the payload_hash of its envelope */
                                k = hash_range(r, start + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN,
                                               it->batch.payload_len, it->later_payload_hash);
                                if (k < 0)
                                        return k;
                                return later(r, it, start, span, LS_MAGIC_BATCH, buf,
                                             LS_BATCH_HEADER_LEN, ver,
                                             ls_get16(buf + 12) &
                                                     (uint16_t) ~LS_BATCH_INCOMPAT_KNOWN);
                        }
                }
                if (k < 0)
                        return damage(r, it, start, k, start + LS_FRAME_HDR_LEN + off,
                                      "batch header");
                uint64_t end = start + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN + h.payload_len;
                if (end > r->size) {
                        /* A torn tail, unless a valid frame follows (then a damaged length). */
                        return damage(r, it, start, -ENODATA, r->size, "batch payload truncated");
                }
                if (r->payload_cap < h.payload_len) {
                        uint8_t *q = realloc(r->payload, h.payload_len);
                        if (!q)
                                return -ENOMEM;
                        r->payload = q;
                        r->payload_cap = h.payload_len;
                }
                k = consume(r, buf, LS_FRAME_HDR_LEN);
                if (k < 0)
                        return k;
                k = consume(r, buf, LS_BATCH_HEADER_LEN);
                if (k < 0)
                        return k;
                k = consume(r, r->payload, h.payload_len);
                if (k < 0)
                        return k;
                memset(it, 0, sizeof(*it));
                it->kind = LS_ITEM_BATCH;
                it->offset = start;
                it->length = r->pos - start;
                it->batch = h;
                it->payload = r->payload;
                it->payload_len = h.payload_len;
                it->dict = r->dict;
                return 1;
        }

        if (ls_magic_check(peek + 8, LS_MAGIC_TRAILER)) {
                uint8_t buf[LS_TRAILER_LEN];
                LsSha256 before = r->content;

                if (flen != LS_TRAILER_LEN)
                        return damage(r, it, start, -EBADMSG, start + 4, "trailer frame length");
                if (r->size - r->pos < LS_FRAME_HDR_LEN + LS_TRAILER_LEN)
                        return damage(r, it, start, -ENODATA, r->size, "trailer truncated");
                k = pread_all(r->fd, buf, LS_TRAILER_LEN, r->pos + LS_FRAME_HDR_LEN);
                if (k < 0)
                        return k;
                memset(it, 0, sizeof(*it));
                k = ls_trailer_decode(&it->trailer, buf, LS_TRAILER_LEN, &off);
                if (k == -EPROTONOSUPPORT || (k == 0 && r->envelope)) {
                        uint16_t ver;
                        if (ls_trailer_decode_later(&it->trailer, &ver, buf, LS_TRAILER_LEN,
                                                    NULL) == 0) {
                                ls_sha256_final(&before, it->content_hash);
                                k = later(r, it, start, LS_FRAME_HDR_LEN + LS_TRAILER_LEN,
                                          LS_MAGIC_TRAILER, buf, LS_TRAILER_LEN, ver,
                                          ls_get16(buf + 12));
                                /* Nothing may follow a trailer, as below. */
                                if (k > 0 && r->pos < r->size)
                                        r->after_trailer = 1;
                                return k;
                        }
                }
                if (k < 0)
                        return damage(r, it, start, k, start + LS_FRAME_HDR_LEN + off, "trailer");
                ls_sha256_final(&before, it->content_hash);
                k = skip(r, LS_FRAME_HDR_LEN + LS_TRAILER_LEN);
                if (k < 0)
                        return k;
                it->kind = LS_ITEM_TRAILER;
                it->offset = start;
                it->length = r->pos - start;
                /* Nothing may follow a trailer; report it as damage on the next call. */
                if (r->pos < r->size)
                        r->after_trailer = 1;
                else
                        r->done = 1;
                return 1;
        }

        if (r->envelope) {
                /* A frame of a later format in an archive that announced it (SPEC §1.1): not
                 * judged; a seal's content_hash covers it. */
                uint64_t span = LS_FRAME_HDR_LEN + (uint64_t) flen;
                if (span > r->size - start)
                        return damage(r, it, start, -ENODATA, r->size, "frame truncated");
                memset(it, 0, sizeof(*it));
                return later(r, it, start, span, '?', peek + LS_FRAME_HDR_LEN, 0, 0, 0);
        }
        return damage(r, it, start, -EBADMSG, start + 8, "unknown structure");
}

int ls_archive_read_dict(int fd, LsDict **ret, uint64_t *ret_end)
{
        LsArchiveReader *r = NULL;
        LsReadItem *it = calloc(1, sizeof(*it));
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3), k;

        *ret = NULL;
        if (!it || dfd < 0) {
                free(it);
                if (dfd >= 0)
                        close(dfd);
                return dfd < 0 ? -errno : -ENOMEM;
        }
        k = ls_archive_reader_new(&r, dfd);
        if (k < 0) {
                close(dfd);
                free(it);
                return k;
        }
        k = ls_archive_reader_next(r, it);
        if (k == 0 || (k > 0 && it->kind == LS_ITEM_TORN_TAIL))
                k = -EAGAIN;
        else if (k > 0 && it->kind != LS_ITEM_HEADER)
                k = it->error < 0 ? it->error : -EBADMSG;
        else if (k > 0 && !(it->header.incompat_flags & LS_ARCHIVE_INCOMPAT_DICT)) {
                if (ret_end)
                        *ret_end = it->offset + it->length;
                k = 0;
        } else if (k > 0) {
                k = ls_archive_reader_next(r, it);
                if (k == 0 || (k > 0 && it->kind == LS_ITEM_TORN_TAIL))
                        k = -EAGAIN;
                else if (k > 0 && it->kind != LS_ITEM_DICT)
                        k = it->error < 0 ? it->error : -EBADMSG;
                else if (k > 0) {
                        *ret = ls_dict_ref(it->dict);
                        if (ret_end)
                                *ret_end = it->offset + it->length;
                        k = 1;
                }
        }
        ls_archive_reader_free(r);
        free(it);
        return k;
}
