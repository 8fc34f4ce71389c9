/* SPDX-License-Identifier: Apache-2.0 */
/* bundle-files.c: step 1 of SPEC §14.3: the bundle's files and its manifest (§14.2) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle-reader-internal.h"
#include "hash.h"
#include "util.h"

static const char *const required_files[F_COUNT] = {LS_BUNDLE_EVIDENCE, LS_BUNDLE_CHECKPOINT,
                                                    LS_BUNDLE_KEYS};

/* ---- names and the manifest (SPEC §14.2) ---- */

int ls_bundle_name_ok(const char *name, size_t n)
{
        if (n == 0 || n > NAME_MAX_LEN)
                return 0;
        /* Not ".", "..", nor hidden (SPEC §14). */
        if (name[0] == '.')
                return 0;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-'))
                        return 0;
        }
        return 1;
}

static int name_cmp(const char *a, size_t an, const char *b, size_t bn)
{
        int k = memcmp(a, b, MIN(an, bn));
        if (k)
                return k;
        return an < bn ? -1 : an > bn;
}

int ls_bundle_manifest_parse(const char *t, size_t n, LsManifestLineFn fn, LsManifestBadFn bad,
                             void *ud)
{
        const char *prev = NULL;
        size_t pos = 0, prev_len = 0;
        unsigned line = 0;
        int good = 0;

        if (n > LS_BUNDLE_MANIFEST_MAX)
                return -E2BIG;
        while (pos < n) {
                const char *eol = memchr(t + pos, '\n', n - pos), *name;
                size_t end = eol ? (size_t) (eol - t) : n, len = end - pos, name_len;
                uint8_t hash[LS_HASH_LEN];
                int ok = 1;

                if (++line > LS_BUNDLE_MAX_FILES)
                        return -E2BIG;
                if (!eol && bad)
                        bad(ud, n, line, "the last line does not end with a newline");
                name = t + pos + 2 * LS_HASH_LEN + 2;
                name_len = len > 2 * LS_HASH_LEN + 2 ? len - 2 * LS_HASH_LEN - 2 : 0;
                for (size_t i = 0; ok && i < 2 * LS_HASH_LEN && i < len; i++) {
                        char c = t[pos + i];
                        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                                ok = 0;
                }
                if (len == 0) {
                        if (bad)
                                bad(ud, pos, line, "empty line");
                        ok = 0;
                } else if (!ok || len < 2 * LS_HASH_LEN + 3 || t[pos + 2 * LS_HASH_LEN] != ' ' ||
                           t[pos + 2 * LS_HASH_LEN + 1] != ' ') {
                        if (bad)
                                bad(ud, pos, line,
                                    "not '<64 lower-case hex digits><two spaces><name>'");
                        ok = 0;
                } else if (!ls_bundle_name_ok(name, name_len)) {
                        if (bad)
                                bad(ud, (size_t) (name - t), line,
                                    "file name is not [A-Za-z0-9._-]+ (or is '.' or '..')");
                        ok = 0;
                } else if (name_len == strlen(LS_BUNDLE_MANIFEST) &&
                           memcmp(name, LS_BUNDLE_MANIFEST, name_len) == 0) {
                        if (bad)
                                bad(ud, (size_t) (name - t), line, "the manifest lists itself");
                        ok = 0;
                }
                if (ok) {
                        if (prev && name_cmp(prev, prev_len, name, name_len) >= 0 && bad)
                                bad(ud, (size_t) (name - t), line,
                                    name_cmp(prev, prev_len, name, name_len) == 0 ?
                                            "file listed twice" :
                                            "lines are not sorted by file name");
                        if (ls_unhex(hash, LS_HASH_LEN, t + pos, 2 * LS_HASH_LEN) < 0) {
                                if (bad)
                                        bad(ud, pos, line, "bad hex digits");
                        } else {
                                if (fn)
                                        fn(ud, name, name_len, hash, pos);
                                good++;
                        }
                        prev = name;
                        prev_len = name_len;
                }
                pos = end + 1;
        }
        return good;
}

/* ---- files, never followed ---- */

/*
 * Opens a regular file of the bundle directory for reading: never a symlink, a FIFO or a
 * device (checked before opening and again on the open descriptor). -ENOENT, -ELOOP for
 * anything that is not a regular file, or another -errno.
 */
static int open_file(int dirfd, const char *name, struct stat *ret_st)
{
        struct stat st, st2;
        int fd;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -ELOOP;
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return errno == ELOOP ? -ELOOP : -errno;
        if (fstat(fd, &st2) < 0 || !S_ISREG(st2.st_mode) || st2.st_dev != st.st_dev ||
            st2.st_ino != st.st_ino) {
                close(fd);
                return -ELOOP;
        }
        if (ret_st)
                *ret_st = st2;
        return fd;
}

static const char *file_type(int dirfd, const char *name)
{
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return "unreadable";
        switch (st.st_mode & S_IFMT) {
        case S_IFREG:
                return "a regular file";
        case S_IFLNK:
                return "a symbolic link";
        case S_IFDIR:
                return "a directory";
        case S_IFIFO:
                return "a FIFO";
        case S_IFSOCK:
                return "a socket";
        case S_IFCHR:
        case S_IFBLK:
                return "a device";
        default:
                return "not a regular file";
        }
}

/* SHA-256 of a whole file, streamed. */
static int hash_fd(LsBundleReader *b, int fd, uint8_t out[LS_HASH_LEN], uint64_t *ret_size)
{
        LsSha256 h;
        uint64_t size = 0;

        ls_sha256_init(&h);
        for (;;) {
                ssize_t k = read(fd, b->iobuf, IOBUF_LEN);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int r = -errno;
                        ls_sha256_final(&h, out);
                        return r;
                }
                if (k == 0)
                        break;
                ls_sha256_update(&h, b->iobuf, (size_t) k);
                size += (uint64_t) k;
        }
        ls_sha256_final(&h, out);
        *ret_size = size;
        return 0;
}

static int required_index(const char *name)
{
        for (int i = 0; i < F_COUNT; i++)
                if (!strcmp(name, required_files[i]))
                        return i;
        return -1;
}

static void file_event(LsBundleReader *b, const LsBundleFile *fi)
{
        int k = required_index(fi->name);
        LsBundleFile f = *fi;

        if (k >= 0 && fi->status != LS_BUNDLE_FILE_OK && fi->status != LS_BUNDLE_FILE_MISMATCH &&
            fi->status != LS_BUNDLE_FILE_UNLISTED)
                b->reported[k] = 1;
        if (fi->status == LS_BUNDLE_FILE_OK)
                b->s->files_ok++;
        /*
         * Only the evidence files are authenticated (by steps 1-6). A manifest line proves
         * nothing about any other file: the manifest is signed by no one, so whoever rewrites
         * README.txt or report.txt, or adds a file, regenerates it as well (SPEC §14).
         */
        f.authenticated = k >= 0 || !strcmp(fi->name, LS_BUNDLE_MANIFEST);
        if (!f.authenticated)
                b->s->files_not_authenticated++;
        if (b->cb.file)
                b->cb.file(b->cb.userdata, &f);
}

/* ---- step 1: the manifest ---- */

static void man_line(void *ud, const char *name, size_t name_len, const uint8_t hash[LS_HASH_LEN],
                     size_t offset)
{
        LsBundleReader *b = ud;
        ManEntry *e;

        if (b->nman >= LS_BUNDLE_MAX_FILES)
                return;
        e = &b->man[b->nman++];
        memcpy(e->name, name, name_len);
        e->name[name_len] = 0;
        memcpy(e->hash, hash, LS_HASH_LEN);
        e->offset = offset;
}

static void man_bad(void *ud, size_t offset, unsigned line, const char *what)
{
        LsBundleReader *b = ud;
        int code = -EBADMSG;

        TAMPERED(b, "manifest", LS_BUNDLE_MANIFEST, offset, LS_UNSET, "line %u: %s", line, what);
}

static int man_cmp(const void *x, const void *y)
{
        return strcmp(((const ManEntry *) x)->name, ((const ManEntry *) y)->name);
}

static const ManEntry *man_find(LsBundleReader *b, const char *name)
{
        ManEntry key;

        if (strlen(name) > NAME_MAX_LEN || !b->nman)
                return NULL;
        snprintf(key.name, sizeof(key.name), "%s", name);
        return bsearch(&key, b->man, b->nman, sizeof(*b->man), man_cmp);
}

static void check_listed_file(LsBundleReader *b, const ManEntry *e)
{
        LsBundleFile fi = {.name = e->name, .size = LS_UNSET};
        char want[2 * LS_HASH_LEN + 1], got[2 * LS_HASH_LEN + 1];
        struct stat st;
        int fd = open_file(b->dirfd, e->name, &st), code, r;

        if (fd < 0) {
                code = fd;
                if (fd == -ENOENT) {
                        fi.status = LS_BUNDLE_FILE_MISSING;
                        TAMPERED(b, "manifest missing", e->name, LS_UNSET, LS_UNSET,
                                 "listed in the manifest (line at byte %" PRIu64
                                 ") but not in the bundle",
                                 e->offset);
                } else if (fd == -ELOOP) {
                        fi.status = LS_BUNDLE_FILE_NOT_REGULAR;
                        TAMPERED(b, "bundle file type", e->name, LS_UNSET, LS_UNSET,
                                 "%s, not a regular file: not followed",
                                 file_type(b->dirfd, e->name));
                } else {
                        fi.status = LS_BUNDLE_FILE_UNREADABLE;
                        bundle_finding(b, LS_CLASS_IO, fd, "read", e->name, LS_UNSET, LS_UNSET,
                                       LS_UNSET, "cannot open: %s", strerror(-fd));
                }
                file_event(b, &fi);
                return;
        }
        r = hash_fd(b, fd, fi.sha256, &fi.size);
        close(fd);
        if (r < 0) {
                fi.status = LS_BUNDLE_FILE_UNREADABLE;
                fi.size = LS_UNSET;
                bundle_finding(b, LS_CLASS_IO, r, "read", e->name, LS_UNSET, LS_UNSET, LS_UNSET,
                               "read error: %s", strerror(-r));
                file_event(b, &fi);
                return;
        }
        fi.have_hash = 1;
        if (ls_hash_equal(fi.sha256, e->hash)) {
                fi.status = LS_BUNDLE_FILE_OK;
        } else {
                fi.status = LS_BUNDLE_FILE_MISMATCH;
                code = -EILSEQ;
                ls_hex(want, e->hash, LS_HASH_LEN);
                ls_hex(got, fi.sha256, LS_HASH_LEN);
                TAMPERED(b, "manifest hash", e->name, LS_UNSET, LS_UNSET,
                         "SHA-256 is %s, the manifest says %s", got, want);
        }
        file_event(b, &fi);
}

static void check_unlisted(LsBundleReader *b)
{
        _cleanup_close_ int fd = openat(b->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        size_t seen = 0;
        DIR *d = NULL;
        int code = -EBADMSG;

        if (fd < 0 || !(d = fdopendir(fd))) {
                bundle_finding(b, LS_CLASS_IO, -errno, "read", NULL, LS_UNSET, LS_UNSET, LS_UNSET,
                               "cannot list the bundle directory: %s", strerror(errno));
                return;
        }
        TAKE_FD(fd);
        while ((errno = 0, de = readdir(d))) {
                const char *name = de->d_name;
                LsBundleFile fi = {.name = name, .size = LS_UNSET};
                struct stat st;

                if (!strcmp(name, ".") || !strcmp(name, ".."))
                        continue;
                if (++seen > LS_BUNDLE_MAX_FILES + 1) {
                        code = -E2BIG;
                        TAMPERED(b, "bundle files", NULL, LS_UNSET, LS_UNSET,
                                 "more than %u files in the bundle directory; the rest were not "
                                 "looked at",
                                 LS_BUNDLE_MAX_FILES + 1);
                        break;
                }
                if (!strcmp(name, LS_BUNDLE_MANIFEST) || (b->man_usable && man_find(b, name)))
                        continue;
                fi.status = LS_BUNDLE_FILE_UNLISTED;
                if (fstatat(b->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                        fi.size = (uint64_t) st.st_size;
                else
                        fi.status = LS_BUNDLE_FILE_NOT_REGULAR;
                const char *type = file_type(b->dirfd, name),
                           *hint = fi.status != LS_BUNDLE_FILE_NOT_REGULAR ? "" :
                                   strcmp(type, "a directory") == 0 ?
                                   " (not followed: a bundle holds its files at its top level)" :
                                   " (not followed)";
                if (b->man_usable)
                        TAMPERED(b, "manifest unlisted", name, LS_UNSET, LS_UNSET,
                                 "%s in the bundle that the manifest does not list%s", type, hint);
                else if (fi.status == LS_BUNDLE_FILE_NOT_REGULAR)
                        TAMPERED(b, "bundle file type", name, LS_UNSET, LS_UNSET,
                                 "%s, not a regular file%s", type, hint);
                file_event(b, &fi);
        }
        if (errno)
                bundle_finding(b, LS_CLASS_IO, -errno, "read", NULL, LS_UNSET, LS_UNSET, LS_UNSET,
                               "cannot list the bundle directory: %s", strerror(errno));
        closedir(d);
}

void bundle_step_manifest(LsBundleReader *b)
{
        _cleanup_free_ char *text = NULL;
        struct stat st;
        int fd = open_file(b->dirfd, LS_BUNDLE_MANIFEST, &st), code, r;
        size_t findings_before = b->s->findings[LS_CLASS_TAMPERED] + b->s->findings[LS_CLASS_IO];

        if (fd < 0) {
                code = fd;
                if (fd == -ENOENT)
                        TAMPERED(b, "manifest", LS_BUNDLE_MANIFEST, LS_UNSET, LS_UNSET,
                                 "the bundle has no manifest: its files cannot be checked");
                else if (fd == -ELOOP)
                        TAMPERED(b, "bundle file type", LS_BUNDLE_MANIFEST, LS_UNSET, LS_UNSET,
                                 "%s, not a regular file: not followed",
                                 file_type(b->dirfd, LS_BUNDLE_MANIFEST));
                else
                        bundle_finding(b, LS_CLASS_IO, fd, "read", LS_BUNDLE_MANIFEST, LS_UNSET,
                                       LS_UNSET, LS_UNSET, "cannot open: %s", strerror(-fd));
                check_unlisted(b);
                return;
        }
        if ((uint64_t) st.st_size > LS_BUNDLE_MANIFEST_MAX) {
                close(fd);
                code = -E2BIG;
                TAMPERED(b, "manifest", LS_BUNDLE_MANIFEST, LS_BUNDLE_MANIFEST_MAX, LS_UNSET,
                         "%" PRIu64 " bytes, more than the limit of %u: not read",
                         (uint64_t) st.st_size, LS_BUNDLE_MANIFEST_MAX);
                check_unlisted(b);
                return;
        }
        text = malloc((size_t) st.st_size + 1);
        if (!text) {
                close(fd);
                bundle_finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                               LS_UNSET, "out of memory");
                return;
        }
        r = bundle_read_full(fd, text, (size_t) st.st_size);
        close(fd);
        if (r < 0 || (size_t) r != (size_t) st.st_size) {
                bundle_finding(b, LS_CLASS_IO, r < 0 ? r : -EIO, "read", LS_BUNDLE_MANIFEST,
                               LS_UNSET, LS_UNSET, LS_UNSET, "read error: %s",
                               r < 0 ? strerror(-r) : "short read");
                check_unlisted(b);
                return;
        }
        {
                LsBundleFile fi = {.name = LS_BUNDLE_MANIFEST, .status = LS_BUNDLE_FILE_MANIFEST,
                                   .size = (uint64_t) r, .have_hash = 1};
                ls_sha256(fi.sha256, text, (size_t) r);
                file_event(b, &fi);
        }
        b->man = calloc(LS_BUNDLE_MAX_FILES, sizeof(*b->man));
        if (!b->man) {
                bundle_finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                               LS_UNSET, "out of memory");
                return;
        }
        r = ls_bundle_manifest_parse(text, (size_t) st.st_size, man_line, man_bad, b);
        if (r == -E2BIG) {
                code = r;
                TAMPERED(b, "manifest", LS_BUNDLE_MANIFEST, LS_UNSET, LS_UNSET,
                         "more than %u lines", LS_BUNDLE_MAX_FILES);
        }
        b->s->files_listed = (uint32_t) b->nman;
        /* Sorted (and without repeats) for lookups, whatever the file's order was. */
        qsort(b->man, b->nman, sizeof(*b->man), man_cmp);
        for (size_t i = 1; i < b->nman;) {
                if (!strcmp(b->man[i].name, b->man[i - 1].name)) {
                        memmove(&b->man[i], &b->man[i + 1], (b->nman - i - 1) * sizeof(*b->man));
                        b->nman--;
                } else {
                        i++;
                }
        }
        b->man_usable = 1;
        for (size_t i = 0; i < b->nman; i++)
                check_listed_file(b, &b->man[i]);
        check_unlisted(b);
        b->s->manifest_ok = b->s->findings[LS_CLASS_TAMPERED] + b->s->findings[LS_CLASS_IO] ==
                            findings_before;
}

/* A bundle file that a later step needs; reports what step 1 did not already report. */
int bundle_open_required(LsBundleReader *b, int which, struct stat *st)
{
        const char *name = required_files[which];
        int fd = open_file(b->dirfd, name, st), code = fd;

        if (fd >= 0 || b->reported[which])
                return fd;
        b->reported[which] = 1;
        if (fd == -ENOENT)
                TAMPERED(b, "bundle file", name, LS_UNSET, LS_UNSET,
                         "%s is missing from the bundle", name);
        else if (fd == -ELOOP)
                TAMPERED(b, "bundle file type", name, LS_UNSET, LS_UNSET,
                         "%s, not a regular file: not followed", file_type(b->dirfd, name));
        else
                bundle_finding(b, LS_CLASS_IO, fd, "read", name, LS_UNSET, LS_UNSET, LS_UNSET,
                               "cannot open: %s", strerror(-fd));
        return fd;
}
