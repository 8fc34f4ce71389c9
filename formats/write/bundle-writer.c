/* SPDX-License-Identifier: Apache-2.0 */
/* bundle-writer.c: evidence bundle directory (SPEC §14): evidence.lsb, files, MANIFEST.sha256 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle-writer.h"
#include "hash.h"
#include "util.h"

typedef struct Written {
        char name[64];
        uint8_t hash[LS_HASH_LEN];
} Written;

struct LsBundleWriter {
        int dirfd;
        int fd;                        /* evidence.lsb */
        LsSha256 ev;                   /* its running hash */
        uint32_t expected;             /* record_count + 1 entries */
        uint32_t added;
        Written files[LS_BUNDLE_MAX_FILES];
        size_t nfiles;
};

static int write_all(int fd, const void *p, size_t n)
{
        const uint8_t *q = p;

        while (n > 0) {
                ssize_t k = write(fd, q, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                q += k;
                n -= (size_t) k;
        }
        return 0;
}

static int name_ok(LsBundleWriter *w, const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n >= sizeof(w->files[0].name) || name[0] == '.')
                return 0;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-'))
                        return 0;
        }
        for (size_t i = 0; i < w->nfiles; i++)
                if (!strcmp(w->files[i].name, name))
                        return 0;
        return strcmp(name, LS_BUNDLE_MANIFEST) != 0;
}

int ls_bundle_writer_new(LsBundleWriter **ret, int dirfd, const LsBundleHeader *h)
{
        uint8_t hdr[LS_BUNDLE_HEADER_LEN];
        LsBundleWriter *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        w->dirfd = dirfd;
        w->expected = h->record_count + 1;
        w->fd = openat(dirfd, LS_BUNDLE_EVIDENCE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (w->fd < 0) {
                r = -errno;
                free(w);
                return r;
        }
        ls_bundle_header_encode(h, hdr);
        ls_sha256_init(&w->ev);
        ls_sha256_update(&w->ev, hdr, sizeof(hdr));
        r = write_all(w->fd, hdr, sizeof(hdr));
        if (r < 0) {
                ls_bundle_writer_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

int ls_bundle_writer_add(LsBundleWriter *w, uint64_t seq, const uint8_t salt[LS_SALT_LEN],
                         const uint8_t *record, size_t record_len, const uint8_t *proof,
                         size_t proof_len)
{
        LsBundleEntry e = {.record_len = (uint32_t) record_len, .proof_len = (uint32_t) proof_len,
                           .seq = seq};
        uint8_t fixed[LS_BUNDLE_ENTRY_FIXED_LEN];
        int r;

        if (w->added == w->expected || record_len > LS_MAX_RECORD_LEN ||
            record_len < LS_RECORD_FIXED_LEN || proof_len > LS_BUNDLE_MAX_PROOF_LEN ||
            proof_len < 20 || (proof_len - 20) % 32)
                return -EINVAL;
        memcpy(e.salt, salt, LS_SALT_LEN);
        ls_bundle_entry_encode(&e, fixed);
        ls_sha256_update(&w->ev, fixed, sizeof(fixed));
        ls_sha256_update(&w->ev, record, record_len);
        ls_sha256_update(&w->ev, proof, proof_len);
        r = write_all(w->fd, fixed, sizeof(fixed));
        if (r == 0)
                r = write_all(w->fd, record, record_len);
        if (r == 0)
                r = write_all(w->fd, proof, proof_len);
        if (r == 0)
                w->added++;
        return r;
}

static int add_written(LsBundleWriter *w, const char *name, const uint8_t hash[LS_HASH_LEN])
{
        if (w->nfiles == LS_BUNDLE_MAX_FILES)
                return -E2BIG;
        snprintf(w->files[w->nfiles].name, sizeof(w->files[0].name), "%s", name);
        memcpy(w->files[w->nfiles].hash, hash, LS_HASH_LEN);
        w->nfiles++;
        return 0;
}

static int write_file(int dirfd, const char *name, const void *p, size_t n)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), r;

        if (fd < 0)
                return -errno;
        r = write_all(fd, p, n);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        return r;
}

int ls_bundle_writer_file(LsBundleWriter *w, const char *name, const void *p, size_t n)
{
        uint8_t h[LS_HASH_LEN];
        int r;

        if (!name_ok(w, name) || !strcmp(name, LS_BUNDLE_EVIDENCE))
                return -EINVAL;
        r = write_file(w->dirfd, name, p, n);
        if (r < 0)
                return r;
        ls_sha256(h, p, n);
        return add_written(w, name, h);
}

static int cmp_written(const void *a, const void *b)
{
        return strcmp(((const Written *) a)->name, ((const Written *) b)->name);
}

int ls_bundle_writer_finish(LsBundleWriter *w)
{
        uint8_t h[LS_HASH_LEN];
        char *text, hex[2 * LS_HASH_LEN + 1];
        size_t len = 0;
        int r;

        if (w->added != w->expected)
                return -EINVAL;
        if (fsync(w->fd) < 0)
                return -errno;
        ls_sha256_final(&w->ev, h);
        r = add_written(w, LS_BUNDLE_EVIDENCE, h);
        if (r < 0)
                return r;
        qsort(w->files, w->nfiles, sizeof(w->files[0]), cmp_written);
        text = malloc(w->nfiles * (sizeof(hex) + 2 + sizeof(w->files[0].name) + 1) + 1);
        if (!text)
                return -ENOMEM;
        for (size_t i = 0; i < w->nfiles; i++) {
                ls_hex(hex, w->files[i].hash, LS_HASH_LEN);
                len += (size_t) sprintf(text + len, "%s  %s\n", hex, w->files[i].name);
        }
        r = write_file(w->dirfd, LS_BUNDLE_MANIFEST, text, len);
        free(text);
        if (r == 0 && fsync(w->dirfd) < 0)
                r = -errno;
        return r;
}

LsBundleWriter *ls_bundle_writer_free(LsBundleWriter *w)
{
        if (w) {
                if (w->fd >= 0)
                        close(w->fd);
                free(w);
        }
        return NULL;
}
