/* SPDX-License-Identifier: Apache-2.0 */
/* test-verify-jobs: parallel verification says exactly what sequential verification says */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-reader.h"
#include "chain-verify.h"
#include "control.h"
#include "hash.h"
#include "keys.h"
#include "merkle.h"
#include "testutil.h"
#include "util.h"
#include "work-pool.h"

static const char *vdir(void)
{
        const char *d = getenv("VECTORS_DIR");
        return d ? d : "tests/vectors";
}

/* Everything a verifier tells its caller, in the order it tells it. */
typedef struct Log {
        char *p;
        size_t n, cap;
} Log;

__attribute__((format(printf, 2, 3))) static void logf_(Log *l, const char *fmt, ...)
{
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        ck_assert_int_ge(k, 0);
        if (l->n + (size_t) k + 1 > l->cap) {
                l->cap = (l->n + (size_t) k + 1) * 2;
                l->p = realloc(l->p, l->cap);
                ck_assert_ptr_nonnull(l->p);
        }
        va_start(ap, fmt);
        vsnprintf(l->p + l->n, (size_t) k + 1, fmt, ap);
        va_end(ap);
        l->n += (size_t) k;
}

static void on_finding(void *ud, const LsFinding *f)
{
        logf_(ud, "finding %d %d %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n",
              f->cls, f->code, f->check, f->file ? f->file : "-", f->offset, f->archive_no,
              f->batch_no, f->seq, f->detail);
}

static void on_record(void *ud, const LsBatchHeader *h, const LsRecord *rec)
{
        uint8_t d[LS_HASH_LEN];
        char hex[2 * LS_HASH_LEN + 1];

        ls_sha256(d, rec->body, rec->body_len);
        ls_hex(hex, d, sizeof(d));
        logf_(ud, "record %" PRIu64 " %" PRIu64 " %u %u %" PRIu64 " %s\n", h->batch_no, rec->seq,
              rec->type, rec->flags, rec->time_ns, hex);
}

static void on_batch(void *ud, const char *file, uint64_t offset, const LsBatchHeader *h)
{
        logf_(ud, "batch %s %" PRIu64 " %" PRIu64 "\n", file, offset, h->batch_no);
}

static void on_archive(void *ud, const LsArchiveSummary *s)
{
        char hex[2 * LS_HASH_LEN + 1];

        ls_hex(hex, s->file_hash, LS_HASH_LEN);
        logf_(ud,
              "archive %s %" PRIu64 " %s %d %" PRIu64 " %d %" PRIu64 " %" PRIu64 " %" PRIu64
              " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
              s->file, s->file_size, hex, s->header_ok, s->archive_no, s->sealed, s->batches_ok,
              s->batches_bad, s->first_seq, s->last_seq, s->records, s->min_time_ns,
              s->max_time_ns, s->bytes_unverified);
}

/* Verifies files in order with `jobs` threads and a window of `budget` bytes; returns the log. */
static char *verify_log(char **files, size_t n, const uint8_t root[LS_PK_LEN], unsigned jobs,
                        size_t budget)
{
        Log l = {};
        LsVerifyCallbacks cb = {.finding = on_finding,
                                .record = on_record,
                                .all_records = 1,
                                .batch = on_batch,
                                .archive = on_archive,
                                .userdata = &l};
        LsChainVerifier *v;
        LsVerifyStats st;
        LsClass c;

        ck_assert_int_eq(ls_chain_verifier_new(&v, root, &cb), 0);
        ck_assert_int_eq(ls_chain_verifier_set_jobs(v, jobs, budget), 0);
        for (size_t i = 0; i < n; i++) {
                int fd = open(files[i], O_RDONLY | O_CLOEXEC);
                ck_assert_msg(fd >= 0, "open %s", files[i]);
                ls_chain_verify_archive(v, fd, files[i]);
        }
        c = ls_chain_verifier_finish(v, &st);
        logf_(&l,
              "verdict %d guarantee %s\nstats %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
              " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %d\n",
              c, ls_chain_verifier_guarantee(v), st.archives, st.archives_sealed, st.batches_ok,
              st.batches_bad, st.records, st.first_batch, st.last_batch, st.first_seq, st.last_seq,
              st.keys, st.tree_checked_all);
        ls_chain_verifier_free(v);
        return l.p;
}

/* Fails with the first line where two logs differ (check's messages are short). */
static void assert_same(const char *seq, const char *par, const char *what, unsigned jobs,
                        size_t budget)
{
        size_t i = 0, line = 1, start = 0;

        if (strcmp(seq, par) == 0)
                return;
        for (; seq[i] && seq[i] == par[i]; i++)
                if (seq[i] == '\n') {
                        line++;
                        start = i + 1;
                }
        fprintf(stderr, "# %s: %u jobs, budget %zu: line %zu differs:\n# 1 job: %.300s\n# par:   %.300s\n",
                what, jobs, budget, line, seq + start, par + start);
        ck_abort_msg("%s: %u jobs (budget %zu) differ from 1 job at line %zu", what, jobs, budget,
                     line);
}

/* (jobs, budget) pairs: small budgets force the window to wait for the oldest batch. */
static const struct {
        unsigned jobs;
        size_t budget;
} configs[] = {{2, 0}, {4, 0}, {3, 1}, {4, 3000}, {8, 100000}};

/* Returns the sequential log (to be freed). */
static char *same_for_every_config(char **files, size_t n, const uint8_t root[LS_PK_LEN],
                                   const char *what)
{
        char *seq = verify_log(files, n, root, 1, 0);

        for (size_t i = 0; i < ELEMENTSOF(configs); i++) {
                char *par = verify_log(files, n, root, configs[i].jobs, configs[i].budget);
                assert_same(seq, par, what, configs[i].jobs, configs[i].budget);
                free(par);
        }
        return seq;
}

static char *vpath(const char *name)
{
        char *p;
        ck_assert_int_ge(asprintf(&p, "%s/%s", vdir(), name), 0);
        return p;
}

static void golden_root(uint8_t root[LS_PK_LEN])
{
        char *path = vpath("root.pub");
        uint8_t *text, id[LS_KEY_ID_LEN];
        size_t n;

        ck_assert_int_eq(tu_read_file(path, 4096, &text, &n), 0);
        ck_assert_int_eq(ls_pubkey_parse((const char *) text, n, root, id), 0);
        free(text);
        free(path);
}

START_TEST(merkle_subtree_append_equals_leaf_by_leaf)
{
        /* every start position 0..70 and length 1..70: the same peaks as one leaf at a time */
        for (uint64_t start = 0; start < 70; start++) {
                for (uint64_t len = 1; len < 70; len++) {
                        LsMerkle a, b;
                        uint8_t leaf[LS_HASH_LEN];
                        ls_merkle_init(&a);
                        for (uint64_t i = 0; i < start; i++) {
                                ls_sha256(leaf, &i, sizeof(i));
                                ck_assert_int_eq(ls_merkle_append(&a, leaf), 0);
                        }
                        b = a;
                        for (uint64_t i = start; i < start + len; i++) {
                                ls_sha256(leaf, &i, sizeof(i));
                                ck_assert_int_eq(ls_merkle_append(&a, leaf), 0);
                        }
                        for (uint64_t pos = start; pos < start + len;) {
                                unsigned ht = pos ? (unsigned) __builtin_ctzll(pos) : 62;
                                while ((UINT64_C(1) << ht) > start + len - pos)
                                        ht--;
                                LsMerkle s;
                                ls_merkle_init(&s);
                                for (uint64_t i = pos; i < pos + (UINT64_C(1) << ht); i++) {
                                        ls_sha256(leaf, &i, sizeof(i));
                                        ck_assert_int_eq(ls_merkle_append(&s, leaf), 0);
                                }
                                ck_assert_int_eq(ls_merkle_append_subtree(&b, s.peaks[0], ht), 0);
                                pos += UINT64_C(1) << ht;
                        }
                        ck_assert_uint_eq(a.size, b.size);
                        ck_assert_uint_eq(a.n, b.n);
                        ck_assert_mem_eq(a.peaks, b.peaks, (size_t) a.n * LS_HASH_LEN);
                }
        }
        /* a subtree that does not start at a multiple of its size is refused */
        LsMerkle m;
        uint8_t z[LS_HASH_LEN] = {0};
        ls_merkle_init(&m);
        ck_assert_int_eq(ls_merkle_append(&m, z), 0);
        ck_assert_int_eq(ls_merkle_append_subtree(&m, z, 1), -EINVAL);
}
END_TEST

START_TEST(vectors_and_forgeries_say_the_same_with_any_number_of_jobs)
{
        uint8_t root[LS_PK_LEN];
        char a[2][96], *files[3];
        uint8_t seed[32];
        static const char *forged[] = {
                "forged-batch-deleted.lsa", "forged-batch-duplicated.lsa",
                "forged-batches-swapped.lsa", "forged-earlier-key.lsa", "forged-later-key.lsa",
                "forged-no-seal.lsa", "forged-payload-byte.lsa", "forged-rogue-key.lsa",
                "forged-root-rotation.lsa", "forged-transition.lsa", "forged-wrong-certifier.lsa"};

        golden_root(root);
        tu_seed(seed, "chain-id");
        for (int i = 0; i < 2; i++) {
                ls_archive_name(a[i], sizeof(a[i]), seed, (uint64_t) i);
                files[i] = vpath(a[i]);
        }
        free(same_for_every_config(files, 2, root, "golden chain"));
        free(same_for_every_config(files + 1, 1, root, "archive 1 alone (partial)"));
        for (size_t i = 0; i < ELEMENTSOF(forged); i++) {
                files[2] = vpath(forged[i]);
                free(same_for_every_config(files + 2, 1, root, forged[i]));
                free(files[2]);
        }
        free(files[0]);
        free(files[1]);
}
END_TEST

/* Every byte of a vector archive changed: the same findings, in the same order, for any jobs. */
static void flip_sweep(int which)
{
        char a[2][96], *orig[2], tmp[] = "/tmp/logseal-jobs-XXXXXX", *files[2], *mutant;
        uint8_t seed[32], root[LS_PK_LEN], *buf;
        size_t n;

        golden_root(root);
        tu_seed(seed, "chain-id");
        for (int i = 0; i < 2; i++) {
                ls_archive_name(a[i], sizeof(a[i]), seed, (uint64_t) i);
                orig[i] = vpath(a[i]);
        }
        ck_assert_ptr_nonnull(mkdtemp(tmp));
        ck_assert_int_eq(tu_read_file(orig[which], 1 << 20, &buf, &n), 0);
        ck_assert_int_ge(asprintf(&mutant, "%s/mutant.lsa", tmp), 0);
        files[0] = which == 0 ? mutant : orig[0];
        files[1] = which == 1 ? mutant : orig[1];
        for (size_t pos = 0; pos < n; pos++) {
                char what[64];
                buf[pos] ^= 0xff;
                unlink(mutant);
                ck_assert_int_eq(tu_write_file(mutant, buf, n), 0);
                buf[pos] ^= 0xff;
                snprintf(what, sizeof(what), "archive %d byte %zu", which, pos);
                char *seq = verify_log(files, 2, root, 1, 0);
                unsigned jobs = 2 + pos % 4;
                size_t budget = pos % 3 ? 0 : 1;
                char *par = verify_log(files, 2, root, jobs, budget);
                assert_same(seq, par, what, jobs, budget);
                free(seq);
                free(par);
        }
        /* and a truncation at every 97th byte */
        for (size_t len = 0; len < n; len += 97) {
                unlink(mutant);
                ck_assert_int_eq(tu_write_file(mutant, buf, len), 0);
                char *seq = verify_log(files, 2, root, 1, 0);
                char *par = verify_log(files, 2, root, 3, 1);
                assert_same(seq, par, "truncated", 3, 1);
                free(seq);
                free(par);
        }
        unlink(mutant);
        rmdir(tmp);
        free(mutant);
        free(buf);
        free(orig[0]);
        free(orig[1]);
}

START_TEST(every_byte_change_in_archive_0_says_the_same_with_any_number_of_jobs)
{
        flip_sweep(0);
}
END_TEST

START_TEST(every_byte_change_in_archive_1_says_the_same_with_any_number_of_jobs)
{
        flip_sweep(1);
}
END_TEST

/*
 * A 300-batch archive (rotations of batch sizes so that leaves start at every alignment) with
 * a damaged payload, a damaged record count, a gap in the heartbeat and a torn tail: the window
 * is much smaller than the archive, and the log is the same.
 */
START_TEST(a_long_damaged_archive_says_the_same_through_a_small_window)
{
        char tmp[] = "/tmp/logseal-jobs-XXXXXX", name[96], *path;
        uint8_t seed[32], chain[16], *buf, cbytes[LS_CERT_LEN];
        LsKeyPair *root, *k0;
        LsCert cert;
        LsSigner s0;
        LsChainWriter *w;
        LsControlBuilder *b = malloc(sizeof(*b));
        LsBatchHeader h;
        uint64_t offs[300];
        size_t n;

        ck_assert_ptr_nonnull(mkdtemp(tmp));
        int dirfd = open(tmp, O_RDONLY | O_DIRECTORY);
        tu_seed(seed, "jobs-chain");
        memcpy(chain, seed, 16);
        tu_seed(seed, "root-key");
        ck_assert_int_eq(ls_keypair_from_seed(&root, seed, 0), 0);
        ck_assert_int_eq(ls_keypair_generate(&k0, 0), 0);
        ck_assert_int_eq(tu_cert(&cert, chain, k0, LS_CERT_SIGNING, 0, TU_T0, root), 0);
        ls_signer_from_keypair(&s0, k0);
        LsChainWriterConfig cfg = {.dirfd = dirfd, .zstd_level = 1, .max_batch_raw = 1 << 20,
                                   .max_batch_records = 4000};
        memcpy(cfg.chain_id, chain, 16);
        ck_assert_int_eq(ls_chain_writer_new(&w, &cfg, NULL), 0);
        uint64_t t = TU_T0;
        for (int i = 0; i < 300; i++) {
                LsRecord r;
                if (i == 0) {
                        ls_cert_encode(&cert, cbytes);
                        ls_control_begin(b, LS_CTL_KEY_TRANSITION);
                        ls_control_add(b, LS_TAG_CERT, cbytes, sizeof(cbytes));
                        ck_assert_int_eq(tu_control(&r, t, b), 0);
                        ck_assert_int_eq(ls_chain_writer_add(w, &r), 0);
                        ls_control_begin(b, LS_CTL_START);
                        ls_control_add(b, LS_TAG_BOOT_ID, seed, 16);
                        ls_control_add_str(b, LS_TAG_VERSION, "test");
                        ls_control_add_u64(b, LS_TAG_HEARTBEAT_INTERVAL, UINT64_C(30000000000));
                        ck_assert_int_eq(tu_control(&r, t, b), 0);
                        ck_assert_int_eq(ls_chain_writer_add(w, &r), 0);
                }
                if (i == 120)
                        t += UINT64_C(600000000000); /* ten silent minutes: a heartbeat gap */
                /* batch 0 holds 2^11 + 452 records: perfect subtrees above one chunk */
                for (int j = 0; j < (i == 0 ? 2500 : 1 + (i * 7) % 37); j++) {
                        char msg[96];
                        snprintf(msg, sizeof(msg), "<13>Jan  1 00:00:00 h app: line %d.%d", i, j);
                        r = tu_udp4(t++, "10.0.0.1", 514, msg);
                        ck_assert_int_eq(ls_chain_writer_add(w, &r), 0);
                }
                offs[i] = ls_chain_writer_archive_size(w);
                ck_assert_int_eq(ls_chain_writer_flush(w, &s0, t, &h), 0);
        }
        ls_chain_writer_free(w); /* open: not sealed */
        ls_archive_name(name, sizeof(name), chain, 0);
        ck_assert_int_ge(asprintf(&path, "%s/%s", tmp, name), 0);
        ck_assert_int_eq(tu_read_file(path, 64 << 20, &buf, &n), 0);
        buf[offs[50] + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN + 3] ^= 0x40; /* payload */
        buf[offs[200] + LS_FRAME_HDR_LEN + 56] ^= 0x01;                      /* record count */
        chmod(path, 0600);
        ck_assert_int_eq(tu_write_file(path, buf, n - 5), 0);                /* torn tail */

        char *log = same_for_every_config(&path, 1, root->pk, "long damaged archive");
        /* the damage is found (so the comparison covers every path) */
        ck_assert_ptr_nonnull(strstr(log, " payload hash "));
        ck_assert_ptr_nonnull(strstr(log, " heartbeat gap "));
        ck_assert_ptr_nonnull(strstr(log, "incomplete last frame"));
        ck_assert_ptr_nonnull(strstr(log, "record 0 ")); /* record callbacks ran */
        /* every root before the damage recomputed from the leaves and right (batch 0 too) */
        ck_assert_ptr_null(strstr(log, " Merkle root "));
        ck_assert_ptr_nonnull(strstr(log, "batch /"));
        free(log);

        unlink(path);
        rmdir(tmp);
        close(dirfd);
        free(path);
        free(buf);
        free(b);
        ls_keypair_free(root);
        ls_keypair_free(k0);
}
END_TEST

START_TEST(two_hashes_side_by_side_equal_one_at_a_time)
{
        static uint8_t msg[2][700];
        uint8_t a[LS_HASH_LEN], b[LS_HASH_LEN], a2[LS_HASH_LEN], b2[LS_HASH_LEN];
        uint8_t seed[LS_HASH_LEN], salt[2][LS_SALT_LEN];
        LsSaltKey k;

        for (size_t i = 0; i < sizeof(msg); i++)
                ((uint8_t *) msg)[i] = (uint8_t) (i * 131 + 7);
        tu_seed(seed, "x2");
        ls_salt_key_init(&k, seed);
        for (int portable = 0; portable < 2; portable++) {
                ls_sha256_force_portable(portable);
                /* every pair of lengths around the block and padding boundaries */
                for (size_t n0 = 0; n0 < 300; n0 += 1 + n0 / 40) {
                        for (size_t n1 = 0; n1 < 700; n1 += 1 + n1 / 13) {
                                ls_leaf_hash_x2(a2, salt[0], msg[0], n0, b2, salt[1], msg[1], n1);
                                ls_leaf_hash(a, salt[0], msg[0], n0);
                                ls_leaf_hash(b, salt[1], msg[1], n1);
                                ck_assert_mem_eq(a, a2, LS_HASH_LEN);
                                ck_assert_mem_eq(b, b2, LS_HASH_LEN);
                        }
                        ls_salt_derive_x2(&k, n0, salt[0], n0 * 977 + 1, salt[1]);
                        ls_salt_derive(&k, n0, a);
                        ls_salt_derive(&k, n0 * 977 + 1, b);
                        ck_assert_mem_eq(a, salt[0], LS_SALT_LEN);
                        ck_assert_mem_eq(b, salt[1], LS_SALT_LEN);
                        ls_node_hash_x2(a2, salt[0], salt[1], b2, msg[0] + n0, msg[1] + n0);
                        ls_node_hash(a, salt[0], salt[1]);
                        ls_node_hash(b, msg[0] + n0, msg[1] + n0);
                        ck_assert_mem_eq(a, a2, LS_HASH_LEN);
                        ck_assert_mem_eq(b, b2, LS_HASH_LEN);
                }
        }
        ls_sha256_force_portable(0);
        ls_salt_key_wipe(&k);
}
END_TEST

START_TEST(online_cpus_is_at_least_one)
{
        ck_assert_uint_ge(ls_online_cpus(), 1);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("verify-jobs");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, merkle_subtree_append_equals_leaf_by_leaf);
        tcase_add_test(tc, online_cpus_is_at_least_one);
        tcase_add_test(tc, two_hashes_side_by_side_equal_one_at_a_time);
        tcase_add_test(tc, vectors_and_forgeries_say_the_same_with_any_number_of_jobs);
        tcase_add_test(tc, a_long_damaged_archive_says_the_same_through_a_small_window);
        tcase_add_test(tc, every_byte_change_in_archive_0_says_the_same_with_any_number_of_jobs);
        tcase_add_test(tc, every_byte_change_in_archive_1_says_the_same_with_any_number_of_jobs);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        int failed;

        if (sodium_init() < 0)
                return 1;
        srunner_run_all(sr, CK_ENV);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
