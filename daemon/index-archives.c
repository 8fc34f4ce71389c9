/* SPDX-License-Identifier: Apache-2.0 */
/* index-archives.c: what the index reads from the archives: which there are, their headers,
 * and their batch and trailer frames (SPEC §8.1) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain-writer.h"
#include "index-internal.h"
#include "magic.h"
#include "state.h"
#include "util.h"

#define FRAME_PEEK (LS_FRAME_HDR_LEN + LS_MAGIC_LEN)

/* ---- archives on disk ---- */

static int arch_cmp(const void *a, const void *b)
{
        const Arch *x = a, *y = b;
        return x->no < y->no ? -1 : x->no > y->no;
}

/* Parses "chain-<our hex>-<n>.lsa" in exactly the form the daemon writes it. */
static int archive_name_no(const char *name, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                           uint64_t *ret)
{
        char prefix[64], hex[2 * LS_CHAIN_ID_LEN + 1], canon[128];
        const char *p;
        uint64_t n = 0;
        size_t pl;

        ls_hex(hex, chain_id, LS_CHAIN_ID_LEN);
        pl = (size_t) snprintf(prefix, sizeof(prefix), "chain-%s-", hex);
        if (strncmp(name, prefix, pl) != 0)
                return 0;
        p = name + pl;
        if (*p < '0' || *p > '9')
                return 0;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (n > (UINT64_MAX - 9) / 10)
                        return 0;
                n = n * 10 + (uint64_t) (*p - '0');
        }
        ls_archive_name(canon, sizeof(canon), chain_id, n);
        if (strcmp(canon, name) != 0)
                return 0;
        *ret = n;
        return 1;
}

/* The chain's archives numbered from `from` on, sorted. */
int ix_list_archives(Index *ix, int archive_dirfd, uint64_t from, Arch **ret, size_t *ret_n)
{
        _cleanup_free_ Arch *v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;
        int fd = openat(archive_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return ix_fail(ix, -errno, "%s: %s", STATE_ARCHIVES, strerror(errno));
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return ix_fail(ix, -ENOMEM, "%s: out of memory", STATE_ARCHIVES);
        }
        for (;;) {
                struct stat st;
                uint64_t no;
                errno = 0;
                de = readdir(d);
                if (!de)
                        break;
                if (!archive_name_no(de->d_name, ix->chain_id, &no) || no < from)
                        continue;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        Arch *q = reallocarray(v, ncap, sizeof(*v));
                        if (!q) {
                                closedir(d);
                                return ix_fail(ix, -ENOMEM, "%s: out of memory", STATE_ARCHIVES);
                        }
                        v = q;
                        cap = ncap;
                }
                v[n].no = no;
                v[n].size = (uint64_t) st.st_size;
                n++;
        }
        if (errno) {
                int e = errno;
                closedir(d);
                return ix_fail(ix, -e, "%s: %s", STATE_ARCHIVES, strerror(e));
        }
        closedir(d);
        if (n > 1)
                qsort(v, n, sizeof(*v), arch_cmp);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

int ix_pread_all(int fd, void *buf, size_t n, uint64_t off)
{
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = pread(fd, p, n, (off_t) off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -ENODATA; /* the file is shorter than it was */
                p += k;
                n -= (size_t) k;
                off += (uint64_t) k;
        }
        return 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t n)
{
        uint8_t *q;

        if (*cap >= n)
                return 0;
        q = realloc(*buf, n);
        if (!q)
                return -ENOMEM;
        *buf = q;
        *cap = n;
        return 0;
}

static int damage(Frame *f, int error, uint64_t error_offset, const char *what)
{
        f->kind = FRAME_DAMAGE;
        f->error = error;
        f->error_offset = error_offset;
        f->what = what;
        return 0;
}

/*
 * Reads the batch or trailer frame at `off` of an archive of `size` bytes (SPEC §8.1):
 * 0 with *f filled (a batch's payload in *buf), or -errno on I/O errors. A frame that
 * runs past `size` is INCOMPLETE: the daemon may still be writing it.
 */
int ix_read_frame(int fd, uint64_t size, uint64_t off, Frame *f, uint8_t **buf, size_t *cap)
{
        uint8_t peek[FRAME_PEEK];
        uint32_t flen;
        size_t eoff = 0;
        int r;

        memset(f, 0, sizeof(*f));
        if (off > size || size - off < FRAME_PEEK) {
                f->kind = FRAME_INCOMPLETE;
                return 0;
        }
        r = ix_pread_all(fd, peek, sizeof(peek), off);
        if (r < 0)
                return r;
        if (ls_get32(peek) != LS_SKIPPABLE_MAGIC)
                return damage(f, -EBADMSG, off, "frame magic");
        flen = ls_get32(peek + 4);
        if (ls_magic_check(peek + LS_FRAME_HDR_LEN, LS_MAGIC_BATCH)) {
                uint64_t end;
                if (flen != LS_BATCH_HEADER_LEN)
                        return damage(f, -EBADMSG, off + 4, "batch frame length");
                if (size - off < LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN) {
                        f->kind = FRAME_INCOMPLETE;
                        return 0;
                }
                r = grow(buf, cap, LS_BATCH_HEADER_LEN);
                if (r < 0)
                        return r;
                r = ix_pread_all(fd, *buf, LS_BATCH_HEADER_LEN, off + LS_FRAME_HDR_LEN);
                if (r < 0)
                        return r;
                r = ls_batch_header_decode(&f->batch, *buf, LS_BATCH_HEADER_LEN, &eoff);
                if (r < 0)
                        return damage(f, r, off + LS_FRAME_HDR_LEN + eoff, "batch header");
                end = off + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN + f->batch.payload_len;
                if (end > size) {
                        f->kind = FRAME_INCOMPLETE;
                        return 0;
                }
                r = grow(buf, cap, f->batch.payload_len);
                if (r < 0)
                        return r;
                r = ix_pread_all(fd, *buf, f->batch.payload_len,
                                 off + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN);
                if (r < 0)
                        return r;
                f->kind = FRAME_BATCH;
                f->payload = *buf;
                f->end = end;
                return 0;
        }
        if (ls_magic_check(peek + LS_FRAME_HDR_LEN, LS_MAGIC_TRAILER)) {
                uint8_t t[LS_TRAILER_LEN];
                if (flen != LS_TRAILER_LEN)
                        return damage(f, -EBADMSG, off + 4, "trailer frame length");
                if (size - off < LS_FRAME_HDR_LEN + LS_TRAILER_LEN) {
                        f->kind = FRAME_INCOMPLETE;
                        return 0;
                }
                r = ix_pread_all(fd, t, sizeof(t), off + LS_FRAME_HDR_LEN);
                if (r < 0)
                        return r;
                r = ls_trailer_decode(&f->trailer, t, sizeof(t), &eoff);
                if (r < 0)
                        return damage(f, r, off + LS_FRAME_HDR_LEN + eoff, "seal trailer");
                f->kind = FRAME_TRAILER;
                f->end = off + LS_FRAME_HDR_LEN + LS_TRAILER_LEN;
                return 0;
        }
        return damage(f, -EBADMSG, off + LS_FRAME_HDR_LEN, "unknown structure");
}

/*
 * Reads the archive header: 1 with *h and *ret_end, 0 when the file is too short yet
 * (just created), -EBADMSG (message set) when it is not a header.
 */
int ix_read_archive_header(Index *ix, int fd, uint64_t size, const char *name,
                           LsArchiveHeader *h, uint64_t *ret_end)
{
        uint8_t buf[LS_FRAME_HDR_LEN + LS_ARCHIVE_HEADER_MAX_LEN];
        uint32_t flen;
        size_t eoff = 0;
        int r;

        if (size < LS_FRAME_HDR_LEN + LS_MAGIC_LEN)
                return 0;
        r = ix_pread_all(fd, buf, LS_FRAME_HDR_LEN + LS_MAGIC_LEN, 0);
        if (r < 0)
                return ix_fail(ix, r, "%s: %s", name, strerror(-r));
        flen = ls_get32(buf + 4);
        if (ls_get32(buf) != LS_SKIPPABLE_MAGIC || !ls_magic_check(buf + 8, LS_MAGIC_ARCHIVE))
                return ix_fail(ix, -EBADMSG, "%s: offset 0: no archive header", name);
        if (flen < LS_ARCHIVE_HEADER_MIN_LEN || flen > LS_ARCHIVE_HEADER_MAX_LEN)
                return ix_fail(ix, -EBADMSG, "%s: offset 4: archive header frame length", name);
        if (size < LS_FRAME_HDR_LEN + (uint64_t) flen)
                return 0;
        r = ix_pread_all(fd, buf, LS_FRAME_HDR_LEN + flen, 0);
        if (r < 0)
                return ix_fail(ix, r, "%s: %s", name, strerror(-r));
        r = ls_archive_header_decode(h, buf + LS_FRAME_HDR_LEN, flen, &eoff);
        if (r < 0)
                return ix_fail(ix, -EBADMSG, "%s: offset %zu: archive header: %s", name,
                               LS_FRAME_HDR_LEN + eoff, ix_class_name(r));
        *ret_end = LS_FRAME_HDR_LEN + (uint64_t) flen;
        return 1;
}

