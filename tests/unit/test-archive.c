/* SPDX-License-Identifier: Apache-2.0 */
/* test-archive: the golden chain verifies, forgeries fail as documented, every byte flip is caught */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-reader.h"
#include "chain-verify.h"
#include "checkpoint.h"
#include "hash.h"
#include "merkle.h"
#include "testutil.h"
#include "util.h"
#include "tu-check.h"

static const char *vdir(void)
{
        const char *d = getenv("VECTORS_DIR");
        return d ? d : "tests/vectors";
}

typedef struct Result {
        LsClass cls;
        char first_check[64];   /* first finding of the verdict's class */
        uint64_t first_offset, first_batch;
        char first_file[256];
        unsigned nfindings;
        uint64_t batches_ok;
} Result;

typedef struct Ctx {
        Result *res;
        LsFinding first[LS_CLASS_NOTE + 1];
        int have[LS_CLASS_NOTE + 1];
} Ctx;

static void on_finding(void *ud, const LsFinding *f)
{
        Ctx *c = ud;
        c->res->nfindings++;
        if (!c->have[f->cls]) {
                c->have[f->cls] = 1;
                c->first[f->cls] = *f;
                if (f->file)
                        snprintf(c->res->first_file, sizeof(c->res->first_file), "%s", f->file);
        }
}

static int load_golden_keys(uint8_t root_pk[LS_PK_LEN], LsCert *cert1)
{
        char path[1024];
        uint8_t *text, id[LS_KEY_ID_LEN];
        size_t n;
        int r;

        snprintf(path, sizeof(path), "%s/root.pub", vdir());
        r = tu_read_file(path, 4096, &text, &n);
        if (r < 0)
                return r;
        r = ls_pubkey_parse((const char *) text, n, root_pk, id);
        free(text);
        if (r == 0 && cert1) {
                /* The epoch-1 certificate as published in expected.txt. */
                snprintf(path, sizeof(path), "%s/expected.txt", vdir());
                r = tu_read_file(path, 1 << 20, &text, &n);
                if (r < 0)
                        return r;
                char *line = strstr((char *) text, "\ncert_epoch1 ");
                uint8_t c[LS_CERT_LEN];
                if (!line || ls_unhex(c, LS_CERT_LEN, line + 13, 2 * LS_CERT_LEN) < 0)
                        r = -EBADMSG;
                else
                        r = ls_cert_decode(cert1, c, LS_CERT_LEN);
                free(text);
        }
        return r;
}

/* Verifies the given archive files (paths) in order. */
static Result verify_files_rev(char **files, size_t n, const LsCert *extra, const char *revfile);
static Result verify_files(char **files, size_t n, const LsCert *extra)
{
        return verify_files_rev(files, n, extra, NULL);
}

/*
 * What a key history the investigator supplies does to the verdict: an item of another chain
 * is kept apart (§10.3); a close that contradicts another is tampered wherever found (§9.4);
 * any other item never accepted is an input error (§10.3).
 */
typedef struct History {
        LsClass cls;
        const char *check;
} History;

static void on_history_item(void *ud, size_t offset, char kind, int result, const char *why)
{
        History *h = ud;
        LsClass c = result == -EILSEQ ? LS_CLASS_TAMPERED : LS_CLASS_IO;

        (void) offset;
        (void) kind;
        (void) why;
        if (result == -EXDEV)
                return;
        if (ls_class_rank(c) > ls_class_rank(h->cls)) {
                h->cls = c;
                h->check = c == LS_CLASS_TAMPERED ? "epoch close" : "key history";
        }
}

static Result verify_files_rev(char **files, size_t n, const LsCert *extra, const char *revfile)
{
        uint8_t root[LS_PK_LEN];
        History hist = {.cls = LS_CLASS_INTACT};
        Result res = {};
        Ctx ctx = {.res = &res};
        LsVerifyCallbacks cb = {.finding = on_finding, .userdata = &ctx};
        LsChainVerifier *v;
        LsVerifyStats st;

        ck_assert_int_eq(load_golden_keys(root, NULL), 0);
        ck_assert_int_eq(ls_chain_verifier_new(&v, root, &cb), 0);
        if (extra) {
                LsCert c0;
                /* cert1 is issued by epoch 0; offering it needs epoch 0 known: learn it first
                 * from a genuine archive-0 certificate in expected.txt. */
                char path[1024];
                uint8_t *text, c[LS_CERT_LEN];
                size_t len;
                snprintf(path, sizeof(path), "%s/expected.txt", vdir());
                ck_assert_int_eq(tu_read_file(path, 1 << 20, &text, &len), 0);
                char *line = strstr((char *) text, "\ncert_epoch0 ");
                ck_assert_ptr_nonnull(line);
                ck_assert_int_eq(ls_unhex(c, LS_CERT_LEN, line + 13, 2 * LS_CERT_LEN), 0);
                free(text);
                ck_assert_int_eq(ls_cert_decode(&c0, c, LS_CERT_LEN), 0);
                ck_assert_int_eq(ls_chain_verifier_add_cert(v, &c0, "test"), 0);
                ck_assert_int_eq(ls_chain_verifier_add_cert(v, extra, "test"), 0);
        }
        if (revfile) {
                /* a key history (SPEC §10.3): certificates, revocations and closes */
                uint8_t *rb;
                size_t rl, off = 0;
                ck_assert_int_eq(tu_read_file(revfile, 1 << 20, &rb, &rl), 0);
                ck_assert_int_eq(ls_trust_load_history(ls_chain_verifier_trust(v), rb, rl,
                                                       on_history_item, &hist, &off),
                                 0);
                free(rb);
        }
        for (size_t i = 0; i < n; i++) {
                int fd = open(files[i], O_RDONLY | O_CLOEXEC);
                ck_assert_msg(fd >= 0, "open %s", files[i]);
                ls_chain_verify_archive(v, fd, files[i]);
        }
        res.cls = ls_chain_verifier_finish(v, &st);
        res.batches_ok = st.batches_ok;
        if (ctx.have[res.cls]) {
                snprintf(res.first_check, sizeof(res.first_check), "%s", ctx.first[res.cls].check);
                res.first_offset = ctx.first[res.cls].offset;
                res.first_batch = ctx.first[res.cls].batch_no;
        }
        if (ls_class_rank(hist.cls) > ls_class_rank(res.cls)) {
                res.cls = hist.cls;
                snprintf(res.first_check, sizeof(res.first_check), "%s", hist.check);
        }
        ls_chain_verifier_free(v);
        return res;
}

static char *vpath(const char *name)
{
        char *p;
        ck_assert_int_ge(asprintf(&p, "%s/%s", vdir(), name), 0);
        return p;
}

START_TEST(golden_chain_verifies_intact_from_the_root_key)
{
        char *names[2];
        char a[2][96];
        uint8_t seed[32];

        tu_seed(seed, "chain-id");
        ls_archive_name(a[0], sizeof(a[0]), seed, 0);
        ls_archive_name(a[1], sizeof(a[1]), seed, 1);
        names[0] = vpath(a[0]);
        names[1] = vpath(a[1]);
        Result r = verify_files(names, 2, NULL);
        ck_assert_int_eq(r.cls, LS_CLASS_INTACT);
        ck_assert_int_eq(r.nfindings, 0);
        ck_assert_uint_eq(r.batches_ok, 5);
        free(names[0]);
        free(names[1]);
}
END_TEST

/*
 * Lines of forgeries.txt where the library deviates from what they state (the correct class):
 * skipped unless LOGSEAL_KNOWN_BUGS is set, so the suite stays green until they are fixed.
 */
static const char *const known_bugs[] = {
        NULL, /* none today */
};

static int known_bug(const char *name)
{
        if (getenv("LOGSEAL_KNOWN_BUGS"))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(known_bugs); i++)
                if (known_bugs[i] && strcmp(name, known_bugs[i]) == 0)
                        return 1;
        return 0;
}

START_TEST(each_committed_forgery_fails_with_its_documented_class_and_check)
{
        char *path = vpath("forgeries.txt");
        FILE *f = fopen(path, "re");
        char line[2048];
        int cases = 0;
        LsCert cert1;

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(load_golden_keys((uint8_t[32]){0}, &cert1), 0);
        while (fgets(line, sizeof(line), f)) {
                char *fields[5], *save = NULL, *files[8];
                size_t nfiles = 0;
                if (line[0] == '#')
                        continue;
                line[strcspn(line, "\n")] = 0;
                fields[0] = strtok_r(line, "|", &save);
                for (int i = 1; i < 5; i++)
                        fields[i] = strtok_r(NULL, "|", &save);
                ck_assert_ptr_nonnull(fields[4]);
                if (known_bug(fields[0])) {
                        fprintf(stderr, "# skipped known bug: %s\n", fields[0]);
                        continue;
                }
                for (char *s2 = NULL, *tok = strtok_r(fields[1], ",", &s2); tok;
                     tok = strtok_r(NULL, ",", &s2))
                        files[nfiles++] = vpath(tok);
                char *rev = strstr(fields[2], ".lsk") ? vpath(fields[2]) : NULL;
                Result r = verify_files_rev(files, nfiles,
                                            strcmp(fields[2], "cert1") == 0 ? &cert1 : NULL, rev);
                free(rev);
                ck_assert_msg(strcmp(ls_class_name(r.cls), fields[3]) == 0,
                              "%s: class %s, expected %s (first check %s)", fields[0],
                              ls_class_name(r.cls), fields[3], r.first_check);
                if (strcmp(fields[4], "-") != 0)
                        ck_assert_msg(strcmp(r.first_check, fields[4]) == 0,
                                      "%s: first finding '%s', expected '%s'", fields[0],
                                      r.first_check, fields[4]);
                for (size_t i = 0; i < nfiles; i++)
                        free(files[i]);
                cases++;
        }
        fclose(f);
        free(path);
        ck_assert_int_ge(cases, 10);
}
END_TEST

static void flip_sweep(int which)
{
        char a[2][96], *orig[2], tmp[] = "/tmp/logseal-flip-XXXXXX", *files[2];
        uint8_t seed[32], *buf;
        size_t n;
        uint64_t undetected = 0, tried = 0;
        static const uint8_t masks[] = {0x01, 0x80, 0xff};

        tu_seed(seed, "chain-id");
        for (int i = 0; i < 2; i++) {
                ls_archive_name(a[i], sizeof(a[i]), seed, (uint64_t) i);
                orig[i] = vpath(a[i]);
        }
        ck_assert_ptr_nonnull(mkdtemp(tmp));
        ck_assert_int_eq(tu_read_file(orig[which], 1 << 20, &buf, &n), 0);
        char *mutant;
        ck_assert_int_ge(asprintf(&mutant, "%s/mutant.lsa", tmp), 0);
        files[0] = which == 0 ? mutant : orig[0];
        files[1] = which == 1 ? mutant : orig[1];
        for (size_t pos = 0; pos < n; pos++) {
                for (size_t m = 0; m < ELEMENTSOF(masks); m++) {
                        buf[pos] ^= masks[m];
                        unlink(mutant);
                        ck_assert_int_eq(tu_write_file(mutant, buf, n), 0);
                        buf[pos] ^= masks[m];
                        Result r = verify_files(files, 2, NULL);
                        tried++;
                        if (r.cls == LS_CLASS_INTACT) {
                                undetected++;
                                fprintf(stderr, "undetected: archive %d byte %zu mask %02x\n",
                                        which, pos, masks[m]);
                        }
                }
        }
        unlink(mutant);
        rmdir(tmp);
        fprintf(stderr, "# bit-flip sweep archive %d: %zu bytes, %" PRIu64 " mutants, %" PRIu64
                        " undetected\n", which, n, tried, undetected);
        ck_assert_uint_eq(undetected, 0);
        free(mutant);
        free(buf);
        free(orig[0]);
        free(orig[1]);
}

START_TEST(every_byte_change_in_sealed_archive_0_is_detected)
{
        flip_sweep(0);
}
END_TEST

START_TEST(every_byte_change_in_sealed_archive_1_is_detected)
{
        flip_sweep(1);
}
END_TEST

START_TEST(damage_in_one_batch_leaves_the_others_verified_and_located)
{
        /* A 100-batch archive; one payload byte of batch 50 changed. */
        char tmp[] = "/tmp/logseal-dmg-XXXXXX", name[96], *path;
        uint8_t seed[32], chain[16], *buf;
        LsKeyPair *root, *k0;
        LsCert cert;
        LsSigner s0;
        LsChainWriter *w;
        LsControlBuilder *b = malloc(sizeof(*b));
        uint8_t cb[LS_CERT_LEN];
        LsBatchHeader hdrs[100];
        uint64_t offs[100];
        size_t n;

        ck_assert_ptr_nonnull(mkdtemp(tmp));
        int dirfd = open(tmp, O_RDONLY | O_DIRECTORY);
        tu_seed(seed, "dmg-chain");
        memcpy(chain, seed, 16);
        tu_seed(seed, "root-key");
        ck_assert_int_eq(ls_keypair_from_seed(&root, seed, 0), 0);
        ck_assert_int_eq(ls_keypair_generate(&k0, 0), 0);
        ck_assert_int_eq(tu_cert(&cert, chain, k0, LS_CERT_SIGNING, 0, TU_T0, root), 0);
        ls_signer_from_keypair(&s0, k0);
        LsChainWriterConfig cfg = {.dirfd = dirfd, .zstd_level = 1, .max_batch_raw = 1 << 20,
                                   .max_batch_records = 100};
        memcpy(cfg.chain_id, chain, 16);
        ck_assert_int_eq(ls_chain_writer_new(&w, &cfg, NULL), 0);
        for (int i = 0; i < 100; i++) {
                LsRecord r;
                if (i == 0) {
                        ls_cert_encode(&cert, cb);
                        ls_control_begin(b, LS_CTL_KEY_TRANSITION);
                        ls_control_add(b, LS_TAG_CERT, cb, sizeof(cb));
                        ck_assert_int_eq(tu_control(&r, TU_T0, b), 0);
                        ck_assert_int_eq(ls_chain_writer_add(w, &r), 0);
                }
                for (int j = 0; j < 10; j++) {
                        r = tu_udp4(TU_T0 + (uint64_t) i * 1000 + (uint64_t) j, "10.0.0.1", 514,
                                    "<13>Jan  1 00:00:00 h app: some log line with text");
                        ck_assert_int_eq(ls_chain_writer_add(w, &r), 0);
                }
                offs[i] = ls_chain_writer_archive_size(w);
                ck_assert_int_eq(ls_chain_writer_flush(w, &s0, TU_T0, &hdrs[i]), 0);
                if (i == 0)
                        offs[0] = ls_chain_writer_archive_size(w) -
                                  (LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN + hdrs[0].payload_len);
        }
        ck_assert_int_eq(ls_chain_writer_seal(w, &s0, TU_T0), 0);
        ls_chain_writer_free(w);
        ls_archive_name(name, sizeof(name), chain, 0);
        ck_assert_int_ge(asprintf(&path, "%s/%s", tmp, name), 0);
        ck_assert_int_eq(tu_read_file(path, 64 << 20, &buf, &n), 0);
        uint64_t flip = offs[50] + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN + 3;
        buf[flip] ^= 0x40;
        chmod(path, 0600);
        ck_assert_int_eq(tu_write_file(path, buf, n), 0);

        /* Verify against this test's root key. */
        Result res = {};
        Ctx ctx = {.res = &res};
        LsVerifyCallbacks vcb = {.finding = on_finding, .userdata = &ctx};
        LsChainVerifier *v;
        LsVerifyStats st;
        ck_assert_int_eq(ls_chain_verifier_new(&v, root->pk, &vcb), 0);
        ls_chain_verify_archive(v, open(path, O_RDONLY), path);
        LsClass cls = ls_chain_verifier_finish(v, &st);
        ck_assert_int_eq(cls, LS_CLASS_TAMPERED);
        ck_assert_uint_eq(st.batches_ok, 99);
        ck_assert_uint_eq(st.batches_bad, 1);
        ck_assert(ctx.have[LS_CLASS_TAMPERED]);
        ck_assert_str_eq(ctx.first[LS_CLASS_TAMPERED].check, "payload hash");
        ck_assert_uint_eq(ctx.first[LS_CLASS_TAMPERED].batch_no, 50);
        ck_assert_uint_eq(ctx.first[LS_CLASS_TAMPERED].offset,
                          offs[50] + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN);
        ls_chain_verifier_free(v);
        unlink(path);
        rmdir(tmp);
        free(path);
        free(buf);
        free(b);
        close(dirfd);
        ls_keypair_free(root);
        ls_keypair_free(k0);
}
END_TEST

START_TEST(golden_checkpoint_parses_and_verifies_and_forged_one_fails)
{
        char *p = vpath("golden.checkpoint"), *fp = vpath("forged.checkpoint");
        uint8_t *text, *ftext;
        size_t n, fn;
        LsCheckpoint c;

        ck_assert_int_eq(tu_read_file(p, 8192, &text, &n), 0);
        ck_assert_int_eq(tu_read_file(fp, 8192, &ftext, &fn), 0);
        ck_assert_int_eq(ls_checkpoint_parse(&c, (const char *) text, n, NULL), 0);
        ck_assert_uint_eq(c.tree_size, 14);
        ck_assert(c.has_batch);
        ck_assert_uint_eq(c.batch_no, 4);
        /* keys from the same seeds as the vectors */
        uint8_t seed[32];
        LsKeyPair *k1;
        tu_seed(seed, "epoch-key-1");
        ck_assert_int_eq(ls_keypair_from_seed(&k1, seed, 1), 0);
        ck_assert_int_eq(ls_checkpoint_verify(&c, (const char *) text, k1->pk), 0);
        ck_assert_int_eq(ls_checkpoint_parse(&c, (const char *) ftext, fn, NULL), 0);
        ck_assert_int_eq(ls_checkpoint_verify(&c, (const char *) ftext, k1->pk), -EKEYREJECTED);
        ls_keypair_free(k1);
        free(text);
        free(ftext);
        free(p);
        free(fp);
}
END_TEST

START_TEST(golden_proofs_verify_and_the_forged_proof_fails)
{
        char *pi = vpath("inclusion.proof"), *pc = vpath("consistency.proof"),
             *pf = vpath("forged-inclusion.proof"), *pe = vpath("expected.txt");
        uint8_t *bi, *bc, *bf, *be, leaf[32], r2[32], r4[32];
        size_t ni, nc, nf, ne;
        LsProof p;

        ck_assert_int_eq(tu_read_file(pi, 1 << 16, &bi, &ni), 0);
        ck_assert_int_eq(tu_read_file(pc, 1 << 16, &bc, &nc), 0);
        ck_assert_int_eq(tu_read_file(pf, 1 << 16, &bf, &nf), 0);
        ck_assert_int_eq(tu_read_file(pe, 1 << 20, &be, &ne), 0);
        char *l = strstr((char *) be, "\nleaf5 ");
        ck_assert_int_eq(ls_unhex(leaf, 32, l + 7, 64), 0);
        l = strstr((char *) be, "\nbatch2_tree_root ");
        ck_assert_int_eq(ls_unhex(r2, 32, l + 18, 64), 0);
        l = strstr((char *) be, "\nbatch4_tree_root ");
        ck_assert_int_eq(ls_unhex(r4, 32, l + 18, 64), 0);

        ck_assert_int_eq(ls_proof_decode(&p, bi, ni), 0);
        ck_assert_int_eq(ls_verify_inclusion(p.a, p.b, leaf, (const uint8_t(*)[32]) p.path,
                                             p.count, r4), 0);
        ck_assert_int_eq(ls_proof_decode(&p, bf, nf), 0);
        ck_assert_int_eq(ls_verify_inclusion(p.a, p.b, leaf, (const uint8_t(*)[32]) p.path,
                                             p.count, r4), -EILSEQ);
        ck_assert_int_eq(ls_proof_decode(&p, bc, nc), 0);
        ck_assert_int_eq(ls_verify_consistency(p.a, p.b, r2, r4, (const uint8_t(*)[32]) p.path,
                                               p.count), 0);
        free(bi);
        free(bc);
        free(bf);
        free(be);
        free(pi);
        free(pc);
        free(pf);
        free(pe);
}
END_TEST

START_TEST(reader_reports_torn_tail_of_an_open_archive)
{
        char a[96], *orig, tmp[] = "/tmp/logseal-torn-XXXXXX", *mut;
        uint8_t seed[32], *buf;
        size_t n;
        LsReadItem it;
        LsArchiveReader *rd;
        int kinds[16], nk = 0, r;

        tu_seed(seed, "chain-id");
        ls_archive_name(a, sizeof(a), seed, 0);
        orig = vpath(a);
        ck_assert_int_eq(tu_read_file(orig, 1 << 20, &buf, &n), 0);
        ck_assert_ptr_nonnull(mkdtemp(tmp));
        ck_assert_int_ge(asprintf(&mut, "%s/open.lsa", tmp), 0);
        /* drop the trailer (8 + 280 bytes) and 10 more bytes of the last payload */
        ck_assert_int_eq(tu_write_file(mut, buf, n - 288 - 10), 0);
        ck_assert_int_eq(ls_archive_reader_new(&rd, open(mut, O_RDONLY)), 0);
        while ((r = ls_archive_reader_next(rd, &it)) > 0)
                kinds[nk++] = it.kind;
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(nk, 4);
        ck_assert_int_eq(kinds[0], LS_ITEM_HEADER);
        ck_assert_int_eq(kinds[1], LS_ITEM_BATCH);
        ck_assert_int_eq(kinds[2], LS_ITEM_BATCH);
        ck_assert_int_eq(kinds[3], LS_ITEM_TORN_TAIL);
        ck_assert_int_eq(it.error, -ENODATA);
        ls_archive_reader_free(rd);
        unlink(mut);
        rmdir(tmp);
        free(mut);
        free(orig);
        free(buf);
}
END_TEST


/* Builds a one-archive chain: START announcing a 60 s heartbeat, then records at the given
 * offsets (seconds); a negative offset inserts a CLOCK_STEP there. Returns the verdict. */
static LsClass heartbeat_chain(const int *secs, size_t n, char *first_check, size_t cap)
{
        char tmp[] = "/tmp/logseal-hb-XXXXXX", name[96], *path;
        uint8_t seed[32], chain[16], cb[LS_CERT_LEN];
        LsKeyPair *root, *k0;
        LsCert cert;
        LsSigner s0;
        LsChainWriter *w;
        LsControlBuilder *b = malloc(sizeof(*b));
        LsRecord r;

        ck_assert_ptr_nonnull(mkdtemp(tmp));
        int dirfd = open(tmp, O_RDONLY | O_DIRECTORY);
        tu_seed(seed, "hb-chain");
        memcpy(chain, seed, 16);
        tu_seed(seed, "root-key");
        ck_assert_int_eq(ls_keypair_from_seed(&root, seed, 0), 0);
        ck_assert_int_eq(ls_keypair_generate(&k0, 0), 0);
        ck_assert_int_eq(tu_cert(&cert, chain, k0, LS_CERT_SIGNING, 0, TU_T0, root), 0);
        ls_signer_from_keypair(&s0, k0);
        LsChainWriterConfig cfg = {.dirfd = dirfd, .zstd_level = 1, .max_batch_raw = 1 << 20,
                                   .max_batch_records = 2};
        memcpy(cfg.chain_id, chain, 16);
        ck_assert_int_eq(ls_chain_writer_new(&w, &cfg, NULL), 0);
        ls_cert_encode(&cert, cb);
        ls_control_begin(b, LS_CTL_KEY_TRANSITION);
        ls_control_add(b, LS_TAG_CERT, cb, sizeof(cb));
        ck_assert_int_eq(tu_control(&r, TU_T0, b), 0);
        ck_assert_int_eq(ls_chain_writer_add(w, &r), 0);
        ls_control_begin(b, LS_CTL_START);
        ls_control_add(b, LS_TAG_BOOT_ID, seed, 16);
        ls_control_add_str(b, LS_TAG_VERSION, "test");
        ls_control_add_u64(b, LS_TAG_HEARTBEAT_INTERVAL, 60000000000ull);
        ck_assert_int_eq(tu_control(&r, TU_T0, b), 0);
        ck_assert_int_eq(ls_chain_writer_add(w, &r), 0);
        for (size_t i = 0; i < n; i++) {
                uint64_t t = TU_T0 + (uint64_t) (secs[i] < 0 ? -secs[i] : secs[i]) * 1000000000ull;
                if (secs[i] < 0) {
                        ls_control_begin(b, LS_CTL_CLOCK_STEP);
                        ls_control_add_u64(b, LS_TAG_CLOCK_DELTA, 500000000000ull);
                        ck_assert_int_eq(tu_control(&r, t, b), 0);
                } else {
                        r = tu_udp4(t, "10.0.0.1", 514, "<13>Jan  1 00:00:00 h app: x");
                }
                int k = ls_chain_writer_add(w, &r);
                if (k == -ENOSPC) {
                        ck_assert_int_eq(ls_chain_writer_flush(w, &s0, t, NULL), 0);
                        k = ls_chain_writer_add(w, &r);
                }
                ck_assert_int_eq(k, 0);
        }
        ck_assert_int_eq(ls_chain_writer_flush(w, &s0, TU_T0, NULL), 0);
        ck_assert_int_eq(ls_chain_writer_seal(w, &s0, TU_T0), 0);
        ls_chain_writer_free(w);
        ls_archive_name(name, sizeof(name), chain, 0);
        ck_assert_int_ge(asprintf(&path, "%s/%s", tmp, name), 0);

        Result res = {};
        Ctx ctx = {.res = &res};
        LsVerifyCallbacks vcb = {.finding = on_finding, .userdata = &ctx};
        LsChainVerifier *v;
        ck_assert_int_eq(ls_chain_verifier_new(&v, root->pk, &vcb), 0);
        ls_chain_verify_archive(v, open(path, O_RDONLY), path);
        LsClass cls = ls_chain_verifier_finish(v, NULL);
        snprintf(first_check, cap, "%s", ctx.have[cls] ? ctx.first[cls].check : "");
        ls_chain_verifier_free(v);
        unlink(path);
        rmdir(tmp);
        free(path);
        free(b);
        close(dirfd);
        ls_keypair_free(root);
        ls_keypair_free(k0);
        return cls;
}

START_TEST(silence_beyond_the_announced_heartbeat_is_a_gap_unless_explained)
{
        static const int steady[] = {30, 60, 90, 120, 150};
        static const int silent[] = {30, 60, 600, 630};
        static const int stepped[] = {30, 60, 600, -601, 630};
        char check[64];

        ck_assert_int_eq(heartbeat_chain(steady, ELEMENTSOF(steady), check, sizeof(check)),
                         LS_CLASS_INTACT);
        ck_assert_int_eq(heartbeat_chain(silent, ELEMENTSOF(silent), check, sizeof(check)),
                         LS_CLASS_GAP);
        ck_assert_str_eq(check, "heartbeat gap");
        ck_assert_int_eq(heartbeat_chain(stepped, ELEMENTSOF(stepped), check, sizeof(check)),
                         LS_CLASS_INTACT);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("archive");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, golden_chain_verifies_intact_from_the_root_key);
        tcase_add_test(tc, each_committed_forgery_fails_with_its_documented_class_and_check);
        tcase_add_test(tc, golden_checkpoint_parses_and_verifies_and_forged_one_fails);
        tcase_add_test(tc, golden_proofs_verify_and_the_forged_proof_fails);
        tcase_add_test(tc, reader_reports_torn_tail_of_an_open_archive);
        tcase_add_test(tc, damage_in_one_batch_leaves_the_others_verified_and_located);
        tcase_add_test(tc, silence_beyond_the_announced_heartbeat_is_a_gap_unless_explained);
        tcase_add_test(tc, every_byte_change_in_sealed_archive_0_is_detected);
        tcase_add_test(tc, every_byte_change_in_sealed_archive_1_is_detected);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
