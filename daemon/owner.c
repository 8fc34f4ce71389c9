/* SPDX-License-Identifier: Apache-2.0 */
/* owner.c: does the state directory belong to the user the daemon runs as? */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owner.h"
#include "state.h"

static int foreign(int dirfd, const char *name, uid_t uid, uid_t *ret_owner)
{
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno; /* missing: its user says so */
        if (st.st_uid == uid)
                return 0;
        *ret_owner = st.st_uid;
        return 1;
}

/* The entries of one subdirectory; EACCES on the directory itself is reported by the caller. */
static int foreign_in(int dirfd, const char *sub, uid_t uid, char *ret_name, size_t n,
                      uid_t *ret_owner)
{
        int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while (r == 0 && (de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                r = foreign(fd, de->d_name, uid, ret_owner);
                if (r > 0)
                        snprintf(ret_name, n, "%s/%s", sub, de->d_name);
        }
        closedir(d);
        return r;
}

int state_find_foreign(int dirfd, uid_t uid, char *ret_name, size_t n, uid_t *ret_owner)
{
        static const char *const top[] = {
                ".",       STATE_CHAIN_ID, STATE_ROOT_PUB, STATE_KEYS_DIR, STATE_ARCHIVES,
                STATE_WAL, STATE_INDEX_DIR};
        static const char *const subs[] = {STATE_KEYS_DIR, STATE_WAL, STATE_INDEX_DIR};
        int r;

        for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
                r = foreign(dirfd, top[i], uid, ret_owner);
                if (r != 0) {
                        if (r > 0)
                                snprintf(ret_name, n, "%s", top[i]);
                        return r;
                }
        }
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
                r = foreign_in(dirfd, subs[i], uid, ret_name, n, ret_owner);
                /* Unreadable: it is not ours (mode 0700 of another user), or the check's
                 * own limit; either way the start-up steps report it. */
                if (r != 0)
                        return r == -EACCES ? 0 : r;
        }
        return 0;
}

const char *user_name(uid_t uid, char *buf, size_t n)
{
        struct passwd *pw = getpwuid(uid);

        if (pw)
                snprintf(buf, n, "%s", pw->pw_name);
        else
                snprintf(buf, n, "%u", (unsigned) uid);
        return buf;
}

const char *group_name(gid_t gid, char *buf, size_t n)
{
        struct group *gr = getgrgid(gid);

        if (gr)
                snprintf(buf, n, "%s", gr->gr_name);
        else
                snprintf(buf, n, "%u", (unsigned) gid);
        return buf;
}

/*
 * One entry: root's becomes the user's. Through an O_PATH descriptor, so what is checked is
 * what is changed (the user owns the directory and could swap the name); never followed;
 * a regular file with other links is left alone (a hard link to a file of root's elsewhere).
 */
static int adopt(int dirfd, const char *name, uid_t uid, gid_t gid, uint64_t *n)
{
        int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), r = 0;
        struct stat st;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (st.st_uid == 0 && !(S_ISREG(st.st_mode) && st.st_nlink > 1)) {
                if (fchownat(fd, "", uid, st.st_gid == 0 ? gid : st.st_gid,
                             AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                        r = -errno;
                else
                        (*n)++;
        }
        close(fd);
        return r;
}

static int adopt_in(int dirfd, const char *sub, uid_t uid, gid_t gid, uint64_t *n)
{
        int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r = 0;
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while (r == 0 && (de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                r = adopt(fd, de->d_name, uid, gid, n);
        }
        closedir(d);
        return r;
}

int state_adopt(int dirfd, uid_t uid, gid_t gid, uint64_t *ret_changed)
{
        static const char *const top[] = {".", STATE_CHAIN_ID, STATE_ROOT_PUB, STATE_KEYS_DIR,
                                          STATE_ARCHIVES, STATE_WAL, STATE_INDEX_DIR,
                                          STATE_SEALED_LEGACY, STATE_INDEX_LEGACY, STATE_CONTROL};
        static const char *const subs[] = {STATE_KEYS_DIR, STATE_ARCHIVES, STATE_WAL,
                                           STATE_INDEX_DIR};
        int r = 0;

        *ret_changed = 0;
        for (size_t i = 0; r == 0 && i < sizeof(top) / sizeof(top[0]); i++)
                r = adopt(dirfd, top[i], uid, gid, ret_changed);
        for (size_t i = 0; r == 0 && i < sizeof(subs) / sizeof(subs[0]); i++)
                r = adopt_in(dirfd, subs[i], uid, gid, ret_changed);
        return r;
}
