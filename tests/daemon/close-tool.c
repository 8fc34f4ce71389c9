/* SPDX-License-Identifier: Apache-2.0 */
/*
 * close-tool: what tests/daemon/test-close.py needs from an archive directory that Python
 * cannot easily read, written with the formats library.
 *
 *   close-tool batches DIR
 *       every batch of the chain-*.lsa archives in DIR, in archive order:
 *         batch BATCH_NO ARCHIVE_NO KEY_ID EPOCH MAX_TIME_NS TREE_SIZE
 *       and after it each EPOCH_CLOSE record it holds (INDEX: its place in the batch):
 *         close BATCH_NO INDEX HEX(248 bytes)
 *   close-tool forge KEYFILE DIR ARCHIVE_NO TIME_NS
 *       the forger's move (issue 12, item 1): with a copy of an erased epoch key (a
 *       passphrase-less secret key file), continue the chain after sealed archive ARCHIVE_NO
 *       of DIR with a sealed archive ARCHIVE_NO+1 holding one batch that key signs: a
 *       CLOCK_STEP (so heartbeats do not complain) and a syslog record dated TIME_NS.
 *       Prints "forged BATCH_NO".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "archive-reader.h"
#include "chain-writer.h"
#include "control.h"
#include "hash.h"
#include "merkle.h"
#include "payload.h"
#include "testutil.h"
#include "util.h"

static int fail(const char *what, int r)
{
        fprintf(stderr, "close-tool: %s: %s\n", what, strerror(r < 0 ? -r : r));
        return 1;
}

/* Where archive n of dir ends: its last batch, seal and tree. */
typedef struct End {
        LsBatchHeader last;
        LsTrailer trailer;
        LsMerkle tree;
        int sealed, have_last;
        const uint8_t *key_id; /* the epoch of the batches this key signed: */
        uint64_t key_epoch;
        int have_key_epoch;
} End;

/* Walks archive n: prints (print) and/or computes its end (end, optional). */
static int walk(int dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t n, int print, End *end)
{
        LsArchiveReader *rd = NULL;
        LsPayload *pl = NULL;
        LsReadItem *it = calloc(1, sizeof(*it));
        char name[96];
        int fd, r;

        if (!it)
                return -ENOMEM;
        ls_archive_name(name, sizeof(name), chain_id, n);
        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                free(it);
                return -errno;
        }
        r = ls_archive_reader_new(&rd, fd);
        if (r == 0)
                r = ls_payload_new(&pl);
        while (r >= 0 && (r = ls_archive_reader_next(rd, it)) > 0) {
                LsPayloadIter pi;
                LsRecord rec;
                const uint8_t *raw, *bytes;
                size_t rawlen, len, off;
                uint8_t leaf[LS_HASH_LEN], hex[2 * LS_CLOSE_LEN + 1];
                uint32_t index = 0;
                char kid[2 * LS_KEY_ID_LEN + 1];

                if (it->kind == LS_ITEM_HEADER && end) {
                        end->tree.size = it->header.first_seq;
                        end->tree.n = it->header.peak_count;
                        memcpy(end->tree.peaks, it->header.peaks,
                               (size_t) it->header.peak_count * LS_HASH_LEN);
                }
                if (it->kind == LS_ITEM_TRAILER && end) {
                        end->trailer = it->trailer;
                        end->sealed = 1;
                }
                if (it->kind != LS_ITEM_BATCH)
                        continue;
                ls_hex(kid, it->batch.key_id, LS_KEY_ID_LEN);
                if (print)
                        printf("batch %" PRIu64 " %" PRIu64 " %s %" PRIu64 " %" PRIu64 " %" PRIu64
                               "\n",
                               it->batch.batch_no, it->batch.archive_no, kid, it->batch.epoch,
                               it->batch.max_time_ns, it->batch.tree_size);
                r = ls_payload_open(pl, &it->batch, it->payload, it->payload_len);
                if (r < 0)
                        break;
                raw = ls_payload_raw(pl, &rawlen);
                ls_payload_iter_init(&pi, &it->batch, raw, rawlen);
                while ((r = ls_payload_next(&pi, &rec, &bytes, &len, leaf, &off)) > 0) {
                        LsControl c;
                        const uint8_t *val;
                        uint16_t vlen;

                        if (end)
                                ls_merkle_append(&end->tree, leaf);
                        if (print && rec.type == LS_REC_CONTROL &&
                            ls_control_decode(&c, rec.body, rec.body_len, NULL) == 0 &&
                            c.type == LS_CTL_EPOCH_CLOSE &&
                            ls_control_get(&c, LS_TAG_CLOSE, &val, &vlen) && vlen == LS_CLOSE_LEN) {
                                ls_hex((char *) hex, val, vlen);
                                printf("close %" PRIu64 " %" PRIu32 " %s\n", it->batch.batch_no,
                                       index, hex);
                        }
                        index++;
                }
                if (r < 0)
                        break;
                if (end) {
                        end->last = it->batch;
                        end->have_last = 1;
                        if (end->key_id &&
                            memcmp(it->batch.key_id, end->key_id, LS_KEY_ID_LEN) == 0) {
                                end->key_epoch = it->batch.epoch;
                                end->have_key_epoch = 1;
                        }
                }
        }
        ls_payload_free(pl);
        ls_archive_reader_free(rd);
        free(it);
        return r;
}

static int chain_of(const char *dir, uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t *ret_last)
{
        char cmd[4096], line[256];
        FILE *f;
        int have = 0;

        /* chain-<32 hex>-<8 digits>.lsa; the test's directories hold one chain. */
        snprintf(cmd, sizeof(cmd), "ls '%s' | grep -E '^chain-[0-9a-f]{32}-[0-9]{8}\\.lsa$' | sort",
                 dir);
        f = popen(cmd, "r");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                if (ls_unhex(chain_id, LS_CHAIN_ID_LEN, line + 6, 2 * LS_CHAIN_ID_LEN) < 0)
                        continue;
                *ret_last = strtoull(line + 6 + 2 * LS_CHAIN_ID_LEN + 1, NULL, 10);
                have = 1;
        }
        pclose(f);
        return have ? 0 : -ENOENT;
}

static int cmd_batches(const char *dir)
{
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint64_t last;
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

        if (dirfd < 0)
                return fail(dir, -errno);
        r = chain_of(dir, chain_id, &last);
        if (r < 0)
                return fail(dir, r);
        for (uint64_t n = 0; n <= last; n++) {
                r = walk(dirfd, chain_id, n, 1, NULL);
                if (r < 0 && r != -ENOENT)
                        return fail("reading an archive", r);
        }
        close(dirfd);
        return 0;
}

static int cmd_forge(const char *keyfile, const char *dir, uint64_t n, uint64_t time_ns)
{
        LsChainWriterConfig wc = {
                .zstd_level = 3, .max_batch_raw = 1 << 20, .max_batch_records = 100};
        LsChainPosition pos = {0};
        LsChainWriter *w = NULL;
        LsKeyPair *kp = NULL;
        LsSigner s;
        LsBatchHeader h;
        LsControlBuilder *b = calloc(1, sizeof(*b));
        LsRecord step, msg;
        End end = {0};
        uint8_t *p = NULL, chain_id[LS_CHAIN_ID_LEN];
        size_t len;
        uint64_t last;
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

        if (dirfd < 0 || !b)
                return fail(dir, dirfd < 0 ? -errno : -ENOMEM);
        r = tu_read_file(keyfile, 4096, &p, &len);
        if (r == 0)
                r = ls_seckey_decode(&kp, p, len, NULL);
        free(p);
        if (r < 0)
                return fail(keyfile, r);
        r = chain_of(dir, chain_id, &last);
        /* Every archive up to n: the key's epoch is in the batches it signed. */
        end.key_id = kp->key_id;
        for (uint64_t i = 0; r == 0 && i <= n; i++) {
                end.sealed = 0;
                r = walk(dirfd, chain_id, i, 0, &end);
        }
        if (r < 0)
                return fail("reading the archives to continue", r);
        if (!end.sealed || !end.have_last)
                return fail("the archive to continue is not sealed", -EINVAL);
        if (!end.have_key_epoch)
                return fail("the stolen key signed no batch in these archives", -EINVAL);
        memcpy(wc.chain_id, chain_id, LS_CHAIN_ID_LEN);
        wc.dirfd = dirfd;
        pos.archive_no = n + 1;
        pos.batch_no = end.last.batch_no + 1;
        ls_batch_header_hash(&end.last, pos.prev_header_hash);
        ls_trailer_hash(&end.trailer, pos.prev_seal_hash);
        pos.tree = end.tree;
        ls_signer_from_keypair(&s, kp);
        s.epoch = end.key_epoch;

        ls_control_begin(b, LS_CTL_CLOCK_STEP);
        ls_control_add_str(b, LS_TAG_TEXT, "wall clock stepped");
        ls_control_add_u64(b, LS_TAG_CLOCK_DELTA, time_ns - end.last.max_time_ns);
        r = tu_control(&step, time_ns - 1000, b);
        msg = tu_udp4(time_ns, "192.0.2.7", 514,
                      "<13>1 - host app - - - fabricated later evidence");
        if (r == 0)
                r = ls_chain_writer_new(&w, &wc, &pos);
        if (r == 0)
                r = ls_chain_writer_add(w, &step);
        if (r == 0)
                r = ls_chain_writer_add(w, &msg);
        if (r == 0)
                r = ls_chain_writer_flush(w, &s, time_ns, &h);
        if (r == 0)
                r = ls_chain_writer_sync(w);
        if (r == 0)
                r = ls_chain_writer_seal(w, &s, time_ns + 1000);
        ls_chain_writer_free(w);
        ls_keypair_free(kp);
        free(b);
        close(dirfd);
        if (r < 0)
                return fail("writing the forged archive", r);
        printf("forged %" PRIu64 "\n", h.batch_no);
        return 0;
}

int main(int argc, char **argv)
{
        if (sodium_init() < 0)
                return 1;
        if (argc == 3 && !strcmp(argv[1], "batches"))
                return cmd_batches(argv[2]);
        if (argc == 6 && !strcmp(argv[1], "forge"))
                return cmd_forge(argv[2], argv[3], strtoull(argv[4], NULL, 10),
                                 strtoull(argv[5], NULL, 10));
        fprintf(stderr, "usage: close-tool batches DIR | forge KEYFILE DIR ARCHIVE_NO TIME_NS\n");
        return 2;
}
