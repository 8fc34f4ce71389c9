/* SPDX-License-Identifier: Apache-2.0 */
/* confine.h: file-system confinement of logseald after start-up (Landlock) */
#pragma once

/*
 * What the running daemon may reach. Everything else on the file system is denied: the
 * state directory itself, keys/ and root.key in particular.
 *   STATE/archives, STATE/wal, STATE/index, publish_dir    all file rights
 *   publish_command (the file)                             read, execute
 *   /usr /bin /sbin /lib /lib32 /lib64 /etc /opt           read, execute
 *   /dev /proc /sys /run                                   read (and /dev/null read, write)
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
 * Landlock missing (ENOSYS, EOPNOTSUPP) or blocked (EPERM, a seccomp filter) is not an
 * error: one line is logged, ret->enforced is 0 and 0 is returned. Other failures return
 * -errno, the thread unconfined. With p->enable 0 only the self-check runs.
 */
int confine_ingest(const ConfinePaths *p, ConfineReport *ret);

/* The signer process: STATE/keys/ only (read, write, create, remove files), nothing else.
 * 1 enforced, 0 Landlock unavailable, -errno failure. */
int confine_signer(int state_dirfd);
