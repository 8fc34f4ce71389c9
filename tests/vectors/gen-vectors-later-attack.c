/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen-vectors, later/attack-*: a red team's attempts on the later-format rules of SPEC §1.1.
 * The attacker of §11.1 (full write access, a copy of the erased epoch-0 key, never the
 * current or the root key) changes evidence and uses an unknown bit, an authentic later
 * structure signed with the stolen key, or keys "not judged" after one, to make
 * logseal-verify report something milder than tampered. Each case is a line of
 * forgeries.txt (or of later/checkpoints.txt, for the cases that need a checkpoint) with the
 * verdict it must get.
 */
#include "gen-vectors.h"
#include "magic.h"

#define LATER_DIR "later"

typedef struct AFrame {
        size_t off, len; /* the whole frame; a batch's with its payload */
        char magic;
} AFrame;

/* The frames of an archive (at most max); -EBADMSG when it is not one. */
static int aframes(const uint8_t *b, size_t n, AFrame *f, int max)
{
        size_t off = 0;
        int k = 0;

        while (off < n && k < max) {
                if (n - off < 16 || ls_get32(b + off) != LS_SKIPPABLE_MAGIC)
                        return -EBADMSG;
                size_t len = LS_FRAME_HDR_LEN + ls_get32(b + off + 4);
                char m = (char) b[off + 11];
                if (m == 'B')
                        len += ls_get32(b + off + LS_FRAME_HDR_LEN + 184);
                f[k++] = (AFrame){off, len, m};
                off += len;
        }
        return k;
}

static int key_named(LsKeyPair **k, const char *name, uint64_t epoch)
{
        uint8_t seed[32];

        tu_seed(seed, name);
        return ls_keypair_from_seed(k, seed, epoch);
}

/* The archive header of the frame at b (its length n with the frame header) signed by k. */
static int asign_header(uint8_t *b, LsKeyPair *k)
{
        size_t n = ls_get32(b + 4);
        uint8_t *h = b + LS_FRAME_HDR_LEN;
        LsSigner s;

        memcpy(h + 96, k->key_id, LS_KEY_ID_LEN);
        ls_put64(h + 104, k->epoch);
        ls_signer_from_keypair(&s, k);
        return ls_sign(&s, LS_CTX_ARCHIVE_HEADER, h, n - LS_SIG_LEN, h + n - LS_SIG_LEN);
}

/* The seal of archive f (n bytes, its trailer last) made again by k over the bytes before it. */
static int asign_seal(uint8_t *f, size_t n, LsKeyPair *k, const uint8_t *last_header)
{
        uint8_t *t = f + n - LS_TRAILER_LEN;
        LsSigner s;

        memcpy(t + 200, k->key_id, LS_KEY_ID_LEN);
        ls_put64(t + 208, k->epoch);
        if (last_header)
                ls_sha256(t + 136, last_header, LS_BATCH_SIGNED_LEN);
        ls_sha256(t + 168, f, n - LS_TRAILER_LEN - LS_FRAME_HDR_LEN);
        ls_signer_from_keypair(&s, k);
        return ls_sign(&s, LS_CTX_SEAL, t, LS_TRAILER_SIGNED_LEN, t + LS_TRAILER_SIGNED_LEN);
}

/* One byte in the middle of the payload of the batch frame fr changed. */
static void flip_payload(uint8_t *b, const AFrame *fr)
{
        size_t p = fr->off + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN;
        b[p + (fr->len - LS_FRAME_HDR_LEN - LS_BATCH_HEADER_LEN) / 2] ^= 0x04;
}

static int aput(const char *name, const uint8_t *p, size_t n)
{
        char path[128];

        snprintf(path, sizeof(path), LATER_DIR "/%s.lsa", name);
        (void) unlink(path);
        return tu_write_file(path, p, n);
}

/* ---- the golden chain: archive 1 as a later format writes it (gen-vectors-later.c) ---- */

static int attack_golden(FILE *fl, const char *a0)
{
        uint8_t *b = NULL;
        size_t n;
        AFrame f[8];

        /*
         * open-payload: header-flag.lsa (the archive header of a later format, authentic)
         * without its seal (an open archive: nothing but the batch headers' payload_hash
         * covers the payloads), one byte of batch 4's payload changed. The batches of an
         * archive read by its envelope are authenticated by their headers only: their payloads
         * must still be the ones the headers sign (SPEC §1.1 envelope: payload_hash).
         */
        TRY(tu_read_file(LATER_DIR "/header-flag.lsa", 1 << 20, &b, &n));
        if (aframes(b, n, f, 8) != 4 || f[3].magic != 'T')
                return -EINVAL;
        n = f[3].off;
        flip_payload(b, &f[2]);
        TRY(aput("attack-open-payload", b, n));
        fprintf(fl, "later-attack-open-payload|%s," LATER_DIR "/attack-open-payload.lsa|cert1|"
                    "tampered|payload hash\n", a0);
        fprintf(fl, "later-attack-open-payload-root-only|%s," LATER_DIR
                    "/attack-open-payload.lsa|-|tampered|payload hash\n", a0);
        /* the genuine side: the same open archive cut after batch 3 is not judged, not tampered */
        flip_payload(b, &f[2]);
        TRY(aput("attack-cut-after-later-header", b, f[2].off));
        fprintf(fl, "later-attack-cut-after-later-header|%s," LATER_DIR
                    "/attack-cut-after-later-header.lsa|-|error|later format\n", a0);
        /* and torn in the middle of batch 4: an open archive's torn tail, not judged */
        TRY(aput("attack-torn-after-later-header", b, f[2].off + f[2].len / 2));
        fprintf(fl, "later-attack-torn-after-later-header|%s," LATER_DIR
                    "/attack-torn-after-later-header.lsa|-|error|later format\n", a0);
        /*
         * header-flag-rogue-batch4: header-flag.lsa (its later header signed by the epoch-0
         * key, which the holder of that erased key can make) with batch 4 changed and signed
         * by a key nobody certified, the seal made again by that key. With the epoch-1
         * certificate the last known key owns batch 4 and no later structure was met in its
         * window (from batch 4): tampered. From the root key alone the epoch-1 certificate
         * is in batch 3, which the later header hides: epoch 0 is the last known, its window
         * open, the later header inside it: not judged (error; SPEC §11.1 concedes the
         * rewrite after batch 3 to the holder of that key from the root key alone anyway).
         */
        free(b);
        b = NULL;
        TRY(tu_read_file(LATER_DIR "/header-flag.lsa", 1 << 20, &b, &n));
        {
                uint8_t *h4 = b + f[2].off + LS_FRAME_HDR_LEN;
                LsKeyPair *rogue = NULL;
                flip_payload(b, &f[2]);
                ls_sha256(h4 + 192, h4 + LS_BATCH_HEADER_LEN,
                          f[2].len - LS_FRAME_HDR_LEN - LS_BATCH_HEADER_LEN);
                TRY(key_named(&rogue, "later-rogue-key", 1));
                TRY(later_sign_batch(h4, rogue));
                TRY(asign_seal(b, n, rogue, h4));
                ls_keypair_free(rogue);
        }
        TRY(aput("attack-header-flag-rogue-batch4", b, n));
        fprintf(fl, "later-attack-header-flag-rogue-batch4|%s," LATER_DIR
                    "/attack-header-flag-rogue-batch4.lsa|cert1|tampered|signing key\n", a0);
        fprintf(fl, "later-attack-header-flag-rogue-batch4-root-only|%s," LATER_DIR
                    "/attack-header-flag-rogue-batch4.lsa|-|error|later format\n", a0);
        free(b);
        return 0;
}

/* ---- the format-2 chain and the erased epoch-0 key ---- */

static int attack_format2(FILE *fl)
{
        char a[3][96], p[3][160];
        uint8_t seed[32], cid[LS_CHAIN_ID_LEN], *b[3] = {NULL}, *q = NULL;
        size_t n[3];
        AFrame f1[8], f2[8];
        LsKeyPair *k0 = NULL, *rogue = NULL;

        tu_seed(seed, "format2-chain-id");
        memcpy(cid, seed, LS_CHAIN_ID_LEN);
        for (int i = 0; i < 3; i++) {
                ls_archive_name(a[i], sizeof(a[i]), cid, (uint64_t) i);
                snprintf(p[i], sizeof(p[i]), "format2/%.96s", a[i]);
                TRY(tu_read_file(p[i], 1 << 22, &b[i], &n[i]));
        }
        TRY(key_named(&k0, "format2-epoch-key-0", 0));
        TRY(key_named(&rogue, "later-rogue-key", 1));
        /* archive 1: header, batches 2, 3, 4, seal; archive 2: header, batch 5, seal */
        if (aframes(b[1], n[1], f1, 8) != 5 || aframes(b[2], n[2], f2, 8) != 3 ||
            memcmp(b[1] + LS_FRAME_HDR_LEN + 96, k0->key_id, LS_KEY_ID_LEN) != 0)
                return -EINVAL;
        q = malloc(n[1] + n[2]);
        if (!q)
                return -ENOMEM;

        /*
         * stolen-header-open-payload: the holder of the erased epoch-0 key signs archive 1's
         * header again with incompatible flag bit 15 (that key may sign its first batch, 2),
         * drops the seal it cannot make again, and changes a record of batch 3, which the
         * epoch-1 key signed. The header authenticates (class error); the batch's payload
         * must not escape its payload_hash.
         */
        memcpy(q, b[1], n[1]);
        ls_put16(q + LS_FRAME_HDR_LEN + 12, 0x8000);
        TRY(asign_header(q, k0));
        flip_payload(q, &f1[2]);
        TRY(aput("attack-stolen-header-open-payload", q, f1[4].off));
        fprintf(fl, "later-attack-stolen-header-open-payload|%s," LATER_DIR
                    "/attack-stolen-header-open-payload.lsa|format2/history.lsk|tampered|"
                    "payload hash\n", p[0]);
        fprintf(fl, "later-attack-stolen-header-open-payload-root-only|%s," LATER_DIR
                    "/attack-stolen-header-open-payload.lsa|-|tampered|payload hash\n", p[0]);
        /* unchanged batches, the seal dropped, archive 2 after it: no seal, tampered */
        flip_payload(q, &f1[2]);
        TRY(aput("attack-stolen-header-unsealed", q, f1[4].off));
        fprintf(fl, "later-attack-stolen-header-unsealed-followed|%s," LATER_DIR
                    "/attack-stolen-header-unsealed.lsa,%s|format2/history.lsk|tampered|"
                    "archive seal\n", p[0], p[2]);

        /*
         * stolen-header-rogue-tail: the same later header (epoch-0 key), then everything the
         * attacker could not sign made with a key nobody certified: batch 3 with a record
         * changed, batch 4 linked to it, archive 1's seal, archive 2's header, batch 5 and seal.
         * After an authentic later structure a key this verifier does not know is "not
         * judged" (SPEC §1.1): the epoch-1 and epoch-2 keys are known from the history, the
         * close of epoch 1 bounds epoch 1 to batches 3-4 and epoch 2 starts at 5, so no
         * unreadable certificate can have put another key there: tampered. From the root key
         * alone the later header hides batch 2's handover to epoch 1 and epoch 0 is the last
         * epoch the verifier knows, whose key SPEC §11.1 admits may have been copied (it could
         * append batches of its own and get intact with the LIMIT sentence): not judged, error.
         */
        {
                uint8_t *h1 = q + LS_FRAME_HDR_LEN, *b3 = q + f1[2].off + LS_FRAME_HDR_LEN,
                        *b4 = q + f1[3].off + LS_FRAME_HDR_LEN, *o = q + f1[4].off;
                size_t m1 = n[1], m;
                uint8_t *r2, *b5, seal1[LS_HASH_LEN];

                memcpy(q, b[1], n[1]);
                ls_put16(h1 + 12, 0x8000);
                TRY(asign_header(q, k0));
                flip_payload(q, &f1[2]);
                ls_sha256(b3 + 192, b3 + LS_BATCH_HEADER_LEN, f1[2].len - LS_FRAME_HDR_LEN -
                                                                      LS_BATCH_HEADER_LEN);
                TRY(later_sign_batch(b3, rogue));
                ls_sha256(b4 + 120, b3, LS_BATCH_SIGNED_LEN);
                TRY(later_sign_batch(b4, rogue));
                TRY(asign_seal(q, m1, rogue, b4));
                (void) o;
                ls_sha256(seal1, q + m1 - LS_TRAILER_LEN, LS_TRAILER_SIGNED_LEN);
                TRY(aput("attack-stolen-header-rogue-tail-1", q, m1));
                r2 = q + m1;
                memcpy(r2, b[2], n[2]);
                m = n[2];
                memcpy(r2 + LS_FRAME_HDR_LEN + 64, seal1, LS_HASH_LEN);
                TRY(asign_header(r2, rogue));
                b5 = r2 + f2[1].off + LS_FRAME_HDR_LEN;
                ls_sha256(b5 + 120, b4, LS_BATCH_SIGNED_LEN);
                TRY(later_sign_batch(b5, rogue));
                TRY(asign_seal(r2, m, rogue, b5));
                TRY(aput("attack-stolen-header-rogue-tail-2", r2, m));
                fprintf(fl, "later-attack-stolen-header-rogue-tail|%s," LATER_DIR
                            "/attack-stolen-header-rogue-tail-1.lsa," LATER_DIR
                            "/attack-stolen-header-rogue-tail-2.lsa|format2/history.lsk|"
                            "tampered|signing key\n", p[0]);
                fprintf(fl, "later-attack-stolen-header-rogue-tail-root-only|%s," LATER_DIR
                            "/attack-stolen-header-rogue-tail-1.lsa," LATER_DIR
                            "/attack-stolen-header-rogue-tail-2.lsa|-|error|later format\n",
                        p[0]);
                /* the genuine archive 2 after the rogue archive 1: its seal link breaks */
                fprintf(fl, "later-attack-stolen-header-rogue-archive1|%s," LATER_DIR
                            "/attack-stolen-header-rogue-tail-1.lsa,%s|-|tampered|"
                            "archive chain\n", p[0], p[2]);
        }

        /*
         * genuine-upgrade: the genuine side of the above. An appliance upgraded while epoch 0
         * signs writes archive 1's header with bit 15 (epoch-0 key), seals it with the key of
         * the day (epoch 1), and archive 2 links to that seal (epoch 2): authentic all through,
         * not judged, never tampered, with the history (every key known, windows bounded) and
         * from the root key alone (the epoch-1 and -2 keys certified where it cannot read).
         */
        {
                LsKeyPair *k1 = NULL, *k2 = NULL;
                uint8_t *r2 = q + n[1], seal1[LS_HASH_LEN];

                TRY(key_named(&k1, "format2-epoch-key-1", 1));
                TRY(key_named(&k2, "format2-epoch-key-2", 2));
                memcpy(q, b[1], n[1]);
                ls_put16(q + LS_FRAME_HDR_LEN + 12, 0x8000);
                TRY(asign_header(q, k0));
                TRY(asign_seal(q, n[1], k1, NULL));
                ls_sha256(seal1, q + n[1] - LS_TRAILER_LEN, LS_TRAILER_SIGNED_LEN);
                memcpy(r2, b[2], n[2]);
                memcpy(r2 + LS_FRAME_HDR_LEN + 64, seal1, LS_HASH_LEN);
                TRY(asign_header(r2, k2));
                TRY(asign_seal(r2, n[2], k2, NULL));
                TRY(aput("attack-genuine-upgrade-1", q, n[1]));
                TRY(aput("attack-genuine-upgrade-2", r2, n[2]));
                for (int i = 0; i < 2; i++)
                        fprintf(fl, "later-attack-genuine-upgrade%s|%s," LATER_DIR
                                    "/attack-genuine-upgrade-1.lsa," LATER_DIR
                                    "/attack-genuine-upgrade-2.lsa|%s|error|later format\n",
                                i ? "-root-only" : "", p[0], i ? "-" : "format2/history.lsk");
                ls_keypair_free(k1);
                ls_keypair_free(k2);
        }

        /*
         * stolen-batch1-cut (later/checkpoints.txt): the holder of the erased epoch-0 key
         * rewrites batch 1 (a record changed) with bit 15 and seals archive 0 again, and cuts
         * the chain there. From the root key alone epoch 0 is the last epoch known, so the
         * genuine checkpoint of batch 1 (format2/inside-closed-epoch.checkpoint, epoch-0 key)
         * is authentic: the forged later batch 1 is a fork, tampered.
         */
        {
                AFrame f0[8];
                uint8_t *h1;
                if (aframes(b[0], n[0], f0, 8) != 4)
                        return -EINVAL;
                memcpy(q, b[0], n[0]);
                h1 = q + f0[2].off + LS_FRAME_HDR_LEN;
                if (ls_get64(h1 + 40) != 1)
                        return -EINVAL;
                flip_payload(q, &f0[2]);
                ls_sha256(h1 + 192, h1 + LS_BATCH_HEADER_LEN,
                          f0[2].len - LS_FRAME_HDR_LEN - LS_BATCH_HEADER_LEN);
                ls_put16(h1 + 12, ls_get16(h1 + 12) | 0x8000);
                TRY(later_sign_batch(h1, k0));
                TRY(asign_seal(q, n[0], k0, h1));
                TRY(aput("attack-stolen-batch1-cut", q, n[0]));
        }

        /*
         * stolen-seal-counts: archive 1 keeps its batches 2-4 (epoch 0, then 1) but its seal is
         * replaced by one of a later format (incompatible flag bit 0) signed with the erased
         * epoch-0 key, whose batch_count (1) names batch 2 as the last: that key may sign the
         * seal of an archive ending at batch 2, not of one ending at batch 4, the last batch
         * read. The same seal of this format, in an archive read as usual, fails its counts.
         */
        memcpy(q, b[1], n[1]);
        {
                uint8_t *t = q + n[1] - LS_TRAILER_LEN;
                ls_put16(t + 12, 0x0001);
                ls_put64(t + 48, 1);
                TRY(asign_seal(q, n[1], k0, NULL));
        }
        TRY(aput("attack-stolen-seal-counts", q, n[1]));
        fprintf(fl, "later-attack-stolen-seal-counts|%s," LATER_DIR
                    "/attack-stolen-seal-counts.lsa|format2/history.lsk|tampered|seal key\n",
                p[0]);
        fprintf(fl, "later-attack-stolen-seal-counts-root-only|%s," LATER_DIR
                    "/attack-stolen-seal-counts.lsa|-|tampered|seal key\n", p[0]);

        /*
         * stolen-header-open-junk: archive 1's header made later by the erased epoch-0 key, the
         * seal dropped, a skippable frame of 32 bytes no format defines inserted after batch 2.
         * A frame of a later archive is not judged and in an open archive nothing covers it,
         * so this stays error (the unknown bit the erased key signed already makes the archive
         * error; the frame hides no record: every batch is still read by its envelope).
         */
        {
                size_t at = f1[2].off, m = f1[4].off;
                memcpy(q, b[1], at);
                ls_put32(q + at, LS_SKIPPABLE_MAGIC);
                ls_put32(q + at + 4, 32);
                memset(q + at + 8, 0x5a, 32);
                memcpy(q + at + 40, b[1] + at, m - at);
                ls_put16(q + LS_FRAME_HDR_LEN + 12, 0x8000);
                TRY(asign_header(q, k0));
                TRY(aput("attack-stolen-header-open-junk", q, m + 40));
                fprintf(fl, "later-attack-stolen-header-open-junk|%s," LATER_DIR
                            "/attack-stolen-header-open-junk.lsa|format2/history.lsk|error|"
                            "later format\n", p[0]);
        }

        /*
         * stolen-header-outside: archive 2's header (first batch 5) with bit 15 signed by the
         * erased epoch-0 key, outside its window: tampered.
         */
        memcpy(q, b[2], n[2]);
        ls_put16(q + LS_FRAME_HDR_LEN + 12, 0x8000);
        TRY(asign_header(q, k0));
        TRY(aput("attack-stolen-header-outside", q, n[2]));
        fprintf(fl, "later-attack-stolen-header-outside|%s,%s," LATER_DIR
                    "/attack-stolen-header-outside.lsa|-|tampered|archive header key\n",
                p[0], p[1]);

        /*
         * fake-later-archive: archive 1 deleted and a "later" archive 1 in its place (bit 15
         * on its header, signed by a key nobody certified): tampered, not a later format.
         */
        memcpy(q, b[1], n[1]);
        ls_put16(q + LS_FRAME_HDR_LEN + 12, 0x8000);
        TRY(asign_header(q, rogue));
        TRY(asign_seal(q, n[1], rogue, NULL));
        TRY(aput("attack-fake-later-archive", q, n[1]));
        fprintf(fl, "later-attack-fake-later-archive|%s," LATER_DIR
                    "/attack-fake-later-archive.lsa,%s|format2/history.lsk|tampered|"
                    "archive header signature\n", p[0], p[2]);

        free(q);
        for (int i = 0; i < 3; i++)
                free(b[i]);
        ls_keypair_free(k0);
        ls_keypair_free(rogue);
        return 0;
}

/* ---- format 4: a dictionary of a later format ---- */

static int attack_dict(FILE *fl)
{
        char a0[96];
        uint8_t seed[32], cid[LS_CHAIN_ID_LEN], *b = NULL;
        size_t n;
        AFrame f[8];

        tu_seed(seed, "format4-chain-id");
        memcpy(cid, seed, LS_CHAIN_ID_LEN);
        ls_archive_name(a0, sizeof(a0), cid, 0);
        /* dict-version.lsa: header, dictionary, batches 12, 13, seal */
        TRY(tu_read_file(LATER_DIR "/dict-version.lsa", 1 << 22, &b, &n));
        if (aframes(b, n, f, 8) != 5 || f[4].magic != 'T')
                return -EINVAL;
        flip_payload(b, &f[2]);
        TRY(aput("attack-dict-open-payload", b, f[4].off));
        fprintf(fl, "later-attack-dict-open-payload|format4/%s," LATER_DIR
                    "/attack-dict-open-payload.lsa|-|tampered|payload hash\n", a0);
        free(b);
        return 0;
}

/* ---- the later-records chain: keys certified in a record this verifier cannot read ---- */

static int attack_records(FILE *fl)
{
        char an[96], path[160];
        uint8_t seed[32], cid[LS_CHAIN_ID_LEN], *b = NULL;
        size_t n;
        AFrame f[8];
        LsKeyPair *rogue = NULL;

        tu_seed(seed, "later-chain-id");
        memcpy(cid, seed, LS_CHAIN_ID_LEN);
        ls_archive_name(an, sizeof(an), cid, 0);
        snprintf(path, sizeof(path), LATER_DIR "/%s", an);
        TRY(tu_read_file(path, 1 << 22, &b, &n));
        /* header, batches 0, 1, 2 (signed by the key certified in version 2), seal */
        if (aframes(b, n, f, 8) != 5 || f[4].magic != 'T')
                return -EINVAL;
        /* open (no seal), a record of batch 2 changed: its payload_hash still judges it */
        flip_payload(b, &f[3]);
        TRY(aput("attack-records-open-payload", b, f[4].off));
        fprintf(fl, "later-attack-records-open-payload|" LATER_DIR
                    "/attack-records-open-payload.lsa|-|tampered|payload hash\n");
        /*
         * The same batch 2 signed again by a key nobody certified, its payload_hash made
         * again: the open tail after an authentic later record, in the open window of the
         * last key this verifier knows, signed by a key it cannot know. Nothing this verifier
         * reads can tell it from the genuine batch 2: not judged (error), which a verifier of
         * that later format turns into tampered (SPEC §1.1: the verdict is temporary).
         */
        {
                uint8_t *h = b + f[3].off + LS_FRAME_HDR_LEN;
                TRY(key_named(&rogue, "later-rogue-key", 1));
                ls_sha256(h + 192, h + LS_BATCH_HEADER_LEN,
                          f[3].len - LS_FRAME_HDR_LEN - LS_BATCH_HEADER_LEN);
                TRY(later_sign_batch(h, rogue));
                TRY(aput("attack-records-open-rogue-tail", b, f[4].off));
                fprintf(fl, "later-attack-records-open-rogue-tail|" LATER_DIR
                            "/attack-records-open-rogue-tail.lsa|-|error|later format\n");
                ls_keypair_free(rogue);
        }
        free(b);
        return 0;
}

/*
 * later/checkpoints.txt (name|archives|trust|option|checkpoint|class|first check): an
 * authentic checkpoint compared with a batch read by its envelope. golden.checkpoint names
 * batch 4 of the golden chain, which batch-flag.lsa holds as another authentic header (bit
 * 15): a fork, tampered (it was missing tail, a gap, under error: a fork hidden by an unknown
 * bit); later/batch-flag.checkpoint is the checkpoint of that later batch 4 (its note signed
 * by the epoch-1 key, as the batch header is): consistent, the later format not judged.
 */
static int attack_checkpoints(const char *a0)
{
        uint8_t *b = NULL;
        size_t n;
        AFrame f[8];
        LsBatchHeader h;
        uint8_t hh[LS_HASH_LEN], pk[LS_PK_LEN];
        uint16_t ver;
        char body[LS_NOTE_BODY_MAX], text[LS_MAX_CHECKPOINT_TEXT];
        LsKeyPair *k1 = NULL;
        int bn, tn;
        FILE *cl;

        TRY(tu_read_file(LATER_DIR "/batch-flag.lsa", 1 << 20, &b, &n));
        if (aframes(b, n, f, 8) != 4 || f[2].magic != 'B')
                return -EINVAL;
        TRY(ls_batch_header_decode_later(&h, hh, &ver, b + f[2].off + LS_FRAME_HDR_LEN,
                                         LS_BATCH_HEADER_LEN, NULL));
        bn = ls_checkpoint_body(body, sizeof(body), h.chain_id, h.tree_size, h.tree_root,
                                h.batch_no, hh);
        TRY(bn);
        TRY(key_named(&k1, "epoch-key-1", 1));
        memcpy(pk, k1->pk, LS_PK_LEN);
        ls_keypair_free(k1);
        tn = ls_checkpoint_format(text, sizeof(text), body, (size_t) bn, pk, h.sig);
        TRY(tn);
        (void) unlink(LATER_DIR "/batch-flag.checkpoint");
        TRY(tu_write_file(LATER_DIR "/batch-flag.checkpoint", text, (size_t) tn));
        free(b);
        cl = fopen(LATER_DIR "/checkpoints.txt", "we");
        if (!cl)
                return -errno;
        fprintf(cl, "# name|archives (in order)|trust|option|checkpoint|expected class|"
                    "expected check (SPEC §1.1, §7.3, §11)\n");
        for (int i = 0; i < 2; i++) {
                const char *opt = i ? "--upto" : "-c";
                fprintf(cl, "later-cp-fork%s|%s," LATER_DIR "/batch-flag.lsa|-|%s|"
                            "golden.checkpoint|tampered|checkpoint fork\n",
                        i ? "-upto" : "", a0, opt);
                fprintf(cl, "later-cp-consistent%s|%s," LATER_DIR "/batch-flag.lsa|-|%s|"
                            LATER_DIR "/batch-flag.checkpoint|error|later format\n",
                        i ? "-upto" : "", a0, opt);
        }
        fprintf(cl, "later-cp-stolen-batch1-fork|" LATER_DIR "/attack-stolen-batch1-cut.lsa|-|"
                    "-c|format2/inside-closed-epoch.checkpoint|tampered|checkpoint fork\n");
        fclose(cl);
        return 0;
}

int make_later_attacks(FILE *fl, const char *a0)
{
        return attack_golden(fl, a0) || attack_format2(fl) || attack_dict(fl) ||
               attack_records(fl) || attack_checkpoints(a0);
}

/* ---- evidence bundles of a later format (SPEC §14.1): custody_offset ---- */

/* A copy of later/bundle with evidence.lsb replaced (ev, n), its manifest made again. */
static int abundle(const char *dir, const uint8_t *ev, size_t n)
{
        static const char *const names[3] = {LS_BUNDLE_CHECKPOINT, LS_BUNDLE_EVIDENCE,
                                             LS_BUNDLE_KEYS}; /* sorted by name */
        char path[256], man[512], hex[2 * LS_HASH_LEN + 1];
        uint8_t h[LS_HASH_LEN], *p = NULL;
        size_t m = 0, pn;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        for (int i = 0; i < 3; i++) {
                if (i == 1) {
                        p = malloc(n);
                        if (!p)
                                return -ENOMEM;
                        memcpy(p, ev, n);
                        pn = n;
                } else {
                        snprintf(path, sizeof(path), LATER_DIR "/bundle/%s", names[i]);
                        TRY(tu_read_file(path, 1 << 20, &p, &pn));
                }
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                (void) unlink(path);
                TRY(tu_write_file(path, p, pn));
                ls_sha256(h, p, pn);
                free(p);
                ls_hex(hex, h, LS_HASH_LEN);
                m += (size_t) snprintf(man + m, sizeof(man) - m, "%s  %s\n", hex, names[i]);
        }
        snprintf(path, sizeof(path), "%s/%s", dir, LS_BUNDLE_MANIFEST);
        (void) unlink(path);
        return tu_write_file(path, man, m);
}

/*
 * later/attack-bundle-*: the authentic later bundle (96-byte header, custody_offset at 56)
 * with custody_offset at 0 (inside the header) and at the first disclosed entry (record 2,
 * not a custody record): tampered; and with a copy of its custody entry appended and
 * custody_offset naming the copy (the original now among the disclosed bytes): tampered too,
 * since custody_offset is in the header bytes the custody record commits to.
 */
int make_later_attack_bundles(void)
{
        uint8_t *ev = NULL, *x;
        size_t n, coff;
        FILE *bl;

        TRY(tu_read_file(LATER_DIR "/bundle/" LS_BUNDLE_EVIDENCE, 1 << 20, &ev, &n));
        coff = ls_get64(ev + 56);
        if (coff >= n || ls_get16(ev + 10) != 96)
                return -EINVAL;
        x = malloc(n + (n - coff));
        if (!x)
                return -ENOMEM;
        bl = fopen(LATER_DIR "/bundles.txt", "ae");
        if (!bl)
                return -errno;
        memcpy(x, ev, n);
        ls_put64(x + 56, 0);
        TRY(abundle(LATER_DIR "/attack-bundle-custody-offset-0", x, n));
        fprintf(bl, "later-attack-bundle-custody-offset-0|" LATER_DIR
                    "/attack-bundle-custody-offset-0|tampered|bundle header\n");
        ls_put64(x + 56, 96);
        TRY(abundle(LATER_DIR "/attack-bundle-custody-offset-record", x, n));
        fprintf(bl, "later-attack-bundle-custody-offset-record|" LATER_DIR
                    "/attack-bundle-custody-offset-record|tampered|bundle header\n");
        memcpy(x + n, ev + coff, n - coff);
        ls_put64(x + 56, n);
        TRY(abundle(LATER_DIR "/attack-bundle-custody-copied", x, n + (n - coff)));
        fprintf(bl, "later-attack-bundle-custody-copied|" LATER_DIR
                    "/attack-bundle-custody-copied|tampered|bundle header\n");
        fclose(bl);
        free(x);
        free(ev);
        return 0;
}
