/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-main.c: replay driver: feeds files (or every file of directories) to a fuzz target */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static unsigned long ran;

/* Reads a whole file into an exactly sized heap buffer, so ASan sees any overread. */
static int read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
        struct stat st;
        uint8_t *buf;
        size_t len, got = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                goto out;
        }
        if (!S_ISREG(st.st_mode)) {
                r = -EINVAL;
                goto out;
        }
        len = (size_t) st.st_size;
        buf = malloc(len ? len : 1);
        if (!buf) {
                r = -ENOMEM;
                goto out;
        }
        while (got < len) {
                ssize_t k = read(fd, buf + got, len - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : -EIO;
                        free(buf);
                        goto out;
                }
                got += (size_t) k;
        }
        *ret = buf;
        *ret_len = len;
out:
        close(fd);
        return r;
}

static int run_file(const char *path)
{
        uint8_t *buf = NULL;
        size_t len = 0;
        int r = read_file(path, &buf, &len);

        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return r;
        }
        fprintf(stderr, "running %s (%zu bytes)\n", path, len);
        (void) LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        ran++;
        return 0;
}

static int skip_entry(const struct dirent *de)
{
        return de->d_name[0] != '.';
}

static int run_dir(const char *dir)
{
        struct dirent **list;
        int n = scandir(dir, &list, skip_entry, alphasort), r = 0;

        if (n < 0) {
                r = -errno;
                fprintf(stderr, "%s: %s\n", dir, strerror(-r));
                return r;
        }
        for (int i = 0; i < n; i++) {
                size_t len = strlen(dir) + 1 + strlen(list[i]->d_name) + 1;
                char *path = malloc(len);
                struct stat st;

                if (!path) {
                        r = -ENOMEM;
                } else {
                        snprintf(path, len, "%s/%s", dir, list[i]->d_name);
                        /* Files only: corpora are flat directories. */
                        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                                fprintf(stderr, "%s: directory, skipped\n", path);
                        else if (run_file(path) < 0)
                                r = -EIO;
                        free(path);
                }
                free(list[i]);
        }
        free(list);
        return r;
}

int main(int argc, char **argv)
{
        const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        int failed = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", prog);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        failed = 1;
                        continue;
                }
                if ((S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i])) < 0)
                        failed = 1;
        }
        printf("%s: %lu inputs ran\n", prog, ran);
        if (ran == 0) {
                fprintf(stderr, "%s: no inputs found\n", prog);
                return 1;
        }
        return failed ? 1 : 0;
}
