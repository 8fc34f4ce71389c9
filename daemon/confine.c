/* SPDX-License-Identifier: Apache-2.0 */
/*
 * confine.c: once started, logseald's ingest side (network input, the control socket,
 * checkpoint publication and the command it runs) reaches only STATE/archives, STATE/wal,
 * STATE/index, the publish directory and the system's read-only directories (Landlock,
 * raw syscalls: no libLandlock). Not the state directory itself, not keys/.
 *
 * Landlock restricts the calling thread and what it creates afterwards. logseald calls
 * this while it is single-threaded (listeners and control socket bound, the signer process
 * forked), so the event loop, the sealing and the index threads and publish_command are all
 * confined. The signer process confines itself to keys/ (confine_signer).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/landlock.h>

#include "confine.h"
#include "defs.h"
#include "state.h"
#include "util.h"

/* Debian 12's linux-libc-dev (6.1) predates ABI 3; the value is kernel ABI. Without it
 * truncate(2) would stay allowed everywhere, keys/ included. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_READ_EXEC (FS_READ | LANDLOCK_ACCESS_FS_EXECUTE)
#define FS_ABI1                                                                                    \
        (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                             \
         LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |                             \
         LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                         \
         LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |                             \
         LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                             \
         LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                           \
         LANDLOCK_ACCESS_FS_MAKE_SYM)
/* Rights that make sense on a regular file (a rule on a file may hold no others). */
#define FS_FILE_RIGHTS                                                                             \
        (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                             \
         LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)

static int ll_create_ruleset(const struct landlock_ruleset_attr *attr, size_t size, uint32_t flags)
{
        return (int) syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

static int ll_add_rule(int ruleset_fd, enum landlock_rule_type type, const void *attr)
{
        return (int) syscall(SYS_landlock_add_rule, ruleset_fd, type, attr, 0);
}

static int ll_restrict_self(int ruleset_fd)
{
        return (int) syscall(SYS_landlock_restrict_self, ruleset_fd, 0);
}

/* A ruleset handling every file-system right this kernel's ABI knows: its fd, or -errno. */
static int new_ruleset(int abi, uint64_t *ret_handled)
{
        struct landlock_ruleset_attr attr = {.handled_access_fs = FS_ABI1};
        int fd;

        if (abi >= 2)
                attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
        if (abi >= 3)
                attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
        fd = ll_create_ruleset(&attr, sizeof(attr), 0);
        if (fd < 0)
                return -errno;
        *ret_handled = attr.handled_access_fs;
        return fd;
}

/* Grants access (within what the ruleset handles) beneath fd, or on fd when a file. */
static int allow_fd(int ruleset_fd, int fd, uint64_t access, uint64_t handled, int is_dir)
{
        struct landlock_path_beneath_attr pb = {
                .allowed_access = access & handled & (is_dir ? UINT64_MAX : FS_FILE_RIGHTS),
                .parent_fd = fd,
        };

        if (!pb.allowed_access)
                return 0;
        return ll_add_rule(ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &pb) < 0 ? -errno : 0;
}

/* A path that does not exist gets no rule (and stays denied): -ENOENT, for the caller to judge. */
static int allow_path(int ruleset_fd, int dirfd, const char *path, uint64_t access, uint64_t handled)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = openat(dirfd, path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        return allow_fd(ruleset_fd, fd, access, handled, S_ISDIR(st.st_mode));
}

/* 1 when the file could be opened for reading, 0 when not (denied or missing). */
static int readable_at(int dirfd, const char *name, int *ret_errno)
{
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0) {
                *ret_errno = errno;
                return 0;
        }
        close(fd);
        *ret_errno = 0;
        return 1;
}

static void self_check(const ConfinePaths *p, ConfineReport *rep)
{
        static const char *const secrets[] = {STATE_SIGNING_KEY, STATE_HISTORY, STATE_ROOT_KEY};

        rep->keys_readable = 0;
        for (size_t i = 0; i < ELEMENTSOF(secrets); i++) {
                int e;
                if (!readable_at(p->state_dirfd, secrets[i], &e)) {
                        /* Denied is what we want; root.key is normally offline (missing). */
                        if (rep->enforced && e != EACCES && e != ENOENT)
                                fprintf(stderr, "logseald: confinement self-check: %s/%s: %s\n",
                                        p->state_dir, secrets[i], strerror(e));
                        continue;
                }
                rep->keys_readable = 1;
                if (rep->enforced)
                        fprintf(stderr,
                                "logseald: WARNING: %s/%s IS STILL READABLE after the Landlock "
                                "confinement: the state directory lies beneath a directory the "
                                "daemon may read or write (system directories, publish_dir); "
                                "move it elsewhere (e.g. /var/lib/logseal)\n",
                                p->state_dir, secrets[i]);
        }
}

int confine_ingest(const ConfinePaths *p, ConfineReport *ret)
{
        static const char *const sys_exec[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32",
                                                "/lib64", "/etc", "/opt"};
        static const char *const sys_read[] = {"/proc", "/sys", "/run", "/dev/urandom",
                                                "/dev/random"};
        static const char *const state_rw[] = {STATE_ARCHIVES, STATE_WAL, STATE_INDEX_DIR};
        _cleanup_close_ int ruleset_fd = -1;
        ConfineReport rep = {};
        uint64_t handled;
        int abi, r;

        abi = ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        rep.landlock_abi = abi > 0 ? abi : 0;
        if (!p->enable) {
                rep.disabled = 1;
                fprintf(stderr, "logseald: [daemon] confine = no: running WITHOUT file-system "
                                "confinement (recorded in the chain's START record)\n");
                goto done;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                r = -errno;
                fprintf(stderr, "logseald: cannot set no_new_privs: %s\n", strerror(-r));
                goto fail;
        }
        rep.no_new_privs = 1;
        if (abi < 0) {
                /* Fail closed: unconfined, the ingest process could read keys/ (and what
                 * else the user may). Only an explicit confine = no runs so. */
                r = -errno;
                fprintf(stderr, "logseald: Landlock is %s (%s)\n",
                        r == -EPERM  ? "blocked (a seccomp filter: container runtime, service "
                                       "manager)" :
                        r == -ENOSYS ? "not in this kernel (Linux 5.13 or later has it)" :
                        r == -EOPNOTSUPP ? "disabled in this kernel (add landlock to the lsm= "
                                           "boot parameter)" :
                                           "not usable",
                        strerror(-r));
                goto fail;
        }

        ruleset_fd = new_ruleset(abi, &handled);
        if (ruleset_fd < 0) {
                r = ruleset_fd;
                fprintf(stderr, "logseald: cannot create a Landlock ruleset: %s\n", strerror(-r));
                goto fail;
        }

        /* What the daemon writes: all rights there. */
        for (size_t i = 0; i < ELEMENTSOF(state_rw); i++) {
                r = allow_path(ruleset_fd, p->state_dirfd, state_rw[i], handled, handled);
                if (r < 0) {
                        fprintf(stderr, "logseald: confinement: %s/%s: %s\n", p->state_dir,
                                state_rw[i], strerror(-r));
                        goto fail;
                }
        }
        if (p->publish_dir) {
                r = allow_path(ruleset_fd, AT_FDCWD, p->publish_dir, handled, handled);
                if (r < 0)
                        fprintf(stderr, "logseald: confinement: publish_dir %s: %s; checkpoints "
                                        "cannot be published there until a restart\n",
                                p->publish_dir, strerror(-r));
        }
        if (p->publish_command) {
                r = allow_path(ruleset_fd, AT_FDCWD, p->publish_command, FS_READ_EXEC, handled);
                if (r < 0)
                        fprintf(stderr, "logseald: confinement: publish_command %s: %s\n",
                                p->publish_command, strerror(-r));
        }
        /* The system: programs and libraries for publish_command, configuration, devices. */
        for (size_t i = 0; i < ELEMENTSOF(sys_exec); i++) {
                r = allow_path(ruleset_fd, AT_FDCWD, sys_exec[i], FS_READ_EXEC, handled);
                if (r < 0 && r != -ENOENT)
                        goto fail_rule;
        }
        for (size_t i = 0; i < ELEMENTSOF(sys_read); i++) {
                r = allow_path(ruleset_fd, AT_FDCWD, sys_read[i], FS_READ, handled);
                if (r < 0 && r != -ENOENT)
                        goto fail_rule;
        }
        r = allow_path(ruleset_fd, AT_FDCWD, "/dev/null",
                       FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE,
                       handled);
        if (r < 0 && r != -ENOENT)
                goto fail_rule;

        if (ll_restrict_self(ruleset_fd) < 0) {
                r = -errno;
                fprintf(stderr, "logseald: cannot enforce the Landlock ruleset: %s\n", strerror(-r));
                goto fail;
        }
        rep.enforced = 1;
        fprintf(stderr,
                "logseald: confined (Landlock ABI %d): writes only to %s/{%s,%s,%s}%s%s, reads "
                "the system directories; the rest of %s, keys/ included, is out of reach\n",
                abi, p->state_dir, STATE_ARCHIVES, STATE_WAL, STATE_INDEX_DIR,
                p->publish_dir ? " and " : "", p->publish_dir ? p->publish_dir : "", p->state_dir);
done:
        self_check(p, &rep);
        *ret = rep;
        return 0;

fail_rule:
        fprintf(stderr, "logseald: cannot add a Landlock rule: %s\n", strerror(-r));
fail:
        fprintf(stderr, "logseald: refusing to run without file-system confinement; to run "
                        "unconfined anyway, say so with confine = no in [daemon] "
                        "(logseald.conf(5)): it is recorded in the chain\n");
        self_check(p, &rep);
        *ret = rep;
        return r;
}

/*
 * The signer process: keys/ and nothing else (no execution anywhere). Returns 1 when
 * enforced, 0 when Landlock is unavailable, -errno on failure. Self-check: the state
 * directory's chain.id must be out of reach afterwards.
 */
int confine_signer(int state_dirfd)
{
        _cleanup_close_ int ruleset_fd = -1;
        uint64_t handled;
        int abi, r, e;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        abi = ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        if (abi < 0)
                return errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM ? 0 : -errno;
        ruleset_fd = new_ruleset(abi, &handled);
        if (ruleset_fd < 0)
                return ruleset_fd;
        r = allow_path(ruleset_fd, state_dirfd, STATE_KEYS_DIR,
                       LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                               LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
                               LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE,
                       handled);
        if (r < 0)
                return r;
        if (ll_restrict_self(ruleset_fd) < 0)
                return -errno;
        if (readable_at(state_dirfd, STATE_CHAIN_ID, &e))
                return -EPERM; /* the rules did not take: say so, do not pretend */
        return 1;
}

/* ---- users and capabilities ---- */

int confine_resolve_user(const char *name, ConfineUser *ret)
{
        const char *want = name ? name : CONFINE_DEFAULT_USER;
        struct passwd *pw;

        *ret = (ConfineUser){};
        if (geteuid() != 0) {
                if (name && (!(pw = getpwnam(name)) || pw->pw_uid != geteuid())) {
                        fprintf(stderr, "logseald: user = %s: only a start as root can change the "
                                        "user (logseald runs as uid %u)\n",
                                name, (unsigned) geteuid());
                        return -EPERM;
                }
                return 0; /* runs as itself */
        }
        errno = 0;
        pw = getpwnam(want);
        if (!pw) {
                fprintf(stderr,
                        "logseald: started as root, logseald runs as the user '%s'%s, which does "
                        "not exist (%s).\nCreate it (as root): useradd --system --user-group "
                        "--home-dir /var/lib/logseal --shell /usr/sbin/nologin %s\nor name another "
                        "one with user = in [daemon] (logseald.conf(5)).\n",
                        want, name ? " (user = in [daemon])" : " (the default)",
                        errno ? strerror(errno) : "no such user", want);
                return -ESRCH;
        }
        if (pw->pw_uid == 0) {
                fprintf(stderr, "logseald: user = %s: logseald does not run as root; name an "
                                "unprivileged user (default %s)\n",
                        want, CONFINE_DEFAULT_USER);
                return -EPERM;
        }
        if (strlen(pw->pw_name) >= sizeof(ret->name))
                return -ENAMETOOLONG;
        ret->uid = pw->pw_uid;
        ret->gid = pw->pw_gid;
        strcpy(ret->name, pw->pw_name);
        ret->change = 1;
        return 0;
}

static int caps_get(struct __user_cap_data_struct data[2])
{
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};

        return syscall(SYS_capget, &h, data) < 0 ? -errno : 0;
}

/* Sets the effective and permitted sets to `keep` (a mask of capability numbers < 32), the
 * inheritable one empty. */
static int caps_set(uint32_t keep)
{
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2] = {{.effective = keep, .permitted = keep}};

        return syscall(SYS_capset, &h, data) < 0 ? -errno : 0;
}

static int caps_any(void)
{
        struct __user_cap_data_struct data[2] = {};

        if (caps_get(data) < 0)
                return 1;
        for (int i = 0; i < 2; i++)
                if (data[i].effective || data[i].permitted || data[i].inheritable)
                        return 1;
        for (int c = 0; c < 64; c++) {
                int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0);
                if (r < 0)
                        break;
                if (r > 0)
                        return 1;
        }
        return 0;
}

static int bounding_empty(void)
{
        for (int c = 0; c < 64; c++) {
                int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
                if (r < 0)
                        break; /* past the last capability */
                if (r > 0)
                        return 0;
        }
        return 1;
}

#define KEEP_FOR_BINDING                                                                           \
        ((1u << CAP_NET_BIND_SERVICE) | (1u << CAP_DAC_OVERRIDE) | (1u << CAP_CHOWN))

int confine_lower(const ConfineUser *u)
{
        int r;

        if (!u->change)
                return 0;
        /* Nothing this process or what it runs can gain back: the bounding set goes first
         * (it needs CAP_SETPCAP, which the switch of user takes away). */
        for (int c = 0; c < 64; c++) {
                if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
                        break;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
                        r = -errno;
                        fprintf(stderr, "logseald: cannot drop capability %d from the bounding "
                                        "set: %s\n", c, strerror(-r));
                        return r;
                }
        }
        (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
            setresgid(u->gid, u->gid, u->gid) < 0 || setresuid(u->uid, u->uid, u->uid) < 0) {
                r = -errno;
                fprintf(stderr, "logseald: cannot switch to the user %s: %s\n", u->name,
                        strerror(-r));
                return r;
        }
        (void) prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        /* Until the sockets are bound (ports below 1024, unix sockets in root's directories,
         * made root's): these three, then none (confine_drop_capabilities). */
        r = caps_set(KEEP_FOR_BINDING);
        if (r < 0) {
                fprintf(stderr, "logseald: cannot set the capabilities: %s\n", strerror(-r));
                return r;
        }
        if (getuid() != u->uid || geteuid() != u->uid || getgid() != u->gid ||
            getegid() != u->gid)
                return -EPERM;
        fprintf(stderr, "logseald: started as root: running as %s (uid %u, gid %u)\n", u->name,
                (unsigned) u->uid, (unsigned) u->gid);
        return 0;
}

int confine_drop_capabilities(void)
{
        int r;

        (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) > 0) {
                /* Started with capabilities but not as root (AmbientCapabilities=): the
                 * bounding set can be emptied while CAP_SETPCAP is still ours. */
                struct __user_cap_data_struct data[2] = {};
                if (caps_get(data) == 0 && (data[0].effective & (1u << CAP_SETPCAP)))
                        for (int c = 0; c < 64; c++)
                                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                                        break;
        }
        /* capset only when something is left: a service manager's system call filter may
         * forbid it (logseald.service: ~@privileged), and there is nothing to do then. */
        if (caps_any()) {
                r = caps_set(0);
                if (r < 0) {
                        fprintf(stderr, "logseald: cannot clear the capabilities: %s\n",
                                strerror(-r));
                        return r;
                }
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        if (caps_any())
                return -EPERM; /* the kernel disagrees: do not pretend */
        return 0;
}

void confine_privileges(ConfineReport *rep)
{
        rep->uid = (unsigned) geteuid();
        rep->no_capabilities = !caps_any();
        rep->bounding_empty = bounding_empty();
        rep->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
}

uint32_t confine_flags(const ConfineReport *r, int signer_confined)
{
        return (r->enforced ? LS_CONFINE_LANDLOCK : 0) | (r->disabled ? LS_CONFINE_DISABLED : 0) |
               (r->no_capabilities ? LS_CONFINE_NO_CAPABILITIES : 0) |
               (r->bounding_empty ? LS_CONFINE_BOUNDING_EMPTY : 0) |
               (r->no_new_privs ? LS_CONFINE_NO_NEW_PRIVS : 0) |
               (signer_confined ? LS_CONFINE_SIGNER : 0);
}
