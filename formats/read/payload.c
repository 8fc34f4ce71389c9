/* SPDX-License-Identifier: Apache-2.0 */
/* payload.c: batch payloads: digest, zstd frame, record entries */
#include <errno.h>
#include <string.h>

#include <zstd.h>

#include "hash.h"
#include "payload.h"
#include "util.h"

struct LsPayload {
        ZSTD_DCtx *dctx;
        uint8_t *raw;
        size_t cap, len;
};

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
        free(p);
        return NULL;
}

int ls_payload_open(LsPayload *p, const LsBatchHeader *h, const uint8_t *payload, size_t len)
{
        uint8_t digest[LS_HASH_LEN];
        unsigned long long csize;
        size_t fsize, n;

        p->len = 0;
        if (len != h->payload_len)
                return -EBADMSG;
        ls_sha256(digest, payload, len);
        if (!ls_hash_equal(digest, h->payload_hash))
                return -EILSEQ;
        fsize = ZSTD_findFrameCompressedSize(payload, len);
        if (ZSTD_isError(fsize) || fsize != len)
                return -EBADMSG;
        csize = ZSTD_getFrameContentSize(payload, len);
        if (csize == ZSTD_CONTENTSIZE_ERROR ||
            (csize != ZSTD_CONTENTSIZE_UNKNOWN && csize != h->payload_raw_len))
                return -EBADMSG;
        if (h->payload_raw_len > LS_MAX_BATCH_RAW)
                return -E2BIG;
        if (p->cap < h->payload_raw_len) {
                uint8_t *q = realloc(p->raw, h->payload_raw_len);
                if (!q)
                        return -ENOMEM;
                p->raw = q;
                p->cap = h->payload_raw_len;
        }
        ZSTD_DCtx_reset(p->dctx, ZSTD_reset_session_only);
        /* One extra byte of room would be needed to detect overlong output; the
         * frame's declared or actual size must match exactly, so decompress into
         * exactly payload_raw_len and require the result to fill it. */
        n = ZSTD_decompressDCtx(p->dctx, p->raw, h->payload_raw_len, payload, len);
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
