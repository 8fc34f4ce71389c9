/* SPDX-License-Identifier: Apache-2.0 */
/* hash.c: SHA-256 based hashes and text encodings */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"

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
        ls_sha256(out, buf, sizeof(buf));
}

void ls_leaf_hash_x2(uint8_t out0[LS_HASH_LEN], const uint8_t salt0[LS_SALT_LEN],
                     const uint8_t *rec0, size_t n0, uint8_t out1[LS_HASH_LEN],
                     const uint8_t salt1[LS_SALT_LEN], const uint8_t *rec1, size_t n1)
{
        uint8_t q0[1 + LS_SALT_LEN], q1[1 + LS_SALT_LEN];

        q0[0] = q1[0] = 0x00;
        memcpy(q0 + 1, salt0, LS_SALT_LEN);
        memcpy(q1 + 1, salt1, LS_SALT_LEN);
        ls_sha256_prefixed_x2(out0, q0, sizeof(q0), rec0, n0, out1, q1, sizeof(q1), rec1, n1);
}

void ls_node_hash_x2(uint8_t out0[LS_HASH_LEN], const uint8_t l0[LS_HASH_LEN],
                     const uint8_t r0[LS_HASH_LEN], uint8_t out1[LS_HASH_LEN],
                     const uint8_t l1[LS_HASH_LEN], const uint8_t r1[LS_HASH_LEN])
{
        uint8_t q0[1 + LS_HASH_LEN], q1[1 + LS_HASH_LEN], p0[LS_HASH_LEN], p1[LS_HASH_LEN];

        /* out may be one of the inputs: everything is copied before anything is written */
        q0[0] = q1[0] = 0x01;
        memcpy(q0 + 1, l0, LS_HASH_LEN);
        memcpy(q1 + 1, l1, LS_HASH_LEN);
        memcpy(p0, r0, LS_HASH_LEN);
        memcpy(p1, r1, LS_HASH_LEN);
        ls_sha256_prefixed_x2(out0, q0, sizeof(q0), p0, sizeof(p0), out1, q1, sizeof(q1), p1,
                              sizeof(p1));
}

/* RFC 2104 with B = 64, L = 32: keys longer than a block are hashed first. */
void ls_hmac_sha256_init(LsHmacSha256 *h, const uint8_t *key, size_t klen)
{
        uint8_t k[64] = {0}, pad[64];

        if (klen > sizeof(k))
                ls_sha256(k, key, klen);
        else if (klen > 0)
                memcpy(k, key, klen);
        for (size_t i = 0; i < sizeof(pad); i++)
                pad[i] = k[i] ^ 0x36;
        ls_sha256_init(&h->inner);
        ls_sha256_update(&h->inner, pad, sizeof(pad));
        for (size_t i = 0; i < sizeof(pad); i++)
                pad[i] = k[i] ^ 0x5c;
        ls_sha256_init(&h->outer);
        ls_sha256_update(&h->outer, pad, sizeof(pad));
        sodium_memzero(k, sizeof(k));
        sodium_memzero(pad, sizeof(pad));
}

void ls_hmac_sha256_update(LsHmacSha256 *h, const void *p, size_t n)
{
        ls_sha256_update(&h->inner, p, n);
}

void ls_hmac_sha256_final(LsHmacSha256 *h, uint8_t out[LS_HASH_LEN])
{
        uint8_t ih[LS_HASH_LEN];

        ls_sha256_final(&h->inner, ih);
        ls_sha256_update(&h->outer, ih, sizeof(ih));
        ls_sha256_final(&h->outer, out); /* each final wiped its state */
        sodium_memzero(ih, sizeof(ih));
}

void ls_salt(uint8_t out[LS_SALT_LEN], const uint8_t seed[LS_HASH_LEN], uint64_t seq)
{
        LsSaltKey k;

        ls_salt_key_init(&k, seed);
        ls_salt_derive(&k, seq, out);
        ls_salt_key_wipe(&k);
}

void ls_salt_key_init(LsSaltKey *k, const uint8_t seed[LS_HASH_LEN])
{
        ls_hmac_sha256_init(&k->h, seed, LS_HASH_LEN);
        ls_hmac_sha256_update(&k->h, LS_CTX_SALT, strlen(LS_CTX_SALT));
}

void ls_salt_derive(const LsSaltKey *k, uint64_t seq, uint8_t out[LS_SALT_LEN])
{
        LsHmacSha256 h = k->h;
        uint8_t s[8];

        ls_put64(s, seq);
        ls_hmac_sha256_update(&h, s, sizeof(s));
        ls_hmac_sha256_final(&h, out); /* wipes h */
}

void ls_salt_derive_x2(const LsSaltKey *k, uint64_t seq0, uint8_t out0[LS_SALT_LEN],
                       uint64_t seq1, uint8_t out1[LS_SALT_LEN])
{
        uint8_t s0[8], s1[8], h0[LS_HASH_LEN], h1[LS_HASH_LEN];

        ls_put64(s0, seq0);
        ls_put64(s1, seq1);
        ls_sha256_final_copy_x2(&k->h.inner, s0, sizeof(s0), h0, &k->h.inner, s1, sizeof(s1), h1);
        ls_sha256_final_copy_x2(&k->h.outer, h0, sizeof(h0), out0, &k->h.outer, h1, sizeof(h1),
                                out1);
        sodium_memzero(h0, sizeof(h0));
        sodium_memzero(h1, sizeof(h1));
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
