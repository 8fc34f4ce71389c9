/* SPDX-License-Identifier: Apache-2.0 */
/* testutil.h: building records and chains for tests and vectors */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "chain-writer.h"
#include "control.h"
#include "keys.h"
#include "record.h"

/* 2026-01-01T00:00:00Z */
#define TU_T0 UINT64_C(1767225600000000000)

/* A deterministic 32-byte seed: H("logseal-test-vector-" ‖ name). */
void tu_seed(uint8_t out[32], const char *name);

/* Syslog records over each transport (body points at msg, which must outlive use). */
LsRecord tu_udp4(uint64_t t, const char *ip4, uint16_t port, const char *msg);
LsRecord tu_tcp6(uint64_t t, const uint8_t ip6[16], uint16_t port, uint32_t conn,
                 const char *msg);
LsRecord tu_unix(uint64_t t, uint32_t pid, uint32_t uid, uint32_t gid, const char *msg);

/* A control record whose body is b's content (b must outlive use). */
int tu_control(LsRecord *r, uint64_t t, LsControlBuilder *b);

/* Certificate of `subject` issued by `issuer`. */
int tu_cert(LsCert *c, const uint8_t chain_id[16], const LsKeyPair *subject, uint8_t kind,
            uint64_t valid_from_batch, uint64_t issued_ns, LsKeyPair *issuer);

/* Reads a whole file (bounded by max); *ret is malloc'ed. */
int tu_read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len);
int tu_write_file(const char *path, const void *p, size_t n);

/*
 * Writes the golden chain of tests/vectors into dirfd (2 sealed archives,
 * 5 batches, a key transition to epoch 1). Keys are derived with tu_seed().
 */
typedef struct TuGolden {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        LsKeyPair *root, *epoch0, *epoch1;
        LsCert cert0, cert1;
        LsBatchHeader batches[5];
} TuGolden;
int tu_golden_chain(int dirfd, TuGolden *g);
void tu_golden_free(TuGolden *g);
