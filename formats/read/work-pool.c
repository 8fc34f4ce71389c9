/* SPDX-License-Identifier: Apache-2.0 */
/* work-pool.c: a fixed set of pthreads taking jobs from one FIFO */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "work-pool.h"

struct LsPool {
        pthread_mutex_t lock;
        pthread_cond_t work;      /* a job was queued, or stop */
        pthread_cond_t finished;  /* a job is done */
        LsPoolJob *head, *tail;   /* queued, not started */
        int stop;
        unsigned n;
        pthread_t th[];
};

static void *worker(void *ud)
{
        LsPool *p = ud;

        pthread_mutex_lock(&p->lock);
        for (;;) {
                LsPoolJob *j;
                while (!p->head && !p->stop)
                        pthread_cond_wait(&p->work, &p->lock);
                if (!p->head)
                        break; /* stop, and nothing left to run */
                j = p->head;
                p->head = j->next;
                if (!p->head)
                        p->tail = NULL;
                pthread_mutex_unlock(&p->lock);
                j->run(j);
                pthread_mutex_lock(&p->lock);
                j->done = 1;
                pthread_cond_broadcast(&p->finished);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

int ls_pool_new(LsPool **ret, unsigned threads)
{
        LsPool *p = calloc(1, sizeof(*p) + (size_t) threads * sizeof(pthread_t));
        int r;

        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->work, NULL);
        pthread_cond_init(&p->finished, NULL);
        for (; p->n < threads; p->n++) {
                r = pthread_create(&p->th[p->n], NULL, worker, p);
                if (r != 0) {
                        if (p->n > 0)
                                break; /* fewer threads than asked: still correct */
                        ls_pool_free(p);
                        return -r;
                }
        }
        *ret = p;
        return 0;
}

LsPool *ls_pool_free(LsPool *p)
{
        if (!p)
                return NULL;
        pthread_mutex_lock(&p->lock);
        p->stop = 1;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n; i++)
                pthread_join(p->th[i], NULL);
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->finished);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}

unsigned ls_pool_threads(const LsPool *p)
{
        return p ? p->n : 0;
}

void ls_pool_submit(LsPool *p, LsPoolJob *j)
{
        j->next = NULL;
        j->done = 0;
        if (!p || p->n == 0) {
                j->run(j);
                j->done = 1;
                return;
        }
        pthread_mutex_lock(&p->lock);
        if (p->tail)
                p->tail->next = j;
        else
                p->head = j;
        p->tail = j;
        pthread_cond_signal(&p->work);
        pthread_mutex_unlock(&p->lock);
}

void ls_pool_wait(LsPool *p, LsPoolJob *j)
{
        if (!p || p->n == 0)
                return;
        pthread_mutex_lock(&p->lock);
        while (!j->done)
                pthread_cond_wait(&p->finished, &p->lock);
        pthread_mutex_unlock(&p->lock);
}

unsigned ls_online_cpus(void)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return n < 1 ? 1 : n > 256 ? 256 : (unsigned) n;
}
