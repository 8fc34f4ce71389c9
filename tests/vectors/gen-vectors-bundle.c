/* SPDX-License-Identifier: Apache-2.0 */
/* gen-vectors, the golden evidence bundle (main is in gen-vectors.c) */
#include "gen-vectors.h"

static uint8_t nleaves_src[10][LS_HASH_LEN];

static int bundle_leaf_fn(void *ud, uint64_t i, uint8_t out[LS_HASH_LEN])
{
        (void) ud;
        if (i >= 10)
                return -EINVAL;
        memcpy(out, nleaves_src[i], LS_HASH_LEN);
        return 0;
}

/*
 * The golden evidence bundle (SPEC §14): a one-batch chain of its own
 * ("bundle-chain-id") signed by the epoch-0 key, certified by the root:
 * record 0 the key transition, 1..8 syslog messages, 9 the custody record of
 * an export of records 2, 5 and 7. The bundle discloses those three.
 */
int make_bundle(const TuGolden *g)
{
        static const char *const msgs[8] = {
                "<13>1 2026-01-01T00:00:01Z alpha app - - - first",
                "<13>1 2026-01-01T00:00:02Z alpha app - - - disclosed: login of user 1001",
                "<13>1 2026-01-01T00:00:03Z beta app - - - private neighbour of 2",
                "<13>1 2026-01-01T00:00:04Z beta app - - - private",
                "<13>1 2026-01-01T00:00:05Z alpha app - - - disclosed: sudo by user 1001",
                "<13>1 2026-01-01T00:00:06Z gamma app - - - private",
                "<13>1 2026-01-01T00:00:07Z alpha app - - - disclosed: logout of user 1001",
                "<13>1 2026-01-01T00:00:08Z gamma app - - - last",
        };
        static const uint64_t chosen[3] = {2, 5, 7};
        uint8_t cid[LS_CHAIN_ID_LEN], seed[32], salt_seed[32], enc[LS_CERT_LEN];
        uint8_t recs[10][1024], leaf_store[10][LS_HASH_LEN], sel[LS_HASH_LEN], zero[32] = {0};
        size_t rlen[10];
        LsRecord rec[10];
        LsControlBuilder *cb0 = malloc(sizeof(*cb0)), *cb9 = malloc(sizeof(*cb9));
        LsBatchBuilder *bb;
        LsBatchHeader h;
        LsMerkle tree;
        LsSigner s0;
        LsCert c;
        LsSelection selection;
        LsBundleWriter *w;
        LsBundleHeader bh = {.tree_size = 10, .record_count = 3, .custody_seq = 9};
        const uint8_t *frame;
        size_t flen;
        char note[LS_MAX_CHECKPOINT_TEXT];
        int n, dirfd;

        tu_seed(seed, "bundle-chain-id");
        memcpy(cid, seed, LS_CHAIN_ID_LEN);
        tu_seed(salt_seed, "bundle-salt-seed-0");
        TRY(tu_cert(&c, cid, g->epoch0, LS_CERT_SIGNING, 0, TU_T0, g->root));
        ls_cert_encode(&c, enc);

        ls_control_begin(cb0, LS_CTL_KEY_TRANSITION);
        ls_control_add_str(cb0, LS_TAG_TEXT, "initial signing key certified by the root key");
        ls_control_add(cb0, LS_TAG_CERT, enc, LS_CERT_LEN);
        TRY(tu_control(&rec[0], TU_T0, cb0));
        for (int i = 1; i <= 8; i++)
                rec[i] = tu_udp4(TU_T0 + (uint64_t) i * 1000000000u, "192.0.2.10", 514, msgs[i - 1]);
        /* leaves of records 0..8 (seq = index), then the selection over 2, 5, 7 */
        for (int i = 0; i <= 8; i++) {
                uint8_t salt[LS_SALT_LEN];
                rec[i].seq = (uint64_t) i;
                TRY(ls_record_encode(&rec[i], recs[i], sizeof(recs[i]), &rlen[i]));
                ls_salt(salt, salt_seed, (uint64_t) i);
                ls_leaf_hash(leaf_store[i], salt, recs[i], rlen[i]);
        }
        ls_selection_init(&selection, 3);
        for (int i = 0; i < 3; i++)
                ls_selection_add(&selection, chosen[i], leaf_store[chosen[i]]);
        ls_selection_final(&selection, sel);
        ls_control_begin(cb9, LS_CTL_CUSTODY);
        ls_control_add_u64(cb9, LS_TAG_COUNT, 3);
        ls_control_add_str(cb9, LS_TAG_CASE_ID, "CASE-2026-0001");
        ls_control_add_str(cb9, LS_TAG_EXAMINER, "Examiner A");
        ls_control_add_str(cb9, LS_TAG_FILTER, "host=alpha disclosed");
        ls_control_add(cb9, LS_TAG_MANIFEST_HASH, sel, LS_HASH_LEN);
        ls_control_add_u16(cb9, LS_TAG_ACTION, LS_CUSTODY_EXPORT);
        TRY(tu_control(&rec[9], TU_T0 + 9000000000ull, cb9));
        {
                uint8_t salt[LS_SALT_LEN];
                rec[9].seq = 9;
                TRY(ls_record_encode(&rec[9], recs[9], sizeof(recs[9]), &rlen[9]));
                ls_salt(salt, salt_seed, 9);
                ls_leaf_hash(leaf_store[9], salt, recs[9], rlen[9]);
        }

        ls_merkle_init(&tree);
        ls_signer_from_keypair(&s0, g->epoch0);
        TRY(ls_batch_builder_new(&bb, cid, 3, 1 << 20, 1000));
        ls_batch_builder_begin(bb, 0, 0, 0, zero, salt_seed);
        for (int i = 0; i <= 9; i++)
                TRY(ls_batch_builder_add(bb, &rec[i]));
        TRY(ls_batch_builder_finish(bb, &tree, &s0, &h, &frame, &flen));
        n = ls_batch_checkpoint(&h, g->epoch0->pk, note, sizeof(note));
        TRY(n);

        memcpy(nleaves_src, leaf_store, sizeof(leaf_store));
        if (mkdir("bundle", 0755) < 0 && errno != EEXIST)
                return -errno;
        dirfd = open("bundle", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        {
                static const char *const names[] = {LS_BUNDLE_EVIDENCE, LS_BUNDLE_CHECKPOINT,
                                                    LS_BUNDLE_KEYS, LS_BUNDLE_MANIFEST, "README.txt"};
                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                        (void) unlinkat(dirfd, names[i], 0);
        }
        memcpy(bh.chain_id, cid, LS_CHAIN_ID_LEN);
        TRY(ls_bundle_writer_new(&w, dirfd, &bh));
        for (int k = 0; k < 4; k++) {
                uint64_t i = k < 3 ? chosen[k] : 9;
                uint8_t path[LS_MAX_INCLUSION_PROOF][LS_HASH_LEN], pe[LS_BUNDLE_MAX_PROOF_LEN],
                        salt[LS_SALT_LEN];
                unsigned count;
                size_t plen;
                LsProof pr = {.kind = 1, .a = i, .b = 10};
                TRY(ls_inclusion_proof(bundle_leaf_fn, NULL, i, 10, path, &count));
                pr.count = count;
                pr.path = &path[0][0];
                TRY(ls_proof_encode(&pr, pe, sizeof(pe), &plen));
                ls_salt(salt, salt_seed, i);
                TRY(ls_bundle_writer_add(w, i, salt, recs[i], rlen[i], pe, plen));
        }
        TRY(ls_bundle_writer_file(w, LS_BUNDLE_CHECKPOINT, note, (size_t) n));
        TRY(ls_bundle_writer_file(w, LS_BUNDLE_KEYS, enc, LS_CERT_LEN));
        {
                static const char readme[] =
                        "Golden logseal evidence bundle (tests/vectors, test keys only).\n"
                        "Verify: logseal-verify --root-key ../root.pub .\n";
                TRY(ls_bundle_writer_file(w, "README.txt", readme, sizeof(readme) - 1));
        }
        TRY(ls_bundle_writer_finish(w));
        ls_bundle_writer_free(w);
        close(dirfd);
        ls_batch_builder_free(bb);
        free(cb0);
        free(cb9);
        return 0;
}
