/* SPDX-License-Identifier: Apache-2.0 */
/* hash.h: SHA-256 and the tree/leaf hashes of SPEC §3.3 and §5 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "defs.h"

/*
 * Incremental SHA-256 (FIPS 180-4), formats/common/sha256.c. On x86 CPUs with the SHA
 * extensions the blocks are compressed with them; elsewhere the state is libsodium's
 * (the implementation is fixed at init). A state is plain data: copying it forks the
 * hash. final wipes the state.
 */
typedef struct LsSha256 {
        union {
                struct {
                        uint32_t h[8];
                        uint64_t count; /* bytes absorbed */
                        uint8_t buf[64];
                } ni;
                crypto_hash_sha256_state sodium;
        } u;
        int portable; /* 1: u.sodium is in use */
} LsSha256;

void ls_sha256_init(LsSha256 *s);
void ls_sha256_update(LsSha256 *s, const void *p, size_t n);
void ls_sha256_final(LsSha256 *s, uint8_t out[LS_HASH_LEN]);

void ls_sha256(uint8_t out[LS_HASH_LEN], const void *p, size_t n);
/*
 * update(a, pa, na) + final(a, outa) and the same for b, with the blocks of the two
 * messages compressed side by side (SHA-NI: about twice the throughput of one stream).
 */
void ls_sha256_final_x2(LsSha256 *a, const void *pa, size_t na, uint8_t outa[LS_HASH_LEN],
                        LsSha256 *b, const void *pb, size_t nb, uint8_t outb[LS_HASH_LEN]);
/* ls_sha256_final_x2() on copies of a and b: the states are left as they are. */
void ls_sha256_final_copy_x2(const LsSha256 *a, const void *pa, size_t na,
                             uint8_t outa[LS_HASH_LEN], const LsSha256 *b, const void *pb,
                             size_t nb, uint8_t outb[LS_HASH_LEN]);
/*
 * H(qa[0..ra) ‖ pa[0..na)) and H(qb[0..rb) ‖ pb[0..nb)), side by side (ra, rb < 64).
 * For public data (leaves, tree nodes): nothing is wiped afterwards.
 */
void ls_sha256_prefixed_x2(uint8_t outa[LS_HASH_LEN], const uint8_t *qa, size_t ra,
                           const void *pa, size_t na, uint8_t outb[LS_HASH_LEN],
                           const uint8_t *qb, size_t rb, const void *pb, size_t nb);

/* "sha-ni" or "libsodium": the implementation states initialised now use. */
const char *ls_sha256_implementation(void);
/*
 * Tests only: on != 0 makes states initialised from now on (and ls_sha256) use libsodium;
 * 0 restores the detected choice. Returns 1 when SHA-NI is in use afterwards.
 */
int ls_sha256_force_portable(int on);

/* leaf = H(0x00 ‖ salt ‖ record) */
void ls_leaf_hash(uint8_t out[LS_HASH_LEN], const uint8_t salt[LS_SALT_LEN], const uint8_t *rec,
                  size_t n);
/* Two leaf hashes at once (ls_sha256_final_x2). */
void ls_leaf_hash_x2(uint8_t out0[LS_HASH_LEN], const uint8_t salt0[LS_SALT_LEN],
                     const uint8_t *rec0, size_t n0, uint8_t out1[LS_HASH_LEN],
                     const uint8_t salt1[LS_SALT_LEN], const uint8_t *rec1, size_t n1);
/* node = H(0x01 ‖ left ‖ right) */
void ls_node_hash(uint8_t out[LS_HASH_LEN], const uint8_t left[LS_HASH_LEN],
                  const uint8_t right[LS_HASH_LEN]);
/* Two node hashes at once (ls_sha256_final_x2). */
void ls_node_hash_x2(uint8_t out0[LS_HASH_LEN], const uint8_t l0[LS_HASH_LEN],
                     const uint8_t r0[LS_HASH_LEN], uint8_t out1[LS_HASH_LEN],
                     const uint8_t l1[LS_HASH_LEN], const uint8_t r1[LS_HASH_LEN]);
/* salt = HMAC-SHA-256(seed, "logseal-salt-v1\n" ‖ u64(seq)) */
void ls_salt(uint8_t out[LS_SALT_LEN], const uint8_t seed[LS_HASH_LEN], uint64_t seq);

/* HMAC-SHA-256 (RFC 2104) on LsSha256; final wipes the state. */
typedef struct LsHmacSha256 {
        LsSha256 inner, outer; /* after absorbing key ^ ipad and key ^ opad */
} LsHmacSha256;
void ls_hmac_sha256_init(LsHmacSha256 *h, const uint8_t *key, size_t klen);
void ls_hmac_sha256_update(LsHmacSha256 *h, const void *p, size_t n);
void ls_hmac_sha256_final(LsHmacSha256 *h, uint8_t out[LS_HASH_LEN]);

/*
 * The same salts for many records of one batch: the HMAC key schedule and the
 * context string are absorbed once (two SHA-256 blocks per record instead of four).
 */
typedef struct LsSaltKey {
        LsHmacSha256 h; /* key schedule done, LS_CTX_SALT absorbed */
} LsSaltKey;
void ls_salt_key_init(LsSaltKey *k, const uint8_t seed[LS_HASH_LEN]);
void ls_salt_derive(const LsSaltKey *k, uint64_t seq, uint8_t out[LS_SALT_LEN]);
/* Two salts at once (ls_sha256_final_x2). */
void ls_salt_derive_x2(const LsSaltKey *k, uint64_t seq0, uint8_t out0[LS_SALT_LEN],
                       uint64_t seq1, uint8_t out1[LS_SALT_LEN]);
void ls_salt_key_wipe(LsSaltKey *k);
/* key_id = H("logseal-key-id-v1\n" ‖ pk)[0..8] */
void ls_key_id(uint8_t out[LS_KEY_ID_LEN], const uint8_t pk[LS_PK_LEN]);

/* Constant-time comparison of two hashes: 1 when equal. */
int ls_hash_equal(const uint8_t a[LS_HASH_LEN], const uint8_t b[LS_HASH_LEN]);

/* Lower-case hex of p[0..n) into out (2n+1 bytes, NUL-terminated). */
void ls_hex(char *out, const uint8_t *p, size_t n);
/* Strict decode of exactly 2n lower- or upper-case hex digits; -EBADMSG otherwise. */
int ls_unhex(uint8_t *out, size_t n, const char *s, size_t slen);
/* Standard base64 with padding; out must hold ls_base64_len(n) bytes incl. NUL. */
size_t ls_base64_len(size_t n);
void ls_base64(char *out, const uint8_t *p, size_t n);
/* Strict canonical base64 decode into exactly n bytes; -EBADMSG otherwise. */
int ls_unbase64(uint8_t *out, size_t n, const char *s, size_t slen);
