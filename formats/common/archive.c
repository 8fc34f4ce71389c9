/* SPDX-License-Identifier: Apache-2.0 */
/* archive.c: archive header and seal trailer encoding and signatures */
#include <errno.h>
#include <string.h>

#include "archive.h"
#include "hash.h"
#include "magic.h"
#include "util.h"

#define FAIL(code, where)                                                                          \
        do {                                                                                       \
                *ret_offset = (where);                                                             \
                return (code);                                                                     \
        } while (0)

/* Common prefix: magic, version, size, incompat, compat. */
static int check_prefix(const uint8_t *p, size_t n, char magic, uint16_t size, size_t *ret_offset)
{
        if (n < size)
                FAIL(-ENODATA, n);
        if (!ls_magic_check(p, magic))
                FAIL(-EBADMSG, 0);
        if (ls_get16(p + 8) != LS_FORMAT_VERSION)
                FAIL(-EPROTONOSUPPORT, 8);
        if (ls_get16(p + 10) != size)
                FAIL(-EBADMSG, 10);
        if (ls_get16(p + 12) != 0)
                FAIL(-EPROTONOSUPPORT, 12);
        if (n != size)
                FAIL(-EBADMSG, size);
        return 0;
}

size_t ls_archive_header_size(const LsArchiveHeader *h)
{
        return LS_ARCHIVE_HEADER_MIN_LEN + (size_t) h->peak_count * LS_HASH_LEN +
               (h->incompat_flags & LS_ARCHIVE_INCOMPAT_DICT ? LS_HASH_LEN : 0);
}

size_t ls_archive_header_encode(const LsArchiveHeader *h, uint8_t *out)
{
        size_t n = ls_archive_header_size(h), pk = (size_t) h->peak_count * LS_HASH_LEN;

        memset(out, 0, LS_ARCHIVE_HEADER_FIXED_LEN);
        ls_magic_put(out, LS_MAGIC_ARCHIVE);
        ls_put16(out + 8, LS_FORMAT_VERSION);
        ls_put16(out + 10, (uint16_t) n);
        ls_put16(out + 12, h->incompat_flags);
        ls_put16(out + 14, h->compat_flags);
        memcpy(out + 16, h->chain_id, LS_CHAIN_ID_LEN);
        ls_put64(out + 32, h->archive_no);
        ls_put64(out + 40, h->first_batch_no);
        ls_put64(out + 48, h->first_seq);
        ls_put64(out + 56, h->created_ns);
        memcpy(out + 64, h->prev_seal_hash, LS_HASH_LEN);
        memcpy(out + 96, h->key_id, LS_KEY_ID_LEN);
        ls_put64(out + 104, h->epoch);
        out[112] = h->peak_count;
        if (pk)
                memcpy(out + LS_ARCHIVE_HEADER_FIXED_LEN, h->peaks, pk);
        if (h->incompat_flags & LS_ARCHIVE_INCOMPAT_DICT)
                memcpy(out + LS_ARCHIVE_HEADER_FIXED_LEN + pk, h->dict_hash, LS_HASH_LEN);
        memcpy(out + n - LS_SIG_LEN, h->sig, LS_SIG_LEN);
        return n;
}

/* The archive header's bytes 14..112 (SPEC §8.2), the same in every version (§1.1). */
static void header_envelope(LsArchiveHeader *h, const uint8_t *p)
{
        h->compat_flags = ls_get16(p + 14);
        memcpy(h->chain_id, p + 16, LS_CHAIN_ID_LEN);
        h->archive_no = ls_get64(p + 32);
        h->first_batch_no = ls_get64(p + 40);
        h->first_seq = ls_get64(p + 48);
        h->created_ns = ls_get64(p + 56);
        memcpy(h->prev_seal_hash, p + 64, LS_HASH_LEN);
        memcpy(h->key_id, p + 96, LS_KEY_ID_LEN);
        h->epoch = ls_get64(p + 104);
}

int ls_archive_header_decode(LsArchiveHeader *ret, const uint8_t *p, size_t n, size_t *ret_offset)
{
        LsArchiveHeader h = {};
        size_t dummy, size, pk;

        if (!ret_offset)
                ret_offset = &dummy;
        if (n < LS_ARCHIVE_HEADER_MIN_LEN)
                FAIL(-ENODATA, n);
        if (!ls_magic_check(p, LS_MAGIC_ARCHIVE))
                FAIL(-EBADMSG, 0);
        if (ls_get16(p + 8) != LS_FORMAT_VERSION)
                FAIL(-EPROTONOSUPPORT, 8);
        h.incompat_flags = ls_get16(p + 12);
        if (h.incompat_flags & ~LS_ARCHIVE_INCOMPAT_DICT)
                FAIL(-EPROTONOSUPPORT, 12);
        h.peak_count = p[112];
        if (h.peak_count > 64)
                FAIL(-EBADMSG, 112);
        size = ls_archive_header_size(&h);
        if (ls_get16(p + 10) != size)
                FAIL(-EBADMSG, 10);
        if (n < size)
                FAIL(-ENODATA, n);
        if (n != size)
                FAIL(-EBADMSG, size);
        if (!ls_all_zero(p + 113, 7))
                FAIL(-EBADMSG, 113);
        header_envelope(&h, p);
        pk = (size_t) h.peak_count * LS_HASH_LEN;
        if (pk)
                memcpy(h.peaks, p + LS_ARCHIVE_HEADER_FIXED_LEN, pk);
        if (h.incompat_flags & LS_ARCHIVE_INCOMPAT_DICT)
                memcpy(h.dict_hash, p + LS_ARCHIVE_HEADER_FIXED_LEN + pk, LS_HASH_LEN);
        memcpy(h.sig, p + size - LS_SIG_LEN, LS_SIG_LEN);
        if (h.peak_count != (unsigned) __builtin_popcountll(h.first_seq))
                FAIL(-EBADMSG, 112);
        if ((h.archive_no == 0) != ls_all_zero(h.prev_seal_hash, LS_HASH_LEN))
                FAIL(-EBADMSG, 64);
        if (h.archive_no == 0 && (h.first_batch_no != 0 || h.first_seq != 0))
                FAIL(-EBADMSG, 40);
        if (h.first_batch_no > h.first_seq)
                FAIL(-EBADMSG, 40);
        memcpy(ret, &h, sizeof(h));
        *ret_offset = 0;
        return 0;
}

int ls_archive_header_decode_later(LsArchiveHeader *ret, uint16_t *ret_version, const uint8_t *p,
                                   size_t n, size_t *ret_offset)
{
        LsArchiveHeader h = {};
        size_t dummy;

        if (!ret_offset)
                ret_offset = &dummy;
        /* The envelope every version keeps (SPEC §1.1). */
        if (n < LS_ARCHIVE_HEADER_MIN_LEN)
                FAIL(-ENODATA, n);
        if (!ls_magic_check(p, LS_MAGIC_ARCHIVE))
                FAIL(-EBADMSG, 0);
        if (ls_get16(p + 10) < LS_ARCHIVE_HEADER_MIN_LEN)
                FAIL(-EBADMSG, 10);
        if (n < ls_get16(p + 10))
                FAIL(-ENODATA, n);
        if (n != ls_get16(p + 10))
                FAIL(-EBADMSG, ls_get16(p + 10));
        h.incompat_flags = ls_get16(p + 12);
        header_envelope(&h, p);
        memcpy(h.sig, p + n - LS_SIG_LEN, LS_SIG_LEN);
        *ret_version = ls_get16(p + 8);
        memcpy(ret, &h, sizeof(h));
        *ret_offset = 0;
        return 0;
}

int ls_archive_header_verify_raw(const uint8_t *p, size_t n, const uint8_t pk[LS_PK_LEN])
{
        uint8_t id[LS_KEY_ID_LEN];

        if (n < LS_ARCHIVE_HEADER_MIN_LEN)
                return -EKEYREJECTED;
        ls_key_id(id, pk);
        if (memcmp(id, p + 96, LS_KEY_ID_LEN) != 0)
                return -EKEYREJECTED;
        return ls_verify(pk, LS_CTX_ARCHIVE_HEADER, p, n - LS_SIG_LEN, p + n - LS_SIG_LEN);
}

int ls_archive_header_sign(LsArchiveHeader *h, const LsSigner *s)
{
        uint8_t buf[LS_ARCHIVE_HEADER_MAX_LEN];
        size_t n;

        if (h->peak_count > 64)
                return -EINVAL;
        memcpy(h->key_id, s->key_id, LS_KEY_ID_LEN);
        h->epoch = s->epoch;
        n = ls_archive_header_encode(h, buf);
        return ls_sign(s, LS_CTX_ARCHIVE_HEADER, buf, n - LS_SIG_LEN, h->sig);
}

int ls_archive_header_verify(const LsArchiveHeader *h, const uint8_t pk[LS_PK_LEN])
{
        uint8_t buf[LS_ARCHIVE_HEADER_MAX_LEN], id[LS_KEY_ID_LEN];
        size_t n;

        if (h->peak_count > 64)
                return -EKEYREJECTED;
        ls_key_id(id, pk);
        if (memcmp(id, h->key_id, LS_KEY_ID_LEN) != 0)
                return -EKEYREJECTED;
        n = ls_archive_header_encode(h, buf);
        return ls_verify(pk, LS_CTX_ARCHIVE_HEADER, buf, n - LS_SIG_LEN, h->sig);
}

void ls_trailer_encode(const LsTrailer *t, uint8_t out[LS_TRAILER_LEN])
{
        memset(out, 0, LS_TRAILER_LEN);
        ls_magic_put(out, LS_MAGIC_TRAILER);
        ls_put16(out + 8, LS_FORMAT_VERSION);
        ls_put16(out + 10, LS_TRAILER_LEN);
        ls_put16(out + 14, t->compat_flags);
        memcpy(out + 16, t->chain_id, LS_CHAIN_ID_LEN);
        ls_put64(out + 32, t->archive_no);
        ls_put64(out + 40, t->first_batch_no);
        ls_put64(out + 48, t->batch_count);
        ls_put64(out + 56, t->first_seq);
        ls_put64(out + 64, t->record_count);
        ls_put64(out + 72, t->min_time_ns);
        ls_put64(out + 80, t->max_time_ns);
        ls_put64(out + 88, t->sealed_ns);
        ls_put64(out + 96, t->tree_size);
        memcpy(out + 104, t->tree_root, LS_HASH_LEN);
        memcpy(out + 136, t->last_header_hash, LS_HASH_LEN);
        memcpy(out + 168, t->content_hash, LS_HASH_LEN);
        memcpy(out + 200, t->key_id, LS_KEY_ID_LEN);
        ls_put64(out + 208, t->epoch);
        memcpy(out + 216, t->sig, LS_SIG_LEN);
}

/* The seal trailer's fields at their offsets (SPEC §8.4), the same in every version (§1.1). */
static void trailer_fields(LsTrailer *t, const uint8_t *p)
{
        t->compat_flags = ls_get16(p + 14);
        memcpy(t->chain_id, p + 16, LS_CHAIN_ID_LEN);
        t->archive_no = ls_get64(p + 32);
        t->first_batch_no = ls_get64(p + 40);
        t->batch_count = ls_get64(p + 48);
        t->first_seq = ls_get64(p + 56);
        t->record_count = ls_get64(p + 64);
        t->min_time_ns = ls_get64(p + 72);
        t->max_time_ns = ls_get64(p + 80);
        t->sealed_ns = ls_get64(p + 88);
        t->tree_size = ls_get64(p + 96);
        memcpy(t->tree_root, p + 104, LS_HASH_LEN);
        memcpy(t->last_header_hash, p + 136, LS_HASH_LEN);
        memcpy(t->content_hash, p + 168, LS_HASH_LEN);
        memcpy(t->key_id, p + 200, LS_KEY_ID_LEN);
        t->epoch = ls_get64(p + 208);
        memcpy(t->sig, p + 216, LS_SIG_LEN);
}

int ls_trailer_decode(LsTrailer *ret, const uint8_t *p, size_t n, size_t *ret_offset)
{
        LsTrailer t = {};
        size_t dummy;
        int r;

        if (!ret_offset)
                ret_offset = &dummy;
        r = check_prefix(p, n, LS_MAGIC_TRAILER, LS_TRAILER_LEN, ret_offset);
        if (r < 0)
                return r;
        trailer_fields(&t, p);
        if (t.batch_count == 0)
                FAIL(-EBADMSG, 48);
        if (t.record_count < t.batch_count || t.first_seq > UINT64_MAX - t.record_count ||
            t.tree_size != t.first_seq + t.record_count)
                FAIL(-EBADMSG, 64);
        if (t.min_time_ns > t.max_time_ns)
                FAIL(-EBADMSG, 72);
        *ret = t;
        *ret_offset = 0;
        return 0;
}

int ls_trailer_decode_later(LsTrailer *ret, uint16_t *ret_version, const uint8_t *p, size_t n,
                            size_t *ret_offset)
{
        LsTrailer t = {};
        size_t dummy;

        if (!ret_offset)
                ret_offset = &dummy;
        /* The envelope every version keeps (SPEC §1.1): 280 bytes, the fields at their offsets. */
        if (n < LS_TRAILER_LEN)
                FAIL(-ENODATA, n);
        if (!ls_magic_check(p, LS_MAGIC_TRAILER))
                FAIL(-EBADMSG, 0);
        if (ls_get16(p + 10) != LS_TRAILER_LEN)
                FAIL(-EBADMSG, 10);
        if (n != LS_TRAILER_LEN)
                FAIL(-EBADMSG, LS_TRAILER_LEN);
        trailer_fields(&t, p);
        *ret_version = ls_get16(p + 8);
        *ret = t;
        *ret_offset = 0;
        return 0;
}

int ls_trailer_verify_raw(const uint8_t *p, size_t n, const uint8_t pk[LS_PK_LEN])
{
        uint8_t id[LS_KEY_ID_LEN];

        if (n != LS_TRAILER_LEN)
                return -EKEYREJECTED;
        ls_key_id(id, pk);
        if (memcmp(id, p + 200, LS_KEY_ID_LEN) != 0)
                return -EKEYREJECTED;
        return ls_verify(pk, LS_CTX_SEAL, p, LS_TRAILER_SIGNED_LEN, p + LS_TRAILER_SIGNED_LEN);
}

void ls_trailer_hash(const LsTrailer *t, uint8_t out[LS_HASH_LEN])
{
        uint8_t buf[LS_TRAILER_LEN];

        ls_trailer_encode(t, buf);
        ls_sha256(out, buf, LS_TRAILER_SIGNED_LEN);
}

int ls_trailer_sign(LsTrailer *t, const LsSigner *s)
{
        uint8_t buf[LS_TRAILER_LEN];

        memcpy(t->key_id, s->key_id, LS_KEY_ID_LEN);
        t->epoch = s->epoch;
        ls_trailer_encode(t, buf);
        return ls_sign(s, LS_CTX_SEAL, buf, LS_TRAILER_SIGNED_LEN, t->sig);
}

int ls_trailer_verify(const LsTrailer *t, const uint8_t pk[LS_PK_LEN])
{
        uint8_t buf[LS_TRAILER_LEN], id[LS_KEY_ID_LEN];

        ls_key_id(id, pk);
        if (memcmp(id, t->key_id, LS_KEY_ID_LEN) != 0)
                return -EKEYREJECTED;
        ls_trailer_encode(t, buf);
        return ls_verify(pk, LS_CTX_SEAL, buf, LS_TRAILER_SIGNED_LEN, t->sig);
}

/* The zstd dictionary magic (RFC 8878 §5). */
#define ZSTD_DICT_MAGIC UINT32_C(0xEC30A437)

size_t ls_dict_encode(const uint8_t *dict, size_t len, uint8_t *out)
{
        memset(out, 0, LS_DICT_FIXED_LEN);
        ls_magic_put(out, LS_MAGIC_DICT);
        ls_put16(out + 8, LS_FORMAT_VERSION);
        ls_put16(out + 10, LS_DICT_FIXED_LEN);
        ls_put32(out + 16, (uint32_t) len);
        memcpy(out + LS_DICT_FIXED_LEN, dict, len);
        return LS_DICT_FIXED_LEN + len;
}

int ls_dict_decode(const uint8_t *p, size_t n, const uint8_t **ret_dict, size_t *ret_len,
                   uint32_t *ret_id, size_t *ret_offset)
{
        size_t dummy;
        uint32_t len, id;

        if (!ret_offset)
                ret_offset = &dummy;
        if (n < LS_DICT_FIXED_LEN)
                FAIL(-ENODATA, n);
        if (!ls_magic_check(p, LS_MAGIC_DICT))
                FAIL(-EBADMSG, 0);
        if (ls_get16(p + 8) != LS_FORMAT_VERSION)
                FAIL(-EPROTONOSUPPORT, 8);
        if (ls_get16(p + 10) != LS_DICT_FIXED_LEN)
                FAIL(-EBADMSG, 10);
        if (ls_get16(p + 12) != 0)
                FAIL(-EPROTONOSUPPORT, 12);
        len = ls_get32(p + 16);
        if (!ls_all_zero(p + 20, 4))
                FAIL(-EBADMSG, 20);
        if (len > LS_MAX_DICT)
                FAIL(-E2BIG, 16);
        if (len < LS_DICT_MIN)
                FAIL(-EBADMSG, 16);
        if (n - LS_DICT_FIXED_LEN < len)
                FAIL(-ENODATA, n);
        if (n - LS_DICT_FIXED_LEN != len)
                FAIL(-EBADMSG, LS_DICT_FIXED_LEN + len);
        p += LS_DICT_FIXED_LEN;
        if (ls_get32(p) != ZSTD_DICT_MAGIC)
                FAIL(-EBADMSG, LS_DICT_FIXED_LEN);
        id = ls_get32(p + 4);
        if (id == 0)
                FAIL(-EBADMSG, LS_DICT_FIXED_LEN + 4);
        *ret_dict = p;
        *ret_len = len;
        *ret_id = id;
        *ret_offset = 0;
        return 0;
}
