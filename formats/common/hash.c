/* SPDX-License-Identifier: Apache-2.0 */
/* hash.c: SHA-256 based hashes and text encodings */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"

void ls_sha256(uint8_t out[LS_HASH_LEN], const void *p, size_t n)
{
        crypto_hash_sha256(out, p, n);
}

void ls_leaf_hash(uint8_t out[LS_HASH_LEN], const uint8_t salt[LS_SALT_LEN], const uint8_t *rec,
                  size_t n)
{
        static const uint8_t prefix = 0x00;
        LsSha256 s;

        ls_sha256_init(&s);
        ls_sha256_update(&s, &prefix, 1);
        ls_sha256_update(&s, salt, LS_SALT_LEN);
        ls_sha256_update(&s, rec, n);
        ls_sha256_final(&s, out);
}

void ls_node_hash(uint8_t out[LS_HASH_LEN], const uint8_t left[LS_HASH_LEN],
                  const uint8_t right[LS_HASH_LEN])
{
        uint8_t buf[1 + 2 * LS_HASH_LEN];

        buf[0] = 0x01;
        memcpy(buf + 1, left, LS_HASH_LEN);
        memcpy(buf + 1 + LS_HASH_LEN, right, LS_HASH_LEN);
        crypto_hash_sha256(out, buf, sizeof(buf));
}

void ls_salt(uint8_t out[LS_SALT_LEN], const uint8_t seed[LS_HASH_LEN], uint64_t seq)
{
        crypto_auth_hmacsha256_state st;
        uint8_t s[8];

        ls_put64(s, seq);
        crypto_auth_hmacsha256_init(&st, seed, LS_HASH_LEN);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *) LS_CTX_SALT, strlen(LS_CTX_SALT));
        crypto_auth_hmacsha256_update(&st, s, sizeof(s));
        crypto_auth_hmacsha256_final(&st, out);
        sodium_memzero(&st, sizeof(st));
}

void ls_salt_key_init(LsSaltKey *k, const uint8_t seed[LS_HASH_LEN])
{
        crypto_auth_hmacsha256_init(&k->st, seed, LS_HASH_LEN);
        crypto_auth_hmacsha256_update(&k->st, (const uint8_t *) LS_CTX_SALT, strlen(LS_CTX_SALT));
}

void ls_salt_derive(const LsSaltKey *k, uint64_t seq, uint8_t out[LS_SALT_LEN])
{
        crypto_auth_hmacsha256_state st = k->st;
        uint8_t s[8];

        ls_put64(s, seq);
        crypto_auth_hmacsha256_update(&st, s, sizeof(s));
        crypto_auth_hmacsha256_final(&st, out);
        sodium_memzero(&st, sizeof(st));
}

void ls_salt_key_wipe(LsSaltKey *k)
{
        sodium_memzero(k, sizeof(*k));
}

void ls_key_id(uint8_t out[LS_KEY_ID_LEN], const uint8_t pk[LS_PK_LEN])
{
        uint8_t h[LS_HASH_LEN];
        LsSha256 s;

        ls_sha256_init(&s);
        ls_sha256_update(&s, LS_CTX_KEY_ID, strlen(LS_CTX_KEY_ID));
        ls_sha256_update(&s, pk, LS_PK_LEN);
        ls_sha256_final(&s, h);
        memcpy(out, h, LS_KEY_ID_LEN);
}

int ls_hash_equal(const uint8_t a[LS_HASH_LEN], const uint8_t b[LS_HASH_LEN])
{
        return sodium_memcmp(a, b, LS_HASH_LEN) == 0;
}

void ls_hex(char *out, const uint8_t *p, size_t n)
{
        sodium_bin2hex(out, 2 * n + 1, p, n);
}

int ls_unhex(uint8_t *out, size_t n, const char *s, size_t slen)
{
        size_t got = 0;
        const char *end = NULL;

        if (slen != 2 * n)
                return -EBADMSG;
        if (sodium_hex2bin(out, n, s, slen, NULL, &got, &end) != 0 || got != n ||
            end != s + slen)
                return -EBADMSG;
        return 0;
}

size_t ls_base64_len(size_t n)
{
        return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
}

void ls_base64(char *out, const uint8_t *p, size_t n)
{
        sodium_bin2base64(out, ls_base64_len(n), p, n, sodium_base64_VARIANT_ORIGINAL);
}

int ls_unbase64(uint8_t *out, size_t n, const char *s, size_t slen)
{
        size_t got = 0;
        const char *end = NULL;
        char *canon;
        int same;

        /* Canonical form only: exact padded length, and re-encoding gives the same text. */
        if (slen != ls_base64_len(n) - 1)
                return -EBADMSG;
        if (sodium_base642bin(out, n, s, slen, NULL, &got, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            got != n || end != s + slen)
                return -EBADMSG;
        canon = malloc(slen + 1);
        if (!canon)
                return -ENOMEM;
        ls_base64(canon, out, n);
        same = memcmp(canon, s, slen) == 0;
        free(canon);
        return same ? 0 : -EBADMSG;
}
