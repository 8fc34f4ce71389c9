/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nolandlock ERRNO PROGRAM [ARGS...]: runs PROGRAM under a seccomp filter that makes the
 * three Landlock system calls fail with ERRNO (ENOSYS: a kernel without Landlock, EOPNOTSUPP:
 * Landlock built in but not enabled, EPERM: a container runtime's filter). The real
 * logseald, on a kernel that has Landlock, sees what it sees on one that does not.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#define NR_LANDLOCK_CREATE_RULESET 444 /* 444-446 on every architecture */
#define NR_LANDLOCK_RESTRICT_SELF 446

int main(int argc, char **argv)
{
        int err;

        if (argc < 3) {
                fprintf(stderr, "usage: nolandlock ENOSYS|EOPNOTSUPP|EPERM PROGRAM [ARGS...]\n");
                return 2;
        }
        if (!strcmp(argv[1], "ENOSYS"))
                err = ENOSYS;
        else if (!strcmp(argv[1], "EOPNOTSUPP"))
                err = EOPNOTSUPP;
        else if (!strcmp(argv[1], "EPERM"))
                err = EPERM;
        else {
                fprintf(stderr, "nolandlock: unknown errno %s\n", argv[1]);
                return 2;
        }
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, NR_LANDLOCK_CREATE_RULESET, 0, 2),
                BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, NR_LANDLOCK_RESTRICT_SELF, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned) err & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = (unsigned short) (sizeof(f) / sizeof(f[0])), .filter = f};

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
                perror("nolandlock: seccomp");
                return 1;
        }
        execv(argv[2], argv + 2);
        perror("nolandlock: exec");
        return 127;
}
