/* SPDX-License-Identifier: Apache-2.0 */
/* gen-vectors, forged archives and the verdicts they must get (main is in gen-vectors.c) */
#include "gen-vectors.h"

static int splice_file(const char *out, const uint8_t *p, size_t n, uint64_t cut_off, uint64_t cut_len,
                  const uint8_t *ins, size_t ins_len)
{
        uint8_t *q = malloc(n - cut_len + ins_len);
        int r;

        if (!q)
                return -ENOMEM;
        memcpy(q, p, cut_off);
        if (ins_len)
                memcpy(q + cut_off, ins, ins_len);
        memcpy(q + cut_off + ins_len, p + cut_off + cut_len, n - cut_off - cut_len);
        r = tu_write_file(out, q, n - cut_len + ins_len);
        free(q);
        return r;
}

/* Archive 0 frames are header, batch 0, 1, 2, trailer. */
int make_forgeries(FILE *fl, const TuGolden *g, const char *a0, const char *a1, const uint8_t *b0,
                   size_t n0, const uint8_t *b1, size_t n1, const Frame *f0, const Frame *f1)
{
        /* a byte of batch 1's compressed payload changed */
        uint8_t *q = malloc(n0);
        memcpy(q, b0, n0);
        q[f0[2].off + 8 + LS_BATCH_HEADER_LEN + 5] ^= 0x01;
        TRY(tu_write_file("forged-payload-byte.lsa", q, n0));
        fprintf(fl, "payload-byte|forged-payload-byte.lsa,%s|-|tampered|payload hash\n", a1);

        /* batch 1 re-signed with the epoch-1 key: a later key over earlier data */
        LsBatchHeader h;
        LsSigner s1, rogue_s;
        LsKeyPair *rogue;
        uint8_t seed[32];
        memcpy(q, b0, n0);
        TRY(ls_batch_header_decode(&h, q + f0[2].off + 8, LS_BATCH_HEADER_LEN, NULL));
        ls_signer_from_keypair(&s1, g->epoch1);
        TRY(ls_batch_header_sign(&h, &s1));
        ls_batch_header_encode(&h, q + f0[2].off + 8);
        TRY(tu_write_file("forged-later-key.lsa", q, n0));
        fprintf(fl, "later-key|forged-later-key.lsa,%s|cert1|tampered|key validity\n", a1);

        /* batch 1 re-signed by a key nobody certified */
        memcpy(q, b0, n0);
        tu_seed(seed, "rogue-key");
        TRY(ls_keypair_from_seed(&rogue, seed, 0));
        ls_signer_from_keypair(&rogue_s, rogue);
        TRY(ls_batch_header_sign(&h, &rogue_s));
        ls_batch_header_encode(&h, q + f0[2].off + 8);
        TRY(tu_write_file("forged-rogue-key.lsa", q, n0));
        fprintf(fl, "rogue-key|forged-rogue-key.lsa,%s|-|tampered|signing key\n", a1);
        ls_keypair_free(rogue);

        /* batch 1 removed */
        TRY(splice_file("forged-batch-deleted.lsa", b0, n0, f0[2].off, f0[2].len, NULL, 0));
        fprintf(fl, "batch-deleted|forged-batch-deleted.lsa,%s|-|tampered|batch order\n", a1);

        /* batches 1 and 2 swapped */
        {
                uint8_t *sw = malloc(n0);
                size_t o = f0[2].off;
                memcpy(sw, b0, n0);
                memcpy(sw + o, b0 + f0[3].off, f0[3].len);
                memcpy(sw + o + f0[3].len, b0 + f0[2].off, f0[2].len);
                TRY(tu_write_file("forged-batches-swapped.lsa", sw, n0));
                free(sw);
        }
        fprintf(fl, "batches-swapped|forged-batches-swapped.lsa,%s|-|tampered|batch order\n", a1);

        /* the seal trailer stripped while the next archive follows */
        TRY(tu_write_file("forged-no-seal.lsa", b0, f0[4].off));
        fprintf(fl, "no-seal|forged-no-seal.lsa,%s|-|tampered|archive seal\n", a1);

        /* a duplicated batch 0 */
        TRY(splice_file("forged-batch-duplicated.lsa", b0, n0, f0[2].off, 0, b0 + f0[1].off,
                   f0[1].len));
        fprintf(fl, "batch-duplicated|forged-batch-duplicated.lsa,%s|-|tampered|batch order\n", a1);

        /* forged key transition: batch 3 rebuilt by someone holding the epoch-0 key,
         * handing over to a key nobody certified (a self-signed certificate) */
        {
                LsArchiveHeader ah;
                LsBatchBuilder *bb;
                LsBatchHeader fh;
                LsMerkle tree;
                LsKeyPair *rogue1;
                LsCert rc;
                LsSigner s0, rs;
                LsRecord rec;
                LsControlBuilder *cb = malloc(sizeof(*cb));
                const uint8_t *fb;
                size_t flen, hl = ls_get32(b1 + 4);
                uint8_t seed2[32], prev[LS_HASH_LEN], rcb[LS_CERT_LEN];

                TRY(ls_archive_header_decode(&ah, b1 + 8, hl, NULL));
                tree.size = ah.first_seq;
                tree.n = ah.peak_count;
                memcpy(tree.peaks, ah.peaks, (size_t) ah.peak_count * LS_HASH_LEN);
                tu_seed(seed2, "rogue-epoch-1");
                TRY(ls_keypair_from_seed(&rogue1, seed2, 1));
                ls_signer_from_keypair(&rs, rogue1);
                ls_signer_from_keypair(&s0, g->epoch0);
                memset(&rc, 0, sizeof(rc));
                rc.kind = LS_CERT_SIGNING;
                memcpy(rc.chain_id, g->chain_id, LS_CHAIN_ID_LEN);
                memcpy(rc.pk, rogue1->pk, LS_PK_LEN);
                rc.epoch = 1;
                rc.valid_from_batch = 4;
                rc.issued_ns = TU_T0;
                TRY(ls_cert_sign(&rc, &rs));
                ls_cert_encode(&rc, rcb);
                ls_batch_header_hash(&g->batches[2], prev);
                TRY(ls_batch_builder_new(&bb, g->chain_id, 3, 1 << 20, 1000));
                tu_seed(seed2, "salt-seed-3");
                ls_batch_builder_begin(bb, 1, 3, ah.first_seq, prev, seed2);
                rec = tu_udp4(TU_T0 + 3000000000ull, "198.51.100.7", 51514,
                              "<165>1 2026-01-01T00:00:03Z r1 - - - ok");
                TRY(ls_batch_builder_add(bb, &rec));
                ls_control_begin(cb, LS_CTL_KEY_TRANSITION);
                ls_control_add(cb, LS_TAG_CERT, rcb, LS_CERT_LEN);
                TRY(tu_control(&rec, TU_T0 + 3000000001ull, cb));
                TRY(ls_batch_builder_add(bb, &rec));
                TRY(ls_batch_builder_finish(bb, &tree, &s0, &fh, &fb, &flen));
                TRY(splice_file("forged-transition.lsa", b1, n1, f1[1].off, f1[1].len, fb, flen));
                ls_batch_builder_free(bb);
                ls_keypair_free(rogue1);
                free(cb);
        }
        fprintf(fl, "forged-transition|%s,forged-transition.lsa|-|tampered|key transition\n", a0);
        /* batch 4 re-signed with the epoch-0 key: an earlier epoch's key over data
         * its successor (certified in batch 3, valid from batch 4) owns */
        {
                uint8_t *q1 = malloc(n1);
                LsBatchHeader h3;
                LsSigner s0;
                memcpy(q1, b1, n1);
                TRY(ls_batch_header_decode(&h3, q1 + f1[2].off + 8, LS_BATCH_HEADER_LEN, NULL));
                ls_signer_from_keypair(&s0, g->epoch0);
                TRY(ls_batch_header_sign(&h3, &s0));
                ls_batch_header_encode(&h3, q1 + f1[2].off + 8);
                TRY(tu_write_file("forged-earlier-key.lsa", q1, n1));
                free(q1);
        }
        fprintf(fl, "earlier-key|%s,forged-earlier-key.lsa|-|tampered|key validity\n", a0);
        /* batch 2 rebuilt by someone holding the epoch-0 key, handing over to a rogue
         * key: (a) with a certificate that names the root as issuer but is signed by the
         * epoch-0 key (certified by the wrong key); (b) through a forged root rotation:
         * a "root" certificate signed by the epoch-0 key, and the rogue key certified by
         * that rogue root */
        for (int variant = 0; variant < 2; variant++) {
                LsBatchBuilder *bb;
                LsBatchHeader fh;
                LsMerkle tree = {0};
                LsKeyPair *rogue_key, *rogue_root;
                LsCert rc, rr;
                LsSigner s0, rrs;
                LsRecord rec;
                LsControlBuilder *cb = malloc(sizeof(*cb));
                const uint8_t *fb;
                size_t flen;
                uint8_t seed2[32], prev[LS_HASH_LEN], enc[LS_CERT_LEN];
                const char *out = variant == 0 ? "forged-wrong-certifier.lsa" :
                                                 "forged-root-rotation.lsa";

                for (uint64_t i = 0; i < g->batches[1].tree_size; i++)
                        TRY(ls_merkle_append(&tree, leaves[i]));
                ls_batch_header_hash(&g->batches[1], prev);
                ls_signer_from_keypair(&s0, g->epoch0);
                tu_seed(seed2, "rogue-epoch-1b");
                TRY(ls_keypair_from_seed(&rogue_key, seed2, 1));
                tu_seed(seed2, "rogue-root");
                TRY(ls_keypair_from_seed(&rogue_root, seed2, 0));
                ls_signer_from_keypair(&rrs, rogue_root);
                memset(&rc, 0, sizeof(rc));
                rc.kind = LS_CERT_SIGNING;
                memcpy(rc.chain_id, g->chain_id, LS_CHAIN_ID_LEN);
                memcpy(rc.pk, rogue_key->pk, LS_PK_LEN);
                rc.epoch = 1;
                rc.valid_from_batch = 4;
                rc.issued_ns = TU_T0;
                TRY(ls_batch_builder_new(&bb, g->chain_id, 3, 1 << 20, 1000));
                tu_seed(seed2, "salt-seed-2-forged");
                ls_batch_builder_begin(bb, 0, 2, g->batches[1].tree_size, prev, seed2);
                rec = tu_udp4(TU_T0 + 2000000000ull, "198.51.100.7", 51514,
                              "<165>1 2026-01-01T00:00:02Z r1 - - - ok");
                TRY(ls_batch_builder_add(bb, &rec));
                if (variant == 0) {
                        /* issuer: the root's id; signature: the epoch-0 key's */
                        TRY(ls_cert_sign(&rc, &s0));
                        memcpy(rc.issuer_key_id, g->root->key_id, LS_KEY_ID_LEN);
                        ls_cert_encode(&rc, enc);
                        TRY(ls_sign(&s0, "logseal-key-cert-v1\n", enc, 104, rc.sig));
                } else {
                        memset(&rr, 0, sizeof(rr));
                        rr.kind = LS_CERT_ROOT;
                        memcpy(rr.pk, rogue_root->pk, LS_PK_LEN);
                        rr.epoch = 1;
                        rr.issued_ns = TU_T0;
                        TRY(ls_cert_sign(&rr, &s0));
                        ls_cert_encode(&rr, enc);
                        ls_control_begin(cb, LS_CTL_KEY_TRANSITION);
                        ls_control_add(cb, LS_TAG_CERT, enc, LS_CERT_LEN);
                        TRY(tu_control(&rec, TU_T0 + 2000000001ull, cb));
                        TRY(ls_batch_builder_add(bb, &rec));
                        TRY(ls_cert_sign(&rc, &rrs));
                }
                ls_cert_encode(&rc, enc);
                ls_control_begin(cb, LS_CTL_KEY_TRANSITION);
                ls_control_add(cb, LS_TAG_CERT, enc, LS_CERT_LEN);
                TRY(tu_control(&rec, TU_T0 + 2000000002ull, cb));
                TRY(ls_batch_builder_add(bb, &rec));
                TRY(ls_batch_builder_finish(bb, &tree, &s0, &fh, &fb, &flen));
                TRY(splice_file(out, b0, n0, f0[3].off, f0[3].len, fb, flen));
                ls_batch_builder_free(bb);
                ls_keypair_free(rogue_key);
                ls_keypair_free(rogue_root);
                free(cb);
        }
        fprintf(fl, "wrong-certifier|forged-wrong-certifier.lsa,%s|-|tampered|key transition\n", a1);
        fprintf(fl, "root-rotation|forged-root-rotation.lsa,%s|-|tampered|key transition\n", a1);
        /* a fork: another batch 4 (same size, other content) signed by the genuine
         * epoch-1 key; its checkpoint contradicts the archives */
        {
                LsArchiveHeader ah;
                LsBatchBuilder *bb;
                LsBatchHeader fh;
                LsMerkle tree;
                LsSigner fs1;
                LsRecord rec;
                LsControlBuilder *cb = malloc(sizeof(*cb));
                const uint8_t *fb;
                size_t flen, hl = ls_get32(b1 + 4);
                uint8_t seed2[32], prev[LS_HASH_LEN];
                char note[2048];
                int nn;

                TRY(ls_archive_header_decode(&ah, b1 + 8, hl, NULL));
                /* tree after batch 3: from the archive header peaks plus batch 3's leaves */
                tree.size = ah.first_seq;
                tree.n = ah.peak_count;
                memcpy(tree.peaks, ah.peaks, (size_t) ah.peak_count * LS_HASH_LEN);
                for (uint64_t i = ah.first_seq; i < g->batches[3].tree_size; i++)
                        TRY(ls_merkle_append(&tree, leaves[i]));
                ls_batch_header_hash(&g->batches[3], prev);
                ls_signer_from_keypair(&fs1, g->epoch1);
                TRY(ls_batch_builder_new(&bb, g->chain_id, 3, 1 << 20, 1000));
                tu_seed(seed2, "salt-seed-4");
                ls_batch_builder_begin(bb, 1, 4, g->batches[3].tree_size, prev, seed2);
                rec = tu_udp4(TU_T0 + 4000000000ull, "198.51.100.7", 51514,
                              "<165>1 2026-01-01T00:00:04Z r1 - - - a rewritten history");
                TRY(ls_batch_builder_add(bb, &rec));
                ls_control_begin(cb, LS_CTL_STOP);
                TRY(tu_control(&rec, TU_T0 + 4000000001ull, cb));
                TRY(ls_batch_builder_add(bb, &rec));
                TRY(ls_batch_builder_finish(bb, &tree, &fs1, &fh, &fb, &flen));
                nn = ls_batch_checkpoint(&fh, g->epoch1->pk, note, sizeof(note));
                TRY(nn);
                TRY(tu_write_file("fork.checkpoint", note, (size_t) nn));
                ls_batch_builder_free(bb);
                free(cb);
        }
        /* a root-signed revocation of the epoch-0 key from batch 1 on: the genuine
         * chain's batches 1-3 become untrusted for whoever holds the revocation */
        {
                LsRevocation rv = {
                        .revoked_key_id = {0},
                        .from_batch = 1,
                        .from_time_ns = LS_UNSET,
                        .issued_ns = TU_T0 + 86400000000000ull,
                        .reason = "test vector: key suspected compromised",
                };
                LsSigner rs;
                uint8_t rb[LS_REVOCATION_MAX_LEN];
                size_t rl;

                memcpy(rv.chain_id, g->chain_id, LS_CHAIN_ID_LEN);
                memcpy(rv.revoked_key_id, g->epoch0->key_id, LS_KEY_ID_LEN);
                rv.reason_len = (uint16_t) strlen(rv.reason);
                ls_signer_from_keypair(&rs, g->root);
                TRY(ls_revocation_sign(&rv, &rs));
                TRY(ls_revocation_encode(&rv, rb, sizeof(rb), &rl));
                TRY(tu_write_file("revocation-epoch0.lsk", rb, rl));
        }
        fprintf(fl, "revoked-key|%s,%s|revocation-epoch0.lsk|revoked|revoked\n", a0, a1);
        /* archive 1 presented alone: authentic but partial */
        fprintf(fl, "partial|%s|cert1|partial|chain start\n", a1);
        /* archive 0 alone: intact start, but the chain continues past its seal? no: sealed => intact */
        fprintf(fl, "archive0-alone|%s|-|intact|-\n", a0);
        fprintf(fl, "genuine|%s,%s|-|intact|-\n", a0, a1);
        free(q);
        return 0;
}
