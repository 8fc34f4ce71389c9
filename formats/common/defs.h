/* SPDX-License-Identifier: Apache-2.0 */
/* defs.h: format constants of formats/SPEC.md (change both together) */
#pragma once

#include <assert.h>
#include <stdint.h>

/*
 * If you change anything here, change formats/SPEC.md in the same commit and
 * regenerate tests/vectors/ (tests/vectors/gen-vectors).
 */

/*
 * The `version` field of every versioned structure (SPEC §1): 1. The format as a whole is
 * at version 3 (SPEC Appendix A): version 2 added a structure and a flag, version 3 a batch
 * payload layout under a batch header incompat flag; no structure changed its version.
 */
#define LS_FORMAT_VERSION 1

#define LS_HASH_LEN 32
#define LS_SIG_LEN 64
#define LS_PK_LEN 32
#define LS_SK_LEN 64
#define LS_KEY_ID_LEN 8
#define LS_CHAIN_ID_LEN 16
#define LS_SALT_LEN 32

/* Magic: 0x89 'L' 'S' X '\r' '\n' 0x1a '\n' (SPEC §1). */
#define LS_MAGIC_LEN 8
#define LS_MAGIC_ARCHIVE 'A'
#define LS_MAGIC_BATCH 'B'
#define LS_MAGIC_TRAILER 'T'
#define LS_MAGIC_CERT 'C'
#define LS_MAGIC_REVOCATION 'R'
#define LS_MAGIC_SECRET 'S'
#define LS_MAGIC_CLOSE 'X'
#define LS_MAGIC_DICT 'D'

/* zstd skippable frame wrapping each logseal structure in an archive (SPEC §8.1). */
#define LS_SKIPPABLE_MAGIC UINT32_C(0x184D2A5B)
#define LS_FRAME_HDR_LEN 8

/* Record (SPEC §3). */
#define LS_RECORD_VERSION 1
#define LS_RECORD_FIXED_LEN 56
#define LS_MAX_IDENTITY 1024
#define LS_MAX_BODY (1024 * 1024)
#define LS_MAX_RECORD_LEN (LS_RECORD_FIXED_LEN + LS_MAX_IDENTITY + LS_MAX_BODY)

enum {
        LS_REC_SYSLOG = 1,
        LS_REC_CONTROL = 2,
};

enum {
        LS_RECF_PARSE_FAILED = 1u << 0,
        LS_RECF_TRUNCATED = 1u << 1,
        LS_RECF_RECOVERED = 1u << 2,
        LS_RECF_KNOWN = 0x7,
};

enum {
        LS_TRANSPORT_INTERNAL = 0,
        LS_TRANSPORT_UDP = 1,
        LS_TRANSPORT_TCP = 2,
        LS_TRANSPORT_UNIX_DGRAM = 3,
        LS_TRANSPORT_UNIX_STREAM = 4,
        LS_TRANSPORT_MAX = 4,
};

enum {
        LS_FAMILY_NONE = 0,
        LS_FAMILY_IPV4 = 1,
        LS_FAMILY_IPV6 = 2,
        LS_FAMILY_UNIX = 3,
};

/* Control records (SPEC §4). */
#define LS_CONTROL_HDR_LEN 4
#define LS_MAX_CONTROL_BODY 65535
#define LS_TAG_CRITICAL 0x8000u

enum {
        LS_CTL_START = 1,
        LS_CTL_STOP = 2,
        LS_CTL_UNCLEAN_SHUTDOWN = 3,
        LS_CTL_LOSS = 4,
        LS_CTL_HEARTBEAT = 5,
        LS_CTL_KEY_TRANSITION = 6,
        LS_CTL_REVOCATION = 7,
        LS_CTL_CUSTODY = 8,
        LS_CTL_CONFIG_CHANGE = 9,
        LS_CTL_CLOCK_STEP = 10,
        LS_CTL_RETENTION = 11,
        LS_CTL_EPOCH_CLOSE = 12,
        LS_CTL_SEQUENCE_RESET = 13,
        LS_CTL_MAX = 13,
};

enum {
        LS_TAG_COUNT = 1,
        LS_TAG_FIRST_TIME = 2,
        LS_TAG_LAST_TIME = 3,
        LS_TAG_CAUSE = 4,
        LS_TAG_TEXT = 5,
        LS_TAG_BOOT_ID = 6,
        LS_TAG_CONFIG_HASH = 7,
        LS_TAG_VERSION = 8,
        LS_TAG_CERT = 9,
        LS_TAG_REVOCATION = 10,
        LS_TAG_CASE_ID = 11,
        LS_TAG_EXAMINER = 12,
        LS_TAG_FILTER = 13,
        LS_TAG_MANIFEST_HASH = 14,
        LS_TAG_ACTION = 15,
        LS_TAG_FIRST_SEQ = 16,
        LS_TAG_LAST_SEQ = 17,
        LS_TAG_PREV_HASH = 18,
        LS_TAG_CLOCK_DELTA = 19,
        LS_TAG_SOURCE = 20,
        LS_TAG_ARCHIVE_FIRST = 21,
        LS_TAG_ARCHIVE_LAST = 22,
        LS_TAG_SEAL_HASH = 23,
        LS_TAG_RECEIVED = 24,
        LS_TAG_LOST = 25,
        LS_TAG_PID = 26,
        LS_TAG_HEARTBEAT_INTERVAL = 27,
        LS_TAG_CLOSE = 28,
        LS_TAG_CONFINEMENT = 29,
        LS_TAG_UID = 30,
        LS_TAG_COMMAND = 31,
        LS_TAG_SEQ_EXPECTED = 32,
        LS_TAG_SEQ_GOT = 33,
        LS_TAG_MAX = 33,
};

/* CONFINEMENT (SPEC §4.5): how the appliance that wrote a START record was confined. */
enum {
        LS_CONFINE_LANDLOCK = 1u << 0,        /* the ingest process: file-system rules enforced */
        LS_CONFINE_DISABLED = 1u << 1,        /* confine = no in the configuration */
        LS_CONFINE_NO_CAPABILITIES = 1u << 2, /* effective, permitted, inheritable, ambient empty */
        LS_CONFINE_BOUNDING_EMPTY = 1u << 3,  /* the capability bounding set empty too */
        LS_CONFINE_NO_NEW_PRIVS = 1u << 4,
        LS_CONFINE_SIGNER = 1u << 5,          /* the signer process: confined to its keys */
};

enum {
        LS_LOSS_UDP_OVERFLOW = 1,
        LS_LOSS_RATE_LIMIT = 2,
        LS_LOSS_REJECTED_SOURCE = 3,
        LS_LOSS_DISK_FULL = 4,
        LS_LOSS_TRUNCATED = 5,
        LS_LOSS_WAL_DAMAGE = 6,
        LS_LOSS_QUEUE_OVERFLOW = 7,
        LS_LOSS_CONNECTION_REFUSED = 8, /* COUNT connections refused for a limit */
        LS_LOSS_CONNECTION_CLOSED = 9,  /* COUNT connections the appliance closed for a limit */
        LS_LOSS_THROTTLED = 10,         /* COUNT times a stream was read late: nothing dropped */
        LS_LOSS_SEQUENCE_GAP = 11,      /* COUNT numbers of a sender's sequence never received */
};

enum {
        LS_CUSTODY_EXPORT = 1,
        LS_CUSTODY_QUERY = 2,
        LS_CUSTODY_REINDEX = 3,
        LS_CUSTODY_VERIFY = 4,
        LS_CUSTODY_CHECKPOINT = 5,
};

/* Batch (SPEC §6). */
#define LS_BATCH_HEADER_LEN 304
#define LS_BATCH_SIGNED_LEN 240
#define LS_MAX_BATCH_RECORDS (1u << 20)
#define LS_MAX_BATCH_RAW (32u * 1024 * 1024)
#define LS_MAX_BATCH_PAYLOAD (33u * 1024 * 1024)
/* Batch header incompat_flags (SPEC §6.1): bit 0, the payload stores columns (§6.4; format 3). */
#define LS_BATCH_INCOMPAT_COLUMNS 0x0001u
/* bit 1, the payload frame needs its archive's zstd dictionary (§8.6; format 4). */
#define LS_BATCH_INCOMPAT_DICT 0x0002u
#define LS_BATCH_INCOMPAT_KNOWN (LS_BATCH_INCOMPAT_COLUMNS | LS_BATCH_INCOMPAT_DICT)
#define LS_COLUMN_PEER_LEN 24 /* transport, family, port, address, conn_id */

/* Archive (SPEC §8). */
#define LS_ARCHIVE_HEADER_FIXED_LEN 120 /* before the peaks */
#define LS_ARCHIVE_HEADER_MIN_LEN (LS_ARCHIVE_HEADER_FIXED_LEN + LS_SIG_LEN)
/* With DICT, dict_hash (32 bytes) follows the peaks (format 4). */
#define LS_ARCHIVE_HEADER_MAX_LEN (LS_ARCHIVE_HEADER_MIN_LEN + 64 * LS_HASH_LEN + LS_HASH_LEN)
/* Archive header incompat_flags (SPEC §8.2): bit 0, a dictionary frame follows (§8.6). */
#define LS_ARCHIVE_INCOMPAT_DICT 0x0001u
/* Dictionary structure (SPEC §8.6): 24-byte fixed part, then the zstd dictionary. */
#define LS_DICT_FIXED_LEN 24
#define LS_DICT_MIN 256
#define LS_MAX_DICT (1024u * 1024)
#define LS_TRAILER_LEN 280
#define LS_TRAILER_SIGNED_LEN 216

/* Keys (SPEC §9, §10). */
#define LS_CERT_LEN 168
#define LS_CERT_SIGNED_LEN 104
#define LS_REVOCATION_FIXED_LEN 136
#define LS_MAX_REASON 1024
#define LS_REVOCATION_MAX_LEN (LS_REVOCATION_FIXED_LEN + LS_MAX_REASON)
#define LS_SECRET_FILE_LEN 168
#define LS_CLOSE_LEN 248
#define LS_CLOSE_SIGNED_LEN 184
#define LS_UNSET UINT64_MAX

enum {
        LS_CERT_SIGNING = 1,
        LS_CERT_ROOT = 2,
};

/* Certificate flags (SPEC §9.1); unknown bits are refused (format version 2). */
enum {
        LS_CERT_F_CLOSED = 1u << 0, /* the key's epoch ends with a signed epoch close (§9.4) */
        LS_CERT_F_KNOWN = 0x1,
};

/* Checkpoints (SPEC §7). */
#define LS_MAX_CHECKPOINT_TEXT 8192
#define LS_MAX_CHECKPOINT_SIGS 16

/* Proofs (SPEC §5.1). */
#define LS_PROOF_HDR_LEN 20
#define LS_MAX_INCLUSION_PROOF 64
#define LS_MAX_CONSISTENCY_PROOF 128

/* Domain-separation contexts for binary signatures (SPEC §1). */
#define LS_CTX_ARCHIVE_HEADER "logseal-archive-header-v1\n"
#define LS_CTX_SEAL "logseal-seal-v1\n"
#define LS_CTX_CERT "logseal-key-cert-v1\n"
#define LS_CTX_REVOCATION "logseal-revocation-v1\n"
#define LS_CTX_CLOSE "logseal-epoch-close-v1\n"
#define LS_CTX_KEY_ID "logseal-key-id-v1\n"
#define LS_CTX_SALT "logseal-salt-v1\n"

static_assert(LS_BATCH_SIGNED_LEN + LS_SIG_LEN == LS_BATCH_HEADER_LEN, "batch header layout");
static_assert(LS_TRAILER_SIGNED_LEN + LS_SIG_LEN == LS_TRAILER_LEN, "trailer layout");
static_assert(LS_CERT_SIGNED_LEN + LS_SIG_LEN == LS_CERT_LEN, "certificate layout");
static_assert(LS_CLOSE_SIGNED_LEN + LS_SIG_LEN == LS_CLOSE_LEN, "epoch close layout");
