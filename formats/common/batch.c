/* SPDX-License-Identifier: Apache-2.0 */
/* batch.c: batch header encoding, hashing, signing */
#include <errno.h>
#include <string.h>

#include "batch.h"
#include "checkpoint.h"
#include "hash.h"
#include "magic.h"
#include "util.h"

void ls_batch_header_encode(const LsBatchHeader *h, uint8_t out[LS_BATCH_HEADER_LEN])
{
        memset(out, 0, LS_BATCH_HEADER_LEN);
        ls_magic_put(out, LS_MAGIC_BATCH);
        ls_put16(out + 8, LS_FORMAT_VERSION);
        ls_put16(out + 10, LS_BATCH_HEADER_LEN);
        ls_put16(out + 12, h->incompat_flags);
        ls_put16(out + 14, h->compat_flags);
        memcpy(out + 16, h->chain_id, LS_CHAIN_ID_LEN);
        ls_put64(out + 32, h->archive_no);
        ls_put64(out + 40, h->batch_no);
        ls_put64(out + 48, h->first_seq);
        ls_put32(out + 56, h->record_count);
        ls_put32(out + 60, h->payload_raw_len);
        ls_put64(out + 64, h->min_time_ns);
        ls_put64(out + 72, h->max_time_ns);
        ls_put64(out + 80, h->tree_size);
        memcpy(out + 88, h->tree_root, LS_HASH_LEN);
        memcpy(out + 120, h->prev_header_hash, LS_HASH_LEN);
        memcpy(out + 152, h->salt_seed, LS_HASH_LEN);
        ls_put32(out + 184, h->payload_len);
        ls_put32(out + 188, 0);
        memcpy(out + 192, h->payload_hash, LS_HASH_LEN);
        memcpy(out + 224, h->key_id, LS_KEY_ID_LEN);
        ls_put64(out + 232, h->epoch);
        memcpy(out + 240, h->sig, LS_SIG_LEN);
}

#define FAIL(code, where)                                                                          \
        do {                                                                                       \
                *ret_offset = (where);                                                             \
                return (code);                                                                     \
        } while (0)

/* The fields at their offsets (SPEC §6.1), the same in every version (§1.1). */
static void header_fields(LsBatchHeader *h, const uint8_t *p)
{
        h->incompat_flags = ls_get16(p + 12);
        h->compat_flags = ls_get16(p + 14);
        memcpy(h->chain_id, p + 16, LS_CHAIN_ID_LEN);
        h->archive_no = ls_get64(p + 32);
        h->batch_no = ls_get64(p + 40);
        h->first_seq = ls_get64(p + 48);
        h->record_count = ls_get32(p + 56);
        h->payload_raw_len = ls_get32(p + 60);
        h->min_time_ns = ls_get64(p + 64);
        h->max_time_ns = ls_get64(p + 72);
        h->tree_size = ls_get64(p + 80);
        memcpy(h->tree_root, p + 88, LS_HASH_LEN);
        memcpy(h->prev_header_hash, p + 120, LS_HASH_LEN);
        memcpy(h->salt_seed, p + 152, LS_HASH_LEN);
        h->payload_len = ls_get32(p + 184);
        memcpy(h->payload_hash, p + 192, LS_HASH_LEN);
        memcpy(h->key_id, p + 224, LS_KEY_ID_LEN);
        h->epoch = ls_get64(p + 232);
        memcpy(h->sig, p + 240, LS_SIG_LEN);
}

int ls_batch_header_decode(LsBatchHeader *ret, const uint8_t *p, size_t n, size_t *ret_offset)
{
        LsBatchHeader h = {};
        size_t dummy;

        if (!ret_offset)
                ret_offset = &dummy;
        if (n < LS_BATCH_HEADER_LEN)
                FAIL(-ENODATA, n);
        if (!ls_magic_check(p, LS_MAGIC_BATCH))
                FAIL(-EBADMSG, 0);
        if (ls_get16(p + 8) != LS_FORMAT_VERSION)
                FAIL(-EPROTONOSUPPORT, 8);
        if (ls_get16(p + 10) != LS_BATCH_HEADER_LEN)
                FAIL(-EBADMSG, 10);
        if (ls_get16(p + 12) & ~LS_BATCH_INCOMPAT_KNOWN)
                FAIL(-EPROTONOSUPPORT, 12);
        if (n != LS_BATCH_HEADER_LEN)
                FAIL(-EBADMSG, LS_BATCH_HEADER_LEN);
        header_fields(&h, p);

        if (h.record_count == 0)
                FAIL(-EBADMSG, 56);
        if (h.record_count > LS_MAX_BATCH_RECORDS)
                FAIL(-E2BIG, 56);
        if (h.payload_raw_len > LS_MAX_BATCH_RAW)
                FAIL(-E2BIG, 60);
        if (h.payload_raw_len < (uint64_t) h.record_count * (4 + LS_RECORD_FIXED_LEN))
                FAIL(-EBADMSG, 60);
        if (h.min_time_ns > h.max_time_ns)
                FAIL(-EBADMSG, 64);
        if (h.first_seq > UINT64_MAX - h.record_count || h.tree_size != h.first_seq + h.record_count)
                FAIL(-EBADMSG, 80);
        if (h.batch_no == 0 && (h.first_seq != 0 || !ls_all_zero(h.prev_header_hash, 32)))
                FAIL(-EBADMSG, 120);
        if (h.payload_len == 0)
                FAIL(-EBADMSG, 184);
        if (h.payload_len > LS_MAX_BATCH_PAYLOAD)
                FAIL(-E2BIG, 184);
        if (ls_get32(p + 188) != 0)
                FAIL(-EBADMSG, 188);
        *ret = h;
        *ret_offset = 0;
        return 0;
}

int ls_batch_header_decode_later(LsBatchHeader *ret, uint8_t header_hash[LS_HASH_LEN],
                                 uint16_t *ret_version, const uint8_t *p, size_t n,
                                 size_t *ret_offset)
{
        LsBatchHeader h = {};
        size_t dummy;

        if (!ret_offset)
                ret_offset = &dummy;
        /* The envelope every version keeps (SPEC §1.1): 304 bytes, the fields at their offsets. */
        if (n < LS_BATCH_HEADER_LEN)
                FAIL(-ENODATA, n);
        if (!ls_magic_check(p, LS_MAGIC_BATCH))
                FAIL(-EBADMSG, 0);
        if (ls_get16(p + 10) != LS_BATCH_HEADER_LEN)
                FAIL(-EBADMSG, 10);
        if (n != LS_BATCH_HEADER_LEN)
                FAIL(-EBADMSG, LS_BATCH_HEADER_LEN);
        header_fields(&h, p);
        /* the hash of the bytes as written: a later format may use bytes this one reserves */
        ls_sha256(header_hash, p, LS_BATCH_SIGNED_LEN);
        *ret_version = ls_get16(p + 8);
        *ret = h;
        *ret_offset = 0;
        return 0;
}

void ls_batch_header_hash(const LsBatchHeader *h, uint8_t out[LS_HASH_LEN])
{
        uint8_t buf[LS_BATCH_HEADER_LEN];

        ls_batch_header_encode(h, buf);
        ls_sha256(out, buf, LS_BATCH_SIGNED_LEN);
}

int ls_batch_note_body(const LsBatchHeader *h, char *out, size_t cap)
{
        uint8_t hh[LS_HASH_LEN];

        ls_batch_header_hash(h, hh);
        return ls_checkpoint_body(out, cap, h->chain_id, h->tree_size, h->tree_root, h->batch_no,
                                  hh);
}

int ls_batch_header_verify_hash(const LsBatchHeader *h, const uint8_t header_hash[LS_HASH_LEN],
                                const uint8_t pk[LS_PK_LEN])
{
        char body[LS_NOTE_BODY_MAX];
        uint8_t id[LS_KEY_ID_LEN];
        int n;

        ls_key_id(id, pk);
        if (memcmp(id, h->key_id, LS_KEY_ID_LEN) != 0)
                return -EKEYREJECTED;
        n = ls_checkpoint_body(body, sizeof(body), h->chain_id, h->tree_size, h->tree_root,
                               h->batch_no, header_hash);
        if (n < 0)
                return n;
        return ls_verify(pk, NULL, (const uint8_t *) body, (size_t) n, h->sig);
}

int ls_batch_header_sign(LsBatchHeader *h, const LsSigner *s)
{
        char body[LS_NOTE_BODY_MAX];
        int n;

        memcpy(h->key_id, s->key_id, LS_KEY_ID_LEN);
        h->epoch = s->epoch;
        n = ls_batch_note_body(h, body, sizeof(body));
        if (n < 0)
                return n;
        return ls_sign(s, NULL, (const uint8_t *) body, (size_t) n, h->sig);
}

int ls_batch_header_verify(const LsBatchHeader *h, const uint8_t pk[LS_PK_LEN])
{
        uint8_t hh[LS_HASH_LEN];

        ls_batch_header_hash(h, hh);
        return ls_batch_header_verify_hash(h, hh, pk);
}

int ls_batch_checkpoint(const LsBatchHeader *h, const uint8_t pk[LS_PK_LEN], char *out, size_t cap)
{
        char body[LS_NOTE_BODY_MAX];
        int n = ls_batch_note_body(h, body, sizeof(body));

        if (n < 0)
                return n;
        return ls_checkpoint_format(out, cap, body, (size_t) n, pk, h->sig);
}
