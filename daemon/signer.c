/* SPDX-License-Identifier: Apache-2.0 */
/* signer.c: the signer process (keys/, signatures) and its client in logseald (see signer.h) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "batch.h"
#include "checkpoint.h"
#include "confine.h"
#include "hash.h"
#include "signer.h"
#include "state.h"
#include "util.h"

enum {
        OP_LOAD = 1,
        OP_SIGN,
        OP_PREPARE,
        OP_GENERATE,
        OP_INSTALL,
        OP_FINISH,
        OP_DISCARD,
        OP_POSITION,
        OP_SIGN_BATCH,
        OP_CLOSE,
};

/* ls_sign() joins a context and a message into at most 4096 bytes. */
#define SIGN_MAX 4096
#define REQ_MAX (4 + LS_KEY_ID_LEN + SIGN_MAX)
#define REPLY_MAX (4 + 4 + 2 * (LS_PK_LEN + LS_KEY_ID_LEN) + LS_CERT_LEN)
#define CLOSE_REQ_LEN (LS_KEY_ID_LEN + LS_BATCH_HEADER_LEN + 8)
static_assert(4 + CLOSE_REQ_LEN <= REQ_MAX && 4 + LS_CLOSE_LEN <= REPLY_MAX, "OP_CLOSE sizes");

struct Signer {
        int fd;
        pid_t pid;
        int confined;
        pthread_mutex_t mu;
};

typedef struct Bound {
        Signer *s;
        uint8_t key_id[LS_KEY_ID_LEN];
} Bound;

/* ---- the signer process ---- */

typedef struct Keys {
        int dirfd;                      /* the state directory */
        int confined;                   /* confine_signer(): 1 enforced */
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        LsKeyPair *cur, *next, *gen;
        /* Where the chain continues: the next batch header must extend the last one signed
         * (OP_POSITION sets it once, at start-up; OP_SIGN_BATCH moves it on). */
        int have_pos;
        uint64_t next_batch, tree_size;
        uint8_t prev_header_hash[LS_HASH_LEN];
} Keys;

static void fsync_keys_dir(int dirfd)
{
        int kfd = openat(dirfd, STATE_KEYS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (kfd >= 0) {
                (void) fsync(kfd);
                close(kfd);
        }
}

static LsKeyPair *key_by_id(Keys *k, const uint8_t *id)
{
        if (k->cur && memcmp(k->cur->key_id, id, LS_KEY_ID_LEN) == 0)
                return k->cur;
        if (k->next && memcmp(k->next->key_id, id, LS_KEY_ID_LEN) == 0)
                return k->next;
        return NULL;
}

/* OP_SIGN: archive headers and seal trailers only. Batch headers, whose signatures are this
 * chain's checkpoints, go through OP_SIGN_BATCH; certificates and revocations never. */
static int signable(const uint8_t *msg, size_t n)
{
        static const char *const ctx[] = {LS_CTX_ARCHIVE_HEADER, LS_CTX_SEAL};

        for (size_t i = 0; i < ELEMENTSOF(ctx); i++)
                if (n > strlen(ctx[i]) && memcmp(msg, ctx[i], strlen(ctx[i])) == 0)
                        return 1;
        return 0;
}

/* Where the chain continues, from the archives (logseald's recovery, before any input is
 * read): once per signer lifetime. */
static int op_position(Keys *k, const uint8_t *in, size_t n)
{
        if (n != 16 + LS_HASH_LEN)
                return -EBADMSG;
        if (k->have_pos)
                return -EALREADY;
        k->next_batch = ls_get64(in);
        k->tree_size = ls_get64(in + 8);
        memcpy(k->prev_header_hash, in + 16, LS_HASH_LEN);
        k->have_pos = 1;
        return 0;
}

/*
 * A batch header, signed as its checkpoint note (SPEC §6.3, §7.1): only the header that
 * extends the last one this process signed - the next batch number, starting at the tree
 * size reached, naming the previous header's hash -, of this chain, naming the key that
 * signs it. The note body is made here from the header, so it always has the four lines
 * and matches the header. A compromised ingest process can thus have the chain extended,
 * one batch at a time, as the sealer would, but not obtain checkpoints for other tree sizes
 * or batch numbers, nor two different ones for the same batch.
 */
static int op_sign_batch(Keys *k, const uint8_t *in, size_t n, uint8_t *out, size_t *len)
{
        char body[LS_NOTE_BODY_MAX];
        LsBatchHeader h;
        LsKeyPair *kp;
        int m;

        if (n != LS_KEY_ID_LEN + LS_BATCH_HEADER_LEN)
                return -EBADMSG;
        kp = key_by_id(k, in);
        if (!kp)
                return -ENOKEY;
        if (ls_batch_header_decode(&h, in + LS_KEY_ID_LEN, LS_BATCH_HEADER_LEN, NULL) < 0)
                return -EBADMSG;
        if (!k->have_pos)
                return -ESTALE;
        if (memcmp(h.chain_id, k->chain_id, LS_CHAIN_ID_LEN) != 0 ||
            memcmp(h.key_id, kp->key_id, LS_KEY_ID_LEN) != 0 || h.batch_no != k->next_batch ||
            h.first_seq != k->tree_size ||
            memcmp(h.prev_header_hash, k->prev_header_hash, LS_HASH_LEN) != 0)
                return -EPERM;
        m = ls_batch_note_body(&h, body, sizeof(body));
        if (m < 0)
                return m;
        crypto_sign_detached(out, NULL, (const uint8_t *) body, (size_t) m, kp->sk);
        memcpy(h.sig, out, LS_SIG_LEN);
        k->next_batch = h.batch_no + 1;
        k->tree_size = h.tree_size;
        ls_batch_header_hash(&h, k->prev_header_hash);
        *len = LS_SIG_LEN;
        return 0;
}

static void put_key(uint8_t *p, const LsKeyPair *kp)
{
        memcpy(p, kp->pk, LS_PK_LEN);
        memcpy(p + LS_PK_LEN, kp->key_id, LS_KEY_ID_LEN);
}

static int load_next(Keys *k)
{
        uint8_t *p;
        size_t n;
        int r = read_file_at(k->dirfd, STATE_NEXT_KEY, LS_SECRET_FILE_LEN, &p, &n);

        if (r == -ENOENT)
                return 0;
        if (r == 0) {
                r = ls_seckey_decode(&k->next, p, n, NULL);
                sodium_memzero(p, n);
                free(p);
        }
        if (r < 0) {
                fprintf(stderr, "logseald: signer: discarding an unusable %s (%s)\n",
                        STATE_NEXT_KEY, strerror(-r));
                return wipe_file(k->dirfd, STATE_NEXT_KEY);
        }
        return 0;
}

static int op_load(Keys *k, uint8_t *out, size_t *len)
{
        int r;

        if (k->cur)
                return -EALREADY;
        {
                size_t cut;
                r = state_repair_history(k->dirfd, &cut);
                if (r > 0)
                        fprintf(stderr, "logseald: signer: %s: cut a torn last item (%zu bytes; "
                                        "the previous run died while appending it)\n",
                                STATE_HISTORY, cut);
        }
        /* An epoch change erased the old key but did not rename the new one yet. */
        if (faccessat(k->dirfd, STATE_SIGNING_KEY, F_OK, 0) < 0 && errno == ENOENT &&
            faccessat(k->dirfd, STATE_NEXT_KEY, F_OK, 0) == 0)
                (void) renameat(k->dirfd, STATE_NEXT_KEY, k->dirfd, STATE_SIGNING_KEY);
        r = state_load_signing_key(k->dirfd, &k->cur);
        if (r < 0 && r != -ENOENT && faccessat(k->dirfd, STATE_NEXT_KEY, F_OK, 0) == 0) {
                /* A crash while the old key was being erased (overwritten, not yet unlinked):
                 * the next key is durable and certified, so finish the change. */
                fprintf(stderr, "logseald: signer: %s is unreadable (%s) while %s exists: the "
                                "previous run was erasing the old signing key; completing the "
                                "epoch change\n",
                        STATE_SIGNING_KEY, strerror(-r), STATE_NEXT_KEY);
                (void) wipe_file(k->dirfd, STATE_SIGNING_KEY);
                if (renameat(k->dirfd, STATE_NEXT_KEY, k->dirfd, STATE_SIGNING_KEY) == 0)
                        r = state_load_signing_key(k->dirfd, &k->cur);
        }
        if (r < 0)
                return r;
        r = load_next(k);
        if (r < 0)
                return r;
        ls_put32(out, (k->next ? 1u : 0u) | (k->confined > 0 ? 2u : 0u));
        put_key(out + 4, k->cur);
        if (k->next)
                put_key(out + 4 + LS_PK_LEN + LS_KEY_ID_LEN, k->next);
        else
                memset(out + 4 + LS_PK_LEN + LS_KEY_ID_LEN, 0, LS_PK_LEN + LS_KEY_ID_LEN);
        *len = 4 + 2 * (LS_PK_LEN + LS_KEY_ID_LEN);
        return 0;
}

/* Writes kp as keys/signing.next.key and its certificate into the history, durably. */
static int make_next_durable(Keys *k, const LsKeyPair *kp, const LsCert *c)
{
        uint8_t file[LS_SECRET_FILE_LEN], enc[LS_CERT_LEN];
        int r = ls_seckey_encode(kp, NULL, 0, 0, file);

        if (r == 0)
                r = write_file_atomic(k->dirfd, STATE_NEXT_KEY, file, sizeof(file), 0600);
        sodium_memzero(file, sizeof(file));
        if (r == 0) {
                ls_cert_encode(c, enc);
                r = state_append_history(k->dirfd, enc, sizeof(enc));
        }
        if (r < 0)
                (void) unlinkat(k->dirfd, STATE_NEXT_KEY, 0);
        return r;
}

static int op_prepare(Keys *k, const uint8_t *in, size_t n, uint8_t *out, size_t *len)
{
        /* Its epoch will end with a close (sealer-archive.c), which the flag announces (SPEC §9.1). */
        LsCert c = {.kind = LS_CERT_SIGNING, .flags = LS_CERT_F_CLOSED};
        LsKeyPair *next = NULL;
        LsSigner issuer;
        int r;

        if (n != 16)
                return -EBADMSG;
        if (!k->cur || k->next || k->gen)
                return -EBUSY;
        r = ls_keypair_generate(&next, ls_get64(in));
        if (r < 0)
                return r;
        memcpy(c.chain_id, k->chain_id, LS_CHAIN_ID_LEN);
        memcpy(c.pk, next->pk, LS_PK_LEN);
        c.epoch = ls_get64(in);
        c.valid_from_batch = ls_get64(in + 8);
        {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                c.issued_ns = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
        }
        ls_signer_from_keypair(&issuer, k->cur);
        r = ls_cert_sign(&c, &issuer);
        if (r == 0)
                r = make_next_durable(k, next, &c);
        if (r < 0) {
                ls_keypair_free(next);
                return r;
        }
        k->next = next;
        ls_cert_encode(&c, out);
        *len = LS_CERT_LEN;
        return 0;
}

static int op_generate(Keys *k, const uint8_t *in, size_t n, uint8_t *out, size_t *len)
{
        int r;

        if (n != 8)
                return -EBADMSG;
        if (!k->cur || k->next)
                return -EBUSY;
        k->gen = ls_keypair_free(k->gen);
        r = ls_keypair_generate(&k->gen, ls_get64(in));
        if (r < 0)
                return r;
        put_key(out, k->gen);
        *len = LS_PK_LEN + LS_KEY_ID_LEN;
        return 0;
}

static int op_install(Keys *k, const uint8_t *in, size_t n)
{
        LsCert c;
        int r;

        if (n != LS_CERT_LEN)
                return -EBADMSG;
        r = ls_cert_decode(&c, in, n);
        if (r < 0)
                return r;
        if (!k->gen || k->next)
                return -ESTALE;
        /* The certificate is checked against the root by the ingest process, which knows
         * the roots; here it must be for the generated key and this chain. */
        if (memcmp(c.pk, k->gen->pk, LS_PK_LEN) != 0 ||
            memcmp(c.chain_id, k->chain_id, LS_CHAIN_ID_LEN) != 0)
                return -EINVAL;
        k->gen->epoch = c.epoch;
        r = make_next_durable(k, k->gen, &c);
        if (r < 0)
                return r;
        k->next = k->gen;
        k->gen = NULL;
        return 0;
}

static int op_finish(Keys *k)
{
        int r;

        if (!k->next)
                return -ESTALE;
        r = wipe_file(k->dirfd, STATE_SIGNING_KEY);
        if (r < 0 && r != -ENOENT)
                fprintf(stderr, "logseald: signer: cannot erase the old signing key: %s\n",
                        strerror(-r));
        if (renameat(k->dirfd, STATE_NEXT_KEY, k->dirfd, STATE_SIGNING_KEY) < 0) {
                r = -errno;
                fprintf(stderr, "logseald: signer: cannot install the next signing key: %s\n",
                        strerror(-r));
                return r;
        }
        fsync_keys_dir(k->dirfd);
        ls_keypair_free(k->cur);
        k->cur = k->next;
        k->next = NULL;
        return 0;
}

static int op_discard(Keys *k)
{
        int r = 0;

        k->gen = ls_keypair_free(k->gen);
        if (k->next) {
                k->next = ls_keypair_free(k->next);
                r = wipe_file(k->dirfd, STATE_NEXT_KEY);
                if (r == -ENOENT)
                        r = 0;
        }
        return r;
}

/*
 * Epoch close (SPEC §9.4): key `issuer` (current or next) states what the epoch before its
 * own sealed. The request is issuer key id ‖ the last batch header of that epoch ‖ the largest
 * max_time_ns of the epoch's batches (the sealer's count; the header's own counts too). The
 * keys' certificates in keys/history.lsk decide whose close it is: the issuer is certified for
 * epoch e+1 from batch b+1, the header is batch b, signed by the key certified for epoch e of
 * this chain; and the header must be where the chain stands (the position). The close goes into the history, durably, before it is returned, and a close of
 * epoch e already there is returned again: a crash anywhere makes the sealer ask again and
 * seal the same close, never a second, different one.
 */
static int op_close(Keys *k, const uint8_t *in, size_t n, uint8_t *out, size_t *len)
{
        LsEpochClose x = {0}, have;
        LsBatchHeader h;
        LsCert ic, pc;
        LsKeyPair *issuer;
        LsSigner signer;
        uint8_t hh[LS_HASH_LEN];
        int r;

        if (n != CLOSE_REQ_LEN)
                return -EBADMSG;
        issuer = key_by_id(k, in);
        if (!issuer)
                return -ENOKEY;
        if (ls_batch_header_decode(&h, in + LS_KEY_ID_LEN, LS_BATCH_HEADER_LEN, NULL) < 0)
                return -EBADMSG;
        r = state_find_cert(k->dirfd, issuer->key_id, &ic);
        if (r == 0)
                r = state_find_cert(k->dirfd, h.key_id, &pc);
        /* A key the history does not certify closes nothing and is closed by nothing. */
        if (r == -ENOKEY)
                return -EPERM;
        if (r < 0)
                return r;
        if (ic.kind != LS_CERT_SIGNING || pc.kind != LS_CERT_SIGNING ||
            memcmp(ic.chain_id, k->chain_id, LS_CHAIN_ID_LEN) != 0 ||
            memcmp(pc.chain_id, k->chain_id, LS_CHAIN_ID_LEN) != 0 ||
            memcmp(h.chain_id, k->chain_id, LS_CHAIN_ID_LEN) != 0 || ic.epoch == 0 ||
            pc.epoch != ic.epoch - 1 || h.epoch != pc.epoch || h.batch_no < pc.valid_from_batch ||
            h.batch_no + 1 != ic.valid_from_batch || ls_batch_header_verify(&h, pc.pk) < 0)
                return -EPERM;
        /* ... and it is where the chain stands: the last batch header this signer signed, or
         * the archives' last at start (OP_POSITION). A close binds the chain's end, never a
         * header made aside. */
        if (!k->have_pos)
                return -ESTALE;
        ls_batch_header_hash(&h, hh);
        if (h.batch_no + 1 != k->next_batch || h.tree_size != k->tree_size ||
            !ls_hash_equal(hh, k->prev_header_hash))
                return -EPERM;
        r = state_find_close(k->dirfd, k->chain_id, pc.epoch, &have);
        if (r == 0) {
                /* Asked again (a crash before the batch that carries it was durable). */
                if (memcmp(have.issuer_key_id, issuer->key_id, LS_KEY_ID_LEN) != 0 ||
                    memcmp(have.closed_key_id, h.key_id, LS_KEY_ID_LEN) != 0 ||
                    have.last_batch_no != h.batch_no || !ls_hash_equal(have.last_header_hash, hh) ||
                    ls_close_verify(&have, issuer->pk) < 0)
                        return -EEXIST;
                ls_close_encode(&have, out);
                *len = LS_CLOSE_LEN;
                return 0;
        }
        if (r != -ENOKEY)
                return r;
        if (pc.epoch > 0) {
                LsEpochClose prev;
                r = state_find_close(k->dirfd, k->chain_id, pc.epoch - 1, &prev);
                if (r == 0)
                        ls_close_hash(&prev, x.prev_close_hash);
                else if (r != -ENOKEY)
                        return r;
        }
        memcpy(x.chain_id, k->chain_id, LS_CHAIN_ID_LEN);
        memcpy(x.closed_key_id, h.key_id, LS_KEY_ID_LEN);
        x.closed_epoch = pc.epoch;
        x.last_batch_no = h.batch_no;
        x.tree_size = h.tree_size;
        memcpy(x.tree_root, h.tree_root, LS_HASH_LEN);
        memcpy(x.last_header_hash, hh, LS_HASH_LEN);
        x.max_time_ns = MAX(ls_get64(in + LS_KEY_ID_LEN + LS_BATCH_HEADER_LEN), h.max_time_ns);
        {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                x.issued_ns = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
        }
        ls_signer_from_keypair(&signer, issuer);
        r = ls_close_sign(&x, &signer);
        if (r < 0)
                return r;
        ls_close_encode(&x, out);
        r = state_append_history(k->dirfd, out, LS_CLOSE_LEN);
        if (r < 0)
                return r;
        *len = LS_CLOSE_LEN;
        return 0;
}

static int dispatch(Keys *k, const uint8_t *req, size_t n, uint8_t *out, size_t *len)
{
        const uint8_t *in = req + 4;
        size_t inlen = n - 4;
        LsKeyPair *kp;

        *len = 0;
        switch (ls_get32(req)) {
        case OP_LOAD:
                return inlen == 0 ? op_load(k, out, len) : -EBADMSG;
        case OP_SIGN:
                if (inlen <= LS_KEY_ID_LEN || inlen > LS_KEY_ID_LEN + SIGN_MAX)
                        return -EBADMSG;
                kp = key_by_id(k, in);
                if (!kp)
                        return -ENOKEY;
                if (!signable(in + LS_KEY_ID_LEN, inlen - LS_KEY_ID_LEN))
                        return -EPERM;
                crypto_sign_detached(out, NULL, in + LS_KEY_ID_LEN, inlen - LS_KEY_ID_LEN, kp->sk);
                *len = LS_SIG_LEN;
                return 0;
        case OP_PREPARE:
                return op_prepare(k, in, inlen, out, len);
        case OP_GENERATE:
                return op_generate(k, in, inlen, out, len);
        case OP_INSTALL:
                return op_install(k, in, inlen);
        case OP_FINISH:
                return inlen == 0 ? op_finish(k) : -EBADMSG;
        case OP_DISCARD:
                return inlen == 0 ? op_discard(k) : -EBADMSG;
        case OP_POSITION:
                return op_position(k, in, inlen);
        case OP_SIGN_BATCH:
                return op_sign_batch(k, in, inlen, out, len);
        case OP_CLOSE:
                return op_close(k, in, inlen, out, len);
        default:
                return -EOPNOTSUPP;
        }
}

static _Noreturn void serve(int fd, int dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        Keys k = {.dirfd = dirfd};

        /* No capability (logseald started as root is its user already: confine_lower). */
        if (confine_drop_capabilities() < 0)
                _exit(1);
        (void) prctl(PR_SET_DUMPABLE, 0); /* again: a change of credentials may reset it */
        /* keys/ and nothing else from here on (Landlock; logged when it cannot be had). */
        k.confined = confine_signer(dirfd);
        if (k.confined < 0)
                fprintf(stderr, "logseald: signer: cannot confine itself to %s: %s\n",
                        STATE_KEYS_DIR, strerror(-k.confined));
        /* Zeroed: a reply never carries bytes this process did not mean to send. */
        uint8_t req[REQ_MAX + 1], out[REPLY_MAX] = {0};

        memcpy(k.chain_id, chain_id, LS_CHAIN_ID_LEN);
        for (;;) {
                ssize_t n = recv(fd, req, sizeof(req), 0);
                size_t len = 0;
                int r;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;   /* the ingest process closed its end or is gone */
                if (n < 4 || (size_t) n > REQ_MAX)
                        r = -EMSGSIZE;
                else
                        r = dispatch(&k, req, (size_t) n, out + 4, &len);
                sodium_memzero(req, sizeof(req));
                ls_put32(out, (uint32_t) r);
                if (send(fd, out, 4 + len, MSG_NOSIGNAL) < 0)
                        break;
        }
        ls_keypair_free(k.cur);
        ls_keypair_free(k.next);
        ls_keypair_free(k.gen);
        _exit(0);
}

/* ---- the client (ingest process) ---- */

int signer_spawn(Signer **ret, int state_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        Signer *s;
        int sv[2];
        pid_t pid;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                free(s);
                return -errno;
        }
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                free(s);
                return r;
        }
        if (pid == 0) {
                /* The state directory again, without the ingest process's lock on it:
                 * a signer outliving a killed logseald for a moment must not keep the
                 * next one from starting. Sockets systemd passed are not ours either. */
                int dirfd = openat(state_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                const char *lp = getenv("LISTEN_PID"), *lf = getenv("LISTEN_FDS");
                int nfds = lp && lf && strtol(lp, NULL, 10) == (long) getppid() ?
                                   (int) strtol(lf, NULL, 10) : 0;
                nfds = MIN(MAX(nfds, 0), 4096);
                if (dirfd < 0)
                        _exit(1);
                close(state_dirfd);
                for (int i = 0; i < nfds; i++)
                        (void) close(3 + i); /* SD_LISTEN_FDS_START */
                signal(SIGTERM, SIG_IGN);
                signal(SIGINT, SIG_IGN);
                signal(SIGHUP, SIG_IGN);
                signal(SIGPIPE, SIG_IGN);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() == 1)
                        _exit(1);
                /* Not dumpable: no core files, no ptrace and no /proc/PID/mem for the
                 * same uid, so the ingest process cannot read the keys from here. */
                (void) prctl(PR_SET_DUMPABLE, 0);
                (void) prctl(PR_SET_NAME, "logseald-signer");
                serve(sv[1], dirfd, chain_id);
        }
        close(sv[1]);
        s->fd = sv[0];
        s->pid = pid;
        pthread_mutex_init(&s->mu, NULL);
        *ret = s;
        return 0;
}

pid_t signer_pid(const Signer *s)
{
        return s->pid;
}

int signer_confined(const Signer *s)
{
        return s->confined;
}

static _Noreturn void signer_lost(const char *why)
{
        /* Fail closed: without the signer nothing can be sealed. What was read is in the
         * WAL; the next start (systemd restarts the unit) recovers and seals it. */
        fprintf(stderr, "logseald: the signer process is gone (%s): exiting; the next start "
                        "recovers every record from the WAL\n",
                why);
        _exit(EXIT_FAILURE);
}

/* One request, one reply; returns the reply's status (>= 0 payload length, or -errno). */
static int call(Signer *s, uint32_t op, const void *a, size_t alen, const void *b, size_t blen,
                uint8_t *out, size_t outcap)
{
        uint8_t req[REQ_MAX], rep[REPLY_MAX];
        ssize_t n;
        int r;

        if (4 + alen + blen > sizeof(req))
                return -E2BIG;
        ls_put32(req, op);
        if (alen)
                memcpy(req + 4, a, alen);
        if (blen)
                memcpy(req + 4 + alen, b, blen);
        pthread_mutex_lock(&s->mu);
        do
                n = send(s->fd, req, 4 + alen + blen, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                signer_lost(strerror(errno));
        do
                n = recv(s->fd, rep, sizeof(rep), 0);
        while (n < 0 && errno == EINTR);
        pthread_mutex_unlock(&s->mu);
        if (n <= 0)
                signer_lost(n == 0 ? "closed its socket" : strerror(errno));
        if (n < 4 || (size_t) n - 4 > outcap)
                signer_lost("malformed reply");
        r = (int) ls_get32(rep);
        if (r < 0)
                return r;
        memcpy(out, rep + 4, (size_t) n - 4);
        return (int) (n - 4);
}

static void get_key(SignerKey *k, const uint8_t *p)
{
        memcpy(k->pk, p, LS_PK_LEN);
        memcpy(k->key_id, p + LS_PK_LEN, LS_KEY_ID_LEN);
        k->epoch = 0;
}

int signer_load(Signer *s, SignerKey *cur, SignerKey *next, int *has_next)
{
        uint8_t out[4 + 2 * (LS_PK_LEN + LS_KEY_ID_LEN)];
        int r = call(s, OP_LOAD, NULL, 0, NULL, 0, out, sizeof(out));

        if (r < 0)
                return r;
        if (r != (int) sizeof(out))
                return -EBADMSG;
        get_key(cur, out + 4);
        *has_next = (ls_get32(out) & 1u) != 0;
        s->confined = (ls_get32(out) & 2u) != 0;
        if (*has_next)
                get_key(next, out + 4 + LS_PK_LEN + LS_KEY_ID_LEN);
        return 0;
}

static int bound_sign(void *ud, const uint8_t *msg, size_t n, uint8_t sig[LS_SIG_LEN])
{
        Bound *b = ud;
        int r = call(b->s, OP_SIGN, b->key_id, LS_KEY_ID_LEN, msg, n, sig, LS_SIG_LEN);

        if (r < 0)
                return r;
        return r == LS_SIG_LEN ? 0 : -EBADMSG;
}

void signer_bind(Signer *s, const SignerKey *k, LsSigner *ret)
{
        /* One binding per distinct key id, kept for the signer's lifetime: LsSigner values
         * are copied around, so their userdata must not move. A few per run at most. */
        static Bound slots[8];
        static unsigned next;
        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        Bound *b = NULL;

        pthread_mutex_lock(&mu);
        for (unsigned i = 0; i < ELEMENTSOF(slots); i++)
                if (slots[i].s == s && memcmp(slots[i].key_id, k->key_id, LS_KEY_ID_LEN) == 0)
                        b = &slots[i];
        if (!b) {
                b = &slots[next++ % ELEMENTSOF(slots)];
                b->s = s;
                memcpy(b->key_id, k->key_id, LS_KEY_ID_LEN);
        }
        pthread_mutex_unlock(&mu);
        memcpy(ret->pk, k->pk, LS_PK_LEN);
        memcpy(ret->key_id, k->key_id, LS_KEY_ID_LEN);
        ret->epoch = k->epoch;
        ret->sign = bound_sign;
        ret->userdata = b;
}

int signer_set_position(Signer *s, const LsChainPosition *pos)
{
        uint8_t in[16 + LS_HASH_LEN], none[1];

        ls_put64(in, pos->batch_no);
        ls_put64(in + 8, pos->tree.size);
        memcpy(in + 16, pos->prev_header_hash, LS_HASH_LEN);
        return MIN(call(s, OP_POSITION, in, sizeof(in), NULL, 0, none, 0), 0);
}

int signer_sign_batch(void *ud, LsBatchHeader *h)
{
        Signer *s = ud;
        uint8_t enc[LS_BATCH_HEADER_LEN], sig[LS_SIG_LEN];
        int r;

        memset(h->sig, 0, LS_SIG_LEN);
        ls_batch_header_encode(h, enc);
        r = call(s, OP_SIGN_BATCH, h->key_id, LS_KEY_ID_LEN, enc, sizeof(enc), sig, sizeof(sig));
        if (r < 0)
                return r;
        if (r != LS_SIG_LEN)
                return -EBADMSG;
        memcpy(h->sig, sig, LS_SIG_LEN);
        return 0;
}

int signer_prepare_next(Signer *s, uint64_t epoch, uint64_t valid_from_batch, LsCert *ret_cert)
{
        uint8_t in[16], out[LS_CERT_LEN];
        int r;

        ls_put64(in, epoch);
        ls_put64(in + 8, valid_from_batch);
        r = call(s, OP_PREPARE, in, sizeof(in), NULL, 0, out, sizeof(out));
        if (r < 0)
                return r;
        if (r != LS_CERT_LEN)
                return -EBADMSG;
        return ls_cert_decode(ret_cert, out, sizeof(out));
}

int signer_generate(Signer *s, uint64_t epoch, SignerKey *ret)
{
        uint8_t in[8], out[LS_PK_LEN + LS_KEY_ID_LEN];
        int r;

        ls_put64(in, epoch);
        r = call(s, OP_GENERATE, in, sizeof(in), NULL, 0, out, sizeof(out));
        if (r < 0)
                return r;
        if (r != (int) sizeof(out))
                return -EBADMSG;
        get_key(ret, out);
        ret->epoch = epoch;
        return 0;
}

int signer_install(Signer *s, const LsCert *cert)
{
        uint8_t enc[LS_CERT_LEN], none[1];

        ls_cert_encode(cert, enc);
        return MIN(call(s, OP_INSTALL, enc, sizeof(enc), NULL, 0, none, 0), 0);
}

int signer_finish(Signer *s)
{
        uint8_t none[1];
        return MIN(call(s, OP_FINISH, NULL, 0, NULL, 0, none, 0), 0);
}

int signer_discard(Signer *s)
{
        uint8_t none[1];
        return MIN(call(s, OP_DISCARD, NULL, 0, NULL, 0, none, 0), 0);
}

int signer_close(Signer *s, const uint8_t issuer_key_id[LS_KEY_ID_LEN], const LsBatchHeader *last,
                 uint64_t max_time_ns, LsEpochClose *ret)
{
        uint8_t in[CLOSE_REQ_LEN], out[LS_CLOSE_LEN];
        int r;

        memcpy(in, issuer_key_id, LS_KEY_ID_LEN);
        ls_batch_header_encode(last, in + LS_KEY_ID_LEN);
        ls_put64(in + LS_KEY_ID_LEN + LS_BATCH_HEADER_LEN, max_time_ns);
        r = call(s, OP_CLOSE, in, sizeof(in), NULL, 0, out, sizeof(out));
        if (r < 0)
                return r;
        if (r != LS_CLOSE_LEN)
                return -EBADMSG;
        return ls_close_decode(ret, out, sizeof(out));
}

void signer_free(Signer *s)
{
        if (!s)
                return;
        close(s->fd);
        pthread_mutex_destroy(&s->mu);
        free(s);
}
