/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz.h: the libFuzzer entry point and helpers shared by the fuzz targets */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Defined by every fuzz-<name>.c; called by libFuzzer or by fuzz-main.c (replay). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An oracle that holds in every build (assert() vanishes under NDEBUG). */
#define FUZZ_CHECK(x)                                                                              \
        do {                                                                                       \
                if (!(x)) {                                                                        \
                        fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", __FILE__, __LINE__,     \
                                #x);                                                               \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

static inline void fuzz_init(void)
{
        static int done;

        if (done)
                return;
        if (sodium_init() < 0)
                abort();
        done = 1;
}

/*
 * Public key of a test-vector key (SPEC §13): seed = H("logseal-test-vector-" ‖ name), so
 * the seed corpora (copies of tests/vectors/) verify all the way through.
 */
static inline void fuzz_vector_pk(uint8_t pk[crypto_sign_PUBLICKEYBYTES], const char *name)
{
        uint8_t seed[crypto_hash_sha256_BYTES], sk[crypto_sign_SECRETKEYBYTES];
        crypto_hash_sha256_state s;

        crypto_hash_sha256_init(&s);
        crypto_hash_sha256_update(&s, (const uint8_t *) "logseal-test-vector-", 20);
        crypto_hash_sha256_update(&s, (const uint8_t *) name, strlen(name));
        crypto_hash_sha256_final(&s, seed);
        crypto_sign_seed_keypair(pk, sk, seed);
        sodium_memzero(sk, sizeof(sk));
        sodium_memzero(seed, sizeof(seed));
}

/* Fixed hashes from tests/vectors/expected.txt (hex, 64 digits). */
static inline void fuzz_hash_hex(uint8_t out[32], const char *hex)
{
        if (sodium_hex2bin(out, 32, hex, 64, NULL, NULL, NULL) != 0)
                abort();
}
