/* SPDX-License-Identifier: Apache-2.0 */
/* wal.c: the write-ahead log: every record read from a socket is written here before the next read */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <xxhash.h>

#include "state.h"
#include "util.h"
#include "wal.h"

/*
 * Segment file wal/<first id as 16 hex digits>.wal:
 *   "LSWAL002" then entries: u32 len, u64 id, u64 check, record[len]
 * check = XXH3-64 (libxxhash) of record, seeded with id and len: it finds
 * torn or garbled tails after a power loss; it is not a security measure (the
 * WAL is inside the trust boundary, the archives are evidence). Version 001
 * used SipHash, several times slower on the ingest thread's critical path.
 * Ids are consecutive across segments.
 */
#define WAL_MAGIC "LSWAL002"
#define WAL_ENTRY_HDR 20
#define WAL_SEGMENT_MAX (64u << 20)
#define WAL_MAX_SEGMENTS 100000


typedef struct Segment {
        uint64_t first_id;
        char name[32];
} Segment;

struct Wal {
        int dirfd;
        Segment *segs;
        size_t nsegs;
        int fd;               /* current segment */
        uint64_t size;        /* of the current segment */
        uint64_t next_id;
        uint8_t *scratch;
        size_t scratch_cap;
};

static void entry_check(uint8_t out[8], uint64_t id, const uint8_t *rec, uint32_t len)
{
        uint64_t seed = id * 0x9e3779b97f4a7c15ull ^ len;
        ls_put64(out, (uint64_t) XXH3_64bits_withSeed(rec, len, (XXH64_hash_t) seed));
}

static int seg_cmp(const void *a, const void *b)
{
        const Segment *x = a, *y = b;
        return x->first_id < y->first_id ? -1 : x->first_id > y->first_id;
}

int wal_open(Wal **ret, int state_dirfd)
{
        Wal *w = calloc(1, sizeof(*w));
        DIR *d;
        struct dirent *de;
        int fd;

        if (!w)
                return -ENOMEM;
        w->fd = -1;
        w->dirfd = openat(state_dirfd, STATE_WAL, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (w->dirfd < 0) {
                int r = -errno;
                free(w);
                return r;
        }
        fd = dup(w->dirfd);
        d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                int r = -errno;
                wal_free(w);
                return r;
        }
        while ((de = readdir(d))) {
                uint64_t id;
                char tail[8];
                if (sscanf(de->d_name, "%16" SCNx64 ".wa%1s", &id, tail) != 2 ||
                    strlen(de->d_name) != 20)
                        continue;
                if (w->nsegs == WAL_MAX_SEGMENTS)
                        break;
                Segment *q = realloc(w->segs, (w->nsegs + 1) * sizeof(*q));
                if (!q) {
                        closedir(d);
                        wal_free(w);
                        return -ENOMEM;
                }
                w->segs = q;
                w->segs[w->nsegs].first_id = id;
                snprintf(w->segs[w->nsegs].name, sizeof(w->segs[w->nsegs].name), "%016" PRIx64 ".wal",
                         id);
                w->nsegs++;
        }
        closedir(d);
        if (w->nsegs)
                qsort(w->segs, w->nsegs, sizeof(*w->segs), seg_cmp);
        *ret = w;
        return 0;
}

Wal *wal_free(Wal *w)
{
        if (!w)
                return NULL;
        if (w->fd >= 0)
                close(w->fd);
        if (w->dirfd >= 0)
                close(w->dirfd);
        free(w->segs);
        free(w->scratch);
        free(w);
        return NULL;
}

int wal_replay(Wal *w, uint64_t after, WalReplayFn fn, void *ud, uint64_t *ret_last_id,
               uint64_t *ret_damaged)
{
        uint64_t last = after, damaged = 0;
        int stop = 0, r = 0;

        for (size_t i = 0; i < w->nsegs; i++) {
                _cleanup_close_ int fd = openat(w->dirfd, w->segs[i].name, O_RDONLY | O_CLOEXEC);
                struct stat st;
                uint8_t *map;
                size_t pos = 8;
                uint64_t expect = w->segs[i].first_id;

                if (fd < 0 || fstat(fd, &st) < 0)
                        return -errno;
                if (stop) {
                        damaged += (uint64_t) st.st_size;
                        continue;
                }
                if (st.st_size < 8) {
                        damaged += (uint64_t) st.st_size;
                        stop = 1;
                        continue;
                }
                map = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
                if (map == MAP_FAILED)
                        return -errno;
                if (memcmp(map, WAL_MAGIC, 8) != 0) {
                        damaged += (uint64_t) st.st_size;
                        stop = 1;
                }
                while (!stop && pos < (size_t) st.st_size) {
                        uint8_t chk[8];
                        uint32_t len;
                        uint64_t id;
                        if ((size_t) st.st_size - pos < WAL_ENTRY_HDR) {
                                stop = 1;
                                break;
                        }
                        len = ls_get32(map + pos);
                        id = ls_get64(map + pos + 4);
                        if (len > LS_MAX_RECORD_LEN ||
                            (size_t) st.st_size - pos - WAL_ENTRY_HDR < len || id != expect) {
                                stop = 1;
                                break;
                        }
                        entry_check(chk, id, map + pos + WAL_ENTRY_HDR, len);
                        if (memcmp(chk, map + pos + 12, 8) != 0) {
                                stop = 1;
                                break;
                        }
                        if (id > after && fn) {
                                r = fn(ud, id, map + pos + WAL_ENTRY_HDR, len);
                                if (r < 0) {
                                        munmap(map, (size_t) st.st_size);
                                        return r;
                                }
                        }
                        last = MAX(last, id);
                        expect++;
                        pos += WAL_ENTRY_HDR + len;
                }
                if (stop && pos < (size_t) st.st_size)
                        damaged += (uint64_t) st.st_size - pos;
                munmap(map, (size_t) st.st_size);
        }
        *ret_last_id = last;
        *ret_damaged = damaged;
        return 0;
}

static int new_segment(Wal *w)
{
        Segment *q;
        char name[32];
        int fd;

        snprintf(name, sizeof(name), "%016" PRIx64 ".wal", w->next_id);
        fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, WAL_MAGIC, 8) != 8 || fdatasync(fd) < 0 || fsync(w->dirfd) < 0) {
                int r = errno ? -errno : -EIO;
                close(fd);
                return r;
        }
        if (w->fd >= 0) {
                (void) fdatasync(w->fd);
                close(w->fd);
        }
        w->fd = fd;
        w->size = 8;
        /* Replace a same-named (empty, earlier) segment entry, else append. */
        if (w->nsegs && w->segs[w->nsegs - 1].first_id == w->next_id)
                return 0;
        q = realloc(w->segs, (w->nsegs + 1) * sizeof(*q));
        if (!q)
                return -ENOMEM;
        w->segs = q;
        w->segs[w->nsegs].first_id = w->next_id;
        snprintf(w->segs[w->nsegs].name, sizeof(w->segs[w->nsegs].name), "%s", name);
        w->nsegs++;
        return 0;
}

int wal_start(Wal *w, uint64_t next_id)
{
        w->next_id = next_id;
        return new_segment(w);
}

uint64_t wal_next_id(const Wal *w)
{
        return w->next_id;
}

int wal_append(Wal *w, const uint8_t *entries, size_t len, uint32_t count, uint64_t *ret_first_id)
{
        size_t need = len + (size_t) count * (WAL_ENTRY_HDR - 4), o = 0, pos = 0;
        uint64_t id = w->next_id;

        if (w->size > WAL_SEGMENT_MAX) {
                int r = new_segment(w);
                if (r < 0)
                        return r;
        }
        if (need > w->scratch_cap) {
                uint8_t *q = realloc(w->scratch, need);
                if (!q)
                        return -ENOMEM;
                w->scratch = q;
                w->scratch_cap = need;
        }
        for (uint32_t i = 0; i < count; i++) {
                uint32_t n = ls_get32(entries + pos);
                ls_put32(w->scratch + o, n);
                ls_put64(w->scratch + o + 4, id);
                entry_check(w->scratch + o + 12, id, entries + pos + 4, n);
                memcpy(w->scratch + o + WAL_ENTRY_HDR, entries + pos + 4, n);
                o += WAL_ENTRY_HDR + n;
                pos += 4 + n;
                id++;
        }
        for (size_t done = 0; done < o;) {
                ssize_t k = write(w->fd, w->scratch + done, o - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        /* Cut a partial entry so the log stays replayable. */
                        if (ftruncate(w->fd, (off_t) w->size) < 0)
                                return r;
                        (void) lseek(w->fd, (off_t) w->size, SEEK_SET);
                        return r;
                }
                done += (size_t) k;
        }
        w->size += o;
        *ret_first_id = w->next_id;
        w->next_id = id;
        return 0;
}

int wal_sync(Wal *w)
{
        if (w->fd < 0)
                return 0;
        return fdatasync(w->fd) < 0 ? -errno : 0;
}

int wal_trim(Wal *w, uint64_t durable_id)
{
        size_t keep = 0;
        int removed = 0;

        /* Segment i holds ids [first_i, first_{i+1}); the last one is being written. */
        for (size_t i = 0; i + 1 < w->nsegs; i++) {
                if (w->segs[i + 1].first_id - 1 <= durable_id) {
                        if (unlinkat(w->dirfd, w->segs[i].name, 0) < 0 && errno != ENOENT)
                                return -errno;
                        removed = 1;
                        keep = i + 1;
                } else {
                        break;
                }
        }
        /* Everything durable and the current segment big enough: start afresh. */
        if (w->nsegs && w->fd >= 0 && durable_id + 1 == w->next_id && w->size > (1u << 20)) {
                int r = new_segment(w);
                if (r < 0)
                        return r;
                return wal_trim(w, durable_id);
        }
        if (keep) {
                memmove(w->segs, w->segs + keep, (w->nsegs - keep) * sizeof(*w->segs));
                w->nsegs -= keep;
        }
        if (removed && fsync(w->dirfd) < 0)
                return -errno;
        return 0;
}

int wal_remove_all(Wal *w)
{
        for (size_t i = 0; i < w->nsegs; i++)
                if (unlinkat(w->dirfd, w->segs[i].name, 0) < 0 && errno != ENOENT)
                        return -errno;
        w->nsegs = 0;
        if (w->fd >= 0) {
                close(w->fd);
                w->fd = -1;
        }
        return fsync(w->dirfd) < 0 ? -errno : 0;
}
