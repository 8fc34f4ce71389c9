/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trust-learn.c: what the trust module learns: certificates, revocations, closes and key
 * histories (SPEC §9.3, §9.4, §10.3)
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
        if (c->kind == LS_CERT_SIGNING && trust_other_chain(t, c->chain_id)) {
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
                const LsKeyInfo *other = trust_key_by_epoch(t, c->chain_id, c->epoch);
                if (other) {
                        note_conflict(t, 'C', c->chain_id, c->epoch, other->in_history,
                                      other->in_evidence, other->key_id, c->key_id);
                        w = "another key is already certified for this epoch (forked key history)";
                        r = -EKEYREJECTED;
                        goto out;
                }
                /* A close of this epoch known already must name this very key. */
                const Close *cl = trust_close_find(t, c->chain_id, c->epoch);
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
        r = trust_key_add(t, &k);
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
        if (trust_other_chain(t, rv->chain_id)) {
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
        r = trust_grow((void **) &t->revs, &t->revs_cap, t->nrevs, sizeof(*t->revs), MAX_REVS);
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
        if (trust_other_chain(t, c->chain_id)) {
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
        const LsKeyInfo *certified = trust_key_by_epoch(t, c->chain_id, c->closed_epoch);
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
        have = trust_close_find(t, c->chain_id, c->closed_epoch);
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
        prev = c->closed_epoch ? trust_close_find(t, c->chain_id, c->closed_epoch - 1) : NULL;
        if (prev && !ls_hash_equal(prev->hash, c->prev_close_hash)) {
                note_conflict(t, 'X', c->chain_id, c->closed_epoch - 1, prev->in_history,
                              prev->in_evidence, prev->c.closed_key_id, c->closed_key_id);
                w = "it does not link to the known close of the epoch before";
                r = -EILSEQ;
                goto out;
        }
        next = trust_close_find(t, c->chain_id, c->closed_epoch + 1);
        if (next && !ls_hash_equal(next->c.prev_close_hash, h)) {
                note_conflict(t, 'X', c->chain_id, c->closed_epoch + 1, next->in_history,
                              next->in_evidence, next->c.closed_key_id, c->closed_key_id);
                w = "the known close of the next epoch does not link to it";
                r = -EILSEQ;
                goto out;
        }
        r = trust_grow((void **) &t->closes, &t->closes_cap, t->ncloses, sizeof(*t->closes),
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
        r = trust_index_put(&t->close_by_epoch, trust_hash_epoch(c->chain_id, c->closed_epoch),
                            t->ncloses - 1, t->ncloses);
        if (r == -EAGAIN) {
                r = trust_index_reset(&t->close_by_epoch, t->ncloses);
                for (size_t i = 0; r == 0 && i < t->ncloses; i++)
                        r = trust_index_put(&t->close_by_epoch,
                                            trust_hash_epoch(t->closes[i].c.chain_id,
                                                             t->closes[i].c.closed_epoch),
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
                r = trust_grow((void **) &items, &cap, nitems, sizeof(*items),
                               MAX_KEYS + MAX_REVS + MAX_CLOSES);
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

