/* SPDX-License-Identifier: Apache-2.0 */
/* secret.c: passphrases (from $LOGSEAL_PASSPHRASE or the terminal) and root keys, in guarded
 * memory */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"
#include "hash.h"
#include "keys.h"
#include "state.h"

#define PASSPHRASE_MAX 1024

/* Passphrases and secret key file images live in guarded memory, wiped on free. */
void *secret_free(void *p)
{
        sodium_free(p);
        return NULL;
}

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

int format_pubkey(char out[LS_PUBKEY_TEXT_MAX], const LsKeyPair *k)
{
        char comment[64], id[2 * LS_KEY_ID_LEN + 1];

        ls_hex(id, k->key_id, LS_KEY_ID_LEN);
        snprintf(comment, sizeof(comment), "logseal root public key %s", id);
        return ls_pubkey_format(out, LS_PUBKEY_TEXT_MAX, k->pk, comment);
}

/*
 * Generates a root key and encodes its secret key file (passphrase-protected
 * with Argon2id unless no_passphrase) and public key file.
 */
int make_root_key(int no_passphrase, LsKeyPair **ret_key, void **ret_secret,
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
int load_root_key(const char *path, LsKeyPair **ret)
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
