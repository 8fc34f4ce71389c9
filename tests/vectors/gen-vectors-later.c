/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen-vectors, later/: archive 1 of the golden chain as a later format of logseal would write
 * it (an unknown incompatible flag or version, signed as SPEC §1.1 keeps it), and the same
 * bits on structures that do not authenticate. A later format is never tampered when it is
 * authentic (class error: "upgrade logseal-verify"), and an unknown bit never makes a forgery
 * milder than tampered.
 */
#include "gen-vectors.h"
#include "magic.h"

#define LATER_DIR "later"

/* The test keys of the golden chain, found by key id. */
static LsKeyPair *key_of(const TuGolden *g, const uint8_t *key_id)
{
        if (memcmp(key_id, g->epoch0->key_id, LS_KEY_ID_LEN) == 0)
                return g->epoch0;
        if (memcmp(key_id, g->epoch1->key_id, LS_KEY_ID_LEN) == 0)
                return g->epoch1;
        return NULL;
}

/* Signs a batch header as written (304 bytes at p) with k: the note of SPEC §7.1. */
int later_sign_batch(uint8_t *p, LsKeyPair *k)
{
        LsBatchHeader h;
        LsSigner s;
        uint8_t hh[LS_HASH_LEN];
        uint16_t ver;
        char body[LS_NOTE_BODY_MAX];
        int n;

        memcpy(p + 224, k->key_id, LS_KEY_ID_LEN);
        ls_put64(p + 232, k->epoch);
        TRY(ls_batch_header_decode_later(&h, hh, &ver, p, LS_BATCH_HEADER_LEN, NULL));
        n = ls_checkpoint_body(body, sizeof(body), h.chain_id, h.tree_size, h.tree_root,
                               h.batch_no, hh);
        TRY(n);
        ls_signer_from_keypair(&s, k);
        TRY(ls_sign(&s, NULL, (const uint8_t *) body, (size_t) n, p + 240));
        return 0;
}

/* Signs an archive header as written (n bytes at p) with the key it names. */
static int sign_header(const TuGolden *g, uint8_t *p, size_t n)
{
        LsKeyPair *k = key_of(g, p + 96);
        LsSigner s;

        if (!k)
                return -ENOKEY;
        ls_signer_from_keypair(&s, k);
        return ls_sign(&s, LS_CTX_ARCHIVE_HEADER, p, n - LS_SIG_LEN, p + n - LS_SIG_LEN);
}

/* The trailer (last frame of f, n bytes): content hash, last header hash, signature. */
static int reseal(const TuGolden *g, uint8_t *f, size_t n, const uint8_t *last_header)
{
        uint8_t *t = f + n - LS_TRAILER_LEN;
        LsKeyPair *k = key_of(g, t + 200);
        LsSigner s;

        if (!k)
                return -ENOKEY;
        if (last_header)
                ls_sha256(t + 136, last_header, LS_BATCH_SIGNED_LEN);
        ls_sha256(t + 168, f, n - LS_TRAILER_LEN - LS_FRAME_HDR_LEN);
        ls_signer_from_keypair(&s, k);
        return ls_sign(&s, LS_CTX_SEAL, t, LS_TRAILER_SIGNED_LEN, t + LS_TRAILER_SIGNED_LEN);
}

static int put(FILE *fl, const char *name, const uint8_t *p, size_t n, const char *a0,
               const char *trust, const char *cls, const char *check)
{
        char path[128];

        snprintf(path, sizeof(path), LATER_DIR "/%s.lsa", name);
        TRY(tu_write_file(path, p, n));
        fprintf(fl, "later-%s|%s,%s|%s|%s|%s\n", name, a0, path, trust, cls, check);
        return 0;
}

/*
 * later/chain-<id>-00000000.lsa: a sealed archive of a chain of its own ("later-chain-id",
 * key "later-epoch-key-0" certified by the root with CLOSED, salt seeds
 * "later-salt-seed-<b>"), whose batches are all of this format but whose control records are
 * not: batch 0 holds a HEARTBEAT with the unknown critical tag 0x8000|200, batch 1 the
 * certificate of "later-epoch-key-1" (valid from batch 2) in version 2, batch 2 (signed by
 * that key) a message and a stop, and the seal (same key). Class error: the first is read
 * as authentic (its batch verifies), the key it certifies is not known, so batch 2 and the
 * seal are not judged.
 */
static int later_chain(FILE *fl, const TuGolden *g)
{
        uint8_t seed[32], chain_id[LS_CHAIN_ID_LEN], enc[LS_CERT_LEN];
        char an[LS_CHAIN_ID_LEN * 2 + 32], path[LS_CHAIN_ID_LEN * 2 + 64];
        LsChainWriter *w = NULL;
        LsKeyPair *k0, *k1;
        LsSigner s0, s1;
        LsCert c0, c1;
        F2 f = {0};
        LsBatchHeader h;
        uint64_t t = TU_T0;
        int dirfd;
        LsChainWriterConfig cfg = {
                .zstd_level = 3,
                .max_batch_raw = 1 << 20,
                .max_batch_records = 1000,
                .seed_fn = f2_seed,
                .seed_ud = (void *) "later-salt-seed",
        };

        dirfd = open(LATER_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        cfg.dirfd = dirfd;
        f.cb = malloc(sizeof(*f.cb));
        if (!f.cb)
                return -ENOMEM;
        tu_seed(seed, "later-chain-id");
        memcpy(chain_id, seed, LS_CHAIN_ID_LEN);
        memcpy(cfg.chain_id, chain_id, LS_CHAIN_ID_LEN);
        tu_seed(seed, "later-epoch-key-0");
        TRY(ls_keypair_from_seed(&k0, seed, 0));
        tu_seed(seed, "later-epoch-key-1");
        TRY(ls_keypair_from_seed(&k1, seed, 1));
        ls_signer_from_keypair(&s0, k0);
        ls_signer_from_keypair(&s1, k1);
        TRY(f2_cert(&c0, chain_id, k0, 0, t, g->root));
        TRY(f2_cert(&c1, chain_id, k1, 2, t, k0));
        ls_archive_name(an, sizeof(an), chain_id, 0);
        (void) unlinkat(dirfd, an, 0);
        TRY(ls_chain_writer_new(&w, &cfg, NULL));
        TRY(f2_transition(&f, w, t, &c0, "initial signing key certified by the root key"));
        TRY(f2_start(&f, w, t));
        TRY(f2_msg(w, t + 1000, "<13>1 - laterhost app - - - before the later record"));
        ls_control_begin(f.cb, LS_CTL_HEARTBEAT);
        ls_control_add_u64(f.cb, LS_TAG_RECEIVED, 1);
        ls_control_add_u32(f.cb, 0x8000 | 200, 7); /* a critical tag of a later format */
        {
                /* written as such: ls_control_end refuses what this version does not know */
                LsRecord r = {
                        .type = LS_REC_CONTROL,
                        .time_ns = t + 2000,
                        .body = f.cb->buf,
                        .body_len = (uint32_t) f.cb->len,
                        .orig_len = (uint32_t) f.cb->len,
                };
                TRY(ls_chain_writer_add(w, &r));
        }
        TRY(ls_chain_writer_flush(w, &s0, t + 3000, &h));
        /* batch 1: the successor's certificate in version 2, signed by its issuer */
        t += F2_S;
        ls_cert_encode(&c1, enc);
        ls_put16(enc + 8, 2);
        TRY(ls_sign(&s0, LS_CTX_CERT, enc, LS_CERT_LEN - LS_SIG_LEN, enc + LS_CERT_LEN - LS_SIG_LEN));
        ls_control_begin(f.cb, LS_CTL_KEY_TRANSITION);
        ls_control_add(f.cb, LS_TAG_CERT, enc, LS_CERT_LEN);
        TRY(f2_ctl(w, t, f.cb));
        TRY(ls_chain_writer_flush(w, &s0, t + 1000, &h));
        /* batch 2, signed by the key that certificate certifies */
        t += F2_S;
        TRY(f2_msg(w, t, "<13>1 - laterhost app - - - after the later certificate"));
        ls_control_begin(f.cb, LS_CTL_STOP);
        TRY(f2_ctl(w, t + 1000, f.cb));
        TRY(ls_chain_writer_flush(w, &s1, t + 2000, &h));
        TRY(ls_chain_writer_seal(w, &s1, t + 3000));
        ls_chain_writer_free(w);
        ls_keypair_free(k0);
        ls_keypair_free(k1);
        free(f.cb);
        close(dirfd);
        snprintf(path, sizeof(path), LATER_DIR "/%s", an);
        fprintf(fl, "later-records|%s|-|error|later format\n", path);
        return 0;
}

static int later_dict(FILE *fl);
static int later_stolen(FILE *fl);

/* Archive 1 frames are header, batch 3, batch 4, trailer. */
int make_later(FILE *fl, const TuGolden *g, const char *a0, const uint8_t *b1, size_t n1,
               const Frame *f1)
{
        uint8_t *q = malloc(n1 + 64), seed[32];
        uint8_t *b4 = q + f1[2].off + LS_FRAME_HDR_LEN;
        LsKeyPair *rogue;

        if (!q)
                return 1;
        if (mkdir(LATER_DIR, 0755) < 0 && errno != EEXIST)
                return 1;

        /*
         * Batch 4 with incompatible flag bit 15 and the reserved field at 188 in use (what a
         * later flag may give a meaning), signed by its key, the seal made again: authentic.
         */
        memcpy(q, b1, n1);
        ls_put16(b4 + 12, ls_get16(b4 + 12) | 0x8000);
        ls_put32(b4 + 188, 1);
        TRY(later_sign_batch(b4, g->epoch1));
        TRY(reseal(g, q, n1, b4));
        TRY(put(fl, "batch-flag", q, n1, a0, "-", "error", "later format"));
        /* the same bits with the genuine signature left in place */
        memcpy(q, b1, n1);
        ls_put16(b4 + 12, ls_get16(b4 + 12) | 0x8000);
        ls_put32(b4 + 188, 1);
        TRY(put(fl, "forged-batch-flag", q, n1, a0, "-", "tampered", "batch signature"));
        /* signed by a key nobody certified */
        tu_seed(seed, "later-rogue-key");
        TRY(ls_keypair_from_seed(&rogue, seed, 1));
        TRY(later_sign_batch(b4, rogue));
        TRY(put(fl, "forged-batch-flag-rogue-key", q, n1, a0, "-", "tampered", "signing key"));
        ls_keypair_free(rogue);
        /* signed by the key of epoch 0, which may not sign batch 4 (epoch 1 took over) */
        TRY(later_sign_batch(b4, g->epoch0));
        TRY(put(fl, "forged-batch-flag-earlier-key", q, n1, a0, "-", "tampered",
                "key validity"));

        /*
         * Batch 3, which certifies the epoch-1 key, with incompatible flag bit 15 (signed by
         * the epoch-0 key), batch 4 (known format) linked to it: batch 4's key is certified
         * in a batch this verifier cannot read, so batch 4 is not judged, not tampered.
         */
        {
                uint8_t *b3 = q + f1[1].off + LS_FRAME_HDR_LEN;
                memcpy(q, b1, n1);
                ls_put16(b3 + 12, ls_get16(b3 + 12) | 0x8000);
                TRY(later_sign_batch(b3, g->epoch0));
                ls_sha256(b4 + 120, b3, LS_BATCH_SIGNED_LEN);
                TRY(later_sign_batch(b4, g->epoch1));
                TRY(reseal(g, q, n1, b4));
                TRY(put(fl, "batch3-flag", q, n1, a0, "-", "error", "later format"));
                /* the same with batch 4 not linked to it: tampered */
                memcpy(b4 + 120, b1 + f1[2].off + LS_FRAME_HDR_LEN + 120, LS_HASH_LEN);
                TRY(later_sign_batch(b4, g->epoch1));
                TRY(reseal(g, q, n1, b4));
                TRY(put(fl, "forged-batch3-flag-link", q, n1, a0, "-", "tampered",
                        "batch chain"));
        }

        /* Batch 4 of header version 2. */
        memcpy(q, b1, n1);
        ls_put16(b4 + 8, 2);
        TRY(later_sign_batch(b4, g->epoch1));
        TRY(reseal(g, q, n1, b4));
        TRY(put(fl, "batch-version", q, n1, a0, "-", "error", "later format"));
        memcpy(q, b1, n1);
        ls_put16(b4 + 8, 2);
        TRY(put(fl, "forged-batch-version", q, n1, a0, "-", "tampered", "batch signature"));

        /*
         * The archive header with incompatible flag bit 1 and a 32-byte field of its own before
         * the signature (size and frame length 32 more), signed by its key, the seal made
         * again.
         */
        {
                size_t hl = f1[0].len - LS_FRAME_HDR_LEN, nl = hl + 32, n = n1 + 32;
                uint8_t *h = q + LS_FRAME_HDR_LEN;

                memcpy(q, b1, LS_FRAME_HDR_LEN + hl - LS_SIG_LEN);
                memset(q + LS_FRAME_HDR_LEN + hl - LS_SIG_LEN, 0x5a, 32);
                memcpy(q + LS_FRAME_HDR_LEN + nl, b1 + LS_FRAME_HDR_LEN + hl,
                       n1 - LS_FRAME_HDR_LEN - hl);
                ls_put32(q + 4, (uint32_t) nl);
                ls_put16(h + 10, (uint16_t) nl);
                ls_put16(h + 12, ls_get16(h + 12) | 0x0002);
                TRY(sign_header(g, h, nl));
                TRY(reseal(g, q, n, NULL));
                TRY(put(fl, "header-flag", q, n, a0, "-", "error", "later format"));
                /* with the epoch-1 certificate, its batch 4 and seal are judged by envelope */
                fprintf(fl, "later-header-flag-cert1|%s," LATER_DIR "/header-flag.lsa|cert1|"
                            "error|later format\n", a0);
                /* one byte of the new field changed after signing */
                h[hl - LS_SIG_LEN + 7] ^= 0x01;
                TRY(put(fl, "forged-header-flag", q, n, a0, "-", "tampered",
                        "archive header signature"));
        }
        /* The archive header of version 2. */
        {
                uint8_t *h = q + LS_FRAME_HDR_LEN;
                memcpy(q, b1, n1);
                ls_put16(h + 8, 2);
                TRY(sign_header(g, h, f1[0].len - LS_FRAME_HDR_LEN));
                TRY(reseal(g, q, n1, NULL));
                TRY(put(fl, "header-version", q, n1, a0, "-", "error", "later format"));
                memcpy(q, b1, n1);
                ls_put16(h + 8, 2);
                TRY(put(fl, "forged-header-version", q, n1, a0, "-", "tampered",
                        "archive header signature"));
        }
        /* The seal trailer of version 2 and with an incompatible flag. */
        {
                uint8_t *t = q + n1 - LS_TRAILER_LEN;
                memcpy(q, b1, n1);
                ls_put16(t + 8, 2);
                TRY(reseal(g, q, n1, NULL));
                TRY(put(fl, "trailer-version", q, n1, a0, "-", "error", "later format"));
                memcpy(q, b1, n1);
                ls_put16(t + 12, 0x0001);
                TRY(reseal(g, q, n1, NULL));
                TRY(put(fl, "trailer-flag", q, n1, a0, "-", "error", "later format"));
                memcpy(q, b1, n1);
                ls_put16(t + 8, 2);
                TRY(put(fl, "forged-trailer-version", q, n1, a0, "-", "tampered",
                        "seal signature"));
        }
        free(q);
        return later_chain(fl, g) != 0 || later_dict(fl) != 0 || later_stolen(fl) != 0 ||
               make_later_attacks(fl, a0) != 0;
}

/*
 * later/dict-version.lsa: archive 1 of the format-4 chain whose dictionary structure is of
 * version 2, the header's dict_hash and signature (key "format4-epoch-key-0") and the seal
 * made again: authentic, its batches read by their envelope (error; verified after archive
 * 0 alone, since archive 2 links to the original seal); and
 * later/forged-dict-version.lsa, the same version without a new dict_hash (tampered).
 */
static int later_dict(FILE *fl)
{
        char a[3][96], p1[128];
        uint8_t seed[32], cid[LS_CHAIN_ID_LEN], *b = NULL, *hdr, *dict, *t;
        size_t n, hl, dl;
        LsKeyPair *k;
        LsSigner s;

        tu_seed(seed, "format4-chain-id");
        memcpy(cid, seed, LS_CHAIN_ID_LEN);
        for (int i = 0; i < 3; i++)
                ls_archive_name(a[i], sizeof(a[i]), cid, (uint64_t) i);
        snprintf(p1, sizeof(p1), "format4/%s", a[1]);
        TRY(tu_read_file(p1, 1 << 22, &b, &n));
        tu_seed(seed, "format4-epoch-key-0");
        TRY(ls_keypair_from_seed(&k, seed, 0));
        ls_signer_from_keypair(&s, k);
        hl = ls_get32(b + 4);
        hdr = b + LS_FRAME_HDR_LEN;
        dl = ls_get32(b + LS_FRAME_HDR_LEN + hl + 4);
        dict = b + 2 * LS_FRAME_HDR_LEN + hl;
        t = b + n - LS_TRAILER_LEN;
        if (memcmp(hdr + 96, k->key_id, LS_KEY_ID_LEN) != 0 ||
            memcmp(t + 200, k->key_id, LS_KEY_ID_LEN) != 0)
                return -EINVAL;
        ls_put16(dict + 8, 2);
        TRY(tu_write_file(LATER_DIR "/forged-dict-version.lsa", b, n));
        fprintf(fl, "later-forged-dict-version|format4/%s," LATER_DIR
                    "/forged-dict-version.lsa,format4/%s|-|tampered|dictionary does not match "
                    "the archive header's dict_hash\n",
                a[0], a[2]);
        ls_sha256(hdr + hl - LS_SIG_LEN - LS_HASH_LEN, dict, dl);
        TRY(ls_sign(&s, LS_CTX_ARCHIVE_HEADER, hdr, hl - LS_SIG_LEN, hdr + hl - LS_SIG_LEN));
        ls_sha256(t + 168, b, n - LS_TRAILER_LEN - LS_FRAME_HDR_LEN);
        TRY(ls_sign(&s, LS_CTX_SEAL, t, LS_TRAILER_SIGNED_LEN, t + LS_TRAILER_SIGNED_LEN));
        TRY(tu_write_file(LATER_DIR "/dict-version.lsa", b, n));
        /* (archive 2 links to the original seal: the set ends at archive 1) */
        fprintf(fl, "later-dict-version|format4/%s," LATER_DIR "/dict-version.lsa|-|error|"
                    "later format\n",
                a[0]);
        ls_keypair_free(k);
        free(b);
        return 0;
}

/*
 * later/forged-stolen-key-flag.lsa: format-2 archive 1 with batch 2 (the last of epoch 0) given
 * incompatible flag bit 15 and signed again with the erased epoch-0 key: authentic by its
 * signature, but the next batch does not link to it and the close of epoch 0 names another
 * header: tampered with and without the key history (reading on through the envelope).
 */
static int later_stolen(FILE *fl)
{
        char a[2][96], p1[128];
        uint8_t seed[32], cid[LS_CHAIN_ID_LEN], *b = NULL, *h2;
        size_t n, hl;
        LsKeyPair *k;

        tu_seed(seed, "format2-chain-id");
        memcpy(cid, seed, LS_CHAIN_ID_LEN);
        for (int i = 0; i < 2; i++)
                ls_archive_name(a[i], sizeof(a[i]), cid, (uint64_t) i);
        snprintf(p1, sizeof(p1), "format2/%s", a[1]);
        TRY(tu_read_file(p1, 1 << 22, &b, &n));
        tu_seed(seed, "format2-epoch-key-0");
        TRY(ls_keypair_from_seed(&k, seed, 0));
        hl = ls_get32(b + 4);
        h2 = b + 2 * LS_FRAME_HDR_LEN + hl; /* the first batch header: batch 2 */
        if (ls_get64(h2 + 40) != 2 || memcmp(h2 + 224, k->key_id, LS_KEY_ID_LEN) != 0)
                return -EINVAL;
        ls_put16(h2 + 12, ls_get16(h2 + 12) | 0x8000);
        TRY(later_sign_batch(h2, k));
        TRY(tu_write_file(LATER_DIR "/forged-stolen-key-flag.lsa", b, n));
        fprintf(fl, "later-forged-stolen-key-flag|format2/%s," LATER_DIR
                    "/forged-stolen-key-flag.lsa|-|tampered|batch chain\n",
                a[0]);
        fprintf(fl, "later-forged-stolen-key-flag-history|format2/%s," LATER_DIR
                    "/forged-stolen-key-flag.lsa|format2/history.lsk|tampered|epoch close\n",
                a[0]);
        ls_keypair_free(k);
        free(b);
        return 0;
}

/* ---- evidence bundles of a later format (SPEC §14.1, §1.1) ---- */

static uint8_t lb_leaves[6][LS_HASH_LEN];

static int lb_leaf_fn(void *ud, uint64_t i, uint8_t out[LS_HASH_LEN])
{
        (void) ud;
        if (i >= 6)
                return -EINVAL;
        memcpy(out, lb_leaves[i], LS_HASH_LEN);
        return 0;
}

static int lb_proof(uint64_t i, uint8_t *out, size_t *len)
{
        uint8_t path[LS_MAX_INCLUSION_PROOF][LS_HASH_LEN];
        unsigned count;
        LsProof pr = {.kind = LS_PROOF_INCLUSION, .a = i, .b = 6};

        TRY(ls_inclusion_proof(lb_leaf_fn, NULL, i, 6, path, &count));
        pr.count = count;
        pr.path = &path[0][0];
        TRY(ls_proof_encode(&pr, out, LS_BUNDLE_MAX_PROOF_LEN, len));
        return 0;
}

/* A bundle directory: evidence.lsb, checkpoint.txt, keys.lsk and their MANIFEST.sha256. */
static int lb_write(const char *dir, const uint8_t *ev, size_t evlen, const char *note,
                    size_t nlen, const uint8_t *keys, size_t klen)
{
        const struct {
                const char *name;
                const void *p;
                size_t n;
        } f[3] = {{LS_BUNDLE_CHECKPOINT, note, nlen},
                  {LS_BUNDLE_EVIDENCE, ev, evlen},
                  {LS_BUNDLE_KEYS, keys, klen}}; /* sorted by name */
        char path[256], man[512], hex[2 * LS_HASH_LEN + 1];
        uint8_t h[LS_HASH_LEN];
        size_t m = 0;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        for (int i = 0; i < 3; i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, f[i].name);
                (void) unlink(path);
                TRY(tu_write_file(path, f[i].p, f[i].n));
                ls_sha256(h, f[i].p, f[i].n);
                ls_hex(hex, h, LS_HASH_LEN);
                m += (size_t) snprintf(man + m, sizeof(man) - m, "%s  %s\n", hex, f[i].name);
        }
        snprintf(path, sizeof(path), "%s/%s", dir, LS_BUNDLE_MANIFEST);
        (void) unlink(path);
        return tu_write_file(path, man, m);
}

/*
 * later/bundle-*: evidence bundles of a chain of its own ("later-bundle-chain-id", one batch
 * signed by the golden epoch-0 key certified by the root, salt seed
 * "later-bundle-salt-seed-0"): records 0 (key transition), 1-4 (messages), 5 (custody of an
 * export of records 2 and 4). bundles.txt lists each: name|directory|class|first check.
 */
int make_later_bundles(const TuGolden *g)
{
        static const char *const msgs[4] = {
                "<13>1 2026-01-01T00:00:01Z alpha app - - - first",
                "<13>1 2026-01-01T00:00:02Z alpha app - - - disclosed one",
                "<13>1 2026-01-01T00:00:03Z beta app - - - private",
                "<13>1 2026-01-01T00:00:04Z alpha app - - - disclosed two",
        };
        static const uint64_t chosen[2] = {2, 4};
        uint8_t cid[LS_CHAIN_ID_LEN], seed[32], salt_seed[32], enc[LS_CERT_LEN], zero[32] = {0};
        uint8_t recs[6][1024], hdr[96], sel[LS_HASH_LEN], mh[LS_HASH_LEN];
        uint8_t proofs[3][LS_BUNDLE_MAX_PROOF_LEN], ev[8192];
        size_t rlen[6], plen[3], evlen, v1_custody_off = 0, n;
        LsRecord rec[6];
        LsControlBuilder *cb = malloc(2 * sizeof(*cb));
        LsBatchBuilder *bb;
        LsBatchHeader h;
        LsMerkle tree;
        LsSigner s0;
        LsCert c;
        LsSelection selection;
        const uint8_t *frame;
        size_t flen;
        char note[LS_MAX_CHECKPOINT_TEXT];
        int nn;
        FILE *bl;

        if (!cb)
                return -ENOMEM;
        tu_seed(seed, "later-bundle-chain-id");
        memcpy(cid, seed, LS_CHAIN_ID_LEN);
        tu_seed(salt_seed, "later-bundle-salt-seed-0");
        TRY(tu_cert(&c, cid, g->epoch0, LS_CERT_SIGNING, 0, TU_T0, g->root));
        ls_cert_encode(&c, enc);
        ls_control_begin(cb, LS_CTL_KEY_TRANSITION);
        ls_control_add(cb, LS_TAG_CERT, enc, LS_CERT_LEN);
        TRY(tu_control(&rec[0], TU_T0, cb));
        rec[0].seq = 0;
        TRY(ls_record_encode(&rec[0], recs[0], sizeof(recs[0]), &rlen[0]));
        for (int i = 1; i <= 4; i++) {
                rec[i] = tu_udp4(TU_T0 + (uint64_t) i * 1000000000u, "192.0.2.10", 514,
                                 msgs[i - 1]);
                rec[i].seq = (uint64_t) i;
                TRY(ls_record_encode(&rec[i], recs[i], sizeof(recs[i]), &rlen[i]));
        }
        for (int i = 0; i <= 4; i++) {
                uint8_t salt[LS_SALT_LEN];
                ls_salt(salt, salt_seed, (uint64_t) i);
                ls_leaf_hash(lb_leaves[i], salt, recs[i], rlen[i]);
        }
        memset(lb_leaves[5], 0, LS_HASH_LEN); /* proof lengths do not depend on it */
        ls_selection_init(&selection, 2);
        for (int i = 0; i < 2; i++)
                ls_selection_add(&selection, chosen[i], lb_leaves[chosen[i]]);
        ls_selection_final(&selection, sel);
        for (int i = 0; i < 3; i++)
                TRY(lb_proof(i < 2 ? chosen[i] : 5, proofs[i], &plen[i]));

        /*
         * The later header: this format's 64 bytes with incompatible flag bit 0, size 96,
         * custody_offset at 56 and, as the later format's own field, its selection hash.
         */
        memset(hdr, 0, sizeof(hdr));
        ls_magic_put(hdr, LS_MAGIC_EVIDENCE);
        ls_put16(hdr + 8, LS_FORMAT_VERSION);
        ls_put16(hdr + 10, sizeof(hdr));
        ls_put16(hdr + 12, 0x0001);
        memcpy(hdr + 16, cid, LS_CHAIN_ID_LEN);
        ls_put64(hdr + 32, 6);
        ls_put32(hdr + 40, 2);
        ls_put64(hdr + 48, 5);
        n = sizeof(hdr);
        for (int i = 0; i < 2; i++)
                n += LS_BUNDLE_ENTRY_FIXED_LEN + rlen[chosen[i]] + plen[i];
        ls_put64(hdr + 56, n);
        memcpy(hdr + 64, sel, LS_HASH_LEN);
        ls_bundle_header_later_hash(hdr, sizeof(hdr), mh);

        /* another builder: rec[0]'s body still points into the first one */
        ls_control_begin(cb + 1, LS_CTL_CUSTODY);
        ls_control_add_u64(cb + 1, LS_TAG_COUNT, 2);
        ls_control_add_str(cb + 1, LS_TAG_CASE_ID, "CASE-LATER-0001");
        ls_control_add(cb + 1, LS_TAG_MANIFEST_HASH, mh, LS_HASH_LEN);
        ls_control_add_u16(cb + 1, LS_TAG_ACTION, LS_CUSTODY_EXPORT);
        TRY(tu_control(&rec[5], TU_T0 + 5000000000ull, cb + 1));
        rec[5].seq = 5;
        TRY(ls_record_encode(&rec[5], recs[5], sizeof(recs[5]), &rlen[5]));
        {
                uint8_t salt[LS_SALT_LEN];
                ls_salt(salt, salt_seed, 5);
                ls_leaf_hash(lb_leaves[5], salt, recs[5], rlen[5]);
        }
        for (int i = 0; i < 3; i++)
                TRY(lb_proof(i < 2 ? chosen[i] : 5, proofs[i], &plen[i]));
        ls_merkle_init(&tree);
        ls_signer_from_keypair(&s0, g->epoch0);
        TRY(ls_batch_builder_new(&bb, cid, 3, 1 << 20, 1000));
        ls_batch_builder_begin(bb, 0, 0, 0, zero, salt_seed);
        for (int i = 0; i <= 5; i++)
                TRY(ls_batch_builder_add(bb, &rec[i]));
        TRY(ls_batch_builder_finish(bb, &tree, &s0, &h, &frame, &flen));
        nn = ls_batch_checkpoint(&h, g->epoch0->pk, note, sizeof(note));
        TRY(nn);

        /* evidence.lsb: the header, then the entries of this format, the custody entry last */
        memcpy(ev, hdr, sizeof(hdr));
        evlen = sizeof(hdr);
        for (int i = 0; i < 3; i++) {
                uint64_t seq = i < 2 ? chosen[i] : 5;
                LsBundleEntry e = {.record_len = (uint32_t) rlen[seq],
                                   .proof_len = (uint32_t) plen[i],
                                   .seq = seq};
                ls_salt(e.salt, salt_seed, seq);
                if (i == 2)
                        v1_custody_off = evlen;
                ls_bundle_entry_encode(&e, ev + evlen);
                evlen += LS_BUNDLE_ENTRY_FIXED_LEN;
                memcpy(ev + evlen, recs[seq], rlen[seq]);
                evlen += rlen[seq];
                memcpy(ev + evlen, proofs[i], plen[i]);
                evlen += plen[i];
        }
        if (v1_custody_off != n)
                return -EINVAL;
        bl = fopen(LATER_DIR "/bundles.txt", "we");
        if (!bl)
                return -errno;
        fprintf(bl, "# name|bundle directory|expected class|expected check (SPEC §1.1, §14.1)\n");
        TRY(lb_write(LATER_DIR "/bundle", ev, evlen, note, (size_t) nn, enc, LS_CERT_LEN));
        fprintf(bl, "later-bundle|" LATER_DIR "/bundle|error|later format\n");
        /* a byte of the later header changed: the custody record does not commit to it */
        ev[70] ^= 0x01;
        TRY(lb_write(LATER_DIR "/bundle-forged-header", ev, evlen, note, (size_t) nn, enc,
                     LS_CERT_LEN));
        fprintf(bl, "later-bundle-forged-header|" LATER_DIR
                    "/bundle-forged-header|tampered|bundle header\n");
        ev[70] ^= 0x01;
        /*
         * A disclosed record changed in the authentic later bundle: this verifier does not
         * judge the records of a later format (a verifier of that format does): error.
         */
        ev[sizeof(hdr) + LS_BUNDLE_ENTRY_FIXED_LEN + rlen[2] - 3] ^= 0x20;
        TRY(lb_write(LATER_DIR "/bundle-record-changed", ev, evlen, note, (size_t) nn, enc,
                     LS_CERT_LEN));
        fprintf(bl, "later-bundle-record-changed|" LATER_DIR
                    "/bundle-record-changed|error|later format\n");
        /*
         * The golden bundle of this format with a disclosed record changed (tampered), and
         * its header made "later" (flag bit 0, custody_offset at its custody entry) to escape
         * the selection check: its custody record commits to the selection, not to a header.
         */
        {
                uint8_t *gb = NULL, *gk = NULL, *gc = NULL;
                size_t gbn, gkn, gcn, off = LS_BUNDLE_HEADER_LEN, last = 0;
                TRY(tu_read_file("bundle/" LS_BUNDLE_EVIDENCE, 1 << 20, &gb, &gbn));
                TRY(tu_read_file("bundle/" LS_BUNDLE_KEYS, 1 << 20, &gk, &gkn));
                TRY(tu_read_file("bundle/" LS_BUNDLE_CHECKPOINT, 1 << 20, &gc, &gcn));
                while (off + LS_BUNDLE_ENTRY_FIXED_LEN <= gbn) {
                        last = off;
                        off += LS_BUNDLE_ENTRY_FIXED_LEN + ls_get32(gb + off) +
                               ls_get32(gb + off + 4);
                }
                ls_put16(gb + 12, 0x0001);
                ls_put64(gb + 56, last);
                gb[LS_BUNDLE_HEADER_LEN + LS_BUNDLE_ENTRY_FIXED_LEN + 60] ^= 0x20;
                TRY(lb_write(LATER_DIR "/bundle-v1-flagged", gb, gbn, (const char *) gc, gcn,
                             gk, gkn));
                fprintf(bl, "later-bundle-v1-flagged|" LATER_DIR
                            "/bundle-v1-flagged|tampered|bundle header\n");
                free(gb);
                free(gk);
                free(gc);
        }
        fclose(bl);
        ls_batch_builder_free(bb);
        free(cb);
        return 0;
}
