/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfault.so: an LD_PRELOAD fault injector for the daemon's writes.
 *
 *   LOGSEAL_FAULT=SUBSTR:ERRNO:MODE   files whose path contains SUBSTR get faults:
 *                                     ERRNO is ENOSPC or EIO; MODE is
 *                                       fail  - write/pwrite/fsync/fdatasync/ftruncate fail
 *                                       short - writes write half and return a short count,
 *                                               the next call on that file fails
 *   LOGSEAL_FAULT_SWITCH=PATH         faults are active only while PATH exists
 *   LOGSEAL_FAULT_LOG=PATH            each injected fault appends a line here (counted by tests)
 *   LOGSEAL_DURABLE_LOG=PATH          power-loss simulation: after every successful fsync or
 *                                     fdatasync of a regular file, append "SIZE PATH" here: what
 *                                     a power cut could not take away (tests/fault/test-powerloss.py)
 *   LOGSEAL_KILL=SUBSTR:HEX:N         a crash at a chosen moment: the Nth write to a file whose
 *                                     path contains SUBSTR and whose data begin with the bytes
 *                                     HEX (may be empty) writes half its data (a torn write),
 *                                     logs "kill" and SIGKILLs the process
 *
 * Paths are learnt when files are opened (readlink of /proc/self/fd/N), so relative opens
 * through directory fds are covered. Only regular files are affected.
 *
 * The two log files are opened when the library is loaded: logseald confines itself after
 * start-up (daemon/confine.c, Landlock) and could not open them later.
 */
/* The real names, not the 64-bit or fortified aliases the project's flags would select. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 4096
#define MIN_LEN(a, b) ((size_t) (a) < (b) ? (size_t) (a) : (b))

static _Atomic unsigned char watched[MAX_FD];   /* 1 watched, 2 watched and owes a failure */
static char substr[320];
static int fault_errno, short_mode, configured = -1;
static const char *switch_path;
static _Atomic unsigned char kill_watched[MAX_FD];
static char kill_substr[320];
static uint8_t kill_prefix[64];
static size_t kill_prefix_len;
static _Atomic long kill_countdown = -1;
static int log_fd = -1, durable_fd = -1;        /* LOGSEAL_FAULT_LOG, LOGSEAL_DURABLE_LOG */

static int open_log(const char *env)
{
        const char *path = getenv(env);

        if (!path)
                return -1;
        /* The raw syscall: neither our open() below nor a path it could learn. */
        return (int) syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                             0644);
}

__attribute__((constructor)) static void open_logs(void)
{
        log_fd = open_log("LOGSEAL_FAULT_LOG");
        durable_fd = open_log("LOGSEAL_DURABLE_LOG");
}

/* One line, one write(2) to an O_APPEND file: lines of several threads never mix. */
static void log_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(int fd, const char *fmt, ...)
{
        char buf[640];
        va_list ap;
        int n, saved = errno;

        if (fd < 0)
                return;
        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n > 0)
                (void) syscall(SYS_write, fd, buf, (size_t) MIN_LEN(n, sizeof(buf) - 1));
        errno = saved;
}

/* Splits the variable's value FIRST:SECOND:REST into buf: 0, or -1 when unset or malformed. */
static int split_spec(const char *env, char buf[320], char **second, char **rest)
{
        const char *spec = getenv(env);
        char *a, *b;

        if (!spec || strlen(spec) >= 320)
                return -1;
        strcpy(buf, spec);
        a = strchr(buf, ':');
        b = a ? strchr(a + 1, ':') : NULL;
        if (!a || !b)
                return -1;
        *a++ = 0;
        *b++ = 0;
        *second = a;
        *rest = b;
        return 0;
}

static void configure_kill(void)
{
        char buf[320], *a, *b;

        if (split_spec("LOGSEAL_KILL", buf, &a, &b) < 0)
                return;
        snprintf(kill_substr, sizeof(kill_substr), "%s", buf);
        for (kill_prefix_len = 0; a[2 * kill_prefix_len] && a[2 * kill_prefix_len + 1] &&
                                  kill_prefix_len < sizeof(kill_prefix);
             kill_prefix_len++) {
                unsigned v;
                if (sscanf(a + 2 * kill_prefix_len, "%2x", &v) != 1)
                        return;
                kill_prefix[kill_prefix_len] = (uint8_t) v;
        }
        atomic_store(&kill_countdown, strtol(b, NULL, 10));
}

static void configure(void)
{
        char buf[320], *a, *b;

        if (configured >= 0)
                return;
        configured = 0;
        configure_kill();
        if (split_spec("LOGSEAL_FAULT", buf, &a, &b) < 0)
                return;
        snprintf(substr, sizeof(substr), "%s", buf);
        fault_errno = !strcmp(a, "EIO") ? EIO : ENOSPC;
        short_mode = !strcmp(b, "short");
        switch_path = getenv("LOGSEAL_FAULT_SWITCH");
        configured = 1;
}

static void learn(int fd)
{
        char link[64], path[512];
        struct stat st;
        ssize_t n;

        configure();
        if ((configured != 1 && !kill_substr[0]) || fd < 0 || fd >= MAX_FD)
                return;
        atomic_store(&watched[fd], 0);
        atomic_store(&kill_watched[fd], 0);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return;
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof(path) - 1);
        if (n <= 0)
                return;
        path[n] = 0;
        if (configured == 1 && strstr(path, substr))
                atomic_store(&watched[fd], 1);
        if (kill_substr[0] && strstr(path, kill_substr))
                atomic_store(&kill_watched[fd], 1);
}

/* LOGSEAL_KILL: 1 when this write is the chosen one (the caller writes half, then dies). */
static int kill_here(int fd, const void *p, size_t n)
{
        if (fd < 0 || fd >= MAX_FD || !atomic_load(&kill_watched[fd]) || n < kill_prefix_len ||
            memcmp(p, kill_prefix, kill_prefix_len) != 0)
                return 0;
        return atomic_fetch_sub(&kill_countdown, 1) == 1;
}

static _Noreturn void die(int fd)
{
        log_line(log_fd, "kill fd %d\n", fd);
        (void) syscall(SYS_kill, getpid(), SIGKILL);
        _exit(137);
}

static int active(int fd)
{
        if (configured != 1 || fd < 0 || fd >= MAX_FD || !atomic_load(&watched[fd]))
                return 0;
        return !switch_path || access(switch_path, F_OK) == 0;
}

static void note(const char *what, int fd)
{
        log_line(log_fd, "%s fd %d\n", what, fd);
}

#define REAL(name, ret, ...)                                                                     \
        static ret (*real_##name)(__VA_ARGS__);                                                  \
        if (!real_##name)                                                                         \
                real_##name = (ret (*)(__VA_ARGS__)) dlsym(RTLD_NEXT, #name)

int open(const char *path, int flags, ...)
{
        mode_t mode = 0;
        int fd;
        REAL(open, int, const char *, int, ...);

        if (flags & (O_CREAT | O_TMPFILE)) {
                va_list ap;
                va_start(ap, flags);
                mode = (mode_t) va_arg(ap, int);
                va_end(ap);
        }
        fd = real_open(path, flags, mode);
        learn(fd);
        return fd;
}

int open64(const char *path, int flags, ...)
{
        mode_t mode = 0;
        int fd;
        REAL(open64, int, const char *, int, ...);

        if (flags & (O_CREAT | O_TMPFILE)) {
                va_list ap;
                va_start(ap, flags);
                mode = (mode_t) va_arg(ap, int);
                va_end(ap);
        }
        fd = real_open64(path, flags, mode);
        learn(fd);
        return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
        mode_t mode = 0;
        int fd;
        REAL(openat, int, int, const char *, int, ...);

        if (flags & (O_CREAT | O_TMPFILE)) {
                va_list ap;
                va_start(ap, flags);
                mode = (mode_t) va_arg(ap, int);
                va_end(ap);
        }
        fd = real_openat(dirfd, path, flags, mode);
        learn(fd);
        return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
        mode_t mode = 0;
        int fd;
        REAL(openat64, int, int, const char *, int, ...);

        if (flags & (O_CREAT | O_TMPFILE)) {
                va_list ap;
                va_start(ap, flags);
                mode = (mode_t) va_arg(ap, int);
                va_end(ap);
        }
        fd = real_openat64(dirfd, path, flags, mode);
        learn(fd);
        return fd;
}

/* A failure owed after a short write, or the configured failure. */
static int fail_now(int fd, const char *what)
{
        if (!active(fd))
                return 0;
        if (!short_mode || atomic_load(&watched[fd]) == 2) {
                atomic_store(&watched[fd], 1);
                note(what, fd);
                errno = fault_errno;
                return 1;
        }
        return 0;
}

ssize_t write(int fd, const void *p, size_t n)
{
        REAL(write, ssize_t, int, const void *, size_t);

        if (kill_here(fd, p, n)) {
                (void) real_write(fd, p, n / 2);
                die(fd);
        }
        if (fail_now(fd, "write"))
                return -1;
        if (short_mode && active(fd) && n > 1) {
                atomic_store(&watched[fd], 2);
                note("short write", fd);
                return real_write(fd, p, n / 2);
        }
        return real_write(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
        REAL(pwrite, ssize_t, int, const void *, size_t, off_t);

        if (kill_here(fd, p, n)) {
                (void) real_pwrite(fd, p, n / 2, off);
                die(fd);
        }
        if (fail_now(fd, "pwrite"))
                return -1;
        if (short_mode && active(fd) && n > 1) {
                atomic_store(&watched[fd], 2);
                note("short pwrite", fd);
                return real_pwrite(fd, p, n / 2, off);
        }
        return real_pwrite(fd, p, n, off);
}

ssize_t pwrite64(int fd, const void *p, size_t n, off_t off)
{
        REAL(pwrite64, ssize_t, int, const void *, size_t, off_t);

        if (kill_here(fd, p, n)) {
                (void) real_pwrite64(fd, p, n / 2, off);
                die(fd);
        }
        if (fail_now(fd, "pwrite64"))
                return -1;
        if (short_mode && active(fd) && n > 1) {
                atomic_store(&watched[fd], 2);
                note("short pwrite64", fd);
                return real_pwrite64(fd, p, n / 2, off);
        }
        return real_pwrite64(fd, p, n, off);
}

/* Records the size a file had when it was made durable. */
static void durable(int fd)
{
        char link[64], name[512];
        struct stat st;
        ssize_t n;
        int saved = errno;

        if (durable_fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return;
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, name, sizeof(name) - 1);
        if (n > 0) {
                name[n] = 0;
                log_line(durable_fd, "%lld %s\n", (long long) st.st_size, name);
        }
        errno = saved;
}

int fsync(int fd)
{
        int r;
        REAL(fsync, int, int);

        if (!short_mode && fail_now(fd, "fsync"))
                return -1;
        r = real_fsync(fd);
        if (r == 0)
                durable(fd);
        return r;
}

int fdatasync(int fd)
{
        int r;
        REAL(fdatasync, int, int);

        if (!short_mode && fail_now(fd, "fdatasync"))
                return -1;
        r = real_fdatasync(fd);
        if (r == 0)
                durable(fd);
        return r;
}
