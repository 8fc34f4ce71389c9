/* SPDX-License-Identifier: Apache-2.0 */
/* test-bundle, the golden bundle and its tampered copies (the suite is in test-bundle.c) */
#include "test-bundle.h"

/* ---- the golden chain of the bundle, rebuilt from gen-vectors' inputs ---- */

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

typedef struct Chain {
        uint8_t salt_seed[32];
        uint8_t recs[10][1024];
        size_t rlen[10];
        uint8_t leaves[10][LS_HASH_LEN];
} Chain;

static int chain_leaf(void *ud, uint64_t i, uint8_t out[LS_HASH_LEN])
{
        const Chain *c = ud;
        if (i >= 10)
                return -EINVAL;
        memcpy(out, c->leaves[i], LS_HASH_LEN);
        return 0;
}

/*
 * Records 0..9 of the bundle's chain exactly as tests/vectors/gen-vectors-bundle.c make_bundle()
 * writes them (the certificate of record 0 is the one in keys.lsk), with their salts and
 * leaves; checks them against the golden bundle (disclosed records, custody record, root).
 */
static void rebuild_chain(Chain *c)
{
        static const uint64_t chosen[3] = {2, 5, 7};
        LsControlBuilder *b0 = malloc(sizeof(*b0)), *b9 = malloc(sizeof(*b9));
        uint8_t sel[LS_HASH_LEN], root[LS_HASH_LEN], *keys, *ev, *cp;
        size_t keys_len, ev_len, cp_len;
        LsSelection selection;
        LsCheckpoint ckpt;
        LsRecord rec[10];
        LsMerkle tree;
        Entry e[8];
        char *bdir = path_in(vdir(), "bundle");

        tu_seed(c->salt_seed, "bundle-salt-seed-0");
        keys = get(bdir, "keys.lsk", &keys_len);
        ck_assert_uint_eq(keys_len, LS_CERT_LEN);
        ls_control_begin(b0, LS_CTL_KEY_TRANSITION);
        ls_control_add_str(b0, LS_TAG_TEXT, "initial signing key certified by the root key");
        ls_control_add(b0, LS_TAG_CERT, keys, LS_CERT_LEN);
        ck_assert_int_eq(tu_control(&rec[0], TU_T0, b0), 0);
        for (int i = 1; i <= 8; i++)
                rec[i] = tu_udp4(TU_T0 + (uint64_t) i * 1000000000u, "192.0.2.10", 514,
                                 msgs[i - 1]);
        for (int i = 0; i <= 8; i++) {
                uint8_t salt[LS_SALT_LEN];
                rec[i].seq = (uint64_t) i;
                ck_assert_int_eq(ls_record_encode(&rec[i], c->recs[i], sizeof(c->recs[i]),
                                                  &c->rlen[i]),
                                 0);
                ls_salt(salt, c->salt_seed, (uint64_t) i);
                ls_leaf_hash(c->leaves[i], salt, c->recs[i], c->rlen[i]);
        }
        ls_selection_init(&selection, 3);
        for (int i = 0; i < 3; i++)
                ls_selection_add(&selection, chosen[i], c->leaves[chosen[i]]);
        ls_selection_final(&selection, sel);
        ls_control_begin(b9, LS_CTL_CUSTODY);
        ls_control_add_u64(b9, LS_TAG_COUNT, 3);
        ls_control_add_str(b9, LS_TAG_CASE_ID, "CASE-2026-0001");
        ls_control_add_str(b9, LS_TAG_EXAMINER, "Examiner A");
        ls_control_add_str(b9, LS_TAG_FILTER, "host=alpha disclosed");
        ls_control_add(b9, LS_TAG_MANIFEST_HASH, sel, LS_HASH_LEN);
        ls_control_add_u16(b9, LS_TAG_ACTION, LS_CUSTODY_EXPORT);
        ck_assert_int_eq(tu_control(&rec[9], TU_T0 + 9000000000ull, b9), 0);
        {
                uint8_t salt[LS_SALT_LEN];
                rec[9].seq = 9;
                ck_assert_int_eq(ls_record_encode(&rec[9], c->recs[9], sizeof(c->recs[9]),
                                                  &c->rlen[9]),
                                 0);
                ls_salt(salt, c->salt_seed, 9);
                ls_leaf_hash(c->leaves[9], salt, c->recs[9], c->rlen[9]);
        }

        /* The rebuilt chain is the golden one: same root, same disclosed bytes. */
        ls_merkle_init(&tree);
        for (int i = 0; i < 10; i++)
                ck_assert_int_eq(ls_merkle_append(&tree, c->leaves[i]), 0);
        ls_merkle_root(&tree, root);
        cp = get(bdir, "checkpoint.txt", &cp_len);
        ck_assert_int_eq(ls_checkpoint_parse(&ckpt, (const char *) cp, cp_len, NULL), 0);
        ck_assert_mem_eq(root, ckpt.root, LS_HASH_LEN);
        ev = get(bdir, "evidence.lsb", &ev_len);
        ck_assert_uint_eq(entries(ev, ev_len, e, ELEMENTSOF(e)), 4);
        for (int k = 0; k < 4; k++) {
                uint64_t s = e[k].seq;
                ck_assert_uint_eq(s, k < 3 ? chosen[k] : 9);
                ck_assert_uint_eq(e[k].rec_len, c->rlen[s]);
                ck_assert_mem_eq(ev + e[k].rec_off, c->recs[s], c->rlen[s]);
        }
        free(ev);
        free(cp);
        free(keys);
        free(bdir);
        free(b0);
        free(b9);
}

/* A genuine entry of the chain: record seq with its real salt and inclusion proof. */
static uint8_t *genuine_entry(const Chain *c, uint64_t seq, size_t *ret_len)
{
        uint8_t path[LS_MAX_INCLUSION_PROOF][LS_HASH_LEN], pe[LS_BUNDLE_MAX_PROOF_LEN], *p;
        LsBundleEntry be = {.seq = seq};
        LsProof pr = {.kind = LS_PROOF_INCLUSION, .a = seq, .b = 10};
        unsigned count;
        size_t plen;

        ck_assert_int_eq(ls_inclusion_proof(chain_leaf, (void *) c, seq, 10, path, &count), 0);
        pr.count = count;
        pr.path = &path[0][0];
        ck_assert_int_eq(ls_proof_encode(&pr, pe, sizeof(pe), &plen), 0);
        ls_salt(be.salt, c->salt_seed, seq);
        be.record_len = (uint32_t) c->rlen[seq];
        be.proof_len = (uint32_t) plen;
        *ret_len = LS_BUNDLE_ENTRY_FIXED_LEN + c->rlen[seq] + plen;
        p = malloc(*ret_len);
        ls_bundle_entry_encode(&be, p);
        memcpy(p + LS_BUNDLE_ENTRY_FIXED_LEN, c->recs[seq], c->rlen[seq]);
        memcpy(p + LS_BUNDLE_ENTRY_FIXED_LEN + c->rlen[seq], pe, plen);
        return p;
}

/* ---- tests ---- */

START_TEST(golden_bundle_verifies_intact_with_its_summary)
{
        char *dir = path_in(vdir(), "bundle");
        uint8_t seed[32], cid[LS_CHAIN_ID_LEN];
        LsKeyPair *k0;
        Res *r = verify(dir);
        const LsBundleSummary *s = &r->sum;

        ck_assert_int_eq(r->cls, LS_CLASS_INTACT);
        ck_assert_uint_eq(r->n, 0);
        ck_assert_uint_eq(r->nrec, 3);
        ck_assert_uint_eq(r->rec_seq[0], 2);
        ck_assert_uint_eq(r->rec_seq[1], 5);
        ck_assert_uint_eq(r->rec_seq[2], 7);
        for (int i = 0; i < 3; i++)
                ck_assert(r->rec_verified[i]);
        tu_seed(seed, "bundle-chain-id");
        memcpy(cid, seed, LS_CHAIN_ID_LEN);
        ck_assert(s->manifest_ok);
        ck_assert_uint_eq(s->files_listed, 4);
        ck_assert_uint_eq(s->files_ok, 4);
        ck_assert(s->header_ok && s->checkpoint_parsed && s->chain_agrees);
        ck_assert_mem_eq(s->header.chain_id, cid, LS_CHAIN_ID_LEN);
        ck_assert_mem_eq(s->checkpoint.chain_id, cid, LS_CHAIN_ID_LEN);
        ck_assert_uint_eq(s->header.tree_size, 10);
        ck_assert_uint_eq(s->header.record_count, 3);
        ck_assert_uint_eq(s->checkpoint.batch_no, 0);
        ck_assert(s->checkpoint_verified && s->have_signer);
        tu_seed(seed, "epoch-key-0");
        ck_assert_int_eq(ls_keypair_from_seed(&k0, seed, 0), 0);
        ck_assert_mem_eq(s->signer.key_id, k0->key_id, LS_KEY_ID_LEN);
        ck_assert_uint_eq(s->signer.epoch, 0);
        ls_keypair_free(k0);
        ck_assert_uint_eq(s->keys_accepted, 1);
        ck_assert_uint_eq(s->keys_rejected, 0);
        ck_assert_uint_eq(s->entries, 4);
        ck_assert_uint_eq(s->records_verified, 3);
        ck_assert_uint_eq(s->records_failed, 0);
        ck_assert(s->have_custody && s->custody_proof_ok && s->custody_ok);
        ck_assert_uint_eq(s->custody_seq, 9);
        ck_assert_uint_eq(s->custody_time_ns, TU_T0 + 9000000000ull);
        ck_assert(s->have_action && s->action == LS_CUSTODY_EXPORT);
        ck_assert(s->have_count && s->count == 3);
        ck_assert(s->case_id.present && s->case_id.len == 14);
        ck_assert_mem_eq(s->case_id.p, "CASE-2026-0001", 14);
        ck_assert(s->examiner.present && s->examiner.len == 10);
        ck_assert_mem_eq(s->examiner.p, "Examiner A", 10);
        ck_assert(s->filter.present && s->filter.len == 20);
        ck_assert_mem_eq(s->filter.p, "host=alpha disclosed", 20);
        ck_assert(!s->text.present);
        ck_assert(s->selection_complete && s->selection_ok);
        ck_assert_mem_eq(s->selection, s->manifest_hash, LS_HASH_LEN);
        /* the manifest first, then its four files in name order */
        ck_assert_uint_eq(r->nfiles, 5);
        ck_assert_int_eq(r->file_status[0], LS_BUNDLE_FILE_MANIFEST);
        ck_assert_str_eq(r->file_names[1], "README.txt");
        ck_assert_str_eq(r->file_names[4], "keys.lsk");
        for (int i = 1; i < 5; i++)
                ck_assert_int_eq(r->file_status[i], LS_BUNDLE_FILE_OK);
        free(r);
        free(dir);
}
END_TEST

START_TEST(a_scratch_copy_with_a_rewritten_manifest_still_verifies)
{
        char *dir = scratch_copy();
        Res *r;

        rehash(dir);
        r = verify(dir);
        ck_assert_int_eq(r->cls, LS_CLASS_INTACT);
        ck_assert_uint_eq(r->n, 0);
        free(r);
        remove_dir(dir);
}
END_TEST

START_TEST(a_changed_record_byte_fails_its_proof_and_the_selection)
{
        char *dir = scratch_copy();
        size_t n;
        uint8_t *ev = get(dir, "evidence.lsb", &n);
        Entry e[8];
        Res *r;

        ck_assert_uint_eq(entries(ev, n, e, 8), 4);
        ck_assert_uint_eq(e[1].seq, 5);
        ev[e[1].rec_off + e[1].rec_len - 4] ^= 0x20; /* a letter of the message text */
        put(dir, "evidence.lsb", ev, n);
        rehash(dir);
        r = verify(dir);
        assert_tampered(r, "inclusion proof");
        ck_assert_uint_eq(r->seqs[0], 5);
        ck_assert_uint_eq(r->offsets[0], e[1].rec_off);
        ck_assert_str_eq(r->files[0], "bundle/evidence.lsb");
        ck_assert(has_check(r, "selection hash"));
        /* the other records still verify; the altered one is handed over as not verified */
        ck_assert_uint_eq(r->sum.records_verified, 2);
        ck_assert_uint_eq(r->sum.records_failed, 1);
        ck_assert_uint_eq(r->nrec, 3);
        ck_assert(r->rec_verified[0] && !r->rec_verified[1] && r->rec_verified[2]);
        ck_assert(r->sum.custody_proof_ok && !r->sum.custody_ok);
        free(r);
        free(ev);
        remove_dir(dir);
}
END_TEST

START_TEST(a_changed_proof_element_fails_that_proof_only)
{
        char *dir = scratch_copy();
        size_t n;
        uint8_t *ev = get(dir, "evidence.lsb", &n);
        Entry e[8];
        Res *r;

        ck_assert_uint_eq(entries(ev, n, e, 8), 4);
        ck_assert_uint_eq(e[2].seq, 7);
        ev[e[2].proof_off + LS_PROOF_HDR_LEN + 40] ^= 0x01; /* second path element */
        put(dir, "evidence.lsb", ev, n);
        rehash(dir);
        r = verify(dir);
        assert_tampered(r, "inclusion proof");
        ck_assert_uint_eq(count_class(r, LS_CLASS_TAMPERED), 1);
        ck_assert_uint_eq(r->seqs[0], 7);
        ck_assert_uint_eq(r->sum.records_verified, 2);
        ck_assert(r->sum.selection_ok && r->sum.custody_ok);
        free(r);
        free(ev);
        remove_dir(dir);
}
END_TEST

START_TEST(a_removed_record_is_caught_only_by_the_custody_record)
{
        char *dir = scratch_copy();
        size_t n;
        uint8_t *ev = get(dir, "evidence.lsb", &n);
        Entry e[8];
        Res *r;

        ck_assert_uint_eq(entries(ev, n, e, 8), 4);
        const uint8_t *ents[] = {ev + e[0].off, ev + e[2].off, ev + e[3].off};
        const size_t lens[] = {e[0].len, e[2].len, e[3].len};
        write_evidence(dir, ev, 2, ents, lens, 3);
        rehash(dir);
        r = verify(dir);
        assert_tampered(r, "custody count");
        ck_assert(has_check(r, "selection hash"));
        ck_assert_uint_eq(count_class(r, LS_CLASS_TAMPERED), 2);
        ck_assert_uint_eq(r->sum.records_verified, 2);
        ck_assert(r->sum.custody_proof_ok && !r->sum.selection_ok);
        free(r);
        free(ev);
        remove_dir(dir);
}
END_TEST

START_TEST(a_genuine_record_from_outside_the_selection_is_caught_by_the_custody_record)
{
        Chain *c = malloc(sizeof(*c));
        char *dir = scratch_copy();
        size_t n, len3;
        uint8_t *ev = get(dir, "evidence.lsb", &n), *e3;
        Entry e[8];
        Res *r;

        rebuild_chain(c);
        e3 = genuine_entry(c, 3, &len3);
        /* Our rebuilt entries are the golden ones byte for byte. */
        ck_assert_uint_eq(entries(ev, n, e, 8), 4);
        for (int k = 0; k < 4; k++) {
                size_t l;
                uint8_t *g = genuine_entry(c, e[k].seq, &l);
                ck_assert_uint_eq(l, e[k].len);
                ck_assert_mem_eq(g, ev + e[k].off, l);
                free(g);
        }

        /* Added: 2, 3, 5, 7 and the count fixed up. */
        {
                const uint8_t *ents[] = {ev + e[0].off, e3, ev + e[1].off, ev + e[2].off,
                                         ev + e[3].off};
                const size_t lens[] = {e[0].len, len3, e[1].len, e[2].len, e[3].len};
                write_evidence(dir, ev, 4, ents, lens, 5);
                rehash(dir);
                r = verify(dir);
                assert_tampered(r, "custody count");
                ck_assert(has_check(r, "selection hash"));
                ck_assert_uint_eq(count_class(r, LS_CLASS_TAMPERED), 2);
                /* record 3 itself is genuine: it verifies, only the custody binding fails */
                ck_assert_uint_eq(r->sum.records_verified, 4);
                ck_assert_uint_eq(r->nrec, 4);
                ck_assert_uint_eq(r->rec_seq[1], 3);
                ck_assert(r->rec_verified[1]);
                free(r);
        }
        /* Swapped: 2, 3, 7 (same count): only the selection hash catches it. */
        {
                const uint8_t *ents[] = {ev + e[0].off, e3, ev + e[2].off, ev + e[3].off};
                const size_t lens[] = {e[0].len, len3, e[2].len, e[3].len};
                write_evidence(dir, ev, 3, ents, lens, 4);
                rehash(dir);
                r = verify(dir);
                assert_tampered(r, "selection hash");
                ck_assert_uint_eq(r->n, 1);
                ck_assert_uint_eq(r->seqs[0], 9);
                ck_assert_uint_eq(r->sum.records_verified, 3);
                free(r);
        }
        free(e3);
        free(ev);
        free(c);
        remove_dir(dir);
}
END_TEST

START_TEST(a_checkpoint_of_another_chain_is_rejected)
{
        static const char *const others[] = {"golden.checkpoint", "golden-old.checkpoint",
                                             "fork.checkpoint"};

        for (size_t i = 0; i < ELEMENTSOF(others); i++) {
                char *dir = scratch_copy();
                size_t n;
                uint8_t *cp = get(vdir(), others[i], &n);
                Res *r;

                put(dir, "checkpoint.txt", cp, n);
                rehash(dir);
                r = verify(dir);
                assert_tampered(r, "chain id");
                /* golden-old has the bundle's tree size (10): only the chain id differs */
                ck_assert_int_eq(has_check(r, "tree size"), i != 1);
                ck_assert(!r->sum.chain_agrees);
                ck_assert_uint_eq(r->sum.records_verified, 0);
                free(r);

                /*
                 * golden-old is signed by the epoch-0 key, which keys.lsk certifies only for
                 * the bundle's chain: with the evidence header moved to the other chain too,
                 * the signature must still not count.
                 */
                if (i == 1) {
                        size_t en;
                        uint8_t *ev = get(dir, "evidence.lsb", &en);
                        LsCheckpoint other;
                        ck_assert_int_eq(ls_checkpoint_parse(&other, (const char *) cp, n, NULL), 0);
                        memcpy(ev + 16, other.chain_id, LS_CHAIN_ID_LEN);
                        put(dir, "evidence.lsb", ev, en);
                        rehash(dir);
                        r = verify(dir);
                        assert_tampered(r, "key certificate");
                        ck_assert(has_check(r, "checkpoint key"));
                        ck_assert(r->sum.chain_agrees && !r->sum.checkpoint_verified);
                        ck_assert_uint_eq(r->sum.records_verified, 0);
                        free(r);
                        free(ev);
                }
                free(cp);
                remove_dir(dir);
        }
}
END_TEST

START_TEST(an_altered_custody_record_fails_its_proof)
{
        char *dir = scratch_copy();
        size_t n;
        uint8_t *ev = get(dir, "evidence.lsb", &n), *p;
        Entry e[8];
        Res *r;

        ck_assert_uint_eq(entries(ev, n, e, 8), 4);
        p = memmem(ev + e[3].rec_off, e[3].rec_len, "CASE-2026-0001", 14);
        ck_assert_ptr_nonnull(p);
        p[13] = '2';
        put(dir, "evidence.lsb", ev, n);
        rehash(dir);
        r = verify(dir);
        assert_tampered(r, "inclusion proof");
        ck_assert_uint_eq(r->seqs[0], 9);
        ck_assert(r->sum.have_custody && !r->sum.custody_proof_ok && !r->sum.custody_ok);
        ck_assert_mem_eq(r->sum.case_id.p, "CASE-2026-0002", 14);
        ck_assert_uint_eq(r->sum.records_verified, 3);
        free(r);
        free(ev);
        remove_dir(dir);
}
END_TEST

START_TEST(manifest_problems_are_each_reported)
{
        char *dir;
        Res *r;
        size_t n;
        uint8_t *m;

        /* a listed hash is wrong */
        dir = scratch_copy();
        m = get(dir, "MANIFEST.sha256", &n);
        char *line = memmem(m, n, "  checkpoint.txt", 16);
        ck_assert_ptr_nonnull(line);
        line[-1] = line[-1] == '0' ? '1' : '0';
        put(dir, "MANIFEST.sha256", m, n);
        free(m);
        r = verify(dir);
        assert_tampered(r, "manifest hash");
        ck_assert_str_eq(r->files[0], "bundle/checkpoint.txt");
        ck_assert_uint_eq(count_class(r, LS_CLASS_TAMPERED), 1);
        ck_assert(!r->sum.manifest_ok && r->sum.checkpoint_verified && r->sum.custody_ok);
        free(r);
        remove_dir(dir);

        /* a listed file is missing */
        dir = scratch_copy();
        char *f = path_in(dir, "README.txt");
        ck_assert_int_eq(unlink(f), 0);
        free(f);
        r = verify(dir);
        assert_tampered(r, "manifest missing");
        ck_assert_str_eq(r->files[0], "bundle/README.txt");
        ck_assert_uint_eq(r->n, 1);
        free(r);
        remove_dir(dir);

        /* a file that the manifest does not list */
        dir = scratch_copy();
        put(dir, "notes.txt", "x\n", 2);
        r = verify(dir);
        assert_tampered(r, "manifest unlisted");
        ck_assert_str_eq(r->files[0], "bundle/notes.txt");
        ck_assert_uint_eq(r->n, 1);
        free(r);
        remove_dir(dir);

        /* a malformed line, and a line out of order: each a finding, the rest checked */
        dir = scratch_copy();
        m = get(dir, "MANIFEST.sha256", &n);
        m = realloc(m, n + 8);
        memcpy(m + n, "garbage\n", 8);
        put(dir, "MANIFEST.sha256", m, n + 8);
        free(m);
        r = verify(dir);
        assert_tampered(r, "manifest");
        ck_assert_uint_eq(r->offsets[0], n);
        ck_assert_uint_eq(r->n, 1);
        ck_assert_uint_eq(r->sum.files_ok, 4);
        free(r);
        remove_dir(dir);

        /* no manifest at all */
        dir = scratch_copy();
        f = path_in(dir, "MANIFEST.sha256");
        ck_assert_int_eq(unlink(f), 0);
        free(f);
        r = verify(dir);
        assert_tampered(r, "manifest");
        ck_assert_uint_eq(r->n, 1);
        ck_assert(r->sum.custody_ok);
        free(r);
        remove_dir(dir);
}
END_TEST

START_TEST(symlinks_and_other_non_regular_files_are_never_followed)
{
        char *dir = scratch_copy(), *f, *target;
        Res *r;

        /* evidence.lsb replaced by a symlink to the genuine file */
        f = path_in(dir, "evidence.lsb");
        target = path_in(vdir(), "bundle/evidence.lsb");
        ck_assert_int_eq(unlink(f), 0);
        ck_assert_int_eq(symlink(target, f), 0);
        free(f);
        free(target);
        r = verify(dir);
        assert_tampered(r, "bundle file type");
        ck_assert_str_eq(r->files[0], "bundle/evidence.lsb");
        ck_assert_uint_eq(r->sum.entries, 0);
        ck_assert(!r->sum.header_ok);
        free(r);

        /* a FIFO and a directory, unlisted */
        f = path_in(dir, "fifo");
        ck_assert_int_eq(mkfifo(f, 0600), 0);
        free(f);
        f = path_in(dir, "sub");
        ck_assert_int_eq(mkdir(f, 0700), 0);
        free(f);
        r = verify(dir);
        ck_assert(has_check(r, "manifest unlisted"));
        free(r);
        remove_dir(dir);
}
END_TEST

void suite_add_tamper(TCase *tc)
{
        tcase_add_test(tc, golden_bundle_verifies_intact_with_its_summary);
        tcase_add_test(tc, a_scratch_copy_with_a_rewritten_manifest_still_verifies);
        tcase_add_test(tc, a_changed_record_byte_fails_its_proof_and_the_selection);
        tcase_add_test(tc, a_changed_proof_element_fails_that_proof_only);
        tcase_add_test(tc, a_removed_record_is_caught_only_by_the_custody_record);
        tcase_add_test(tc, a_genuine_record_from_outside_the_selection_is_caught_by_the_custody_record);
        tcase_add_test(tc, a_checkpoint_of_another_chain_is_rejected);
        tcase_add_test(tc, an_altered_custody_record_fails_its_proof);
        tcase_add_test(tc, manifest_problems_are_each_reported);
        tcase_add_test(tc, symlinks_and_other_non_regular_files_are_never_followed);
}
