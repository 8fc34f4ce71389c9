/* SPDX-License-Identifier: Apache-2.0 */
/* bundle-keys.c: step 3 of SPEC §14.3: the key material, the bundle's and the investigator's */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle-reader-internal.h"
#include "keys.h"
#include "magic.h"
#include "util.h"

/*
 * A certificate or revocation found in a key history, waiting for its issuer: where it is
 * (decoded again when used, so that a large history costs little memory) and its issuer.
 */
typedef struct KeyItem {
        const uint8_t *p;           /* into the source's bytes, len bytes, decoded once already */
        size_t len;
        uint64_t offset;
        const char *source;
        uint8_t issuer[LS_KEY_ID_LEN];
        uint8_t is_cert, is_close, oob, done;
} KeyItem;


/* ---- step 3: key material ---- */

typedef struct KeyCtx {
        KeyItem *items;
        size_t n, cap;
} KeyCtx;

static int push_item(KeyCtx *k, const KeyItem *it)
{
        if (k->n == k->cap) {
                size_t cap = k->cap ? 2 * k->cap : 16;
                KeyItem *q = realloc(k->items, cap * sizeof(*q));
                if (!q)
                        return -ENOMEM;
                k->items = q;
                k->cap = cap;
        }
        k->items[k->n++] = *it;
        return 0;
}

/* Problems with key material: keys.lsk is evidence (tampered), --keys is input (error). */
static LsClass key_class(int oob)
{
        return oob ? LS_CLASS_IO : LS_CLASS_TAMPERED;
}

/*
 * Splits a key history (SPEC §10.3) into certificates and revocations. Unknown bytes make
 * the whole file invalid: then nothing of it is used.
 */
static int parse_history(LsBundleReader *b, KeyCtx *k, const char *source, const char *file,
                         const uint8_t *p, size_t n, int oob)
{
        size_t off = 0, first = k->n;
        const char *what = NULL;
        int code = 0;

        while (off < n) {
                KeyItem it = {.oob = oob, .source = source, .offset = off, .p = p + off};
                LsCert cert;
                LsRevocation rev;
                size_t len;

                if (n - off < LS_MAGIC_LEN + 4) {
                        code = -ENODATA;
                        what = "a truncated structure";
                        break;
                }
                if (ls_magic_check(p + off, LS_MAGIC_CERT)) {
                        len = LS_CERT_LEN;
                        if (n - off < len) {
                                code = -ENODATA;
                                what = "a truncated certificate";
                                break;
                        }
                        code = ls_cert_decode(&cert, p + off, len);
                        if (code < 0) {
                                what = "a malformed certificate";
                                break;
                        }
                        it.is_cert = 1;
                        memcpy(it.issuer, cert.issuer_key_id, LS_KEY_ID_LEN);
                } else if (ls_magic_check(p + off, LS_MAGIC_REVOCATION)) {
                        len = LS_REVOCATION_FIXED_LEN + ls_get16(p + off + 10);
                        if (len > n - off) {
                                code = -ENODATA;
                                what = "a truncated revocation";
                                break;
                        }
                        code = ls_revocation_decode(&rev, p + off, len);
                        if (code < 0) {
                                what = "a malformed revocation";
                                break;
                        }
                        memcpy(it.issuer, rev.issuer_key_id, LS_KEY_ID_LEN);
                } else if (ls_magic_check(p + off, LS_MAGIC_CLOSE)) {
                        LsEpochClose cl;
                        len = LS_CLOSE_LEN;
                        if (n - off < len) {
                                code = -ENODATA;
                                what = "a truncated epoch close";
                                break;
                        }
                        code = ls_close_decode(&cl, p + off, len);
                        if (code < 0) {
                                what = "a malformed epoch close";
                                break;
                        }
                        it.is_close = 1;
                        memcpy(it.issuer, cl.issuer_key_id, LS_KEY_ID_LEN);
                } else {
                        code = -EBADMSG;
                        what = "bytes that are neither a certificate, a revocation nor an epoch "
                               "close";
                        break;
                }
                it.len = len;
                if (push_item(k, &it) < 0) {
                        bundle_finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                                       LS_UNSET, "out of memory");
                        k->n = first;
                        return -ENOMEM;
                }
                off += len;
        }
        if (what) {
                k->n = first;
                bundle_finding(
                        b, key_class(oob), code, "key history", file, off, LS_UNSET, LS_UNSET,
                        "%s at byte %zu (SPEC §10.3): the whole file is invalid and none of its "
                        "keys is used",
                        what, off);
                return -EBADMSG;
        }
        return 0;
}

static int issuer_cmp(const void *x, const void *y)
{
        const KeyItem *a = *(KeyItem *const *) x, *c = *(KeyItem *const *) y;
        int k = memcmp(a->issuer, c->issuer, LS_KEY_ID_LEN);

        if (k)
                return k;
        /* Stable: file order among the certificates of one issuer. */
        return a < c ? -1 : a > c;
}

static void report_cert(LsBundleReader *b, const KeyItem *it, const LsCert *c, int r)
{
        char id[2 * LS_KEY_ID_LEN + 1], iss[2 * LS_KEY_ID_LEN + 1];

        ls_hex(id, c->key_id, LS_KEY_ID_LEN);
        ls_hex(iss, c->issuer_key_id, LS_KEY_ID_LEN);
        b->s->keys_rejected++;
        bundle_finding(b, key_class(it->oob), r == -ENOKEY ? -EKEYREJECTED : r, "key certificate",
                       it->oob ? it->source : LS_BUNDLE_KEYS, it->offset, LS_UNSET, LS_UNSET,
                       r == -ENOKEY ? "certificate of key %s (epoch %" PRIu64
                                      "): its issuer %s is not "
                                      "certified from the root key"
                                    : "certificate of key %s (epoch %" PRIu64
                                      ") issued by %s does not verify "
                                      "or breaks the trust rules of SPEC §9.3",
                       id, c->epoch, iss);
}

/* Decoding succeeded once already (parse_history) on the same private copy of the bytes. */
static void item_cert(const KeyItem *it, LsCert *c)
{
        if (ls_cert_decode(c, it->p, it->len) < 0)
                memset(c, 0, sizeof(*c)); /* not reached; a zero certificate is rejected */
}

static void item_rev(const KeyItem *it, LsRevocation *rv)
{
        if (ls_revocation_decode(rv, it->p, it->len) < 0)
                memset(rv, 0, sizeof(*rv)); /* not reached; a zero revocation is rejected */
}

void bundle_step_keys(LsBundleReader *b)
{
        LsBundleSummary *s = b->s;
        _cleanup_free_ uint8_t *keys = NULL;
        _cleanup_free_ KeyItem **by_issuer = NULL;
        _cleanup_free_ uint8_t(*queue)[LS_KEY_ID_LEN] = NULL;
        KeyCtx k = {};
        size_t nkeys = 0, ncerts = 0, qn = 0, qhead = 0;
        const LsKeyInfo *known;
        struct stat st;
        int fd, code;

        for (size_t i = 0; i < b->nsrcs; i++)
                (void) parse_history(b, &k, b->srcs[i].name, b->srcs[i].name, b->srcs[i].p,
                                     b->srcs[i].n, 1);
        fd = bundle_open_required(b, F_KEYS, &st);
        if (fd >= 0) {
                if ((uint64_t) st.st_size > LS_BUNDLE_KEYS_MAX) {
                        code = -E2BIG;
                        TAMPERED(b, "key history", LS_BUNDLE_KEYS, LS_BUNDLE_KEYS_MAX, LS_UNSET,
                                 "%" PRIu64 " bytes, more than the limit of %u: not read",
                                 (uint64_t) st.st_size, LS_BUNDLE_KEYS_MAX);
                } else if (!(keys = malloc((size_t) st.st_size + 1))) {
                        bundle_finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                                       LS_UNSET, "out of memory");
                } else {
                        int r = bundle_read_full(fd, keys, (size_t) st.st_size);
                        if (r < 0 || (size_t) r != (size_t) st.st_size)
                                bundle_finding(b, LS_CLASS_IO, r < 0 ? r : -EIO, "read",
                                               LS_BUNDLE_KEYS, LS_UNSET, LS_UNSET, LS_UNSET,
                                               "read error: %s",
                                               r < 0 ? strerror(-r) : "short read");
                        else
                                nkeys = (size_t) r;
                }
                close(fd);
                if (keys && nkeys)
                        (void) parse_history(b, &k, LS_BUNDLE_KEYS, LS_BUNDLE_KEYS, keys, nkeys,
                                             0);
        }

        /* Key material of other chains is not trust material for this one. */
        for (size_t i = 0; i < k.n; i++) {
                KeyItem *it = &k.items[i];
                char hex[2 * LS_CHAIN_ID_LEN + 1];
                const uint8_t *cid;
                LsRevocation rv;
                LsCert c;

                LsEpochClose cl;
                if (it->is_cert) {
                        item_cert(it, &c);
                        cid = c.chain_id;
                } else if (it->is_close) {
                        if (ls_close_decode(&cl, it->p, it->len) < 0)
                                memset(&cl, 0, sizeof(cl));
                        cid = cl.chain_id;
                } else {
                        item_rev(it, &rv);
                        cid = rv.chain_id;
                }
                if (!b->have_chain || (it->is_cert && c.kind == LS_CERT_ROOT) ||
                    memcmp(cid, b->chain_id, LS_CHAIN_ID_LEN) == 0)
                        continue;
                it->done = 1;
                ls_hex(hex, cid, LS_CHAIN_ID_LEN);
                if (it->oob) {
                        bundle_finding(b, LS_CLASS_NOTE, 0,
                                       it->is_cert ? "key certificate" : "revocation", it->source,
                                       it->offset, LS_UNSET, LS_UNSET,
                                       "%s for chain %s, not this bundle's chain: ignored",
                                       it->is_cert ? "certificate" : "revocation", hex);
                } else {
                        s->keys_rejected++;
                        code = -EKEYREJECTED;
                        TAMPERED(b, it->is_cert ? "key certificate" : "revocation", LS_BUNDLE_KEYS,
                                 it->offset, LS_UNSET,
                                 "%s for chain %s, not this bundle's chain",
                                 it->is_cert ? "certificate" : "revocation", hex);
                }
        }

        /*
         * Certificates in any order (SPEC §14.3 step 3): breadth first from the trusted keys,
         * each certificate tried once, when its issuer has become trusted.
         *
         * The same walk as pass 2 of ls_trust_load_history() (trust-learn.c), kept apart for
         * now: this one walks the items of several files at once (the investigator's --keys
         * and keys.lsk), drops other chains' items first, marks each item's origin for
         * ls_trust_conflict() (ls_trust_from_history, ls_trust_mark_in_history) and reports
         * each rejection with its file's class. Folding the two needs a history loader that
         * takes several sources with an origin each; every decision is trust.c's either way.
         */
        for (size_t i = 0; i < k.n; i++)
                ncerts += k.items[i].is_cert && !k.items[i].done;
        by_issuer = calloc(ncerts ? ncerts : 1, sizeof(*by_issuer));
        size_t nknown = ls_chain_verifier_keys(b->v, &known);
        queue = calloc(ncerts + nknown + 1, sizeof(*queue));
        if (!by_issuer || !queue) {
                bundle_finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                               LS_UNSET, "out of memory");
                free(k.items);
                return;
        }
        ncerts = 0;
        for (size_t i = 0; i < k.n; i++)
                if (k.items[i].is_cert && !k.items[i].done)
                        by_issuer[ncerts++] = &k.items[i];
        qsort(by_issuer, ncerts, sizeof(*by_issuer), issuer_cmp);
        for (size_t i = 0; i < nknown; i++)
                memcpy(queue[qn++], known[i].key_id, LS_KEY_ID_LEN);
        while (qhead < qn) {
                const uint8_t *id = queue[qhead++];
                size_t lo = 0, hi = ncerts;

                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (memcmp(by_issuer[mid]->issuer, id, LS_KEY_ID_LEN) < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                for (; lo < ncerts && memcmp(by_issuer[lo]->issuer, id, LS_KEY_ID_LEN) == 0;
                     lo++) {
                        KeyItem *it = by_issuer[lo];
                        LsCert c;
                        int r;

                        if (it->done)
                                continue;
                        it->done = 1;
                        item_cert(it, &c);
                        /* an investigator's item or the bundle's own (ls_trust_conflict) */
                        ls_trust_from_history(ls_chain_verifier_trust(b->v), it->oob);
                        r = ls_chain_verifier_add_cert(b->v, &c, it->source);
                        ls_trust_from_history(ls_chain_verifier_trust(b->v), 0);
                        if (r < 0) {
                                report_cert(b, it, &c, r);
                                continue;
                        }
                        s->keys_accepted++;
                        if (it->oob)
                                ls_trust_mark_in_history(ls_chain_verifier_trust(b->v), c.key_id);
                        memcpy(queue[qn++], c.key_id, LS_KEY_ID_LEN);
                }
        }
        for (size_t i = 0; i < ncerts; i++)
                if (!by_issuer[i]->done) {
                        LsCert c;
                        item_cert(by_issuer[i], &c);
                        /* offered once more: a root certificate naming the anchor is noted */
                        (void) ls_chain_verifier_add_cert(b->v, &c, by_issuer[i]->source);
                        report_cert(b, by_issuer[i], &c, -ENOKEY);
                }

        /* Revocations last: their issuers are roots, possibly rotated in above. */
        for (size_t i = 0; i < k.n; i++) {
                KeyItem *it = &k.items[i];
                char id[2 * LS_KEY_ID_LEN + 1];
                LsRevocation rv;
                int r;

                if (it->is_cert || it->is_close || it->done)
                        continue;
                item_rev(it, &rv);
                r = ls_chain_verifier_add_revocation(b->v, &rv, it->source);
                if (r == 0) {
                        s->keys_accepted++;
                        continue;
                }
                s->keys_rejected++;
                ls_hex(id, rv.revoked_key_id, LS_KEY_ID_LEN);
                bundle_finding(
                        b, key_class(it->oob), r == -ENOKEY ? -EKEYREJECTED : r, "revocation",
                        it->oob ? it->source : LS_BUNDLE_KEYS, it->offset, LS_UNSET, LS_UNSET,
                        "revocation of key %s is not signed by a root key certified from the "
                        "trusted root",
                        id);
        }

        /* Epoch closes: signed by successors, so after every certificate (SPEC §9.4). */
        for (size_t i = 0; i < k.n; i++) {
                KeyItem *it = &k.items[i];
                LsEpochClose cl;
                const char *why = NULL;
                int r;

                if (!it->is_close || it->done)
                        continue;
                if (ls_close_decode(&cl, it->p, it->len) < 0)
                        continue;
                ls_trust_from_history(ls_chain_verifier_trust(b->v), it->oob);
                r = ls_trust_add_close(ls_chain_verifier_trust(b->v), &cl, &why);
                ls_trust_from_history(ls_chain_verifier_trust(b->v), 0);
                if (r == 0) {
                        s->keys_accepted++;
                        continue;
                }
                s->keys_rejected++;
                /* Two closes that disagree: a key was misused, whichever file brought it. */
                bundle_finding(b, r == -EILSEQ ? LS_CLASS_TAMPERED : key_class(it->oob),
                               r == -ENOKEY ? -EKEYREJECTED : r, "epoch close",
                               it->oob ? it->source : LS_BUNDLE_KEYS, it->offset, LS_UNSET,
                               LS_UNSET, "close of epoch %" PRIu64 " is not acceptable: %s",
                               cl.closed_epoch, why ? why : "rejected");
        }
        free(k.items);
}
