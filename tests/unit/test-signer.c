/* SPDX-License-Identifier: Apache-2.0 */
/* test-signer: the signer process (daemon/signer.c) through its client API, on a temporary
 * keys/ directory: what it signs and refuses, key files and erasure, the admin handover. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "batch.h"
#include "checkpoint.h"
#include "defs.h"
#include "hash.h"
#include "keys.h"
#include "signer.h"
#include "state.h"
#include "util.h"
#include "tu-check.h"

static const uint8_t chain_id[LS_CHAIN_ID_LEN] = {0xc4, 0xa1, 0x17};

typedef struct Fixture {
        char dir[64];
        int dirfd;
        LsKeyPair *k0;
        Signer *s;
        SignerKey cur;
} Fixture;

static void setup(Fixture *f)
{
        uint8_t file[LS_SECRET_FILE_LEN];
        SignerKey next;
        int has_next = -1;

        snprintf(f->dir, sizeof(f->dir), "/tmp/logseal-signer-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(f->dir));
        f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(f->dirfd, 0);
        ck_assert_int_eq(mkdirat(f->dirfd, STATE_KEYS_DIR, 0700), 0);
        ck_assert_int_eq(ls_keypair_generate(&f->k0, 1), 0);
        ck_assert_int_eq(ls_seckey_encode(f->k0, NULL, 0, 0, file), 0);
        ck_assert_int_eq(write_file_atomic(f->dirfd, STATE_SIGNING_KEY, file, sizeof(file), 0600), 0);
        ck_assert_int_eq(signer_spawn(&f->s, f->dirfd, chain_id), 0);
        ck_assert_int_eq(signer_load(f->s, &f->cur, &next, &has_next), 0);
        ck_assert_int_eq(has_next, 0);
        f->cur.epoch = 1;
}

static void teardown(Fixture *f)
{
        char cmd[128];

        signer_free(f->s);
        ls_keypair_free(f->k0);
        close(f->dirfd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        ck_assert_int_eq(system(cmd), 0);
}

static int exists(Fixture *f, const char *name)
{
        return faccessat(f->dirfd, name, F_OK, 0) == 0;
}

START_TEST(loads_the_key_and_signs_only_what_the_sealer_signs)
{
        Fixture f;
        LsSigner s;
        uint8_t sig[LS_SIG_LEN], msg[200];
        char note[128];
        int n;

        setup(&f);
        /* Landlock in this kernel: the signer confined itself to keys/ */
        if (syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) > 0)
                ck_assert_int_eq(signer_confined(f.s), 1);
        ck_assert_mem_eq(f.cur.pk, f.k0->pk, LS_PK_LEN);
        ck_assert_mem_eq(f.cur.key_id, f.k0->key_id, LS_KEY_ID_LEN);
        signer_bind(f.s, &f.cur, &s);
        memset(msg, 'x', sizeof(msg));
        /* an archive header and a seal trailer: signed, and the signature verifies */
        ck_assert_int_eq(ls_sign(&s, LS_CTX_ARCHIVE_HEADER, msg, sizeof(msg), sig), 0);
        ck_assert_int_eq(ls_verify(f.k0->pk, LS_CTX_ARCHIVE_HEADER, msg, sizeof(msg), sig), 0);
        ck_assert_int_eq(ls_sign(&s, LS_CTX_SEAL, msg, sizeof(msg), sig), 0);
        ck_assert_int_eq(ls_verify(f.k0->pk, LS_CTX_SEAL, msg, sizeof(msg), sig), 0);
        /* a checkpoint note handed over as bytes, of this chain or another: refused (batch
         * headers only, see below) */
        {
                char hex[2 * LS_CHAIN_ID_LEN + 1];
                ls_hex(hex, chain_id, LS_CHAIN_ID_LEN);
                n = snprintf(note, sizeof(note), "logseal/%s\n7\nroot\n", hex);
        }
        ck_assert_int_eq(ls_sign(&s, NULL, (const uint8_t *) note, (size_t) n, sig), -EPERM);
        note[9] = '5';
        ck_assert_int_eq(ls_sign(&s, NULL, (const uint8_t *) note, (size_t) n, sig), -EPERM);
        /* certificates, revocations and anything else: refused */
        ck_assert_int_eq(ls_sign(&s, LS_CTX_CERT, msg, sizeof(msg), sig), -EPERM);
        ck_assert_int_eq(ls_sign(&s, LS_CTX_REVOCATION, msg, sizeof(msg), sig), -EPERM);
        ck_assert_int_eq(ls_sign(&s, NULL, msg, sizeof(msg), sig), -EPERM);
        /* a key it does not hold */
        {
                SignerKey other = f.cur;
                LsSigner o;
                other.key_id[0] ^= 1;
                signer_bind(f.s, &other, &o);
                ck_assert_int_eq(ls_sign(&o, LS_CTX_SEAL, msg, sizeof(msg), sig), -ENOKEY);
        }
        teardown(&f);
}
END_TEST

/* What a compromised ingest process would ask for to stockpile checkpoints: signed notes for
 * tree sizes and batches the chain has not reached, 3-line or 4-line. None is signed. */
START_TEST(checkpoint_notes_as_bytes_are_never_signed)
{
        Fixture f;
        LsSigner s;
        uint8_t sig[LS_SIG_LEN], root[LS_HASH_LEN] = {1}, hh[LS_HASH_LEN] = {2};
        char body[LS_NOTE_BODY_MAX];
        int n;

        setup(&f);
        signer_bind(f.s, &f.cur, &s);
        for (uint64_t size = 1; size < 1u << 30; size *= 1000) {
                n = ls_checkpoint_body(body, sizeof(body), chain_id, size, root, size / 10, hh);
                ck_assert_int_gt(n, 0);
                /* the 4-line note of batch size/10 */
                ck_assert_int_eq(ls_sign(&s, NULL, (const uint8_t *) body, (size_t) n, sig),
                                 -EPERM);
                /* and its first three lines (a note without the logseal-batch-v1 line) */
                {
                        char *nl = strchr(strchr(strchr(body, '\n') + 1, '\n') + 1, '\n');
                        ck_assert_int_eq(ls_sign(&s, NULL, (const uint8_t *) body,
                                                 (size_t) (nl + 1 - body), sig),
                                         -EPERM);
                }
        }
        teardown(&f);
}
END_TEST

/* A batch header of `f`'s chain, signed by key k, extending (batch_no, first_seq, prev). */
static LsBatchHeader header(const SignerKey *k, uint64_t batch_no, uint64_t first_seq,
                            uint32_t count, const uint8_t prev[LS_HASH_LEN])
{
        LsBatchHeader h = {.batch_no = batch_no, .first_seq = first_seq, .record_count = count,
                           .tree_size = first_seq + count, .epoch = k->epoch,
                           .payload_raw_len = count * 200, .payload_len = 100,
                           .min_time_ns = 1, .max_time_ns = 2};

        memcpy(h.chain_id, chain_id, LS_CHAIN_ID_LEN);
        memcpy(h.key_id, k->key_id, LS_KEY_ID_LEN);
        memcpy(h.prev_header_hash, prev, LS_HASH_LEN);
        h.tree_root[0] = (uint8_t) batch_no;
        return h;
}

START_TEST(batch_headers_are_signed_only_where_the_chain_continues)
{
        Fixture f;
        LsChainPosition pos = {.batch_no = 5};
        LsBatchHeader h, bad;
        uint8_t prev[LS_HASH_LEN];
        char note[LS_MAX_CHECKPOINT_TEXT];
        LsCheckpoint cp;
        int n;

        setup(&f);
        pos.tree.size = 100;
        memset(pos.prev_header_hash, 0xab, LS_HASH_LEN);
        h = header(&f.cur, 5, 100, 10, pos.prev_header_hash);
        /* before the chain position is known: nothing */
        ck_assert_int_eq(signer_sign_batch(f.s, &h), -ESTALE);
        ck_assert_int_eq(signer_set_position(f.s, &pos), 0);
        /* set once: a compromised ingest process cannot move it */
        ck_assert_int_eq(signer_set_position(f.s, &pos), -EALREADY);

        /* the next header: signed, and its signature is the 4-line checkpoint of the header */
        ck_assert_int_eq(signer_sign_batch(f.s, &h), 0);
        ck_assert_int_eq(ls_batch_header_verify(&h, f.k0->pk), 0);
        n = ls_batch_checkpoint(&h, f.k0->pk, note, sizeof(note));
        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, note, (size_t) n, NULL), 0);
        ck_assert(cp.has_batch);
        ck_assert_int_eq(cp.batch_no, 5);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, note, f.k0->pk), 0);
        ls_batch_header_hash(&h, prev);

        /* refused: the same batch again (another checkpoint for batch 5), a batch further on,
         * a header that does not start at the tree size reached or does not name the
         * previous header, another chain, a key id it does not name, a key it does not hold */
        bad = header(&f.cur, 5, 100, 11, pos.prev_header_hash);
        ck_assert_int_eq(signer_sign_batch(f.s, &bad), -EPERM);
        bad = header(&f.cur, 7, 110, 10, prev);
        ck_assert_int_eq(signer_sign_batch(f.s, &bad), -EPERM);
        bad = header(&f.cur, 6, 1000000, 10, prev);
        ck_assert_int_eq(signer_sign_batch(f.s, &bad), -EPERM);
        bad = header(&f.cur, 6, 109, 10, prev);
        ck_assert_int_eq(signer_sign_batch(f.s, &bad), -EPERM);
        bad = header(&f.cur, 6, 110, 10, pos.prev_header_hash);
        ck_assert_int_eq(signer_sign_batch(f.s, &bad), -EPERM);
        bad = header(&f.cur, 6, 110, 10, prev);
        bad.chain_id[0] ^= 1;
        ck_assert_int_eq(signer_sign_batch(f.s, &bad), -EPERM);
        {
                SignerKey other = f.cur;
                other.key_id[0] ^= 1;
                bad = header(&other, 6, 110, 10, prev);
                ck_assert_int_eq(signer_sign_batch(f.s, &bad), -ENOKEY);
        }
        /* a malformed header (tree size not first_seq + count) */
        bad = header(&f.cur, 6, 110, 10, prev);
        bad.tree_size = 5000;
        ck_assert_int_eq(signer_sign_batch(f.s, &bad), -EBADMSG);
        /* none of that moved the position: the genuine next header is signed */
        h = header(&f.cur, 6, 110, 3, prev);
        ck_assert_int_eq(signer_sign_batch(f.s, &h), 0);
        ck_assert_int_eq(ls_batch_header_verify(&h, f.k0->pk), 0);
        /* and the one it replaced is history */
        h = header(&f.cur, 6, 110, 3, prev);
        ck_assert_int_eq(signer_sign_batch(f.s, &h), -EPERM);
        teardown(&f);
}
END_TEST

/* The chain's first batch: position zero, no previous header. */
START_TEST(the_first_batch_of_a_chain)
{
        Fixture f;
        LsChainPosition pos = {};
        uint8_t zero[LS_HASH_LEN] = {0};
        LsBatchHeader h;

        setup(&f);
        ls_merkle_init(&pos.tree);
        ck_assert_int_eq(signer_set_position(f.s, &pos), 0);
        h = header(&f.cur, 0, 0, 1, zero);
        ck_assert_int_eq(signer_sign_batch(f.s, &h), 0);
        ck_assert_int_eq(ls_batch_header_verify(&h, f.k0->pk), 0);
        teardown(&f);
}
END_TEST

START_TEST(an_epoch_change_certifies_writes_and_erases)
{
        Fixture f;
        LsCert c;
        SignerKey next = {0};
        LsSigner s;
        struct stat st;
        uint8_t sig[LS_SIG_LEN], msg[8] = "trailer";

        setup(&f);
        ck_assert_int_eq(signer_prepare_next(f.s, 2, 42, &c), 0);
        ck_assert_int_eq(ls_cert_verify(&c, f.k0->pk), 0);
        ck_assert_int_eq(c.epoch, 2);
        ck_assert_int_eq(c.valid_from_batch, 42);
        ck_assert_int_eq(c.flags, LS_CERT_F_CLOSED); /* its epoch will be closed (SPEC §9.4) */
        ck_assert_mem_eq(c.chain_id, chain_id, LS_CHAIN_ID_LEN);
        ck_assert_mem_eq(c.issuer_key_id, f.k0->key_id, LS_KEY_ID_LEN);
        ck_assert_int_eq(fstatat(f.dirfd, STATE_NEXT_KEY, &st, 0), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
        {
                LsCert h;
                ck_assert_int_eq(state_find_cert(f.dirfd, c.key_id, &h), 0);
                ck_assert_mem_eq(h.pk, c.pk, LS_PK_LEN);
        }
        /* a second change before the first finished: refused */
        ck_assert_int_eq(signer_prepare_next(f.s, 3, 50, &c) == -EBUSY, 1);
        /* both keys sign while the transition is pending */
        memcpy(next.pk, c.pk, LS_PK_LEN);
        memcpy(next.key_id, c.key_id, LS_KEY_ID_LEN);
        next.epoch = 2;
        signer_bind(f.s, &next, &s);
        ck_assert_int_eq(ls_sign(&s, LS_CTX_SEAL, msg, sizeof(msg), sig), 0);
        ck_assert_int_eq(ls_verify(c.pk, LS_CTX_SEAL, msg, sizeof(msg), sig), 0);
        /* finish: the old key's file is gone, the next one took its name, the old key no
         * longer signs */
        ck_assert_int_eq(signer_finish(f.s), 0);
        ck_assert(!exists(&f, STATE_NEXT_KEY));
        {
                LsKeyPair *k = NULL;
                ck_assert_int_eq(state_load_signing_key(f.dirfd, &k), 0);
                ck_assert_mem_eq(k->pk, c.pk, LS_PK_LEN);
                ls_keypair_free(k);
        }
        signer_bind(f.s, &f.cur, &s);
        ck_assert_int_eq(ls_sign(&s, LS_CTX_SEAL, msg, sizeof(msg), sig), -ENOKEY);
        teardown(&f);
}
END_TEST

START_TEST(an_admin_handover_takes_only_a_certificate_for_the_generated_key)
{
        Fixture f;
        SignerKey g;
        LsKeyPair *root = NULL;
        LsSigner rs;
        LsCert c = {.kind = LS_CERT_SIGNING};

        setup(&f);
        ck_assert_int_eq(ls_keypair_generate(&root, 0), 0);
        ls_signer_from_keypair(&rs, root);
        ck_assert_int_eq(signer_generate(f.s, 2, &g), 0);
        ck_assert(!exists(&f, STATE_NEXT_KEY)); /* in memory only until certified */
        memcpy(c.chain_id, chain_id, LS_CHAIN_ID_LEN);
        c.epoch = 2;
        c.valid_from_batch = 9;
        /* a certificate for some other key: refused, nothing written */
        memcpy(c.pk, root->pk, LS_PK_LEN);
        ck_assert_int_eq(ls_cert_sign(&c, &rs), 0);
        ck_assert_int_eq(signer_install(f.s, &c), -EINVAL);
        ck_assert(!exists(&f, STATE_NEXT_KEY));
        /* for another chain: refused */
        memcpy(c.pk, g.pk, LS_PK_LEN);
        c.chain_id[0] ^= 1;
        ck_assert_int_eq(ls_cert_sign(&c, &rs), 0);
        ck_assert_int_eq(signer_install(f.s, &c), -EINVAL);
        c.chain_id[0] ^= 1;
        ck_assert_int_eq(ls_cert_sign(&c, &rs), 0);
        ck_assert_int_eq(signer_install(f.s, &c), 0);
        ck_assert(exists(&f, STATE_NEXT_KEY));
        ck_assert_int_eq(signer_finish(f.s), 0);
        {
                LsKeyPair *k = NULL;
                ck_assert_int_eq(state_load_signing_key(f.dirfd, &k), 0);
                ck_assert_mem_eq(k->pk, g.pk, LS_PK_LEN);
                ls_keypair_free(k);
        }
        /* a reservation that expires: the generated key is forgotten */
        ck_assert_int_eq(signer_generate(f.s, 3, &g), 0);
        ck_assert_int_eq(signer_discard(f.s), 0);
        ck_assert_int_eq(signer_install(f.s, &c), -ESTALE);
        ls_keypair_free(root);
        teardown(&f);
}
END_TEST

START_TEST(a_restart_finishes_an_interrupted_erasure)
{
        Fixture f;
        LsCert c;
        SignerKey cur, next;
        int has_next = -1;

        setup(&f);
        ck_assert_int_eq(signer_prepare_next(f.s, 2, 5, &c), 0);
        signer_free(f.s);
        /* killed after the old key was overwritten, before it was unlinked */
        {
                uint8_t zero[LS_SECRET_FILE_LEN] = {0};
                int fd = openat(f.dirfd, STATE_SIGNING_KEY, O_WRONLY | O_CLOEXEC);
                ck_assert_int_ge(fd, 0);
                ck_assert_int_eq(write(fd, zero, sizeof(zero)), (ssize_t) sizeof(zero));
                close(fd);
        }
        ck_assert_int_eq(signer_spawn(&f.s, f.dirfd, chain_id), 0);
        ck_assert_int_eq(signer_load(f.s, &cur, &next, &has_next), 0);
        ck_assert_mem_eq(cur.pk, c.pk, LS_PK_LEN);
        ck_assert_int_eq(has_next, 0);
        ck_assert(!exists(&f, STATE_NEXT_KEY));
        teardown(&f);
}
END_TEST

START_TEST(a_pending_next_key_is_reported_at_load)
{
        Fixture f;
        LsCert c;
        SignerKey cur, next;
        int has_next = -1;

        setup(&f);
        ck_assert_int_eq(signer_prepare_next(f.s, 2, 5, &c), 0);
        signer_free(f.s);
        ck_assert_int_eq(signer_spawn(&f.s, f.dirfd, chain_id), 0);
        ck_assert_int_eq(signer_load(f.s, &cur, &next, &has_next), 0);
        ck_assert_mem_eq(cur.pk, f.k0->pk, LS_PK_LEN);
        ck_assert_int_eq(has_next, 1);
        ck_assert_mem_eq(next.pk, c.pk, LS_PK_LEN);
        /* loading twice is refused */
        ck_assert_int_eq(signer_load(f.s, &cur, &next, &has_next), -EALREADY);
        teardown(&f);
}
END_TEST

START_TEST(a_torn_history_append_is_cut_at_load_and_other_damage_left_alone)
{
        Fixture f;
        LsCert c, found;
        SignerKey cur, next;
        struct stat st;
        size_t cut = 0;
        int has_next, fd;

        setup(&f);
        ck_assert_int_eq(signer_prepare_next(f.s, 2, 5, &c), 0); /* one complete item */
        ck_assert_int_eq(signer_discard(f.s), 0);
        signer_free(f.s);
        ck_assert_int_eq(fstatat(f.dirfd, STATE_HISTORY, &st, 0), 0);
        ck_assert_int_eq(st.st_size, LS_CERT_LEN);
        /* a crash halfway through appending the next certificate */
        {
                uint8_t enc[LS_CERT_LEN];
                ls_cert_encode(&c, enc);
                fd = openat(f.dirfd, STATE_HISTORY, O_WRONLY | O_APPEND | O_CLOEXEC);
                ck_assert_int_ge(fd, 0);
                ck_assert_int_eq(write(fd, enc, 100), 100);
                close(fd);
        }
        ck_assert_int_eq(state_find_cert(f.dirfd, c.key_id, &found), -EBADMSG);
        ck_assert_int_eq(signer_spawn(&f.s, f.dirfd, chain_id), 0);
        ck_assert_int_eq(signer_load(f.s, &cur, &next, &has_next), 0);
        ck_assert_int_eq(fstatat(f.dirfd, STATE_HISTORY, &st, 0), 0);
        ck_assert_int_eq(st.st_size, LS_CERT_LEN);
        ck_assert_int_eq(state_find_cert(f.dirfd, c.key_id, &found), 0);
        /* three bytes of a magic are torn too; three bytes of anything else are damage */
        fd = openat(f.dirfd, STATE_HISTORY, O_WRONLY | O_APPEND | O_CLOEXEC);
        ck_assert_int_eq(write(fd, "\x89LS", 3), 3);
        ck_assert_int_eq(state_repair_history(f.dirfd, &cut), 1);
        ck_assert_int_eq(cut, 3);
        ck_assert_int_eq(write(fd, "XYZ", 3), 3);
        close(fd);
        ck_assert_int_eq(state_repair_history(f.dirfd, &cut), -EBADMSG);
        ck_assert_int_eq(fstatat(f.dirfd, STATE_HISTORY, &st, 0), 0);
        ck_assert_int_eq(st.st_size, LS_CERT_LEN + 3);
        teardown(&f);
}
END_TEST

/* ---- epoch closes (SPEC §9.4) ---- */

/* The history of a chain whose epoch-1 key k0 (root-certified, valid from batch 3) is the
 * fixture's current key. */
static void certify_k0(Fixture *f, LsKeyPair **root)
{
        LsCert c = {.kind = LS_CERT_SIGNING, .epoch = 1, .valid_from_batch = 3, .issued_ns = 1};
        uint8_t enc[LS_CERT_LEN];
        LsSigner rs;

        ck_assert_int_eq(ls_keypair_generate(root, 0), 0);
        ls_signer_from_keypair(&rs, *root);
        memcpy(c.chain_id, chain_id, LS_CHAIN_ID_LEN);
        memcpy(c.pk, f->k0->pk, LS_PK_LEN);
        ck_assert_int_eq(ls_cert_sign(&c, &rs), 0);
        ls_cert_encode(&c, enc);
        ck_assert_int_eq(state_append_history(f->dirfd, enc, sizeof(enc)), 0);
}

/* A structurally valid batch header of this chain, signed by kp for `epoch`. */
static LsBatchHeader header_of(LsKeyPair *kp, uint64_t epoch, uint64_t batch_no,
                               uint64_t max_time_ns, uint8_t tag)
{
        LsBatchHeader h = {.archive_no = 1, .batch_no = batch_no, .first_seq = 10 * batch_no,
                           .record_count = 3, .payload_raw_len = 600,
                           .min_time_ns = max_time_ns - 5, .max_time_ns = max_time_ns,
                           .payload_len = 80};
        LsSigner s;

        memcpy(h.chain_id, chain_id, LS_CHAIN_ID_LEN);
        h.tree_size = h.first_seq + h.record_count;
        memset(h.tree_root, tag, LS_HASH_LEN);
        memset(h.prev_header_hash, 0x11, LS_HASH_LEN);
        memset(h.payload_hash, tag ^ 0x5a, LS_HASH_LEN);
        ls_signer_from_keypair(&s, kp);
        s.epoch = epoch;
        ck_assert_int_eq(ls_batch_header_sign(&h, &s), 0);
        return h;
}

static off_t history_size(Fixture *f)
{
        struct stat st;

        ck_assert_int_eq(fstatat(f->dirfd, STATE_HISTORY, &st, 0), 0);
        return st.st_size;
}

/* The chain stands at h: the archives' last batch when the signer starts. */
static void position_at(Fixture *f, const LsBatchHeader *h)
{
        LsChainPosition pos = {.batch_no = h->batch_no + 1};

        pos.tree.size = h->tree_size;
        ls_batch_header_hash(h, pos.prev_header_hash);
        ck_assert_int_eq(signer_set_position(f->s, &pos), 0);
}

static void restart(Fixture *f)
{
        SignerKey cur, next;
        int has_next;

        signer_free(f->s);
        ck_assert_int_eq(signer_spawn(&f->s, f->dirfd, chain_id), 0);
        ck_assert_int_eq(signer_load(f->s, &cur, &next, &has_next), 0);
}

START_TEST(an_epoch_close_is_signed_by_the_successor_for_the_last_batch_of_its_epoch_only)
{
        Fixture f;
        LsKeyPair *root = NULL, *rogue = NULL;
        LsCert c1;
        LsEpochClose x, again;
        LsBatchHeader h9, h;
        uint8_t hh[LS_HASH_LEN], a[LS_CLOSE_LEN], b[LS_CLOSE_LEN];
        off_t before;

        setup(&f);
        certify_k0(&f, &root);
        ck_assert_int_eq(signer_prepare_next(f.s, 2, 10, &c1), 0);
        ck_assert_int_eq(c1.flags, LS_CERT_F_CLOSED);
        h9 = header_of(f.k0, 1, 9, 5000, 0x21);
        /* While the change is pending the current key cannot close its own epoch. */
        ck_assert_int_eq(signer_close(f.s, f.k0->key_id, &h9, 0, &x), -EPERM);
        ck_assert_int_eq(signer_finish(f.s), 0);
        /* Nothing before the chain position is known. */
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h9, 0, &x), -ESTALE);
        position_at(&f, &h9);
        before = history_size(&f);

        /* Refused: not the last batch of epoch 1, the wrong epoch in the header, a key the
         * history does not certify for epoch 1, a header whose signature does not verify,
         * another chain, another batch 9 than where the chain stands (a copy of the erased
         * key made it), an issuer the signer does not hold. Nothing is written. */
        h = header_of(f.k0, 1, 8, 5000, 0x21);
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h, 0, &x), -EPERM);
        h = header_of(f.k0, 2, 9, 5000, 0x21);
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h, 0, &x), -EPERM);
        ck_assert_int_eq(ls_keypair_generate(&rogue, 1), 0);
        h = header_of(rogue, 1, 9, 5000, 0x21);
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h, 0, &x), -EPERM);
        h = h9;
        h.max_time_ns++;
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h, 0, &x), -EPERM);
        h = header_of(f.k0, 1, 9, 5000, 0x21);
        h.chain_id[0] ^= 1;
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h, 0, &x), -EPERM);
        h = header_of(f.k0, 1, 9, 99999, 0x77);
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h, 0, &x), -EPERM);
        ck_assert_int_eq(signer_close(f.s, f.k0->key_id, &h9, 0, &x), -ENOKEY);
        ck_assert_int_eq(history_size(&f), before);

        /* The close: by the epoch-2 key, of batch 9, its tree head and header, and the
         * larger of the sealer's time and the header's; epoch 0 has no close here. */
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h9, 4000, &x), 0);
        ck_assert_int_eq(ls_close_verify(&x, c1.pk), 0);
        ck_assert_mem_eq(x.chain_id, chain_id, LS_CHAIN_ID_LEN);
        ck_assert_mem_eq(x.closed_key_id, f.k0->key_id, LS_KEY_ID_LEN);
        ck_assert_int_eq(x.closed_epoch, 1);
        ck_assert_int_eq(x.last_batch_no, 9);
        ck_assert_int_eq(x.tree_size, h9.tree_size);
        ck_assert_mem_eq(x.tree_root, h9.tree_root, LS_HASH_LEN);
        ls_batch_header_hash(&h9, hh);
        ck_assert_mem_eq(x.last_header_hash, hh, LS_HASH_LEN);
        ck_assert_int_eq(x.max_time_ns, 5000);
        ck_assert(ls_all_zero(x.prev_close_hash, LS_HASH_LEN));
        ck_assert_int_eq(history_size(&f), before + LS_CLOSE_LEN);
        {
                LsEpochClose in_history;
                ck_assert_int_eq(state_find_close(f.dirfd, chain_id, 1, &in_history), 0);
                ls_close_encode(&in_history, a);
                ls_close_encode(&x, b);
                ck_assert_mem_eq(a, b, LS_CLOSE_LEN);
        }

        /* Asked again, also by a restarted signer, with another time: the same close, and
         * the history still holds one. */
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h9, 9000, &again), 0);
        ls_close_encode(&again, a);
        ck_assert_mem_eq(a, b, LS_CLOSE_LEN);
        restart(&f);
        position_at(&f, &h9);
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h9, 1, &again), 0);
        ls_close_encode(&again, a);
        ck_assert_mem_eq(a, b, LS_CLOSE_LEN);
        ck_assert_int_eq(history_size(&f), before + LS_CLOSE_LEN);

        /* Archives ending in another batch 9 signed by the erased key (a copy of it): never a
         * second close of epoch 1. */
        restart(&f);
        h = header_of(f.k0, 1, 9, 99999, 0x77);
        position_at(&f, &h);
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h, 0, &again), -EEXIST);
        ck_assert_int_eq(history_size(&f), before + LS_CLOSE_LEN);
        ls_keypair_free(rogue);
        ls_keypair_free(root);
        teardown(&f);
}
END_TEST

START_TEST(an_epoch_close_links_to_the_close_of_the_epoch_before)
{
        Fixture f;
        LsKeyPair *root = NULL;
        LsCert c1, c2;
        LsEpochClose x1, x2;
        LsBatchHeader h9, h;
        SignerKey k1;
        uint8_t prev[LS_HASH_LEN], hash1[LS_HASH_LEN];

        setup(&f);
        certify_k0(&f, &root);
        ck_assert_int_eq(signer_prepare_next(f.s, 2, 10, &c1), 0);
        ck_assert_int_eq(signer_finish(f.s), 0);
        h9 = header_of(f.k0, 1, 9, 5000, 0x21);
        position_at(&f, &h9);
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h9, 0, &x1), 0);

        /* Epoch 2 signs batches 10..14. */
        memcpy(k1.pk, c1.pk, LS_PK_LEN);
        memcpy(k1.key_id, c1.key_id, LS_KEY_ID_LEN);
        k1.epoch = 2;
        ls_batch_header_hash(&h9, prev);
        for (uint64_t b = 10; b <= 14; b++) {
                h = header(&k1, b, b == 10 ? h9.tree_size : h.tree_size, 4, prev);
                ck_assert_int_eq(signer_sign_batch(f.s, &h), 0);
                ls_batch_header_hash(&h, prev);
        }
        ck_assert_int_eq(signer_prepare_next(f.s, 3, 15, &c2), 0);
        /* The next key may close its predecessor's epoch before it takes over (an admin
         * rotation opens its first batch before the old key is erased). */
        ck_assert_int_eq(signer_close(f.s, c2.key_id, &h, 12000, &x2), 0);
        ck_assert_int_eq(ls_close_verify(&x2, c2.pk), 0);
        ck_assert_int_eq(x2.closed_epoch, 2);
        ck_assert_int_eq(x2.last_batch_no, 14);
        ck_assert_int_eq(x2.max_time_ns, 12000);
        ls_close_hash(&x1, hash1);
        ck_assert_mem_eq(x2.prev_close_hash, hash1, LS_HASH_LEN);
        /* ... and only its predecessor's: not epoch 1 */
        ck_assert_int_eq(signer_close(f.s, c2.key_id, &h9, 0, &x2), -EPERM);
        ck_assert_int_eq(signer_finish(f.s), 0);
        ls_keypair_free(root);
        teardown(&f);
}
END_TEST

START_TEST(a_history_with_two_closes_of_one_epoch_is_not_believed)
{
        Fixture f;
        LsKeyPair *root = NULL, *kp = NULL;
        LsCert c1;
        LsEpochClose x, y;
        LsBatchHeader h9;
        uint8_t enc[LS_CLOSE_LEN];
        size_t cut = 0;
        int fd;

        setup(&f);
        certify_k0(&f, &root);
        ck_assert_int_eq(signer_prepare_next(f.s, 2, 10, &c1), 0);
        ck_assert_int_eq(signer_finish(f.s), 0);
        h9 = header_of(f.k0, 1, 9, 5000, 0x21);
        position_at(&f, &h9);
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h9, 0, &x), 0);
        /* a torn close is cut like any torn item */
        ls_close_encode(&x, enc);
        fd = openat(f.dirfd, STATE_HISTORY, O_WRONLY | O_APPEND | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, enc, 100), 100);
        ck_assert_int_eq(state_repair_history(f.dirfd, &cut), 1);
        ck_assert_int_eq(cut, 100);
        /* a second, different close of epoch 1 (the same key re-signing another time) */
        ck_assert_int_eq(state_load_signing_key(f.dirfd, &kp), 0);
        y = x;
        y.max_time_ns += 1;
        {
                LsSigner s;
                ls_signer_from_keypair(&s, kp);
                ck_assert_int_eq(ls_close_sign(&y, &s), 0);
        }
        ls_close_encode(&y, enc);
        ck_assert_int_eq(write(fd, enc, sizeof(enc)), (ssize_t) sizeof(enc));
        close(fd);
        ck_assert_int_eq(state_find_close(f.dirfd, chain_id, 1, &y), -EILSEQ);
        ck_assert_int_eq(signer_close(f.s, c1.key_id, &h9, 0, &y), -EILSEQ);
        ck_assert_int_eq(state_find_close(f.dirfd, chain_id, 0, &y), -ENOKEY);
        ls_keypair_free(kp);
        ls_keypair_free(root);
        teardown(&f);
}
END_TEST

START_TEST(a_client_whose_signer_died_exits)
{
        Fixture f;
        pid_t pid;
        int status;

        setup(&f);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                LsSigner s;
                uint8_t sig[LS_SIG_LEN], msg[4] = "abc";
                kill(signer_pid(f.s), SIGKILL);
                usleep(100000);
                signer_bind(f.s, &f.cur, &s);
                (void) ls_sign(&s, LS_CTX_SEAL, msg, sizeof(msg), sig);
                _exit(0); /* not reached: the client exits with EXIT_FAILURE */
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), EXIT_FAILURE);
        teardown(&f);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("signer");
        TCase *tc = tcase_create("signer");

        tcase_add_test(tc, loads_the_key_and_signs_only_what_the_sealer_signs);
        tcase_add_test(tc, checkpoint_notes_as_bytes_are_never_signed);
        tcase_add_test(tc, batch_headers_are_signed_only_where_the_chain_continues);
        tcase_add_test(tc, the_first_batch_of_a_chain);
        tcase_add_test(tc, an_epoch_change_certifies_writes_and_erases);
        tcase_add_test(tc, an_admin_handover_takes_only_a_certificate_for_the_generated_key);
        tcase_add_test(tc, a_restart_finishes_an_interrupted_erasure);
        tcase_add_test(tc, a_pending_next_key_is_reported_at_load);
        tcase_add_test(tc, a_torn_history_append_is_cut_at_load_and_other_damage_left_alone);
        tcase_add_test(tc, an_epoch_close_is_signed_by_the_successor_for_the_last_batch_of_its_epoch_only);
        tcase_add_test(tc, an_epoch_close_links_to_the_close_of_the_epoch_before);
        tcase_add_test(tc, a_history_with_two_closes_of_one_epoch_is_not_believed);
        tcase_add_test(tc, a_client_whose_signer_died_exits);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
