/* SPDX-License-Identifier: Apache-2.0 */
/* init.c: `logsealctl init` (a new state directory, its chain and keys) and `keygen` (a root key,
 * offline) */

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"
#include "hash.h"
#include "keys.h"
#include "owner.h"
#include "state.h"

#define STATE_DIR_MODE 0750
#define KEYS_DIR_MODE 0700
#define ARCHIVES_DIR_MODE 0750
#define WAL_DIR_MODE 0700

typedef struct Written {
        const char *names[8];
        int secret[8];
        size_t n;
} Written;

/* Undoes a failed init, so that it can simply be run again. */
static void written_undo(int dirfd, Written *w)
{
        while (w->n > 0) {
                w->n--;
                if (w->secret[w->n])
                        (void) wipe_file(dirfd, w->names[w->n]);
                else
                        (void) unlinkat(dirfd, w->names[w->n], 0);
        }
}

static int init_write(int dirfd, const char *dir, Written *w, const char *name, const void *p,
                      size_t n, int mode, int secret)
{
        int r = write_file_atomic(dirfd, name, p, n, mode);

        if (r < 0) {
                log_errno(r, "%s/%s", dir, name);
                written_undo(dirfd, w);
                return r;
        }
        assert(w->n < ELEMENTSOF(w->names));
        w->names[w->n] = name;
        w->secret[w->n] = secret;
        w->n++;
        return 0;
}

static int make_subdir(int dirfd, const char *dir, const char *name, mode_t mode)
{
        if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
                return log_errno(-errno, "%s/%s", dir, name);
        /* Exact modes whatever the umask; keys/ must never be readable by others. */
        if (fchmodat(dirfd, name, mode, 0) < 0)
                return log_errno(-errno, "%s/%s", dir, name);
        return 0;
}

static int dir_is_empty(int dirfd, const char *name)
{
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        DIR *d;
        int empty = 1;

        if (fd < 0)
                return errno == ENOENT ? 1 : -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                        empty = 0;
                        break;
                }
        closedir(d);
        return empty;
}

static void print_init_summary(const char *dir, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                               const uint8_t root_pk[LS_PK_LEN],
                               const uint8_t root_id[LS_KEY_ID_LEN],
                               const uint8_t signing_id[LS_KEY_ID_LEN], const char *root_key_file,
                               int root_has_passphrase)
{
        char hex_chain[2 * LS_CHAIN_ID_LEN + 1], hex_root[2 * LS_KEY_ID_LEN + 1],
                hex_signing[2 * LS_KEY_ID_LEN + 1];
        _cleanup_free_ char *abs = realpath(dir, NULL);
        const char *d = abs ? abs : dir;

        ls_hex(hex_chain, chain_id, LS_CHAIN_ID_LEN);
        ls_hex(hex_root, root_id, LS_KEY_ID_LEN);
        ls_hex(hex_signing, signing_id, LS_KEY_ID_LEN);
        printf("Initialised logseal state directory %s\n"
               "\n"
               "  chain id:         %s\n"
               "  signing key:      %s (epoch 0, certified by the root key)\n"
               "  root public key:  %s/%s\n"
               "  root key id:      %s\n",
               d, hex_chain, hex_signing, d, STATE_ROOT_PUB, hex_root);
        print_fingerprint("  fingerprint:      ", root_pk);
        printf("\n");
        if (!root_key_file) {
                printf("The root SECRET key is %s/%s (%s).\n"
                       "WARNING: move it offline now (removable media kept in a safe) and "
                       "remove it\n"
                       "from this machine. Whoever holds it can certify keys that sign forged "
                       "evidence;\n"
                       "the appliance never needs it to run, only to rotate or revoke keys.\n"
                       "\n",
                       d, STATE_ROOT_KEY,
                       root_has_passphrase ? "protected by your passphrase"
                                           : "NOT protected by a passphrase");
        } else {
                printf("The root secret key stays in %s; it was not copied here.\n\n",
                       root_key_file);
        }
        printf("Give %s/%s to investigators (and confirm the fingerprint with them by\n"
               "another channel). They verify the archives with:\n"
               "\n"
               "  logseal-verify --root-key %s/%s %s/%s\n",
               d, STATE_ROOT_PUB, d, STATE_ROOT_PUB, d, STATE_ARCHIVES);
}

/* Who init writes the state directory as (--user): the ids and the name. */
typedef struct InitUser {
        uid_t uid;
        gid_t gid;
        char name[64];
} InitUser;

/* Root becomes USER for the writes (files are created as theirs); undone by become_root(). */
static int become_user(const InitUser *u)
{
        if (initgroups(u->name, u->gid) < 0 || setegid(u->gid) < 0 || seteuid(u->uid) < 0)
                return log_errno(-errno, "init: becoming user %s", u->name);
        return 0;
}

static void become_root(void)
{
        if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(0, NULL) < 0)
                abort(); /* the saved ids are root's: this cannot fail */
}

/* Everything init does inside the opened directory; returns an exit status. */
static int init_state(int dirfd, const char *dir, const char *root_file, int no_passphrase,
                      const InitUser *user)
{
        _cleanup_keypair_ LsKeyPair *root = NULL, *signing = NULL;
        _cleanup_secret_ void *root_secret = NULL, *signing_secret = NULL;
        char root_pub[LS_PUBKEY_TEXT_MAX], chain_hex[2 * LS_CHAIN_ID_LEN + 2];
        uint8_t chain_id[LS_CHAIN_ID_LEN], cert_bytes[LS_CERT_LEN], root_pk[LS_PK_LEN],
                root_id[LS_KEY_ID_LEN], signing_id[LS_KEY_ID_LEN];
        LsSigner signer;
        LsCert cert = {.kind = LS_CERT_SIGNING}, check;
        Written w = {};
        int r;

        r = exists_at(dirfd, STATE_CHAIN_ID);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_CHAIN_ID);
        if (r > 0)
                return log_error("%s: already initialised (%s/%s exists); refusing to touch "
                                 "its keys",
                                 dir, dir, STATE_CHAIN_ID);
        r = dir_is_empty(dirfd, STATE_ARCHIVES);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_ARCHIVES);
        if (r == 0)
                return log_error("%s/%s is not empty: it holds another chain's evidence; "
                                 "refusing to start a new chain there",
                                 dir, STATE_ARCHIVES);
        if (!root_file) {
                r = exists_at(dirfd, STATE_ROOT_KEY);
                if (r < 0)
                        return log_errno(r, "%s/%s", dir, STATE_ROOT_KEY);
                if (r > 0)
                        return log_error("%s/%s already exists; move it away, or pass it with "
                                         "--root-key",
                                         dir, STATE_ROOT_KEY);
        }

        /* Every question is asked before anything is written. */
        if (root_file)
                r = load_root_key(root_file, &root);
        else
                r = make_root_key(no_passphrase, &root, &root_secret, root_pub);
        if (r != 0)
                return r;
        if (root_file) {
                r = format_pubkey(root_pub, root);
                if (r < 0)
                        return log_errno(r, "formatting the root public key");
        }
        memcpy(root_pk, root->pk, LS_PK_LEN);
        memcpy(root_id, root->key_id, LS_KEY_ID_LEN);

        do
                randombytes_buf(chain_id, sizeof(chain_id));
        while (ls_all_zero(chain_id, sizeof(chain_id)));

        /* The epoch-0 signing key, certified by the root (SPEC §9.3); the daemon closes its
         * epoch with a signed close (§9.4), which the flag announces. */
        cert.flags = LS_CERT_F_CLOSED;
        r = ls_keypair_generate(&signing, 0);
        if (r < 0)
                return log_errno(r, "generating the signing key");
        memcpy(cert.chain_id, chain_id, LS_CHAIN_ID_LEN);
        memcpy(cert.pk, signing->pk, LS_PK_LEN);
        cert.epoch = 0;
        cert.valid_from_batch = 0;
        cert.issued_ns = now_ns();
        ls_signer_from_keypair(&signer, root);
        r = ls_cert_sign(&cert, &signer);
        /* The root secret is needed for nothing else: wipe it now. */
        root = ls_keypair_free(root);
        sodium_memzero(&signer, sizeof(signer));
        if (r < 0)
                return log_errno(r, "certifying the signing key");
        ls_cert_encode(&cert, cert_bytes);

        signing_secret = sodium_malloc(LS_SECRET_FILE_LEN);
        if (!signing_secret)
                return log_errno(-ENOMEM, "signing key");
        r = ls_seckey_encode(signing, NULL, 0, 0, signing_secret);
        if (r < 0)
                return log_errno(r, "encoding the signing key");
        memcpy(signing_id, signing->key_id, LS_KEY_ID_LEN);
        signing = ls_keypair_free(signing);

        /* The root key was read as root and is wiped: everything below is written as the
         * user logseald runs as, so that it owns it. */
        if (user && become_user(user) != 0)
                return EXIT_FAILURE;
        if (make_subdir(dirfd, dir, STATE_KEYS_DIR, KEYS_DIR_MODE) != 0 ||
            make_subdir(dirfd, dir, STATE_ARCHIVES, ARCHIVES_DIR_MODE) != 0 ||
            make_subdir(dirfd, dir, STATE_WAL, WAL_DIR_MODE) != 0 ||
            make_subdir(dirfd, dir, STATE_INDEX_DIR, STATE_INDEX_DIR_MODE) != 0)
                return EXIT_FAILURE;

        if (root_secret && init_write(dirfd, dir, &w, STATE_ROOT_KEY, root_secret,
                                      LS_SECRET_FILE_LEN, SECRET_MODE, 1) < 0)
                return EXIT_FAILURE;
        if (init_write(dirfd, dir, &w, STATE_ROOT_PUB, root_pub, strlen(root_pub), PUBLIC_MODE,
                       0) < 0 ||
            init_write(dirfd, dir, &w, STATE_SIGNING_KEY, signing_secret, LS_SECRET_FILE_LEN,
                       SECRET_MODE, 1) < 0 ||
            init_write(dirfd, dir, &w, STATE_HISTORY, cert_bytes, sizeof(cert_bytes),
                       SECRET_MODE, 0) < 0)
                return EXIT_FAILURE;

        /* Read back what the daemon will read, before chain.id makes the directory live. */
        r = state_load_signing_key(dirfd, &signing);
        if (r >= 0)
                r = state_find_cert(dirfd, signing_id, &check);
        if (r >= 0)
                r = ls_cert_verify(&check, root_pk);
        signing = ls_keypair_free(signing);
        if (r < 0) {
                log_errno(r, "%s: reading back the new keys", dir);
                written_undo(dirfd, &w);
                return EXIT_FAILURE;
        }

        /* chain.id last: it is what marks the directory initialised. */
        ls_hex(chain_hex, chain_id, LS_CHAIN_ID_LEN);
        strcat(chain_hex, "\n");
        if (init_write(dirfd, dir, &w, STATE_CHAIN_ID, chain_hex, strlen(chain_hex),
                       PUBLIC_MODE, 0) < 0)
                return EXIT_FAILURE;

        print_init_summary(dir, chain_id, root_pk, root_id, signing_id, root_file,
                           !no_passphrase);
        return 0;
}

/*
 * Root without --user on a directory that belongs to someone else (the packages' tmpfiles
 * make /var/lib/logseal logseal's): the files would be root's and logseald could not use
 * them. Say how to do it instead.
 */
static int init_foreign_dir(int dirfd, const char *dir)
{
        struct stat st;
        char name[64];

        if (geteuid() != 0)
                return 0;
        if (fstat(dirfd, &st) < 0)
                return log_errno(-errno, "%s", dir);
        if (st.st_uid == 0)
                return 0;
        user_name(st.st_uid, name, sizeof(name));
        return log_error("%s belongs to %s: run `logsealctl init --user %s ...` so that the "
                         "state directory is %s's (logseald runs as %s), or run init as root "
                         "on a directory of root's",
                         dir, name, name, name, name);
}

/*
 * --user: the state directory must belong to the user logseald runs as (it creates and
 * removes files in it, the signer rewrites keys/). As root, the directory is made theirs
 * (created, or empty) and init writes as them; an initialised one is never chowned here.
 */
static int init_prepare_user(int dirfd, const char *dir, const InitUser *u)
{
        char owner[64];
        struct stat st;
        int r;

        if (fstat(dirfd, &st) < 0)
                return log_errno(-errno, "%s", dir);
        if (st.st_uid == u->uid)
                return 0;
        user_name(st.st_uid, owner, sizeof(owner));
        r = exists_at(dirfd, STATE_CHAIN_ID);
        if (r > 0)
                return log_error("%s is already initialised, by %s; for logseald to run as %s: "
                                 "chown -R %s: %s",
                                 dir, owner, u->name, u->name, dir);
        r = dir_is_empty(dirfd, ".");
        if (r < 0)
                return log_errno(r, "%s", dir);
        if (r == 0)
                return log_error("%s is not empty and belongs to %s, not to %s: use an empty "
                                 "directory, or chown -R %s: %s if its content is meant for %s",
                                 dir, owner, u->name, u->name, dir, u->name);
        if (fchown(dirfd, u->uid, u->gid) < 0)
                return log_errno(-errno, "%s: chown to %s", dir, u->name);
        return 0;
}

int cmd_init(int argc, char **argv)
{
        static const char *const subdirs[] = {STATE_KEYS_DIR, STATE_ARCHIVES, STATE_WAL,
                                              STATE_INDEX_DIR};
        const char *dir = NULL, *root_file = NULL, *user_arg = NULL;
        int no_passphrase = 0, created = 0, r;
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {"root-key", 'r', OPTION_STRING, &root_file, .arg = "FILE",
                 .help = "an existing root secret key to certify the first\n"
                         "signing key with, instead of a new DIR/root.key"},
                {"user", 'u', OPTION_STRING, &user_arg, .arg = "USER",
                 .help = "(as root) read FILE as root, make DIR belong to USER"},
                {"no-passphrase", 0, OPTION_FLAG, &no_passphrase,
                 .help = "do not protect a new root key with a passphrase"},
                {}};
        _cleanup_close_ int dirfd = -1;
        InitUser user = {}, *u = NULL;

        r = parse_options("init", argc, argv, opts, 0, NULL);
        if (r != 0)
                return options_exit(r);
        if (!dir)
                return usage_error("init: --state-dir DIR is required");
        if (root_file && no_passphrase)
                return usage_error("init: --no-passphrase applies to a generated root key, "
                                   "not to --root-key");

        if (user_arg) {
                struct passwd *pw;
                errno = 0;
                pw = getpwnam(user_arg);
                if (!pw)
                        return log_error("init: --user %s: %s", user_arg,
                                         errno ? strerror(errno) : "no such user");
                if (strlen(pw->pw_name) >= sizeof(user.name))
                        return log_error("init: --user %s: name too long", user_arg);
                user.uid = pw->pw_uid;
                user.gid = pw->pw_gid;
                strcpy(user.name, pw->pw_name);
                if (geteuid() != user.uid) {
                        if (geteuid() != 0)
                                return log_error("init: --user %s needs root (it reads the root "
                                                 "key as root and writes the state directory "
                                                 "as %s)",
                                                 user.name, user.name);
                        u = &user;
                }
        }
        /* A root key only root may read, init run as the service user: name the way. */
        if (root_file && !u && geteuid() != 0 &&
            faccessat(AT_FDCWD, root_file, R_OK, AT_EACCESS) < 0 && errno == EACCES)
                return log_error("%s: %s; run init as root with --user USER instead: it reads "
                                 "the root key as root and writes the state directory as USER",
                                 root_file, strerror(EACCES));

        if (mkdir(dir, STATE_DIR_MODE) == 0)
                created = 1;
        else if (errno == EACCES && geteuid() != 0)
                return log_error("%s: %s; create it as root with `logsealctl init --user %s "
                                 "...`, which makes it belong to this user",
                                 dir, strerror(EACCES), user_name(geteuid(), (char[64]){}, 64));
        else if (errno != EEXIST)
                return log_errno(-errno, "%s", dir);
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                r = log_errno(-errno, "%s", dir);
        else if (created && fchmod(dirfd, STATE_DIR_MODE) < 0)
                r = log_errno(-errno, "%s", dir);
        else if (u)
                r = init_prepare_user(dirfd, dir, u);
        else
                r = init_foreign_dir(dirfd, dir);
        if (r == 0)
                r = init_state(dirfd, dir, root_file, no_passphrase, u);
        if (u)
                become_root();

        /* A failed init leaves no directory it created behind (its files are already gone). */
        if (r != 0 && created) {
                for (size_t i = 0; dirfd >= 0 && i < ELEMENTSOF(subdirs); i++)
                        (void) unlinkat(dirfd, subdirs[i], AT_REMOVEDIR);
                (void) rmdir(dir);
        }
        return r;
}

int cmd_keygen(int argc, char **argv)
{
        const char *path = NULL;
        _cleanup_free_ char *pub_path = NULL;
        _cleanup_keypair_ LsKeyPair *root = NULL;
        _cleanup_secret_ void *secret = NULL;
        char pub[LS_PUBKEY_TEXT_MAX], id[2 * LS_KEY_ID_LEN + 1];
        uint8_t pk[LS_PK_LEN];
        int no_passphrase = 0, r;
        const Option opts[] = {
                {"root", 0, OPTION_STRING, &path, .arg = "FILE",
                 .help = "where to write the new root secret key (and FILE.pub)"},
                {"no-passphrase", 0, OPTION_FLAG, &no_passphrase,
                 .help = "do not protect it with a passphrase"},
                {}};

        r = parse_options("keygen", argc, argv, opts, 0, NULL);
        if (r != 0)
                return options_exit(r);
        if (!path)
                return usage_error("keygen: --root FILE is required");
        if (asprintf(&pub_path, "%s.pub", path) < 0)
                return log_errno(-ENOMEM, "keygen");

        /* Refuse before asking for a passphrase; O_EXCL below closes the race. */
        for (int i = 0; i < 2; i++) {
                const char *f = i ? pub_path : path;
                r = exists_at(AT_FDCWD, f);
                if (r < 0)
                        return log_errno(r, "%s", f);
                if (r > 0)
                        return log_error("%s already exists; refusing to overwrite a key", f);
        }

        r = make_root_key(no_passphrase, &root, &secret, pub);
        if (r != 0)
                return r;
        memcpy(pk, root->pk, LS_PK_LEN);
        ls_hex(id, root->key_id, LS_KEY_ID_LEN);
        root = ls_keypair_free(root);

        r = write_new_file(path, secret, LS_SECRET_FILE_LEN, SECRET_MODE);
        if (r == -EEXIST)
                return log_error("%s already exists; refusing to overwrite a key", path);
        if (r < 0)
                return log_errno(r, "%s", path);
        r = write_new_file(pub_path, pub, strlen(pub), PUBLIC_MODE);
        if (r < 0) {
                /* A secret key without its public half is of no use: take it back. */
                (void) wipe_file(AT_FDCWD, path);
                if (r == -EEXIST)
                        return log_error("%s already exists; refusing to overwrite a key",
                                         pub_path);
                return log_errno(r, "%s", pub_path);
        }

        printf("Root secret key: %s (%s)\n"
               "Root public key: %s\n"
               "key id:          %s\n",
               path, no_passphrase ? "NOT protected by a passphrase" : "passphrase-protected",
               pub_path, id);
        print_fingerprint("fingerprint:     ", pk);
        printf("\nKeep %s offline. Initialise an appliance with it:\n"
               "  logsealctl init --state-dir DIR --root-key %s\n",
               path, path);
        return 0;
}
