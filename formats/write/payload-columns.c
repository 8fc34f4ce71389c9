/* SPDX-License-Identifier: Apache-2.0 */
/* payload-columns.c: record entries -> peer and identity tables, header columns, body text */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "defs.h"
#include "payload-columns.h"
#include "util.h"

struct LsColumnEncoder {
        uint8_t *out;
        size_t out_cap, len, lim;
        const uint8_t **rec;    /* each record's encoding */
        uint32_t *peer, *ident; /* each record's table index (ident: 0 none, else index + 1) */
        LsStamp *stamp;         /* each record's time stamp (kind 0: none) */
        uint8_t *stamp_len;     /* and the length of its text */
        size_t rec_cap;
        uint32_t *slots; /* open addressing: table index + 1, 0 empty */
        size_t nslots;
        const uint8_t **keys; /* the first record of each table entry */
        size_t keys_cap;
};

int ls_column_encoder_new(LsColumnEncoder **ret)
{
        LsColumnEncoder *e = calloc(1, sizeof(*e));

        if (!e)
                return -ENOMEM;
        *ret = e;
        return 0;
}

LsColumnEncoder *ls_column_encoder_free(LsColumnEncoder *e)
{
        if (!e)
                return NULL;
        free(e->out);
        free(e->rec);
        free(e->peer);
        free(e->ident);
        free(e->stamp);
        free(e->stamp_len);
        free(e->slots);
        free(e->keys);
        free(e);
        return NULL;
}

static int put(LsColumnEncoder *e, const void *p, size_t n)
{
        if (e->lim - e->len < n)
                return -ENOSPC;
        memcpy(e->out + e->len, p, n);
        e->len += n;
        return 0;
}

static inline int put_varint(LsColumnEncoder *e, uint64_t v)
{
        if (e->lim - e->len < LS_VARINT_MAX)
                return -ENOSPC; /* near the end: close enough to give up on columns */
        e->len += ls_varint_put(e->out + e->len, v);
        return 0;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
        uint64_t h = 0xcbf29ce484222325ull;

        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * 0x100000001b3ull;
        return h;
}

static const uint8_t *peer_of(const uint8_t *rec, size_t *n)
{
        *n = LS_COLUMN_PEER_LEN;
        return rec + 20;
}

static const uint8_t *ident_of(const uint8_t *rec, size_t *n)
{
        *n = ls_get16(rec + 48);
        return rec + 56;
}

/* Distinct keys of the records, in order of first appearance; idx[i] = table index of record i. */
static uint32_t table(LsColumnEncoder *e, uint32_t count,
                      const uint8_t *(*key)(const uint8_t *, size_t *), uint32_t *idx,
                      int skip_empty)
{
        uint32_t n = 0;

        memset(e->slots, 0, e->nslots * sizeof(*e->slots));
        for (uint32_t i = 0; i < count; i++) {
                size_t kl, ol;
                const uint8_t *k = key(e->rec[i], &kl);
                size_t s;

                if (skip_empty && kl == 0) {
                        idx[i] = UINT32_MAX;
                        continue;
                }
                if (i > 0 && idx[i - 1] != UINT32_MAX) { /* mostly the same as the record before */
                        const uint8_t *o = key(e->rec[i - 1], &ol);
                        if (ol == kl && memcmp(o, k, kl) == 0) {
                                idx[i] = idx[i - 1];
                                continue;
                        }
                }
                for (s = fnv(k, kl) & (e->nslots - 1);; s = (s + 1) & (e->nslots - 1)) {
                        uint32_t t = e->slots[s];
                        if (t == 0) {
                                e->slots[s] = ++n;
                                e->keys[n - 1] = e->rec[i];
                                idx[i] = n - 1;
                                break;
                        }
                        const uint8_t *o = key(e->keys[t - 1], &ol);
                        if (ol == kl && memcmp(o, k, kl) == 0) {
                                idx[i] = t - 1;
                                break;
                        }
                }
        }
        return n;
}

static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
        void **p = pp;

        if (need <= *cap)
                return 0;
        void *q = realloc(*p, need * elem);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = need;
        return 0;
}

int ls_column_encode(LsColumnEncoder *e, uint64_t min_time_ns, const uint8_t *raw, size_t raw_len,
                     uint32_t count, const uint8_t **ret, size_t *ret_len)
{
        size_t pos = 0, nslots = 16;
        uint32_t npeers, nidents;
        uint64_t prev;
        int k;

        while (nslots < 2 * (size_t) count)
                nslots *= 2;
        if (grow(&e->out, &e->out_cap, raw_len, 1) < 0 ||
            grow(&e->keys, &e->keys_cap, count, sizeof(*e->keys)) < 0)
                return -ENOMEM;
        if (count > e->rec_cap) {
                const uint8_t **r = realloc(e->rec, count * sizeof(*r));
                if (r)
                        e->rec = r;
                uint32_t *a = realloc(e->peer, count * sizeof(*a));
                if (a)
                        e->peer = a;
                uint32_t *b = realloc(e->ident, count * sizeof(*b));
                if (b)
                        e->ident = b;
                LsStamp *st = realloc(e->stamp, count * sizeof(*st));
                if (st)
                        e->stamp = st;
                uint8_t *sl = realloc(e->stamp_len, count);
                if (sl)
                        e->stamp_len = sl;
                if (!r || !a || !b || !st || !sl)
                        return -ENOMEM;
                e->rec_cap = count;
        }
        if (nslots > e->nslots) {
                uint32_t *q = realloc(e->slots, nslots * sizeof(*q));
                if (!q)
                        return -ENOMEM;
                e->slots = q;
                e->nslots = nslots;
        }
        for (uint32_t i = 0; i < count; i++) {
                e->rec[i] = raw + pos + 4;
                pos += 4 + ls_get32(raw + pos);
        }
        /* The columns must be shorter than the entries: payload_raw_len bounds both. */
        e->len = 0;
        e->lim = raw_len - 1;
        npeers = table(e, count, peer_of, e->peer, 0);
        k = put_varint(e, npeers);
        for (uint32_t i = 0; k == 0 && i < npeers; i++)
                k = put(e, e->keys[i] + 20, LS_COLUMN_PEER_LEN);
        nidents = table(e, count, ident_of, e->ident, 1);
        if (k == 0)
                k = put_varint(e, nidents);
        for (uint32_t i = 0; k == 0 && i < nidents; i++) {
                size_t n;
                const uint8_t *p = ident_of(e->keys[i], &n);
                k = put_varint(e, n);
                if (k == 0)
                        k = put(e, p, n);
        }
        for (uint32_t i = 0; k == 0 && i < count; i++)
                k = put_varint(e, e->rec[i][1] | (uint64_t) ls_get16(e->rec[i] + 2) << 8);
        prev = min_time_ns;
        for (uint32_t i = 0; k == 0 && i < count; i++) {
                uint64_t t = ls_get64(e->rec[i] + 12);
                k = put_varint(e, ls_zigzag((int64_t) (t - prev)));
                prev = t;
        }
        for (uint32_t i = 0; k == 0 && i < count; i++)
                k = put_varint(e, e->peer[i]);
        for (uint32_t i = 0; k == 0 && i < count; i++)
                k = put_varint(e, e->ident[i] == UINT32_MAX ? 0 : (uint64_t) e->ident[i] + 1);
        for (uint32_t i = 0; k == 0 && i < count; i++)
                k = put_varint(e, ls_get32(e->rec[i] + 52));
        for (uint32_t i = 0; k == 0 && i < count; i++)
                k = put_varint(e, ls_get32(e->rec[i] + 44) - ls_get32(e->rec[i] + 52));
        /* Time stamps: a stamp's text leaves the body. */
        for (uint32_t i = 0; k == 0 && i < count; i++) {
                const uint8_t *body = e->rec[i] + 56 + ls_get16(e->rec[i] + 48);
                size_t blen = ls_get32(e->rec[i] + 52), pre = ls_stamp_prefix(body, blen);
                LsStamp *st = &e->stamp[i];

                st->kind = 0;
                e->stamp_len[i] = pre ? (uint8_t) ls_stamp_parse(body + pre, blen - pre, st) : 0;
                k = put_varint(e, st->kind);
                if (k == 0 && st->kind > 0) {
                        unsigned nd = (st->kind - 1u) % 7;
                        if ((st->kind - 1u) / 7 != 0)
                                k = put_varint(e, st->offset);
                        if (k == 0)
                                k = put_varint(e, ls_zigzag(st->value -
                                                            ls_stamp_predict(
                                                                    ls_get64(e->rec[i] + 12), nd)));
                }
        }
        for (uint32_t i = 0; k == 0 && i < count; i++) {
                const uint8_t *body = e->rec[i] + 56 + ls_get16(e->rec[i] + 48);
                size_t blen = ls_get32(e->rec[i] + 52), sl = e->stamp_len[i], pre;

                if (sl == 0) {
                        k = put(e, body, blen);
                } else {
                        pre = ls_stamp_prefix(body, blen);
                        k = put(e, body, pre);
                        if (k == 0)
                                k = put(e, body + pre + sl, blen - pre - sl);
                }
        }
        if (k < 0)
                return k;
        *ret = e->out;
        *ret_len = e->len;
        return 0;
}
