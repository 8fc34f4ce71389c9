/* SPDX-License-Identifier: Apache-2.0 */
/* bundle-ahead.c: the bundle's entries hashed ahead on worker threads (step 5 of SPEC §14.3) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle-reader-internal.h"
#include "hash.h"
#include "merkle.h"
#include "util.h"

/*
 * ---- entries ahead: leaves and inclusion proofs on worker threads ----
 *
 * The entries pass (bundle-entries.c) stays as it is, in order, on this thread. Before it reaches a
 * window of entries, the window is read once more (pread, structure only), and workers
 * compute each entry's leaf hash and inclusion-proof result, pure functions of the entry's
 * bytes, the tree size and the checkpoint root. The pass takes a result only for the same
 * bytes at the same offset (compared), and computes it itself otherwise: findings are the
 * same with or without threads.
 */

static void ahead_job(LsPoolJob *pj)
{
        AheadJob *j = (AheadJob *) pj;
        Ahead *a = j->a;

        for (size_t x = j->from; x < j->to; x++) {
                AheadEntry *ae = &a->ent[x];
                const uint8_t *rec = a->bytes + ae->data;
                LsProof p;

                ls_leaf_hash(ae->leaf, ae->e.salt, rec, ae->e.record_len);
                ae->incl = AHEAD_NOT_RUN;
                if (a->root && ls_proof_decode(&p, rec + ae->e.record_len, ae->e.proof_len) == 0 &&
                    p.kind == LS_PROOF_INCLUSION && p.a == ae->e.seq && p.b == a->tree_size)
                        ae->incl = ls_verify_inclusion(ae->e.seq, a->tree_size, ae->leaf,
                                                       (const uint8_t(*)[LS_HASH_LEN]) p.path,
                                                       p.count, a->root);
        }
}

/* Reads and hashes the entries from index i at file offset off (at most `left` entries). */
static void ahead_fill(Ahead *a, const Stream *st, uint64_t i, uint64_t off, uint64_t left)
{
        size_t want = (size_t) MIN((uint64_t) AHEAD_BYTES, st->size > off ? st->size - off : 0);
        size_t got = 0, pos = 0;
        unsigned njobs, threads = ls_pool_threads(a->pool);

        a->first = i;
        a->n = 0;
        while (got < want) {
                ssize_t k = pread(st->fd, a->bytes + got, want - got, (off_t) (off + got));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                got += (size_t) k;
        }
        while (a->n < AHEAD_MAX_ENTRIES && a->n < left && got - pos >= LS_BUNDLE_ENTRY_FIXED_LEN) {
                AheadEntry *ae = &a->ent[a->n];
                if (ls_bundle_entry_decode(&ae->e, a->bytes + pos, LS_BUNDLE_ENTRY_FIXED_LEN) < 0 ||
                    (uint64_t) ae->e.record_len + ae->e.proof_len >
                            got - pos - LS_BUNDLE_ENTRY_FIXED_LEN)
                        break;
                ae->off = off + pos;
                ae->data = pos + LS_BUNDLE_ENTRY_FIXED_LEN;
                pos = ae->data + ae->e.record_len + ae->e.proof_len;
                a->n++;
        }
        if (a->n == 0) {
                a->stalled = i;
                return;
        }
        njobs = (unsigned) MIN((size_t) 2 * threads, (a->n + 31) / 32);
        njobs = MAX(njobs, 1u);
        for (unsigned x = 0; x < njobs; x++) {
                AheadJob *j = &a->jobs[x];
                j->pj.run = ahead_job;
                j->a = a;
                j->from = a->n * x / njobs;
                j->to = a->n * (x + 1) / njobs;
                ls_pool_submit(a->pool, &j->pj);
        }
        for (unsigned x = 0; x < njobs; x++)
                ls_pool_wait(a->pool, &a->jobs[x].pj);
}

/* The result for entry i at off with these bytes, or NULL: compute it here. */
const AheadEntry *bundle_ahead_get(LsBundleReader *b, const Stream *st, uint64_t i, uint64_t off,
                                   uint64_t left, const LsBundleEntry *e)
{
        Ahead *a = b->ahead;
        const AheadEntry *ae;

        if (!a)
                return NULL;
        if (i < a->first || i >= a->first + a->n) {
                if (i == a->stalled)
                        return NULL;
                ahead_fill(a, st, i, off, left);
                if (a->n == 0)
                        return NULL;
        }
        ae = &a->ent[i - a->first];
        if (ae->off != off || ae->e.record_len != e->record_len ||
            ae->e.proof_len != e->proof_len || ae->e.seq != e->seq ||
            memcmp(ae->e.salt, e->salt, LS_SALT_LEN) != 0 ||
            memcmp(a->bytes + ae->data, b->rec, e->record_len) != 0 ||
            memcmp(a->bytes + ae->data + e->record_len, b->proof, e->proof_len) != 0)
                return NULL; /* the file changed between the two reads */
        return ae;
}

int ls_bundle_reader_set_jobs(LsBundleReader *b, unsigned jobs)
{
        Ahead *a;
        int r;

        if (jobs == 0)
                jobs = ls_online_cpus();
        if (b->ahead) {
                ls_pool_free(b->ahead->pool);
                free(b->ahead->bytes);
                free(b->ahead);
                b->ahead = NULL;
        }
        if (jobs <= 1)
                return 0;
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->bytes = malloc(AHEAD_BYTES);
        r = a->bytes ? ls_pool_new(&a->pool, jobs) : -ENOMEM;
        if (r < 0) {
                free(a->bytes);
                free(a);
                return r;
        }
        a->stalled = UINT64_MAX;
        b->ahead = a;
        return 0;
}
