/* SPDX-License-Identifier: Apache-2.0 */
/* sealer.c: the sealing thread: records -> signed batches -> archives -> fdatasync -> durable;
 * this file has the thread and its queue (sealer-archive.c writes, sealer-keys.c changes keys) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sealer-internal.h"
#include "state.h"
#include "util.h"

uint64_t sealer_mono_ns(void)
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

Chunk *chunk_free(Chunk *c)
{
        if (c) {
                chunk_keys_free(c->keys);
                free(c);
        }
        return NULL;
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

/* What a queued chunk holds in memory: its records and the index keys beside them. The
 * backlog (queue_max_size) counts both. */
static size_t chunk_bytes(const Chunk *c)
{
        size_t n = c->len;

        if (c->keys)
                n += bkset_bytes(&c->keys->set) + (size_t) c->keys->rec_cap * sizeof(uint16_t);
        return n;
}

/* Adds one record; closes the batch first when it is full. */
static int add_record(Sealer *s, LsRecord *rec, uint64_t wal_id, uint32_t i)
{
        int r = sealer_writer_add(s, rec);

        if (r == -ENOSPC) {
                r = sealer_flush_batch(s);
                if (r < 0)
                        return r;
                r = sealer_writer_add(s, rec);
        }
        if (r < 0)
                return r;
        bk_batch_record(&s->bk, i, rec); /* record i of the chunk went into the open batch */
        if (!s->batch_started)
                s->batch_started = sealer_mono_ns();
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
                (void) sealer_flush_batch(s);
        return 0;
}

static int process_chunk(Sealer *s, Chunk *c)
{
        size_t pos = 0;

        bk_batch_chunk(&s->bk, c->keys);
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
                        r = add_record(s, &rec, c->first_wal_id ? c->first_wal_id + i : 0, i);
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

        /* The keys are the signer's: this thread must not reach them either (confine.c;
         * `logsealctl status` reports it). */
        {
                int fd = openat(s->state_dirfd, STATE_SIGNING_KEY, O_RDONLY | O_CLOEXEC);
                atomic_store(&s->st.keys_readable, fd >= 0);
                if (fd >= 0)
                        close(fd);
        }

        if (s->emit_cert)
                r = sealer_emit_transition(s, &s->cert, "signing key certified by the root key");
        if (r == 0 && s->first) {
                /* The declarations of unclean stops open the run, before the records
                 * re-sealed from the WAL (RECOVERED, with their original times): the silence
                 * of the downtime ends at them (SPEC §11). Only the close of an epoch that
                 * ended before the crash (SPEC §9.4) and a root-issued certificate (§9.3) come
                 * before. */
                s->declared_end = ls_chain_writer_next_seq(s->cw) + s->first->count;
                r = process_chunk(s, s->first);
        }
        s->first = chunk_free(s->first);
        if (r == 0 && s->has_next)
                r = sealer_emit_transition(s, &s->next_cert, "epoch change completed after a restart");
        while (r == 0) {
                Chunk *list;

                if (atomic_load(&s->rev_state) == REV_REQUESTED)
                        sealer_revoke_poll(s);
                if (atomic_load(&s->adm_state) != ADM_NONE) {
                        pthread_mutex_lock(&s->mu);
                        stopping = s->stop;
                        pthread_mutex_unlock(&s->mu);
                        if (sealer_admin_poll(s, stopping)) {
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
                while (!s->head && !s->stop && atomic_load(&s->adm_state) == ADM_NONE &&
                       atomic_load(&s->rev_state) != REV_REQUESTED) {
                        if (s->batch_started) {
                                uint64_t deadline = s->batch_started + s->cfg->batch_latency_ns;
                                if (s->retry_at && s->retry_at > deadline)
                                        deadline = s->retry_at;
                                if (sealer_mono_ns() >= deadline)
                                        break;
                                struct timespec ts;
                                clock_gettime(CLOCK_MONOTONIC, &ts);
                                uint64_t wait = deadline - sealer_mono_ns();
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
                        size_t len = chunk_bytes(list);
                        r = process_chunk(s, list);
                        chunk_free(list);
                        list = next;
                        pthread_mutex_lock(&s->mu);
                        s->backlog -= len;
                        /* An admin rotation or a revocation of the key in use wants a batch
                         * boundary: hand the rest back. */
                        if (list && (atomic_load(&s->adm_state) != ADM_NONE ||
                                     atomic_load(&s->rev_state) == REV_REQUESTED)) {
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
                        chunk_free(list);
                        list = next;
                }
                if (r < 0)
                        break;
                if (s->batch_started &&
                    (stopping || sealer_mono_ns() >= s->batch_started + s->cfg->batch_latency_ns))
                        (void) sealer_flush_batch(s);
                if (stopping) {
                        pthread_mutex_lock(&s->mu);
                        int more = s->head != NULL;
                        pthread_mutex_unlock(&s->mu);
                        if (more)
                                continue;
                        while (ls_chain_writer_pending(s->cw) > 0) {
                                r = sealer_flush_batch(s);
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
                                r = sealer_close_at_stop(s);
                        if (r == 0)
                                r = sealer_seal_archive(s);
                        if (r == 0)
                                r = sealer_write_state(s, 1);
                        sealer_notify(s);
                        break;
                }
        }
        s->result = r;
        if (r < 0)
                fprintf(stderr, "logseald: sealer stopped: %s\n", strerror(-r));
        return NULL;
}

/*
 * The signer signs a batch header only if it extends the last one it signed (signer.c). It
 * refusing ours means someone else had it sign the chain's next batch - this process was
 * compromised - or a bug: either way nothing this process seals can be trusted. Fail closed
 * as when the signer is gone: what was read is in the WAL, and the next start continues from
 * the archives.
 */
static int sign_batch(void *ud, LsBatchHeader *h)
{
        int r = signer_sign_batch(ud, h);

        if (r == -EPERM) {
                fprintf(stderr, "logseald: the signer refused batch %" PRIu64 " (tree size %" PRIu64
                                "): it does not extend the chain the signer signed; exiting, the "
                                "next start recovers every record from the WAL\n",
                        h->batch_no, h->tree_size);
                _exit(EXIT_FAILURE);
        }
        return r;
}

int sealer_start(Sealer **ret, SealerInit *init, int notify_fd)
{
        LsChainWriterConfig wc = {
                .dirfd = init->archive_dirfd,
                .zstd_level = init->cfg->zstd_level,
                .columns = 1,
                .max_batch_raw = init->cfg->batch_max_bytes,
                .max_batch_records = init->cfg->batch_max_records,
                /* Each archive's dictionary learns from the latest payloads (SPEC §8.6). */
                .dict_size = init->cfg->dict_size,
                .dict_samples_min = MAX(init->cfg->dict_after, (uint64_t) 64 << 10),
                .dict_samples_max = DICT_SAMPLES_MAX,
                /* The signer process sees each batch header, not only its note body. */
                .sign_batch = sign_batch,
                .sign_batch_ud = init->signer,
        };
        Sealer *s = calloc(1, sizeof(*s));
        int r;

        if (!s) {
                free(TAKE_PTR(init->first));
                return -ENOMEM;
        }
        memcpy(wc.chain_id, init->chain_id, LS_CHAIN_ID_LEN);
        r = ls_chain_writer_new(&s->cw, &wc, &init->pos);
        if (r < 0) {
                free(TAKE_PTR(init->first));
                free(s);
                return r;
        }
        /* A restart learns again from what the last run sealed (best effort). */
        if (init->samples && init->samples->len)
                (void) ls_chain_writer_add_sample(s->cw, init->samples->buf, init->samples->len);
        s->cfg = init->cfg;
        s->state_dirfd = init->state_dirfd;
        s->archive_dirfd = init->archive_dirfd;
        s->sp = init->signer;
        s->key = init->key;
        signer_bind(s->sp, &s->key, &s->signer);
        s->cert = init->cert;
        s->emit_cert = init->emit_cert;
        memcpy(s->chain_id, init->chain_id, LS_CHAIN_ID_LEN);
        s->next_key = init->next_key;
        s->has_next = init->has_next;
        s->next_cert = init->next_cert;
        s->ep_last = init->last_batch;
        s->ep_have_last = init->have_last_batch;
        s->ep_max_time = init->epoch_max_time_ns;
        s->epoch_started = sealer_mono_ns();
        s->notify_fd = notify_fd;
        s->batch_last_wal = init->wal_id_base;
        s->state.wal_id = init->wal_id_base;
        s->state.undeclared = init->undeclared;
        s->first = TAKE_PTR(init->first);
        s->carried = init->carried;
        atomic_store(&s->st.durable_wal_id, init->wal_id_base);
        atomic_store(&s->st.last_tree_size, init->pos.tree.size);
        s->last_state_write = sealer_mono_ns();
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
                free(s->first);
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
        s->backlog += chunk_bytes(c);
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

void sealer_epoch_progress(Sealer *s, uint64_t *ret_batches, uint64_t *ret_age_ns)
{
        uint64_t now = sealer_mono_ns(), started = atomic_load(&s->epoch_started);

        *ret_batches = atomic_load(&s->epoch_batches_done);
        *ret_age_ns = now > started ? now - started : 0;
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
        bk_batch_done(&s->bk);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        pthread_cond_destroy(&s->adm_cv);
        free(s);
        return r;
}
