/* SPDX-License-Identifier: Apache-2.0 */
/* logsealctl: set up and administer a logseal appliance (state directory, keys, status) */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "checkpoint.h"
#include "config.h"
#include "bundle.h"
#include "control.h"
#include "export.h"
#include "hash.h"
#include "index.h"
#include "keys.h"
#include "magic.h"
#include "merkle.h"
#include "owner.h"
#include "state.h"
#include "util.h"

extern char **environ;

#define PROG "logsealctl"
#define PASSPHRASE_MAX 1024
#define PASSPHRASE_ENV "LOGSEAL_PASSPHRASE"
#define HISTORY_EXPORT_MAX (64u << 20)
#define EXIT_USAGE 2

#define STATE_DIR_MODE 0750
#define KEYS_DIR_MODE 0700
#define ARCHIVES_DIR_MODE 0750
#define WAL_DIR_MODE 0700
#define SECRET_MODE 0600
#define PUBLIC_MODE 0644

DEFINE_TRIVIAL_CLEANUP_FUNC(LsKeyPair *, ls_keypair_free)
#define _cleanup_keypair_ _cleanup_(ls_keypair_freep)

/* Passphrases and secret key file images live in guarded memory, wiped on free. */
static void *secret_free(void *p)
{
        sodium_free(p);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(void *, secret_free)
#define _cleanup_secret_ _cleanup_(secret_freep)

static void help(void)
{
        printf("Usage: logsealctl [--help] [--version] COMMAND [OPTIONS]\n"
               "\n"
               "Set up and administer a logseal appliance.\n"
               "\n"
               "Commands:\n"
               "  init --state-dir DIR [--root-key FILE] [--no-passphrase] [--user USER]\n"
               "        create the state directory: chain id, root key (generated, or FILE:\n"
               "        an existing root secret key), first signing key and its certificate;\n"
               "        with --user (as root), read FILE as root and make DIR belong to USER,\n"
               "        the user logseald runs as\n"
               "  keygen --root FILE [--no-passphrase]\n"
               "        generate a root key offline: FILE (secret) and FILE.pub\n"
               "  key export-history --state-dir DIR --out FILE\n"
               "        copy the key history (certificates, revocations, epoch closes) for\n"
               "        investigators' `logseal-verify --keys FILE`; FILE - is standard output\n"
               "  fingerprint FILE.pub\n"
               "        print a public key's id and fingerprint\n"
               "  key list --state-dir DIR\n"
               "        the key history: key ids, epochs, first batches, where each closed\n"
               "        epoch ended (last batch, last record time), certifiers, status\n"
               "  key rotate --state-dir DIR --root-key FILE\n"
               "        a new signing key certified by the root key, taken over by the\n"
               "        running daemon at its next batch; the old key is erased\n"
               "  key rotate-root --state-dir DIR --root-key FILE --new-root NEW.pub\n"
               "        certify a new root key (generated offline with keygen) with the\n"
               "        current one; sealed into the chain by the running daemon\n"
               "  key revoke KEYID --state-dir DIR --root-key FILE --reason TEXT\n"
               "        (--from-batch N | --from-time TIME) [--out FILE]\n"
               "        revoke a signing key with the root key; sealed into the chain by\n"
               "        the running daemon and written to FILE for investigators\n"
               "  status --state-dir DIR\n"
               "        the chain id, the signing key, the archives, and the running\n"
               "        daemon's counters and latest checkpoint\n"
               "  checkpoint --state-dir DIR [--out FILE] [--since OLD [--proof FILE]]\n"
               "        the latest signed checkpoint (C2SP signed note) from the daemon\n"
               "  reindex --state-dir DIR [--fulltext]\n"
               "        rebuild the search index (DIR/index/index.sqlite) from the archives\n"
               "  export --state-dir DIR --case ID --examiner NAME --out DIR [--tar FILE]\n"
               "        [--host H] [--app A] [--from TIME] [--to TIME] [--limit N]\n"
               "        an evidence bundle of the selected records with their proofs and\n"
               "        a custody record the daemon seals; logseal-verify checks it offline\n"
               "  verify --state-dir DIR [--case ID --examiner NAME]\n"
               "        run logseal-verify on the appliance's archives; the run is sealed\n"
               "        into the chain as a custody record\n"
               "  query --state-dir DIR [--host H] [--app A] [--from TIME] [--to TIME]\n"
               "        [--facility F] [--severity S] [--seq A-B] [--grep TEXT]\n"
               "        [--match WORDS] [--text|--json] [--case ID --examiner NAME]\n"
               "        [--limit N] [--json]\n"
               "        print the messages the index selects, re-read from the archives\n"
               "\n"
               "Options:\n"
               "  -d, --state-dir DIR      the appliance's state directory\n"
               "  -r, --root-key FILE      (init) use this root secret key instead of\n"
               "                           generating one in DIR/root.key\n"
               "      --root FILE          (keygen) where to write the new root secret key\n"
               "  -o, --out FILE           (key export-history) output file\n"
               "      --no-passphrase      do not protect a new root key with a passphrase\n"
               "      --host H, --app A    (query) messages of this host name / app name\n"
               "      --from TIME          (query) received at or after TIME: RFC 3339\n"
               "                           (2026-01-01T00:00:00Z) or @NANOSECONDS\n"
               "      --to TIME            (query) received before TIME\n"
               "  -n, --limit N            (query) at most N messages\n"
               "      --json               (query) JSON lines instead of raw messages\n"
               "  -h, --help               show this help\n"
               "  -V, --version            show the version\n"
               "\n"
               "Passphrases are read from the terminal, or from $" PASSPHRASE_ENV " when set.\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n"
               "See logsealctl(8).\n");
}

static int version(void)
{
        printf("%s %s (format version %d)\n", PROG, LOGSEAL_VERSION, LS_FORMAT_VERSION);
        return 0;
}

/* ---- messages ---- */

/* strerror() of the library's format error classes reads badly; say what they mean here. */
static const char *errmsg(int r)
{
        switch (-r) {
        case EBADMSG:
                return "malformed file";
        case ENODATA:
                return "truncated file";
        case E2BIG:
                return "file too large";
        case EPROTONOSUPPORT:
                return "unsupported format version";
        case EKEYREJECTED:
                return "wrong passphrase or damaged key file";
        case ENOKEY:
                /* From ls_seckey_decode(); callers of state_find_cert() say their own. */
                return "the key needs a passphrase";
        default:
                return strerror(-r);
        }
}

/* Logs "logsealctl: <what>: <error>" and returns the exit status 1. */
static int log_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int log_errno(int r, const char *fmt, ...)
{
        va_list ap;

        fputs(PROG ": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, ": %s\n", errmsg(r));
        return EXIT_FAILURE;
}

static int log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int log_error(const char *fmt, ...)
{
        va_list ap;

        fputs(PROG ": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_FAILURE;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
        va_list ap;

        fputs(PROG ": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry '" PROG " --help'.\n", stderr);
        return EXIT_USAGE;
}

/* Reports a getopt_long failure ('?' or ':' from an optstring starting with ':'). */
static int bad_option(const char *cmd, int opt, char **argv)
{
        const char *arg = argv[optind - 1], *sep = cmd ? ": " : "";

        cmd = cmd ? cmd : "";
        if (opt == ':')
                return usage_error("%s%soption %s needs an argument", cmd, sep, arg);
        if (optopt > 0 && optopt < 128 && isalnum(optopt))
                return usage_error("%s%sunknown option -%c", cmd, sep, optopt);
        return usage_error("%s%sunknown option %s", cmd, sep, arg);
}

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int write_all(int fd, const void *p, size_t n)
{
        const uint8_t *b = p;

        while (n > 0) {
                ssize_t k = write(fd, b, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                b += k;
                n -= (size_t) k;
        }
        return 0;
}

static int exists_at(int dirfd, const char *name)
{
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return 1;
        return errno == ENOENT ? 0 : -errno;
}

/*
 * Creates a file that must not exist yet (O_EXCL): a key is never replaced
 * by accident. Durable: file and directory are fsync'd.
 */
static int write_new_file(const char *path, const void *p, size_t n, mode_t mode)
{
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int dfd = -1, fd = -1;
        int r;

        if (!copy)
                return -ENOMEM;
        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, p, n);
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(path);
                return r;
        }
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

static void print_fingerprint(const char *label, const uint8_t pk[LS_PK_LEN])
{
        char fp[LS_FINGERPRINT_LEN];
        int w = (int) strlen(label);

        /* 16 groups of four: two lines of eight, to read out over the phone. */
        ls_fingerprint(fp, pk);
        printf("%s%.39s\n%*s%s\n", label, fp, w, "", fp + 40);
}

static int format_pubkey(char out[LS_PUBKEY_TEXT_MAX], const LsKeyPair *k)
{
        char comment[64], id[2 * LS_KEY_ID_LEN + 1];

        ls_hex(id, k->key_id, LS_KEY_ID_LEN);
        snprintf(comment, sizeof(comment), "logseal root public key %s", id);
        return ls_pubkey_format(out, LS_PUBKEY_TEXT_MAX, k->pk, comment);
}

/* ---- passphrases ---- */

static int tty_fd = -1;
static struct termios tty_saved;

/* Never leave the terminal without echo when interrupted at the prompt. */
static void tty_restore_and_reraise(int sig)
{
        if (tty_fd >= 0)
                (void) tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
        signal(sig, SIG_DFL);
        raise(sig);
}

/* Reads one line from /dev/tty with echo off into buf (cap bytes, NUL-terminated). */
static int read_passphrase_tty(const char *prompt, char *buf, size_t cap)
{
        /* Not SIGTSTP: resuming with echo back on would show the rest of the passphrase. */
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
        struct sigaction sa = {.sa_handler = tty_restore_and_reraise}, old[ELEMENTSOF(sigs)];
        _cleanup_close_ int fd = -1;
        struct termios t;
        size_t n = 0;
        int r = 0, too_long = 0, got_eof = 0;

        fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -ENXIO;
        if (tcgetattr(fd, &tty_saved) < 0)
                return -errno;
        tty_fd = fd;
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaction(sigs[i], &sa, &old[i]);
        t = tty_saved;
        t.c_lflag &= ~(tcflag_t) ECHO;
        t.c_lflag |= ECHONL;
        if (tcsetattr(fd, TCSAFLUSH, &t) < 0)
                r = -errno;
        if (r == 0)
                r = write_all(fd, prompt, strlen(prompt));
        while (r == 0) {
                char ch;
                ssize_t k = read(fd, &ch, 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (k == 0) {
                        got_eof = 1;
                        break;
                }
                if (ch == '\n')
                        break;
                if (n + 1 < cap)
                        buf[n++] = ch;
                else
                        too_long = 1;
        }
        (void) tcsetattr(fd, TCSAFLUSH, &tty_saved);
        tty_fd = -1;
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaction(sigs[i], &old[i], NULL);
        if (n > 0 && buf[n - 1] == '\r')
                n--;
        buf[n] = 0;
        if (r < 0)
                return r;
        if (got_eof) {
                (void) write_all(fd, "\n", 1);
                if (n == 0)
                        return -ECANCELED;
        }
        return too_long ? -E2BIG : 0;
}

/* Passphrase from $LOGSEAL_PASSPHRASE, else the terminal; twice when `confirm`. */
static int get_passphrase(const char *prompt, int confirm, void **ret)
{
        _cleanup_secret_ void *pass = NULL, *again = NULL;
        const char *env = getenv(PASSPHRASE_ENV);
        int r;

        pass = sodium_malloc(PASSPHRASE_MAX + 1);
        if (!pass)
                return log_errno(-ENOMEM, "passphrase");
        if (env) {
                if (strlen(env) > PASSPHRASE_MAX)
                        return log_error("$%s: longer than %d bytes", PASSPHRASE_ENV,
                                         PASSPHRASE_MAX);
                strcpy(pass, env);
        } else {
                r = read_passphrase_tty(prompt, pass, PASSPHRASE_MAX + 1);
                if (r == -ENXIO)
                        return log_error("no terminal to read the passphrase from: set $%s, "
                                         "or use --no-passphrase for a new key",
                                         PASSPHRASE_ENV);
                if (r == -ECANCELED)
                        return log_error("no passphrase entered");
                if (r == -E2BIG)
                        return log_error("passphrase longer than %d bytes", PASSPHRASE_MAX);
                if (r < 0)
                        return log_errno(r, "/dev/tty");
                if (confirm) {
                        again = sodium_malloc(PASSPHRASE_MAX + 1);
                        if (!again)
                                return log_errno(-ENOMEM, "passphrase");
                        r = read_passphrase_tty("Repeat the passphrase: ", again,
                                                PASSPHRASE_MAX + 1);
                        if (r < 0 && r != -ECANCELED && r != -E2BIG)
                                return log_errno(r, "/dev/tty");
                        if (r < 0 || strcmp(pass, again) != 0)
                                return log_error("the passphrases do not match");
                }
        }
        if (!*(char *) pass)
                return log_error("empty passphrase%s", confirm ? " (for a key without one, use "
                                                                 "--no-passphrase)"
                                                               : "");
        *ret = TAKE_PTR(pass);
        return 0;
}

/* ---- root keys ---- */

/*
 * Generates a root key and encodes its secret key file (passphrase-protected
 * with Argon2id unless no_passphrase) and public key file.
 */
static int make_root_key(int no_passphrase, LsKeyPair **ret_key, void **ret_secret,
                         char pub[LS_PUBKEY_TEXT_MAX])
{
        _cleanup_keypair_ LsKeyPair *root = NULL;
        _cleanup_secret_ void *pass = NULL, *secret = NULL;
        int r;

        if (!no_passphrase) {
                r = get_passphrase("Passphrase for the new root key: ", 1, &pass);
                if (r != 0)
                        return r;
        }
        secret = sodium_malloc(LS_SECRET_FILE_LEN);
        if (!secret)
                return log_errno(-ENOMEM, "root key");
        r = ls_keypair_generate(&root, 0);
        if (r < 0)
                return log_errno(r, "generating the root key");
        if (pass)
                fprintf(stderr, "Deriving the key encryption key from the passphrase "
                                "(Argon2id, %zu MiB)...\n",
                        (size_t) crypto_pwhash_MEMLIMIT_MODERATE >> 20);
        r = ls_seckey_encode(root, pass, crypto_pwhash_OPSLIMIT_MODERATE,
                             crypto_pwhash_MEMLIMIT_MODERATE, secret);
        if (r < 0)
                return log_errno(r, "encrypting the root key");
        r = format_pubkey(pub, root);
        if (r < 0)
                return log_errno(r, "formatting the root public key");
        *ret_key = TAKE_PTR(root);
        *ret_secret = TAKE_PTR(secret);
        return 0;
}

/* Loads a root secret key file, asking for its passphrase when it has one. */
static int load_root_key(const char *path, LsKeyPair **ret)
{
        _cleanup_free_ uint8_t *p = NULL;
        _cleanup_secret_ void *pass = NULL;
        char prompt[PATH_MAX + 32];
        size_t n = 0;
        int r, need;

        r = read_file_at(AT_FDCWD, path, LS_SECRET_FILE_LEN, &p, &n);
        if (r == -E2BIG)
                return log_error("%s: not a logseal secret key file (too large)", path);
        if (r < 0)
                return log_errno(r, "%s", path);
        need = ls_seckey_needs_passphrase(p, n);
        if (need < 0) {
                if (n >= 19 && !memcmp(p, "untrusted comment: ", 19))
                        return log_error("%s: this is a public key; --root-key needs the root "
                                         "SECRET key file",
                                         path);
                sodium_memzero(p, n);
                return log_errno(need, "%s: not a logseal secret key file", path);
        }
        if (need) {
                snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", path);
                r = get_passphrase(prompt, 0, &pass);
                if (r != 0) {
                        sodium_memzero(p, n);
                        return r;
                }
        }
        r = ls_seckey_decode(ret, p, n, pass);
        /* kdf 0 files hold the secret key in the clear: wipe the copy. */
        sodium_memzero(p, n);
        if (r < 0)
                return log_errno(r, "%s", path);
        return 0;
}

/* ---- init ---- */

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

static int cmd_init(int argc, char **argv)
{
        enum { OPT_NO_PASSPHRASE = 256 };
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"root-key", required_argument, NULL, 'r'},
                {"user", required_argument, NULL, 'u'},
                {"no-passphrase", no_argument, NULL, OPT_NO_PASSPHRASE},
                {"help", no_argument, NULL, 'h'},
                {}};
        static const char *const subdirs[] = {STATE_KEYS_DIR, STATE_ARCHIVES, STATE_WAL,
                                              STATE_INDEX_DIR};
        const char *dir = NULL, *root_file = NULL, *user_arg = NULL;
        int no_passphrase = 0, created = 0, opt, r;
        _cleanup_close_ int dirfd = -1;
        InitUser user = {}, *u = NULL;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:r:u:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'd':
                        dir = optarg;
                        break;
                case 'r':
                        root_file = optarg;
                        break;
                case 'u':
                        user_arg = optarg;
                        break;
                case OPT_NO_PASSPHRASE:
                        no_passphrase = 1;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return bad_option("init", opt, argv);
                }
        }
        if (optind < argc)
                return usage_error("init: unexpected argument '%s'", argv[optind]);
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

/* ---- keygen ---- */

static int cmd_keygen(int argc, char **argv)
{
        enum { OPT_ROOT = 256, OPT_NO_PASSPHRASE };
        static const struct option opts[] = {
                {"root", required_argument, NULL, OPT_ROOT},
                {"no-passphrase", no_argument, NULL, OPT_NO_PASSPHRASE},
                {"help", no_argument, NULL, 'h'},
                {}};
        const char *path = NULL;
        _cleanup_free_ char *pub_path = NULL;
        _cleanup_keypair_ LsKeyPair *root = NULL;
        _cleanup_secret_ void *secret = NULL;
        char pub[LS_PUBKEY_TEXT_MAX], id[2 * LS_KEY_ID_LEN + 1];
        uint8_t pk[LS_PK_LEN];
        int no_passphrase = 0, opt, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                switch (opt) {
                case OPT_ROOT:
                        path = optarg;
                        break;
                case OPT_NO_PASSPHRASE:
                        no_passphrase = 1;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return bad_option("keygen", opt, argv);
                }
        }
        if (optind < argc)
                return usage_error("keygen: unexpected argument '%s'", argv[optind]);
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

/* ---- key ---- */

static int open_state_dir(const char *dir, int *ret)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return log_errno(-errno, "%s", dir);
        *ret = fd;
        return 0;
}

static int cmd_key_export_history(int argc, char **argv)
{
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"out", required_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {}};
        static const uint8_t no_such_key[LS_KEY_ID_LEN];
        const char *dir = NULL, *out = NULL;
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ uint8_t *p = NULL;
        LsCert unused;
        size_t n = 0;
        int opt, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:o:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'd':
                        dir = optarg;
                        break;
                case 'o':
                        out = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return bad_option("key export-history", opt, argv);
                }
        }
        if (optind < argc)
                return usage_error("key export-history: unexpected argument '%s'",
                                   argv[optind]);
        if (!dir || !out)
                return usage_error("key export-history: --state-dir DIR and --out FILE are "
                                   "required");
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;

        r = read_file_at(dirfd, STATE_HISTORY, HISTORY_EXPORT_MAX, &p, &n);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_HISTORY);
        /*
         * Hand investigators nothing the verifier would reject as a whole:
         * looking up a key id that is in no history walks and checks every
         * item (state.h has no validate-only call).
         */
        r = state_find_cert(dirfd, no_such_key, &unused);
        if (r < 0 && r != -ENOKEY)
                return log_errno(r, "%s/%s", dir, STATE_HISTORY);
        if (n == 0)
                return log_error("%s/%s is empty", dir, STATE_HISTORY);

        if (!strcmp(out, "-")) {
                r = write_all(STDOUT_FILENO, p, n);
                if (r < 0)
                        return log_errno(r, "standard output");
                return 0;
        }
        r = write_file_atomic(AT_FDCWD, out, p, n, PUBLIC_MODE);
        if (r < 0)
                return log_errno(r, "%s", out);
        printf("Exported %s/%s (%zu bytes) to %s.\n"
               "Investigators pass it to: logseal-verify --root-key ROOT.pub --keys %s ...\n",
               dir, STATE_HISTORY, n, out, out);
        return 0;
}

/* ---- key list / key revoke ---- */

static int parse_time(const char *s, uint64_t *ret);

/* Walks keys/history.lsk: certificates, revocations and epoch closes (SPEC §10.3). */
typedef struct HistoryItem {
        char kind;                      /* LS_MAGIC_CERT, LS_MAGIC_REVOCATION or LS_MAGIC_CLOSE */
        LsCert cert;
        LsRevocation rev;
        LsEpochClose close;
} HistoryItem;

static int read_history(int dirfd, uint8_t **ret, size_t *ret_len)
{
        return read_file_at(dirfd, STATE_HISTORY, 64u << 20, ret, ret_len);
}

static int history_next(const uint8_t *p, size_t n, size_t *off, HistoryItem *it)
{
        if (*off == n)
                return 0;
        if (n - *off >= LS_MAGIC_LEN && ls_magic_check(p + *off, LS_MAGIC_CERT)) {
                if (ls_cert_decode(&it->cert, p + *off, MIN(n - *off, (size_t) LS_CERT_LEN)) < 0)
                        return -EBADMSG;
                it->kind = LS_MAGIC_CERT;
                *off += LS_CERT_LEN;
                return 1;
        }
        if (n - *off >= LS_MAGIC_LEN && ls_magic_check(p + *off, LS_MAGIC_CLOSE)) {
                if (ls_close_decode(&it->close, p + *off, MIN(n - *off, (size_t) LS_CLOSE_LEN)) < 0)
                        return -EBADMSG;
                it->kind = LS_MAGIC_CLOSE;
                *off += LS_CLOSE_LEN;
                return 1;
        }
        if (n - *off >= LS_REVOCATION_FIXED_LEN && ls_magic_check(p + *off, LS_MAGIC_REVOCATION)) {
                size_t len = LS_REVOCATION_FIXED_LEN + ls_get16(p + *off + 10);
                if (len > n - *off || ls_revocation_decode(&it->rev, p + *off, len) < 0)
                        return -EBADMSG;
                it->kind = LS_MAGIC_REVOCATION;
                *off += len;
                return 1;
        }
        return -EBADMSG;
}

static void format_time(char *out, size_t cap, uint64_t ns);

static int close_cmp(const void *a, const void *b)
{
        return memcmp(((const LsEpochClose *) a)->closed_key_id,
                      ((const LsEpochClose *) b)->closed_key_id, LS_KEY_ID_LEN);
}

static int close_key_cmp(const void *key, const void *elem)
{
        return memcmp(key, ((const LsEpochClose *) elem)->closed_key_id, LS_KEY_ID_LEN);
}

static int cmd_key_list(int argc, char **argv)
{
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {}};
        const char *dir = NULL;
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ uint8_t *p = NULL;
        LsKeyPair *cur = NULL;
        size_t n = 0, off = 0;
        HistoryItem it;
        int opt, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
                if (opt == 'd')
                        dir = optarg;
                else if (opt == 'h') {
                        help();
                        return 0;
                } else
                        return bad_option("key list", opt, argv);
        }
        if (!dir)
                return usage_error("key list: --state-dir DIR is required");
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        r = read_history(dirfd, &p, &n);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_HISTORY);
        (void) state_load_signing_key(dirfd, &cur);
        /* Revocations and closes first, so each key's line can say so. */
        LsRevocation revs[256];
        size_t nrev = 0, nclose = 0;
        _cleanup_free_ LsEpochClose *closes = NULL;
        while ((r = history_next(p, n, &off, &it)) > 0)
                if (it.kind == LS_MAGIC_REVOCATION && nrev < ELEMENTSOF(revs))
                        revs[nrev++] = it.rev;
                else if (it.kind == LS_MAGIC_CLOSE)
                        nclose++;
        if (r < 0) {
                ls_keypair_free(cur);
                return log_errno(r, "%s/%s: offset %zu", dir, STATE_HISTORY, off);
        }
        closes = calloc(MAX(nclose, (size_t) 1), sizeof(*closes));
        if (!closes) {
                ls_keypair_free(cur);
                return log_errno(-ENOMEM, "%s/%s", dir, STATE_HISTORY);
        }
        nclose = 0;
        off = 0;
        while (history_next(p, n, &off, &it) > 0)
                if (it.kind == LS_MAGIC_CLOSE)
                        closes[nclose++] = it.close;
        /* By the key they close: one lookup per key, whatever the length of the history. */
        qsort(closes, nclose, sizeof(*closes), close_cmp);
        printf("%-16s  %-7s  %5s  %10s  %10s  %-30s  %-16s  %s\n", "KEY ID", "ROLE", "EPOCH",
               "FROM BATCH", "LAST BATCH", "ENDED (LAST RECORD, UTC)", "CERTIFIED BY", "STATUS");
        off = 0;
        while (history_next(p, n, &off, &it) > 0) {
                char id[17], iss[17], last[24] = "-", ended[48] = "-";
                const char *status;
                const LsEpochClose *x;
                if (it.kind != LS_MAGIC_CERT)
                        continue;
                ls_hex(id, it.cert.key_id, LS_KEY_ID_LEN);
                ls_hex(iss, it.cert.issuer_key_id, LS_KEY_ID_LEN);
                status = it.cert.kind == LS_CERT_ROOT ? "trusted root (secret offline)" :
                         cur && !memcmp(cur->key_id, it.cert.key_id, LS_KEY_ID_LEN) ?
                                                        "active" :
                                                        "retired, secret erased";
                for (size_t i = 0; i < nrev; i++)
                        if (!memcmp(revs[i].revoked_key_id, it.cert.key_id, LS_KEY_ID_LEN))
                                status = "REVOKED";
                /* The close its successor signed (SPEC §9.4): where the epoch ended. */
                x = it.cert.kind == LS_CERT_SIGNING ?
                            bsearch(it.cert.key_id, closes, nclose, sizeof(*closes), close_key_cmp) :
                            NULL;
                if (x && x->closed_epoch == it.cert.epoch &&
                    !memcmp(x->chain_id, it.cert.chain_id, LS_CHAIN_ID_LEN)) {
                        snprintf(last, sizeof(last), "%" PRIu64, x->last_batch_no);
                        format_time(ended, sizeof(ended), x->max_time_ns);
                }
                printf("%-16s  %-7s  %5" PRIu64 "  %10" PRIu64 "  %10s  %-30s  %-16s  %s\n", id,
                       it.cert.kind == LS_CERT_ROOT ? "root" : "signing", it.cert.epoch,
                       it.cert.valid_from_batch, last, ended, iss, status);
        }
        for (size_t i = 0; i < nrev; i++) {
                char id[17];
                ls_hex(id, revs[i].revoked_key_id, LS_KEY_ID_LEN);
                if (revs[i].from_batch != LS_UNSET)
                        printf("revocation: %s from batch %" PRIu64 ": %.*s\n", id,
                               revs[i].from_batch, (int) revs[i].reason_len, revs[i].reason);
                else
                        printf("revocation: %s from time %" PRIu64 " ns: %.*s\n", id,
                               revs[i].from_time_ns, (int) revs[i].reason_len, revs[i].reason);
        }
        ls_keypair_free(cur);
        return 0;
}

/* Sends one command line to the daemon; returns its JSON reply (caller frees) or NULL. */
static json_t *daemon_request(const char *dir, const char *line)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        static char buf[65536];
        size_t len = 0, n = strlen(line);
        int fd;

        if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, STATE_CONTROL) >=
            sizeof(sa.sun_path))
                return NULL;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return NULL;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || write_all(fd, line, n) < 0) {
                close(fd);
                return NULL;
        }
        for (;;) {
                ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
                if (k <= 0 || (len += (size_t) k) == sizeof(buf) - 1)
                        break;
        }
        close(fd);
        buf[len] = 0;
        return json_loads(buf, 0, NULL);
}

static int seal_custody_note(const char *dir, uint16_t action, const char *case_id,
                             const char *examiner, const char *filter, uint64_t count,
                             const char *text);

static int cmd_key_revoke(int argc, char **argv)
{
        enum { OPT_FROM_BATCH = 256, OPT_FROM_TIME, OPT_REASON, OPT_ROOT, OPT_OUT };
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"from-batch", required_argument, NULL, OPT_FROM_BATCH},
                {"from-time", required_argument, NULL, OPT_FROM_TIME},
                {"reason", required_argument, NULL, OPT_REASON},
                {"root-key", required_argument, NULL, OPT_ROOT},
                {"out", required_argument, NULL, OPT_OUT},
                {"help", no_argument, NULL, 'h'},
                {}};
        const char *dir = NULL, *reason = NULL, *root_file = NULL, *out = NULL, *keyid;
        _cleanup_close_ int dirfd = -1;
        LsRevocation rv = {.from_batch = LS_UNSET, .from_time_ns = LS_UNSET};
        LsKeyPair *root = NULL;
        LsSigner s;
        uint8_t enc[LS_REVOCATION_MAX_LEN];
        size_t len;
        int opt, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'd':
                        dir = optarg;
                        break;
                case OPT_FROM_BATCH:
                        if (sscanf(optarg, "%" SCNu64, &rv.from_batch) != 1)
                                return usage_error("key revoke: --from-batch takes a number");
                        break;
                case OPT_FROM_TIME:
                        if (parse_time(optarg, &rv.from_time_ns) < 0)
                                return usage_error("key revoke: bad --from-time '%s'", optarg);
                        break;
                case OPT_REASON:
                        reason = optarg;
                        break;
                case OPT_ROOT:
                        root_file = optarg;
                        break;
                case OPT_OUT:
                        out = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return bad_option("key revoke", opt, argv);
                }
        }
        if (optind + 1 != argc)
                return usage_error("key revoke: give exactly one KEYID");
        keyid = argv[optind];
        if (!dir || !root_file || !reason)
                return usage_error("key revoke: --state-dir, --root-key and --reason are required");
        if (rv.from_batch == LS_UNSET && rv.from_time_ns == LS_UNSET)
                return usage_error("key revoke: give --from-batch N or --from-time TIME");
        if (strlen(reason) > LS_MAX_REASON)
                return usage_error("key revoke: the reason is longer than %d bytes", LS_MAX_REASON);
        if (ls_unhex(rv.revoked_key_id, LS_KEY_ID_LEN, keyid, strlen(keyid)) < 0)
                return usage_error("key revoke: KEYID must be 16 hex digits (see `logsealctl key list`)");
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        r = state_load_chain_id(dirfd, rv.chain_id);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_CHAIN_ID);
        if (load_root_key(root_file, &root) != 0)
                return EXIT_FAILURE;
        rv.issued_ns = now_ns();
        rv.reason = reason;
        rv.reason_len = (uint16_t) strlen(reason);
        ls_signer_from_keypair(&s, root);
        r = ls_revocation_sign(&rv, &s);
        root = ls_keypair_free(root);
        if (r == 0)
                r = ls_revocation_encode(&rv, enc, sizeof(enc), &len);
        if (r < 0)
                return log_errno(r, "signing the revocation");
        {
                /* The running daemon first: when the revocation names the key it signs with,
                 * it moves to a new key before sealing it, or refuses (the revocation already
                 * covers what that key signs next). Refused: nothing is written. */
                char *line = malloc(2 * len + 16);
                json_t *reply, *nk;
                if (!line)
                        return log_errno(-ENOMEM, "revocation");
                memcpy(line, "revoke ", 7);
                ls_hex(line + 7, enc, len);
                strcat(line, "\n");
                reply = daemon_request(dir, line);
                free(line);
                if (reply && !json_is_true(json_object_get(reply, "ok"))) {
                        const char *e = json_string_value(json_object_get(reply, "error"));
                        r = log_error("key revoke: logseald refused the revocation: %s. Nothing "
                                      "was written.",
                                      e ? e : "no reason given");
                        json_decref(reply);
                        return r;
                }
                r = state_append_history(dirfd, enc, len);
                if (r < 0) {
                        json_decref(reply);
                        return log_errno(r, "%s/%s", dir, STATE_HISTORY);
                }
                if (out && write_new_file(out, enc, len, 0644) != 0) {
                        json_decref(reply);
                        return EXIT_FAILURE;
                }
                nk = reply ? json_object_get(reply, "new_key") : NULL;
                if (nk)
                        printf("Key %s was the signing key in use: the daemon moved to a new key "
                               "first (%s, epoch %" JSON_INTEGER_FORMAT ", signing from batch %"
                               JSON_INTEGER_FORMAT "); the revoked key is erased.\n",
                               keyid, json_string_value(json_object_get(nk, "key_id")),
                               json_integer_value(json_object_get(nk, "epoch")),
                               json_integer_value(json_object_get(nk, "valid_from_batch")));
                if (reply)
                        printf("The daemon sealed the revocation into the chain (record %" JSON_INTEGER_FORMAT
                               " or later).\n",
                               json_integer_value(json_object_get(reply, "next_seq")));
                else
                        printf("WARNING: the daemon is not running (no answer): the revocation "
                               "is in %s/%s and%s%s must be handed to investigators.\n",
                               dir, STATE_HISTORY, out ? " " : "", out ? out : "");
                json_decref(reply);
        }
        printf("Key %s revoked; investigators pass the key history or %s to logseal-verify "
               "--revocations.\n",
               keyid, out ? out : "the exported history");
        return 0;
}

/* ---- key rotate / key rotate-root ---- */

/* Loads a root secret key and checks that this state directory trusts it. */
static int load_trusted_root(int dirfd, const char *dir, const char *path, StateRoots *roots,
                             LsKeyPair **ret)
{
        int r = state_load_roots(dirfd, roots);

        if (r < 0)
                return log_errno(r, "%s: cannot load the root keys (%s, %s)", dir, STATE_ROOT_PUB,
                                 STATE_HISTORY);
        if (load_root_key(path, ret) != 0)
                return EXIT_FAILURE;
        if (!state_root_find(roots, (*ret)->key_id)) {
                *ret = ls_keypair_free(*ret);
                return log_error("%s: this is not a root key of %s (see `logsealctl key list`)",
                                 path, dir);
        }
        return 0;
}

static const char *json_str(json_t *o, const char *k)
{
        const char *v = json_string_value(json_object_get(o, k));
        return v ? v : "";
}

static int parse_rotate_opts(const char *cmd, int argc, char **argv, const char **dir,
                             const char **root_file, const char **new_root)
{
        enum { OPT_ROOT = 256, OPT_NEW_ROOT };
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"root-key", required_argument, NULL, OPT_ROOT},
                {"new-root", required_argument, NULL, OPT_NEW_ROOT},
                {"help", no_argument, NULL, 'h'},
                {}};
        int opt;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'd':
                        *dir = optarg;
                        break;
                case OPT_ROOT:
                        *root_file = optarg;
                        break;
                case OPT_NEW_ROOT:
                        if (!new_root)
                                return usage_error("%s: unknown option --new-root", cmd);
                        *new_root = optarg;
                        break;
                case 'h':
                        help();
                        return -1;
                default:
                        return bad_option(cmd, opt, argv);
                }
        }
        if (optind != argc)
                return usage_error("%s: unexpected argument '%s'", cmd, argv[optind]);
        if (!*dir || !*root_file || (new_root && !*new_root))
                return usage_error("%s: --state-dir and --root-key%s are required", cmd,
                                   new_root ? " and --new-root" : "");
        return 0;
}

/*
 * Admin rotation: the running daemon generates the new signing key and
 * reserves the batch it will start at; the root key certifies it here; the
 * daemon takes it over at that batch and erases the old key. The root key is
 * loaded (passphrase asked) before the reservation, so records wait for
 * milliseconds only.
 */
static int cmd_key_rotate(int argc, char **argv)
{
        const char *dir = NULL, *root_file = NULL;
        _cleanup_close_ int dirfd = -1;
        _cleanup_keypair_ LsKeyPair *root = NULL;
        StateRoots roots;
        /* The daemon closes the key's epoch when it hands over (SPEC §9.4). */
        LsCert c = {.kind = LS_CERT_SIGNING, .flags = LS_CERT_F_CLOSED};
        LsSigner s;
        json_t *reply;
        uint8_t enc[LS_CERT_LEN];
        char line[2 * LS_CERT_LEN + 32], id[2 * LS_KEY_ID_LEN + 1];
        uint64_t deadline;
        int r;

        r = parse_rotate_opts("key rotate", argc, argv, &dir, &root_file, NULL);
        if (r != 0)
                return r < 0 ? 0 : r;
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        r = state_load_chain_id(dirfd, c.chain_id);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_CHAIN_ID);
        if (load_trusted_root(dirfd, dir, root_file, &roots, &root) != 0)
                return EXIT_FAILURE;

        reply = daemon_request(dir, "rotate-begin\n");
        if (!reply)
                return log_error("%s: logseald is not running (no answer on %s/%s); the rotation "
                                 "is done by the running daemon, start it first",
                                 dir, dir, STATE_CONTROL);
        if (json_object_get(reply, "error")) {
                r = log_error("logseald refused the rotation: %s", json_str(reply, "error"));
                json_decref(reply);
                return r;
        }
        {
                uint8_t cid[LS_CHAIN_ID_LEN];
                const char *pk = json_str(reply, "public_key"), *chain = json_str(reply, "chain_id");
                if (ls_unhex(c.pk, LS_PK_LEN, pk, strlen(pk)) < 0 ||
                    ls_unhex(cid, LS_CHAIN_ID_LEN, chain, strlen(chain)) < 0 ||
                    memcmp(cid, c.chain_id, LS_CHAIN_ID_LEN) != 0 ||
                    !json_is_integer(json_object_get(reply, "epoch")) ||
                    !json_is_integer(json_object_get(reply, "valid_from_batch"))) {
                        json_decref(reply);
                        return log_error("logseald answered an unusable reservation (another "
                                         "chain, or a daemon of another version?)");
                }
                c.epoch = (uint64_t) json_integer_value(json_object_get(reply, "epoch"));
                c.valid_from_batch =
                        (uint64_t) json_integer_value(json_object_get(reply, "valid_from_batch"));
                json_decref(reply);
        }
        c.issued_ns = now_ns();
        ls_signer_from_keypair(&s, root);
        r = ls_cert_sign(&c, &s);
        root = ls_keypair_free(root);
        if (r < 0)
                return log_errno(r, "signing the certificate");
        ls_cert_encode(&c, enc);
        memcpy(line, "rotate-commit ", 14);
        ls_hex(line + 14, enc, LS_CERT_LEN);
        strcat(line, "\n");
        reply = daemon_request(dir, line);
        if (!reply || json_object_get(reply, "error")) {
                r = log_error("logseald did not take the certificate: %s",
                              reply ? json_str(reply, "error") : "no answer");
                json_decref(reply);
                return r;
        }
        json_decref(reply);

        /* Wait for the first batch signed by the new key to be durable. */
        ls_hex(id, c.key_id, LS_KEY_ID_LEN);
        deadline = now_ns() + 30ull * 1000000000u;
        for (;;) {
                json_t *st = daemon_request(dir, "status\n");
                json_t *cp = st ? json_object_get(st, "last_checkpoint") : NULL;
                int done = cp && !strcmp(json_str(cp, "key_id"), id);
                json_decref(st);
                if (done)
                        break;
                if (now_ns() > deadline)
                        return log_error("the daemon accepted key %s but no batch signed by it "
                                         "was durable within 30 s; check `logsealctl status` and "
                                         "the daemon's log",
                                         id);
                struct timespec ts = {.tv_nsec = 100000000};
                nanosleep(&ts, NULL);
        }
        printf("Signing key %s (epoch %" PRIu64 ", certified by the root key) took over at batch "
               "%" PRIu64 ";\nthe previous signing key is erased. The rotation is recorded in "
               "the chain.\n",
               id, c.epoch, c.valid_from_batch);
        return 0;
}

/*
 * Root rotation: the current root certifies a new root (kind-2 certificate);
 * the daemon seals it into the chain, so a verifier holding the first root
 * follows it. The new root's secret key never comes near the appliance: only
 * its public key file is needed.
 */
static int cmd_key_rotate_root(int argc, char **argv)
{
        const char *dir = NULL, *root_file = NULL, *new_root = NULL;
        _cleanup_close_ int dirfd = -1;
        _cleanup_keypair_ LsKeyPair *root = NULL;
        _cleanup_free_ uint8_t *text = NULL;
        StateRoots roots;
        LsCert c = {.kind = LS_CERT_ROOT};
        LsSigner s;
        json_t *reply;
        uint8_t enc[LS_CERT_LEN], new_id[LS_KEY_ID_LEN];
        char line[2 * LS_CERT_LEN + 32], id[2 * LS_KEY_ID_LEN + 1];
        size_t n;
        int r;

        r = parse_rotate_opts("key rotate-root", argc, argv, &dir, &root_file, &new_root);
        if (r != 0)
                return r < 0 ? 0 : r;
        r = read_file_at(AT_FDCWD, new_root, LS_PUBKEY_TEXT_MAX, &text, &n);
        if (r < 0)
                return log_errno(r, "%s", new_root);
        r = ls_pubkey_parse((const char *) text, n, c.pk, new_id);
        if (r < 0)
                return log_errno(r, "%s: not a logseal public key file (give the NEW root's "
                                    ".pub file; its secret key stays offline)",
                                 new_root);
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        if (load_trusted_root(dirfd, dir, root_file, &roots, &root) != 0)
                return EXIT_FAILURE;
        if (state_root_find(&roots, new_id))
                return log_error("%s: this root key is already trusted by %s", new_root, dir);
        /* Generations count up from the newest root. */
        for (size_t i = 0; i < roots.n; i++)
                if (roots.k[i].generation + 1 > c.epoch)
                        c.epoch = roots.k[i].generation + 1;
        c.issued_ns = now_ns();
        ls_signer_from_keypair(&s, root);
        r = ls_cert_sign(&c, &s);
        root = ls_keypair_free(root);
        if (r < 0)
                return log_errno(r, "signing the root certificate");
        ls_cert_encode(&c, enc);
        /* The daemon must seal it: otherwise investigators could not follow the new root. */
        memcpy(line, "root-cert ", 10);
        ls_hex(line + 10, enc, LS_CERT_LEN);
        strcat(line, "\n");
        {
                json_t *st = daemon_request(dir, "status\n");
                if (!st)
                        return log_error("%s: logseald is not running; start it first, the root "
                                         "rotation is sealed into the chain by the daemon",
                                         dir);
                json_decref(st);
        }
        r = state_append_history(dirfd, enc, sizeof(enc));
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_HISTORY);
        reply = daemon_request(dir, line);
        if (!reply || json_object_get(reply, "error")) {
                r = log_error("logseald did not seal the root rotation: %s (the certificate is "
                              "in %s/%s; run the command again once the daemon runs)",
                              reply ? json_str(reply, "error") : "no answer", dir, STATE_HISTORY);
                json_decref(reply);
                return r;
        }
        json_decref(reply);
        ls_hex(id, new_id, LS_KEY_ID_LEN);
        printf("Root key %s (generation %" PRIu64 ") is certified by the previous root and "
               "sealed into the chain.\n",
               id, c.epoch);
        print_fingerprint("  fingerprint:      ", c.pk);
        printf("Use its secret key for `key rotate` and `key revoke` from now on. Investigators "
               "keep\nthe ORIGINAL %s/%s: trust carries forward through the chain.\n",
               dir, STATE_ROOT_PUB);
        return 0;
}

static int cmd_key(int argc, char **argv)
{
        if (argc < 2)
                return usage_error("key: missing command (list, rotate, rotate-root, revoke, "
                                   "export-history)");
        if (!strcmp(argv[1], "export-history"))
                return cmd_key_export_history(argc - 1, argv + 1);
        if (!strcmp(argv[1], "list"))
                return cmd_key_list(argc - 1, argv + 1);
        if (!strcmp(argv[1], "revoke"))
                return cmd_key_revoke(argc - 1, argv + 1);
        if (!strcmp(argv[1], "rotate"))
                return cmd_key_rotate(argc - 1, argv + 1);
        if (!strcmp(argv[1], "rotate-root"))
                return cmd_key_rotate_root(argc - 1, argv + 1);
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
                help();
                return 0;
        }
        return usage_error("key: unknown command '%s'", argv[1]);
}

/* ---- fingerprint ---- */

static int cmd_fingerprint(int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {}};
        _cleanup_free_ uint8_t *p = NULL;
        uint8_t pk[LS_PK_LEN], id[LS_KEY_ID_LEN];
        char hex[2 * LS_KEY_ID_LEN + 1];
        const char *path;
        size_t n = 0;
        int opt, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                if (opt == 'h') {
                        help();
                        return 0;
                }
                return bad_option("fingerprint", opt, argv);
        }
        if (argc - optind != 1)
                return usage_error("fingerprint: expected one public key file");
        path = argv[optind];

        r = read_file_at(AT_FDCWD, path, LS_PUBKEY_TEXT_MAX, &p, &n);
        if (r == -E2BIG)
                return log_error("%s: not a logseal public key file (too large)", path);
        if (r < 0)
                return log_errno(r, "%s", path);
        if (n >= LS_MAGIC_LEN && ls_magic_check(p, LS_MAGIC_SECRET)) {
                sodium_memzero(p, n);
                return log_error("%s: this is a secret key file; give its public key (.pub)",
                                 path);
        }
        r = ls_pubkey_parse((const char *) p, n, pk, id);
        if (r < 0)
                return log_errno(r, "%s: not a logseal public key file", path);
        ls_hex(hex, id, LS_KEY_ID_LEN);
        printf("key id:      %s\n", hex);
        print_fingerprint("fingerprint: ", pk);
        return 0;
}

/* ---- status ---- */

static int count_archives(int dirfd, uint64_t *ret)
{
        int fd = openat(dirfd, STATE_ARCHIVES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        uint64_t count = 0;
        DIR *d;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        errno = 0;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                struct stat st;

                if (len < 5 || strcmp(de->d_name + len - 4, ".lsa") != 0)
                        continue;
                if (de->d_type == DT_REG ||
                    (de->d_type == DT_UNKNOWN &&
                     fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                     S_ISREG(st.st_mode)))
                        count++;
        }
        closedir(d);
        *ret = count;
        return 0;
}

/* What the state directory alone says; returns the number of items that failed. */
static int status_local(int dirfd, const char *dir)
{
        _cleanup_keypair_ LsKeyPair *key = NULL;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        char hex[2 * LS_CHAIN_ID_LEN + 1];
        uint64_t archives = 0;
        LsCert cert;
        int failed = 0, r;

        printf("state directory: %s\n", dir);
        r = state_load_chain_id(dirfd, chain_id);
        if (r < 0) {
                log_errno(r, "%s/%s", dir, STATE_CHAIN_ID);
                printf("chain id:        unavailable\n");
                failed++;
        } else {
                ls_hex(hex, chain_id, LS_CHAIN_ID_LEN);
                printf("chain id:        %s\n", hex);
        }

        r = state_load_signing_key(dirfd, &key);
        if (r < 0) {
                log_errno(r, "%s/%s", dir, STATE_SIGNING_KEY);
                printf("signing key:     unavailable\n");
                failed++;
        } else {
                ls_hex(hex, key->key_id, LS_KEY_ID_LEN);
                r = state_find_cert(dirfd, key->key_id, &cert);
                key = ls_keypair_free(key);
                if (r == -ENOKEY)
                        log_error("%s/%s: no certificate for signing key %s", dir, STATE_HISTORY,
                                  hex);
                else if (r < 0)
                        log_errno(r, "%s/%s", dir, STATE_HISTORY);
                if (r < 0) {
                        printf("signing key:     %s (uncertified)\n", hex);
                        failed++;
                } else {
                        printf("signing key:     %s epoch %" PRIu64 " (from batch %" PRIu64
                               ")\n",
                               hex, cert.epoch, cert.valid_from_batch);
                }
        }

        r = count_archives(dirfd, &archives);
        if (r < 0) {
                log_errno(r, "%s/%s", dir, STATE_ARCHIVES);
                printf("archives:        unavailable\n");
                failed++;
        } else {
                printf("archives:        %" PRIu64 "\n", archives);
        }
        return failed;
}

/*
 * What the running daemon says, over STATE_DIR/control.sock. Not there yet:
 * -EOPNOTSUPP until logseald grows its control socket.
 */
/* Asks the running daemon over STATE/control.sock; -ECONNREFUSED/-ENOENT when it is not running. */
static int status_daemon(int dirfd, const char *dir)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char buf[65536];
        size_t len = 0;
        json_t *o, *cp;
        json_error_t err;
        int fd, r;

        (void) dirfd;
        r = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, STATE_CONTROL);
        if (r < 0 || (size_t) r >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            write(fd, "status\n", 7) != 7) {
                r = -errno;
                close(fd);
                return r;
        }
        for (;;) {
                ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t) n;
                if (len == sizeof(buf) - 1)
                        break;
        }
        close(fd);
        buf[len] = 0;
        o = json_loads(buf, 0, &err);
        if (!o)
                return -EBADMSG;
        printf("daemon:          %s, pid %" JSON_INTEGER_FORMAT ", version %s\n",
               json_string_value(json_object_get(o, "state")),
               json_integer_value(json_object_get(o, "pid")),
               json_string_value(json_object_get(o, "version")));
        printf("received:        %" JSON_INTEGER_FORMAT " (truncated %" JSON_INTEGER_FORMAT
               ", parse failed %" JSON_INTEGER_FORMAT ")\n",
               json_integer_value(json_object_get(o, "received")),
               json_integer_value(json_object_get(o, "truncated")),
               json_integer_value(json_object_get(o, "parse_failed")));
        printf("sealed:          %" JSON_INTEGER_FORMAT " records in %" JSON_INTEGER_FORMAT
               " batches; %" JSON_INTEGER_FORMAT " archives sealed this run\n",
               json_integer_value(json_object_get(o, "sealed")),
               json_integer_value(json_object_get(o, "batches")),
               json_integer_value(json_object_get(o, "archives_sealed")));
        printf("declared lost:   %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(json_object_get(o, "declared_lost")));
        /* [limits]: the senders with refusals, closes, rate-limit drops or throttling. The
         * name is a sender's (an identity comes from the network): bytes outside printable
         * ASCII are shown as \xNN. */
        json_t *e;
        size_t i;
        json_array_foreach(json_object_get(o, "sources"), i, e)
        {
                json_int_t ev[4] = {json_integer_value(json_object_get(e, "refused")),
                                    json_integer_value(json_object_get(e, "closed")),
                                    json_integer_value(json_object_get(e, "rate_limited")),
                                    json_integer_value(json_object_get(e, "throttled"))};
                const char *name = json_string_value(json_object_get(e, "source"));
                if (!(ev[0] | ev[1] | ev[2] | ev[3]) || !name)
                        continue;
                fputs("sender limited:  ", stdout);
                for (const unsigned char *c = (const unsigned char *) name; *c; c++)
                        if (*c >= 0x20 && *c < 0x7f && *c != '\\')
                                putchar(*c);
                        else
                                printf("\\x%02x", *c);
                printf(": %" JSON_INTEGER_FORMAT " connections refused, %" JSON_INTEGER_FORMAT
                       " closed, %" JSON_INTEGER_FORMAT " messages dropped (rate limit), held back "
                       "%" JSON_INTEGER_FORMAT " times\n",
                       ev[0], ev[1], ev[2], ev[3]);
        }
        if (json_integer_value(json_object_get(o, "identity_missing")))
                printf("no identity:     %" JSON_INTEGER_FORMAT " messages on front-end listeners "
                       "without a usable sender identity\n",
                       json_integer_value(json_object_get(o, "identity_missing")));
        printf("backlog:         %" JSON_INTEGER_FORMAT " bytes\n",
               json_integer_value(json_object_get(o, "backlog_bytes")));
        cp = json_object_get(o, "last_checkpoint");
        if (cp)
                printf("last checkpoint: batch %" JSON_INTEGER_FORMAT ", tree size %" JSON_INTEGER_FORMAT
                       ", root %s\n                 key %s epoch %" JSON_INTEGER_FORMAT "\n",
                       json_integer_value(json_object_get(cp, "batch")),
                       json_integer_value(json_object_get(cp, "tree_size")),
                       json_string_value(json_object_get(cp, "root")),
                       json_string_value(json_object_get(cp, "key_id")),
                       json_integer_value(json_object_get(cp, "epoch")));
        cp = json_object_get(o, "confinement");
        if (cp) {
                json_int_t abi = json_integer_value(json_object_get(cp, "landlock_abi"));
                printf("confinement:     %s (Landlock ABI %" JSON_INTEGER_FORMAT "%s); keys %s\n",
                       json_is_true(json_object_get(cp, "enforced")) ? "enforced" : "NOT enforced",
                       abi, abi ? "" : ": unavailable",
                       json_is_true(json_object_get(cp, "keys_readable")) ? "READABLE by the daemon" :
                                                                          "not readable by the daemon");
        }
        json_decref(o);
        return 0;
}

static int cmd_status(int argc, char **argv)
{
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {}};
        const char *dir = NULL;
        _cleanup_close_ int dirfd = -1;
        int failed, opt, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'd':
                        dir = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return bad_option("status", opt, argv);
                }
        }
        if (optind < argc)
                return usage_error("status: unexpected argument '%s'", argv[optind]);
        if (!dir)
                return usage_error("status: --state-dir DIR is required");
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;

        failed = status_local(dirfd, dir);
        r = status_daemon(dirfd, dir);
        if (r == -ENOENT || r == -ECONNREFUSED)
                printf("daemon:          not running\n");
        else if (r < 0)
                failed += log_errno(r, "%s/%s", dir, STATE_CONTROL);
        return failed ? EXIT_FAILURE : 0;
}

/* ---- reindex and query: the index selects, the archives answer ---- */

static uint64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Opens DIR, DIR/archives and loads the chain id. */
static int open_chain(const char *dir, int *ret_dirfd, int *ret_archfd,
                      uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        _cleanup_close_ int dirfd = -1, archfd = -1;
        int r;

        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        r = state_load_chain_id(dirfd, chain_id);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_CHAIN_ID);
        archfd = openat(dirfd, STATE_ARCHIVES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (archfd < 0)
                return log_errno(-errno, "%s/%s", dir, STATE_ARCHIVES);
        *ret_dirfd = TAKE_FD(dirfd);
        *ret_archfd = TAKE_FD(archfd);
        return 0;
}

static void index_log_stderr(void *ud, int level, const char *msg)
{
        (void) ud;
        fprintf(stderr, PROG ": %s%s\n", level <= INDEX_LOG_WARNING ? "warning: " : "", msg);
}

typedef struct Progress {
        uint64_t last;
        int shown;
} Progress;

static void reindex_progress(void *ud, const IndexProgress *p)
{
        Progress *pg = ud;
        uint64_t now = mono_ns();

        if (now - pg->last < 200000000u)
                return;
        pg->last = now;
        pg->shown = 1;
        fprintf(stderr, "\r\033[Kindexing archive %" PRIu64 ": %" PRIu64 " records, %" PRIu64
                        "/%" PRIu64 " MiB (%u%%)",
                p->archive_no, p->records_added, p->bytes_done >> 20, p->bytes_total >> 20,
                p->bytes_total ? (unsigned) (p->bytes_done * 100 / p->bytes_total) : 100u);
        fflush(stderr);
}

static int unlink_index(int dirfd, const char *dir)
{
        static const char *const names[] = {STATE_INDEX, STATE_INDEX "-wal", STATE_INDEX "-shm"};

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (unlinkat(dirfd, names[i], 0) < 0 && errno != ENOENT)
                        return log_errno(-errno, "%s/%s", dir, names[i]);
        return 0;
}

static int cmd_reindex(int argc, char **argv)
{
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"fulltext", no_argument, NULL, 'F'},
                {"help", no_argument, NULL, 'h'},
                {}};
        const char *dir = NULL;
        int fulltext = 0;
        _cleanup_close_ int dirfd = -1, archfd = -1;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        Index *ix = NULL;
        IndexAuth *auth = NULL;
        Progress pg = {};
        uint64_t added = 0, total = 0, t0, t1;
        double secs;
        int opt, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'd':
                        dir = optarg;
                        break;
                case 'F':
                        fulltext = 1;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return bad_option("reindex", opt, argv);
                }
        }
        if (optind < argc)
                return usage_error("reindex: unexpected argument '%s'", argv[optind]);
        if (!dir)
                return usage_error("reindex: --state-dir DIR is required");
        r = open_chain(dir, &dirfd, &archfd, chain_id);
        if (r != 0)
                return r;
        r = index_remove_legacy(dirfd);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_INDEX_LEGACY);
        if (r > 0)
                fprintf(stderr, PROG ": removed %s/%s of an older version (derived data)\n", dir,
                        STATE_INDEX_LEGACY);
        /* Only batches the root key and the key history vouch for are indexed. */
        r = index_auth_new(&auth, dirfd, chain_id);
        if (r < 0)
                return log_error("%s/%s: batch signatures cannot be checked without it; nothing "
                                 "indexed",
                                 dir, index_auth_error(NULL));

        r = index_open(&ix, dirfd, chain_id);
        if (r == -EUCLEAN || r == -EPROTONOSUPPORT) {
                /* Derived data: a damaged or outdated index is simply made again. */
                fprintf(stderr, PROG ": %s: %s; recreating it\n", dir, index_last_error(NULL));
                if (unlink_index(dirfd, dir) != 0) {
                        index_auth_free(auth);
                        return EXIT_FAILURE;
                }
                r = index_open(&ix, dirfd, chain_id);
        }
        if (r < 0) {
                index_auth_free(auth);
                if (r == -EXDEV)
                        return log_error("%s: %s: move it away, then reindex", dir,
                                         index_last_error(NULL));
                return log_error("%s: %s", dir, index_last_error(NULL));
        }
        index_set_log(ix, index_log_stderr, NULL);
        index_set_auth(ix, auth);
        if (fulltext && index_enable_fulltext(ix) < 0) {
                log_error("%s: %s", dir, index_last_error(ix));
                index_free(ix);
                index_auth_free(auth);
                return EXIT_FAILURE;
        }
        if (isatty(STDERR_FILENO))
                index_set_progress(ix, reindex_progress, &pg);

        t0 = mono_ns();
        pg.last = t0;
        r = index_rebuild(ix, archfd, &added);
        t1 = mono_ns();
        if (pg.shown)
                fputs("\r\033[K", stderr);
        if (r < 0) {
                log_error("%s/%s: %s", dir, STATE_ARCHIVES, index_last_error(ix));
                fprintf(stderr, PROG ": %" PRIu64 " records indexed before the error; nothing "
                                "after it is in the index%s\n",
                        added,
                        r == -EKEYREJECTED ? "; 'logsealctl verify' reports on the whole chain" :
                                             "");
                index_free(ix);
                index_auth_free(auth);
                return EXIT_FAILURE;
        }
        /* With logseald running, its indexer shares the work: say what the index holds. */
        if (index_query_count(ix, NULL, 0, UINT64_MAX, &total) < 0)
                total = added;
        index_free(ix);
        index_auth_free(auth);
        secs = (double) (t1 - t0) / 1e9;
        printf("Indexed %" PRIu64 " records in %.2f s (%.0f records/s) into %s/%s\n", added, secs,
               secs > 0 ? (double) added / secs : 0.0, dir, STATE_INDEX);
        if (total != added)
                printf("The index holds %" PRIu64 " records: logseald indexed the others "
                       "meanwhile.\n",
                       total);
        (void) seal_custody_note(dir, LS_CUSTODY_REINDEX, NULL, NULL, NULL, total,
                                 "search index rebuilt from the archives");
        return 0;
}

/* Exactly `n` decimal digits at *p (advanced past them). */
static int digits(const char **p, int n, int *ret)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if ((*p)[i] < '0' || (*p)[i] > '9')
                        return -EINVAL;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

/*
 * TIME: @NANOSECONDS, or RFC 3339 "YYYY-MM-DDTHH:MM:SS[.F]Z" with up to 9 fractional
 * digits (what query prints), "t"/"z"/" " accepted as RFC 3339 allows, or a numeric
 * offset "+HH:MM" instead of "Z".
 */
static int parse_time(const char *s, uint64_t *ret)
{
        static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0, nd = 0;
        uint64_t frac = 0;
        struct tm tm = {};
        const char *p = s;
        time_t t;

        if (s[0] == '@') {
                char *end;
                unsigned long long v;
                if (s[1] < '0' || s[1] > '9')
                        return -EINVAL;
                errno = 0;
                v = strtoull(s + 1, &end, 10);
                if (errno || *end)
                        return -EINVAL;
                *ret = v;
                return 0;
        }
        if (digits(&p, 4, &year) < 0 || *p++ != '-' || digits(&p, 2, &mon) < 0 || *p++ != '-' ||
            digits(&p, 2, &day) < 0 || (*p != 'T' && *p != 't' && *p != ' ') ||
            (p++, digits(&p, 2, &hour)) < 0 || *p++ != ':' || digits(&p, 2, &min) < 0 ||
            *p++ != ':' || digits(&p, 2, &sec) < 0)
                return -EINVAL;
        if (*p == '.') {
                p++;
                while (*p >= '0' && *p <= '9') {
                        if (++nd > 9)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t) (*p++ - '0');
                }
                if (nd == 0)
                        return -EINVAL;
                for (int i = nd; i < 9; i++)
                        frac *= 10;
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p++ == '+' ? 1 : -1;
                if (digits(&p, 2, &oh) < 0 || *p++ != ':' || digits(&p, 2, &om) < 0 || oh > 23 ||
                    om > 59)
                        return -EINVAL;
        } else {
                return -EINVAL;
        }
        if (*p || year < 1970 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
            (mon == 2 && day == 29 && (year % 4 || (year % 100 == 0 && year % 400))) ||
            hour > 23 || min > 59 || sec > 60)
                return -EINVAL;
        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = MIN(sec, 59); /* a leap second reads as :59 (SPEC §1: not counted) */
        t = timegm(&tm);
        t -= (time_t) sign * (oh * 3600 + om * 60);
        if (t < 0 || (uint64_t) t > (UINT64_MAX - frac) / 1000000000u)
                return -EINVAL;
        *ret = (uint64_t) t * 1000000000u + frac;
        return 0;
}

static void format_time(char *out, size_t cap, uint64_t ns)
{
        time_t sec = (time_t) (ns / 1000000000u);
        struct tm tm;

        if (!gmtime_r(&sec, &tm)) {
                snprintf(out, cap, "@%" PRIu64, ns);
                return;
        }
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned) (ns % 1000000000u));
}

/* A JSON value for claimed text: a string when it is valid UTF-8 without NUL, else null
 * (jansson checks UTF-8; we never print text we would have to alter). */
static json_t *json_text(const uint8_t *p, size_t n)
{
        json_t *v;

        if (!p || !n || memchr(p, 0, n))
                return json_null();
        v = json_stringn((const char *) p, n);
        return v ? v : json_null();
}

typedef struct Query {
        IndexFilter filter;
        IndexBatchReader *reader;
        int json, text;
        const char *grep;          /* substring of the message (re-read from the archive) */
        const char *match;         /* full-text words: the same text, case-insensitively */
        uint64_t limit;            /* applied after the substring match */
        uint64_t printed, mismatched, unreadable;
        uint64_t refused;          /* records of batches that are not authentic */
        uint64_t refused_batches, last_refused_batch;
} Query;

#define QUERY_DONE 1

/* Case-insensitive (ASCII) substring search in bytes. */
static int memcasemem(const uint8_t *p, size_t n, const char *needle)
{
        size_t k = strlen(needle);

        for (size_t i = 0; k <= n && i <= n - k; i++)
                if (strncasecmp((const char *) p + i, needle, k) == 0)
                        return 1;
        return 0;
}

static int print_hit(void *ud, const IndexHit *hit)
{
        Query *q = ud;
        const IndexFilter *f = &q->filter;
        IndexFields fl;
        LsRecord rec;
        int r;

        r = index_batch_reader_get(q->reader, hit, &rec);
        if (r == -EKEYREJECTED) {
                /* Never printed: these bytes are not the ones the appliance sealed. */
                q->refused++;
                if (q->refused_batches == 0 || q->last_refused_batch != hit->batch_no) {
                        q->last_refused_batch = hit->batch_no;
                        if (q->refused_batches++ < 10)
                                fprintf(stderr, PROG ": %s\n", index_batch_reader_error(q->reader));
                        else if (q->refused_batches == 11)
                                fprintf(stderr, PROG ": (further batches that are not authentic "
                                                "are not listed)\n");
                }
                return 0;
        }
        if (r < 0) {
                if (q->unreadable++ < 10)
                        fprintf(stderr, PROG ": seq %" PRIu64 ": %s\n", hit->seq,
                                index_batch_reader_error(q->reader));
                else if (q->unreadable == 11)
                        fprintf(stderr, PROG ": (further records that cannot be re-read are "
                                        "not listed)\n");
                return r == -ENOMEM || r == -EMFILE ? r : 0;
        }
        /* The archive, not the index, decides whether the record matches. */
        index_record_fields(&rec, &fl);
        if (!index_filter_match(f, &rec, &fl)) {
                q->mismatched++;
                return 0;
        }
        if (q->grep && !memmem(rec.body, rec.body_len, q->grep, strlen(q->grep)))
                return 0;
        if (q->match && !memcasemem(rec.body, rec.body_len, q->match))
                return 0;
        if (q->limit && q->printed == q->limit)
                return -QUERY_DONE;
        q->printed++;
        if (q->text) {
                char t[64];
                format_time(t, sizeof(t), rec.time_ns);
                printf("%" PRIu64 " %s %s ", rec.seq, t, fl.peer[0] ? fl.peer : "-");
                for (uint32_t i = 0; i < rec.body_len; i++) {
                        uint8_t c = rec.body[i];
                        if (c == '\\' || c < 0x20 || c == 0x7f)
                                printf("\\x%02x", c);
                        else
                                putchar(c);
                }
                putchar('\n');
                return 0;
        }
        if (!q->json) {
                fwrite(rec.body, 1, rec.body_len, stdout);
                fputc('\n', stdout);
                return 0;
        }
        char t[64];
        json_t *o = json_object(), *msg;
        format_time(t, sizeof(t), rec.time_ns);
        json_object_set_new(o, "seq", json_integer((json_int_t) rec.seq));
        json_object_set_new(o, "time", json_string(t));
        json_object_set_new(o, "transport", json_string(ls_transport_name(rec.transport)));
        json_object_set_new(o, "host", json_text(fl.host, fl.host_len));
        json_object_set_new(o, "app", json_text(fl.app, fl.app_len));
        json_object_set_new(o, "peer", json_text((const uint8_t *) fl.peer, strlen(fl.peer)));
        if (fl.have_port)
                json_object_set_new(o, "port", json_integer(fl.port));
        msg = memchr(rec.body, 0, rec.body_len) ? NULL :
                                                 json_stringn((const char *) rec.body, rec.body_len);
        if (msg) {
                json_object_set_new(o, "message", msg);
        } else {
                _cleanup_free_ char *b64 = malloc(ls_base64_len(rec.body_len));
                if (!b64) {
                        json_decref(o);
                        return -ENOMEM;
                }
                ls_base64(b64, rec.body, rec.body_len);
                json_object_set_new(o, "message_base64", json_string(b64));
        }
        if (rec.flags & LS_RECF_TRUNCATED) {
                json_object_set_new(o, "truncated", json_true());
                json_object_set_new(o, "original_length", json_integer(rec.orig_len));
        }
        r = json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(o);
        return r < 0 ? -EIO : 0;
}

/* A facility or severity by RFC 5424 name or number. */
static int parse_syslog_code(const char *s, int severity, int *ret)
{
        static const char *const fac[] = {"kern", "user", "mail", "daemon", "auth", "syslog",
                                          "lpr", "news", "uucp", "cron", "authpriv", "ftp",
                                          "ntp", "audit", "alert", "clock", "local0", "local1",
                                          "local2", "local3", "local4", "local5", "local6",
                                          "local7"};
        static const char *const sev[] = {"emerg", "alert", "crit", "err", "warning", "notice",
                                          "info", "debug"};
        const char *const *names = severity ? sev : fac;
        int n = severity ? 8 : 24;
        char *end;
        long v;

        for (int i = 0; i < n; i++)
                if (!strcmp(s, names[i])) {
                        *ret = i;
                        return 0;
                }
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || end == s || v < 0 || v >= n)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

static int parse_seq_range(const char *s, uint64_t *from, uint64_t *to)
{
        unsigned long long a, b;
        int n = 0;

        if (sscanf(s, "%llu-%llu%n", &a, &b, &n) == 2 && s[n] == 0 && a <= b && b < UINT64_MAX) {
                *from = a;
                *to = b + 1;
                return 0;
        }
        return -EINVAL;
}

/* --from/--to and --limit of query and export: 0, or the usage error's exit status. */
static int time_option(const char *cmd, const char *name, const char *arg, uint64_t *ret)
{
        if (parse_time(arg, ret) < 0)
                return usage_error("%s: --%s: '%s' is not a time (RFC 3339 such as "
                                   "2026-01-01T00:00:00Z, or @NANOSECONDS)",
                                   cmd, name, arg);
        return 0;
}

static int limit_option(const char *cmd, const char *arg, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(arg, &end, 10);
        if (errno || *end || arg[0] < '0' || arg[0] > '9' || v == 0)
                return usage_error("%s: --limit: '%s' is not a positive number", cmd, arg);
        *ret = v;
        return 0;
}

static int cmd_query(int argc, char **argv)
{
        enum { OPT_HOST = 256, OPT_APP, OPT_FROM, OPT_TO, OPT_JSON, OPT_TEXT, OPT_FACILITY,
               OPT_SEVERITY, OPT_SEQ, OPT_GREP, OPT_CASE, OPT_EXAMINER, OPT_MATCH };
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"match", required_argument, NULL, OPT_MATCH},
                {"host", required_argument, NULL, OPT_HOST},
                {"app", required_argument, NULL, OPT_APP},
                {"from", required_argument, NULL, OPT_FROM},
                {"to", required_argument, NULL, OPT_TO},
                {"facility", required_argument, NULL, OPT_FACILITY},
                {"severity", required_argument, NULL, OPT_SEVERITY},
                {"seq", required_argument, NULL, OPT_SEQ},
                {"grep", required_argument, NULL, OPT_GREP},
                {"limit", required_argument, NULL, 'n'},
                {"json", no_argument, NULL, OPT_JSON},
                {"text", no_argument, NULL, OPT_TEXT},
                {"case", required_argument, NULL, OPT_CASE},
                {"examiner", required_argument, NULL, OPT_EXAMINER},
                {"help", no_argument, NULL, 'h'},
                {}};
        const char *dir = NULL, *case_id = NULL, *examiner = NULL;
        _cleanup_close_ int dirfd = -1, archfd = -1;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        Query q = {.filter = {.to_ns = UINT64_MAX, .syslog_only = 1}};
        Index *ix = NULL;
        IndexAuth *auth = NULL;
        uint64_t added = 0;
        char words[1024] = "";
        int opt, r, stale;

#define WORDS(...) snprintf(words + strlen(words), sizeof(words) - strlen(words), __VA_ARGS__)
        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:n:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'd':
                        dir = optarg;
                        break;
                case OPT_HOST:
                        q.filter.host = optarg;
                        WORDS(" host=%s", optarg);
                        break;
                case OPT_APP:
                        q.filter.app = optarg;
                        WORDS(" app=%s", optarg);
                        break;
                case OPT_FACILITY:
                        if (parse_syslog_code(optarg, 0, &q.filter.facility) < 0)
                                return usage_error("query: --facility: '%s' is not a facility "
                                                   "name (kern, user, ..., local7) or 0-23",
                                                   optarg);
                        q.filter.has_facility = 1;
                        WORDS(" facility=%s", optarg);
                        break;
                case OPT_SEVERITY:
                        if (parse_syslog_code(optarg, 1, &q.filter.severity) < 0)
                                return usage_error("query: --severity: '%s' is not a severity "
                                                   "name (emerg, ..., debug) or 0-7",
                                                   optarg);
                        q.filter.has_severity = 1;
                        WORDS(" severity<=%s", optarg);
                        break;
                case OPT_SEQ:
                        if (parse_seq_range(optarg, &q.filter.seq_from, &q.filter.seq_to) < 0)
                                return usage_error("query: --seq takes A-B (A <= B)");
                        WORDS(" seq=%s", optarg);
                        break;
                case OPT_GREP:
                        if (!optarg[0])
                                return usage_error("query: --grep needs a non-empty string");
                        q.grep = optarg;
                        WORDS(" grep=%s", optarg);
                        break;
                case OPT_MATCH:
                        if (!optarg[0])
                                return usage_error("query: --match needs words");
                        q.filter.match = optarg;
                        q.match = optarg;
                        WORDS(" match=%s", optarg);
                        break;
                case OPT_CASE:
                        case_id = optarg;
                        break;
                case OPT_EXAMINER:
                        examiner = optarg;
                        break;
                case OPT_TEXT:
                        q.text = 1;
                        break;
                case OPT_FROM:
                case OPT_TO:
                        WORDS(" %s=%s", opt == OPT_FROM ? "from" : "to", optarg);
                        r = time_option("query", opt == OPT_FROM ? "from" : "to", optarg,
                                        opt == OPT_FROM ? &q.filter.from_ns : &q.filter.to_ns);
                        if (r)
                                return r;
                        break;
                case 'n':
                        r = limit_option("query", optarg, &q.limit);
                        if (r)
                                return r;
                        break;
                case OPT_JSON:
                        q.json = 1;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return bad_option("query", opt, argv);
                }
        }
#undef WORDS
        /* The substring is matched on the archive's bytes: the limit counts matches. */
        if (!q.grep && !q.match)
                q.filter.limit = q.limit;
        if (!!case_id != !!examiner)
                return usage_error("query: --case and --examiner go together (they seal a custody "
                                   "record of this query)");
        if (q.json && q.text)
                return usage_error("query: --json and --text exclude each other");
        if (optind < argc)
                return usage_error("query: unexpected argument '%s'", argv[optind]);
        if (!dir)
                return usage_error("query: --state-dir DIR is required");
        if (q.filter.to_ns <= q.filter.from_ns)
                return usage_error("query: --to must be later than --from");
        r = open_chain(dir, &dirfd, &archfd, chain_id);
        if (r != 0)
                return r;
        r = exists_at(dirfd, STATE_INDEX);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_INDEX);
        if (r == 0)
                return log_error("%s/%s does not exist: build it with 'logsealctl reindex "
                                 "--state-dir %s'",
                                 dir, STATE_INDEX, dir);
        /* Nothing is printed that the root key and the key history do not vouch for. */
        r = index_auth_new(&auth, dirfd, chain_id);
        if (r < 0)
                return log_error("%s/%s: the records' batch signatures cannot be checked without "
                                 "it; nothing printed",
                                 dir, index_auth_error(NULL));
        r = index_open(&ix, dirfd, chain_id);
        if (r < 0) {
                index_auth_free(auth);
                if (r == -EXDEV)
                        return log_error("%s: %s: move it away", dir, index_last_error(NULL));
                return log_error("%s: %s (rebuild it with 'logsealctl reindex --state-dir %s')",
                                 dir, index_last_error(NULL), dir);
        }
        index_set_log(ix, index_log_stderr, NULL);
        index_set_auth(ix, auth);
        /* Index what the archives hold beyond the index first (usually nothing). */
        r = index_catch_up(ix, archfd, &added);
        stale = r < 0;
        if (r == -EKEYREJECTED)
                log_error("%s: %s", dir, index_last_error(ix));
        else if (stale)
                fprintf(stderr, PROG ": warning: %s: the index may lack recent records: %s\n", dir,
                        index_last_error(ix));

        r = index_batch_reader_new(&q.reader, archfd, chain_id);
        if (r < 0) {
                index_free(ix);
                index_auth_free(auth);
                return log_errno(r, "query");
        }
        index_batch_reader_set_auth(q.reader, auth);
        r = index_query(ix, &q.filter, print_hit, &q);
        if (r == -QUERY_DONE)
                r = 0;
        if (r < 0 && index_last_error(ix)[0])
                log_error("%s: %s", dir, index_last_error(ix));
        else if (r < 0)
                log_errno(r, "%s", dir);
        index_batch_reader_free(q.reader);
        index_free(ix);
        index_auth_free(auth);
        if (fflush(stdout) != 0 || ferror(stdout))
                return log_errno(-EIO, "standard output");
        if (q.mismatched)
                log_error("%" PRIu64 " records the index selected do not match in the archives "
                          "and were not printed: the index is out of step with the archives; "
                          "rebuild it with 'logsealctl reindex --state-dir %s'",
                          q.mismatched, dir);
        if (q.unreadable)
                log_error("%" PRIu64 " records could not be re-read from the archives where "
                          "the index says they are: rebuild the index with 'logsealctl reindex "
                          "--state-dir %s' (it names any damage; logseal-verify checks it)",
                          q.unreadable, dir);
        if (q.refused)
                log_error("%" PRIu64 " record(s) of %" PRIu64 " batch(es) were NOT printed: "
                          "those batches are NOT AUTHENTIC under %s/%s and %s/%s (reasons above: "
                          "a signature that does not verify, as after an edit of the archive, or "
                          "a key that may not sign them); 'logsealctl verify --state-dir %s' "
                          "reports on the whole chain",
                          q.refused, q.refused_batches, dir, STATE_ROOT_PUB, dir, STATE_HISTORY,
                          dir);
        if (case_id && r >= 0)
                (void) seal_custody_note(dir, LS_CUSTODY_QUERY, case_id, examiner,
                                         words[0] ? words + 1 : "(all)", q.printed, NULL);
        return r < 0 || stale || q.mismatched || q.unreadable || q.refused ? EXIT_FAILURE : 0;
}

/*
 * A custody record (SPEC §4.2) of an action on the appliance, sealed by the running daemon.
 * Without a daemon it cannot be sealed: say so (the action itself already happened).
 */
static int seal_custody_note(const char *dir, uint16_t action, const char *case_id,
                             const char *examiner, const char *filter, uint64_t count,
                             const char *text)
{
        LsControlBuilder *b = malloc(sizeof(*b));
        const uint8_t *body;
        size_t len;
        char *line;
        json_t *reply;
        int r;

        if (!b)
                return -ENOMEM;
        ls_control_begin(b, LS_CTL_CUSTODY);
        if (count != UINT64_MAX)
                ls_control_add_u64(b, LS_TAG_COUNT, count);
        if (text)
                ls_control_add_str(b, LS_TAG_TEXT, text);
        if (case_id)
                ls_control_add_str(b, LS_TAG_CASE_ID, case_id);
        if (examiner)
                ls_control_add_str(b, LS_TAG_EXAMINER, examiner);
        if (filter)
                ls_control_add_str(b, LS_TAG_FILTER, filter);
        ls_control_add_u16(b, LS_TAG_ACTION, action);
        r = ls_control_end(b, &body, &len);
        line = r == 0 ? malloc(2 * len + 16) : NULL;
        if (line) {
                memcpy(line, "custody ", 8);
                ls_hex(line + 8, body, len);
                strcat(line, "\n");
        }
        free(b);
        if (!line) {
                fprintf(stderr, PROG ": warning: custody record not sealed: %s\n",
                        strerror(r < 0 ? -r : ENOMEM));
                return r < 0 ? r : -ENOMEM;
        }
        reply = daemon_request(dir, line);
        free(line);
        if (!reply || !json_is_true(json_object_get(reply, "ok"))) {
                fprintf(stderr, PROG ": warning: the custody record (%s) was NOT sealed "
                                "(logseald %s)\n",
                        ls_custody_action_name(action),
                        reply ? json_string_value(json_object_get(reply, "error")) ?: "refused"
                              : "is not running");
                json_decref(reply);
                return -ENOTCONN;
        }
        json_decref(reply);
        fprintf(stderr, PROG ": custody record (%s) sealed into the chain\n",
                ls_custody_action_name(action));
        return 0;
}

/* ---- verify (on the appliance, with a custody record) ---- */

static int cmd_verify(int argc, char **argv)
{
        enum { OPT_CASE = 256, OPT_EXAMINER };
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"case", required_argument, NULL, OPT_CASE},
                {"examiner", required_argument, NULL, OPT_EXAMINER},
                {"help", no_argument, NULL, 'h'},
                {}};
        const char *dir = NULL, *case_id = NULL, *examiner = NULL;
        char self[PATH_MAX], bin[PATH_MAX + 64], root[PATH_MAX + 32], keys[PATH_MAX + 32],
                arch[PATH_MAX + 32], text[128];
        static const char *const verdicts[] = {"intact", "tampered or corrupt", "usage or I/O error",
                                               "gap", "partial"};
        ssize_t n;
        pid_t pid;
        int opt, st;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:h", opts, NULL)) != -1) {
                if (opt == 'd')
                        dir = optarg;
                else if (opt == OPT_CASE)
                        case_id = optarg;
                else if (opt == OPT_EXAMINER)
                        examiner = optarg;
                else if (opt == 'h') {
                        help();
                        return 0;
                } else
                        return bad_option("verify", opt, argv);
        }
        if (optind < argc || !dir)
                return usage_error("verify: --state-dir DIR is required (and nothing else)");
        /* logseal-verify next to this program (build tree or /usr/bin), else from PATH. */
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        self[n > 0 ? n : 0] = 0;
        snprintf(bin, sizeof(bin), "%s/../verifier/logseal-verify", dirname(self));
        if (access(bin, X_OK) < 0)
                snprintf(bin, sizeof(bin), "%s/../bin/logseal-verify", self);
        if (access(bin, X_OK) < 0)
                snprintf(bin, sizeof(bin), "logseal-verify");
        snprintf(root, sizeof(root), "%s/%s", dir, STATE_ROOT_PUB);
        snprintf(keys, sizeof(keys), "%s/%s", dir, STATE_HISTORY);
        snprintf(arch, sizeof(arch), "%s/%s", dir, STATE_ARCHIVES);
        char *args[] = {bin, "--root-key", root, "--keys", keys, arch, NULL};
        if (posix_spawnp(&pid, bin, NULL, NULL, args, environ) != 0)
                return log_errno(-errno, "%s", bin);
        if (waitpid(pid, &st, 0) < 0)
                return log_errno(-errno, "waiting for logseal-verify");
        if (!WIFEXITED(st))
                return log_error("logseal-verify did not finish");
        st = WEXITSTATUS(st);
        snprintf(text, sizeof(text), "verification run on the appliance: logseal-verify exit %d (%s)",
                 st, st < 5 ? verdicts[st] : "?");
        (void) seal_custody_note(dir, LS_CUSTODY_VERIFY, case_id, examiner, NULL, UINT64_MAX,
                                 text);
        return st;
}

/* ---- export ---- */

typedef struct Hits {
        IndexHit *v;
        size_t n, cap;
} Hits;

static int collect_hit(void *ud, const IndexHit *hit)
{
        Hits *h = ud;

        if (h->n == h->cap) {
                size_t cap = h->cap ? h->cap * 2 : 256;
                IndexHit *q;
                if (cap > (size_t) LS_BUNDLE_MAX_RECORDS * 2)
                        return -E2BIG;
                q = realloc(h->v, cap * sizeof(*q));
                if (!q)
                        return -ENOMEM;
                h->v = q;
                h->cap = cap;
        }
        h->v[h->n++] = *hit;
        return 0;
}

static int cmd_export(int argc, char **argv)
{
        enum { OPT_HOST = 256, OPT_APP, OPT_FROM, OPT_TO, OPT_CASE, OPT_EXAMINER, OPT_TAR };
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"case", required_argument, NULL, OPT_CASE},
                {"examiner", required_argument, NULL, OPT_EXAMINER},
                {"host", required_argument, NULL, OPT_HOST},
                {"app", required_argument, NULL, OPT_APP},
                {"from", required_argument, NULL, OPT_FROM},
                {"to", required_argument, NULL, OPT_TO},
                {"limit", required_argument, NULL, 'n'},
                {"out", required_argument, NULL, 'o'},
                {"tar", required_argument, NULL, OPT_TAR},
                {"help", no_argument, NULL, 'h'},
                {}};
        const char *dir = NULL, *from_s = NULL, *to_s = NULL;
        _cleanup_close_ int dirfd = -1, archfd = -1;
        ExportOptions eo = {.request = daemon_request};
        IndexFilter f = {.to_ns = UINT64_MAX, .syslog_only = 1};
        Hits hits = {0};
        Index *ix = NULL;
        uint64_t added = 0;
        char filter[1024];
        int opt, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:n:o:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'd':
                        dir = optarg;
                        break;
                case OPT_CASE:
                        eo.case_id = optarg;
                        break;
                case OPT_EXAMINER:
                        eo.examiner = optarg;
                        break;
                case OPT_HOST:
                        f.host = optarg;
                        break;
                case OPT_APP:
                        f.app = optarg;
                        break;
                case OPT_FROM:
                case OPT_TO:
                        r = time_option("export", opt == OPT_FROM ? "from" : "to", optarg,
                                        opt == OPT_FROM ? &f.from_ns : &f.to_ns);
                        if (r)
                                return r;
                        if (opt == OPT_FROM)
                                from_s = optarg;
                        else
                                to_s = optarg;
                        break;
                case 'n':
                        r = limit_option("export", optarg, &f.limit);
                        if (r)
                                return r;
                        break;
                case 'o':
                        eo.out = optarg;
                        break;
                case OPT_TAR:
                        eo.tar = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return bad_option("export", opt, argv);
                }
        }
        if (optind < argc)
                return usage_error("export: unexpected argument '%s'", argv[optind]);
        if (!dir || !eo.case_id || !eo.examiner || !eo.out)
                return usage_error("export: --state-dir, --case, --examiner and --out are "
                                   "required");
        if (strlen(eo.case_id) > 256 || strlen(eo.examiner) > 256)
                return usage_error("export: --case and --examiner take at most 256 bytes");
        if (!f.host && !f.app && !from_s && !to_s)
                return usage_error("export: give a selection (--host, --app, --from, --to): "
                                   "a bundle discloses only what a case needs");
        if (f.to_ns <= f.from_ns)
                return usage_error("export: --to must be later than --from");
        snprintf(filter, sizeof(filter), "%s%s%s%s%s%s%s%s%s%s", f.host ? "host=" : "",
                 f.host ? f.host : "", f.app ? " app=" : "", f.app ? f.app : "",
                 from_s ? " from=" : "", from_s ? from_s : "", to_s ? " to=" : "",
                 to_s ? to_s : "", f.limit ? " limit=" : "", "");
        if (f.limit)
                snprintf(filter + strlen(filter), sizeof(filter) - strlen(filter), "%" PRIu64,
                         f.limit);
        eo.filter = filter[0] == ' ' ? filter + 1 : filter;

        r = open_chain(dir, &dirfd, &archfd, eo.chain_id);
        if (r != 0)
                return r;
        r = index_open(&ix, dirfd, eo.chain_id);
        if (r < 0)
                return log_error("%s: %s (rebuild it with 'logsealctl reindex --state-dir %s')",
                                 dir, index_last_error(NULL), dir);
        index_set_log(ix, index_log_stderr, NULL);
        if (index_catch_up(ix, archfd, &added) < 0)
                fprintf(stderr, PROG ": warning: %s: the index may lack recent records: %s\n", dir,
                        index_last_error(ix));
        r = index_query(ix, &f, collect_hit, &hits);
        index_free(ix);
        if (r < 0) {
                free(hits.v);
                return log_errno(r, "%s: query", dir);
        }
        eo.state_dir = dir;
        eo.dirfd = dirfd;
        eo.archfd = archfd;
        eo.hits = hits.v;
        eo.nhits = hits.n;
        r = export_bundle(&eo);
        free(hits.v);
        return r;
}

/* ---- main ---- */

typedef struct Command {
        const char *name;
        int (*run)(int argc, char **argv);
} Command;

/* ---- checkpoint ---- */

static int read_checkpoint_file(const char *path, char **ret_text, LsCheckpoint *cp)
{
        uint8_t *p = NULL;
        size_t n, off = 0;
        int r = read_file_at(AT_FDCWD, path, LS_MAX_CHECKPOINT_TEXT + 1, &p, &n);

        if (r < 0)
                return log_errno(r, "%s", path);
        r = ls_checkpoint_parse(cp, (const char *) p, n, &off);
        if (r < 0) {
                free(p);
                return log_error("%s: byte %zu: not a valid logseal checkpoint", path, off);
        }
        *ret_text = (char *) p;
        return 0;
}

static int cmd_checkpoint(int argc, char **argv)
{
        enum { OPT_SINCE = 256, OPT_PROOF };
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"out", required_argument, NULL, 'o'},
                {"since", required_argument, NULL, OPT_SINCE},
                {"proof", required_argument, NULL, OPT_PROOF},
                {"help", no_argument, NULL, 'h'},
                {}};
        const char *dir = NULL, *out = NULL, *since = NULL, *proof_out = NULL, *text;
        _cleanup_free_ char *old_text = NULL, *proof_path = NULL;
        json_t *reply;
        int opt, r = 0;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:o:h", opts, NULL)) != -1) {
                if (opt == 'd')
                        dir = optarg;
                else if (opt == 'o')
                        out = optarg;
                else if (opt == OPT_SINCE)
                        since = optarg;
                else if (opt == OPT_PROOF)
                        proof_out = optarg;
                else if (opt == 'h') {
                        help();
                        return 0;
                } else
                        return bad_option("checkpoint", opt, argv);
        }
        if (!dir)
                return usage_error("checkpoint: --state-dir DIR is required");
        if (since && !out && !proof_out)
                return usage_error("checkpoint: --since needs --out NEW (the proof goes to "
                                   "NEW.proof) or --proof FILE");
        if (proof_out && !since)
                return usage_error("checkpoint: --proof needs --since OLD");
        reply = daemon_request(dir, "checkpoint\n");
        text = reply ? json_string_value(json_object_get(reply, "checkpoint")) : NULL;
        if (!text) {
                r = log_error("%s/%s: %s", dir, STATE_CONTROL,
                              reply ? json_string_value(json_object_get(reply, "error")) :
                                      "the daemon is not running");
                json_decref(reply);
                return r;
        }
        if (since) {
                /* NEW extends OLD: the consistency proof between them, from the archives. */
                LsCheckpoint old_cp, new_cp;
                ExportOptions eo = {.state_dir = dir, .request = daemon_request};
                _cleanup_close_ int dirfd = -1, archfd = -1;
                uint8_t proof[LS_MAX_CONSISTENCY_PROOF][LS_HASH_LEN], enc[20 + 32 * LS_MAX_CONSISTENCY_PROOF];
                unsigned count = 0;
                size_t len;

                r = read_checkpoint_file(since, &old_text, &old_cp);
                if (r == 0 && ls_checkpoint_parse(&new_cp, text, strlen(text), NULL) < 0)
                        r = log_error("the daemon's checkpoint does not parse");
                if (r == 0)
                        r = open_chain(dir, &dirfd, &archfd, eo.chain_id);
                if (r == 0 && memcmp(old_cp.chain_id, eo.chain_id, LS_CHAIN_ID_LEN) != 0)
                        r = log_error("%s: a checkpoint of another chain", since);
                if (r == 0 && (old_cp.tree_size == 0 || old_cp.tree_size > new_cp.tree_size))
                        r = log_error("%s: tree size %" PRIu64 " is not within the chain's %" PRIu64
                                      " records (a fork or another appliance?)",
                                      since, old_cp.tree_size, new_cp.tree_size);
                if (r == 0) {
                        eo.dirfd = dirfd;
                        eo.archfd = archfd;
                        r = export_consistency(&eo, &old_cp, &new_cp, proof, &count);
                }
                if (r == 0) {
                        LsProof p = {.kind = 2, .count = count, .a = old_cp.tree_size,
                                     .b = new_cp.tree_size, .path = &proof[0][0]};
                        r = ls_proof_encode(&p, enc, sizeof(enc), &len) < 0 ?
                                    log_error("encoding the proof") :
                                    0;
                }
                if (r == 0 && !proof_out) {
                        proof_path = malloc(strlen(out) + 8);
                        if (!proof_path) {
                                json_decref(reply);
                                return log_errno(-ENOMEM, "proof");
                        }
                        sprintf(proof_path, "%s.proof", out);
                        proof_out = proof_path;
                }
                if (r == 0)
                        r = write_new_file(proof_out, enc, len, 0644);
                if (r == 0)
                        fprintf(stderr, PROG ": checkpoint of %" PRIu64 " records extends %s (%" PRIu64
                                        " records); consistency proof in %s\n",
                                new_cp.tree_size, since, old_cp.tree_size, proof_out);
        }
        if (r == 0 && out)
                r = write_new_file(out, text, strlen(text), 0644);
        else if (r == 0)
                fputs(text, stdout);
        json_decref(reply);
        return r;
}

static const Command commands[] = {
        {"init", cmd_init},
        {"keygen", cmd_keygen},
        {"key", cmd_key},
        {"fingerprint", cmd_fingerprint},
        {"status", cmd_status},
        {"reindex", cmd_reindex},
        {"query", cmd_query},
        {"export", cmd_export},
        {"verify", cmd_verify},
        {"checkpoint", cmd_checkpoint},
};

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {}};
        int opt;

        /* '+': options after the command belong to the command. */
        while ((opt = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case 'V':
                        return version();
                default:
                        return bad_option(NULL, opt, argv);
                }
        }
        if (optind >= argc)
                return usage_error("missing command");
        if (sodium_init() < 0)
                return log_error("cannot initialise libsodium");

        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (!strcmp(argv[optind], commands[i].name))
                        return commands[i].run(argc - optind, argv + optind);
        return usage_error("unknown command '%s'", argv[optind]);
}
