/* SPDX-License-Identifier: Apache-2.0 */
/* index-worker.c: logseald's indexing thread, which keeps the index caught up off the
 * critical path (see index.h) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "batchkeys.h"
#include "index-internal.h"
#include "state.h"
#include "util.h"

#define WORKER_NICE 10

/* ---- the daemon's indexing thread ---- */

struct IndexWorker {
        Index *ix;
        int archive_dirfd;
        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        uint64_t durable;          /* the newest durable tree size kicked */
        int kicked, stop;
        atomic_int cancel;
        IndexLogFn log;
        void *log_ud;
        char last_err[ERR_MAX];    /* the last error logged, to log each one once */
};

static void worker_log(IndexWorker *w, int level, const char *msg)
{
        if (w->log)
                w->log(w->log_ud, level, msg);
}

static void worker_run_once(IndexWorker *w, uint64_t durable)
{
        uint64_t added = 0;
        int r;

        index_set_limit(w->ix, durable);
        r = index_catch_up(w->ix, w->archive_dirfd, &added);
        if (r == -ESTALE) {
                char msg[ERR_MAX + 32];
                snprintf(msg, sizeof(msg), "%s; rebuilding", index_last_error(w->ix));
                worker_log(w, INDEX_LOG_WARNING, msg);
                r = index_rebuild(w->ix, w->archive_dirfd, &added);
                if (r == 0) {
                        snprintf(msg, sizeof(msg), "index rebuilt: %" PRIu64 " records", added);
                        worker_log(w, INDEX_LOG_INFO, msg);
                }
        }
        if (r < 0 && !atomic_load(&w->cancel)) {
                const char *e = index_last_error(w->ix);
                if (strcmp(e, w->last_err) != 0) {
                        worker_log(w, INDEX_LOG_ERR, e[0] ? e : strerror(-r));
                        snprintf(w->last_err, sizeof(w->last_err), "%s", e);
                }
        } else if (r == 0) {
                w->last_err[0] = 0;
        }
}

static void *worker_main(void *arg)
{
        IndexWorker *w = arg;

        /* Off the critical path: ingest and sealing come first. SCHED_IDLE runs the indexer
         * only on otherwise idle CPU time (under sustained overload the index lags and
         * catches up afterwards; queries catch up themselves); nice as a fallback. */
        {
                struct sched_param sp = {.sched_priority = 0};
                if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0)
                        (void) setpriority(PRIO_PROCESS, (id_t) gettid(), WORKER_NICE);
        }

        for (;;) {
                uint64_t durable;
                pthread_mutex_lock(&w->mu);
                while (!w->stop && !w->kicked)
                        pthread_cond_wait(&w->cv, &w->mu);
                if (w->stop) {
                        pthread_mutex_unlock(&w->mu);
                        break;
                }
                w->kicked = 0;
                durable = w->durable;
                pthread_mutex_unlock(&w->mu);
                worker_run_once(w, durable);
        }
        return NULL;
}

/* What index_worker_start() made, once the thread is gone (or never ran). */
static void worker_free(IndexWorker *w)
{
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        index_free(w->ix);
        close(w->archive_dirfd);
        free(w);
}

int index_worker_start(IndexWorker **ret, int state_dirfd, int archive_dirfd,
                       const uint8_t chain_id[LS_CHAIN_ID_LEN], int fulltext, IndexLogFn log,
                       void *userdata)
{
        IndexWorker *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return ix_fail(NULL, -ENOMEM, "%s: out of memory", STATE_INDEX);
        w->log = log;
        w->log_ud = userdata;
        w->archive_dirfd = fcntl(archive_dirfd, F_DUPFD_CLOEXEC, 3);
        if (w->archive_dirfd < 0) {
                r = ix_fail(NULL, -errno, "%s: %s", STATE_ARCHIVES, strerror(errno));
                free(w);
                return r;
        }
        r = index_open(&w->ix, state_dirfd, chain_id);
        if (r < 0) {
                close(w->archive_dirfd);
                free(w);
                return r;
        }
        w->ix->cancel = &w->cancel;
        index_set_log(w->ix, log, userdata);
        if (fulltext && index_enable_fulltext(w->ix) > 0)
                ix_note(w->ix, INDEX_LOG_WARNING,
                        "full-text index created; records indexed before are added by "
                        "'logsealctl reindex'");
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
        r = -pthread_create(&w->thread, NULL, worker_main, w);
        if (r < 0) {
                ix_fail(NULL, r, "%s: cannot start the indexing thread: %s", STATE_INDEX,
                        strerror(-r));
                worker_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

void index_worker_kick(IndexWorker *w, uint64_t durable_tree_size)
{
        if (!w)
                return;
        pthread_mutex_lock(&w->mu);
        w->durable = MAX(w->durable, durable_tree_size);
        w->kicked = 1;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
}

void index_worker_carry(IndexWorker *w, struct BkQueue *q)
{
        if (!w || !q)
                return;
        if (w->ix->ins_fts) {
                bk_queue_close(q);
                return;
        }
        w->ix->carried = q;
}

IndexWorker *index_worker_stop(IndexWorker *w, uint64_t *ret_carried, uint64_t *ret_read)
{
        if (!w)
                return NULL;
        atomic_store(&w->cancel, 1);
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        if (ret_carried)
                *ret_carried = w->ix->batches_carried;
        if (ret_read)
                *ret_read = w->ix->batches_read;
        worker_free(w);
        return NULL;
}

