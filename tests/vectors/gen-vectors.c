/* SPDX-License-Identifier: Apache-2.0 */
/* gen-vectors: regenerate the known-answer vectors of formats/SPEC.md §13 into a directory */
#include "gen-vectors.h"

uint8_t leaves[MAX_LEAVES][LS_HASH_LEN];
static uint64_t nleaves;
static FILE *expected;

static int leaf_fn(void *ud, uint64_t i, uint8_t out[LS_HASH_LEN])
{
        (void) ud;
        if (i >= nleaves)
                return -EINVAL;
        memcpy(out, leaves[i], LS_HASH_LEN);
        return 0;
}

static void put_hex(const char *name, const uint8_t *p, size_t n)
{
        char hex[2 * 512 + 1];
        ls_hex(hex, p, n);
        fprintf(expected, "%s %s\n", name, hex);
}

/* Reads an archive's frames and appends its leaves to the global list. */
static int scan(const char *path, Frame *frames, size_t *nframes)
{
        LsArchiveReader *rd = NULL;
        LsPayload *pl = NULL;
        LsReadItem it;
        int fd = open(path, O_RDONLY | O_CLOEXEC), r;

        if (fd < 0)
                return -errno;
        r = ls_archive_reader_new(&rd, fd);
        if (r < 0)
                return r;
        r = ls_payload_new(&pl);
        if (r < 0)
                return r;
        *nframes = 0;
        while ((r = ls_archive_reader_next(rd, &it)) > 0) {
                frames[(*nframes)++] = (Frame){it.offset, it.length, it.kind};
                if (it.kind != LS_ITEM_BATCH)
                        continue;
                LsPayloadIter pi;
                LsRecord rec;
                const uint8_t *raw, *bytes;
                size_t rawlen, len, off;
                r = ls_payload_open(pl, &it.batch, it.payload, it.payload_len);
                if (r < 0)
                        return r;
                raw = ls_payload_raw(pl, &rawlen);
                ls_payload_iter_init(&pi, &it.batch, raw, rawlen);
                while ((r = ls_payload_next(&pi, &rec, &bytes, &len, leaves[nleaves], &off)) > 0)
                        nleaves++;
                if (r < 0)
                        return r;
        }
        ls_payload_free(pl);
        ls_archive_reader_free(rd);
        return r;
}

int main(int argc, char **argv)
{
        char a0[256], a1[256], name[96], text[2048];
        Frame f0[16], f1[16];
        size_t nf0, nf1, n0, n1;
        uint8_t *b0, *b1;
        TuGolden g;
        int dirfd;

        if (argc != 2) {
                fprintf(stderr, "usage: gen-vectors OUTDIR\n");
                return 2;
        }
        if (sodium_init() < 0)
                return 1;
        if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
                perror(argv[1]);
                return 1;
        }
        if (chdir(argv[1]) < 0) {
                perror(argv[1]);
                return 1;
        }
        dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        /* Start clean: the writer refuses to overwrite archives. */
        {
                uint8_t seed[32], cid[16];
                tu_seed(seed, "chain-id");
                memcpy(cid, seed, 16);
                for (uint64_t i = 0; i < 2; i++) {
                        ls_archive_name(name, sizeof(name), cid, i);
                        (void) unlinkat(dirfd, name, 0);
                }
        }
        TRY(tu_golden_chain(dirfd, &g));

        expected = fopen("expected.txt", "we");
        if (!expected)
                return 1;
        fprintf(expected, "# Known answers for formats/SPEC.md (format version %d); regenerate "
                          "with gen-vectors.\n", LS_FORMAT_VERSION);
        put_hex("chain_id", g.chain_id, LS_CHAIN_ID_LEN);
        put_hex("root_public_key", g.root->pk, LS_PK_LEN);
        put_hex("root_key_id", g.root->key_id, LS_KEY_ID_LEN);
        put_hex("epoch0_public_key", g.epoch0->pk, LS_PK_LEN);
        put_hex("epoch0_key_id", g.epoch0->key_id, LS_KEY_ID_LEN);
        put_hex("epoch1_public_key", g.epoch1->pk, LS_PK_LEN);
        put_hex("epoch1_key_id", g.epoch1->key_id, LS_KEY_ID_LEN);
        {
                uint8_t c[LS_CERT_LEN];
                ls_cert_encode(&g.cert0, c);
                put_hex("cert_epoch0", c, LS_CERT_LEN);
                ls_cert_encode(&g.cert1, c);
                put_hex("cert_epoch1", c, LS_CERT_LEN);
        }
        for (int i = 0; i < 5; i++) {
                uint8_t hh[LS_HASH_LEN], enc[LS_BATCH_HEADER_LEN];
                char key[64];
                ls_batch_header_encode(&g.batches[i], enc);
                snprintf(key, sizeof(key), "batch%d_header", i);
                put_hex(key, enc, sizeof(enc));
                ls_batch_header_hash(&g.batches[i], hh);
                snprintf(key, sizeof(key), "batch%d_header_hash", i);
                put_hex(key, hh, LS_HASH_LEN);
                snprintf(key, sizeof(key), "batch%d_tree_root", i);
                put_hex(key, g.batches[i].tree_root, LS_HASH_LEN);
                snprintf(key, sizeof(key), "batch%d_signature", i);
                put_hex(key, g.batches[i].sig, LS_SIG_LEN);
        }

        ls_archive_name(a0, sizeof(a0), g.chain_id, 0);
        ls_archive_name(a1, sizeof(a1), g.chain_id, 1);
        TRY(scan(a0, f0, &nf0));
        TRY(scan(a1, f1, &nf1));
        for (uint64_t i = 0; i < nleaves; i++) {
                char key[32];
                snprintf(key, sizeof(key), "leaf%" PRIu64, i);
                put_hex(key, leaves[i], LS_HASH_LEN);
        }
        TRY(tu_read_file(a0, 1 << 20, &b0, &n0));
        TRY(tu_read_file(a1, 1 << 20, &b1, &n1));
        {
                uint8_t h[LS_HASH_LEN];
                ls_sha256(h, b0, n0);
                put_hex("archive0_sha256", h, LS_HASH_LEN);
                ls_sha256(h, b1, n1);
                put_hex("archive1_sha256", h, LS_HASH_LEN);
        }

        /* public key file and checkpoints */
        TRY(ls_pubkey_format(text, sizeof(text), g.root->pk, "logseal TEST VECTOR root key, never trust it"));
        TRY(tu_write_file("root.pub", text, strlen(text)));
        int n = ls_batch_checkpoint(&g.batches[4], g.epoch1->pk, text, sizeof(text));
        TRY(n);
        TRY(tu_write_file("golden.checkpoint", text, (size_t) n));
        {
                /* the root hash of the newest checkpoint altered */
                char *root = strchr(strchr(text, '\n') + 1, '\n') + 1;
                root[0] = root[0] == 'A' ? 'B' : 'A';
                TRY(tu_write_file("forged.checkpoint", text, (size_t) n));
        }
        n = ls_batch_checkpoint(&g.batches[2], g.epoch0->pk, text, sizeof(text));
        TRY(n);
        TRY(tu_write_file("golden-old.checkpoint", text, (size_t) n));

        /* proofs: record 5 at the final size, and the old checkpoint to the new one */
        {
                uint8_t path_[LS_MAX_CONSISTENCY_PROOF][LS_HASH_LEN], enc[8192];
                unsigned count;
                size_t len;
                LsProof p;
                uint64_t size = g.batches[4].tree_size, old = g.batches[2].tree_size;

                TRY(ls_inclusion_proof(leaf_fn, NULL, 5, size, path_, &count));
                p = (LsProof){LS_PROOF_INCLUSION, count, 5, size, &path_[0][0]};
                TRY(ls_proof_encode(&p, enc, sizeof(enc), &len));
                TRY(tu_write_file("inclusion.proof", enc, len));
                enc[LS_PROOF_HDR_LEN + 7] ^= 0x10;
                TRY(tu_write_file("forged-inclusion.proof", enc, len));
                TRY(ls_consistency_proof(leaf_fn, NULL, old, size, path_, &count));
                p = (LsProof){LS_PROOF_CONSISTENCY, count, old, size, &path_[0][0]};
                TRY(ls_proof_encode(&p, enc, sizeof(enc), &len));
                TRY(tu_write_file("consistency.proof", enc, len));
        }

        /* forgeries: archive 0 frames are header, batch 0, 1, 2, trailer */
        FILE *fl = fopen("forgeries.txt", "we");
        if (!fl)
                return 1;
        fprintf(fl, "# name|archives (in order)|extra certificates|expected class|expected check\n");
        if (make_forgeries(fl, &g, a0, a1, b0, n0, b1, n1, f0, f1) != 0)
                return 1;
        if (make_format2(fl) != 0)
                return 1;
        if (make_format3(fl) != 0)
                return 1;
        if (make_format4(fl) != 0) /* gen-vectors-dict.c */
                return 1;
        if (make_later(fl, &g, a0, b1, n1, f1) != 0) /* gen-vectors-later.c */
                return 1;
        fclose(fl);
        TRY(make_bundle(&g));
        TRY(make_later_bundles(&g));
        if (make_later_attack_bundles() != 0) /* gen-vectors-later-attack.c */
                return 1;
        fclose(expected);
        free(b0);
        free(b1);
        tu_golden_free(&g);
        return 0;
}
