/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-replay: runs a libFuzzer target over files and directories, without libFuzzer */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
        FILE *f = fopen(path, "re");
        uint8_t *buf = NULL;
        size_t n = 0, cap = 0, k;

        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        do {
                if (n == cap) {
                        cap = cap ? cap * 2 : 4096;
                        buf = realloc(buf, cap);
                        if (!buf)
                                abort();
                }
                k = fread(buf + n, 1, cap - n, f);
                n += k;
        } while (k > 0);
        fclose(f);
        /* An exact-size copy, so sanitizers see reads past the end. */
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact)
                abort();
        memcpy(exact, buf, n);
        free(buf);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
        return 0;
}

static int run_path(const char *path, unsigned *count)
{
        struct stat st;
        DIR *d;
        struct dirent *e;
        int r = 0;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                (*count)++;
                return run_file(path);
        }
        d = opendir(path);
        if (!d)
                return -1;
        while ((e = readdir(d))) {
                char *sub;
                if (e->d_name[0] == '.')
                        continue;
                if (asprintf(&sub, "%s/%s", path, e->d_name) < 0)
                        abort();
                if (run_path(sub, count) < 0)
                        r = -1;
                free(sub);
        }
        closedir(d);
        return r;
}

int main(int argc, char **argv)
{
        unsigned count = 0;
        int r = 0;

        for (int i = 1; i < argc; i++)
                if (run_path(argv[i], &count) < 0)
                        r = 1;
        printf("%u inputs replayed\n", count);
        return r;
}
