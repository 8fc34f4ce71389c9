/* SPDX-License-Identifier: Apache-2.0 */
/* gen-vectors-dict.c: format-4 vectors, the archive dictionary (SPEC §8.6, §13) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-reader.h"
#include "archive.h"
#include "chain-writer.h"
#include "control.h"
#include "hash.h"
#include "keys.h"
#include "gen-vectors.h"
#include "testutil.h"
#include "util.h"


#define F4_DIR "format4"
#define F4_S UINT64_C(1000000000)

#define TRY4(x)                                                                                    \
        do {                                                                                       \
                int _r = (x);                                                                      \
                if (_r < 0) {                                                                      \
                        fprintf(stderr, "gen-vectors: %s: %s\n", #x, strerror(-_r));               \
                        return _r;                                                                 \
                }                                                                                  \
        } while (0)

static void f4_seed(void *ud, uint64_t batch_no, uint8_t out[LS_HASH_LEN])
{
        char name[96];

        snprintf(name, sizeof(name), "format4-salt-seed-%" PRIu64, batch_no);
        tu_seed(out, name);
        (void) ud;
}

static void put_hex(FILE *e, const char *name, const uint8_t *p, size_t n)
{
        char hex[2 * 512 + 1];

        ls_hex(hex, p, n);
        fprintf(e, "%s %s\n", name, hex);
}

static const char *const f4_lines[] = {
        "sshd[%u]: Accepted publickey for alice from 192.0.2.%u port %u ssh2",
        "sshd[%u]: pam_unix(sshd:session): session opened for user alice by (uid=%u) %u",
        "CRON[%u]: (root) CMD (run-parts /etc/cron.hourly) %u %u",
        "kernel: [%u.%u] eth0: link up, 1000 Mbps, full duplex %u",
        "sshd[%u]: Failed password for invalid user admin from 198.51.100.%u port %u ssh2",
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* f4_lines: each takes three %u */
/* Message i of the format-4 chain: RFC 5424, the kinds of line real appliances see. */
static int f4_msg(LsChainWriter *w, uint64_t t, unsigned i)
{
        char text[160], msg[256];
        LsRecord r;

        snprintf(text, sizeof(text), f4_lines[i % 5], 1000 + i * 7 % 900, i % 250, 40000 + i);
        snprintf(msg, sizeof(msg), "<38>1 2026-01-01T00:%02u:%02u.%06uZ f4host%u app - - - %s",
                 i / 60 % 60, i % 60, i * 7919 % 1000000, i % 3, text);
        r = tu_udp4(t, "203.0.113.5", 514, msg);
        return ls_chain_writer_add(w, &r);
}
#pragma GCC diagnostic pop

/*
 * Writes the chain: archive 0 (no dictionary: batches 0-11), archive 1 (its dictionary trained
 * on archive 0's payloads: batches 12-13), archive 2 (another dictionary, trained on the
 * payloads up to batch 13: batch 14). One record in 20 per batch, one batch a second.
 */
static int f4_chain(int dirfd, LsKeyPair *root, LsBatchHeader h[15], uint32_t dict_id[3])
{
        uint8_t seed[32], chain_id[LS_CHAIN_ID_LEN], enc[LS_CERT_LEN];
        LsControlBuilder *cb = malloc(sizeof(*cb));
        LsChainWriter *w = NULL;
        LsKeyPair *k;
        LsSigner s, rs;
        LsCert cert = {};
        LsRecord r;
        uint64_t t = TU_T0;
        unsigned i = 0;
        LsChainWriterConfig cfg = {
                .dirfd = dirfd,
                .zstd_level = 3,
                .columns = 1,
                .max_batch_raw = 1 << 20,
                .max_batch_records = 1000,
                .seed_fn = f4_seed,
                .dict_size = 4096,
                .dict_samples_min = 16 * 1024,
                .dict_samples_max = 1 << 20,
        };

        if (!cb)
                return -ENOMEM;
        tu_seed(seed, "format4-chain-id");
        memcpy(chain_id, seed, LS_CHAIN_ID_LEN);
        memcpy(cfg.chain_id, chain_id, LS_CHAIN_ID_LEN);
        tu_seed(seed, "format4-epoch-key-0");
        TRY4(ls_keypair_from_seed(&k, seed, 0));
        ls_signer_from_keypair(&s, k);
        cert.kind = LS_CERT_SIGNING;
        cert.flags = LS_CERT_F_CLOSED;
        memcpy(cert.chain_id, chain_id, LS_CHAIN_ID_LEN);
        memcpy(cert.pk, k->pk, LS_PK_LEN);
        cert.issued_ns = t;
        ls_signer_from_keypair(&rs, root);
        TRY4(ls_cert_sign(&cert, &rs));
        TRY4(ls_chain_writer_new(&w, &cfg, NULL));
        ls_cert_encode(&cert, enc);
        ls_control_begin(cb, LS_CTL_KEY_TRANSITION);
        ls_control_add_str(cb, LS_TAG_TEXT, "initial signing key certified by the root key");
        ls_control_add(cb, LS_TAG_CERT, enc, LS_CERT_LEN);
        TRY4(tu_control(&r, t, cb));
        TRY4(ls_chain_writer_add(w, &r));
        for (int b = 0; b < 15; b++) {
                for (int j = 0; j < 20; j++, i++)
                        TRY4(f4_msg(w, t + (uint64_t) j * 1000, i));
                if (b == 14) {
                        ls_control_begin(cb, LS_CTL_STOP);
                        ls_control_add_str(cb, LS_TAG_TEXT, "SIGTERM");
                        TRY4(tu_control(&r, t + 30000, cb));
                        TRY4(ls_chain_writer_add(w, &r));
                }
                TRY4(ls_chain_writer_flush(w, &s, t + 50000, &h[b]));
                if (b == 11 || b == 13 || b == 14)
                        TRY4(ls_chain_writer_seal(w, &s, t + 60000));
                t += F4_S;
        }
        for (int a = 0; a < 3; a++) {
                char an[LS_CHAIN_ID_LEN * 2 + 32];
                LsDict *d = NULL;
                int fd;
                ls_archive_name(an, sizeof(an), chain_id, (uint64_t) a);
                fd = openat(dirfd, an, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                TRY4(ls_archive_read_dict(fd, &d, NULL));
                dict_id[a] = d ? ls_dict_id(d) : 0;
                ls_dict_unref(d);
                close(fd);
        }
        ls_chain_writer_free(w);
        ls_keypair_free(k);
        free(cb);
        return 0;
}

/* Offset and length (frame header included) of the dictionary frame of archive bytes p. */
static int dict_frame(const uint8_t *p, size_t n, size_t *off, size_t *len)
{
        size_t h;

        if (n < 8)
                return -EBADMSG;
        h = 8 + ls_get32(p + 4);
        if (n < h + 20 || ls_get32(p + h) != 0x184D2A5Bu || p[h + 11] != 'D')
                return -EBADMSG;
        *off = h;
        *len = 8 + ls_get32(p + h + 4);
        return *off + *len <= n ? 0 : -EBADMSG;
}

/* Writes format4/ in the current directory and its lines of forgeries.txt to fl. */
int make_format4(FILE *fl)
{
        char an[3][LS_CHAIN_ID_LEN * 2 + 32], path[3][512], files[1600];
        uint8_t seed[32], chain_id[LS_CHAIN_ID_LEN], *p[3] = {}, *q;
        size_t n[3], off[3], len[3];
        LsBatchHeader h[15];
        uint32_t dict_id[3];
        LsKeyPair *root;
        int dirfd;
        FILE *e;

        tu_seed(seed, "root-key");
        TRY4(ls_keypair_from_seed(&root, seed, 0));
        if (mkdir(F4_DIR, 0755) < 0 && errno != EEXIST)
                return -errno;
        dirfd = open(F4_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        tu_seed(seed, "format4-chain-id");
        memcpy(chain_id, seed, LS_CHAIN_ID_LEN);
        for (int a = 0; a < 3; a++) {
                ls_archive_name(an[a], sizeof(an[a]), chain_id, (uint64_t) a);
                (void) unlinkat(dirfd, an[a], 0);
                snprintf(path[a], sizeof(path[a]), F4_DIR "/%s", an[a]);
        }
        TRY4(f4_chain(dirfd, root, h, dict_id));
        close(dirfd);
        if (dict_id[0] != 0 || dict_id[1] == 0 || dict_id[2] == 0 || dict_id[1] == dict_id[2]) {
                fprintf(stderr, "format4: dictionaries %" PRIu32 ", %" PRIu32 ", %" PRIu32 "\n",
                        dict_id[0], dict_id[1], dict_id[2]);
                return -EBADMSG;
        }
        for (int b = 0; b < 15; b++)
                if (!!(h[b].incompat_flags & LS_BATCH_INCOMPAT_DICT) != (b >= 12)) {
                        fprintf(stderr, "format4: batch %d: DICT flag where not expected\n", b);
                        return -EBADMSG;
                }
        for (int a = 0; a < 3; a++)
                TRY4(tu_read_file(path[a], 1 << 20, &p[a], &n[a]));
        for (int a = 1; a < 3; a++)
                TRY4(dict_frame(p[a], n[a], &off[a], &len[a]));

        e = fopen(F4_DIR "/expected.txt", "w");
        if (!e)
                return -errno;
        for (int b = 0; b < 15; b++) {
                char key[64];
                uint8_t enc[LS_BATCH_HEADER_LEN], hh[LS_HASH_LEN];
                ls_batch_header_encode(&h[b], enc);
                snprintf(key, sizeof(key), "batch%d_header", b);
                put_hex(e, key, enc, sizeof(enc));
                ls_batch_header_hash(&h[b], hh);
                snprintf(key, sizeof(key), "batch%d_header_hash", b);
                put_hex(e, key, hh, LS_HASH_LEN);
        }
        for (int a = 0; a < 3; a++) {
                char key[64];
                uint8_t hsh[LS_HASH_LEN];
                snprintf(key, sizeof(key), "archive%d_dict_id", a);
                fprintf(e, "%s %" PRIu32 "\n", key, dict_id[a]);
                if (a > 0) {
                        ls_sha256(hsh, p[a] + off[a] + 8, len[a] - 8);
                        snprintf(key, sizeof(key), "archive%d_dict_hash", a);
                        put_hex(e, key, hsh, LS_HASH_LEN);
                }
                ls_sha256(hsh, p[a], n[a]);
                snprintf(key, sizeof(key), "archive%d_sha256", a);
                put_hex(e, key, hsh, LS_HASH_LEN);
        }
        fclose(e);

        snprintf(files, sizeof(files), "%s,%s,%s", path[0], path[1], path[2]);
        fprintf(fl, "format4-genuine|%s|-|intact|-\n", files);

        /* archive 1 with one bit of its dictionary changed */
        q = malloc(n[1] + len[2]);
        if (!q)
                return -ENOMEM;
        memcpy(q, p[1], n[1]);
        q[off[1] + len[1] - 40] ^= 0x01;
        TRY4(tu_write_file(F4_DIR "/forged-dict-byte.lsa", q, n[1]));
        fprintf(fl, "format4-forged-dict-byte|%s," F4_DIR "/forged-dict-byte.lsa,%s|-|tampered|"
                    "dictionary does not match the archive header's dict_hash\n",
                path[0], path[2]);
        /* archive 1 with archive 2's (genuine, signed) dictionary frame in place of its own */
        memcpy(q, p[1], off[1]);
        memcpy(q + off[1], p[2] + off[2], len[2]);
        memcpy(q + off[1] + len[2], p[1] + off[1] + len[1], n[1] - off[1] - len[1]);
        TRY4(tu_write_file(F4_DIR "/forged-dict-swapped.lsa", q, n[1] - len[1] + len[2]));
        fprintf(fl, "format4-forged-dict-swapped|%s," F4_DIR "/forged-dict-swapped.lsa,%s|-|"
                    "tampered|dictionary does not match the archive header's dict_hash\n",
                path[0], path[2]);
        /* archive 1 without its dictionary frame */
        memcpy(q, p[1], off[1]);
        memcpy(q + off[1], p[1] + off[1] + len[1], n[1] - off[1] - len[1]);
        TRY4(tu_write_file(F4_DIR "/forged-dict-removed.lsa", q, n[1] - len[1]));
        fprintf(fl, "format4-forged-dict-removed|%s," F4_DIR "/forged-dict-removed.lsa,%s|-|"
                    "tampered|dictionary frame missing (the archive header has DICT)\n",
                path[0], path[2]);
        free(q);
        for (int a = 0; a < 3; a++)
                free(p[a]);
        ls_keypair_free(root);
        return 0;
}
