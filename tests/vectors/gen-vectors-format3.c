/* SPDX-License-Identifier: Apache-2.0 */
/* gen-vectors, format 3: the column payload layout (main is in gen-vectors.c) */
#include "gen-vectors.h"

/* ---- format 3 (SPEC §6.4): the column payload layout ---- */

#define F3_DIR "format3"

static int f3_chain(int dirfd, int columns, LsKeyPair *root, LsBatchHeader h[2],
                    char an[LS_CHAIN_ID_LEN * 2 + 32])
{
        static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x35};
        uint8_t seed[32], chain_id[LS_CHAIN_ID_LEN];
        LsChainWriter *w = NULL;
        LsKeyPair *k;
        LsSigner s;
        LsCert cert;
        F2 f = {0};
        uint64_t t = TU_T0;
        LsRecord r;
        LsChainWriterConfig cfg = {
                .dirfd = dirfd,
                .zstd_level = 3,
                .columns = columns,
                .max_batch_raw = 1 << 20,
                .max_batch_records = 1000,
                .seed_fn = f2_seed,
                .seed_ud = (void *) "format3-salt-seed",
        };

        f.cb = malloc(sizeof(*f.cb));
        if (!f.cb)
                return -ENOMEM;
        tu_seed(seed, "format3-chain-id");
        memcpy(chain_id, seed, LS_CHAIN_ID_LEN);
        memcpy(cfg.chain_id, chain_id, LS_CHAIN_ID_LEN);
        tu_seed(seed, "format3-epoch-key-0");
        TRY(ls_keypair_from_seed(&k, seed, 0));
        ls_signer_from_keypair(&s, k);
        TRY(f2_cert(&cert, chain_id, k, 0, t, root));
        ls_archive_name(an, LS_CHAIN_ID_LEN * 2 + 32, chain_id, 0);
        (void) unlinkat(dirfd, an, 0);
        TRY(ls_chain_writer_new(&w, &cfg, NULL));
        TRY(f2_transition(&f, w, t, &cert, "initial signing key certified by the root key"));
        TRY(f2_start(&f, w, t));
        /* batch 0: one sender over UDP, RFC 5424 time stamps of every form */
        TRY(f2_msg(w, t + 1000, "<13>1 2026-01-01T00:00:00.000100+00:00 f3host app - - - six digits"));
        TRY(f2_msg(w, t + 2000, "<13>1 2026-01-01T00:00:00.0002Z f3host app - - - four digits, Z"));
        TRY(f2_msg(w, t + 3000, "<13>1 2026-01-01T05:30:00+05:30 f3host app - - - numeric zone"));
        TRY(f2_msg(w, t + 4000, "<13>1 2026-02-30T00:00:00Z f3host app - - - not a date: text"));
        TRY(f2_msg(w, t + 5000, "<13>1 - f3host app - - - nil time stamp"));
        TRY(f2_msg(w, t + 6000, "<13>Jan  1 00:00:00 f3host app: RFC 3164"));
        TRY(ls_chain_writer_flush(w, &s, t + 7000, &h[0]));
        /* batch 1: other transports, a TLS identity, a truncated record, time going back */
        t += F2_S;
        r = tu_tcp6(t, ip6, 40000, 1, "<14>1 2026-01-01T00:00:01.5Z f3host app - - - over TCP");
        r.identity = (const uint8_t *) "CN=frontend.example";
        r.identity_len = (uint16_t) strlen((const char *) r.identity);
        TRY(ls_chain_writer_add(w, &r));
        r = tu_tcp6(t + 10, ip6, 40000, 1, "<14>1 2026-01-01T00:00:01.6Z f3host app - - - again");
        r.identity = (const uint8_t *) "CN=frontend.example";
        r.identity_len = (uint16_t) strlen((const char *) r.identity);
        TRY(ls_chain_writer_add(w, &r));
        r = tu_unix(t - 500, 4242, 0, 0, "<30>1 2026-01-01T00:00:00.999Z f3host app - - - unix");
        TRY(ls_chain_writer_add(w, &r));
        r = tu_udp4(t + 20, "192.0.2.1", 514, "<13>1 2026-01-01T00:00:01Z f3host app - - - long, cut");
        r.orig_len = r.body_len + 4096;
        r.body_len -= 5;
        r.flags = LS_RECF_TRUNCATED | LS_RECF_PARSE_FAILED;
        TRY(ls_chain_writer_add(w, &r));
        ls_control_begin(f.cb, LS_CTL_STOP);
        ls_control_add_str(f.cb, LS_TAG_TEXT, "SIGTERM");
        TRY(f2_ctl(w, t + 30, f.cb));
        TRY(ls_chain_writer_flush(w, &s, t + 40, &h[1]));
        TRY(ls_chain_writer_seal(w, &s, t + 50));
        ls_chain_writer_free(w);
        ls_keypair_free(k);
        free(f.cb);
        return 0;
}

/*
 * format3/: a sealed one-archive chain of its own ("format3-chain-id", key
 * "format3-epoch-key-0" certified by the test root with CLOSED) whose batches use the column
 * layout; written again with entries in a scratch directory, which must give the same trees.
 */
int make_format3(FILE *fl)
{
        char scratch[] = "/tmp/gen-vectors-XXXXXX", an[LS_CHAIN_ID_LEN * 2 + 32], path[512];
        LsBatchHeader h[2], rows[2];
        LsKeyPair *root;
        uint8_t seed[32];
        int dirfd, scratchfd;
        FILE *e;

        tu_seed(seed, "root-key");
        TRY(ls_keypair_from_seed(&root, seed, 0));
        if (mkdir(F3_DIR, 0755) < 0 && errno != EEXIST)
                return -errno;
        dirfd = open(F3_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0 || !mkdtemp(scratch))
                return -errno;
        scratchfd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (scratchfd < 0)
                return -errno;
        TRY(f3_chain(dirfd, 1, root, h, an));
        TRY(f3_chain(scratchfd, 0, root, rows, an));
        for (int i = 0; i < 2; i++) {
                if (h[i].incompat_flags != LS_BATCH_INCOMPAT_COLUMNS || rows[i].incompat_flags != 0 ||
                    memcmp(h[i].tree_root, rows[i].tree_root, LS_HASH_LEN) != 0 ||
                    h[i].payload_raw_len != rows[i].payload_raw_len) {
                        fprintf(stderr, "format3: batch %d: columns and entries disagree\n", i);
                        return -EBADMSG;
                }
        }
        (void) unlinkat(scratchfd, an, 0);
        close(scratchfd);
        rmdir(scratch);
        close(dirfd);
        e = fopen(F3_DIR "/expected.txt", "w");
        if (!e)
                return -errno;
        for (int i = 0; i < 2; i++) {
                char key[64];
                uint8_t enc[LS_BATCH_HEADER_LEN], hh[LS_HASH_LEN];
                ls_batch_header_encode(&h[i], enc);
                snprintf(key, sizeof(key), "batch%d_header", i);
                f2_put_hex(e, key, enc, sizeof(enc));
                ls_batch_header_hash(&h[i], hh);
                snprintf(key, sizeof(key), "batch%d_header_hash", i);
                f2_put_hex(e, key, hh, LS_HASH_LEN);
                snprintf(key, sizeof(key), "batch%d_entries_payload_len", i);
                fprintf(e, "%s=%" PRIu32 "\n", key, rows[i].payload_len);
        }
        {
                uint8_t *p, hsh[LS_HASH_LEN];
                size_t n;
                snprintf(path, sizeof(path), F3_DIR "/%s", an);
                TRY(tu_read_file(path, 1 << 20, &p, &n));
                ls_sha256(hsh, p, n);
                free(p);
                f2_put_hex(e, "archive0_sha256", hsh, LS_HASH_LEN);
        }
        fclose(e);
        fprintf(fl, "format3-genuine|" F3_DIR "/%s|-|intact|-\n", an);
        ls_keypair_free(root);
        return 0;
}
