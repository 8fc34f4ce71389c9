/* SPDX-License-Identifier: Apache-2.0 */
/* confine.h: file-system confinement of logseald after start-up (Landlock) */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/*
 * What the running daemon may reach. Everything else on the file system is denied: the
 * state directory itself, keys/ and root.key in particular.
 *   STATE/archives, STATE/wal, STATE/index, publish_dir    all file rights
 *   publish_command (the file)                             read, execute
 *   /usr /bin /sbin /lib /lib32 /lib64 /etc /opt           read, execute
 *   /proc /sys /run, /dev/urandom, /dev/random            read
 *   /dev/null                                              read, write
 * (not the rest of /dev: block devices hold the keys' blocks).
 * The confinement is inherited by what the daemon runs (publish_command).
 */
typedef struct ConfinePaths {
        int state_dirfd;               /* the open state directory (the rules and self-check) */
        const char *state_dir;         /* its name, for messages */
        const char *publish_dir;       /* [checkpoint] publish_dir, NULL when none */
        const char *publish_command;   /* [checkpoint] publish_command, NULL when none */
        int enable;                    /* [daemon] confine; 0: only the self-check runs */
} ConfinePaths;

typedef struct ConfineReport {
        int landlock_abi;              /* the kernel's Landlock ABI version, 0 when unavailable */
        int disabled;                  /* [daemon] confine = no */
        unsigned uid;                  /* the user the daemon runs as */
        int no_capabilities;           /* effective, permitted, inheritable, ambient: empty */
        int bounding_empty;            /* the capability bounding set is empty too */
        int enforced;                  /* the calling thread (and what it starts) is confined */
        int no_new_privs;              /* PR_SET_NO_NEW_PRIVS is set */
        int keys_readable;             /* the self-check opened keys/signing.key or history.lsk */
} ConfineReport;

/*
 * Sets PR_SET_NO_NEW_PRIVS and restricts the calling thread, and every thread and process
 * it creates afterwards, to the paths above; threads started before keep their access
 * (Landlock is per thread): logseald calls it while it is still single-threaded, after the
 * signer process was forked and every listener and the control socket were bound. Then tries to open keys/signing.key and keys/history.lsk:
 * ret->keys_readable says whether that worked (a loud warning when it did).
 * Fail closed: Landlock missing (ENOSYS, EOPNOTSUPP), blocked (EPERM, a seccomp filter) or
 * any other failure returns -errno, the thread unconfined, and logseald refuses to start.
 * With p->enable 0 (confine = no) only the self-check runs: ret->disabled 1, 0 returned.
 */
int confine_ingest(const ConfinePaths *p, ConfineReport *ret);

/*
 * Users and capabilities. Started as root, logseald runs as an unprivileged user: [daemon]
 * user, default "logseal" (confine_resolve_user fills `change`; not root: nothing to change,
 * and a `user` naming another user is an error). confine_lower switches to it before the
 * signer is forked: bounding set emptied, supplementary groups cleared, real, effective and
 * saved uid and gid the user's, only CAP_NET_BIND_SERVICE, CAP_DAC_OVERRIDE and CAP_CHOWN
 * kept, until the sockets are bound (and its unix sockets made root's, as before); then confine_drop_capabilities clears every set (effective,
 * permitted, inheritable, ambient; the bounding set when it still can) and sets
 * no_new_privs. Each logs why it failed and returns -errno.
 */
#define CONFINE_DEFAULT_USER "logseal"
typedef struct ConfineUser {
        int change;                    /* started as root: switch to uid/gid */
        uid_t uid;
        gid_t gid;
        char name[64];
} ConfineUser;

int confine_resolve_user(const char *name, ConfineUser *ret);
int confine_lower(const ConfineUser *u);
int confine_drop_capabilities(void);
/* The START record's CONFINEMENT flags (SPEC §4.5, LS_CONFINE_*). */
uint32_t confine_flags(const ConfineReport *r, int signer_confined);
/* Fills rep's uid, no_capabilities, bounding_empty and no_new_privs from the kernel. */
void confine_privileges(ConfineReport *rep);

/* The signer process: STATE/keys/ only (read, write, create, remove files), nothing else.
 * 1 enforced, 0 Landlock unavailable, -errno failure. */
int confine_signer(int state_dirfd);
