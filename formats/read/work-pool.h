/* SPDX-License-Identifier: Apache-2.0 */
/* work-pool.h: worker threads for the verifier's pure per-batch work, results taken in order */
#pragma once

#include <stddef.h>

/*
 * A job is a pure computation on data the job owns (decompress, decode, hash):
 * it never touches verifier state, findings or callbacks. The submitting thread
 * takes results back in the order it needs them with ls_pool_wait(), so every
 * decision stays on one thread and in order. With 0 threads ls_pool_submit()
 * runs the job at once on the caller's thread: the sequential path is the same
 * code, not a second implementation.
 */
typedef struct LsPoolJob LsPoolJob;
struct LsPoolJob {
        void (*run)(LsPoolJob *j);
        /* owned by the pool */
        LsPoolJob *next;
        int done;
};

typedef struct LsPool LsPool;

/* threads == 0: no threads, jobs run inside ls_pool_submit(). */
int ls_pool_new(LsPool **ret, unsigned threads);
/* Waits for queued jobs to finish, then joins the threads. Accepts NULL. */
LsPool *ls_pool_free(LsPool *p);
unsigned ls_pool_threads(const LsPool *p);

void ls_pool_submit(LsPool *p, LsPoolJob *j);
/* Until j has run; afterwards its results may be read on this thread. */
void ls_pool_wait(LsPool *p, LsPoolJob *j);

/* Online CPUs (at least 1). */
unsigned ls_online_cpus(void);
