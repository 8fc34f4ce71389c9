/* SPDX-License-Identifier: Apache-2.0 */
/* bundle-tar.c: a bundle tar unpacked in-process with libarchive (bundle-tar.h) */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bundle-tar.h"
/* by path: formats/common has an archive.h of its own (SPEC §8) */
#include "../formats/common/util.h"

static int refuse(const char *tar, const char *member, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int refuse(const char *tar, const char *member, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "logseal-verify: %s: not read as a bundle: ", tar);
        if (member)
                fprintf(stderr, "member \"%s\": ", member);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -EBADMSG;
}

/*
 * The first path component of a member name, as a single safe file name: 0; 1 for the
 * tar's own top directory ("." or "./", as `tar -C DIR .` writes); -EINVAL for names
 * that are absolute or climb out.
 */
static int top_component(const char *name, char *out, size_t cap, int *ret_nested)
{
        while (name[0] == '.' && name[1] == '/')
                name += 2;
        if (name[0] == 0 || (name[0] == '.' && name[1] == 0))
                return 1;
        size_t n = strcspn(name, "/");
        if (n == 0 || n >= cap || (n == 1 && name[0] == '.') ||
            (n == 2 && name[0] == '.' && name[1] == '.'))
                return -EINVAL;
        memcpy(out, name, n);
        out[n] = 0;
        /* "a/" is the directory a itself; "a/b" is something inside it */
        *ret_nested = name[n] == '/' && name[n + 1] != 0;
        return 0;
}

static int write_member(struct archive *a, int dfd, const char *name, int64_t size,
                        uint64_t *budget)
{
        _cleanup_close_ int fd = -1;
        uint8_t buf[65536];
        la_ssize_t k;
        uint64_t left = (uint64_t) size;

        if (size < 0 || (uint64_t) size > *budget)
                return -EFBIG;
        fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while ((k = archive_read_data(a, buf, sizeof(buf))) > 0) {
                if ((uint64_t) k > left)
                        return -EFBIG;
                left -= (uint64_t) k;
                for (size_t o = 0; o < (size_t) k;) {
                        ssize_t w = write(fd, buf + o, (size_t) k - o);
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                return -errno;
                        }
                        o += (size_t) w;
                }
        }
        if (k < 0)
                return -EIO;
        *budget -= (uint64_t) size - left;
        return 0;
}

static int unpack(const char *tar, int tarfd, uint64_t tar_size, int dfd)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        uint64_t budget = tar_size;
        unsigned members = 0;
        int r = 0, k;

        if (!a)
                return -ENOMEM;
        archive_read_support_filter_none(a);
        archive_read_support_format_tar(a);
        if (archive_read_open_fd(a, tarfd, 65536) != ARCHIVE_OK) {
                r = refuse(tar, NULL, "%s", archive_error_string(a) ? archive_error_string(a)
                                                                     : "not a tar file");
                goto out;
        }
        while ((k = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                const char *path = archive_entry_pathname(e);
                char name[256];
                int nested, top, fmt = archive_format(a);
                mode_t type = archive_entry_filetype(e);

                if (++members > BUNDLE_TAR_MAX_MEMBERS) {
                        r = refuse(tar, NULL, "more than %d members", BUNDLE_TAR_MAX_MEMBERS);
                        goto out;
                }
                /* ustar, pax and GNU tar headers (GNU tar's default); never cpio, zip... */
                if ((fmt & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_TAR) {
                        r = refuse(tar, path, "%s: only tar files are read",
                                   archive_format_name(a));
                        goto out;
                }
                top = path ? top_component(path, name, sizeof(name), &nested) : -EINVAL;
                if (top < 0) {
                        r = refuse(tar, path, "%s", "not a plain relative file name");
                        goto out;
                }
                if (top == 1) {
                        if (type == AE_IFDIR)
                                continue;
                        r = refuse(tar, path, "%s", "not a plain relative file name");
                        goto out;
                }
                if (archive_entry_hardlink(e) || (type != AE_IFREG && type != AE_IFDIR &&
                                                  type != AE_IFLNK)) {
                        r = refuse(tar, path, "%s: a bundle holds regular files only",
                                   archive_entry_hardlink(e) ? "a hard link" : "a special file");
                        goto out;
                }
                if (archive_entry_sparse_count(e) > 0) {
                        r = refuse(tar, path, "%s", "a sparse member");
                        goto out;
                }
                if (nested || type == AE_IFDIR) {
                        /* The reader reports the subdirectory; its contents are not unpacked. */
                        if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST) {
                                r = -errno;
                                goto out;
                        }
                        continue;
                }
                if (type == AE_IFLNK) {
                        /* Shown to the reader as a link (a finding), pointing nowhere. */
                        if (symlinkat("/dev/null/not-followed", dfd, name) < 0) {
                                r = errno == EEXIST ? refuse(tar, path, "%s", "a duplicate member")
                                                    : -errno;
                                goto out;
                        }
                        continue;
                }
                r = write_member(a, dfd, name, archive_entry_size(e), &budget);
                if (r == -EEXIST)
                        r = refuse(tar, path, "%s", "a duplicate member");
                else if (r == -EFBIG)
                        r = refuse(tar, path, "%s",
                                   "its data would exceed the size of the tar file itself");
                else if (r == -EIO)
                        r = refuse(tar, path, "%s", archive_error_string(a)
                                                          ? archive_error_string(a)
                                                          : "cannot read its data");
                if (r < 0)
                        goto out;
        }
        if (k != ARCHIVE_EOF)
                r = refuse(tar, NULL, "%s", archive_error_string(a) ? archive_error_string(a)
                                                                    : "damaged tar file");
out:
        archive_read_free(a);
        return r;
}

int bundle_tar_extract(const char *tar, char **ret_dir)
{
        const char *tmp = getenv("TMPDIR");
        _cleanup_close_ int fd = open(tar, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_close_ int dfd = -1;
        char *dir = NULL;
        struct stat st;
        int r;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if (asprintf(&dir, "%s/logseal-verify-bundle.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                return -ENOMEM;
        if (!mkdtemp(dir)) {
                r = -errno;
                free(dir);
                return r;
        }
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = dfd < 0 ? -errno : unpack(tar, fd, (uint64_t) st.st_size, dfd);
        if (r < 0) {
                bundle_tar_remove(dir);
                free(dir);
                return r;
        }
        *ret_dir = dir;
        return 0;
}

void bundle_tar_remove(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        int bad = !d;

        if (d) {
                fd = -1; /* owned by d now */
                while ((de = readdir(d))) {
                        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                                continue;
                        /* one level: subdirectories are made empty (bundle_tar_extract) */
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0 &&
                            unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0)
                                bad = 1;
                }
                closedir(d);
        }
        if (rmdir(dir) < 0 || bad)
                fprintf(stderr, "logseal-verify: could not remove the temporary directory %s\n",
                        dir);
}
