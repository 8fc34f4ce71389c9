/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-encoding.h: what the parts of test-encoding share. Each test-encoding-*.c holds the tests
 * of one byte format and adds them to the suite's test case with its suite_add_*() function;
 * test-encoding.c calls those in the order the tests run. Expected values are computed from the
 * SPEC text with libsodium primitives, not with the library under test.
 */
#pragma once

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "archive.h"
#include "batch.h"
#include "checkpoint.h"
#include "control.h"
#include "hash.h"
#include "keys.h"
#include "record.h"
#include "testutil.h"
#include "util.h"

/* test-encoding-util.c: little-endian stores, decoder checks, reference hashes, test keys. */
void le16(uint8_t *p, uint16_t v);
void le32(uint8_t *p, uint32_t v);
void le64(uint8_t *p, uint64_t v);
uint8_t *dup_bytes(const void *p, size_t n);
/* A decoder seen as "bytes in, error class out". */
typedef int (*DecodeFn)(const uint8_t *p, size_t n);
void assert_prefixes_rejected(DecodeFn f, const uint8_t *p, size_t n, int want, const char *what);
void assert_trailing_rejected(DecodeFn f, const uint8_t *p, size_t n, const char *what);
int decode_with_byte(DecodeFn f, const uint8_t *p, size_t n, size_t off, uint8_t v);
void ref_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t klen, const uint8_t *msg,
                     size_t mlen);
void ref_key_id(uint8_t out[8], const uint8_t pk[32]);
LsKeyPair *key_from_name(const char *name, uint64_t epoch);

/* test-encoding-record.c: record fixtures and the reference encoding. */
LsRecord record_fixture(unsigned i);
size_t ref_record(const LsRecord *r, uint8_t *out);

/* test-encoding-control.c: a raw tagged body, built without the library's ordering or size
 * checks. */
typedef struct Body {
        uint8_t b[70000];
        size_t n;
        size_t bounds[64]; /* offsets where a field ends */
        unsigned nbounds;
} Body;
void full_body(Body *b, size_t i, uint16_t omit);

/* test-encoding-batch.c: magic numbers, named filler, the batch header fixture and its
 * reference encoding, the checkpoint note body. */
void put_magic(uint8_t *p, char x);
void fill(uint8_t *p, size_t n, const char *name);
void batch_fixture(LsBatchHeader *h, LsKeyPair *k);
void ref_batch(const LsBatchHeader *h, uint8_t out[304]);
int ref_note_body(char *out, size_t cap, const uint8_t chain_id[16], uint64_t tree_size,
                  const uint8_t root[32], uint64_t batch_no, const uint8_t hh[32]);

/* test-encoding-cert.c: a root key, two epoch keys, another key and their certificates. */
typedef struct Keys {
        LsKeyPair *root, *epoch0, *epoch1, *other;
        uint8_t chain_id[16];
        LsCert signing, root_cert;
} Keys;
void keys_setup(Keys *k);
void keys_free(Keys *k);

/* Each part adds its tests to the suite's test case. */
void suite_add_hash(TCase *tc);
void suite_add_record(TCase *tc);
void suite_add_control(TCase *tc);
void suite_add_batch_archive(TCase *tc); /* with suite_add_archive() */
void suite_add_archive(TCase *tc);
void suite_add_keys(TCase *tc); /* with suite_add_keyfiles() */
void suite_add_keyfiles(TCase *tc);
void suite_add_checkpoint(TCase *tc);
