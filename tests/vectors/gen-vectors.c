/* SPDX-License-Identifier: Apache-2.0 */
/* gen-vectors: regenerate the known-answer vectors of formats/SPEC.md §13 into a directory */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-reader.h"
#include "batch-builder.h"
#include "batch.h"
#include "bundle-writer.h"
#include "checkpoint.h"
#include "hash.h"
#include "merkle.h"
#include "payload.h"
#include "testutil.h"
#include "util.h"

#define MAX_LEAVES 64

static uint8_t leaves[MAX_LEAVES][LS_HASH_LEN];
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

typedef struct Frame {
        uint64_t off, len;
        LsItemKind kind;
} Frame;

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

#define TRY(x)                                                                                     \
        do {                                                                                       \
                int _r = (x);                                                                      \
                if (_r < 0) {                                                                      \
                        fprintf(stderr, "gen-vectors: %s: %s\n", #x, strerror(-_r));               \
                        return 1;                                                                  \
                }                                                                                  \
        } while (0)

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
static int make_bundle(const TuGolden *g)
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

/* ---- format 2 (SPEC §9.4): a chain whose epochs end with signed closes ---- */

#define F2_DIR "format2"
#define F2_S UINT64_C(1000000000)
#define F2_YEAR (UINT64_C(365) * 86400 * F2_S)

typedef struct F2 {
        uint8_t chain_id[LS_CHAIN_ID_LEN], other_chain_id[LS_CHAIN_ID_LEN];
        LsKeyPair *root, *k[3], *other;
        LsCert cert[3], other_cert;
        LsEpochClose close[2];
        LsBatchHeader h[6];
        LsChainPosition after_archive0;
        LsBatchHeader forged[2]; /* forged-after-close.lsa's batches 2 and 3 */
        LsControlBuilder *cb;
} F2;

static void f2_seed(void *ud, uint64_t batch_no, uint8_t out[LS_HASH_LEN])
{
        char name[96];

        snprintf(name, sizeof(name), "%s-%" PRIu64, (const char *) ud, batch_no);
        tu_seed(out, name);
}

/* A kind-1 certificate with the CLOSED flag (format 2). */
static int f2_cert(LsCert *c, const uint8_t chain_id[LS_CHAIN_ID_LEN], const LsKeyPair *subject,
                   uint64_t valid_from, uint64_t issued_ns, LsKeyPair *issuer)
{
        LsSigner s;

        memset(c, 0, sizeof(*c));
        c->kind = LS_CERT_SIGNING;
        c->flags = LS_CERT_F_CLOSED;
        memcpy(c->chain_id, chain_id, LS_CHAIN_ID_LEN);
        memcpy(c->pk, subject->pk, LS_PK_LEN);
        c->epoch = subject->epoch;
        c->valid_from_batch = valid_from;
        c->issued_ns = issued_ns;
        ls_signer_from_keypair(&s, issuer);
        return ls_cert_sign(c, &s);
}

static int f2_close(LsEpochClose *c, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                    const LsKeyPair *closed, const LsBatchHeader *last, uint64_t max_time,
                    const LsEpochClose *prev, uint64_t issued_ns, LsKeyPair *issuer)
{
        LsSigner s;

        memset(c, 0, sizeof(*c));
        memcpy(c->chain_id, chain_id, LS_CHAIN_ID_LEN);
        memcpy(c->closed_key_id, closed->key_id, LS_KEY_ID_LEN);
        c->closed_epoch = closed->epoch;
        c->last_batch_no = last->batch_no;
        c->tree_size = last->tree_size;
        memcpy(c->tree_root, last->tree_root, LS_HASH_LEN);
        ls_batch_header_hash(last, c->last_header_hash);
        c->max_time_ns = max_time;
        if (prev)
                ls_close_hash(prev, c->prev_close_hash);
        c->issued_ns = issued_ns;
        ls_signer_from_keypair(&s, issuer);
        return ls_close_sign(c, &s);
}

static int f2_writer(LsChainWriter **w, int dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                     const char *seed_prefix, const LsChainPosition *pos)
{
        LsChainWriterConfig cfg = {
                .dirfd = dirfd,
                .zstd_level = 3,
                .max_batch_raw = 1 << 20,
                .max_batch_records = 1000,
                .seed_fn = f2_seed,
                .seed_ud = (void *) seed_prefix,
        };

        memcpy(cfg.chain_id, chain_id, LS_CHAIN_ID_LEN);
        return ls_chain_writer_new(w, &cfg, pos);
}

static int f2_msg(LsChainWriter *w, uint64_t t, const char *msg)
{
        LsRecord r = tu_udp4(t, "203.0.113.5", 514, msg);
        return ls_chain_writer_add(w, &r);
}

static int f2_ctl(LsChainWriter *w, uint64_t t, LsControlBuilder *b)
{
        LsRecord r;
        int k = tu_control(&r, t, b);

        return k < 0 ? k : ls_chain_writer_add(w, &r);
}

static int f2_transition(F2 *f, LsChainWriter *w, uint64_t t, const LsCert *c, const char *text)
{
        uint8_t enc[LS_CERT_LEN];

        ls_cert_encode(c, enc);
        ls_control_begin(f->cb, LS_CTL_KEY_TRANSITION);
        ls_control_add_str(f->cb, LS_TAG_TEXT, text);
        ls_control_add(f->cb, LS_TAG_CERT, enc, LS_CERT_LEN);
        return f2_ctl(w, t, f->cb);
}

static int f2_epoch_close(F2 *f, LsChainWriter *w, uint64_t t, const LsEpochClose *c)
{
        uint8_t enc[LS_CLOSE_LEN];

        ls_close_encode(c, enc);
        ls_control_begin(f->cb, LS_CTL_EPOCH_CLOSE);
        ls_control_add_str(f->cb, LS_TAG_TEXT, "epoch closed by its successor");
        ls_control_add(f->cb, LS_TAG_CLOSE, enc, LS_CLOSE_LEN);
        return f2_ctl(w, t, f->cb);
}

static int f2_start(F2 *f, LsChainWriter *w, uint64_t t)
{
        static const uint8_t boot_id[16] = {0xb0, 0x07, [15] = 0x02};

        ls_control_begin(f->cb, LS_CTL_START);
        ls_control_add(f->cb, LS_TAG_BOOT_ID, boot_id, sizeof(boot_id));
        ls_control_add_str(f->cb, LS_TAG_VERSION, "0.2.0");
        return f2_ctl(w, t, f->cb);
}

/* The holder of an erased key moves the clock on in the chain, so no heartbeat rule objects. */
static int f2_clock_step(F2 *f, LsChainWriter *w, uint64_t before, uint64_t after)
{
        ls_control_begin(f->cb, LS_CTL_CLOCK_STEP);
        ls_control_add_u64(f->cb, LS_TAG_FIRST_TIME, before);
        ls_control_add_u64(f->cb, LS_TAG_LAST_TIME, after);
        ls_control_add_u64(f->cb, LS_TAG_CLOCK_DELTA, after - before);
        return f2_ctl(w, after, f->cb);
}

/* Moves archive `archive_no` written in the scratch directory to F2_DIR/out. */
static int f2_take(int scratchfd, const char *scratch, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                   uint64_t archive_no, const char *out)
{
        char name[96], path[512], dst[256];
        uint8_t *p;
        size_t n;
        int r;

        ls_archive_name(name, sizeof(name), chain_id, archive_no);
        snprintf(path, sizeof(path), "%s/%s", scratch, name);
        snprintf(dst, sizeof(dst), F2_DIR "/%s", out);
        r = tu_read_file(path, 1 << 20, &p, &n);
        if (r < 0)
                return r;
        r = tu_write_file(dst, p, n);
        free(p);
        (void) unlinkat(scratchfd, name, 0);
        return r;
}

static int f2_write_items(const char *out, const LsCert *const *certs, size_t ncerts,
                          const LsEpochClose *const *closes, size_t ncloses, const char *order)
{
        uint8_t buf[16 * LS_CLOSE_LEN];
        size_t len = 0, ci = 0, xi = 0;
        char path[256];

        /* order: 'C' the next certificate, 'X' the next close (the appliance appends each
         * item to keys/history.lsk as it is made) */
        for (const char *o = order; *o; o++) {
                if (*o == 'C' && ci < ncerts) {
                        ls_cert_encode(certs[ci++], buf + len);
                        len += LS_CERT_LEN;
                } else if (*o == 'X' && xi < ncloses) {
                        ls_close_encode(closes[xi++], buf + len);
                        len += LS_CLOSE_LEN;
                } else {
                        return -EINVAL;
                }
        }
        snprintf(path, sizeof(path), F2_DIR "/%s", out);
        return tu_write_file(path, buf, len);
}

static void f2_put_hex(FILE *e, const char *name, const uint8_t *p, size_t n)
{
        char hex[2 * 512 + 1];

        ls_hex(hex, p, n);
        fprintf(e, "%s %s\n", name, hex);
}

/*
 * format2/: a small format-2 chain (SPEC §9.4) of its own chain id ("format2-chain-id"), the
 * test root key, epoch keys "format2-epoch-key-<e>" (all certificates with the CLOSED flag):
 *   archive 0: batch 0 (epoch-0 certificate, start, message), batch 1 (messages); epoch 0
 *   archive 1: batch 2 (message, transition to epoch 1, valid from 3), signed by epoch 0;
 *              batch 3 (EPOCH_CLOSE of epoch 0 signed by epoch 1, message);
 *              batch 4 (message, transition to epoch 2, valid from 5), signed by epoch 1
 *   archive 2: batch 5 (EPOCH_CLOSE of epoch 1 signed by epoch 2, stop), signed by epoch 2
 * and its key history, forgeries made with the erased epoch-0 key, and histories that break
 * the rules of §9.4. forgeries.txt gets one line per case.
 */
static int make_format2(FILE *fl)
{
        char scratch[] = "/tmp/gen-vectors-XXXXXX", an[3][96], path[256];
        uint8_t seed[32];
        LsChainWriter *w = NULL;
        LsSigner s[3], so;
        F2 f = {0};
        uint64_t t = TU_T0;
        int dirfd, scratchfd;
        FILE *e;

        f.cb = malloc(sizeof(*f.cb));
        if (!f.cb)
                return -ENOMEM;
        tu_seed(seed, "format2-chain-id");
        memcpy(f.chain_id, seed, LS_CHAIN_ID_LEN);
        tu_seed(seed, "format2-other-chain-id");
        memcpy(f.other_chain_id, seed, LS_CHAIN_ID_LEN);
        tu_seed(seed, "root-key");
        TRY(ls_keypair_from_seed(&f.root, seed, 0));
        for (int i = 0; i < 3; i++) {
                char name[64];
                snprintf(name, sizeof(name), "format2-epoch-key-%d", i);
                tu_seed(seed, name);
                TRY(ls_keypair_from_seed(&f.k[i], seed, (uint64_t) i));
                ls_signer_from_keypair(&s[i], f.k[i]);
        }
        tu_seed(seed, "format2-other-chain-key-0");
        TRY(ls_keypair_from_seed(&f.other, seed, 0));
        ls_signer_from_keypair(&so, f.other);
        TRY(f2_cert(&f.cert[0], f.chain_id, f.k[0], 0, t, f.root));
        TRY(f2_cert(&f.other_cert, f.other_chain_id, f.other, 0, t, f.root));

        if (mkdir(F2_DIR, 0755) < 0 && errno != EEXIST)
                return -errno;
        dirfd = open(F2_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        for (uint64_t i = 0; i < 3; i++) {
                ls_archive_name(an[i], sizeof(an[i]), f.chain_id, i);
                (void) unlinkat(dirfd, an[i], 0);
        }
        if (!mkdtemp(scratch))
                return -errno;
        scratchfd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (scratchfd < 0)
                return -errno;

        /* the genuine chain */
        TRY(f2_writer(&w, dirfd, f.chain_id, "format2-salt-seed", NULL));
        TRY(f2_transition(&f, w, t, &f.cert[0], "initial signing key certified by the root key"));
        TRY(f2_start(&f, w, t));
        TRY(f2_msg(w, t + 1000, "<13>1 2026-01-01T00:00:00Z f2host app - - - first"));
        TRY(ls_chain_writer_flush(w, &s[0], t + 2000, &f.h[0]));
        t += F2_S;
        TRY(f2_msg(w, t, "<13>1 2026-01-01T00:00:01Z f2host app - - - second"));
        TRY(f2_msg(w, t + 1, "<13>1 2026-01-01T00:00:01Z f2host app - - - third"));
        TRY(ls_chain_writer_flush(w, &s[0], t + 2, &f.h[1]));
        TRY(ls_chain_writer_seal(w, &s[0], t + 3));
        f.after_archive0 = *ls_chain_writer_position(w);
        t += F2_S;
        TRY(f2_cert(&f.cert[1], f.chain_id, f.k[1], 3, t + 1, f.k[0]));
        TRY(f2_msg(w, t, "<13>1 2026-01-01T00:00:02Z f2host app - - - last of epoch 0"));
        TRY(f2_transition(&f, w, t + 1, &f.cert[1], "scheduled epoch change"));
        TRY(ls_chain_writer_flush(w, &s[0], t + 2, &f.h[2]));
        t += F2_S;
        TRY(f2_close(&f.close[0], f.chain_id, f.k[0], &f.h[2], f.h[2].max_time_ns, NULL, t,
                     f.k[1]));
        TRY(f2_epoch_close(&f, w, t, &f.close[0]));
        TRY(f2_msg(w, t + 1, "<13>1 2026-01-01T00:00:03Z f2host app - - - first of epoch 1"));
        TRY(ls_chain_writer_flush(w, &s[1], t + 2, &f.h[3]));
        t += F2_S;
        TRY(f2_cert(&f.cert[2], f.chain_id, f.k[2], 5, t + 1, f.k[1]));
        TRY(f2_msg(w, t, "<13>1 2026-01-01T00:00:04Z f2host app - - - last of epoch 1"));
        TRY(f2_transition(&f, w, t + 1, &f.cert[2], "scheduled epoch change"));
        TRY(ls_chain_writer_flush(w, &s[1], t + 2, &f.h[4]));
        TRY(ls_chain_writer_seal(w, &s[1], t + 3));
        t += F2_S;
        TRY(f2_close(&f.close[1], f.chain_id, f.k[1], &f.h[4], f.h[4].max_time_ns, &f.close[0], t,
                     f.k[2]));
        TRY(f2_epoch_close(&f, w, t, &f.close[1]));
        ls_control_begin(f.cb, LS_CTL_STOP);
        ls_control_add_str(f.cb, LS_TAG_TEXT, "SIGTERM");
        TRY(f2_ctl(w, t + 1, f.cb));
        TRY(ls_chain_writer_flush(w, &s[2], t + 2, &f.h[5]));
        TRY(ls_chain_writer_seal(w, &s[2], t + 3));
        w = ls_chain_writer_free(w);

        /* key histories */
        {
                const LsCert *certs[] = {&f.cert[0], &f.cert[1], &f.cert[2]};
                const LsEpochClose *closes[] = {&f.close[0], &f.close[1]};
                LsEpochClose conflicting, self;
                const LsEpochClose *with_conflict[] = {&f.close[0], &f.close[1], &conflicting};
                const LsEpochClose *with_self[] = {&f.close[0], &f.close[1], &self};
                const LsCert *other[] = {&f.other_cert};

                TRY(f2_write_items("history.lsk", certs, 3, closes, 2, "CCXCX"));
                TRY(f2_write_items("history-no-closes.lsk", certs, 3, NULL, 0, "CCC"));
                /* a second close of epoch 0, signed by the genuine epoch-1 key, stating a
                 * later end: what a misused successor key would sign to make room for
                 * batches dated later */
                TRY(f2_close(&conflicting, f.chain_id, f.k[0], &f.h[2],
                             f.h[2].max_time_ns + F2_YEAR, NULL, f.close[0].issued_ns, f.k[1]));
                TRY(f2_write_items("history-conflicting-close.lsk", certs, 3, with_conflict, 3,
                                   "CCXCXX"));
                /* the holder of the erased epoch-0 key closing its own epoch at batch 4 */
                TRY(f2_close(&self, f.chain_id, f.k[0], &f.h[4], f.h[4].max_time_ns, NULL,
                             f.close[1].issued_ns, f.k[0]));
                TRY(f2_write_items("history-self-close.lsk", certs, 3, with_self, 3, "CCXCXX"));
                /* the genuine history of another appliance initialised with the same root */
                TRY(f2_write_items("history-other-chain.lsk", other, 1, NULL, 0, "C"));
        }

        /* forged with the erased epoch-0 key: archive 1 rebuilt after the genuine archive 0,
         * without the transition, then a batch a year later (after the close) */
        TRY(f2_writer(&w, scratchfd, f.chain_id, "format2-forged-salt-seed", &f.after_archive0));
        t = TU_T0 + 2 * F2_S;
        TRY(f2_msg(w, t, "<13>1 2026-01-01T00:00:02Z f2host app - - - rewritten by the thief"));
        TRY(ls_chain_writer_flush(w, &s[0], t + 2, &f.forged[0]));
        TRY(f2_clock_step(&f, w, t + 2, t + F2_YEAR));
        TRY(f2_msg(w, t + F2_YEAR + 1, "<13>1 2027-01-01T00:00:02Z f2host app - - - fabricated"));
        TRY(ls_chain_writer_flush(w, &s[0], t + F2_YEAR + 2, &f.forged[1]));
        TRY(ls_chain_writer_seal(w, &s[0], t + F2_YEAR + 3));
        w = ls_chain_writer_free(w);
        TRY(f2_take(scratchfd, scratch, f.chain_id, 1, "forged-after-close.lsa"));

        /* checkpoints (§7.3, §9.4): the close's head, one inside the closed epoch, and the two
         * the holder of the erased epoch-0 key can sign: of its rewritten batch 2 (the close's
         * batch number) and of its batch 3 (after the close) */
        {
                static const struct {
                        const char *name;
                        int which; /* 0..5 genuine batch, 6/7 forged batch 2/3 */
                } cps[] = {{"close-head.checkpoint", 2},
                           {"inside-closed-epoch.checkpoint", 1},
                           {"current.checkpoint", 5},
                           {"forged-rewrite.checkpoint", 6},
                           {"forged-after-close.checkpoint", 7}};
                char text[2048];
                for (size_t i = 0; i < ELEMENTSOF(cps); i++) {
                        const LsBatchHeader *h =
                                cps[i].which < 6 ? &f.h[cps[i].which] : &f.forged[cps[i].which - 6];
                        const LsKeyPair *k = cps[i].which < 6 ? f.k[h->epoch] : f.k[0];
                        int n = ls_batch_checkpoint(h, k->pk, text, sizeof(text));
                        TRY(n);
                        snprintf(path, sizeof(path), F2_DIR "/%s", cps[i].name);
                        TRY(tu_write_file(path, text, (size_t) n));
                }
        }

        /* forged with the erased epoch-0 key: archive 1 rebuilt after the genuine archive 0,
         * handing over in batch 2 to a rogue epoch-1 key, which closes epoch 0 as the
         * appliance would and goes on a year later */
        {
                LsKeyPair *rogue;
                LsSigner rs;
                LsCert rc;
                LsEpochClose rcl;
                LsBatchHeader h2;

                tu_seed(seed, "format2-rogue-epoch-key-1");
                TRY(ls_keypair_from_seed(&rogue, seed, 1));
                ls_signer_from_keypair(&rs, rogue);
                TRY(f2_writer(&w, scratchfd, f.chain_id, "format2-rogue-salt-seed",
                              &f.after_archive0));
                t = TU_T0 + 2 * F2_S;
                TRY(f2_cert(&rc, f.chain_id, rogue, 3, t + 1, f.k[0]));
                TRY(f2_msg(w, t, "<13>1 2026-01-01T00:00:02Z f2host app - - - rewritten"));
                TRY(f2_transition(&f, w, t + 1, &rc, "scheduled epoch change"));
                TRY(ls_chain_writer_flush(w, &s[0], t + 2, &h2));
                TRY(f2_close(&rcl, f.chain_id, f.k[0], &h2, h2.max_time_ns, NULL, t + F2_YEAR,
                             rogue));
                TRY(f2_clock_step(&f, w, t + 2, t + F2_YEAR));
                TRY(f2_epoch_close(&f, w, t + F2_YEAR, &rcl));
                TRY(f2_msg(w, t + F2_YEAR + 1,
                           "<13>1 2027-01-01T00:00:02Z f2host app - - - fabricated"));
                TRY(ls_chain_writer_flush(w, &rs, t + F2_YEAR + 2, NULL));
                TRY(ls_chain_writer_seal(w, &rs, t + F2_YEAR + 3));
                w = ls_chain_writer_free(w);
                ls_keypair_free(rogue);
                TRY(f2_take(scratchfd, scratch, f.chain_id, 1, "forged-rogue-successor.lsa"));
        }

        /* forged with the erased epoch-0 key: archive 0 with batch 1 dated a year later than
         * the close of epoch 0 allows (batch 0 as genuine, byte for byte) */
        TRY(f2_writer(&w, scratchfd, f.chain_id, "format2-salt-seed", NULL));
        t = TU_T0;
        TRY(f2_transition(&f, w, t, &f.cert[0], "initial signing key certified by the root key"));
        TRY(f2_start(&f, w, t));
        TRY(f2_msg(w, t + 1000, "<13>1 2026-01-01T00:00:00Z f2host app - - - first"));
        TRY(ls_chain_writer_flush(w, &s[0], t + 2000, NULL));
        TRY(f2_clock_step(&f, w, t + 2000, t + F2_YEAR));
        TRY(f2_msg(w, t + F2_YEAR + 1, "<13>1 2027-01-01T00:00:00Z f2host app - - - fabricated"));
        TRY(ls_chain_writer_flush(w, &s[0], t + F2_YEAR + 2, NULL));
        TRY(ls_chain_writer_seal(w, &s[0], t + F2_YEAR + 3));
        w = ls_chain_writer_free(w);
        TRY(f2_take(scratchfd, scratch, f.chain_id, 0, "forged-dated-after-close.lsa"));

        /* another appliance initialised with the same root writes a chain that carries this
         * chain's id, signed by its own key (certified for its own chain) */
        TRY(f2_writer(&w, scratchfd, f.chain_id, "format2-other-salt-seed", NULL));
        t = TU_T0;
        TRY(f2_transition(&f, w, t, &f.other_cert,
                          "initial signing key certified by the root key"));
        TRY(f2_start(&f, w, t));
        TRY(f2_msg(w, t + 1000, "<13>1 2026-01-01T00:00:00Z f2host app - - - from elsewhere"));
        TRY(ls_chain_writer_flush(w, &so, t + 2000, NULL));
        TRY(ls_chain_writer_seal(w, &so, t + 2001));
        w = ls_chain_writer_free(w);
        TRY(f2_take(scratchfd, scratch, f.chain_id, 0, "forged-other-chain.lsa"));
        close(scratchfd);
        (void) rmdir(scratch);

        /* known answers */
        e = fopen(F2_DIR "/expected.txt", "we");
        if (!e)
                return -errno;
        fprintf(e, "# Known answers for the format-2 vectors of formats/SPEC.md §13; regenerate "
                   "with gen-vectors.\n");
        f2_put_hex(e, "chain_id", f.chain_id, LS_CHAIN_ID_LEN);
        f2_put_hex(e, "root_key_id", f.root->key_id, LS_KEY_ID_LEN);
        for (int i = 0; i < 3; i++) {
                char key[64];
                uint8_t c[LS_CERT_LEN];
                snprintf(key, sizeof(key), "epoch%d_public_key", i);
                f2_put_hex(e, key, f.k[i]->pk, LS_PK_LEN);
                snprintf(key, sizeof(key), "epoch%d_key_id", i);
                f2_put_hex(e, key, f.k[i]->key_id, LS_KEY_ID_LEN);
                ls_cert_encode(&f.cert[i], c);
                snprintf(key, sizeof(key), "cert_epoch%d", i);
                f2_put_hex(e, key, c, LS_CERT_LEN);
        }
        for (int i = 0; i < 2; i++) {
                char key[64];
                uint8_t c[LS_CLOSE_LEN], h[LS_HASH_LEN];
                ls_close_encode(&f.close[i], c);
                snprintf(key, sizeof(key), "close_epoch%d", i);
                f2_put_hex(e, key, c, LS_CLOSE_LEN);
                ls_close_hash(&f.close[i], h);
                snprintf(key, sizeof(key), "close_epoch%d_hash", i);
                f2_put_hex(e, key, h, LS_HASH_LEN);
        }
        for (int i = 0; i < 6; i++) {
                char key[64];
                uint8_t enc[LS_BATCH_HEADER_LEN], hh[LS_HASH_LEN];
                ls_batch_header_encode(&f.h[i], enc);
                snprintf(key, sizeof(key), "batch%d_header", i);
                f2_put_hex(e, key, enc, sizeof(enc));
                ls_batch_header_hash(&f.h[i], hh);
                snprintf(key, sizeof(key), "batch%d_header_hash", i);
                f2_put_hex(e, key, hh, LS_HASH_LEN);
        }
        for (int i = 0; i < 3; i++) {
                char key[64];
                uint8_t *p, h[LS_HASH_LEN];
                size_t n;
                snprintf(path, sizeof(path), F2_DIR "/%s", an[i]);
                TRY(tu_read_file(path, 1 << 20, &p, &n));
                ls_sha256(h, p, n);
                free(p);
                snprintf(key, sizeof(key), "archive%d_sha256", i);
                f2_put_hex(e, key, h, LS_HASH_LEN);
        }
        fclose(e);

        /* forgeries.txt: archives and the key history given with them (SPEC §13) */
#define F2P F2_DIR "/%s"
        fprintf(fl, "format2-genuine|" F2P "," F2P "," F2P "|-|intact|-\n", an[0], an[1], an[2]);
        fprintf(fl,
                "format2-genuine-history|" F2P "," F2P "," F2P "|" F2_DIR "/history.lsk|intact|-\n",
                an[0], an[1], an[2]);
        fprintf(fl, "format2-truncated|" F2P "|" F2_DIR "/history.lsk|gap|truncated chain\n",
                an[0]);
        /* the close of epoch 1 is sealed as the first record of batch 5 and appended to the
         * history only once batch 5 is durable (§9.4 Writer): the history proves batch 5 */
        fprintf(fl,
                "format2-last-archive-removed|" F2P "," F2P "|" F2_DIR
                "/history.lsk|gap|truncated chain\n",
                an[0], an[1]);
        fprintf(fl,
                "format2-unbound-tail|" F2P "," F2P "|" F2_DIR
                "/history-no-closes.lsk|partial|epoch close\n",
                an[0], an[1]);
        fprintf(fl,
                "format2-after-close|" F2P "," F2_DIR "/forged-after-close.lsa|" F2_DIR
                "/history.lsk|tampered|epoch close\n",
                an[0]);
        fprintf(fl,
                "format2-after-close-no-history|" F2P "," F2_DIR
                "/forged-after-close.lsa|-|intact|-\n",
                an[0]);
        fprintf(fl,
                "format2-rogue-successor|" F2P "," F2_DIR "/forged-rogue-successor.lsa|" F2_DIR
                "/history.lsk|tampered|epoch close\n",
                an[0]);
        fprintf(fl,
                "format2-rogue-successor-no-history|" F2P "," F2_DIR
                "/forged-rogue-successor.lsa|-|intact|-\n",
                an[0]);
        fprintf(fl, "format2-dated-after-close|" F2_DIR "/forged-dated-after-close.lsa|" F2_DIR
                    "/history.lsk|tampered|epoch close\n");
        fprintf(fl, "format2-dated-after-close-no-history|" F2_DIR
                    "/forged-dated-after-close.lsa|-|intact|-\n");
        fprintf(fl,
                "format2-conflicting-close|" F2P "," F2P "," F2P "|" F2_DIR
                "/history-conflicting-close.lsk|tampered|epoch close\n",
                an[0], an[1], an[2]);
        fprintf(fl,
                "format2-self-close|" F2P "," F2P "," F2P "|" F2_DIR
                "/history-self-close.lsk|error|-\n",
                an[0], an[1], an[2]);
        fprintf(fl,
                "format2-other-chain|" F2_DIR "/forged-other-chain.lsa|-|tampered|signing key\n");
        fprintf(fl, "format2-other-chain-history|" F2_DIR "/forged-other-chain.lsa|" F2_DIR
                    "/history-other-chain.lsk|tampered|archive header key\n");
        fprintf(fl,
                "format2-genuine-other-history|" F2P "," F2P "," F2P "|" F2_DIR
                "/history-other-chain.lsk|intact|-\n",
                an[0], an[1], an[2]);
#undef F2P

        close(dirfd);
        free(f.cb);
        ls_keypair_free(f.root);
        ls_keypair_free(f.other);
        for (int i = 0; i < 3; i++)
                ls_keypair_free(f.k[i]);
        return 0;
}


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
static int make_format3(FILE *fl)
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

int make_format4(FILE *fl); /* gen-vectors-dict.c: format 4, SPEC §8.6 */

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
                ls_signer_from_keypair(&s1, g.epoch1);
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
                        ls_signer_from_keypair(&s0, g.epoch0);
                        memset(&rc, 0, sizeof(rc));
                        rc.kind = LS_CERT_SIGNING;
                        memcpy(rc.chain_id, g.chain_id, LS_CHAIN_ID_LEN);
                        memcpy(rc.pk, rogue1->pk, LS_PK_LEN);
                        rc.epoch = 1;
                        rc.valid_from_batch = 4;
                        rc.issued_ns = TU_T0;
                        TRY(ls_cert_sign(&rc, &rs));
                        ls_cert_encode(&rc, rcb);
                        ls_batch_header_hash(&g.batches[2], prev);
                        TRY(ls_batch_builder_new(&bb, g.chain_id, 3, 1 << 20, 1000));
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
                        ls_signer_from_keypair(&s0, g.epoch0);
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

                        for (uint64_t i = 0; i < g.batches[1].tree_size; i++)
                                TRY(ls_merkle_append(&tree, leaves[i]));
                        ls_batch_header_hash(&g.batches[1], prev);
                        ls_signer_from_keypair(&s0, g.epoch0);
                        tu_seed(seed2, "rogue-epoch-1b");
                        TRY(ls_keypair_from_seed(&rogue_key, seed2, 1));
                        tu_seed(seed2, "rogue-root");
                        TRY(ls_keypair_from_seed(&rogue_root, seed2, 0));
                        ls_signer_from_keypair(&rrs, rogue_root);
                        memset(&rc, 0, sizeof(rc));
                        rc.kind = LS_CERT_SIGNING;
                        memcpy(rc.chain_id, g.chain_id, LS_CHAIN_ID_LEN);
                        memcpy(rc.pk, rogue_key->pk, LS_PK_LEN);
                        rc.epoch = 1;
                        rc.valid_from_batch = 4;
                        rc.issued_ns = TU_T0;
                        TRY(ls_batch_builder_new(&bb, g.chain_id, 3, 1 << 20, 1000));
                        tu_seed(seed2, "salt-seed-2-forged");
                        ls_batch_builder_begin(bb, 0, 2, g.batches[1].tree_size, prev, seed2);
                        rec = tu_udp4(TU_T0 + 2000000000ull, "198.51.100.7", 51514,
                                      "<165>1 2026-01-01T00:00:02Z r1 - - - ok");
                        TRY(ls_batch_builder_add(bb, &rec));
                        if (variant == 0) {
                                /* issuer: the root's id; signature: the epoch-0 key's */
                                TRY(ls_cert_sign(&rc, &s0));
                                memcpy(rc.issuer_key_id, g.root->key_id, LS_KEY_ID_LEN);
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
                        for (uint64_t i = ah.first_seq; i < g.batches[3].tree_size; i++)
                                TRY(ls_merkle_append(&tree, leaves[i]));
                        ls_batch_header_hash(&g.batches[3], prev);
                        ls_signer_from_keypair(&fs1, g.epoch1);
                        TRY(ls_batch_builder_new(&bb, g.chain_id, 3, 1 << 20, 1000));
                        tu_seed(seed2, "salt-seed-4");
                        ls_batch_builder_begin(bb, 1, 4, g.batches[3].tree_size, prev, seed2);
                        rec = tu_udp4(TU_T0 + 4000000000ull, "198.51.100.7", 51514,
                                      "<165>1 2026-01-01T00:00:04Z r1 - - - a rewritten history");
                        TRY(ls_batch_builder_add(bb, &rec));
                        ls_control_begin(cb, LS_CTL_STOP);
                        TRY(tu_control(&rec, TU_T0 + 4000000001ull, cb));
                        TRY(ls_batch_builder_add(bb, &rec));
                        TRY(ls_batch_builder_finish(bb, &tree, &fs1, &fh, &fb, &flen));
                        nn = ls_batch_checkpoint(&fh, g.epoch1->pk, note, sizeof(note));
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

                        memcpy(rv.chain_id, g.chain_id, LS_CHAIN_ID_LEN);
                        memcpy(rv.revoked_key_id, g.epoch0->key_id, LS_KEY_ID_LEN);
                        rv.reason_len = (uint16_t) strlen(rv.reason);
                        ls_signer_from_keypair(&rs, g.root);
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
        }
        if (make_format2(fl) != 0)
                return 1;
        if (make_format3(fl) != 0)
                return 1;
        if (make_format4(fl) != 0) /* gen-vectors-dict.c */
                return 1;
        fclose(fl);
        TRY(make_bundle(&g));
        fclose(expected);
        free(b0);
        free(b1);
        tu_golden_free(&g);
        return 0;
}
