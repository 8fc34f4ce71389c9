/* SPDX-License-Identifier: Apache-2.0 */
/* payload.c: batch payloads: digest, zstd frame, record entries */
#include <errno.h>
#include <string.h>

#include <zstd.h>

#include "archive.h"
#include "columns.h"
#include "hash.h"
#include "payload.h"
#include "util.h"

struct LsPayload {
        ZSTD_DCtx *dctx;
        uint8_t *raw;
        size_t cap, len;
        uint8_t *col;           /* column content (SPEC §6.4), rebuilt into raw */
        size_t col_cap, col_len;
        size_t *id_off;         /* offsets of the identity table's entries in col */
        size_t id_cap;
};

struct LsDict {
        unsigned refs;
        uint32_t id;
        uint8_t hash[LS_HASH_LEN];
        ZSTD_DDict *ddict;
};

int ls_dict_new(LsDict **ret, const uint8_t *structure, size_t n, size_t *ret_offset)
{
        const uint8_t *dict;
        size_t len;
        uint32_t id;
        LsDict *d;
        int r;

        r = ls_dict_decode(structure, n, &dict, &len, &id, ret_offset);
        if (r < 0)
                return r;
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->ddict = ZSTD_createDDict(dict, len);
        if (!d->ddict) {
                free(d);
                return -EBADMSG; /* zstd refused the dictionary's tables */
        }
        if (ZSTD_getDictID_fromDDict(d->ddict) != id) {
                ZSTD_freeDDict(d->ddict);
                free(d);
                return -EBADMSG;
        }
        d->refs = 1;
        d->id = id;
        ls_sha256(d->hash, structure, n);
        *ret = d;
        return 0;
}

LsDict *ls_dict_ref(const LsDict *cd)
{
        LsDict *d = (LsDict *) cd; /* the count is not part of what the const protects */

        if (d)
                __atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
        return d;
}

LsDict *ls_dict_unref(LsDict *d)
{
        if (!d || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        ZSTD_freeDDict(d->ddict);
        free(d);
        return NULL;
}

uint32_t ls_dict_id(const LsDict *d)
{
        return d->id;
}

const uint8_t *ls_dict_hash(const LsDict *d)
{
        return d->hash;
}

int ls_payload_new(LsPayload **ret)
{
        LsPayload *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->dctx = ZSTD_createDCtx();
        if (!p->dctx) {
                free(p);
                return -ENOMEM;
        }
        /* Bound the decoder's window: a hostile frame must not make us allocate more. */
        ZSTD_DCtx_setParameter(p->dctx, ZSTD_d_windowLogMax, 25);
        *ret = p;
        return 0;
}

LsPayload *ls_payload_free(LsPayload *p)
{
        if (!p)
                return NULL;
        ZSTD_freeDCtx(p->dctx);
        free(p->raw);
        free(p->col);
        free(p->id_off);
        free(p);
        return NULL;
}

/* A cursor over one column of varints. */
typedef struct Col {
        const uint8_t *p;
        size_t pos, end;
} Col;

static int col_get(Col *c, uint64_t max, uint64_t *ret)
{
        int r = ls_varint_get(c->p, c->end, &c->pos, ret);

        if (r < 0)
                return -EBADMSG;
        return *ret > max ? -EBADMSG : 0;
}

/* Skips n values of a column starting at *pos (stamps: kind, offset, delta). */
static int col_skip(const uint8_t *p, size_t len, size_t *pos, uint32_t n, int stamps)
{
        uint64_t v, w;

        for (uint32_t i = 0; i < n; i++) {
                if (ls_varint_get(p, len, pos, &v) < 0)
                        return -EBADMSG;
                if (!stamps || v == 0)
                        continue;
                if (v > LS_STAMP_MAX_KIND)
                        return -EBADMSG;
                if ((v - 1) / 7 != 0 && ls_varint_get(p, len, pos, &w) < 0)
                        return -EBADMSG;
                if (ls_varint_get(p, len, pos, &w) < 0)
                        return -EBADMSG;
        }
        return 0;
}

/*
 * Rebuilds the record entries from column content col[0..n) (SPEC §6.4) into raw, which must
 * come out exactly payload_raw_len bytes long. Only the layout is checked here; the records
 * themselves are checked by ls_payload_next as for any payload.
 */
static int columns_rebuild(LsPayload *pl, const LsBatchHeader *h, size_t n)
{
        enum { META, TIME, PEER, IDENT, BLEN, TRUNC, STAMP, BODY, NCOLS };
        const uint8_t *c = pl->col, *peers;
        uint64_t npeers, nidents, v, prev = h->min_time_ns;
        size_t pos = 0, start[NCOLS + 1], out = 0, cap = h->payload_raw_len;
        const uint32_t count = h->record_count;
        Col col[NCOLS];

        pl->len = 0;
        if (ls_varint_get(c, n, &pos, &npeers) < 0 || npeers > count ||
            n - pos < npeers * LS_COLUMN_PEER_LEN)
                return -EBADMSG;
        peers = c + pos;
        pos += npeers * LS_COLUMN_PEER_LEN;
        if (ls_varint_get(c, n, &pos, &nidents) < 0 || nidents > count)
                return -EBADMSG;
        if (pl->id_cap < nidents) {
                size_t *q = realloc(pl->id_off, nidents * sizeof(*q));
                if (!q)
                        return -ENOMEM;
                pl->id_off = q;
                pl->id_cap = nidents;
        }
        for (uint64_t i = 0; i < nidents; i++) {
                pl->id_off[i] = pos;
                if (ls_varint_get(c, n, &pos, &v) < 0 || v == 0 || v > LS_MAX_IDENTITY ||
                    n - pos < v)
                        return -EBADMSG;
                pos += v;
        }
        for (int k = META; k < BODY; k++) {
                start[k] = pos;
                if (col_skip(c, n, &pos, count, k == STAMP) < 0)
                        return -EBADMSG;
        }
        start[BODY] = pos;
        start[NCOLS] = n;
        for (int k = META; k < NCOLS; k++)
                col[k] = (Col){.p = c, .pos = start[k], .end = start[k + 1]};

        for (uint32_t i = 0; i < count; i++) {
                uint64_t meta, delta, peer, ident, blen, trunc, kind, off = 0, sd;
                const uint8_t *id = NULL, *body;
                size_t idlen = 0, pre = 0, sl = 0, stored, rl;
                uint8_t stamp[LS_STAMP_MAX_TEXT], *r;
                LsStamp st = {};

                if (col_get(&col[META], 0xffffff, &meta) < 0 ||
                    col_get(&col[TIME], UINT64_MAX, &delta) < 0 ||
                    col_get(&col[PEER], npeers ? npeers - 1 : 0, &peer) < 0 || npeers == 0 ||
                    col_get(&col[IDENT], nidents, &ident) < 0 ||
                    col_get(&col[BLEN], LS_MAX_BODY, &blen) < 0 ||
                    col_get(&col[TRUNC], UINT32_MAX - blen, &trunc) < 0 ||
                    col_get(&col[STAMP], LS_STAMP_MAX_KIND, &kind) < 0)
                        return -EBADMSG;
                if (ident > 0) {
                        size_t q = pl->id_off[ident - 1];
                        ls_varint_get(c, n, &q, &v); /* read before: cannot fail */
                        id = c + q;
                        idlen = v;
                }
                prev += (uint64_t) ls_unzigzag(delta);
                if (kind > 0) {
                        unsigned nd = (unsigned) (kind - 1) % 7;
                        if ((kind - 1) / 7 != 0 && col_get(&col[STAMP], LS_STAMP_MAX_OFFSET, &off) < 0)
                                return -EBADMSG;
                        if (col_get(&col[STAMP], UINT64_MAX, &sd) < 0)
                                return -EBADMSG;
                        st.kind = (uint8_t) kind;
                        st.offset = (uint16_t) off;
                        if (__builtin_add_overflow(ls_stamp_predict(prev, nd), ls_unzigzag(sd),
                                                   &st.value))
                                return -EBADMSG;
                        sl = ls_stamp_format(&st, stamp);
                        if (sl == 0 || sl > blen)
                                return -EBADMSG;
                }
                stored = blen - sl;
                if (col[BODY].end - col[BODY].pos < stored)
                        return -EBADMSG;
                body = c + col[BODY].pos;
                if (kind > 0) {
                        pre = ls_stamp_prefix(body, stored);
                        if (pre == 0)
                                return -EBADMSG;
                }
                rl = LS_RECORD_FIXED_LEN + idlen + blen;
                if (cap - out < 4 + rl)
                        return -EBADMSG;
                r = pl->raw + out;
                ls_put32(r, (uint32_t) rl);
                r += 4;
                r[0] = LS_RECORD_VERSION;
                r[1] = (uint8_t) meta;
                ls_put16(r + 2, (uint16_t) (meta >> 8));
                ls_put64(r + 4, h->first_seq + i);
                ls_put64(r + 12, prev);
                memcpy(r + 20, peers + peer * LS_COLUMN_PEER_LEN, LS_COLUMN_PEER_LEN);
                ls_put32(r + 44, (uint32_t) (blen + trunc));
                ls_put16(r + 48, (uint16_t) idlen);
                ls_put16(r + 50, 0);
                ls_put32(r + 52, (uint32_t) blen);
                if (idlen)
                        memcpy(r + 56, id, idlen);
                r += 56 + idlen;
                memcpy(r, body, pre);
                memcpy(r + pre, stamp, sl);
                memcpy(r + pre + sl, body + pre, stored - pre);
                col[BODY].pos += stored;
                out += 4 + rl;
        }
        for (int k = META; k < NCOLS; k++)
                if (col[k].pos != col[k].end)
                        return -EBADMSG; /* leftover column content */
        if (out != cap)
                return -EBADMSG;
        pl->len = out;
        return 0;
}

int ls_payload_open(LsPayload *p, const LsBatchHeader *h, const uint8_t *payload, size_t len)
{
        return ls_payload_open_dict(p, h, NULL, payload, len);
}

/* Decompresses with the dictionary the header calls for (checked by the caller). */
static size_t decompress(LsPayload *p, const LsDict *dict, uint8_t *dst, size_t cap,
                         const uint8_t *src, size_t n)
{
        if (dict)
                return ZSTD_decompress_usingDDict(p->dctx, dst, cap, src, n, dict->ddict);
        return ZSTD_decompressDCtx(p->dctx, dst, cap, src, n);
}

int ls_payload_open_dict(LsPayload *p, const LsBatchHeader *h, const LsDict *dict,
                         const uint8_t *payload, size_t len)
{
        uint8_t digest[LS_HASH_LEN];
        unsigned long long csize;
        size_t fsize, n;
        int r;

        p->len = 0;
        p->col_len = 0;
        if (len != h->payload_len)
                return -EBADMSG;
        ls_sha256(digest, payload, len);
        if (!ls_hash_equal(digest, h->payload_hash))
                return -EILSEQ;
        fsize = ZSTD_findFrameCompressedSize(payload, len);
        if (ZSTD_isError(fsize) || fsize != len)
                return -EBADMSG;
        csize = ZSTD_getFrameContentSize(payload, len);
        if (csize == ZSTD_CONTENTSIZE_ERROR)
                return -EBADMSG;
        if (h->payload_raw_len > LS_MAX_BATCH_RAW)
                return -E2BIG;
        if (h->incompat_flags & ~LS_BATCH_INCOMPAT_KNOWN)
                return -EPROTONOSUPPORT;
        /* The frame names exactly the dictionary the signed header calls for (§6.2, §8.6). */
        if (h->incompat_flags & LS_BATCH_INCOMPAT_DICT) {
                if (!dict || ZSTD_getDictID_fromFrame(payload, len) != dict->id)
                        return -EBADMSG;
        } else {
                dict = NULL;
                if (ZSTD_getDictID_fromFrame(payload, len) != 0)
                        return -EBADMSG;
        }
        if (p->cap < h->payload_raw_len) {
                uint8_t *q = realloc(p->raw, h->payload_raw_len);
                if (!q)
                        return -ENOMEM;
                p->raw = q;
                p->cap = h->payload_raw_len;
        }
        ZSTD_DCtx_reset(p->dctx, ZSTD_reset_session_only);
        if (h->incompat_flags & LS_BATCH_INCOMPAT_COLUMNS) {
                /* The columns are shorter than the entries they stand for (§6.4). */
                if (csize != ZSTD_CONTENTSIZE_UNKNOWN && csize >= h->payload_raw_len)
                        return -EBADMSG;
                if (p->col_cap < h->payload_raw_len) {
                        uint8_t *q = realloc(p->col, h->payload_raw_len);
                        if (!q)
                                return -ENOMEM;
                        p->col = q;
                        p->col_cap = h->payload_raw_len;
                }
                n = decompress(p, dict, p->col, h->payload_raw_len - 1, payload, len);
                if (ZSTD_isError(n))
                        return -EBADMSG;
                r = columns_rebuild(p, h, n);
                if (r == 0)
                        p->col_len = n;
                return r;
        }
        /* One extra byte of room would be needed to detect overlong output; the
         * frame's declared or actual size must match exactly, so decompress into
         * exactly payload_raw_len and require the result to fill it. */
        if (csize != ZSTD_CONTENTSIZE_UNKNOWN && csize != h->payload_raw_len)
                return -EBADMSG;
        n = decompress(p, dict, p->raw, h->payload_raw_len, payload, len);
        if (ZSTD_isError(n) || n != h->payload_raw_len)
                return -EBADMSG;
        p->len = n;
        return 0;
}

const uint8_t *ls_payload_raw(const LsPayload *p, size_t *ret_len)
{
        *ret_len = p->len;
        return p->raw;
}

const uint8_t *ls_payload_content(const LsPayload *p, size_t *ret_len)
{
        if (p->col_len) {
                *ret_len = p->col_len;
                return p->col;
        }
        return ls_payload_raw(p, ret_len);
}

void ls_payload_iter_init(LsPayloadIter *it, const LsBatchHeader *h, const uint8_t *raw,
                          size_t len)
{
        it->raw = raw;
        it->len = len;
        it->pos = 0;
        it->next_seq = h->first_seq;
        it->index = 0;
        it->count = h->record_count;
        ls_salt_key_init(&it->salt_key, h->salt_seed);
}

int ls_payload_next(LsPayloadIter *it, LsRecord *rec, const uint8_t **ret_bytes,
                    size_t *ret_len, uint8_t leaf[LS_HASH_LEN], size_t *ret_offset)
{
        uint8_t salt[LS_SALT_LEN];
        size_t off = 0, n;
        int r;

        *ret_offset = it->pos;
        if (it->index == it->count)
                return it->pos == it->len ? 0 : -EBADMSG; /* leftover content */
        if (it->len - it->pos < 4)
                return -ENODATA;
        n = ls_get32(it->raw + it->pos);
        if (n > LS_MAX_RECORD_LEN)
                return -E2BIG;
        if (n < LS_RECORD_FIXED_LEN)
                return -EBADMSG;
        if (it->len - it->pos - 4 < n)
                return -ENODATA;
        r = ls_record_decode(rec, it->raw + it->pos + 4, n, &off);
        if (r < 0) {
                *ret_offset = it->pos + 4 + off;
                return r;
        }
        if (rec->seq != it->next_seq) {
                *ret_offset = it->pos + 4 + 4;
                return -EBADMSG;
        }
        if (leaf) {
                ls_salt_derive(&it->salt_key, rec->seq, salt);
                ls_leaf_hash(leaf, salt, it->raw + it->pos + 4, n);
        }
        *ret_bytes = it->raw + it->pos + 4;
        *ret_len = n;
        it->pos += 4 + n;
        it->next_seq++;
        it->index++;
        return 1;
}
