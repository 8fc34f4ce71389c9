/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trust.c: the key trust rules of SPEC §9.3 and §9.4, in one place (trust.h), with
 * trust-learn.c and trust-decide.c (trust-internal.h): here the store of keys, revocations
 * and closes and its lookups.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "magic.h"
#include "trust-internal.h"
#include "util.h"

static uint64_t mix(uint64_t x)
{
        x ^= x >> 33;
        x *= UINT64_C(0xff51afd7ed558ccd);
        x ^= x >> 33;
        return x;
}

static uint64_t hash_id(const uint8_t id[LS_KEY_ID_LEN])
{
        return mix(ls_get64(id));
}

uint64_t trust_hash_epoch(const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t epoch)
{
        return mix(ls_get64(chain_id) ^ mix(ls_get64(chain_id + 8) ^ mix(epoch + 1)));
}

/* Inserts element i with hash h; the table holds at most half its slots. */
int trust_index_put(Index *ix, uint64_t h, size_t i, size_t count)
{
        if (2 * count > ix->cap)
                return -EAGAIN; /* the caller rebuilds with a larger table */
        for (size_t k = h & (ix->cap - 1);; k = (k + 1) & (ix->cap - 1))
                if (!ix->slot[k]) {
                        ix->slot[k] = i + 1;
                        return 0;
                }
}

int trust_index_reset(Index *ix, size_t count)
{
        size_t cap = 64;

        while (cap < 4 * count)
                cap *= 2;
        if (cap != ix->cap) {
                size_t *q = calloc(cap, sizeof(*q));
                if (!q)
                        return -ENOMEM;
                free(ix->slot);
                ix->slot = q;
                ix->cap = cap;
        } else {
                memset(ix->slot, 0, cap * sizeof(*ix->slot));
        }
        return 0;
}

int trust_grow(void **p, size_t *cap, size_t n, size_t elem, size_t max)
{
        if (n < *cap)
                return 0;
        if (n >= max)
                return -E2BIG;
        size_t c = *cap ? *cap * 2 : 16;
        void *q = realloc(*p, c * elem);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = c;
        return 0;
}

const char *ls_trust_result_name(LsTrustResult r)
{
        switch (r) {
        case LS_TRUST_OK:
                return "ok";
        case LS_TRUST_UNKNOWN_KEY:
                return "unknown key";
        case LS_TRUST_BAD_SIGNATURE:
                return "bad signature";
        case LS_TRUST_DENIED:
                return "key not allowed";
        case LS_TRUST_AFTER_CLOSE:
                return "contradicts epoch close";
        case LS_TRUST_REVOKED:
                return "revoked";
        case LS_TRUST_NOT_EVIDENCE:
                return "not evidence";
        }
        return "unknown";
}

LsKeyInfo *ls_trust_key(LsTrust *t, const uint8_t id[LS_KEY_ID_LEN])
{
        if (t->last_hit < t->nkeys && memcmp(t->keys[t->last_hit].key_id, id, LS_KEY_ID_LEN) == 0)
                return &t->keys[t->last_hit];
        if (!t->by_id.cap)
                return NULL;
        for (size_t k = hash_id(id) & (t->by_id.cap - 1); t->by_id.slot[k];
             k = (k + 1) & (t->by_id.cap - 1)) {
                size_t i = t->by_id.slot[k] - 1;
                if (memcmp(t->keys[i].key_id, id, LS_KEY_ID_LEN) == 0) {
                        t->last_hit = i;
                        return &t->keys[i];
                }
        }
        return NULL;
}

/* The signing key certified for (chain, epoch), or NULL. */
const LsKeyInfo *trust_key_by_epoch(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                                    uint64_t epoch)
{
        if (!t->by_epoch.cap)
                return NULL;
        for (size_t k = trust_hash_epoch(chain_id, epoch) & (t->by_epoch.cap - 1);
             t->by_epoch.slot[k]; k = (k + 1) & (t->by_epoch.cap - 1)) {
                const LsKeyInfo *o = &t->keys[t->by_epoch.slot[k] - 1];
                if (o->epoch == epoch && memcmp(o->chain_id, chain_id, LS_CHAIN_ID_LEN) == 0)
                        return o;
        }
        return NULL;
}

static int index_keys(LsTrust *t)
{
        int r = trust_index_reset(&t->by_id, t->nkeys);

        if (r == 0)
                r = trust_index_reset(&t->by_epoch, t->nkeys);
        for (size_t i = 0; r == 0 && i < t->nkeys; i++) {
                r = trust_index_put(&t->by_id, hash_id(t->keys[i].key_id), i, t->nkeys);
                if (r == 0 && !t->keys[i].is_root)
                        r = trust_index_put(&t->by_epoch,
                                            trust_hash_epoch(t->keys[i].chain_id, t->keys[i].epoch),
                                            i, t->nkeys);
        }
        return r;
}

size_t ls_trust_keys(const LsTrust *t, const LsKeyInfo **ret)
{
        *ret = t->keys;
        return t->nkeys;
}

int trust_key_add(LsTrust *t, const LsKeyInfo *k)
{
        int r = trust_grow((void **) &t->keys, &t->keys_cap, t->nkeys, sizeof(*t->keys), MAX_KEYS);

        if (r < 0)
                return r;
        t->keys[t->nkeys] = *k;
        LsKeyInfo *n = &t->keys[t->nkeys++];
        t->gen++;
        n->succ_gen = n->hv_gen = 0;
        n->in_history = t->loading;
        n->in_evidence = !t->loading;
        n->first_signed = n->last_signed = n->max_time_batch = LS_UNSET;
        r = trust_index_put(&t->by_id, hash_id(n->key_id), t->nkeys - 1, t->nkeys);
        if (r == 0 && !n->is_root)
                r = trust_index_put(&t->by_epoch, trust_hash_epoch(n->chain_id, n->epoch),
                                    t->nkeys - 1, t->nkeys);
        if (r == -EAGAIN)
                r = index_keys(t);
        if (r < 0) {
                t->nkeys--;
                (void) index_keys(t);
                return r;
        }
        for (size_t i = 0; i < t->nrevs; i++)
                if (memcmp(t->revs[i].key_id, n->key_id, LS_KEY_ID_LEN) == 0)
                        n->revoked = 1;
        return 0;
}

int ls_trust_new(LsTrust **ret, const uint8_t root_pk[LS_PK_LEN])
{
        LsTrust *t = calloc(1, sizeof(*t));
        LsKeyInfo root = {.is_root = 1};
        int r;

        if (!t)
                return -ENOMEM;
        memcpy(root.pk, root_pk, LS_PK_LEN);
        ls_key_id(root.key_id, root_pk);
        r = trust_key_add(t, &root);
        if (r < 0) {
                ls_trust_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

void ls_trust_mark_in_history(LsTrust *t, const uint8_t key_id[LS_KEY_ID_LEN])
{
        LsKeyInfo *k = ls_trust_key(t, key_id);

        if (k)
                k->in_history = 1;
}

LsTrust *ls_trust_free(LsTrust *t)
{
        if (!t)
                return NULL;
        free(t->by_id.slot);
        free(t->by_epoch.slot);
        free(t->close_by_epoch.slot);
        free(t->keys);
        free(t->revs);
        free(t->closes);
        free(t);
        return NULL;
}

void ls_trust_set_chain(LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        memcpy(t->chain_id, chain_id, LS_CHAIN_ID_LEN);
        t->have_chain = 1;
}

int trust_other_chain(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        return t->have_chain && memcmp(t->chain_id, chain_id, LS_CHAIN_ID_LEN) != 0;
}

Close *trust_close_find(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t epoch)
{
        if (!t->close_by_epoch.cap)
                return NULL;
        for (size_t k = trust_hash_epoch(chain_id, epoch) & (t->close_by_epoch.cap - 1);
             t->close_by_epoch.slot[k]; k = (k + 1) & (t->close_by_epoch.cap - 1)) {
                Close *c = &t->closes[t->close_by_epoch.slot[k] - 1];
                if (c->c.closed_epoch == epoch &&
                    memcmp(c->c.chain_id, chain_id, LS_CHAIN_ID_LEN) == 0)
                        return c;
        }
        return NULL;
}

const LsEpochClose *ls_trust_close(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                                   uint64_t epoch)
{
        Close *c = trust_close_find(t, chain_id, epoch);
        return c ? &c->c : NULL;
}

/* The successor with the smallest epoch above k's, in k's chain, or NULL. */
const LsKeyInfo *trust_successor(const LsTrust *t, const LsKeyInfo *k)
{
        const LsKeyInfo *best = trust_key_by_epoch(t, k->chain_id, k->epoch + 1);

        if (best || k->epoch == UINT64_MAX)
                return best;
        /* the last epoch's key: cached until a key is added (else a scan per batch) */
        if (k->succ_gen == t->gen + 1)
                return k->succ_idx == SIZE_MAX ? NULL : &t->keys[k->succ_idx];
        /* Epochs are consecutive in every chain a writer makes; a root may skip some. */
        for (size_t i = 0; i < t->nkeys; i++) {
                const LsKeyInfo *o = &t->keys[i];
                if (o->is_root || o->epoch <= k->epoch ||
                    memcmp(o->chain_id, k->chain_id, LS_CHAIN_ID_LEN) != 0)
                        continue;
                if (!best || o->epoch < best->epoch)
                        best = o;
        }
        ((LsKeyInfo *) k)->succ_gen = t->gen + 1;
        ((LsKeyInfo *) k)->succ_idx = best ? (size_t) (best - t->keys) : SIZE_MAX;
        return best;
}

int ls_trust_epoch_ended(const LsTrust *t, const LsKeyInfo *k)
{
        return !k->is_root && (trust_successor(t, k) || trust_close_find(t, k->chain_id, k->epoch));
}


uint64_t ls_trust_known_last_batch(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        uint64_t last = LS_UNSET;

        for (size_t i = 0; i < t->ncloses; i++) {
                const LsEpochClose *c = &t->closes[i].c;
                if (memcmp(c->chain_id, chain_id, LS_CHAIN_ID_LEN) != 0)
                        continue;
                /* the successor seals the close as the first record of the next batch */
                if (last == LS_UNSET || c->last_batch_no + 1 > last)
                        last = c->last_batch_no + 1;
        }
        return last;
}

int ls_trust_anchor_is_later_root(const LsTrust *t, uint8_t issuer_key_id[LS_KEY_ID_LEN],
                                  uint64_t *generation)
{
        if (!t->later_root)
                return 0;
        memcpy(issuer_key_id, t->later_root_issuer, LS_KEY_ID_LEN);
        *generation = t->later_root_generation;
        return 1;
}
