/* SPDX-License-Identifier: Apache-2.0 */
/* gen-vectors, format 2: epochs that end with signed closes (main is in gen-vectors.c) */
#include "gen-vectors.h"

/* ---- format 2 (SPEC §9.4): a chain whose epochs end with signed closes ---- */

#define F2_DIR "format2"
#define F2_YEAR (UINT64_C(365) * 86400 * F2_S)

void f2_seed(void *ud, uint64_t batch_no, uint8_t out[LS_HASH_LEN])
{
        char name[96];

        snprintf(name, sizeof(name), "%s-%" PRIu64, (const char *) ud, batch_no);
        tu_seed(out, name);
}

/* A kind-1 certificate with the CLOSED flag (format 2). */
int f2_cert(LsCert *c, const uint8_t chain_id[LS_CHAIN_ID_LEN], const LsKeyPair *subject,
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

int f2_msg(LsChainWriter *w, uint64_t t, const char *msg)
{
        LsRecord r = tu_udp4(t, "203.0.113.5", 514, msg);
        return ls_chain_writer_add(w, &r);
}

int f2_ctl(LsChainWriter *w, uint64_t t, LsControlBuilder *b)
{
        LsRecord r;
        int k = tu_control(&r, t, b);

        return k < 0 ? k : ls_chain_writer_add(w, &r);
}

int f2_transition(F2 *f, LsChainWriter *w, uint64_t t, const LsCert *c, const char *text)
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

int f2_start(F2 *f, LsChainWriter *w, uint64_t t)
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

void f2_put_hex(FILE *e, const char *name, const uint8_t *p, size_t n)
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
int make_format2(FILE *fl)
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
