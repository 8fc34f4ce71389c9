/* SPDX-License-Identifier: Apache-2.0 */
/* keyfile.c: durable small files of the state directory, key files and the key history */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "hash.h"
#include "keys.h"
#include "magic.h"
#include "state.h"
#include "util.h"

/*
 * Errors are -errno, never printed here: the caller knows which state
 * directory and which command it is reporting for.
 */

/* 160 000 epochs (a certificate and a close each), as much as logseal-verify reads: more than
 * 18 years of hourly epochs. */
#define HISTORY_MAX (64u << 20)
#define CHAIN_ID_FILE_LEN (2 * LS_CHAIN_ID_LEN + 1)

/*
 * Opens the directory that holds `name` (which may be "keys/signing.key", or
 * an absolute or relative path when dirfd is AT_FDCWD) and points *ret_base
 * at the last component. Renames and unlinks happen relative to that
 * directory and the directory itself is what gets fsync'd.
 */
static int open_parent(int dirfd, const char *name, int *ret_fd, const char **ret_base)
{
        const char *slash = strrchr(name, '/');
        const char *base = slash ? slash + 1 : name;
        _cleanup_free_ char *dir = NULL;
        int fd;

        if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
                return -EINVAL;
        if (slash) {
                dir = slash == name ? strdup("/") : strndup(name, (size_t) (slash - name));
                if (!dir)
                        return -ENOMEM;
        }
        fd = openat(dirfd, dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        *ret_base = base;
        return 0;
}

int write_all(int fd, const void *p, size_t n)
{
        const uint8_t *b = p;

        while (n > 0) {
                ssize_t k = write(fd, b, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                b += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Reads until EOF or until cap bytes; *ret_len < cap means the file ended. */
static int read_upto(int fd, uint8_t *p, size_t cap, size_t *ret_len)
{
        size_t n = 0;

        while (n < cap) {
                ssize_t k = read(fd, p + n, cap - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *ret_len = n;
        return 0;
}

static int open_regular(int dirfd, const char *name, struct stat *st)
{
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        if (fstat(fd, st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (!S_ISREG(st->st_mode)) {
                close(fd);
                return S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
        }
        return fd;
}

int write_file_atomic(int dirfd, const char *name, const void *p, size_t n, int mode)
{
        _cleanup_close_ int pfd = -1, fd = -1;
        const char *base;
        char tmp[NAME_MAX + 1];
        uint8_t rnd[8];
        char rhex[2 * sizeof(rnd) + 1];
        int r;

        r = open_parent(dirfd, name, &pfd, &base);
        if (r < 0)
                return r;
        if (strlen(base) > NAME_MAX - 24)
                return -ENAMETOOLONG;

        /* A fresh name every time: a stale temp file from a crash is never reused. */
        for (int tries = 0; fd < 0; tries++) {
                randombytes_buf(rnd, sizeof(rnd));
                ls_hex(rhex, rnd, sizeof(rnd));
                snprintf(tmp, sizeof(tmp), ".#%s.%s", base, rhex);
                /* 0600 while the content is incomplete; the final mode comes with fchmod. */
                fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0 && (errno != EEXIST || tries >= 16))
                        return -errno;
        }

        r = write_all(fd, p, n);
        if (r == 0 && fchmod(fd, (mode_t) mode) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r == 0 && renameat(pfd, tmp, pfd, base) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(pfd, tmp, 0);
                return r;
        }
        /* The rename is durable only once the directory is. */
        if (fsync(pfd) < 0)
                return -errno;
        return 0;
}

int read_file_at(int dirfd, const char *name, size_t max, uint8_t **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t cap, n = 0;
        int r;

        if (max >= SIZE_MAX - 1)
                return -EINVAL;
        fd = open_regular(dirfd, name, &st);
        if (fd < 0)
                return fd;
        if (st.st_size < 0 || (uint64_t) st.st_size > max)
                return -E2BIG;

        /* Sized from fstat, but the file may still grow: read up to max + 1 to tell. */
        cap = (size_t) st.st_size + 1;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                size_t k;
                r = read_upto(fd, buf + n, cap - n, &k);
                if (r < 0)
                        return r;
                n += k;
                if (n < cap)
                        break;
                if (n > max)
                        return -E2BIG;
                size_t ncap = MIN(max + 1, cap * 2);
                uint8_t *nb = realloc(buf, ncap);
                if (!nb)
                        return -ENOMEM;
                buf = nb;
                cap = ncap;
        }
        buf[n] = 0; /* n < cap */
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

/* Reads a small file of at most cap bytes into a caller buffer (e.g. one that gets wiped). */
static int read_small(int dirfd, const char *name, uint8_t *p, size_t cap, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        uint8_t extra;
        size_t n, k;
        int r;

        fd = open_regular(dirfd, name, &st);
        if (fd < 0)
                return fd;
        if ((uint64_t) st.st_size > cap)
                return -E2BIG;
        r = read_upto(fd, p, cap, &n);
        if (r < 0)
                return r;
        if (n == cap) {
                r = read_upto(fd, &extra, 1, &k);
                if (r < 0)
                        return r;
                if (k)
                        return -E2BIG;
        }
        *ret_len = n;
        return 0;
}

int state_load_chain_id(int dirfd, uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        uint8_t buf[CHAIN_ID_FILE_LEN], id[LS_CHAIN_ID_LEN];
        size_t n;
        int r;

        r = read_small(dirfd, STATE_CHAIN_ID, buf, sizeof(buf), &n);
        if (r == -E2BIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        if (n != CHAIN_ID_FILE_LEN || buf[n - 1] != '\n')
                return -EBADMSG;
        /* Exactly what `logsealctl init` writes: lower-case only, so one id has one spelling. */
        for (size_t i = 0; i < n - 1; i++)
                if (!((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'a' && buf[i] <= 'f')))
                        return -EBADMSG;
        r = ls_unhex(id, sizeof(id), (const char *) buf, n - 1);
        if (r < 0)
                return r;
        /* All-zero is the "no chain" value of root certificates (SPEC §9.1). */
        if (ls_all_zero(id, sizeof(id)))
                return -EBADMSG;
        memcpy(chain_id, id, LS_CHAIN_ID_LEN);
        return 0;
}

int state_load_signing_key(int dirfd, LsKeyPair **ret)
{
        uint8_t buf[LS_SECRET_FILE_LEN];
        size_t n;
        int r;

        /* kdf 0 only protects integrity: these bytes are the secret key, wipe them. */
        r = read_small(dirfd, STATE_SIGNING_KEY, buf, sizeof(buf), &n);
        if (r == -E2BIG)
                r = -EBADMSG;
        if (r == 0)
                /* -ENOKEY when the file has a passphrase: the daemon runs unattended. */
                r = ls_seckey_decode(ret, buf, n, NULL);
        sodium_memzero(buf, sizeof(buf));
        return r;
}

/*
 * Walks a key history (SPEC §10.3): certificates, revocations and epoch
 * closes back to back, each recognised by its magic and delimited by its
 * size. Every item is decoded (structure only; signatures are checked by
 * whoever uses them) and handed to fn (may be NULL) with the other two
 * pointers NULL; anything else, including a torn last item, makes the whole
 * file invalid. Returns the number of items, -EBADMSG or -EPROTONOSUPPORT.
 */
typedef void (*HistoryFn)(void *ud, const LsCert *c, const LsRevocation *rv, const LsEpochClose *x);

/* 1 when the n < LS_MAGIC_LEN bytes at p could begin a certificate, revocation or close. */
static int magic_prefix(const uint8_t *p, size_t n)
{
        uint8_t c[LS_MAGIC_LEN], r[LS_MAGIC_LEN], x[LS_MAGIC_LEN];

        ls_magic_put(c, LS_MAGIC_CERT);
        ls_magic_put(r, LS_MAGIC_REVOCATION);
        ls_magic_put(x, LS_MAGIC_CLOSE);
        return memcmp(p, c, n) == 0 || memcmp(p, r, n) == 0 || memcmp(p, x, n) == 0;
}

/* As history_walk(); *torn_at (when not NULL) is set to the offset of an incomplete last item
 * (-EBADMSG returned), else to SIZE_MAX. */
static int history_walk_torn(const uint8_t *p, size_t n, HistoryFn fn, void *ud, size_t *torn_at)
{
        size_t o = 0, dummy;
        int items = 0, r;

        if (!torn_at)
                torn_at = &dummy;
        *torn_at = SIZE_MAX;
        while (o < n) {
                size_t left = n - o, len;

                if (left < LS_MAGIC_LEN) {
                        if (magic_prefix(p + o, left))
                                *torn_at = o;
                        return -EBADMSG;
                }
                if (ls_magic_check(p + o, LS_MAGIC_CERT)) {
                        LsCert c;

                        len = LS_CERT_LEN;
                        if (left < len) {
                                *torn_at = o;
                                return -EBADMSG;
                        }
                        r = ls_cert_decode(&c, p + o, len);
                        if (r < 0)
                                return r == -EPROTONOSUPPORT ? r : -EBADMSG;
                        if (fn)
                                fn(ud, &c, NULL, NULL);
                } else if (ls_magic_check(p + o, LS_MAGIC_REVOCATION)) {
                        LsRevocation rv;

                        if (left < LS_REVOCATION_FIXED_LEN) {
                                *torn_at = o;
                                return -EBADMSG;
                        }
                        /* Version first: another version may lay out its size differently. */
                        if (ls_get16(p + o + 8) != LS_FORMAT_VERSION)
                                return -EPROTONOSUPPORT;
                        len = LS_REVOCATION_FIXED_LEN + ls_get16(p + o + 10);
                        if (len > LS_REVOCATION_MAX_LEN)
                                return -EBADMSG;
                        if (left < len) {
                                *torn_at = o;
                                return -EBADMSG;
                        }
                        r = ls_revocation_decode(&rv, p + o, len);
                        if (r < 0)
                                return r == -EPROTONOSUPPORT ? r : -EBADMSG;
                        if (fn)
                                fn(ud, NULL, &rv, NULL);
                } else if (ls_magic_check(p + o, LS_MAGIC_CLOSE)) {
                        LsEpochClose x;

                        len = LS_CLOSE_LEN;
                        if (left < len) {
                                *torn_at = o;
                                return -EBADMSG;
                        }
                        r = ls_close_decode(&x, p + o, len);
                        if (r < 0)
                                return r == -EPROTONOSUPPORT ? r : -EBADMSG;
                        if (fn)
                                fn(ud, NULL, NULL, &x);
                } else {
                        return -EBADMSG;
                }
                o += len;
                if (items < INT32_MAX)
                        items++;
        }
        return items;
}

static int history_walk(const uint8_t *p, size_t n, HistoryFn fn, void *ud)
{
        return history_walk_torn(p, n, fn, ud, NULL);
}

int state_repair_history(int dirfd, size_t *ret_cut)
{
        _cleanup_close_ int fd = -1;
        uint8_t *p;
        size_t n, torn;
        int r;

        *ret_cut = 0;
        r = read_file_at(dirfd, STATE_HISTORY, HISTORY_MAX, &p, &n);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        r = history_walk_torn(p, n, NULL, NULL, &torn);
        free(p);
        if (r >= 0)
                return 0;
        if (torn == SIZE_MAX)
                return r; /* damage, not a torn append: leave it for a human */
        fd = openat(dirfd, STATE_HISTORY, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t) torn) < 0 || fsync(fd) < 0)
                return -errno;
        *ret_cut = n - torn;
        return 1;
}

typedef struct FindCert {
        const uint8_t *key_id;
        LsCert found;
        int have;
} FindCert;

static void find_cert_fn(void *ud, const LsCert *c, const LsRevocation *rv, const LsEpochClose *x)
{
        FindCert *f = ud;

        (void) rv;
        (void) x;
        /* The last one wins: a later certificate supersedes an earlier one. */
        if (c && memcmp(c->key_id, f->key_id, LS_KEY_ID_LEN) == 0) {
                f->found = *c;
                f->have = 1;
        }
}

int state_find_cert(int dirfd, const uint8_t key_id[LS_KEY_ID_LEN], LsCert *ret)
{
        _cleanup_free_ uint8_t *p = NULL;
        FindCert f = {.key_id = key_id};
        size_t n;
        int r;

        r = read_file_at(dirfd, STATE_HISTORY, HISTORY_MAX, &p, &n);
        if (r < 0)
                return r;
        r = history_walk(p, n, find_cert_fn, &f);
        if (r < 0)
                return r;
        /* The file is fine, the key is not in it. */
        if (!f.have)
                return -ENOKEY;
        *ret = f.found;
        return 0;
}

typedef struct FindClose {
        const uint8_t *chain_id;
        uint64_t epoch;
        LsEpochClose found;
        uint8_t hash[LS_HASH_LEN];
        int have, conflict;
} FindClose;

static void find_close_fn(void *ud, const LsCert *c, const LsRevocation *rv, const LsEpochClose *x)
{
        FindClose *f = ud;
        uint8_t h[LS_HASH_LEN];

        (void) c;
        (void) rv;
        if (!x || x->closed_epoch != f->epoch ||
            memcmp(x->chain_id, f->chain_id, LS_CHAIN_ID_LEN) != 0)
                return;
        ls_close_hash(x, h);
        if (!f->have) {
                f->found = *x;
                memcpy(f->hash, h, LS_HASH_LEN);
                f->have = 1;
        } else if (!ls_hash_equal(h, f->hash)) {
                f->conflict = 1;
        }
}

int state_find_close(int dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t epoch,
                     LsEpochClose *ret)
{
        _cleanup_free_ uint8_t *p = NULL;
        FindClose f = {.chain_id = chain_id, .epoch = epoch};
        size_t n;
        int r;

        r = read_file_at(dirfd, STATE_HISTORY, HISTORY_MAX, &p, &n);
        if (r < 0)
                return r;
        r = history_walk(p, n, find_close_fn, &f);
        if (r < 0)
                return r;
        if (f.conflict)
                return -EILSEQ;
        if (!f.have)
                return -ENOKEY;
        *ret = f.found;
        return 0;
}

typedef struct FindRevocations {
        const uint8_t *key_id;
        StateRevocation *out;
        size_t max, n;
} FindRevocations;

static void find_revocations_fn(void *ud, const LsCert *c, const LsRevocation *rv,
                                const LsEpochClose *x)
{
        FindRevocations *f = ud;
        StateRevocation *o;

        (void) c;
        (void) x;
        if (!rv || f->n == f->max || memcmp(rv->revoked_key_id, f->key_id, LS_KEY_ID_LEN) != 0)
                return;
        o = &f->out[f->n];
        /* The reason points into the file's bytes: encode now, keep the rest without it. */
        if (ls_revocation_encode(rv, o->enc, sizeof(o->enc), &o->len) < 0)
                return;
        o->rv = *rv;
        o->rv.reason = NULL;
        o->rv.reason_len = 0;
        f->n++;
}

int state_find_revocations(int dirfd, const uint8_t key_id[LS_KEY_ID_LEN], StateRevocation *ret,
                           size_t max, size_t *ret_n)
{
        _cleanup_free_ uint8_t *p = NULL;
        FindRevocations f = {.key_id = key_id, .out = ret, .max = max};
        size_t n;
        int r;

        *ret_n = 0;
        r = read_file_at(dirfd, STATE_HISTORY, HISTORY_MAX, &p, &n);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = history_walk(p, n, find_revocations_fn, &f);
        if (r < 0)
                return r;
        *ret_n = f.n;
        return 0;
}

/* ---- trusted root keys ---- */

const StateRoot *state_root_find(const StateRoots *roots, const uint8_t key_id[LS_KEY_ID_LEN])
{
        for (size_t i = 0; i < roots->n; i++)
                if (memcmp(roots->k[i].key_id, key_id, LS_KEY_ID_LEN) == 0)
                        return &roots->k[i];
        return NULL;
}

int state_roots_add(StateRoots *roots, const LsCert *c)
{
        const StateRoot *issuer;
        StateRoot *k;
        int r;

        if (c->kind != LS_CERT_ROOT)
                return -EINVAL;
        issuer = state_root_find(roots, c->issuer_key_id);
        if (!issuer)
                return -ENOKEY;
        r = ls_cert_verify(c, issuer->pk);
        if (r < 0)
                return r;
        if (state_root_find(roots, c->key_id))
                return 0;
        if (roots->n == STATE_MAX_ROOTS)
                return -E2BIG;
        k = &roots->k[roots->n++];
        memcpy(k->pk, c->pk, LS_PK_LEN);
        memcpy(k->key_id, c->key_id, LS_KEY_ID_LEN);
        k->generation = c->epoch;
        return 1;
}

typedef struct RootsWalk {
        StateRoots *roots;
        int added;
} RootsWalk;

static void roots_fn(void *ud, const LsCert *c, const LsRevocation *rv, const LsEpochClose *x)
{
        RootsWalk *w = ud;

        (void) rv;
        (void) x;
        if (c && c->kind == LS_CERT_ROOT && state_roots_add(w->roots, c) > 0)
                w->added = 1;
}

int state_load_roots(int dirfd, StateRoots *ret)
{
        _cleanup_free_ uint8_t *text = NULL, *p = NULL;
        RootsWalk w = {.roots = ret};
        size_t n;
        int r;

        memset(ret, 0, sizeof(*ret));
        r = read_file_at(dirfd, STATE_ROOT_PUB, LS_PUBKEY_TEXT_MAX, &text, &n);
        if (r < 0)
                return r;
        r = ls_pubkey_parse((const char *) text, n, ret->k[0].pk, ret->k[0].key_id);
        if (r < 0)
                return r;
        ret->n = 1;
        r = read_file_at(dirfd, STATE_HISTORY, HISTORY_MAX, &p, &n);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* Root certificates may appear in any order: repeat until nothing new. */
        do {
                w.added = 0;
                r = history_walk(p, n, roots_fn, &w);
                if (r < 0)
                        return r;
        } while (w.added);
        return 0;
}

int state_append_history(int dirfd, const uint8_t *p, size_t n)
{
        _cleanup_close_ int pfd = -1, fd = -1;
        _cleanup_free_ uint8_t *old = NULL;
        const char *base;
        struct stat st;
        size_t oldn = 0;
        int created = 0, r;

        /* Exactly one well-formed item: never let garbage into the file. */
        r = history_walk(p, n, NULL, NULL);
        if (r < 0)
                return r;
        if (r != 1)
                return -EINVAL;

        r = open_parent(dirfd, STATE_HISTORY, &pfd, &base);
        if (r < 0)
                return r;
        fd = openat(pfd, base, O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
                fd = openat(pfd, base, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                created = fd >= 0;
        }
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t) st.st_size > HISTORY_MAX - n)
                return -E2BIG;

        /* Appending after a torn or foreign item would hide the new one too: refuse. */
        if (st.st_size > 0) {
                r = read_file_at(pfd, base, HISTORY_MAX, &old, &oldn);
                if (r < 0)
                        return r;
                r = history_walk(old, oldn, NULL, NULL);
                if (r < 0)
                        return r;
        }

        r = write_all(fd, p, n);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                /* Take a partial item back out (ENOSPC, EIO) so the file stays valid. */
                if (ftruncate(fd, (off_t) oldn) == 0)
                        (void) fsync(fd);
                return r;
        }
        if (created && fsync(pfd) < 0)
                return -errno;
        return 0;
}

int wipe_file(int dirfd, const char *name)
{
        _cleanup_close_ int pfd = -1, fd = -1;
        static const uint8_t zeros[4096];
        const char *base;
        struct stat st;
        off_t o = 0;
        int r;

        r = open_parent(dirfd, name, &pfd, &base);
        if (r < 0)
                return r;
        fd = openat(pfd, base, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;

        /*
         * Best effort: on copy-on-write file systems and flash the old blocks
         * may survive; this only keeps the key out of the plain file system.
         */
        while (o < st.st_size) {
                size_t k = (size_t) MIN((off_t) sizeof(zeros), st.st_size - o);
                ssize_t w = pwrite(fd, zeros, k, o);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (w == 0)
                        return -EIO;
                o += w;
        }
        if (fsync(fd) < 0)
                return -errno;
        if (unlinkat(pfd, base, 0) < 0)
                return -errno;
        if (fsync(pfd) < 0)
                return -errno;
        return 0;
}
