/* SPDX-License-Identifier: Apache-2.0 */
/* bundle.c: evidence bundle encodings (SPEC §14.1) */
#include <errno.h>
#include <string.h>

#include "bundle.h"
#include "magic.h"
#include "util.h"

#define SELECTION_CTX "logseal-selection-v1\n"

void ls_bundle_header_encode(const LsBundleHeader *h, uint8_t out[LS_BUNDLE_HEADER_LEN])
{
        memset(out, 0, LS_BUNDLE_HEADER_LEN);
        ls_magic_put(out, LS_MAGIC_EVIDENCE);
        ls_put16(out + 8, LS_FORMAT_VERSION);
        ls_put16(out + 10, LS_BUNDLE_HEADER_LEN);
        memcpy(out + 16, h->chain_id, LS_CHAIN_ID_LEN);
        ls_put64(out + 32, h->tree_size);
        ls_put32(out + 40, h->record_count);
        ls_put64(out + 48, h->custody_seq);
}

int ls_bundle_header_decode(LsBundleHeader *h, const uint8_t *p, size_t n)
{
        if (n < LS_MAGIC_LEN || !ls_magic_check(p, LS_MAGIC_EVIDENCE))
                return n < LS_MAGIC_LEN ? -ENODATA : -EBADMSG;
        if (n < 14)
                return -ENODATA;
        /* version and flags first: a later format may have another size (SPEC §14.1) */
        if (ls_get16(p + 8) != LS_FORMAT_VERSION || ls_get16(p + 12) != 0)
                return -EPROTONOSUPPORT;
        if (ls_get16(p + 10) != LS_BUNDLE_HEADER_LEN)
                return -EBADMSG;
        if (n < LS_BUNDLE_HEADER_LEN)
                return -ENODATA;
        if (n > LS_BUNDLE_HEADER_LEN)
                return -EBADMSG;
        if (ls_get32(p + 44) != 0 || ls_get64(p + 56) != 0)
                return -EBADMSG;
        memcpy(h->chain_id, p + 16, LS_CHAIN_ID_LEN);
        h->tree_size = ls_get64(p + 32);
        h->record_count = ls_get32(p + 40);
        h->custody_seq = ls_get64(p + 48);
        if (h->record_count > LS_BUNDLE_MAX_RECORDS)
                return -E2BIG;
        /* The disclosed records and the custody record all lie inside the tree. */
        if (h->custody_seq >= h->tree_size || h->record_count >= h->tree_size)
                return -EBADMSG;
        return 0;
}

int ls_bundle_header_decode_later(LsBundleHeader *h, uint16_t *ret_size,
                                  uint64_t *ret_custody_offset, const uint8_t *p, size_t n)
{
        uint16_t size;

        if (n < LS_BUNDLE_HEADER_LEN)
                return -ENODATA;
        if (!ls_magic_check(p, LS_MAGIC_EVIDENCE))
                return -EBADMSG;
        size = ls_get16(p + 10);
        if (size < LS_BUNDLE_HEADER_LEN || size > LS_BUNDLE_LATER_HEADER_MAX)
                return -EBADMSG;
        memcpy(h->chain_id, p + 16, LS_CHAIN_ID_LEN);
        h->tree_size = ls_get64(p + 32);
        h->record_count = ls_get32(p + 40);
        h->custody_seq = ls_get64(p + 48);
        if (h->custody_seq >= h->tree_size)
                return -EBADMSG;
        *ret_size = size;
        *ret_custody_offset = ls_get64(p + 56);
        if (*ret_custody_offset < size)
                return -EBADMSG;
        return 0;
}

void ls_bundle_header_later_hash(const uint8_t *p, size_t size, uint8_t out[LS_HASH_LEN])
{
        LsSha256 c;
        static const char ctx[] = "logseal-bundle-header-v1\n";

        ls_sha256_init(&c);
        ls_sha256_update(&c, ctx, sizeof(ctx) - 1);
        ls_sha256_update(&c, p, size);
        ls_sha256_final(&c, out);
}

void ls_bundle_entry_encode(const LsBundleEntry *e, uint8_t out[LS_BUNDLE_ENTRY_FIXED_LEN])
{
        ls_put32(out, e->record_len);
        ls_put32(out + 4, e->proof_len);
        ls_put64(out + 8, e->seq);
        memcpy(out + 16, e->salt, LS_SALT_LEN);
}

int ls_bundle_entry_decode(LsBundleEntry *e, const uint8_t *p, size_t n)
{
        if (n < LS_BUNDLE_ENTRY_FIXED_LEN)
                return -ENODATA;
        e->record_len = ls_get32(p);
        e->proof_len = ls_get32(p + 4);
        e->seq = ls_get64(p + 8);
        memcpy(e->salt, p + 16, LS_SALT_LEN);
        if (e->record_len > LS_MAX_RECORD_LEN || e->proof_len > LS_BUNDLE_MAX_PROOF_LEN)
                return -E2BIG;
        if (e->record_len < LS_RECORD_FIXED_LEN || e->proof_len < 20 || (e->proof_len - 20) % 32)
                return -EBADMSG;
        return 0;
}

void ls_selection_init(LsSelection *s, uint32_t record_count)
{
        uint8_t n[8];

        ls_sha256_init(&s->h);
        ls_sha256_update(&s->h, SELECTION_CTX, strlen(SELECTION_CTX));
        ls_put64(n, record_count);
        ls_sha256_update(&s->h, n, sizeof(n));
}

void ls_selection_add(LsSelection *s, uint64_t seq, const uint8_t leaf[LS_HASH_LEN])
{
        uint8_t b[8];

        ls_put64(b, seq);
        ls_sha256_update(&s->h, b, sizeof(b));
        ls_sha256_update(&s->h, leaf, LS_HASH_LEN);
}

void ls_selection_final(LsSelection *s, uint8_t out[LS_HASH_LEN])
{
        ls_sha256_final(&s->h, out);
}
