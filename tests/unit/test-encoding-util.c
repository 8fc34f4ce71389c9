/* SPDX-License-Identifier: Apache-2.0 */
/* test-encoding, the helpers the parts share (the suite is in test-encoding.c) */
#include "test-encoding.h"

/* ---------------------------------------------------------------------------------------------
 * Helpers, written from the SPEC (little-endian integers, §1), independent of formats/common.
 */

void le16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}
void le32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}
void le64(uint8_t *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

uint8_t *dup_bytes(const void *p, size_t n)
{
        uint8_t *q = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(q);
        if (n)
                memcpy(q, p, n);
        return q;
}

/*
 * Every strict prefix is rejected with `want` (each in an exactly sized heap
 * buffer, so that an over-read shows under valgrind/ASan).
 */
void assert_prefixes_rejected(DecodeFn f, const uint8_t *p, size_t n, int want,
                              const char *what)
{
        for (size_t k = 0; k < n; k++) {
                uint8_t *q = dup_bytes(p, k);
                int r = f(q, k);
                free(q);
                ck_assert_msg(r == want, "%s: prefix of %zu of %zu bytes: got %d, want %d", what, k,
                              n, r, want);
        }
}

/* Appending 1 or 9 bytes (zero or 0xff) is -EBADMSG. */
void assert_trailing_rejected(DecodeFn f, const uint8_t *p, size_t n, const char *what)
{
        static const size_t extra[] = {1, 9};
        static const uint8_t fill[] = {0x00, 0xff};

        for (size_t i = 0; i < ELEMENTSOF(extra); i++)
                for (size_t j = 0; j < ELEMENTSOF(fill); j++) {
                        uint8_t *q = malloc(n + extra[i]);
                        ck_assert_ptr_nonnull(q);
                        memcpy(q, p, n);
                        memset(q + n, fill[j], extra[i]);
                        int r = f(q, n + extra[i]);
                        free(q);
                        ck_assert_msg(r == -EBADMSG, "%s: %zu trailing 0x%02x bytes: got %d", what,
                                      extra[i], fill[j], r);
                }
}

/* Decodes a copy of p with one byte replaced. */
int decode_with_byte(DecodeFn f, const uint8_t *p, size_t n, size_t off, uint8_t v)
{
        uint8_t *q;
        int r;

        if (off >= n)
                return -EINVAL;
        q = dup_bytes(p, n);
        q[off] = v;
        r = f(q, n);
        free(q);
        return r;
}

/* HMAC-SHA-256 (RFC 2104) from the hash primitive, for an independent salt. */
void ref_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t klen, const uint8_t *msg,
                     size_t mlen)
{
        uint8_t k[64] = {0}, ipad[64], opad[64], inner[32];
        crypto_hash_sha256_state s;

        if (klen > 64)
                crypto_hash_sha256(k, key, klen);
        else
                memcpy(k, key, klen);
        for (int i = 0; i < 64; i++) {
                ipad[i] = k[i] ^ 0x36;
                opad[i] = k[i] ^ 0x5c;
        }
        crypto_hash_sha256_init(&s);
        crypto_hash_sha256_update(&s, ipad, 64);
        crypto_hash_sha256_update(&s, msg, mlen);
        crypto_hash_sha256_final(&s, inner);
        crypto_hash_sha256_init(&s);
        crypto_hash_sha256_update(&s, opad, 64);
        crypto_hash_sha256_update(&s, inner, 32);
        crypto_hash_sha256_final(&s, out);
}

/* key_id = H("logseal-key-id-v1\n" ‖ pk)[0..8] (SPEC §1) */
void ref_key_id(uint8_t out[8], const uint8_t pk[32])
{
        uint8_t buf[18 + 32], h[32];

        memcpy(buf, "logseal-key-id-v1\n", 18);
        memcpy(buf + 18, pk, 32);
        crypto_hash_sha256(h, buf, sizeof(buf));
        memcpy(out, h, 8);
}

LsKeyPair *key_from_name(const char *name, uint64_t epoch)
{
        uint8_t seed[32];
        LsKeyPair *k = NULL;

        tu_seed(seed, name);
        ck_assert_int_eq(ls_keypair_from_seed(&k, seed, epoch), 0);
        return k;
}
