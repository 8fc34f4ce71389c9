/* SPDX-License-Identifier: Apache-2.0 */
/* bundle-reader.c: the bundle verification of SPEC §14.3, in bounded memory */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle-reader.h"
#include "control.h"
#include "hash.h"
#include "keys.h"
#include "magic.h"
#include "merkle.h"
#include "util.h"
#include "work-pool.h"

#define IOBUF_LEN 65536
#define MAX_KEY_SOURCES 64
#define NAME_MAX_LEN 255

typedef struct ManEntry {
        char name[NAME_MAX_LEN + 1];
        uint8_t hash[LS_HASH_LEN];
        uint64_t offset;            /* of its line in the manifest */
} ManEntry;

typedef struct KeySource {
        char *name;
        uint8_t *p;
        size_t n;
} KeySource;

/*
 * A certificate or revocation found in a key history, waiting for its issuer: where it is
 * (decoded again when used, so that a large history costs little memory) and its issuer.
 */
typedef struct KeyItem {
        const uint8_t *p;           /* into the source's bytes, len bytes, decoded once already */
        size_t len;
        uint64_t offset;
        const char *source;
        uint8_t issuer[LS_KEY_ID_LEN];
        uint8_t is_cert, is_close, oob, done;
} KeyItem;

/* The bundle's three evidence files: what step 1 already said about each. */
enum { F_EVIDENCE, F_CHECKPOINT, F_KEYS, F_COUNT };
static const char *const required_files[F_COUNT] = {LS_BUNDLE_EVIDENCE, LS_BUNDLE_CHECKPOINT,
                                                    LS_BUNDLE_KEYS};

typedef struct Stream {
        int fd;
        uint64_t off;               /* file offset of buf[pos] */
        uint64_t size;              /* from fstat at open */
        size_t pos, len;
        uint8_t *buf;               /* IOBUF_LEN */
} Stream;

struct LsBundleReader {
        LsBundleCallbacks cb;
        LsChainVerifier *v;
        KeySource srcs[MAX_KEY_SOURCES];
        size_t nsrcs;
        int used;

        const char *label;
        char fname[NAME_MAX_LEN + 4096 + 2];  /* label/name of the current finding */
        LsBundleSummary *s;
        int dirfd;

        ManEntry *man;              /* manifest lines, sorted by name after step 1 */
        size_t nman;
        int man_usable;             /* a manifest was read: unlisted files are findings */
        int reported[F_COUNT];      /* step 1 reported a problem with this file */

        int have_chain;             /* the chain the key material must belong to */
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        char cp_text[LS_MAX_CHECKPOINT_TEXT + 1];
        size_t cp_len;

        uint8_t *iobuf;             /* IOBUF_LEN */
        uint8_t *rec;               /* one record, grown up to LS_MAX_RECORD_LEN */
        size_t rec_cap;
        uint8_t proof[LS_BUNDLE_MAX_PROOF_LEN];
        struct Ahead *ahead;        /* entries hashed ahead on worker threads, or NULL */
};

/* ---- findings ---- */

static const char *file_label(LsBundleReader *b, const char *name)
{
        if (!name)
                return NULL;
        if (!b->label)
                return name;
        /* Out-of-band key files are named as given, not as files of the bundle. */
        for (size_t i = 0; i < b->nsrcs; i++)
                if (name == b->srcs[i].name)
                        return name;
        snprintf(b->fname, sizeof(b->fname), "%s/%s", b->label, name);
        return b->fname;
}

__attribute__((format(printf, 9, 10))) static void finding(LsBundleReader *b, LsClass cls, int code,
                                                          const char *check, const char *file,
                                                          uint64_t offset, uint64_t batch_no,
                                                          uint64_t seq, const char *fmt, ...)
{
        LsFinding f = {
                .cls = cls,
                .code = code,
                .check = check,
                .file = file_label(b, file),
                .offset = offset,
                .archive_no = LS_UNSET,
                .batch_no = batch_no,
                .seq = seq,
        };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(f.detail, sizeof(f.detail), fmt, ap);
        va_end(ap);
        b->s->findings[cls]++;
        if (b->cb.finding)
                b->cb.finding(b->cb.userdata, &f);
}

#define TAMPERED(b, check, file, off, seq, ...)                                                   \
        finding(b, LS_CLASS_TAMPERED, code, check, file, off, LS_UNSET, seq, __VA_ARGS__)

static const char *errname(int code)
{
        switch (-code) {
        case ENODATA:
                return "truncated";
        case E2BIG:
                return "a length above its maximum";
        case EBADMSG:
                return "malformed";
        case EPROTONOSUPPORT:
                return "unknown version or incompatible flag";
        case EILSEQ:
                return "hash mismatch";
        case EKEYREJECTED:
                return "signature or key rejected";
        default:
                return strerror(-code);
        }
}

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

static int read_full(int fd, void *p, size_t n)
{
        size_t got = 0;

        while (got < n) {
                ssize_t k = read(fd, (uint8_t *) p + got, n - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                got += (size_t) k;
        }
        return (int) MIN(got, (size_t) INT32_MAX);
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
                        finding(b, LS_CLASS_IO, fd, "read", e->name, LS_UNSET, LS_UNSET, LS_UNSET,
                                "cannot open: %s", strerror(-fd));
                }
                file_event(b, &fi);
                return;
        }
        r = hash_fd(b, fd, fi.sha256, &fi.size);
        close(fd);
        if (r < 0) {
                fi.status = LS_BUNDLE_FILE_UNREADABLE;
                fi.size = LS_UNSET;
                finding(b, LS_CLASS_IO, r, "read", e->name, LS_UNSET, LS_UNSET, LS_UNSET,
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
                finding(b, LS_CLASS_IO, -errno, "read", NULL, LS_UNSET, LS_UNSET, LS_UNSET,
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
                finding(b, LS_CLASS_IO, -errno, "read", NULL, LS_UNSET, LS_UNSET, LS_UNSET,
                        "cannot list the bundle directory: %s", strerror(errno));
        closedir(d);
}

static void step_manifest(LsBundleReader *b)
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
                        finding(b, LS_CLASS_IO, fd, "read", LS_BUNDLE_MANIFEST, LS_UNSET, LS_UNSET,
                                LS_UNSET, "cannot open: %s", strerror(-fd));
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
                finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET, LS_UNSET,
                        "out of memory");
                return;
        }
        r = read_full(fd, text, (size_t) st.st_size);
        close(fd);
        if (r < 0 || (size_t) r != (size_t) st.st_size) {
                finding(b, LS_CLASS_IO, r < 0 ? r : -EIO, "read", LS_BUNDLE_MANIFEST, LS_UNSET,
                        LS_UNSET, LS_UNSET, "read error: %s", r < 0 ? strerror(-r) : "short read");
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
                finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET, LS_UNSET,
                        "out of memory");
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
static int open_required(LsBundleReader *b, int which, struct stat *st)
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
                finding(b, LS_CLASS_IO, fd, "read", name, LS_UNSET, LS_UNSET, LS_UNSET,
                        "cannot open: %s", strerror(-fd));
        return fd;
}

/* ---- step 2: checkpoint and evidence header ---- */

static void step_checkpoint(LsBundleReader *b)
{
        LsBundleSummary *s = b->s;
        struct stat st;
        size_t off = 0;
        int fd = open_required(b, F_CHECKPOINT, &st), code, r;

        if (fd < 0)
                return;
        if ((uint64_t) st.st_size > LS_MAX_CHECKPOINT_TEXT) {
                close(fd);
                code = -E2BIG;
                TAMPERED(b, "checkpoint", LS_BUNDLE_CHECKPOINT, LS_MAX_CHECKPOINT_TEXT, LS_UNSET,
                         "%" PRIu64 " bytes, more than a checkpoint's limit of %u",
                         (uint64_t) st.st_size, LS_MAX_CHECKPOINT_TEXT);
                return;
        }
        r = read_full(fd, b->cp_text, (size_t) st.st_size);
        close(fd);
        if (r < 0 || (size_t) r != (size_t) st.st_size) {
                finding(b, LS_CLASS_IO, r < 0 ? r : -EIO, "read", LS_BUNDLE_CHECKPOINT, LS_UNSET,
                        LS_UNSET, LS_UNSET, "read error: %s", r < 0 ? strerror(-r) : "short read");
                return;
        }
        b->cp_len = (size_t) r;
        b->cp_text[b->cp_len] = 0;
        code = ls_checkpoint_parse(&s->checkpoint, b->cp_text, b->cp_len, &off);
        if (code < 0) {
                TAMPERED(b, "checkpoint", LS_BUNDLE_CHECKPOINT, off, LS_UNSET,
                         "not a valid signed checkpoint (SPEC §7.2): %s at byte %zu",
                         errname(code), off);
                return;
        }
        if (!s->checkpoint.has_batch) {
                code = -EBADMSG;
                TAMPERED(b, "checkpoint", LS_BUNDLE_CHECKPOINT, 0, LS_UNSET,
                         "the checkpoint has no logseal-batch-v1 line (SPEC §14)");
                return;
        }
        s->checkpoint_parsed = 1;
}

static int stream_fill(Stream *st)
{
        for (;;) {
                ssize_t k = read(st->fd, st->buf, IOBUF_LEN);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                st->pos = 0;
                st->len = (size_t) k;
                return k > 0;
        }
}

/* Reads exactly n bytes: n, fewer at the end of the file, or -errno. */
static ssize_t stream_read(Stream *st, void *dst, size_t n)
{
        size_t got = 0;

        while (got < n) {
                if (st->pos == st->len) {
                        int r = stream_fill(st);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                break;
                }
                size_t k = MIN(n - got, st->len - st->pos);
                memcpy((uint8_t *) dst + got, st->buf + st->pos, k);
                st->pos += k;
                st->off += k;
                got += k;
        }
        return (ssize_t) got;
}

static void step_header(LsBundleReader *b, Stream *st)
{
        LsBundleSummary *s = b->s;
        uint8_t hdr[LS_BUNDLE_HEADER_LEN];
        ssize_t k;
        int code;

        k = stream_read(st, hdr, sizeof(hdr));
        if (k < 0) {
                finding(b, LS_CLASS_IO, (int) k, "read", LS_BUNDLE_EVIDENCE, 0, LS_UNSET, LS_UNSET,
                        "read error: %s", strerror((int) -k));
                return;
        }
        code = ls_bundle_header_decode(&s->header, hdr, (size_t) k);
        if (code < 0) {
                TAMPERED(b, "bundle header", LS_BUNDLE_EVIDENCE, 0, LS_UNSET,
                         "the evidence.lsb header (SPEC §14.1) is %s%s", errname(code),
                         code == -ENODATA ? "" :
                         code == -E2BIG   ? " (record_count)" :
                                            " (magic, size, reserved fields, or sequence numbers "
                                            "outside the tree)");
                return;
        }
        s->header_ok = 1;
        if (ls_get16(hdr + 14) != 0)
                finding(b, LS_CLASS_NOTE, 0, "bundle header", LS_BUNDLE_EVIDENCE, 14, LS_UNSET,
                        LS_UNSET, "compat_flags 0x%04x set; ignored (SPEC §1)", ls_get16(hdr + 14));
}

static void step_agree(LsBundleReader *b)
{
        LsBundleSummary *s = b->s;
        char h1[2 * LS_CHAIN_ID_LEN + 1], h2[2 * LS_CHAIN_ID_LEN + 1];
        int code = -EBADMSG, ok = 1;

        if (s->checkpoint_parsed) {
                memcpy(b->chain_id, s->checkpoint.chain_id, LS_CHAIN_ID_LEN);
                b->have_chain = 1;
                ls_trust_set_chain(ls_chain_verifier_trust(b->v), b->chain_id);
        } else if (s->header_ok) {
                memcpy(b->chain_id, s->header.chain_id, LS_CHAIN_ID_LEN);
                b->have_chain = 1;
                ls_trust_set_chain(ls_chain_verifier_trust(b->v), b->chain_id);
        }
        if (!s->checkpoint_parsed || !s->header_ok)
                return;
        if (memcmp(s->header.chain_id, s->checkpoint.chain_id, LS_CHAIN_ID_LEN) != 0) {
                ls_hex(h1, s->header.chain_id, LS_CHAIN_ID_LEN);
                ls_hex(h2, s->checkpoint.chain_id, LS_CHAIN_ID_LEN);
                TAMPERED(b, "chain id", LS_BUNDLE_EVIDENCE, 16, LS_UNSET,
                         "evidence.lsb names chain %s, the checkpoint chain %s", h1, h2);
                ok = 0;
        }
        if (s->header.tree_size != s->checkpoint.tree_size) {
                TAMPERED(b, "tree size", LS_BUNDLE_EVIDENCE, 32, LS_UNSET,
                         "evidence.lsb says tree size %" PRIu64 ", the checkpoint %" PRIu64,
                         s->header.tree_size, s->checkpoint.tree_size);
                ok = 0;
        }
        s->chain_agrees = ok;
}

/* ---- step 3: key material ---- */

typedef struct KeyCtx {
        KeyItem *items;
        size_t n, cap;
} KeyCtx;

static int push_item(KeyCtx *k, const KeyItem *it)
{
        if (k->n == k->cap) {
                size_t cap = k->cap ? 2 * k->cap : 16;
                KeyItem *q = realloc(k->items, cap * sizeof(*q));
                if (!q)
                        return -ENOMEM;
                k->items = q;
                k->cap = cap;
        }
        k->items[k->n++] = *it;
        return 0;
}

/* Problems with key material: keys.lsk is evidence (tampered), --keys is input (error). */
static LsClass key_class(int oob)
{
        return oob ? LS_CLASS_IO : LS_CLASS_TAMPERED;
}

/*
 * Splits a key history (SPEC §10.3) into certificates and revocations. Unknown bytes make
 * the whole file invalid: then nothing of it is used.
 */
static int parse_history(LsBundleReader *b, KeyCtx *k, const char *source, const char *file,
                         const uint8_t *p, size_t n, int oob)
{
        size_t off = 0, first = k->n;
        const char *what = NULL;
        int code = 0;

        while (off < n) {
                KeyItem it = {.oob = oob, .source = source, .offset = off, .p = p + off};
                LsCert cert;
                LsRevocation rev;
                size_t len;

                if (n - off < LS_MAGIC_LEN + 4) {
                        code = -ENODATA;
                        what = "a truncated structure";
                        break;
                }
                if (ls_magic_check(p + off, LS_MAGIC_CERT)) {
                        len = LS_CERT_LEN;
                        if (n - off < len) {
                                code = -ENODATA;
                                what = "a truncated certificate";
                                break;
                        }
                        code = ls_cert_decode(&cert, p + off, len);
                        if (code < 0) {
                                what = "a malformed certificate";
                                break;
                        }
                        it.is_cert = 1;
                        memcpy(it.issuer, cert.issuer_key_id, LS_KEY_ID_LEN);
                } else if (ls_magic_check(p + off, LS_MAGIC_REVOCATION)) {
                        len = LS_REVOCATION_FIXED_LEN + ls_get16(p + off + 10);
                        if (len > n - off) {
                                code = -ENODATA;
                                what = "a truncated revocation";
                                break;
                        }
                        code = ls_revocation_decode(&rev, p + off, len);
                        if (code < 0) {
                                what = "a malformed revocation";
                                break;
                        }
                        memcpy(it.issuer, rev.issuer_key_id, LS_KEY_ID_LEN);
                } else if (ls_magic_check(p + off, LS_MAGIC_CLOSE)) {
                        LsEpochClose cl;
                        len = LS_CLOSE_LEN;
                        if (n - off < len) {
                                code = -ENODATA;
                                what = "a truncated epoch close";
                                break;
                        }
                        code = ls_close_decode(&cl, p + off, len);
                        if (code < 0) {
                                what = "a malformed epoch close";
                                break;
                        }
                        it.is_close = 1;
                        memcpy(it.issuer, cl.issuer_key_id, LS_KEY_ID_LEN);
                } else {
                        code = -EBADMSG;
                        what = "bytes that are neither a certificate, a revocation nor an epoch "
                               "close";
                        break;
                }
                it.len = len;
                if (push_item(k, &it) < 0) {
                        finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                                LS_UNSET, "out of memory");
                        k->n = first;
                        return -ENOMEM;
                }
                off += len;
        }
        if (what) {
                k->n = first;
                finding(b, key_class(oob), code, "key history", file, off, LS_UNSET, LS_UNSET,
                        "%s at byte %zu (SPEC §10.3): the whole file is invalid and none of its "
                        "keys is used",
                        what, off);
                return -EBADMSG;
        }
        return 0;
}

static int issuer_cmp(const void *x, const void *y)
{
        const KeyItem *a = *(KeyItem *const *) x, *c = *(KeyItem *const *) y;
        int k = memcmp(a->issuer, c->issuer, LS_KEY_ID_LEN);

        if (k)
                return k;
        /* Stable: file order among the certificates of one issuer. */
        return a < c ? -1 : a > c;
}

static void report_cert(LsBundleReader *b, const KeyItem *it, const LsCert *c, int r)
{
        char id[2 * LS_KEY_ID_LEN + 1], iss[2 * LS_KEY_ID_LEN + 1];

        ls_hex(id, c->key_id, LS_KEY_ID_LEN);
        ls_hex(iss, c->issuer_key_id, LS_KEY_ID_LEN);
        b->s->keys_rejected++;
        finding(b, key_class(it->oob), r == -ENOKEY ? -EKEYREJECTED : r, "key certificate",
                it->oob ? it->source : LS_BUNDLE_KEYS, it->offset, LS_UNSET, LS_UNSET,
                r == -ENOKEY ?
                        "certificate of key %s (epoch %" PRIu64 "): its issuer %s is not "
                        "certified from the root key" :
                        "certificate of key %s (epoch %" PRIu64 ") issued by %s does not verify "
                        "or breaks the trust rules of SPEC §9.3",
                id, c->epoch, iss);
}

/* Decoding succeeded once already (parse_history) on the same private copy of the bytes. */
static void item_cert(const KeyItem *it, LsCert *c)
{
        if (ls_cert_decode(c, it->p, it->len) < 0)
                memset(c, 0, sizeof(*c)); /* not reached; a zero certificate is rejected */
}

static void item_rev(const KeyItem *it, LsRevocation *rv)
{
        if (ls_revocation_decode(rv, it->p, it->len) < 0)
                memset(rv, 0, sizeof(*rv)); /* not reached; a zero revocation is rejected */
}

static void step_keys(LsBundleReader *b)
{
        LsBundleSummary *s = b->s;
        _cleanup_free_ uint8_t *keys = NULL;
        _cleanup_free_ KeyItem **by_issuer = NULL;
        _cleanup_free_ uint8_t(*queue)[LS_KEY_ID_LEN] = NULL;
        KeyCtx k = {};
        size_t nkeys = 0, ncerts = 0, qn = 0, qhead = 0;
        const LsKeyInfo *known;
        struct stat st;
        int fd, code;

        for (size_t i = 0; i < b->nsrcs; i++)
                (void) parse_history(b, &k, b->srcs[i].name, b->srcs[i].name, b->srcs[i].p,
                                     b->srcs[i].n, 1);
        fd = open_required(b, F_KEYS, &st);
        if (fd >= 0) {
                if ((uint64_t) st.st_size > LS_BUNDLE_KEYS_MAX) {
                        code = -E2BIG;
                        TAMPERED(b, "key history", LS_BUNDLE_KEYS, LS_BUNDLE_KEYS_MAX, LS_UNSET,
                                 "%" PRIu64 " bytes, more than the limit of %u: not read",
                                 (uint64_t) st.st_size, LS_BUNDLE_KEYS_MAX);
                } else if (!(keys = malloc((size_t) st.st_size + 1))) {
                        finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                                LS_UNSET, "out of memory");
                } else {
                        int r = read_full(fd, keys, (size_t) st.st_size);
                        if (r < 0 || (size_t) r != (size_t) st.st_size)
                                finding(b, LS_CLASS_IO, r < 0 ? r : -EIO, "read", LS_BUNDLE_KEYS,
                                        LS_UNSET, LS_UNSET, LS_UNSET, "read error: %s",
                                        r < 0 ? strerror(-r) : "short read");
                        else
                                nkeys = (size_t) r;
                }
                close(fd);
                if (keys && nkeys)
                        (void) parse_history(b, &k, LS_BUNDLE_KEYS, LS_BUNDLE_KEYS, keys, nkeys,
                                             0);
        }

        /* Key material of other chains is not trust material for this one. */
        for (size_t i = 0; i < k.n; i++) {
                KeyItem *it = &k.items[i];
                char hex[2 * LS_CHAIN_ID_LEN + 1];
                const uint8_t *cid;
                LsRevocation rv;
                LsCert c;

                LsEpochClose cl;
                if (it->is_cert) {
                        item_cert(it, &c);
                        cid = c.chain_id;
                } else if (it->is_close) {
                        if (ls_close_decode(&cl, it->p, it->len) < 0)
                                memset(&cl, 0, sizeof(cl));
                        cid = cl.chain_id;
                } else {
                        item_rev(it, &rv);
                        cid = rv.chain_id;
                }
                if (!b->have_chain || (it->is_cert && c.kind == LS_CERT_ROOT) ||
                    memcmp(cid, b->chain_id, LS_CHAIN_ID_LEN) == 0)
                        continue;
                it->done = 1;
                ls_hex(hex, cid, LS_CHAIN_ID_LEN);
                if (it->oob) {
                        finding(b, LS_CLASS_NOTE, 0, it->is_cert ? "key certificate" : "revocation",
                                it->source, it->offset, LS_UNSET, LS_UNSET,
                                "%s for chain %s, not this bundle's chain: ignored",
                                it->is_cert ? "certificate" : "revocation", hex);
                } else {
                        s->keys_rejected++;
                        code = -EKEYREJECTED;
                        TAMPERED(b, it->is_cert ? "key certificate" : "revocation", LS_BUNDLE_KEYS,
                                 it->offset, LS_UNSET,
                                 "%s for chain %s, not this bundle's chain",
                                 it->is_cert ? "certificate" : "revocation", hex);
                }
        }

        /*
         * Certificates in any order (SPEC §14.3 step 3): breadth first from the trusted keys,
         * each certificate tried once, when its issuer has become trusted.
         */
        for (size_t i = 0; i < k.n; i++)
                ncerts += k.items[i].is_cert && !k.items[i].done;
        by_issuer = calloc(ncerts ? ncerts : 1, sizeof(*by_issuer));
        size_t nknown = ls_chain_verifier_keys(b->v, &known);
        queue = calloc(ncerts + nknown + 1, sizeof(*queue));
        if (!by_issuer || !queue) {
                finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET, LS_UNSET,
                        "out of memory");
                free(k.items);
                return;
        }
        ncerts = 0;
        for (size_t i = 0; i < k.n; i++)
                if (k.items[i].is_cert && !k.items[i].done)
                        by_issuer[ncerts++] = &k.items[i];
        qsort(by_issuer, ncerts, sizeof(*by_issuer), issuer_cmp);
        for (size_t i = 0; i < nknown; i++)
                memcpy(queue[qn++], known[i].key_id, LS_KEY_ID_LEN);
        while (qhead < qn) {
                const uint8_t *id = queue[qhead++];
                size_t lo = 0, hi = ncerts;

                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (memcmp(by_issuer[mid]->issuer, id, LS_KEY_ID_LEN) < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                for (; lo < ncerts && memcmp(by_issuer[lo]->issuer, id, LS_KEY_ID_LEN) == 0;
                     lo++) {
                        KeyItem *it = by_issuer[lo];
                        LsCert c;
                        int r;

                        if (it->done)
                                continue;
                        it->done = 1;
                        item_cert(it, &c);
                        /* an investigator's item or the bundle's own (ls_trust_conflict) */
                        ls_trust_from_history(ls_chain_verifier_trust(b->v), it->oob);
                        r = ls_chain_verifier_add_cert(b->v, &c, it->source);
                        ls_trust_from_history(ls_chain_verifier_trust(b->v), 0);
                        if (r < 0) {
                                report_cert(b, it, &c, r);
                                continue;
                        }
                        s->keys_accepted++;
                        if (it->oob)
                                ls_trust_mark_in_history(ls_chain_verifier_trust(b->v), c.key_id);
                        memcpy(queue[qn++], c.key_id, LS_KEY_ID_LEN);
                }
        }
        for (size_t i = 0; i < ncerts; i++)
                if (!by_issuer[i]->done) {
                        LsCert c;
                        item_cert(by_issuer[i], &c);
                        /* offered once more: a root certificate naming the anchor is noted */
                        (void) ls_chain_verifier_add_cert(b->v, &c, by_issuer[i]->source);
                        report_cert(b, by_issuer[i], &c, -ENOKEY);
                }

        /* Revocations last: their issuers are roots, possibly rotated in above. */
        for (size_t i = 0; i < k.n; i++) {
                KeyItem *it = &k.items[i];
                char id[2 * LS_KEY_ID_LEN + 1];
                LsRevocation rv;
                int r;

                if (it->is_cert || it->is_close || it->done)
                        continue;
                item_rev(it, &rv);
                r = ls_chain_verifier_add_revocation(b->v, &rv, it->source);
                if (r == 0) {
                        s->keys_accepted++;
                        continue;
                }
                s->keys_rejected++;
                ls_hex(id, rv.revoked_key_id, LS_KEY_ID_LEN);
                finding(b, key_class(it->oob), r == -ENOKEY ? -EKEYREJECTED : r, "revocation",
                        it->oob ? it->source : LS_BUNDLE_KEYS, it->offset, LS_UNSET, LS_UNSET,
                        "revocation of key %s is not signed by a root key certified from the "
                        "trusted root",
                        id);
        }

        /* Epoch closes: signed by successors, so after every certificate (SPEC §9.4). */
        for (size_t i = 0; i < k.n; i++) {
                KeyItem *it = &k.items[i];
                LsEpochClose cl;
                const char *why = NULL;
                int r;

                if (!it->is_close || it->done)
                        continue;
                if (ls_close_decode(&cl, it->p, it->len) < 0)
                        continue;
                ls_trust_from_history(ls_chain_verifier_trust(b->v), it->oob);
                r = ls_trust_add_close(ls_chain_verifier_trust(b->v), &cl, &why);
                ls_trust_from_history(ls_chain_verifier_trust(b->v), 0);
                if (r == 0) {
                        s->keys_accepted++;
                        continue;
                }
                s->keys_rejected++;
                /* Two closes that disagree: a key was misused, whichever file brought it. */
                finding(b, r == -EILSEQ ? LS_CLASS_TAMPERED : key_class(it->oob),
                        r == -ENOKEY ? -EKEYREJECTED : r, "epoch close",
                        it->oob ? it->source : LS_BUNDLE_KEYS, it->offset, LS_UNSET, LS_UNSET,
                        "close of epoch %" PRIu64 " is not acceptable: %s", cl.closed_epoch,
                        why ? why : "rejected");
        }
        free(k.items);
}

/* ---- step 4: the checkpoint's signature ---- */

static void step_signature(LsBundleReader *b)
{
        LsBundleSummary *s = b->s;
        const LsCheckpoint *cp = &s->checkpoint;
        LsTrustDecision d;
        char id[2 * LS_KEY_ID_LEN + 1];

        if (!s->checkpoint_parsed)
                return;
        /* SPEC §9.3: the one trust decision for checkpoints, as in every other mode. */
        ls_trust_check_checkpoint(ls_chain_verifier_trust(b->v), cp, b->cp_text, &d);
        if (d.key) {
                s->have_signer = 1;
                s->signer = *d.key;
                ls_hex(id, d.key->key_id, LS_KEY_ID_LEN);
        }
        switch (d.result) {
        case LS_TRUST_OK:
                s->checkpoint_verified = 1;
                s->checkpoint_unbound = d.unbound;
                s->signer_epoch_ended = ls_trust_epoch_ended(ls_chain_verifier_trust(b->v), d.key);
                if (d.unbound)
                        finding(b, LS_CLASS_PARTIAL, 0, "epoch close", LS_BUNDLE_CHECKPOINT,
                                LS_UNSET, cp->batch_no, LS_UNSET,
                                "the checkpoint was signed by the key of epoch %" PRIu64
                                ", which has ended, and nothing you supplied proves it was made "
                                "before the end (%s): a holder of that erased key could have "
                                "made it",
                                d.key->epoch,
                                ls_trust_close(ls_chain_verifier_trust(b->v), d.key->chain_id,
                                               d.key->epoch) ?
                                        "it is not the tree head the epoch's signed close names" :
                                (d.key->cert_flags & LS_CERT_F_CLOSED) ?
                                        "the epoch's signed close is missing" :
                                        "a format-1 epoch has no signed close");
                break;
        case LS_TRUST_REVOKED:
                s->checkpoint_verified = 1;
                finding(b, LS_CLASS_REVOKED, -EKEYREJECTED, "revoked", LS_BUNDLE_CHECKPOINT,
                        LS_UNSET, cp->batch_no, LS_UNSET,
                        "signed by key %s (epoch %" PRIu64 "), which a root revocation covers "
                        "(a checkpoint carries no batch time: a time-based revocation is taken "
                        "to cover it)",
                        id, d.key->epoch);
                break;
        case LS_TRUST_UNKNOWN_KEY:
                finding(b, LS_CLASS_TAMPERED, -EKEYREJECTED, "checkpoint key", LS_BUNDLE_CHECKPOINT,
                        LS_UNSET, cp->batch_no, LS_UNSET,
                        "not signed by any key certified from the root key for this chain "
                        "(keys.lsk must hold the certificates from the root to the signing key)");
                break;
        case LS_TRUST_BAD_SIGNATURE:
                finding(b, LS_CLASS_TAMPERED, -EKEYREJECTED, "checkpoint signature",
                        LS_BUNDLE_CHECKPOINT, LS_UNSET, cp->batch_no, LS_UNSET,
                        "the signature line of key %s does not verify over the checkpoint", id);
                break;
        case LS_TRUST_DENIED:
        case LS_TRUST_AFTER_CLOSE:
        case LS_TRUST_NOT_EVIDENCE:
                finding(b, LS_CLASS_TAMPERED, -EKEYREJECTED,
                        d.result == LS_TRUST_AFTER_CLOSE ? "epoch close" : "checkpoint key",
                        LS_BUNDLE_CHECKPOINT, LS_UNSET, cp->batch_no, LS_UNSET,
                        "signed by key %s (epoch %" PRIu64 "), which may not sign batch %" PRIu64
                        ": %s",
                        id, d.key ? d.key->epoch : 0, cp->batch_no, d.why);
                break;
        }
}

/* ---- steps 5 and 6: the entries and the custody record ---- */

static void copy_text(LsBundleText *t, const LsControl *c, uint16_t tag)
{
        const uint8_t *v;
        uint16_t len;

        if (!ls_control_get(c, tag, &v, &len))
                return;
        t->present = 1;
        t->len = MIN(len, (uint16_t) LS_BUNDLE_TEXT_MAX);
        memcpy(t->p, v, t->len);
}

static void step_custody(LsBundleReader *b, const LsRecord *rec, uint64_t off)
{
        LsBundleSummary *s = b->s;
        char h1[2 * LS_HASH_LEN + 1], h2[2 * LS_HASH_LEN + 1];
        const uint8_t *v;
        uint16_t vlen;
        uint64_t x;
        LsControl c;
        size_t coff = 0;
        int code = -EBADMSG, ok = 1;

        s->have_custody = 1;
        s->custody_time_ns = rec->time_ns;
        if (rec->type != LS_REC_CONTROL) {
                TAMPERED(b, "custody record", LS_BUNDLE_EVIDENCE, off, rec->seq,
                         "the last entry (record %" PRIu64 ") is a syslog message, not a custody "
                         "record",
                         rec->seq);
                return;
        }
        code = ls_control_decode(&c, rec->body, rec->body_len, &coff);
        if (code < 0) {
                TAMPERED(b, "custody record", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN + coff,
                         rec->seq, "control record malformed at body offset %zu: %s", coff,
                         errname(code));
                return;
        }
        code = -EBADMSG;
        if (c.type != LS_CTL_CUSTODY) {
                TAMPERED(b, "custody record", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN,
                         rec->seq, "the last entry is a %s record, not a custody record",
                         ls_control_type_name(c.type));
                return;
        }
        copy_text(&s->case_id, &c, LS_TAG_CASE_ID);
        copy_text(&s->examiner, &c, LS_TAG_EXAMINER);
        copy_text(&s->filter, &c, LS_TAG_FILTER);
        copy_text(&s->text, &c, LS_TAG_TEXT);
        if (ls_control_get_u64(&c, LS_TAG_ACTION, &x)) {
                s->have_action = 1;
                s->action = (uint16_t) x;
        }
        if (ls_control_get_u64(&c, LS_TAG_COUNT, &x)) {
                s->have_count = 1;
                s->count = x;
        }
        if (ls_control_get(&c, LS_TAG_MANIFEST_HASH, &v, &vlen) && vlen == LS_HASH_LEN) {
                s->have_manifest_hash = 1;
                memcpy(s->manifest_hash, v, LS_HASH_LEN);
        }
        if (!s->have_action || s->action != LS_CUSTODY_EXPORT) {
                TAMPERED(b, "custody action", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN,
                         rec->seq, "the custody record's action is %s, not export",
                         s->have_action ? ls_custody_action_name(s->action) : "missing");
                ok = 0;
        }
        if (!s->have_count) {
                TAMPERED(b, "custody count", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN,
                         rec->seq, "the custody record has no COUNT");
                ok = 0;
        } else if (s->count != s->header.record_count) {
                TAMPERED(b, "custody count", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN,
                         rec->seq,
                         "the custody record counts %" PRIu64 " exported records, the bundle "
                         "discloses %" PRIu32 ": records were removed or added",
                         s->count, s->header.record_count);
                ok = 0;
        }
        if (!s->have_manifest_hash) {
                TAMPERED(b, "selection hash", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN,
                         rec->seq, "the custody record has no MANIFEST_HASH (selection hash)");
                ok = 0;
        } else if (s->selection_complete) {
                s->selection_ok = ls_hash_equal(s->selection, s->manifest_hash);
                if (!s->selection_ok) {
                        ls_hex(h1, s->selection, LS_HASH_LEN);
                        ls_hex(h2, s->manifest_hash, LS_HASH_LEN);
                        code = -EILSEQ;
                        TAMPERED(b, "selection hash", LS_BUNDLE_EVIDENCE,
                                 off + LS_RECORD_FIXED_LEN, rec->seq,
                                 "the disclosed records are not the exported ones (removed, "
                                 "added, swapped or reordered): selection %s, custody record %s",
                                 h1, h2);
                        ok = 0;
                }
        } else {
                ok = 0;
        }
        s->custody_ok = ok && s->custody_proof_ok;
}

static int grow_record(LsBundleReader *b, size_t n)
{
        uint8_t *q;

        if (n <= b->rec_cap)
                return 0;
        q = realloc(b->rec, n);
        if (!q)
                return -ENOMEM;
        b->rec = q;
        b->rec_cap = n;
        return 0;
}

/*
 * ---- entries ahead: leaves and inclusion proofs on worker threads ----
 *
 * The entries pass below stays as it is, in order, on this thread. Before it reaches a
 * window of entries, the window is read once more (pread, structure only), and workers
 * compute each entry's leaf hash and inclusion-proof result, pure functions of the entry's
 * bytes, the tree size and the checkpoint root. The pass takes a result only for the same
 * bytes at the same offset (compared), and computes it itself otherwise: findings are the
 * same with or without threads.
 */
#define AHEAD_MAX_ENTRIES 4096
#define AHEAD_BYTES ((size_t) 4 << 20)
#define AHEAD_NOT_RUN 1 /* incl: the worker did not verify the proof */

typedef struct AheadEntry {
        uint64_t off;      /* file offset of the entry */
        LsBundleEntry e;
        size_t data;       /* record ‖ proof in bytes[] */
        uint8_t leaf[LS_HASH_LEN];
        int incl;          /* ls_verify_inclusion(), or AHEAD_NOT_RUN */
} AheadEntry;

typedef struct AheadJob {
        LsPoolJob pj;
        struct Ahead *a;
        size_t from, to;
} AheadJob;

typedef struct Ahead {
        LsPool *pool;
        uint64_t first, stalled; /* entry index of ent[0]; index where a fill found none */
        size_t n;
        uint64_t tree_size;
        const uint8_t *root;     /* NULL: the proofs are not checked */
        AheadEntry ent[AHEAD_MAX_ENTRIES];
        AheadJob jobs[64];
        uint8_t *bytes;          /* AHEAD_BYTES */
} Ahead;

static void ahead_job(LsPoolJob *pj)
{
        AheadJob *j = (AheadJob *) pj;
        Ahead *a = j->a;

        for (size_t x = j->from; x < j->to; x++) {
                AheadEntry *ae = &a->ent[x];
                const uint8_t *rec = a->bytes + ae->data;
                LsProof p;

                ls_leaf_hash(ae->leaf, ae->e.salt, rec, ae->e.record_len);
                ae->incl = AHEAD_NOT_RUN;
                if (a->root && ls_proof_decode(&p, rec + ae->e.record_len, ae->e.proof_len) == 0 &&
                    p.kind == LS_PROOF_INCLUSION && p.a == ae->e.seq && p.b == a->tree_size)
                        ae->incl = ls_verify_inclusion(ae->e.seq, a->tree_size, ae->leaf,
                                                       (const uint8_t(*)[LS_HASH_LEN]) p.path,
                                                       p.count, a->root);
        }
}

/* Reads and hashes the entries from index i at file offset off (at most `left` entries). */
static void ahead_fill(Ahead *a, const Stream *st, uint64_t i, uint64_t off, uint64_t left)
{
        size_t want = (size_t) MIN((uint64_t) AHEAD_BYTES, st->size > off ? st->size - off : 0);
        size_t got = 0, pos = 0;
        unsigned njobs, threads = ls_pool_threads(a->pool);

        a->first = i;
        a->n = 0;
        while (got < want) {
                ssize_t k = pread(st->fd, a->bytes + got, want - got, (off_t) (off + got));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                got += (size_t) k;
        }
        while (a->n < AHEAD_MAX_ENTRIES && a->n < left && got - pos >= LS_BUNDLE_ENTRY_FIXED_LEN) {
                AheadEntry *ae = &a->ent[a->n];
                if (ls_bundle_entry_decode(&ae->e, a->bytes + pos, LS_BUNDLE_ENTRY_FIXED_LEN) < 0 ||
                    (uint64_t) ae->e.record_len + ae->e.proof_len >
                            got - pos - LS_BUNDLE_ENTRY_FIXED_LEN)
                        break;
                ae->off = off + pos;
                ae->data = pos + LS_BUNDLE_ENTRY_FIXED_LEN;
                pos = ae->data + ae->e.record_len + ae->e.proof_len;
                a->n++;
        }
        if (a->n == 0) {
                a->stalled = i;
                return;
        }
        njobs = (unsigned) MIN((size_t) 2 * threads, (a->n + 31) / 32);
        njobs = MAX(njobs, 1u);
        for (unsigned x = 0; x < njobs; x++) {
                AheadJob *j = &a->jobs[x];
                j->pj.run = ahead_job;
                j->a = a;
                j->from = a->n * x / njobs;
                j->to = a->n * (x + 1) / njobs;
                ls_pool_submit(a->pool, &j->pj);
        }
        for (unsigned x = 0; x < njobs; x++)
                ls_pool_wait(a->pool, &a->jobs[x].pj);
}

/* The result for entry i at off with these bytes, or NULL: compute it here. */
static const AheadEntry *ahead_get(LsBundleReader *b, const Stream *st, uint64_t i, uint64_t off,
                                   uint64_t left, const LsBundleEntry *e)
{
        Ahead *a = b->ahead;
        const AheadEntry *ae;

        if (!a)
                return NULL;
        if (i < a->first || i >= a->first + a->n) {
                if (i == a->stalled)
                        return NULL;
                ahead_fill(a, st, i, off, left);
                if (a->n == 0)
                        return NULL;
        }
        ae = &a->ent[i - a->first];
        if (ae->off != off || ae->e.record_len != e->record_len ||
            ae->e.proof_len != e->proof_len || ae->e.seq != e->seq ||
            memcmp(ae->e.salt, e->salt, LS_SALT_LEN) != 0 ||
            memcmp(a->bytes + ae->data, b->rec, e->record_len) != 0 ||
            memcmp(a->bytes + ae->data + e->record_len, b->proof, e->proof_len) != 0)
                return NULL; /* the file changed between the two reads */
        return ae;
}

int ls_bundle_reader_set_jobs(LsBundleReader *b, unsigned jobs)
{
        Ahead *a;
        int r;

        if (jobs == 0)
                jobs = ls_online_cpus();
        if (b->ahead) {
                ls_pool_free(b->ahead->pool);
                free(b->ahead->bytes);
                free(b->ahead);
                b->ahead = NULL;
        }
        if (jobs <= 1)
                return 0;
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->bytes = malloc(AHEAD_BYTES);
        r = a->bytes ? ls_pool_new(&a->pool, jobs) : -ENOMEM;
        if (r < 0) {
                free(a->bytes);
                free(a);
                return r;
        }
        a->stalled = UINT64_MAX;
        b->ahead = a;
        return 0;
}

static void step_entries(LsBundleReader *b, Stream *st)
{
        LsBundleSummary *s = b->s;
        const LsBundleHeader *h = &s->header;
        const int root_usable = s->checkpoint_parsed && s->chain_agrees;
        uint64_t prev_seq = 0;
        LsSelection sel;
        ssize_t k = 0;
        int code, have_prev = 0;

        if (!root_usable)
                finding(b, LS_CLASS_NOTE, 0, "inclusion proof", LS_BUNDLE_EVIDENCE, LS_UNSET,
                        LS_UNSET, LS_UNSET,
                        "no checkpoint of this bundle's tree: the inclusion proofs are not "
                        "checked");
        if (b->ahead) {
                b->ahead->tree_size = h->tree_size;
                b->ahead->root = root_usable ? s->checkpoint.root : NULL;
                b->ahead->n = 0;
                b->ahead->stalled = UINT64_MAX;
        }
        ls_selection_init(&sel, h->record_count);
        for (uint64_t i = 0; i <= h->record_count; i++) {
                const int custody = i == h->record_count;
                const uint64_t eoff = st->off, left = st->size > eoff ? st->size - eoff : 0;
                uint8_t fixed[LS_BUNDLE_ENTRY_FIXED_LEN], leaf[LS_HASH_LEN];
                const AheadEntry *ae;
                LsBundleEntry e;
                LsRecord rec;
                LsProof p;
                size_t roff = 0;
                int rec_ok, seq_ok = 1, proof_ok = 0;

                code = -ENODATA;
                if (left < LS_BUNDLE_ENTRY_FIXED_LEN) {
                        TAMPERED(b, "truncated", LS_BUNDLE_EVIDENCE, eoff, LS_UNSET,
                                 left ? "entry %" PRIu64 " of %" PRIu64 " is cut off in its fixed part" :
                                        "the file ends after %" PRIu64 " of %" PRIu64 " entries",
                                 i, (uint64_t) h->record_count + 1);
                        return;
                }
                k = stream_read(st, fixed, sizeof(fixed));
                if (k != (ssize_t) sizeof(fixed))
                        goto io;
                code = ls_bundle_entry_decode(&e, fixed, sizeof(fixed));
                if (code < 0) {
                        TAMPERED(b, "entry", LS_BUNDLE_EVIDENCE, eoff, LS_UNSET,
                                 "entry %" PRIu64 ": record_len %" PRIu32 " or proof_len %" PRIu32
                                 " out of range (%s); the entries after it cannot be found",
                                 i, ls_get32(fixed), ls_get32(fixed + 4), errname(code));
                        return;
                }
                if ((uint64_t) e.record_len + e.proof_len > left - LS_BUNDLE_ENTRY_FIXED_LEN) {
                        code = -ENODATA;
                        TAMPERED(b, "truncated", LS_BUNDLE_EVIDENCE, eoff, e.seq,
                                 "entry %" PRIu64 " needs %" PRIu64 " bytes, %" PRIu64
                                 " are left in the file",
                                 i, (uint64_t) LS_BUNDLE_ENTRY_FIXED_LEN + e.record_len + e.proof_len,
                                 left);
                        return;
                }
                if (grow_record(b, e.record_len) < 0) {
                        finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                                LS_UNSET, "out of memory");
                        return;
                }
                k = stream_read(st, b->rec, e.record_len);
                if (k != (ssize_t) e.record_len)
                        goto io;
                k = stream_read(st, b->proof, e.proof_len);
                if (k != (ssize_t) e.proof_len)
                        goto io;
                s->entries++;

                /* the record (SPEC §3) and its sequence number */
                ae = ahead_get(b, st, i, eoff, (uint64_t) h->record_count + 1 - i, &e);
                if (ae)
                        memcpy(leaf, ae->leaf, LS_HASH_LEN);
                else
                        ls_leaf_hash(leaf, e.salt, b->rec, e.record_len);
                code = ls_record_decode(&rec, b->rec, e.record_len, &roff);
                rec_ok = code == 0;
                if (!rec_ok)
                        TAMPERED(b, "record", LS_BUNDLE_EVIDENCE,
                                 eoff + LS_BUNDLE_ENTRY_FIXED_LEN + roff, e.seq,
                                 "record of entry %" PRIu64 " is %s at record offset %zu", i,
                                 errname(code), roff);
                code = -EBADMSG;
                if (rec_ok && rec.seq != e.seq) {
                        TAMPERED(b, "record seq", LS_BUNDLE_EVIDENCE,
                                 eoff + LS_BUNDLE_ENTRY_FIXED_LEN + 4, e.seq,
                                 "the record says sequence number %" PRIu64 ", its entry %" PRIu64,
                                 rec.seq, e.seq);
                        seq_ok = 0;
                }
                if (!custody) {
                        if (have_prev && e.seq <= prev_seq)
                                TAMPERED(b, "entry order", LS_BUNDLE_EVIDENCE, eoff + 8, e.seq,
                                         "record %" PRIu64 " follows record %" PRIu64
                                         ": entries must be in strictly increasing sequence order",
                                         e.seq, prev_seq);
                        if (e.seq == h->custody_seq)
                                TAMPERED(b, "entry order", LS_BUNDLE_EVIDENCE, eoff + 8, e.seq,
                                         "a disclosed entry has the custody record's sequence "
                                         "number %" PRIu64,
                                         e.seq);
                        have_prev = 1;
                        prev_seq = e.seq;
                        ls_selection_add(&sel, e.seq, leaf);
                } else if (e.seq != h->custody_seq) {
                        TAMPERED(b, "custody seq", LS_BUNDLE_EVIDENCE, eoff + 8, e.seq,
                                 "the last entry is record %" PRIu64 ", the header names the "
                                 "custody record %" PRIu64,
                                 e.seq, h->custody_seq);
                        seq_ok = 0;
                }

                /* its inclusion proof (SPEC §5.1) against the checkpoint's root */
                const uint64_t poff = eoff + LS_BUNDLE_ENTRY_FIXED_LEN + e.record_len;
                code = ls_proof_decode(&p, b->proof, e.proof_len);
                if (code < 0) {
                        TAMPERED(b, "proof", LS_BUNDLE_EVIDENCE, poff, e.seq,
                                 "the inclusion proof is %s", errname(code));
                } else if (p.kind != LS_PROOF_INCLUSION) {
                        code = -EBADMSG;
                        TAMPERED(b, "proof", LS_BUNDLE_EVIDENCE, poff, e.seq,
                                 "not an inclusion proof (kind %u)", p.kind);
                } else if (p.a != e.seq || p.b != h->tree_size) {
                        code = -EBADMSG;
                        TAMPERED(b, "proof", LS_BUNDLE_EVIDENCE, poff, e.seq,
                                 "a proof of leaf %" PRIu64 " in a tree of %" PRIu64
                                 ", not of leaf %" PRIu64 " in the tree of %" PRIu64,
                                 p.a, p.b, e.seq, h->tree_size);
                } else if (root_usable) {
                        if (ae && ae->incl != AHEAD_NOT_RUN)
                                code = ae->incl;
                        else
                                code = ls_verify_inclusion(e.seq, h->tree_size, leaf,
                                                           (const uint8_t(*)[LS_HASH_LEN]) p.path,
                                                           p.count, s->checkpoint.root);
                        if (code == -EILSEQ)
                                TAMPERED(b, "inclusion proof", LS_BUNDLE_EVIDENCE,
                                         eoff + LS_BUNDLE_ENTRY_FIXED_LEN, e.seq,
                                         "record %" PRIu64 " is not leaf %" PRIu64
                                         " of the checkpoint's tree: its bytes, salt or proof "
                                         "were altered",
                                         e.seq, e.seq);
                        else if (code < 0)
                                TAMPERED(b, "proof", LS_BUNDLE_EVIDENCE, poff, e.seq,
                                         "the inclusion proof is %s", errname(code));
                        proof_ok = code == 0;
                }

                /*
                 * SPEC §9.4: the checkpoint's epoch, once closed, sealed nothing dated after
                 * the end its close states; a disclosed record that is, was made with the
                 * erased key.
                 */
                if (rec_ok && s->have_signer) {
                        const LsEpochClose *cl = ls_trust_close(ls_chain_verifier_trust(b->v),
                                                                s->signer.chain_id,
                                                                s->signer.epoch);
                        if (cl && rec.time_ns > cl->max_time_ns) {
                                TAMPERED(b, "epoch close", LS_BUNDLE_EVIDENCE,
                                         eoff + LS_BUNDLE_ENTRY_FIXED_LEN + 12, e.seq,
                                         "record %" PRIu64 " is dated after the end of epoch %" PRIu64
                                         " that its signed close states, yet its checkpoint was "
                                         "signed with that epoch's key: made with the erased key",
                                         e.seq, s->signer.epoch);
                                rec_ok = 0;
                        }
                }
                const int verified = rec_ok && seq_ok && proof_ok && s->checkpoint_verified;
                if (!custody) {
                        if (verified)
                                s->records_verified++;
                        else
                                s->records_failed++;
                        if (rec_ok && b->cb.record)
                                b->cb.record(b->cb.userdata, &rec, b->rec, e.record_len,
                                             verified);
                } else {
                        ls_selection_final(&sel, s->selection);
                        s->selection_complete = 1;
                        s->custody_proof_ok = verified;
                        if (rec_ok)
                                step_custody(b, &rec, eoff + LS_BUNDLE_ENTRY_FIXED_LEN);
                }
        }
        if (st->off < st->size) {
                code = -EBADMSG;
                TAMPERED(b, "trailing bytes", LS_BUNDLE_EVIDENCE, st->off, LS_UNSET,
                         "%" PRIu64 " bytes after the custody entry (SPEC §14.1: the file ends "
                         "exactly after it)",
                         st->size - st->off);
        } else {
                /* The file may have grown since it was opened. */
                uint8_t probe;
                if (stream_read(st, &probe, 1) == 1) {
                        code = -EBADMSG;
                        TAMPERED(b, "trailing bytes", LS_BUNDLE_EVIDENCE, st->off - 1, LS_UNSET,
                                 "bytes after the custody entry");
                }
        }
        return;
io:
        if (k >= 0) {
                code = -ENODATA;
                TAMPERED(b, "truncated", LS_BUNDLE_EVIDENCE, st->off, LS_UNSET,
                         "the file ended while it was read (it shrank)");
        } else {
                finding(b, LS_CLASS_IO, (int) k, "read", LS_BUNDLE_EVIDENCE, st->off, LS_UNSET,
                        LS_UNSET, "read error: %s", strerror((int) -k));
        }
}

/* ---- the reader ---- */

int ls_bundle_reader_new(LsBundleReader **ret, const uint8_t root_pk[LS_PK_LEN],
                         const LsBundleCallbacks *cb)
{
        LsBundleReader *b = calloc(1, sizeof(*b));
        int r;

        if (!b)
                return -ENOMEM;
        if (cb)
                b->cb = *cb;
        b->iobuf = malloc(IOBUF_LEN);
        if (!b->iobuf) {
                free(b);
                return -ENOMEM;
        }
        r = ls_chain_verifier_new(&b->v, root_pk, NULL);
        if (r < 0) {
                ls_bundle_reader_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

LsBundleReader *ls_bundle_reader_free(LsBundleReader *b)
{
        if (!b)
                return NULL;
        ls_bundle_reader_set_jobs(b, 1);
        ls_chain_verifier_free(b->v);
        for (size_t i = 0; i < b->nsrcs; i++) {
                free(b->srcs[i].name);
                free(b->srcs[i].p);
        }
        free(b->man);
        free(b->iobuf);
        free(b->rec);
        free(b);
        return NULL;
}

int ls_bundle_reader_add_keys(LsBundleReader *b, const uint8_t *p, size_t n, const char *source)
{
        KeySource *k;

        if (b->nsrcs == MAX_KEY_SOURCES)
                return -E2BIG;
        if (n > LS_BUNDLE_KEYS_MAX)
                return -E2BIG;
        k = &b->srcs[b->nsrcs];
        k->name = strdup(source ? source : "key history");
        k->p = malloc(n ? n : 1);
        if (!k->name || !k->p) {
                free(k->name);
                free(k->p);
                return -ENOMEM;
        }
        memcpy(k->p, p, n);
        k->n = n;
        b->nsrcs++;
        return 0;
}

LsTrust *ls_bundle_reader_trust(LsBundleReader *b)
{
        return ls_chain_verifier_trust(b->v);
}

size_t ls_bundle_reader_keys(const LsBundleReader *b, const LsKeyInfo **ret)
{
        return ls_chain_verifier_keys(b->v, ret);
}

LsClass ls_bundle_reader_verify(LsBundleReader *b, int dirfd, const char *label,
                                LsBundleSummary *ret)
{
        LsBundleSummary *s = ret;
        Stream st = {.fd = -1};
        struct stat sst;

        memset(s, 0, sizeof(*s));
        s->custody_seq = LS_UNSET;
        s->custody_time_ns = LS_UNSET;
        b->s = s;
        b->dirfd = dirfd;
        b->label = label;
        if (b->used) {
                finding(b, LS_CLASS_IO, -EINVAL, "usage", NULL, LS_UNSET, LS_UNSET, LS_UNSET,
                        "a bundle reader verifies one bundle");
                return s->verdict = LS_CLASS_IO;
        }
        b->used = 1;

        /* 1. the manifest */
        step_manifest(b);

        /* 2. checkpoint and evidence header agree */
        step_checkpoint(b);
        st.fd = open_required(b, F_EVIDENCE, &sst);
        if (st.fd >= 0) {
                st.size = (uint64_t) sst.st_size;
                st.buf = b->iobuf;
                step_header(b, &st);
        }
        step_agree(b);
        if (s->header_ok)
                s->custody_seq = s->header.custody_seq;

        /* 3. key material, 4. the checkpoint's signature */
        step_keys(b);
        step_signature(b);

        /* 5. every entry, 6. the custody record */
        if (st.fd >= 0 && s->header_ok)
                step_entries(b, &st);
        if (st.fd >= 0)
                close(st.fd);

        s->verdict = LS_CLASS_INTACT;
        for (int k = LS_CLASS_INTACT; k < LS_CLASS_NOTE; k++)
                if (s->findings[k] && ls_class_rank(k) > ls_class_rank(s->verdict))
                        s->verdict = k;
        b->s = NULL;
        return s->verdict;
}
