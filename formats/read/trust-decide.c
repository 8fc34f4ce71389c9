/* SPDX-License-Identifier: Apache-2.0 */
/* trust-decide.c: the trust decisions of SPEC §9.3 and §9.4: who may sign what, and the review */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "magic.h"
#include "trust-internal.h"
#include "util.h"
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
        s = trust_successor(t, k);
        if (s && b >= s->valid_from_batch)
                return decide(d, LS_TRUST_DENIED, k, "key used after its successor took over");
        c = trust_close_find(t, k->chain_id, k->epoch);
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

const LsKeyInfo *ls_trust_batch_owner(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                                      uint64_t b, int *open)
{
        const LsKeyInfo *best = NULL;

        for (size_t i = 0; i < t->nkeys; i++) {
                const LsKeyInfo *k = &t->keys[i];
                if (k->is_root || memcmp(k->chain_id, chain_id, LS_CHAIN_ID_LEN) != 0 ||
                    k->valid_from_batch > b)
                        continue;
                if (!best || k->valid_from_batch > best->valid_from_batch)
                        best = k;
        }
        *open = best && !trust_successor(t, best) &&
                !trust_close_find(t, best->chain_id, best->epoch);
        return best;
}

void ls_trust_check_batch(LsTrust *t, const LsBatchHeader *h, LsTrustDecision *d)
{
        uint8_t hh[LS_HASH_LEN];

        ls_batch_header_hash(h, hh);
        ls_trust_check_batch_hash(t, h, hh, d);
}

void ls_trust_check_batch_hash(LsTrust *t, const LsBatchHeader *h,
                               const uint8_t hh[LS_HASH_LEN], LsTrustDecision *d)
{
        const LsKeyInfo *k = ls_trust_key(t, h->key_id);
        const Close *c;
        const char *w;

        if (!k)
                return decide(d, LS_TRUST_UNKNOWN_KEY, NULL,
                              "the key is not certified from the root key");
        if (ls_batch_header_verify_hash(h, hh, k->pk) < 0)
                return decide(d, LS_TRUST_BAD_SIGNATURE, k, "the signature does not verify");
        if (h->epoch != k->epoch)
                return decide(d, LS_TRUST_DENIED, k,
                              "the header names another epoch than the key's certificate");
        may_sign(t, k, h->chain_id, h->batch_no, h->max_time_ns, d);
        if (d->result != LS_TRUST_OK)
                return;
        c = trust_close_find(t, k->chain_id, k->epoch);
        if (c) {
                w = against_close(&c->c, h->batch_no, h->tree_size, h->tree_root, hh,
                                  h->max_time_ns);
                if (w)
                        decide(d, LS_TRUST_AFTER_CLOSE, k, w);
        }
}

void ls_trust_note_signed(LsTrust *t, const LsBatchHeader *h)
{
        uint8_t hh[LS_HASH_LEN];

        ls_batch_header_hash(h, hh);
        ls_trust_note_signed_hash(t, h, hh);
}

void ls_trust_note_signed_hash(LsTrust *t, const LsBatchHeader *h, const uint8_t hh[LS_HASH_LEN])
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
                memcpy(k->last_header_hash, hh, LS_HASH_LEN);
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
                        c = trust_close_find(t, k->chain_id, k->epoch);
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
                c = trust_close_find(t, k->chain_id, k->epoch);
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
