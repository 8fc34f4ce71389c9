/* SPDX-License-Identifier: Apache-2.0 */
/* export-tar.c: a bundle directory written as one ustar file with libarchive (export-tar.h) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "export-tar.h"
/* by path: formats/common has an archive.h of its own (SPEC §8) */
#include "../../formats/common/util.h"

static int tar_error(const char *tar, const char *name, struct archive *a, int err)
{
        const char *why = a ? archive_error_string(a) : NULL;

        fprintf(stderr, "logsealctl: export: %s%s%s: %s\n", tar, name ? ": member " : "",
                name ? name : "", why ? why : strerror(err));
        return -err;
}

/* One member: the file's header, then its bytes, read to the size fstat() gave. */
static int add_member(struct archive *a, const char *tar, int dfd, const char *name)
{
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct archive_entry *e;
        struct stat st;
        char buf[65536];
        off_t left;
        int r = 0;

        if (fd < 0 || fstat(fd, &st) < 0)
                return tar_error(tar, name, NULL, errno);
        if (!S_ISREG(st.st_mode))
                return tar_error(tar, name, NULL, EINVAL);
        e = archive_entry_new();
        if (!e)
                return tar_error(tar, name, NULL, ENOMEM);
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, st.st_mode & 07777);
        archive_entry_set_size(e, st.st_size);
        archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK)
                r = tar_error(tar, name, a, EIO);
        archive_entry_free(e);
        for (left = st.st_size; r == 0 && left > 0;) {
                ssize_t k = read(fd, buf, (size_t) (left < (off_t) sizeof(buf) ? left : (off_t) sizeof(buf)));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return tar_error(tar, name, NULL, k < 0 ? errno : ENODATA);
                if (archive_write_data(a, buf, (size_t) k) != k)
                        return tar_error(tar, name, a, EIO);
                left -= k;
        }
        return r;
}

int export_write_tar(const char *tar, const char *dir, const char *const *names, size_t n)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = -1;
        struct archive *a;
        int r = 0;

        if (dfd < 0)
                return tar_error(dir, NULL, NULL, errno);
        fd = open(tar, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0)
                return tar_error(tar, NULL, NULL, errno);
        a = archive_write_new();
        if (!a)
                return tar_error(tar, NULL, NULL, ENOMEM);
        if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK)
                r = tar_error(tar, NULL, a, EIO);
        for (size_t i = 0; r == 0 && i < n; i++)
                r = add_member(a, tar, dfd, names[i]);
        if (archive_write_close(a) != ARCHIVE_OK && r == 0)
                r = tar_error(tar, NULL, a, EIO);
        archive_write_free(a);
        if (r == 0 && fsync(fd) < 0)
                r = tar_error(tar, NULL, NULL, errno);
        return r;
}
