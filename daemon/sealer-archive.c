/* SPDX-License-Identifier: Apache-2.0 */
/* sealer-archive.c: what the sealing thread writes: batches into archives, epoch transitions
 * and closes (SPEC §9.4), sealed.state */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "control.h"
#include "sealer-internal.h"
#include "state.h"
#include "util.h"

/* ---- sealed.state ---- */

/* wal/sealed.state: "LSSEALD1", u64 tree_size, u64 wal_id, u32 clean, u32 undeclared (zero in
 * files of older versions), 8-byte keyed checksum of the rest. */
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
        ret->undeclared = ls_get32(p + 28); /* zero in files of older versions */
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
        ls_put32(p + 28, s->undeclared);
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
 * else re-emits the same certificate in batch b (logseald-start.c).
 */
static int rotation_due(Sealer *s)
{
        uint64_t now = sealer_mono_ns();

        if (s->has_next || !s->cfg || atomic_load(&s->adm_state) != ADM_NONE)
                return 0;
        if (s->no_rotation)
                return 0; /* sealer_close_at_stop() */
        if (s->cfg->epoch_interval_ns && now - s->epoch_started >= s->cfg->epoch_interval_ns)
                return 1;
        return s->cfg->epoch_batches && s->epoch_batches_done >= s->cfg->epoch_batches;
}

int sealer_emit_transition(Sealer *s, const LsCert *cert, const char *why)
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
                r = sealer_writer_add(s, &rec);
                if (r == 0 && !s->batch_started)
                        s->batch_started = sealer_mono_ns();
        }
        free(b);
        return r;
}

static int begin_rotation(Sealer *s)
{
        const LsChainPosition *pos = ls_chain_writer_position(s->cw);
        LsCert c;
        int r;

        if (ls_chain_writer_pending(s->cw) > 0)
                return 0; /* the transition opens a batch */
        /* The signer generates the key, certifies it with the current one and makes both
         * durable (keys/signing.next.key, history) before it answers. */
        r = signer_prepare_next(s->sp, s->key.epoch + 1, pos->batch_no + 1, &c);
        if (r == 0) {
                r = sealer_emit_transition(s, &c, "scheduled epoch change");
                if (r < 0)
                        (void) signer_discard(s->sp);
        }
        if (r < 0) {
                fprintf(stderr, "logseald: cannot prepare the next signing key: %s\n", strerror(-r));
                return r;
        }
        memcpy(s->next_key.pk, c.pk, LS_PK_LEN);
        memcpy(s->next_key.key_id, c.key_id, LS_KEY_ID_LEN);
        s->next_key.epoch = c.epoch;
        s->has_next = 1;
        s->next_cert = c;
        return 0;
}

/* Batch `valid_from_batch - 1` is durable: erase key e and switch to e+1. */
static int finish_rotation(Sealer *s)
{
        int r = signer_finish(s->sp);

        if (r < 0) {
                fprintf(stderr, "logseald: cannot install the next signing key: %s\n",
                        strerror(-r));
                return r;
        }
        fprintf(stderr, "logseald: signing epoch %" PRIu64 " began at batch %" PRIu64
                        "; the epoch-%" PRIu64 " key is erased\n",
                s->next_key.epoch, s->next_cert.valid_from_batch, s->key.epoch);
        s->key = s->next_key;
        s->has_next = 0;
        s->cert = s->next_cert;
        signer_bind(s->sp, &s->key, &s->signer);
        s->epoch_started = sealer_mono_ns();
        s->epoch_batches_done = 0;
        return 0;
}

/* ---- epoch closes (SPEC §9.4) ---- */

/* Batch h is durable: where its key's epoch stands. */
static void epoch_note_batch(Sealer *s, const LsBatchHeader *h)
{
        /* A batch of nothing but the close does not count towards epoch_batches: with one
         * batch per epoch, each close would begin the next change, without end. */
        if (s->close_only && h->record_count == 1 && s->epoch_batches_done > 0)
                s->epoch_batches_done--;
        s->close_only = 0;
        if (!s->ep_have_last || memcmp(s->ep_last.key_id, h->key_id, LS_KEY_ID_LEN) != 0)
                s->ep_max_time = h->max_time_ns;
        else
                s->ep_max_time = MAX(s->ep_max_time, h->max_time_ns);
        s->ep_last = *h;
        s->ep_have_last = 1;
}

/* Errors of keys/ that go away by themselves (the disk fills up, then is cleaned). */
static int transient(int r)
{
        return r == -ENOSPC || r == -EDQUOT || r == -EIO || r == -EAGAIN || r == -EINTR ||
               r == -ENOMEM || r == -EMFILE || r == -ENFILE;
}

/*
 * A batch signed by another key than the last durable batch opens with the close of the
 * epoch that ended, signed by the new key: whatever put the key in charge (a scheduled
 * epoch change, an admin rotation, a start-up completing either), and also at the start
 * after a crash between the change and the close being durable, because the last batch in
 * the archives is then still the old epoch's. The signer writes the close into the key
 * history before it answers and answers the same close when asked again, so the chain and
 * the history never hold two different ones.
 */
static int emit_close_if_due(Sealer *s)
{
        LsControlBuilder *b;
        LsEpochClose x;
        LsRecord rec = {.type = LS_REC_CONTROL};
        uint8_t enc[LS_CLOSE_LEN];
        char text[128];
        const uint8_t *body;
        size_t len;
        int r, logged = 0;

        if (ls_chain_writer_pending(s->cw) > 0 || !s->ep_have_last ||
            memcmp(s->ep_last.key_id, s->signer.key_id, LS_KEY_ID_LEN) == 0 ||
            (s->has_close_refused &&
             memcmp(s->close_refused, s->signer.key_id, LS_KEY_ID_LEN) == 0))
                return 0;
        for (;;) {
                r = signer_close(s->sp, s->signer.key_id, &s->ep_last, s->ep_max_time, &x);
                if (!transient(r))
                        break;
                /* keys/ cannot be written (disk full?): the close must come first, so the
                 * batch waits, as it would for the archive (records are in the WAL). */
                if (!logged)
                        fprintf(stderr, "logseald: cannot write the close of signing epoch %" PRIu64
                                        " (%s): retrying every second\n",
                                s->ep_last.epoch, strerror(-r));
                logged = 1;
                nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
        }
        if (r < 0) {
                /* The history does not make the last batch the end of the key's previous
                 * epoch (edited or missing, or another close is there): seal on without
                 * one rather than stop. A verifier reports that epoch as not bound by a
                 * close, which is what it is. */
                fprintf(stderr, "logseald: cannot close signing epoch %" PRIu64 " at batch %" PRIu64
                                " (%s): the key history does not allow it; sealing goes on, and "
                                "verifiers will report that epoch as not bound by a close\n",
                        s->ep_last.epoch, s->ep_last.batch_no, strerror(-r));
                memcpy(s->close_refused, s->signer.key_id, LS_KEY_ID_LEN);
                s->has_close_refused = 1;
                return 0;
        }
        b = malloc(sizeof(*b));
        if (!b)
                return -ENOMEM;
        ls_close_encode(&x, enc);
        snprintf(text, sizeof(text), "signing epoch %" PRIu64 " closed: last batch %" PRIu64,
                 x.closed_epoch, x.last_batch_no);
        ls_control_begin(b, LS_CTL_EPOCH_CLOSE);
        ls_control_add_str(b, LS_TAG_TEXT, text);
        ls_control_add(b, LS_TAG_CLOSE, enc, sizeof(enc));
        r = ls_control_end(b, &body, &len);
        if (r == 0) {
                /* When the close was made: a close made before a crash and sealed after it
                 * keeps its time, like records re-sealed from the WAL, so the silence of the
                 * downtime ends with the UNCLEAN_SHUTDOWN that explains it (SPEC §11). */
                rec.time_ns = x.issued_ns;
                rec.body = body;
                rec.body_len = (uint32_t) len;
                rec.orig_len = (uint32_t) len;
                r = ls_chain_writer_add(s->cw, &rec);
                if (r == 0 && !s->batch_started)
                        s->batch_started = sealer_mono_ns();
        }
        free(b);
        s->close_only = r == 0;
        if (r == 0)
                fprintf(stderr, "logseald: signing epoch %" PRIu64 " closed at batch %" PRIu64
                                "; the close opens batch %" PRIu64 "\n",
                        x.closed_epoch, x.last_batch_no, x.last_batch_no + 1);
        return r;
}

/* Every record enters the chain here: a batch of a new key opens with the epoch close. */
int sealer_writer_add(Sealer *s, LsRecord *rec)
{
        int r = emit_close_if_due(s);

        return r < 0 ? r : ls_chain_writer_add(s->cw, rec);
}

/*
 * Stopping right after a key change (the last flush completed one): the close goes into a
 * last batch of the new key. Otherwise the chain would end at a hand-over that no close
 * binds until the next start, and archives copied meanwhile would read as not bound.
 */
int sealer_close_at_stop(Sealer *s)
{
        int r;

        /* Its batch must not begin another change, or each batch would need a close. */
        s->no_rotation = 1;
        r = emit_close_if_due(s);

        while (r == 0 && ls_chain_writer_pending(s->cw) > 0) {
                r = sealer_flush_batch(s);
                if (r == -EAGAIN || r == -ENOSPC || r == -EIO) {
                        nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
                        r = 0;
                }
        }
        return r;
}

/* ---- sealing (see also admin rotation below) ---- */

void sealer_notify(Sealer *s)
{
        uint64_t one = 1;
        if (s->notify_fd >= 0)
                (void) !write(s->notify_fd, &one, sizeof(one));
}

int sealer_write_state(Sealer *s, int clean)
{
        int r;

        s->state.tree_size = ls_chain_writer_position(s->cw)->tree.size;
        s->state.clean = clean;
        r = sealed_state_write(s->state_dirfd, &s->state);
        if (r < 0)
                fprintf(stderr, "logseald: cannot write %s: %s\n", STATE_SEALED, strerror(-r));
        else
                atomic_store(&s->st.durable_wal_id, s->state.wal_id);
        s->last_state_write = sealer_mono_ns();
        return r;
}

/*
 * A dictionary is stored once per archive (SPEC §8.6): it may take at most 1/64 of what the
 * next archive is expected to hold, estimated from this one's growth (bytes per second until
 * max_age, at most max_size), so a quiet appliance does not pay more for it than it gains.
 */
static void dict_budget(Sealer *s)
{
        uint64_t now = sealer_mono_ns(), size = ls_chain_writer_archive_size(s->cw), expect;
        double secs = s->archive_created && now > s->archive_created
                              ? (double) (now - s->archive_created) / 1e9
                              : 0;

        expect = s->cfg->archive_max_bytes;
        if (secs >= 1 && (double) size / secs * ((double) s->cfg->archive_max_age_ns / 1e9) <
                                 (double) expect)
                expect = (uint64_t) ((double) size / secs *
                                     ((double) s->cfg->archive_max_age_ns / 1e9));
        ls_chain_writer_set_dict_limit(s->cw, (size_t) MIN(expect / 64, (uint64_t) LS_MAX_DICT));
}

int sealer_seal_archive(Sealer *s)
{
        int r;

        dict_budget(s);

        /* The state names a position inside the archive that follows: recovery only
         * ever has to look at the last archive. */
        r = sealer_write_state(s, 0);
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

int sealer_flush_batch(Sealer *s)
{
        LsBatchHeader h;
        int new_archive, r;
        uint64_t now = sealer_mono_ns();

        if (ls_chain_writer_pending(s->cw) == 0)
                return 0;
        if (s->retry_at && now < s->retry_at)
                return -EAGAIN;
        new_archive = ls_chain_writer_archive_size(s->cw) == 0;
        /* More than a batch waits behind this one: compress fast (compression_level auto). */
        pthread_mutex_lock(&s->mu);
        ls_chain_writer_set_hurry(s->cw, s->backlog > s->cfg->batch_max_bytes);
        pthread_mutex_unlock(&s->mu);
        r = ls_chain_writer_flush(s->cw, &s->signer, now_realtime_ns(), &h);
        if (r == 0)
                atomic_store(&s->st.zstd_level, ls_chain_writer_zstd_level(s->cw));
        if (r == 0)
                r = ls_chain_writer_sync(s->cw);
        if (r < 0) {
                bk_batch_unknown(&s->bk); /* which records that batch holds is not certain */
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
        if (new_archive) {
                uint64_t tns;
                size_t dsize, samples;
                s->archive_created = now;
                ls_chain_writer_last_train(s->cw, &tns, &dsize, &samples);
                if (dsize)
                        fprintf(stderr,
                                "logseald: archive %" PRIu64 ": zstd dictionary of %zu bytes, "
                                "trained on %zu bytes of earlier payloads in %" PRIu64 " ms\n",
                                h.archive_no, dsize, samples, tns / 1000000);
        }
        /* The latest checkpoint is this batch with the key that signed it: record both
         * before an epoch change below puts the next key in s->signer. */
        pthread_mutex_lock(&s->mu);
        s->last = h;
        memcpy(s->last_pk, s->signer.pk, LS_PK_LEN);
        s->have_last = 1;
        pthread_mutex_unlock(&s->mu);
        /* Before the indexer can learn that h is durable (last_tree_size, notify). */
        bk_batch_flushed(&s->bk, s->carried, &h);
        s->epoch_batches_done++;
        epoch_note_batch(s, &h);
        s->batch_started = 0;
        s->state.wal_id = s->batch_last_wal;
        atomic_fetch_add(&s->st.records_sealed, h.record_count);
        atomic_fetch_add(&s->st.batches, 1);
        atomic_store(&s->st.last_tree_size, h.tree_size);
        atomic_store(&s->st.last_seal_ns, now_realtime_ns());
        if (s->state.undeclared && h.tree_size >= s->declared_end) {
                /* The declarations are durable: say at once that none is owed any more, or a
                 * crash now would have the next start declare them again (recover.c). */
                s->state.undeclared = 0;
                s->last_state_write = 0;
        }
        if (s->has_next && h.batch_no + 1 >= s->next_cert.valid_from_batch) {
                r = finish_rotation(s);
                if (r < 0)
                        return r;
        }
        if (!s->last_state_write || now - s->last_state_write >= STATE_WRITE_INTERVAL_NS)
                (void) sealer_write_state(s, 0);
        sealer_notify(s);

        if (ls_chain_writer_archive_size(s->cw) >= s->cfg->archive_max_bytes ||
            (s->archive_created && now - s->archive_created >= s->cfg->archive_max_age_ns) ||
            /* An archive without a dictionary ends as soon as enough was seen to train one:
             * a new chain or a restart reaches the dictionary's ratio early (SPEC §8.6). */
            (s->cfg->dict_after && ls_chain_writer_dict_due(s->cw))) {
                r = sealer_seal_archive(s);
                if (r < 0)
                        return r;
        }
        if (rotation_due(s))
                (void) begin_rotation(s);
        return 0;
}
