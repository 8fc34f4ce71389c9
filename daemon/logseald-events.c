/* SPDX-License-Identifier: Apache-2.0 */
/* logseald-events.c: the event loop's handlers: the tick (status, clock checks, checkpoint
 * publication, loss declarations), the sealer's durable notifications, signals */
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "batch.h"
#include "control.h"
#include "control-socket.h"
#include "index.h"
#include "ingest.h"
#include "listen.h"
#include "sources.h"
#include "logseald-internal.h"
#include "logseald.h"
#include "sequence.h"
#include "state.h"
#include "util.h"

extern char **environ;

/* ---- timers and events ---- */

static void update_status(Daemon *d)
{
        SealerStats *st = sealer_stats(d->sealer);

        sd_notifyf(0,
                   "STATUS=%s received %" PRIu64 ", sealed %" PRIu64 ", batches %" PRIu64
                   ", backlog %zu bytes%s",
                   atomic_load(&st->degraded) ? "DEGRADED (archive writes failing):" : "running:",
                   d->received, atomic_load(&st->records_sealed), atomic_load(&st->batches),
                   sealer_backlog(d->sealer), d->paused ? ", input paused" : "");
}

/*
 * CLOCK_REALTIME and CLOCK_BOOTTIME read at one moment (BOOTTIME keeps counting through a
 * suspend, as the wall clock does). Reading a clock early or late, or a stall between two
 * ticks (SIGSTOP, a loaded machine, a paused VM), moves both alike; only a step of the wall
 * clock moves one against the other. Retries when the process was held up between the reads.
 */
static void read_clocks(uint64_t *ret_real, uint64_t *ret_boot)
{
        struct timespec b0, rt, b1;
        uint64_t a, b;

        for (int i = 0;; i++) {
                clock_gettime(CLOCK_BOOTTIME, &b0);
                clock_gettime(CLOCK_REALTIME, &rt);
                clock_gettime(CLOCK_BOOTTIME, &b1);
                a = (uint64_t) b0.tv_sec * 1000000000u + (uint64_t) b0.tv_nsec;
                b = (uint64_t) b1.tv_sec * 1000000000u + (uint64_t) b1.tv_nsec;
                if (b - a < 10000000u || i == 4)
                        break;
        }
        *ret_real = (uint64_t) rt.tv_sec * 1000000000u + (uint64_t) rt.tv_nsec;
        *ret_boot = a + (b - a) / 2;
}

/* A wall-clock step (NTP, an admin) shows as realtime moving unlike the boot-time clock. */
static void check_clock(Daemon *d)
{
        static uint64_t last_now, last_boot;
        uint64_t now, boot;
        int64_t delta;

        read_clocks(&now, &boot);
        if (last_now) {
                delta = (int64_t) (now - last_now) - (int64_t) (boot - last_boot);
                if (delta > 1000000000ll || delta < -1000000000ll) {
                        LsControlBuilder *b = malloc(sizeof(*b));
                        if (b) {
                                ls_control_begin(b, LS_CTL_CLOCK_STEP);
                                ls_control_add_u64(b, LS_TAG_FIRST_TIME,
                                                   last_now + (boot - last_boot));
                                ls_control_add_u64(b, LS_TAG_LAST_TIME, now);
                                ls_control_add_u64(b, LS_TAG_CLOCK_DELTA, (uint64_t) delta);
                                emit_control(d, b);
                                free(b);
                        }
                        fprintf(stderr, "logseald: the wall clock stepped by %+.3f s (recorded)\n",
                                (double) delta / 1e9);
                }
        }
        last_now = now;
        last_boot = boot;
}

/*
 * Checkpoint publication: every publish_interval, when the chain grew, the latest signed
 * checkpoint goes to publish_dir (checkpoint-<tree size>.txt and latest.txt) and/or to
 * publish_command (run with the file as its only argument, no shell), so that another
 * agency or a witness holds it; each publication is sealed as a custody record.
 */
static void publish_checkpoint(Daemon *d, uint64_t now)
{
        char text[LS_MAX_CHECKPOINT_TEXT], name[64], path[PATH_MAX];
        uint8_t pk[LS_PK_LEN];
        LsBatchHeader h;
        int n, dfd = -1, r = 0;

        if ((!d->cfg.publish_dir && !d->cfg.publish_command) ||
            now - d->published_at < d->cfg.publish_interval_ns)
                return;
        d->published_at = now;
        if (sealer_last_batch(d->sealer, &h, pk) < 0 || h.tree_size == d->published_size)
                return;
        n = ls_batch_checkpoint(&h, pk, text, sizeof(text));
        if (n < 0)
                return;
        snprintf(name, sizeof(name), "checkpoint-%020" PRIu64 ".txt", h.tree_size);
        if (d->cfg.publish_dir) {
                dfd = open(d->cfg.publish_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        r = -errno;
                if (r == 0)
                        r = write_file_atomic(dfd, name, text, (size_t) n, 0644);
                if (r == 0)
                        r = write_file_atomic(dfd, "latest.txt", text, (size_t) n, 0644);
                if (dfd >= 0)
                        close(dfd);
                if (r < 0) {
                        fprintf(stderr, "logseald: cannot publish the checkpoint to %s: %s\n",
                                d->cfg.publish_dir, strerror(-r));
                        return;
                }
                snprintf(path, sizeof(path), "%s/%s", d->cfg.publish_dir, name);
        } else {
                /* Only a command: hand it a private copy in the state directory (in wal/,
                 * which the confined daemon may write: confine.c). */
                r = write_file_atomic(d->state_dirfd, STATE_PUBLISH_COPY, text, (size_t) n, 0600);
                if (r < 0)
                        return;
                snprintf(path, sizeof(path), "%s/%s", d->cfg.state_dir, STATE_PUBLISH_COPY);
        }
        if (d->cfg.publish_command) {
                char *argv[] = {d->cfg.publish_command, path, NULL};
                posix_spawnattr_t attr;
                sigset_t def;
                pid_t pid;
                /* Not waited for here: SIGCHLD is ignored, so it is reaped automatically;
                 * the command itself starts with default signal dispositions. */
                sigemptyset(&def);
                sigaddset(&def, SIGCHLD);
                sigaddset(&def, SIGPIPE);
                posix_spawnattr_init(&attr);
                posix_spawnattr_setsigdefault(&attr, &def);
                posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
                sigemptyset(&def);
                posix_spawnattr_setsigmask(&attr, &def);
                r = posix_spawn(&pid, d->cfg.publish_command, NULL, &attr, argv, environ);
                posix_spawnattr_destroy(&attr);
                if (r != 0)
                        fprintf(stderr, "logseald: cannot run %s: %s\n", d->cfg.publish_command,
                                strerror(r));
        }
        d->published_size = h.tree_size;
        {
                LsControlBuilder *b = malloc(sizeof(*b));
                if (b) {
                        ls_control_begin(b, LS_CTL_CUSTODY);
                        ls_control_add_u64(b, LS_TAG_COUNT, h.tree_size);
                        ls_control_add_str(b, LS_TAG_TEXT, name);
                        ls_control_add_u16(b, LS_TAG_ACTION, LS_CUSTODY_CHECKPOINT);
                        emit_control(d, b);
                        free(b);
                }
        }
}

/* Saves the senders' sequence numbers when everything observed is in the WAL. */
static void senders_checkpoint(Daemon *d)
{
        static int failing;
        int r;

        if (!senders_dirty(d->senders) || (d->pending && d->pending->count))
                return;
        r = senders_save(d->senders, d->state_dirfd, d->last_wal_id);
        if (r == 0)
                d->senders_wal_id = d->last_wal_id;
        else if (!failing)
                /* The WAL is not trimmed past what the saved state covers: it grows. */
                fprintf(stderr, "logseald: cannot save %s/%s: %s; the write-ahead log keeps "
                                "everything since the last save until it works\n",
                        d->cfg.state_dir, STATE_SENDERS, strerror(-r));
        failing = r < 0;
}

int on_tick(sd_event_source *s, uint64_t usec, void *ud)
{
        Daemon *d = ud;
        static unsigned ticks;
        uint64_t now = now_realtime_ns();

        if (d->stopping)
                return 0;
        ticks++;
        check_clock(d);
        listeners_tick(d, now);
        declare_losses(d, 0);
        ingest_expire_sequences(d);
        if (now - d->last_ingest_ns >= d->cfg.heartbeat_ns) {
                LsControlBuilder *b = malloc(sizeof(*b));
                if (b) {
                        ls_control_begin(b, LS_CTL_HEARTBEAT);
                        ls_control_add_u64(b, LS_TAG_RECEIVED, d->received);
                        emit_control(d, b);
                        free(b);
                }
                d->last_ingest_ns = now;
        }
        publish_checkpoint(d, now);
        (void) ingest_commit(d);
        /* Power loss loses at most about one tick of WAL. */
        if (wal_sync(d->wal) < 0 && ticks % 50 == 0)
                fprintf(stderr, "logseald: WAL fdatasync failed\n");
        if (d->paused && sealer_backlog(d->sealer) < d->cfg.queue_max_bytes / 2 &&
            (!d->pending || !d->pending->count))
                listeners_pause(d, 0);
        if (ticks % 10 == 0) {
                update_status(d);
                senders_checkpoint(d);
        }
        sd_event_source_set_time(s, usec + TICK_NS / 1000);
        return 0;
}

void index_log(void *ud, int level, const char *msg)
{
        (void) ud;
        (void) level;
        fprintf(stderr, "logseald: index: %s\n", msg);
}

int on_durable(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        Daemon *d = ud;
        uint64_t v;

        (void) s;
        (void) revents;
        (void) !read(fd, &v, sizeof(v));
        uint64_t durable = atomic_load(&sealer_stats(d->sealer)->durable_wal_id);

        /* The WAL keeps what the saved sender state does not cover yet: a crash replays it
         * into that state (senders_start), so no sender's numbers are missed. */
        if (senders_dirty(d->senders))
                durable = MIN(durable, d->senders_wal_id);
        (void) wal_trim(d->wal, durable);
        if (indexer)
                index_worker_kick(indexer, atomic_load(&sealer_stats(d->sealer)->last_tree_size));
        return 0;
}

/* SIGHUP's default action would end the daemon without sealing: say why nothing happens. */
int on_hangup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
        (void) s;
        (void) si;
        (void) ud;
        fprintf(stderr, "logseald: SIGHUP ignored: there is nothing to reload; restart logseald "
                        "to apply configuration changes (SIGTERM seals everything first)\n");
        return 0;
}

int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
        Daemon *d = ud;

        (void) s;
        if (d->stopping)
                return 0;
        d->stopping = 1;
        sd_notify(0, "STOPPING=1\nSTATUS=sealing pending records");
        fprintf(stderr, "logseald: %s: sealing pending records and stopping\n",
                strsignal((int) si->ssi_signo));
        /* Seal what senders have written before anything else (listen.c). */
        listeners_drain(d);
        /* Losses first: declare_losses reads the listeners' counters, which close frees. */
        declare_losses(d, 1);
        listeners_close(d);
        control_close(d);
        emit_stop(d, si->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        (void) ingest_commit(d);
        (void) wal_sync(d->wal);
        senders_checkpoint(d);
        sd_event_exit(d->event, 0);
        return 0;
}
