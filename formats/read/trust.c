/* SPDX-License-Identifier: Apache-2.0 */
/* trust.c: the key trust rules of SPEC §9.3 and §9.4, in one place */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "magic.h"
#include "trust.h"
#include "util.h"

/* Bounds on trust material: a 64 MiB history holds at most ~400,000 items; memory stays
 * bounded (hourly epochs for 50 years are 438,000 keys and closes). */
#define MAX_KEYS (1u << 19)
#define MAX_REVS 65536
#define MAX_CLOSES (1u << 19)

typedef struct Rev {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t from_batch, from_time_ns;
} Rev;

typedef struct Close {
        LsEpochClose c;
        uint8_t hash[LS_HASH_LEN];
        int in_history, in_evidence;   /* where it was learnt (see LsKeyInfo) */
} Close;

/*
 * Open-addressing indexes (slot = element index + 1, 0 empty), so that every lookup a
 * batch needs is O(1) however many epochs a chain has lived through (hourly epochs for
 * years are tens of thousands of keys and closes).
 */
typedef struct Index {
        size_t *slot;
        size_t cap;         /* a power of two, or 0 */
} Index;

struct LsTrust {
        Index by_id;        /* keys by key_id */
        Index by_epoch;     /* signing keys by (chain, epoch) */
        Index close_by_epoch;
        size_t last_hit;    /* the key found last (batches of one key come in runs) */
        uint64_t gen;       /* bumped when a key or a revocation is added (invalidates caches) */
        int loading;        /* within ls_trust_load_history: keys learnt come from a history */
        LsKeyInfo *keys;
        size_t nkeys, keys_cap;
        Rev *revs;
        size_t nrevs, revs_cap;
        Close *closes;
        size_t ncloses, closes_cap;
        int have_chain;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        /* a root certificate whose subject is the anchor but whose issuer is unknown */
        int later_root;
        uint8_t later_root_issuer[LS_KEY_ID_LEN];
        uint64_t later_root_generation;
        /* the first conflict between the investigator's history and the evidence */
        int have_conflict;
        LsTrustConflict conflict;
};

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

static uint64_t hash_epoch(const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t epoch)
{
        return mix(ls_get64(chain_id) ^ mix(ls_get64(chain_id + 8) ^ mix(epoch + 1)));
}

/* Inserts element i with hash h; the table holds at most half its slots. */
static int index_put(Index *ix, uint64_t h, size_t i, size_t count)
{
        if (2 * count > ix->cap)
                return -EAGAIN; /* the caller rebuilds with a larger table */
        for (size_t k = h & (ix->cap - 1);; k = (k + 1) & (ix->cap - 1))
                if (!ix->slot[k]) {
                        ix->slot[k] = i + 1;
                        return 0;
                }
}

static int index_reset(Index *ix, size_t count)
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

static int grow(void **p, size_t *cap, size_t n, size_t elem, size_t max)
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
static const LsKeyInfo *key_by_epoch(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                                     uint64_t epoch)
{
        if (!t->by_epoch.cap)
                return NULL;
        for (size_t k = hash_epoch(chain_id, epoch) & (t->by_epoch.cap - 1); t->by_epoch.slot[k];
             k = (k + 1) & (t->by_epoch.cap - 1)) {
                const LsKeyInfo *o = &t->keys[t->by_epoch.slot[k] - 1];
                if (o->epoch == epoch && memcmp(o->chain_id, chain_id, LS_CHAIN_ID_LEN) == 0)
                        return o;
        }
        return NULL;
}

static int index_keys(LsTrust *t)
{
        int r = index_reset(&t->by_id, t->nkeys);

        if (r == 0)
                r = index_reset(&t->by_epoch, t->nkeys);
        for (size_t i = 0; r == 0 && i < t->nkeys; i++) {
                r = index_put(&t->by_id, hash_id(t->keys[i].key_id), i, t->nkeys);
                if (r == 0 && !t->keys[i].is_root)
                        r = index_put(&t->by_epoch,
                                      hash_epoch(t->keys[i].chain_id, t->keys[i].epoch), i,
                                      t->nkeys);
        }
        return r;
}

size_t ls_trust_keys(const LsTrust *t, const LsKeyInfo **ret)
{
        *ret = t->keys;
        return t->nkeys;
}

static int key_add(LsTrust *t, const LsKeyInfo *k)
{
        int r = grow((void **) &t->keys, &t->keys_cap, t->nkeys, sizeof(*t->keys), MAX_KEYS);

        if (r < 0)
                return r;
        t->keys[t->nkeys] = *k;
        LsKeyInfo *n = &t->keys[t->nkeys++];
        t->gen++;
        n->succ_gen = n->hv_gen = 0;
        n->in_history = t->loading;
        n->in_evidence = !t->loading;
        n->first_signed = n->last_signed = n->max_time_batch = LS_UNSET;
        r = index_put(&t->by_id, hash_id(n->key_id), t->nkeys - 1, t->nkeys);
        if (r == 0 && !n->is_root)
                r = index_put(&t->by_epoch, hash_epoch(n->chain_id, n->epoch), t->nkeys - 1,
                              t->nkeys);
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
        r = key_add(t, &root);
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

static int other_chain(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        return t->have_chain && memcmp(t->chain_id, chain_id, LS_CHAIN_ID_LEN) != 0;
}

static Close *close_find(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t epoch)
{
        if (!t->close_by_epoch.cap)
                return NULL;
        for (size_t k = hash_epoch(chain_id, epoch) & (t->close_by_epoch.cap - 1);
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
        Close *c = close_find(t, chain_id, epoch);
        return c ? &c->c : NULL;
}

/* The successor with the smallest epoch above k's, in k's chain, or NULL. */
static const LsKeyInfo *successor(const LsTrust *t, const LsKeyInfo *k)
{
        const LsKeyInfo *best = key_by_epoch(t, k->chain_id, k->epoch + 1);

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
        return !k->is_root && (successor(t, k) || close_find(t, k->chain_id, k->epoch));
}

/* ---- learning ---- */

void ls_trust_from_history(LsTrust *t, int on)
{
        t->loading = !!on;
}

int ls_trust_conflict(const LsTrust *t, LsTrustConflict *ret)
{
        if (t->have_conflict && ret)
                *ret = t->conflict;
        return t->have_conflict;
}

/*
 * An item of the evidence is refused because of something only the investigator's history
 * says (old_*): record the conflict (the first one). Nothing when the item comes from the
 * history itself (the history's own item is then the one refused: an input error anyway)
 * or when the evidence carries the older item too.
 */
static void note_conflict(LsTrust *t, char kind, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                          uint64_t epoch, int old_in_history, int old_in_evidence,
                          const uint8_t old_key_id[LS_KEY_ID_LEN],
                          const uint8_t new_key_id[LS_KEY_ID_LEN])
{
        if (t->loading || !old_in_history || old_in_evidence || t->have_conflict)
                return;
        t->have_conflict = 1;
        t->conflict.kind = kind;
        memcpy(t->conflict.chain_id, chain_id, LS_CHAIN_ID_LEN);
        t->conflict.epoch = epoch;
        memcpy(t->conflict.history_key_id, old_key_id, LS_KEY_ID_LEN);
        memcpy(t->conflict.evidence_key_id, new_key_id, LS_KEY_ID_LEN);
}

int ls_trust_add_cert(LsTrust *t, const LsCert *c, const char **why)
{
        LsKeyInfo *issuer, *have, k = {};
        const char *w = NULL;
        int r;

        issuer = ls_trust_key(t, c->issuer_key_id);
        if (!issuer) {
                uint8_t anchor[LS_KEY_ID_LEN];
                ls_key_id(anchor, t->keys[0].pk);
                if (c->kind == LS_CERT_ROOT && memcmp(c->key_id, anchor, LS_KEY_ID_LEN) == 0 &&
                    (!t->later_root || c->epoch > t->later_root_generation)) {
                        t->later_root = 1;
                        memcpy(t->later_root_issuer, c->issuer_key_id, LS_KEY_ID_LEN);
                        t->later_root_generation = c->epoch;
                }
                w = "its issuer is not a trusted key";
                r = -ENOKEY;
                goto out;
        }
        if (ls_cert_verify(c, issuer->pk) < 0) {
                w = "its signature does not verify under its issuer's key";
                r = -EKEYREJECTED;
                goto out;
        }
        if (c->kind == LS_CERT_SIGNING && other_chain(t, c->chain_id)) {
                w = "it certifies a key of another chain";
                r = -EXDEV;
                goto out;
        }
        have = ls_trust_key(t, c->key_id);
        if (have) {
                /* The same key certified again (a copy of the certificate, or a re-issue). */
                if (have->is_root == (c->kind == LS_CERT_ROOT) && have->epoch == c->epoch &&
                    (have->is_root ||
                     (memcmp(have->chain_id, c->chain_id, LS_CHAIN_ID_LEN) == 0 &&
                      have->valid_from_batch == c->valid_from_batch &&
                      have->cert_flags == c->flags))) {
                        have->in_history |= t->loading;
                        have->in_evidence |= !t->loading;
                        return 0;
                }
                note_conflict(t, 'C', c->chain_id, c->epoch, have->in_history, have->in_evidence,
                              have->key_id, c->key_id);
                w = "the key is already certified differently (another epoch, chain or start)";
                r = -EKEYREJECTED;
                goto out;
        }
        if (c->kind == LS_CERT_ROOT) {
                if (!issuer->is_root) {
                        w = "a root key certified by a signing key";
                        r = -EKEYREJECTED;
                        goto out;
                }
                if (c->epoch <= issuer->epoch) {
                        w = "a root generation not above its issuer's";
                        r = -EKEYREJECTED;
                        goto out;
                }
                k.is_root = 1;
        } else {
                if (!issuer->is_root) {
                        if (memcmp(issuer->chain_id, c->chain_id, LS_CHAIN_ID_LEN) != 0) {
                                w = "a signing key of one chain certifies a key of another";
                                r = -EKEYREJECTED;
                                goto out;
                        }
                        if (c->epoch != issuer->epoch + 1 ||
                            c->valid_from_batch <= issuer->valid_from_batch) {
                                w = "a signing key may only hand over to the next epoch, later "
                                    "in the chain";
                                r = -EKEYREJECTED;
                                goto out;
                        }
                }
                /* Two keys for one epoch of one chain: a forked key history. */
                const LsKeyInfo *other = key_by_epoch(t, c->chain_id, c->epoch);
                if (other) {
                        note_conflict(t, 'C', c->chain_id, c->epoch, other->in_history,
                                      other->in_evidence, other->key_id, c->key_id);
                        w = "another key is already certified for this epoch (forked key history)";
                        r = -EKEYREJECTED;
                        goto out;
                }
                /* A close of this epoch known already must name this very key. */
                const Close *cl = close_find(t, c->chain_id, c->epoch);
                if (cl && (memcmp(cl->c.closed_key_id, c->key_id, LS_KEY_ID_LEN) != 0 ||
                           cl->c.last_batch_no < c->valid_from_batch)) {
                        note_conflict(t, 'X', c->chain_id, c->epoch, cl->in_history,
                                      cl->in_evidence, cl->c.closed_key_id, c->key_id);
                        w = "the signed close of this epoch names another key or window";
                        r = -EILSEQ;
                        goto out;
                }
                k.root_issued = issuer->is_root;
                k.cert_flags = c->flags;
                memcpy(k.chain_id, c->chain_id, LS_CHAIN_ID_LEN);
        }
        memcpy(k.key_id, c->key_id, LS_KEY_ID_LEN);
        memcpy(k.pk, c->pk, LS_PK_LEN);
        k.epoch = c->epoch;
        k.valid_from_batch = c->valid_from_batch;
        memcpy(k.issuer_key_id, c->issuer_key_id, LS_KEY_ID_LEN);
        r = key_add(t, &k);
        if (r < 0)
                w = "too many keys";
out:
        if (why)
                *why = w;
        return r;
}

int ls_trust_add_revocation(LsTrust *t, const LsRevocation *rv, const char **why)
{
        LsKeyInfo *issuer = ls_trust_key(t, rv->issuer_key_id);
        const char *w = NULL;
        int r;

        if (!issuer || !issuer->is_root) {
                w = "not signed by a trusted root key";
                r = -ENOKEY;
                goto out;
        }
        if (ls_revocation_verify(rv, issuer->pk) < 0) {
                w = "its signature does not verify under the root key it names";
                r = -EKEYREJECTED;
                goto out;
        }
        if (other_chain(t, rv->chain_id)) {
                w = "it revokes a key of another chain";
                r = -EXDEV;
                goto out;
        }
        for (size_t i = 0; i < t->nrevs; i++) {
                Rev *e = &t->revs[i];
                if (!memcmp(e->key_id, rv->revoked_key_id, LS_KEY_ID_LEN) &&
                    !memcmp(e->chain_id, rv->chain_id, LS_CHAIN_ID_LEN) &&
                    e->from_batch == rv->from_batch && e->from_time_ns == rv->from_time_ns)
                        return 0;
        }
        r = grow((void **) &t->revs, &t->revs_cap, t->nrevs, sizeof(*t->revs), MAX_REVS);
        if (r < 0) {
                w = "too many revocations";
                goto out;
        }
        Rev *e = &t->revs[t->nrevs++];
        t->gen++;
        memcpy(e->chain_id, rv->chain_id, LS_CHAIN_ID_LEN);
        memcpy(e->key_id, rv->revoked_key_id, LS_KEY_ID_LEN);
        e->from_batch = rv->from_batch;
        e->from_time_ns = rv->from_time_ns;
        LsKeyInfo *k = ls_trust_key(t, rv->revoked_key_id);
        if (k)
                k->revoked = 1;
out:
        if (why)
                *why = w;
        return r;
}

int ls_trust_add_close(LsTrust *t, const LsEpochClose *c, const char **why)
{
        LsKeyInfo *issuer = ls_trust_key(t, c->issuer_key_id), *closed;
        const char *w = NULL;
        uint8_t h[LS_HASH_LEN];
        Close *have, *prev, *next;
        int r;

        if (!issuer) {
                w = "its issuer is not a trusted key";
                r = -ENOKEY;
                goto out;
        }
        if (issuer->is_root || ls_close_verify(c, issuer->pk) < 0) {
                w = "its signature does not verify under a signing key";
                r = -EKEYREJECTED;
                goto out;
        }
        if (other_chain(t, c->chain_id)) {
                w = "it closes an epoch of another chain";
                r = -EXDEV;
                goto out;
        }
        /* Only the successor states what an epoch sealed, in its own chain, right before it. */
        if (memcmp(issuer->chain_id, c->chain_id, LS_CHAIN_ID_LEN) != 0 ||
            issuer->epoch != c->closed_epoch + 1 || c->last_batch_no + 1 != issuer->valid_from_batch) {
                w = "not signed by the key that took over right after the epoch it closes";
                r = -EKEYREJECTED;
                goto out;
        }
        /* The key it closes: the one certified for that epoch of that chain, once known. */
        const LsKeyInfo *certified = key_by_epoch(t, c->chain_id, c->closed_epoch);
        closed = ls_trust_key(t, c->closed_key_id);
        if ((certified && memcmp(certified->key_id, c->closed_key_id, LS_KEY_ID_LEN) != 0) ||
            (closed && (closed->is_root || closed->epoch != c->closed_epoch ||
                        memcmp(closed->chain_id, c->chain_id, LS_CHAIN_ID_LEN) != 0 ||
                        c->last_batch_no < closed->valid_from_batch))) {
                if (certified)
                        note_conflict(t, 'C', c->chain_id, c->closed_epoch, certified->in_history,
                                      certified->in_evidence, certified->key_id,
                                      c->closed_key_id);
                w = "the key it closes is not the one certified for that epoch";
                r = -EKEYREJECTED;
                goto out;
        }
        ls_close_hash(c, h);
        have = close_find(t, c->chain_id, c->closed_epoch);
        if (have) {
                if (ls_hash_equal(have->hash, h)) {
                        have->in_history |= t->loading;
                        have->in_evidence |= !t->loading;
                        return 0;
                }
                note_conflict(t, 'X', c->chain_id, c->closed_epoch, have->in_history,
                              have->in_evidence, have->c.closed_key_id, c->closed_key_id);
                w = "a different close of the same epoch is known: the histories disagree";
                r = -EILSEQ;
                goto out;
        }
        prev = c->closed_epoch ? close_find(t, c->chain_id, c->closed_epoch - 1) : NULL;
        if (prev && !ls_hash_equal(prev->hash, c->prev_close_hash)) {
                note_conflict(t, 'X', c->chain_id, c->closed_epoch - 1, prev->in_history,
                              prev->in_evidence, prev->c.closed_key_id, c->closed_key_id);
                w = "it does not link to the known close of the epoch before";
                r = -EILSEQ;
                goto out;
        }
        next = close_find(t, c->chain_id, c->closed_epoch + 1);
        if (next && !ls_hash_equal(next->c.prev_close_hash, h)) {
                note_conflict(t, 'X', c->chain_id, c->closed_epoch + 1, next->in_history,
                              next->in_evidence, next->c.closed_key_id, c->closed_key_id);
                w = "the known close of the next epoch does not link to it";
                r = -EILSEQ;
                goto out;
        }
        r = grow((void **) &t->closes, &t->closes_cap, t->ncloses, sizeof(*t->closes),
                 MAX_CLOSES);
        if (r < 0) {
                w = "too many epoch closes";
                goto out;
        }
        t->closes[t->ncloses].c = *c;
        memcpy(t->closes[t->ncloses].hash, h, LS_HASH_LEN);
        t->closes[t->ncloses].in_history = t->loading;
        t->closes[t->ncloses].in_evidence = !t->loading;
        t->ncloses++;
        r = index_put(&t->close_by_epoch, hash_epoch(c->chain_id, c->closed_epoch),
                      t->ncloses - 1, t->ncloses);
        if (r == -EAGAIN) {
                r = index_reset(&t->close_by_epoch, t->ncloses);
                for (size_t i = 0; r == 0 && i < t->ncloses; i++)
                        r = index_put(&t->close_by_epoch,
                                      hash_epoch(t->closes[i].c.chain_id, t->closes[i].c.closed_epoch),
                                      i, t->ncloses);
        }
        if (r < 0) {
                w = "out of memory";
                t->ncloses--;
                goto out;
        }
out:
        if (why)
                *why = w;
        return r;
}

static int ent_cmp(const void *a, const void *b)
{
        return memcmp(a, b, LS_KEY_ID_LEN);
}

int ls_trust_load_history(LsTrust *t, const uint8_t *p, size_t n,
                          void (*item_cb)(void *ud, size_t offset, char kind, int result,
                                          const char *why),
                          void *ud, size_t *ret_offset)
{
        typedef struct Item {
                size_t off, len;
                char kind;
                int result;
                const char *why;
        } Item;
        Item *items = NULL;
        size_t nitems = 0, cap = 0, off = 0;
        int r = 0;

        /* Pass 1: structure. Unknown bytes make the whole file invalid (§10.3). */
        while (off < n) {
                size_t len = 0;
                char kind = 0;
                if (ls_history_item(p + off, n - off, &kind, &len) < 0) {
                        kind = 0;
                } else if (kind == LS_MAGIC_CERT) {
                        LsCert c;
                        if (ls_cert_decode(&c, p + off, len) < 0)
                                kind = 0;
                } else if (kind == LS_MAGIC_REVOCATION) {
                        LsRevocation rv;
                        if (ls_revocation_decode(&rv, p + off, len) < 0)
                                kind = 0;
                } else {
                        LsEpochClose c;
                        if (ls_close_decode(&c, p + off, len) < 0)
                                kind = 0;
                }
                if (!kind) {
                        if (ret_offset)
                                *ret_offset = off;
                        free(items);
                        return -EBADMSG;
                }
                r = grow((void **) &items, &cap, nitems, sizeof(*items), MAX_KEYS + MAX_REVS + MAX_CLOSES);
                if (r < 0) {
                        free(items);
                        return r;
                }
                items[nitems++] = (Item){.off = off, .len = len, .kind = kind, .result = -ENOKEY};
                off += len;
        }
        t->loading = 1;
        /*
         * Pass 2, in any order: certificates breadth first from the keys already trusted
         * (each certificate is tried once its issuer is trusted); then revocations (issued by
         * roots) and closes (issued by signing keys), whose issuers are all known by then.
         * The result does not depend on the order of the file.
         */
        size_t *byiss = calloc(nitems ? nitems : 1, sizeof(*byiss)), ncert = 0, qhead = 0;
        uint8_t(*queue)[LS_KEY_ID_LEN] = calloc(nitems + t->nkeys + 1, LS_KEY_ID_LEN);
        size_t qn = 0;
        if (!byiss || !queue) {
                free(byiss);
                free(queue);
                free(items);
                return -ENOMEM;
        }
        for (size_t i = 0; i < nitems; i++)
                if (items[i].kind == 'C')
                        byiss[ncert++] = i;
        /* sort certificate items by issuer key id (insertion into a sorted run: n log n via qsort) */
        {
                typedef struct { uint8_t id[LS_KEY_ID_LEN]; size_t i; } Ent;
                Ent *e = calloc(ncert ? ncert : 1, sizeof(*e));
                if (!e) {
                        free(byiss);
                        free(queue);
                        free(items);
                        return -ENOMEM;
                }
                for (size_t k = 0; k < ncert; k++) {
                        memcpy(e[k].id, p + items[byiss[k]].off + 96, LS_KEY_ID_LEN);
                        e[k].i = byiss[k];
                }
                qsort(e, ncert, sizeof(*e), ent_cmp);
                for (size_t k = 0; k < ncert; k++)
                        byiss[k] = e[k].i;
                free(e);
        }
        for (size_t k = 0; k < t->nkeys; k++)
                memcpy(queue[qn++], t->keys[k].key_id, LS_KEY_ID_LEN);
        while (qhead < qn) {
                const uint8_t *id = queue[qhead++];
                size_t lo = 0, hi = ncert;
                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (memcmp(p + items[byiss[mid]].off + 96, id, LS_KEY_ID_LEN) < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                for (; lo < ncert && !memcmp(p + items[byiss[lo]].off + 96, id, LS_KEY_ID_LEN); lo++) {
                        Item *it = &items[byiss[lo]];
                        LsCert c;
                        if (it->result != -ENOKEY)
                                continue;
                        (void) ls_cert_decode(&c, p + it->off, it->len);
                        it->result = ls_trust_add_cert(t, &c, &it->why);
                        if (it->result == 0 && qn < nitems + t->nkeys + 1)
                                memcpy(queue[qn++], c.key_id, LS_KEY_ID_LEN);
                }
        }
        free(byiss);
        free(queue);
        for (size_t i = 0; i < nitems; i++) {
                Item *it = &items[i];
                if (it->kind == 'C') {
                        if (it->result == -ENOKEY) {
                                /* never reachable: also records a later-root anchor */
                                LsCert c;
                                (void) ls_cert_decode(&c, p + it->off, it->len);
                                it->result = ls_trust_add_cert(t, &c, &it->why);
                        }
                } else if (it->kind == 'R') {
                        LsRevocation rv;
                        (void) ls_revocation_decode(&rv, p + it->off, it->len);
                        it->result = ls_trust_add_revocation(t, &rv, &it->why);
                }
        }
        for (size_t i = 0; i < nitems; i++) {
                Item *it = &items[i];
                if (it->kind == 'X') {
                        LsEpochClose c;
                        (void) ls_close_decode(&c, p + it->off, it->len);
                        it->result = ls_trust_add_close(t, &c, &it->why);
                }
        }
        t->loading = 0;
        for (size_t i = 0; i < nitems; i++)
                if (items[i].result < 0 && item_cb)
                        item_cb(ud, items[i].off, items[i].kind, items[i].result, items[i].why);
        free(items);
        return 0;
}

/* ---- decisions ---- */

static void decide(LsTrustDecision *d, LsTrustResult r, const LsKeyInfo *k, const char *why)
{
        d->result = r;
        d->key = k;
        d->why = why;
        d->unbound = 0;
}

/* The revocation covering (k, b, time), or NULL; time LS_UNSET: any time-based one covers. */
static const Rev *revocation_for(const LsTrust *t, const LsKeyInfo *k, uint64_t b, uint64_t time)
{
        for (size_t i = 0; i < t->nrevs; i++) {
                const Rev *r = &t->revs[i];
                if (memcmp(r->key_id, k->key_id, LS_KEY_ID_LEN) != 0 ||
                    memcmp(r->chain_id, k->chain_id, LS_CHAIN_ID_LEN) != 0)
                        continue;
                if ((r->from_batch != LS_UNSET && b >= r->from_batch) ||
                    (r->from_time_ns != LS_UNSET && (time == LS_UNSET || time >= r->from_time_ns)))
                        return r;
        }
        return NULL;
}

/*
 * A key handed over in-chain by a key that a batch-based revocation covers at the handover
 * (the batch before the new key's first) inherits the revocation: a compromised key must not
 * certify its own successor. Walks up to the first root-issued key.
 */
static const LsKeyInfo *handover_revoked(LsTrust *t, const LsKeyInfo *k)
{
        const LsKeyInfo *cur = k;

        if (!t->nrevs)
                return NULL;
        /* cached per key until a key or a revocation is added (a chain of handovers can be long) */
        if (k->hv_gen == t->gen + 1)
                return k->hv_idx == SIZE_MAX ? NULL : &t->keys[k->hv_idx];
        const LsKeyInfo *found = NULL;

        for (size_t n = 0; n < t->nkeys && !cur->is_root && !cur->root_issued; n++) {
                const LsKeyInfo *i = ls_trust_key(t, cur->issuer_key_id);
                if (!i || i->is_root)
                        return NULL;
                for (size_t j = 0; j < t->nrevs; j++) {
                        const Rev *r = &t->revs[j];
                        if (!memcmp(r->key_id, i->key_id, LS_KEY_ID_LEN) &&
                            !memcmp(r->chain_id, i->chain_id, LS_CHAIN_ID_LEN) &&
                            r->from_batch != LS_UNSET && cur->valid_from_batch > 0 &&
                            cur->valid_from_batch - 1 >= r->from_batch) {
                                found = i;
                                break;
                        }
                }
                if (found)
                        break;
                cur = i;
        }
        ((LsKeyInfo *) k)->hv_gen = t->gen + 1;
        ((LsKeyInfo *) k)->hv_idx = found ? (size_t) (found - t->keys) : SIZE_MAX;
        return found;
}

static void may_sign(LsTrust *t, const LsKeyInfo *k, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                     uint64_t b, uint64_t time, LsTrustDecision *d)
{
        const LsKeyInfo *s;
        const Close *c;

        if (k->is_root)
                return decide(d, LS_TRUST_DENIED, k, "a root key signs certificates, not batches");
        if (memcmp(k->chain_id, chain_id, LS_CHAIN_ID_LEN) != 0)
                return decide(d, LS_TRUST_DENIED, k,
                              "the key is certified for another chain, not this one");
        if (b < k->valid_from_batch)
                return decide(d, LS_TRUST_DENIED, k,
                              "key used before its validity (a later key over earlier data)");
        s = successor(t, k);
        if (s && b >= s->valid_from_batch)
                return decide(d, LS_TRUST_DENIED, k, "key used after its successor took over");
        c = close_find(t, k->chain_id, k->epoch);
        if (c && b > c->c.last_batch_no)
                return decide(d, LS_TRUST_AFTER_CLOSE, k,
                              "key used after the batch its epoch's signed close names as its "
                              "last");
        if (revocation_for(t, k, b, time))
                return decide(d, LS_TRUST_REVOKED, k, "a root revocation covers the key here");
        if (handover_revoked(t, k))
                return decide(d, LS_TRUST_REVOKED, k,
                              "the key was certified by a key that a root revocation already "
                              "covered at the handover");
        decide(d, LS_TRUST_OK, k, NULL);
        /*
         * Ended, but what it sealed is not stated: no close known (a format-1 key never has
         * one). Anything it signs may have been made with a copy of the erased key.
         */
        if (s && !c)
                d->unbound = 1;
}

void ls_trust_may_sign(LsTrust *t, const uint8_t key_id[LS_KEY_ID_LEN],
                       const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t batch_no,
                       uint64_t time_ns, LsTrustDecision *d)
{
        const LsKeyInfo *k = ls_trust_key(t, key_id);

        if (!k)
                return decide(d, LS_TRUST_UNKNOWN_KEY, NULL,
                              "the key is not certified from the root key");
        may_sign(t, k, chain_id, batch_no, time_ns, d);
}

/* Tree head (b, size, hash, max time) against the close of its key's epoch. */
static const char *against_close(const LsEpochClose *c, uint64_t b, uint64_t tree_size,
                                 const uint8_t *root, const uint8_t *header_hash,
                                 uint64_t max_time)
{
        if (b > c->last_batch_no)
                return "after the last batch of its epoch's signed close";
        if (max_time != LS_UNSET && max_time > c->max_time_ns)
                return "dated after the end its epoch's signed close states";
        if (b == c->last_batch_no) {
                /* the root too: a checkpoint's root is signed apart from its header hash */
                if (tree_size != c->tree_size || !ls_hash_equal(root, c->tree_root) ||
                    (header_hash && !ls_hash_equal(header_hash, c->last_header_hash)))
                        return "not the last batch its epoch's signed close names";
                return NULL;
        }
        /* every later batch of the epoch adds at least one record */
        if (tree_size > c->tree_size || c->tree_size - tree_size < c->last_batch_no - b)
                return "a tree larger than its epoch's signed close allows";
        return NULL;
}

void ls_trust_check_batch(LsTrust *t, const LsBatchHeader *h, LsTrustDecision *d)
{
        const LsKeyInfo *k = ls_trust_key(t, h->key_id);
        const Close *c;
        uint8_t hh[LS_HASH_LEN];
        const char *w;

        if (!k)
                return decide(d, LS_TRUST_UNKNOWN_KEY, NULL,
                              "the key is not certified from the root key");
        if (ls_batch_header_verify(h, k->pk) < 0)
                return decide(d, LS_TRUST_BAD_SIGNATURE, k, "the signature does not verify");
        if (h->epoch != k->epoch)
                return decide(d, LS_TRUST_DENIED, k,
                              "the header names another epoch than the key's certificate");
        may_sign(t, k, h->chain_id, h->batch_no, h->max_time_ns, d);
        if (d->result != LS_TRUST_OK)
                return;
        c = close_find(t, k->chain_id, k->epoch);
        if (c) {
                ls_batch_header_hash(h, hh);
                w = against_close(&c->c, h->batch_no, h->tree_size, h->tree_root, hh,
                                  h->max_time_ns);
                if (w)
                        decide(d, LS_TRUST_AFTER_CLOSE, k, w);
        }
}

void ls_trust_note_signed(LsTrust *t, const LsBatchHeader *h)
{
        LsKeyInfo *k = ls_trust_key(t, h->key_id);

        if (!k)
                return;
        k->batches_signed++;
        if (k->first_signed == LS_UNSET || h->batch_no < k->first_signed)
                k->first_signed = h->batch_no;
        if (k->last_signed == LS_UNSET || h->batch_no >= k->last_signed) {
                k->last_signed = h->batch_no;
                k->last_tree_size = h->tree_size;
                memcpy(k->last_tree_root, h->tree_root, LS_HASH_LEN);
                ls_batch_header_hash(h, k->last_header_hash);
        }
        if (h->tree_size - h->batch_no > k->max_size_over_batch)
                k->max_size_over_batch = h->tree_size - h->batch_no;
        if (k->max_time_batch == LS_UNSET || h->max_time_ns > k->max_time_signed) {
                k->max_time_signed = h->max_time_ns;
                k->max_time_batch = h->batch_no;
        }
}

void ls_trust_check_checkpoint(LsTrust *t, const LsCheckpoint *cp, const char *text,
                               LsTrustDecision *d)
{
        const LsKeyInfo *bad = NULL;
        LsTrustDecision denied = {.result = LS_TRUST_OK};

        decide(d, LS_TRUST_UNKNOWN_KEY, NULL,
               "not signed by any key certified from the root key for this chain");
        for (size_t i = 0; i < t->nkeys; i++) {
                const LsKeyInfo *k = &t->keys[i];
                const Close *c;
                const char *w;
                int r;

                if (k->is_root || memcmp(k->chain_id, cp->chain_id, LS_CHAIN_ID_LEN) != 0)
                        continue;
                r = ls_checkpoint_verify(cp, text, k->pk);
                if (r == -EKEYREJECTED && !bad)
                        bad = k;
                if (r < 0)
                        continue;
                if (!cp->has_batch)
                        return decide(d, LS_TRUST_NOT_EVIDENCE, k,
                                      "a checkpoint without the logseal-batch-v1 line is never "
                                      "evidence (a logseal key signs only 4-line notes)");
                may_sign(t, k, cp->chain_id, cp->batch_no, LS_UNSET, d);
                if (d->result == LS_TRUST_OK) {
                        c = close_find(t, k->chain_id, k->epoch);
                        if (!c)
                                return; /* unbound set by may_sign when the epoch ended */
                        w = against_close(&c->c, cp->batch_no, cp->tree_size, cp->root,
                                          cp->header_hash, LS_UNSET);
                        if (w)
                                return decide(d, LS_TRUST_AFTER_CLOSE, k, w);
                        if (cp->batch_no != c->c.last_batch_no)
                                d->unbound = 1; /* inside a closed epoch: not proven */
                        return;
                }
                if (denied.result == LS_TRUST_OK)
                        denied = *d;
        }
        if (denied.result != LS_TRUST_OK)
                *d = denied;
        else if (bad)
                decide(d, LS_TRUST_BAD_SIGNATURE, bad,
                       "the signature line of a trusted key does not verify over the checkpoint");
}

size_t ls_trust_review(LsTrust *t,
                       void (*cb)(void *ud, const LsKeyInfo *k, LsTrustResult result,
                                  const char *detail),
                       void *ud)
{
        size_t found = 0;

        for (size_t i = 0; i < t->nkeys; i++) {
                LsKeyInfo *k = &t->keys[i];
                const Close *c;
                const Rev *rv = NULL;
                char detail[256];
                LsTrustResult res = LS_TRUST_OK;

                if (k->is_root || k->reviewed || k->last_signed == LS_UNSET)
                        continue;
                c = close_find(t, k->chain_id, k->epoch);
                if (c) {
                        const char *w = NULL;
                        if (k->last_signed > c->c.last_batch_no)
                                w = "it signed batches after the last one its epoch's close names";
                        else if (k->max_size_over_batch > c->c.tree_size - c->c.last_batch_no)
                                w = "one of its batches holds a larger tree than its epoch's close "
                                    "allows";
                        else if (k->max_time_signed > c->c.max_time_ns)
                                w = "it signed records dated after the end its epoch's close states";
                        else if (k->last_signed == c->c.last_batch_no &&
                                 (!ls_hash_equal(k->last_header_hash, c->c.last_header_hash) ||
                                  k->last_tree_size != c->c.tree_size ||
                                  !ls_hash_equal(k->last_tree_root, c->c.tree_root)))
                                w = "its last batch is not the one its epoch's close names";
                        if (w) {
                                res = LS_TRUST_AFTER_CLOSE;
                                snprintf(detail, sizeof(detail),
                                         "batches %" PRIu64 "..%" PRIu64 " of epoch %" PRIu64
                                         ": %s (close: last batch %" PRIu64 ", %" PRIu64
                                         " records)",
                                         k->first_signed, k->last_signed, k->epoch, w,
                                         c->c.last_batch_no, c->c.tree_size);
                        }
                }
                if (res == LS_TRUST_OK) {
                        for (size_t j = 0; j < t->nrevs && !rv; j++) {
                                const Rev *r = &t->revs[j];
                                if (memcmp(r->key_id, k->key_id, LS_KEY_ID_LEN) ||
                                    memcmp(r->chain_id, k->chain_id, LS_CHAIN_ID_LEN))
                                        continue;
                                if ((r->from_batch != LS_UNSET && k->last_signed >= r->from_batch) ||
                                    (r->from_time_ns != LS_UNSET &&
                                     k->max_time_signed >= r->from_time_ns))
                                        rv = r;
                        }
                        const LsKeyInfo *hv = rv ? NULL : handover_revoked(t, k);
                        if (hv) {
                                res = LS_TRUST_REVOKED;
                                snprintf(detail, sizeof(detail),
                                         "batches %" PRIu64 "..%" PRIu64
                                         " of the key of epoch %" PRIu64
                                         ": it was certified by the key of epoch %" PRIu64
                                         " after a root revocation of that key took effect",
                                         k->first_signed, k->last_signed, k->epoch, hv->epoch);
                        }
                        if (rv) {
                                res = LS_TRUST_REVOKED;
                                if (rv->from_batch != LS_UNSET && k->last_signed >= rv->from_batch)
                                        snprintf(detail, sizeof(detail),
                                                 "batches %" PRIu64 "..%" PRIu64
                                                 " signed by the key of epoch %" PRIu64
                                                 " are covered by a root revocation of that key "
                                                 "from batch %" PRIu64,
                                                 MAX(rv->from_batch, k->first_signed),
                                                 k->last_signed, k->epoch, rv->from_batch);
                                else
                                        snprintf(detail, sizeof(detail),
                                                 "batches of the key of epoch %" PRIu64
                                                 " dated from %" PRIu64
                                                 " ns on (at least batch %" PRIu64
                                                 ") are covered by a time-based root revocation",
                                                 k->epoch, rv->from_time_ns, k->max_time_batch);
                        }
                }
                if (res == LS_TRUST_OK)
                        continue;
                k->reviewed = 1;
                found++;
                if (cb)
                        cb(ud, k, res, detail);
        }
        return found;
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
