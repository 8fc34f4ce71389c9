/* SPDX-License-Identifier: Apache-2.0 */
/* verify-limit: this machine's single-core limit for zstd decompression + SHA-256 of the same bytes */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>

#include "archive.h"
#include "hash.h"

/*
 * Reads archive files, and for every zstd frame in them (skippable frames are
 * skipped, but for an archive's dictionary, which the next frames need) decompresses it and hashes the decompressed bytes with SHA-256 —
 * the least work any verifier of these archives must do. SHA-256 is ls_sha256, the
 * fastest implementation on this machine (SHA-NI when the CPU has it), the same one
 * logseal-verify uses, so the ratio compares like with like. Prints the time and
 * the decompressed bytes per second, which bench/verify.sh compares with
 * logseal-verify on the same files, then the time of zstd and of SHA-256 alone.
 */
static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        size_t cap = 64u << 20, total_in = 0, total_out = 0;
        uint8_t *out = malloc(cap), h[32];
        ZSTD_DCtx *dctx = ZSTD_createDCtx();
        double t0, t1, elapsed = 0, zstd_s = 0, sha_s = 0;

        if (sodium_init() < 0 || !out || !dctx)
                return 1;
        for (int i = 1; i < argc; i++) {
                int fd = open(argv[i], O_RDONLY);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0) {
                        perror(argv[i]);
                        return 1;
                }
                uint8_t *p = malloc((size_t) st.st_size);
                if (!p || read(fd, p, (size_t) st.st_size) != st.st_size)
                        return 1;
                close(fd);
                ZSTD_DDict *ddict = NULL; /* one per archive (format 4) */
                const uint8_t *dict;
                size_t dict_len;
                uint32_t dict_id;
                t0 = now();
                for (size_t off = 0; off + 8 <= (size_t) st.st_size;) {
                        size_t n = ZSTD_findFrameCompressedSize(p + off, (size_t) st.st_size - off);
                        if (ZSTD_isError(n))
                                break;
                        uint32_t magic = (uint32_t) p[off] | (uint32_t) p[off + 1] << 8 |
                                         (uint32_t) p[off + 2] << 16 | (uint32_t) p[off + 3] << 24;
                        if ((magic & 0xFFFFFFF0u) != 0x184D2A50u) { /* not a skippable frame */
                                t1 = now();
                                size_t m = ddict ? ZSTD_decompress_usingDDict(dctx, out, cap,
                                                                              p + off, n, ddict)
                                                 : ZSTD_decompressDCtx(dctx, out, cap, p + off, n);
                                if (ZSTD_isError(m))
                                        return 1;
                                double t2 = now();
                                ls_sha256(h, out, m);
                                zstd_s += t2 - t1;
                                sha_s += now() - t2;
                                total_out += m;
                        } else if (ls_dict_decode(p + off + 8, n - 8, &dict, &dict_len, &dict_id,
                                                  NULL) == 0) {
                                /* the archive's dictionary (SPEC §8.6): its frames need it */
                                ZSTD_freeDDict(ddict);
                                ddict = ZSTD_createDDict(dict, dict_len);
                                if (!ddict)
                                        return 1;
                        }
                        total_in += n;
                        off += n;
                }
                elapsed += now() - t0;
                ZSTD_freeDDict(ddict);
                free(p);
        }
        /* the two shares too (bench/RESULTS.md: what a verifier that hashes more must add) */
        printf("%.6f %zu %zu %.6f %.6f\n", elapsed, total_in, total_out, zstd_s, sha_s);
        return 0;
}
