/* SPDX-License-Identifier: Apache-2.0 */
/* sealer-keys.c: key changes asked of the sealing thread: admin rotation (logsealctl key
 * rotate) and revocation of the key in use */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sealer-internal.h"

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
 *      root-issued for the next batch, so it is emitted again (logseald-start.c).
 * When the hold expires first, the reservation is dropped and nothing changes.
 */
static void admin_set(Sealer *s, int state, int err)
{
        int drop = 0;

        pthread_mutex_lock(&s->mu);
        if ((state == ADM_NONE || state == ADM_FAILED) && s->has_adm) {
                s->has_adm = 0;
                drop = 1;
        }
        s->adm_err = err;
        atomic_store(&s->adm_state, state);
        pthread_cond_broadcast(&s->adm_cv);
        pthread_mutex_unlock(&s->mu);
        if (drop)
                (void) signer_discard(s->sp); /* the generated key, never written */
}

static void admin_reserve(Sealer *s)
{
        SignerKey k;
        int r = 0, keep = 0;

        /* Close the open batch (it may carry a scheduled transition: that completes it). */
        while (r == 0 && ls_chain_writer_pending(s->cw) > 0)
                r = sealer_flush_batch(s);
        if (r == 0 && s->has_next)
                r = -EBUSY;
        if (r == 0)
                r = signer_generate(s->sp, s->key.epoch + 1, &k);
        if (r < 0) {
                admin_set(s, ADM_FAILED, r);
                return;
        }
        pthread_mutex_lock(&s->mu);
        if (atomic_load(&s->adm_state) == ADM_REQUESTED) {
                s->adm_key = k;
                s->has_adm = 1;
                keep = 1;
                s->adm_batch = ls_chain_writer_position(s->cw)->batch_no;
                s->adm_deadline = sealer_mono_ns() + ADMIN_HOLD_NS;
                atomic_store(&s->adm_state, ADM_RESERVED);
                pthread_cond_broadcast(&s->adm_cv);
        }
        pthread_mutex_unlock(&s->mu);
        if (!keep)
                (void) signer_discard(s->sp); /* the requester gave up meanwhile */
}

static int admin_switch(Sealer *s)
{
        SignerKey k, old;
        LsCert c;
        int r;

        pthread_mutex_lock(&s->mu);
        k = s->adm_key;
        s->has_adm = 0;
        c = s->adm_cert;
        pthread_mutex_unlock(&s->mu);
        if (ls_chain_writer_pending(s->cw) > 0 ||
            ls_chain_writer_position(s->cw)->batch_no != c.valid_from_batch) {
                (void) signer_discard(s->sp);
                return -ESTALE; /* cannot happen: records were held back */
        }
        /* The signer makes the key and its certificate durable as keys/signing.next.key. */
        r = signer_install(s->sp, &c);
        if (r < 0) {
                (void) signer_discard(s->sp);
                return r;
        }
        old = s->key;
        k.epoch = c.epoch;
        s->key = k;
        s->cert = c;
        signer_bind(s->sp, &s->key, &s->signer);
        r = sealer_emit_transition(s, &c, "admin rotation: signing key certified by the root key");
        if (r < 0)
                /* The new key is durable and named in the history: a restart emits it. */
                return r;
        r = signer_finish(s->sp);
        if (r < 0)
                fprintf(stderr, "logseald: cannot erase the old signing key: %s\n", strerror(-r));
        fprintf(stderr, "logseald: admin rotation: signing epoch %" PRIu64 " (root-certified) "
                        "begins at batch %" PRIu64 "; the epoch-%" PRIu64 " key is erased\n",
                c.epoch, c.valid_from_batch, old.epoch);
        s->epoch_started = sealer_mono_ns();
        s->epoch_batches_done = 0;
        return 0;
}

/* Returns 1 while records must wait for a reserved batch. */
int sealer_admin_poll(Sealer *s, int stopping)
{
        int r;

        switch (atomic_load(&s->adm_state)) {
        case ADM_REQUESTED:
                admin_reserve(s);
                /* The certificate can be back already (COMMITTED): records must go on
                 * waiting until the next round switches keys, or batch b is gone. */
                r = atomic_load(&s->adm_state);
                return r == ADM_RESERVED || r == ADM_COMMITTED;
        case ADM_RESERVED:
                if (!stopping && sealer_mono_ns() < s->adm_deadline)
                        return 1;
                /* The certificate may arrive right now (rotate-commit, main thread): drop the
                 * reservation only if it is still only a reservation. */
                pthread_mutex_lock(&s->mu);
                r = atomic_load(&s->adm_state) == ADM_RESERVED;
                if (r) {
                        s->has_adm = 0;
                        atomic_store(&s->adm_state, ADM_NONE);
                        pthread_cond_broadcast(&s->adm_cv);
                }
                pthread_mutex_unlock(&s->mu);
                if (!r)
                        return 1; /* committed meanwhile: the next round switches */
                (void) signer_discard(s->sp); /* the generated key, never written */
                fprintf(stderr, "logseald: admin rotation: no certificate for the reserved batch "
                                "%" PRIu64 "; the reservation is dropped\n",
                        s->adm_batch);
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
                memcpy(ret->pk, s->adm_key.pk, LS_PK_LEN);
                ret->epoch = s->adm_key.epoch;
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
        else if (memcmp(c->pk, s->adm_key.pk, LS_PK_LEN) != 0 ||
                 c->epoch != s->adm_key.epoch || c->valid_from_batch != s->adm_batch)
                r = -EINVAL;
        if (r == 0) {
                s->adm_cert = *c;
                atomic_store(&s->adm_state, ADM_COMMITTED);
                pthread_cond_signal(&s->cv);
        }
        pthread_mutex_unlock(&s->mu);
        return r;
}

/* ---- revocation of the key in use ---- */

/*
 * A root revocation of the key that signs now (or of the prepared next one) would leave
 * every later batch signed by a revoked key. Before it takes effect the sealer moves to a
 * new key, as at a scheduled epoch change but at once:
 *   1. an open batch is closed with the current key (a pending scheduled change then
 *      completes: its certificate is in that batch);
 *   2. if the revoked key is still in charge, batch b (the next one) carries the
 *      certificate of a new key valid from b + 1, signed by the revoked key, and is closed
 *      at once; the revoked key is erased (finish_rotation).
 * Each batch the revoked key signs must be outside the revocation: batch number below
 * from_batch, every record dated before from_time (less REVOKE_MARGIN_NS). When that no
 * longer holds for the batch it would sign next, only a key the root certifies can take
 * over (`logsealctl key rotate`): -EKEYREVOKED, nothing changes.
 */
static int revocation_covers(const LsRevocation *rv, uint64_t batch_no, uint64_t time_ns)
{
        return (rv->from_batch != LS_UNSET && batch_no >= rv->from_batch) ||
               (rv->from_time_ns != LS_UNSET && time_ns + REVOKE_MARGIN_NS >= rv->from_time_ns);
}

static int key_in_use(const Sealer *s, const uint8_t id[LS_KEY_ID_LEN])
{
        return memcmp(id, s->key.key_id, LS_KEY_ID_LEN) == 0 ||
               (s->has_next && memcmp(id, s->next_key.key_id, LS_KEY_ID_LEN) == 0);
}

static int revoke_switch(Sealer *s, const LsRevocation *rv, RevokeOutcome *out)
{
        const uint8_t *id = rv->revoked_key_id;
        LsCert c;
        int r;

        if (!key_in_use(s, id))
                return 0; /* not a key this appliance signs with */
        if (atomic_load(&s->adm_state) != ADM_NONE)
                return -EBUSY;
        /* A few rounds: closing a batch may begin a scheduled change (flush_batch), whose
         * batch is then closed too. */
        for (int round = 0; round < 4 && key_in_use(s, id); round++) {
                uint64_t b = ls_chain_writer_position(s->cw)->batch_no;
                int current = memcmp(id, s->key.key_id, LS_KEY_ID_LEN) == 0;

                if (ls_chain_writer_pending(s->cw) > 0) {
                        /* Batch b is open: the current key signs it. */
                        if (current && revocation_covers(rv, b, now_realtime_ns()))
                                return -EKEYREVOKED;
                        r = sealer_flush_batch(s);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!current)
                        return -EAGAIN; /* cannot happen: a prepared key has its batch open */
                /* Batch b: the certificate of a new key valid from b + 1, signed by the revoked
                 * key, closed at once; then the switch (flush_batch: finish_rotation). */
                if (revocation_covers(rv, b, now_realtime_ns()))
                        return -EKEYREVOKED;
                r = signer_prepare_next(s->sp, s->key.epoch + 1, b + 1, &c);
                if (r < 0)
                        return r;
                r = sealer_emit_transition(s, &c, "epoch change: the signing key is revoked by the root "
                                           "key from a later batch or time");
                if (r < 0) {
                        (void) signer_discard(s->sp);
                        return r;
                }
                memcpy(s->next_key.pk, c.pk, LS_PK_LEN);
                memcpy(s->next_key.key_id, c.key_id, LS_KEY_ID_LEN);
                s->next_key.epoch = c.epoch;
                s->has_next = 1;
                s->next_cert = c;
                /* Should the write fail, the batch stays open (signed once) and its next flush
                 * completes the change. */
                r = sealer_flush_batch(s);
                if (r < 0)
                        return r;
        }
        if (key_in_use(s, id))
                return -EAGAIN; /* cannot happen */
        memcpy(out->key_id, s->key.key_id, LS_KEY_ID_LEN);
        out->epoch = s->key.epoch;
        out->valid_from_batch = s->cert.valid_from_batch;
        return 1;
}

void sealer_revoke_poll(Sealer *s)
{
        LsRevocation rv;
        RevokeOutcome out = {};
        int r;

        pthread_mutex_lock(&s->mu);
        rv = s->rev;
        pthread_mutex_unlock(&s->mu);
        r = revoke_switch(s, &rv, &out);
        if (r < 0 && r != -EKEYREVOKED && r != -EBUSY)
                fprintf(stderr, "logseald: cannot move off the revoked signing key: %s\n",
                        strerror(-r));
        pthread_mutex_lock(&s->mu);
        s->rev_result = r;
        s->rev_out = out;
        atomic_store(&s->rev_state, s->rev_abandoned ? REV_NONE : REV_DONE);
        pthread_cond_broadcast(&s->adm_cv);
        pthread_mutex_unlock(&s->mu);
}

int sealer_revoke_key(Sealer *s, const LsRevocation *rv, RevokeOutcome *ret)
{
        struct timespec ts;
        int r;

        pthread_mutex_lock(&s->mu);
        if (atomic_load(&s->rev_state) != REV_NONE) {
                pthread_mutex_unlock(&s->mu);
                return -EBUSY;
        }
        s->rev = *rv;
        s->rev.reason = NULL;
        s->rev.reason_len = 0;
        s->rev_abandoned = 0;
        atomic_store(&s->rev_state, REV_REQUESTED);
        pthread_cond_signal(&s->cv);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t) (ADMIN_REPLY_NS / 1000000000u);
        while (atomic_load(&s->rev_state) == REV_REQUESTED)
                if (pthread_cond_timedwait(&s->adm_cv, &s->mu, &ts) == ETIMEDOUT)
                        break;
        if (atomic_load(&s->rev_state) == REV_DONE) {
                r = s->rev_result;
                *ret = s->rev_out;
                atomic_store(&s->rev_state, REV_NONE);
        } else {
                /* Still working (disk trouble): it goes on; the answer is dropped. */
                s->rev_abandoned = 1;
                r = -ETIMEDOUT;
        }
        pthread_mutex_unlock(&s->mu);
        return r;
}
