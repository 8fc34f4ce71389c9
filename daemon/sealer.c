/* SPDX-License-Identifier: Apache-2.0 */
/* sealer.c: the sealing thread: records -> signed batches -> archives -> fdatasync -> durable */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "control.h"
#include "hash.h"
#include "logseald.h"
#include "state.h"
#include "util.h"

#define STATE_WRITE_INTERVAL_NS 1000000000ull
#define RETRY_NS 1000000000ull
/* How long the sealer holds records back for a reserved batch (admin rotation). */
#define ADMIN_HOLD_NS 10000000000ull
/* How long `rotate-begin` waits for the sealing thread to reserve the batch. */
#define ADMIN_REPLY_NS 3000000000ull

enum {
        ADM_NONE,
        ADM_REQUESTED,   /* control socket asked; the sealing thread reserves a batch */
        ADM_RESERVED,    /* batch adm_batch reserved for adm_key; records wait */
        ADM_COMMITTED,   /* the root-signed certificate arrived; the sealer switches keys */
        ADM_FAILED,      /* the reservation could not be made (adm_err) */
};

struct Sealer {
        const Config *cfg;
        int state_dirfd, archive_dirfd;
        LsChainWriter *cw;
        LsKeyPair *key;
        LsSigner signer;
        LsCert cert;
        int emit_cert;
        int notify_fd;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        LsKeyPair *next_key;         /* prepared epoch e+1, transition pending */
        LsCert next_cert;
        uint64_t epoch_started;      /* CLOCK_MONOTONIC ns */
        uint64_t epoch_batches_done;

        /* Admin rotation (logsealctl key rotate), see sealer_rotate_begin(). The state is
         * read without the lock by the sealing thread's fast paths; the rest is under mu. */
        _Atomic int adm_state;
        LsKeyPair *adm_key;
        LsCert adm_cert;
        uint64_t adm_batch, adm_deadline;
        int adm_err;
        pthread_cond_t adm_cv;

        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        Chunk *head, *tail;
        size_t backlog;
        int stop;
        int result;

        uint64_t batch_last_wal;     /* WAL id of the newest record in the open batch */
        uint64_t batch_started;      /* CLOCK_MONOTONIC ns of its first record, 0: none */
        uint64_t archive_created;    /* CLOCK_MONOTONIC ns the active archive was opened */
        uint64_t last_state_write;
        uint64_t retry_at;           /* after a write error, CLOCK_MONOTONIC ns */
        SealedState state;
        SealerStats st;
        struct {                     /* seq of recent control records by WAL id; mu */
                uint64_t wal_id, seq;
        } ctl_seq[64];
        unsigned ctl_seq_next;
        LsBatchHeader last;          /* guarded by mu */
        uint8_t last_pk[LS_PK_LEN];  /* the key that signed it */
        int have_last;
};

static uint64_t mono_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

uint64_t now_realtime_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* ---- chunks ---- */

Chunk *chunk_new(size_t cap)
{
        Chunk *c = malloc(sizeof(*c) + cap);

        if (!c)
                return NULL;
        memset(c, 0, sizeof(*c));
        c->cap = cap;
        return c;
}

int chunk_add(Chunk *c, const LsRecord *r)
{
        size_t n = ls_record_size(r), len;
        int k;

        if (c->cap - c->len < 4 + n)
                return -ENOBUFS;
        k = ls_record_encode(r, c->data + c->len + 4, n, &len);
        if (k < 0)
                return k;
        ls_put32(c->data + c->len, (uint32_t) len);
        c->len += 4 + len;
        c->count++;
        return 0;
}

/* ---- sealed.state ---- */

#define STATE_MAGIC "LSSEALD1"
#define STATE_LEN 40

int sealed_state_read(int state_dirfd, SealedState *ret)
{
        uint8_t *p, chk[8];
        size_t n;
        int r = read_file_at(state_dirfd, STATE_SEALED, 4096, &p, &n);

        /* A state directory of an older version: the file is in the directory itself
         * until the first write of the new one (sealed_state_write) removes it. */
        if (r == -ENOENT)
                r = read_file_at(state_dirfd, STATE_SEALED_LEGACY, 4096, &p, &n);
        if (r < 0)
                return r;
        if (n != STATE_LEN || memcmp(p, STATE_MAGIC, 8) != 0) {
                free(p);
                return -EBADMSG;
        }
        crypto_shorthash(chk, p, STATE_LEN - 8, (const uint8_t *) "logseal-state-v1");
        if (memcmp(chk, p + STATE_LEN - 8, 8) != 0) {
                free(p);
                return -EBADMSG;
        }
        ret->tree_size = ls_get64(p + 8);
        ret->wal_id = ls_get64(p + 16);
        ret->clean = (int) ls_get32(p + 24);
        free(p);
        return 0;
}

int sealed_state_write(int state_dirfd, const SealedState *s)
{
        uint8_t p[STATE_LEN] = {0};
        int r;

        memcpy(p, STATE_MAGIC, 8);
        ls_put64(p + 8, s->tree_size);
        ls_put64(p + 16, s->wal_id);
        ls_put32(p + 24, (uint32_t) s->clean);
        crypto_shorthash(p + STATE_LEN - 8, p, STATE_LEN - 8, (const uint8_t *) "logseal-state-v1");
        r = write_file_atomic(state_dirfd, STATE_SEALED, p, sizeof(p), 0600);
        if (r < 0)
                return r;
        /* The new file is durable and read first: an older version's copy is dead. The
         * first write happens at start-up, before the daemon confines itself (confine.c);
         * a failure to remove it costs nothing but the file. */
        (void) unlinkat(state_dirfd, STATE_SEALED_LEGACY, 0);
        return 0;
}


/* ---- forward-secure epochs ---- */

/*
 * Epoch change, in an order that survives a crash at any point:
 *   1. the next key (epoch e+1) and its certificate by key e (valid from the
 *      next batch b+1) are made durable: keys/signing.next.key, history.lsk;
 *   2. a KEY_TRANSITION record carrying the certificate goes into batch b,
 *      sealed with key e and made durable;
 *   3. only then key e is erased: its file overwritten, synced, removed, the
 *      next key renamed into its place, and its memory wiped.
 * A start-up finding signing.next.key finishes step 3 if batch b is durable,
 * else re-emits the same certificate in batch b (logseald.c).
 */
static int rotation_due(Sealer *s)
{
        uint64_t now = mono_ns();

        if (s->next_key || !s->cfg || atomic_load(&s->adm_state) != ADM_NONE)
                return 0;
        if (s->cfg->epoch_interval_ns && now - s->epoch_started >= s->cfg->epoch_interval_ns)
                return 1;
        return s->cfg->epoch_batches && s->epoch_batches_done >= s->cfg->epoch_batches;
}

static int emit_transition(Sealer *s, const LsCert *cert, const char *why)
{
        LsControlBuilder *b = malloc(sizeof(*b));
        uint8_t enc[LS_CERT_LEN];
        const uint8_t *body;
        size_t len;
        LsRecord rec = {.type = LS_REC_CONTROL};
        int r;

        if (!b)
                return -ENOMEM;
        ls_cert_encode(cert, enc);
        ls_control_begin(b, LS_CTL_KEY_TRANSITION);
        ls_control_add_str(b, LS_TAG_TEXT, why);
        ls_control_add(b, LS_TAG_CERT, enc, sizeof(enc));
        r = ls_control_end(b, &body, &len);
        if (r == 0) {
                rec.time_ns = now_realtime_ns();
                rec.body = body;
                rec.body_len = (uint32_t) len;
                rec.orig_len = (uint32_t) len;
                r = ls_chain_writer_add(s->cw, &rec);
                if (r == 0 && !s->batch_started)
                        s->batch_started = mono_ns();
        }
        free(b);
        return r;
}

static int begin_rotation(Sealer *s)
{
        const LsChainPosition *pos = ls_chain_writer_position(s->cw);
        uint8_t file[LS_SECRET_FILE_LEN], enc[LS_CERT_LEN];
        LsKeyPair *next = NULL;
        LsCert c = {.kind = LS_CERT_SIGNING};
        int r;

        if (ls_chain_writer_pending(s->cw) > 0)
                return 0; /* the transition opens a batch */
        r = ls_keypair_generate(&next, s->key->epoch + 1);
        if (r < 0)
                return r;
        memcpy(c.chain_id, s->chain_id, LS_CHAIN_ID_LEN);
        memcpy(c.pk, next->pk, LS_PK_LEN);
        c.epoch = next->epoch;
        c.valid_from_batch = pos->batch_no + 1;
        c.issued_ns = now_realtime_ns();
        r = ls_cert_sign(&c, &s->signer);
        if (r == 0)
                r = ls_seckey_encode(next, NULL, 0, 0, file);
        if (r == 0)
                r = write_file_atomic(s->state_dirfd, STATE_NEXT_KEY, file, sizeof(file), 0600);
        sodium_memzero(file, sizeof(file));
        if (r == 0) {
                ls_cert_encode(&c, enc);
                r = state_append_history(s->state_dirfd, enc, sizeof(enc));
        }
        if (r == 0)
                r = emit_transition(s, &c, "scheduled epoch change");
        if (r < 0) {
                fprintf(stderr, "logseald: cannot prepare the next signing key: %s\n", strerror(-r));
                (void) unlinkat(s->state_dirfd, STATE_NEXT_KEY, 0);
                ls_keypair_free(next);
                return r;
        }
        s->next_key = next;
        s->next_cert = c;
        return 0;
}

static void fsync_keys_dir(Sealer *s)
{
        int kfd = openat(s->state_dirfd, STATE_KEYS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (kfd >= 0) {
                (void) fsync(kfd);
                close(kfd);
        }
}

/* Batch `valid_from_batch - 1` is durable: erase key e and switch to e+1. */
static int finish_rotation(Sealer *s)
{
        int r = wipe_file(s->state_dirfd, STATE_SIGNING_KEY);

        if (r < 0 && r != -ENOENT)
                fprintf(stderr, "logseald: cannot erase the old signing key: %s\n", strerror(-r));
        if (renameat(s->state_dirfd, STATE_NEXT_KEY, s->state_dirfd, STATE_SIGNING_KEY) < 0) {
                r = -errno;
                fprintf(stderr, "logseald: cannot install the next signing key: %s\n",
                        strerror(-r));
                return r;
        }
        fsync_keys_dir(s);
        fprintf(stderr, "logseald: signing epoch %" PRIu64 " began at batch %" PRIu64
                        "; the epoch-%" PRIu64 " key is erased\n",
                s->next_key->epoch, s->next_cert.valid_from_batch, s->key->epoch);
        ls_keypair_free(s->key);
        s->key = s->next_key;
        s->next_key = NULL;
        s->cert = s->next_cert;
        ls_signer_from_keypair(&s->signer, s->key);
        s->epoch_started = mono_ns();
        s->epoch_batches_done = 0;
        return 0;
}

/* ---- sealing (see also admin rotation below) ---- */

static void notify(Sealer *s)
{
        uint64_t one = 1;
        if (s->notify_fd >= 0)
                (void) !write(s->notify_fd, &one, sizeof(one));
}

static int write_state(Sealer *s, int clean)
{
        int r;

        s->state.tree_size = ls_chain_writer_position(s->cw)->tree.size;
        s->state.clean = clean;
        r = sealed_state_write(s->state_dirfd, &s->state);
        if (r < 0)
                fprintf(stderr, "logseald: cannot write %s: %s\n", STATE_SEALED, strerror(-r));
        else
                atomic_store(&s->st.durable_wal_id, s->state.wal_id);
        s->last_state_write = mono_ns();
        return r;
}

static int seal_archive(Sealer *s)
{
        int r;

        /* The state names a position inside the archive that follows: recovery only
         * ever has to look at the last archive. */
        r = write_state(s, 0);
        if (r < 0)
                return r;
        r = ls_chain_writer_seal(s->cw, &s->signer, now_realtime_ns());
        if (r < 0) {
                fprintf(stderr, "logseald: sealing the archive failed: %s\n", strerror(-r));
                return r;
        }
        atomic_fetch_add(&s->st.archives_sealed, 1);
        s->archive_created = 0;
        return 0;
}

static int flush_batch(Sealer *s)
{
        LsBatchHeader h;
        int new_archive, r;
        uint64_t now = mono_ns();

        if (ls_chain_writer_pending(s->cw) == 0)
                return 0;
        if (s->retry_at && now < s->retry_at)
                return -EAGAIN;
        new_archive = ls_chain_writer_archive_size(s->cw) == 0;
        r = ls_chain_writer_flush(s->cw, &s->signer, now_realtime_ns(), &h);
        if (r == 0)
                r = ls_chain_writer_sync(s->cw);
        if (r < 0) {
                if (!atomic_load(&s->st.degraded))
                        fprintf(stderr,
                                "logseald: cannot write the archive (%s): holding records, "
                                "retrying every second; ingest slows down\n",
                                strerror(-r));
                atomic_store(&s->st.degraded, 1);
                s->retry_at = now + RETRY_NS;
                return r;
        }
        if (atomic_load(&s->st.degraded))
                fprintf(stderr, "logseald: archive writes work again\n");
        atomic_store(&s->st.degraded, 0);
        s->retry_at = 0;
        if (new_archive)
                s->archive_created = now;
        s->epoch_batches_done++;
        if (s->next_key && h.batch_no + 1 >= s->next_cert.valid_from_batch) {
                r = finish_rotation(s);
                if (r < 0)
                        return r;
        }
        s->batch_started = 0;
        s->state.wal_id = s->batch_last_wal;
        atomic_fetch_add(&s->st.records_sealed, h.record_count);
        atomic_fetch_add(&s->st.batches, 1);
        atomic_store(&s->st.last_tree_size, h.tree_size);
        pthread_mutex_lock(&s->mu);
        s->last = h;
        memcpy(s->last_pk, s->signer.pk, LS_PK_LEN);
        s->have_last = 1;
        pthread_mutex_unlock(&s->mu);
        if (now - s->last_state_write >= STATE_WRITE_INTERVAL_NS)
                (void) write_state(s, 0);
        notify(s);

        if (ls_chain_writer_archive_size(s->cw) >= s->cfg->archive_max_bytes ||
            (s->archive_created && now - s->archive_created >= s->cfg->archive_max_age_ns)) {
                r = seal_archive(s);
                if (r < 0)
                        return r;
        }
        if (rotation_due(s))
                (void) begin_rotation(s);
        return 0;
}


/* ---- admin rotation ---- */

/*
 * An admin rotation puts a key certified by the (offline) root in charge
 * from a batch number the root signs into the certificate, so that batch must
 * be reserved before the root signs:
 *   1. rotate-begin (control socket, main thread): ADM_REQUESTED;
 *   2. the sealing thread closes the open batch, generates the new key and
 *      reserves the next batch number b: ADM_RESERVED, records wait in the
 *      queue (they are in the WAL already) for at most ADMIN_HOLD_NS;
 *   3. logsealctl signs the certificate (valid from b) with the root key and
 *      sends it (rotate-commit): ADM_COMMITTED;
 *   4. the sealing thread makes the new key and its certificate durable
 *      (keys/signing.next.key, history), erases the old key (file and memory),
 *      and opens batch b with a KEY_TRANSITION carrying the certificate,
 *      signed by the new key. A crash after the old key is erased and before
 *      batch b is durable is completed at start-up: the key's certificate is
 *      root-issued for the next batch, so it is emitted again (logseald.c).
 * When the hold expires first, the reservation is dropped and nothing changes.
 */
static void admin_set(Sealer *s, int state, int err)
{
        pthread_mutex_lock(&s->mu);
        if (state == ADM_NONE || state == ADM_FAILED)
                s->adm_key = ls_keypair_free(s->adm_key);
        s->adm_err = err;
        atomic_store(&s->adm_state, state);
        pthread_cond_broadcast(&s->adm_cv);
        pthread_mutex_unlock(&s->mu);
}

static void admin_reserve(Sealer *s)
{
        LsKeyPair *k = NULL;
        int r = 0;

        /* Close the open batch (it may carry a scheduled transition: that completes it). */
        while (r == 0 && ls_chain_writer_pending(s->cw) > 0)
                r = flush_batch(s);
        if (r == 0 && s->next_key)
                r = -EBUSY;
        if (r == 0)
                r = ls_keypair_generate(&k, s->key->epoch + 1);
        if (r < 0) {
                admin_set(s, ADM_FAILED, r);
                return;
        }
        pthread_mutex_lock(&s->mu);
        if (atomic_load(&s->adm_state) == ADM_REQUESTED) {
                s->adm_key = k;
                k = NULL;
                s->adm_batch = ls_chain_writer_position(s->cw)->batch_no;
                s->adm_deadline = mono_ns() + ADMIN_HOLD_NS;
                atomic_store(&s->adm_state, ADM_RESERVED);
                pthread_cond_broadcast(&s->adm_cv);
        }
        pthread_mutex_unlock(&s->mu);
        ls_keypair_free(k); /* the requester gave up meanwhile */
}

static int admin_switch(Sealer *s)
{
        uint8_t file[LS_SECRET_FILE_LEN], enc[LS_CERT_LEN];
        LsKeyPair *k, *old;
        LsCert c;
        int r;

        pthread_mutex_lock(&s->mu);
        k = s->adm_key;
        s->adm_key = NULL;
        c = s->adm_cert;
        pthread_mutex_unlock(&s->mu);
        if (ls_chain_writer_pending(s->cw) > 0 ||
            ls_chain_writer_position(s->cw)->batch_no != c.valid_from_batch) {
                ls_keypair_free(k);
                return -ESTALE; /* cannot happen: records were held back */
        }
        k->epoch = c.epoch;
        r = ls_seckey_encode(k, NULL, 0, 0, file);
        if (r == 0)
                r = write_file_atomic(s->state_dirfd, STATE_NEXT_KEY, file, sizeof(file), 0600);
        sodium_memzero(file, sizeof(file));
        if (r == 0) {
                ls_cert_encode(&c, enc);
                r = state_append_history(s->state_dirfd, enc, sizeof(enc));
        }
        if (r < 0) {
                (void) unlinkat(s->state_dirfd, STATE_NEXT_KEY, 0);
                ls_keypair_free(k);
                return r;
        }
        old = s->key;
        s->key = k;
        s->next_key = ls_keypair_free(s->next_key);
        s->cert = c;
        ls_signer_from_keypair(&s->signer, s->key);
        r = emit_transition(s, &c, "admin rotation: signing key certified by the root key");
        if (r < 0) {
                /* The new key is durable and named in the history: a restart emits it. */
                ls_keypair_free(old);
                return r;
        }
        r = wipe_file(s->state_dirfd, STATE_SIGNING_KEY);
        if (r < 0 && r != -ENOENT)
                fprintf(stderr, "logseald: cannot erase the old signing key: %s\n", strerror(-r));
        if (renameat(s->state_dirfd, STATE_NEXT_KEY, s->state_dirfd, STATE_SIGNING_KEY) < 0)
                fprintf(stderr, "logseald: cannot install the new signing key: %s\n",
                        strerror(errno));
        fsync_keys_dir(s);
        fprintf(stderr, "logseald: admin rotation: signing epoch %" PRIu64 " (root-certified) "
                        "begins at batch %" PRIu64 "; the epoch-%" PRIu64 " key is erased\n",
                c.epoch, c.valid_from_batch, old->epoch);
        ls_keypair_free(old);
        s->epoch_started = mono_ns();
        s->epoch_batches_done = 0;
        return 0;
}

/* Returns 1 while records must wait for a reserved batch. */
static int admin_poll(Sealer *s, int stopping)
{
        int r;

        switch (atomic_load(&s->adm_state)) {
        case ADM_REQUESTED:
                admin_reserve(s);
                return atomic_load(&s->adm_state) == ADM_RESERVED;
        case ADM_RESERVED:
                if (!stopping && mono_ns() < s->adm_deadline)
                        return 1;
                fprintf(stderr, "logseald: admin rotation: no certificate for the reserved batch "
                                "%" PRIu64 "; the reservation is dropped\n",
                        s->adm_batch);
                admin_set(s, ADM_NONE, 0);
                return 0;
        case ADM_COMMITTED:
                r = admin_switch(s);
                if (r < 0)
                        fprintf(stderr, "logseald: admin rotation failed: %s\n", strerror(-r));
                admin_set(s, ADM_NONE, 0);
                return 0;
        default:
                return 0;
        }
}

int sealer_rotate_begin(Sealer *s, RotateOffer *ret)
{
        struct timespec ts;
        uint64_t wait = ADMIN_REPLY_NS;
        int r;

        pthread_mutex_lock(&s->mu);
        if (atomic_load(&s->adm_state) != ADM_NONE) {
                pthread_mutex_unlock(&s->mu);
                return -EBUSY;
        }
        atomic_store(&s->adm_state, ADM_REQUESTED);
        pthread_cond_signal(&s->cv);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t) (wait / 1000000000u);
        while (atomic_load(&s->adm_state) == ADM_REQUESTED)
                if (pthread_cond_timedwait(&s->adm_cv, &s->mu, &ts) == ETIMEDOUT)
                        break;
        switch (atomic_load(&s->adm_state)) {
        case ADM_RESERVED:
                memcpy(ret->pk, s->adm_key->pk, LS_PK_LEN);
                ret->epoch = s->adm_key->epoch;
                ret->batch = s->adm_batch;
                r = 0;
                break;
        case ADM_FAILED:
                r = s->adm_err < 0 ? s->adm_err : -EIO;
                atomic_store(&s->adm_state, ADM_NONE);
                break;
        default:
                r = -ETIMEDOUT;
                atomic_store(&s->adm_state, ADM_NONE);
                break;
        }
        pthread_mutex_unlock(&s->mu);
        return r;
}

int sealer_rotate_commit(Sealer *s, const LsCert *c)
{
        int r = 0;

        pthread_mutex_lock(&s->mu);
        if (atomic_load(&s->adm_state) != ADM_RESERVED)
                r = -ESTALE;
        else if (memcmp(c->pk, s->adm_key->pk, LS_PK_LEN) != 0 ||
                 c->epoch != s->adm_key->epoch || c->valid_from_batch != s->adm_batch)
                r = -EINVAL;
        if (r == 0) {
                s->adm_cert = *c;
                atomic_store(&s->adm_state, ADM_COMMITTED);
                pthread_cond_signal(&s->cv);
        }
        pthread_mutex_unlock(&s->mu);
        return r;
}


/* Adds one record; closes the batch first when it is full. */
static int add_record(Sealer *s, LsRecord *rec, uint64_t wal_id)
{
        int r = ls_chain_writer_add(s->cw, rec);

        if (r == -ENOSPC) {
                r = flush_batch(s);
                if (r < 0)
                        return r;
                r = ls_chain_writer_add(s->cw, rec);
        }
        if (r < 0)
                return r;
        if (!s->batch_started)
                s->batch_started = mono_ns();
        if (wal_id)
                s->batch_last_wal = wal_id;
        if (wal_id && rec->type == LS_REC_CONTROL) {
                /* logsealctl asks where its custody record went (sealer_seq_of_wal). */
                pthread_mutex_lock(&s->mu);
                s->ctl_seq[s->ctl_seq_next % ELEMENTSOF(s->ctl_seq)].wal_id = wal_id;
                s->ctl_seq[s->ctl_seq_next % ELEMENTSOF(s->ctl_seq)].seq = rec->seq;
                s->ctl_seq_next++;
                pthread_mutex_unlock(&s->mu);
        }
        if (ls_chain_writer_batch_full(s->cw))
                (void) flush_batch(s);
        return 0;
}

static int process_chunk(Sealer *s, Chunk *c)
{
        size_t pos = 0;

        for (uint32_t i = 0; i < c->count; i++) {
                uint32_t n = ls_get32(c->data + pos);
                LsRecord rec;
                int r = ls_record_decode(&rec, c->data + pos + 4, n, NULL);
                if (r < 0) {
                        /* Only our own encoder fills chunks: this is a bug, never input. */
                        fprintf(stderr, "logseald: internal error: bad queued record (%s)\n",
                                strerror(-r));
                        return r;
                }
                do {
                        r = add_record(s, &rec, c->first_wal_id ? c->first_wal_id + i : 0);
                        if (r < 0) {
                                /* Disk trouble: wait and retry; ingest sees the backlog. */
                                struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000};
                                nanosleep(&ts, NULL);
                        }
                } while (r < 0 && r != -ENOMEM && r != -EINVAL && r != -E2BIG);
                if (r < 0)
                        return r;
                pos += 4 + n;
        }
        return 0;
}

static void *run(void *ud)
{
        Sealer *s = ud;
        int stopping = 0, r = 0;

        if (s->emit_cert)
                r = emit_transition(s, &s->cert, "signing key certified by the root key");
        if (r == 0 && s->next_key)
                r = emit_transition(s, &s->next_cert, "epoch change completed after a restart");
        while (r == 0) {
                Chunk *list;

                if (atomic_load(&s->adm_state) != ADM_NONE) {
                        pthread_mutex_lock(&s->mu);
                        stopping = s->stop;
                        pthread_mutex_unlock(&s->mu);
                        if (admin_poll(s, stopping)) {
                                struct timespec ts;
                                clock_gettime(CLOCK_MONOTONIC, &ts);
                                ts.tv_nsec += 50000000;
                                if (ts.tv_nsec >= 1000000000) {
                                        ts.tv_sec++;
                                        ts.tv_nsec -= 1000000000;
                                }
                                pthread_mutex_lock(&s->mu);
                                if (atomic_load(&s->adm_state) == ADM_RESERVED && !s->stop)
                                        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
                                pthread_mutex_unlock(&s->mu);
                                continue;
                        }
                }
                pthread_mutex_lock(&s->mu);
                while (!s->head && !s->stop && atomic_load(&s->adm_state) == ADM_NONE) {
                        if (s->batch_started) {
                                uint64_t deadline = s->batch_started + s->cfg->batch_latency_ns;
                                if (s->retry_at && s->retry_at > deadline)
                                        deadline = s->retry_at;
                                if (mono_ns() >= deadline)
                                        break;
                                struct timespec ts;
                                clock_gettime(CLOCK_MONOTONIC, &ts);
                                uint64_t wait = deadline - mono_ns();
                                ts.tv_sec += (time_t) (wait / 1000000000u);
                                ts.tv_nsec += (long) (wait % 1000000000u);
                                if (ts.tv_nsec >= 1000000000) {
                                        ts.tv_sec++;
                                        ts.tv_nsec -= 1000000000;
                                }
                                pthread_cond_timedwait(&s->cv, &s->mu, &ts);
                        } else {
                                pthread_cond_wait(&s->cv, &s->mu);
                        }
                }
                list = s->head;
                s->head = s->tail = NULL;
                stopping = s->stop;
                pthread_mutex_unlock(&s->mu);

                while (list && r == 0) {
                        Chunk *next = list->next;
                        size_t len = list->len;
                        r = process_chunk(s, list);
                        free(list);
                        list = next;
                        pthread_mutex_lock(&s->mu);
                        s->backlog -= len;
                        /* An admin rotation wants a batch boundary: hand the rest back. */
                        if (list && atomic_load(&s->adm_state) != ADM_NONE) {
                                Chunk *last = list;
                                while (last->next)
                                        last = last->next;
                                last->next = s->head;
                                if (!s->head)
                                        s->tail = last;
                                s->head = list;
                                list = NULL;
                        }
                        pthread_mutex_unlock(&s->mu);
                }
                while (list) {
                        Chunk *next = list->next;
                        free(list);
                        list = next;
                }
                if (r < 0)
                        break;
                if (s->batch_started &&
                    (stopping || mono_ns() >= s->batch_started + s->cfg->batch_latency_ns))
                        (void) flush_batch(s);
                if (stopping) {
                        pthread_mutex_lock(&s->mu);
                        int more = s->head != NULL;
                        pthread_mutex_unlock(&s->mu);
                        if (more)
                                continue;
                        while (ls_chain_writer_pending(s->cw) > 0) {
                                r = flush_batch(s);
                                if (r == -EAGAIN || r == -ENOSPC || r == -EIO) {
                                        struct timespec ts = {.tv_sec = 1};
                                        nanosleep(&ts, NULL);
                                        r = 0;
                                        continue;
                                }
                                if (r < 0)
                                        break;
                        }
                        if (r == 0)
                                r = seal_archive(s);
                        if (r == 0)
                                r = write_state(s, 1);
                        notify(s);
                        break;
                }
        }
        s->result = r;
        if (r < 0)
                fprintf(stderr, "logseald: sealer stopped: %s\n", strerror(-r));
        return NULL;
}

int sealer_start(Sealer **ret, SealerInit *init, int notify_fd)
{
        LsChainWriterConfig wc = {
                .dirfd = init->archive_dirfd,
                .zstd_level = init->cfg->zstd_level,
                .max_batch_raw = init->cfg->batch_max_bytes,
                .max_batch_records = init->cfg->batch_max_records,
        };
        Sealer *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        memcpy(wc.chain_id, init->chain_id, LS_CHAIN_ID_LEN);
        r = ls_chain_writer_new(&s->cw, &wc, &init->pos);
        if (r < 0) {
                free(s);
                return r;
        }
        s->cfg = init->cfg;
        s->state_dirfd = init->state_dirfd;
        s->archive_dirfd = init->archive_dirfd;
        s->key = init->key;
        init->key = NULL;
        ls_signer_from_keypair(&s->signer, s->key);
        s->cert = init->cert;
        s->emit_cert = init->emit_cert;
        memcpy(s->chain_id, init->chain_id, LS_CHAIN_ID_LEN);
        s->next_key = init->next_key;
        init->next_key = NULL;
        s->next_cert = init->next_cert;
        s->epoch_started = mono_ns();
        s->notify_fd = notify_fd;
        s->batch_last_wal = init->wal_id_base;
        s->state.wal_id = init->wal_id_base;
        atomic_store(&s->st.durable_wal_id, init->wal_id_base);
        atomic_store(&s->st.last_tree_size, init->pos.tree.size);
        s->last_state_write = mono_ns();
        pthread_mutex_init(&s->mu, NULL);
        {
                /* The sealer's deadlines are CLOCK_MONOTONIC (batch latency, holds). */
                pthread_condattr_t ca;
                pthread_condattr_init(&ca);
                pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
                pthread_cond_init(&s->cv, &ca);
                pthread_condattr_destroy(&ca);
        }
        pthread_cond_init(&s->adm_cv, NULL); /* CLOCK_REALTIME: sealer_rotate_begin() */
        r = -pthread_create(&s->thread, NULL, run, s);
        if (r < 0) {
                ls_chain_writer_free(s->cw);
                ls_keypair_free(s->key);
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void sealer_push(Sealer *s, Chunk *c)
{
        c->next = NULL;
        pthread_mutex_lock(&s->mu);
        if (s->tail)
                s->tail->next = c;
        else
                s->head = c;
        s->tail = c;
        s->backlog += c->len;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
}

size_t sealer_backlog(Sealer *s)
{
        size_t n;

        pthread_mutex_lock(&s->mu);
        n = s->backlog;
        pthread_mutex_unlock(&s->mu);
        return n;
}

int sealer_last_batch(Sealer *s, LsBatchHeader *ret, uint8_t pk[LS_PK_LEN])
{
        int have;

        pthread_mutex_lock(&s->mu);
        have = s->have_last;
        if (have) {
                *ret = s->last;
                if (pk)
                        memcpy(pk, s->last_pk, LS_PK_LEN);
        }
        pthread_mutex_unlock(&s->mu);
        return have ? 0 : -ENODATA;
}

int sealer_seq_of_wal(Sealer *s, uint64_t wal_id, uint64_t *ret_seq)
{
        int r = -ENOENT;

        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < ELEMENTSOF(s->ctl_seq); i++)
                if (s->ctl_seq[i].wal_id == wal_id && wal_id) {
                        *ret_seq = s->ctl_seq[i].seq;
                        r = 0;
                }
        pthread_mutex_unlock(&s->mu);
        return r;
}

SealerStats *sealer_stats(Sealer *s)
{
        return &s->st;
}

int sealer_stop(Sealer *s)
{
        int r;

        pthread_mutex_lock(&s->mu);
        s->stop = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        r = s->result;
        ls_chain_writer_free(s->cw);
        ls_keypair_free(s->key);
        ls_keypair_free(s->next_key);
        ls_keypair_free(s->adm_key);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        pthread_cond_destroy(&s->adm_cv);
        free(s);
        return r;
}
