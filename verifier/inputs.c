/* SPDX-License-Identifier: Apache-2.0 */
/* inputs.c: the files logseal-verify is given: archives found in directories, bundles and
 * their tar files, and small files read whole */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "bundle-reader.h"
#include "magic.h"
#include "util.h"
#include "verify.h"

#define MAX_FILES 1000000
#define MAX_DEPTH 8

uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

int read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        uint8_t *p;
        size_t got = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t) st.st_size > max)
                return -E2BIG;
        p = malloc((size_t) st.st_size + 1);
        if (!p)
                return -ENOMEM;
        while (got < (size_t) st.st_size) {
                ssize_t k = read(fd, p + got, (size_t) st.st_size - got);
                if (k <= 0) {
                        free(p);
                        return k < 0 ? -errno : -EIO;
                }
                got += (size_t) k;
        }
        p[got] = 0;
        *ret = p;
        *ret_len = got;
        return 0;
}

/* ---- archives: files, and the archive candidates of directories ---- */

static int add_input(Ctx *c, const char *path)
{
        _cleanup_free_ uint8_t *buf = malloc(LS_FRAME_HDR_LEN + LS_ARCHIVE_HEADER_LATER_MAX_LEN);
        const size_t cap = LS_FRAME_HDR_LEN + LS_ARCHIVE_HEADER_LATER_MAX_LEN;
        LsArchiveHeader h;
        uint16_t ver;
        Input *in;
        ssize_t n;

        if (c->ninputs >= MAX_FILES)
                return -E2BIG;
        if ((c->ninputs & (c->ninputs - 1)) == 0) {
                Input *q = realloc(c->inputs, (c->ninputs ? 2 * c->ninputs : 16) * sizeof(*q));
                if (!q)
                        return -ENOMEM;
                c->inputs = q;
        }
        if (!buf)
                return -ENOMEM;
        in = &c->inputs[c->ninputs];
        memset(in, 0, sizeof(*in));
        in->path = strdup(path);
        if (!in->path)
                return -ENOMEM;
        c->ninputs++;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0; /* reported when verified */
        n = pread(fd, buf, cap, 0);
        if (n >= LS_FRAME_HDR_LEN + LS_ARCHIVE_HEADER_MIN_LEN && ls_get32(buf) == LS_SKIPPABLE_MAGIC) {
                uint32_t len = ls_get32(buf + 4);
                int k = len <= (size_t) n - LS_FRAME_HDR_LEN
                                ? ls_archive_header_decode(&h, buf + LS_FRAME_HDR_LEN, len, NULL)
                                : -ENODATA;
                /* a later format keeps archive_no in its envelope (SPEC §1.1) */
                if (k == -EPROTONOSUPPORT)
                        k = ls_archive_header_decode_later(&h, &ver, buf + LS_FRAME_HDR_LEN, len,
                                                           NULL);
                if (k == 0) {
                        in->header_ok = 1;
                        in->archive_no = h.archive_no;
                }
        }
        return 0;
}

/*
 * Is this file in a directory an archive candidate (SPEC §8.5)? 1 when it starts like an
 * archive (a skippable frame holding the archive magic), 2 when it only looks like one
 * (a skippable-frame or logseal magic at the start, or an .lsa name): then it is verified
 * and its damage reported; 0 when it is some other file.
 */
static int looks_like_archive(int dirfd, const char *name)
{
        uint8_t buf[LS_FRAME_HDR_LEN + LS_MAGIC_LEN] = {};
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        size_t len = strlen(name);
        ssize_t n;

        if (fd < 0)
                return 2; /* unreadable: verified, so the error is reported */
        n = pread(fd, buf, sizeof(buf), 0);
        if (n == (ssize_t) sizeof(buf) && ls_get32(buf) == LS_SKIPPABLE_MAGIC &&
            ls_magic_check(buf + 8, LS_MAGIC_ARCHIVE))
                return 1;
        if ((n >= 4 && ls_get32(buf) == LS_SKIPPABLE_MAGIC) ||
            (n >= 4 && buf[0] == 0x89 && buf[1] == 'L' && buf[2] == 'S') ||
            (n >= 12 && ls_magic_check(buf + 4, LS_MAGIC_ARCHIVE)) ||
            (len > 4 && !strcmp(name + len - 4, ".lsa")))
                return 2;
        return 0;
}

static void note_skipped(Ctx *c, const char *path, const char *why)
{
        LsFinding f = {.cls = LS_CLASS_NOTE, .check = "not an archive", .file = path,
                       .offset = LS_UNSET, .archive_no = LS_UNSET, .batch_no = LS_UNSET,
                       .seq = LS_UNSET};

        snprintf(f.detail, sizeof(f.detail), "%s: not verified", why);
        if (report_add_finding(&c->report, &f) < 0)
                c->oom = 1;
}

/*
 * Every entry of a directory is accounted for: archives are verified, anything that looks
 * like one (hidden names included) is verified and its damage reported, and every other
 * file is listed as not verified. Nothing is skipped silently.
 */
int add_path(Ctx *c, const char *path, int depth)
{
        struct stat st;
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(errno));
                return -errno;
        }
        if (!S_ISDIR(st.st_mode))
                return add_input(c, path);
        if (depth >= MAX_DEPTH) {
                note_skipped(c, path, "a directory nested too deep");
                return 0;
        }
        d = opendir(path);
        if (!d) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(errno));
                return -errno;
        }
        while ((de = readdir(d)) && r >= 0) {
                char *sub;
                struct stat sst;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (asprintf(&sub, "%s/%s", path, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (stat(sub, &sst) < 0)
                        note_skipped(c, sub, strerror(errno));
                else if (S_ISDIR(sst.st_mode))
                        r = add_path(c, sub, depth + 1);
                else if (!S_ISREG(sst.st_mode))
                        note_skipped(c, sub, "not a regular file");
                else if (looks_like_archive(dirfd(d), de->d_name))
                        r = add_input(c, sub);
                else
                        note_skipped(c, sub, "a file that is not a logseal archive");
                free(sub);
        }
        closedir(d);
        return r;
}

/* Chain order comes from the signed headers, never from file names. */
static int input_cmp(const void *a, const void *b)
{
        const Input *x = a, *y = b;

        if (x->header_ok != y->header_ok)
                return x->header_ok ? -1 : 1;
        if (x->header_ok && x->archive_no != y->archive_no)
                return x->archive_no < y->archive_no ? -1 : 1;
        return strcmp(x->path, y->path);
}

void sort_inputs(Ctx *c)
{
        qsort(c->inputs, c->ninputs, sizeof(*c->inputs), input_cmp);
}

/* ---- evidence bundles: a directory, or a tar file extracted for the bundle reader ---- */

/* A directory holding evidence.lsb or MANIFEST.sha256, or a tar file. */
int bundle_kind(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return NOT_BUNDLE;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct stat es;
                if (dfd >= 0 && (fstatat(dfd, LS_BUNDLE_EVIDENCE, &es, AT_SYMLINK_NOFOLLOW) == 0 ||
                                 fstatat(dfd, LS_BUNDLE_MANIFEST, &es, AT_SYMLINK_NOFOLLOW) == 0))
                        return BUNDLE_DIR;
                return NOT_BUNDLE;
        }
        if (S_ISREG(st.st_mode)) {
                size_t n = strlen(path);
                char block[512];
                _cleanup_close_ int fd = -1;
                if (n >= 4 && strcmp(path + n - 4, ".tar") == 0)
                        return BUNDLE_TAR;
                /* POSIX ustar and GNU tar headers: "ustar" at offset 257 of the first block */
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd >= 0 && pread(fd, block, sizeof(block), 0) == (ssize_t) sizeof(block) &&
                    memcmp(block + 257, "ustar", 5) == 0)
                        return BUNDLE_TAR;
        }
        return NOT_BUNDLE;
}


