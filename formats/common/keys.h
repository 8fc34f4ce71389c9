/* SPDX-License-Identifier: Apache-2.0 */
/* keys.h: Ed25519 key pairs in guarded memory, signers, certificates, revocations, key files (SPEC §9, §10) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "defs.h"

/* A key pair whose secret half lives in sodium_malloc memory (guard pages, wiped on free). */
typedef struct LsKeyPair {
        uint8_t *sk;                     /* LS_SK_LEN bytes, sodium_malloc */
        uint8_t pk[LS_PK_LEN];
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t epoch;
} LsKeyPair;

int ls_keypair_generate(LsKeyPair **ret, uint64_t epoch);
/* Deterministic key from a 32-byte seed: test vectors only. */
int ls_keypair_from_seed(LsKeyPair **ret, const uint8_t seed[32], uint64_t epoch);
/* Wipes and frees; accepts NULL, returns NULL. */
LsKeyPair *ls_keypair_free(LsKeyPair *k);

/*
 * The signing seam: whatever signs holds the secret; the caller only sees
 * the public half and a sign function. Today a local key pair, later a
 * separate signer process, without changes to batch or archive code.
 */
typedef struct LsSigner {
        uint8_t pk[LS_PK_LEN];
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t epoch;
        int (*sign)(void *userdata, const uint8_t *msg, size_t n, uint8_t sig[LS_SIG_LEN]);
        void *userdata;
} LsSigner;

void ls_signer_from_keypair(LsSigner *s, LsKeyPair *k);

/* Signs ctx ‖ msg (ctx may be NULL). n + strlen(ctx) must be at most 4096. */
int ls_sign(const LsSigner *s, const char *ctx, const uint8_t *msg, size_t n,
            uint8_t sig[LS_SIG_LEN]);
/* Verifies a signature over ctx ‖ msg: 0 or -EKEYREJECTED. */
int ls_verify(const uint8_t pk[LS_PK_LEN], const char *ctx, const uint8_t *msg, size_t n,
              const uint8_t sig[LS_SIG_LEN]);

/* Key certificate (SPEC §9.1). */
typedef struct LsCert {
        uint8_t kind;                        /* LS_CERT_SIGNING or LS_CERT_ROOT */
        uint16_t flags;                      /* LS_CERT_F_* (kind 1 only) */
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint8_t pk[LS_PK_LEN];
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t epoch;
        uint64_t valid_from_batch;
        uint64_t issued_ns;
        uint8_t issuer_key_id[LS_KEY_ID_LEN];
        uint8_t sig[LS_SIG_LEN];
} LsCert;

void ls_cert_encode(const LsCert *c, uint8_t out[LS_CERT_LEN]);
/* Fills key_id from pk and issuer_key_id from the issuer, then signs. */
int ls_cert_sign(LsCert *c, const LsSigner *issuer);
/* Structural decode of exactly n bytes; does not check the signature. */
int ls_cert_decode(LsCert *c, const uint8_t *p, size_t n);
/* 0 when the certificate's signature verifies under issuer_pk, else -EKEYREJECTED. */
int ls_cert_verify(const LsCert *c, const uint8_t issuer_pk[LS_PK_LEN]);

/* Revocation (SPEC §9.2). */
typedef struct LsRevocation {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint8_t revoked_key_id[LS_KEY_ID_LEN];
        uint64_t from_batch;                  /* LS_UNSET when not set */
        uint64_t from_time_ns;                /* LS_UNSET when not set */
        uint64_t issued_ns;
        uint8_t issuer_key_id[LS_KEY_ID_LEN];
        const char *reason;
        uint16_t reason_len;
        uint8_t sig[LS_SIG_LEN];
} LsRevocation;

size_t ls_revocation_size(const LsRevocation *r);
int ls_revocation_encode(const LsRevocation *r, uint8_t *out, size_t cap, size_t *ret_len);
int ls_revocation_sign(LsRevocation *r, const LsSigner *issuer);
int ls_revocation_decode(LsRevocation *r, const uint8_t *p, size_t n);
int ls_revocation_verify(const LsRevocation *r, const uint8_t issuer_pk[LS_PK_LEN]);

/*
 * Epoch close (SPEC §9.4): the key of epoch e+1 states what epoch e sealed, so that
 * the erased key of epoch e can vouch for nothing else.
 */
typedef struct LsEpochClose {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint8_t closed_key_id[LS_KEY_ID_LEN];
        uint64_t closed_epoch;
        uint64_t last_batch_no;
        uint64_t tree_size;
        uint8_t tree_root[LS_HASH_LEN];
        uint8_t last_header_hash[LS_HASH_LEN];
        uint64_t max_time_ns;
        uint8_t prev_close_hash[LS_HASH_LEN];  /* zero for epoch 0 */
        uint64_t issued_ns;
        uint8_t issuer_key_id[LS_KEY_ID_LEN];
        uint8_t sig[LS_SIG_LEN];
} LsEpochClose;

void ls_close_encode(const LsEpochClose *c, uint8_t out[LS_CLOSE_LEN]);
/* Fills issuer_key_id from the issuer, then signs. */
int ls_close_sign(LsEpochClose *c, const LsSigner *issuer);
/* Structural decode of exactly n bytes; does not check the signature. */
int ls_close_decode(LsEpochClose *c, const uint8_t *p, size_t n);
/* 0 when the signature verifies under issuer_pk, else -EKEYREJECTED. */
int ls_close_verify(const LsEpochClose *c, const uint8_t issuer_pk[LS_PK_LEN]);
/* close_hash = H(signed bytes) */
void ls_close_hash(const LsEpochClose *c, uint8_t out[LS_HASH_LEN]);

/*
 * Key history (SPEC §10.3): the kind (LS_MAGIC_CERT, LS_MAGIC_REVOCATION or LS_MAGIC_CLOSE) and
 * length of the item the n bytes at p start with. 0; -ENODATA when they hold only its start
 * (a torn append); -EBADMSG when no item starts there. The item is not decoded.
 */
int ls_history_item(const uint8_t *p, size_t n, char *ret_kind, size_t *ret_len);

/* Public key file (SPEC §10.1). */
#define LS_PUBKEY_TEXT_MAX 1200
int ls_pubkey_format(char *out, size_t cap, const uint8_t pk[LS_PK_LEN], const char *comment);
int ls_pubkey_parse(const char *text, size_t n, uint8_t pk[LS_PK_LEN],
                    uint8_t key_id[LS_KEY_ID_LEN]);
/* Human fingerprint: H(pk) as 16 groups of 4 hex digits separated by spaces (80 bytes). */
#define LS_FINGERPRINT_LEN 80
void ls_fingerprint(char out[LS_FINGERPRINT_LEN], const uint8_t pk[LS_PK_LEN]);

/* Secret key file (SPEC §10.2). passphrase NULL = kdf 0 (no passphrase). */
int ls_seckey_encode(const LsKeyPair *k, const char *passphrase, uint64_t opslimit,
                     size_t memlimit, uint8_t out[LS_SECRET_FILE_LEN]);
/* -EKEYREJECTED for a wrong passphrase or damaged box. */
int ls_seckey_decode(LsKeyPair **ret, const uint8_t *p, size_t n, const char *passphrase);
/* 1 when the file needs a passphrase, 0 when not, <0 malformed. */
int ls_seckey_needs_passphrase(const uint8_t *p, size_t n);
