/* SPDX-License-Identifier: Apache-2.0 */
/* checkpoint.h: C2SP signed-note checkpoints (SPEC §7) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "defs.h"

#define LS_ORIGIN_LEN (8 + 2 * LS_CHAIN_ID_LEN) /* "logseal/" + 32 hex */
#define LS_NOTE_BODY_MAX 256

/* Writes the 4-line note body of SPEC §7.1 (NUL-terminated); returns its length or -ENOBUFS. */
int ls_checkpoint_body(char *out, size_t cap, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                       uint64_t tree_size, const uint8_t root[LS_HASH_LEN], uint64_t batch_no,
                       const uint8_t header_hash[LS_HASH_LEN]);

/* signed-note key hash: H(name ‖ "\n" ‖ 0x01 ‖ pk)[0..4] */
void ls_note_key_hash(uint8_t out[4], const char *name, size_t name_len,
                      const uint8_t pk[LS_PK_LEN]);

/* Appends the empty line and a signature line named after the origin; returns total length. */
int ls_checkpoint_format(char *out, size_t cap, const char *body, size_t body_len,
                         const uint8_t pk[LS_PK_LEN], const uint8_t sig[LS_SIG_LEN]);

typedef struct LsNoteSig {
        size_t name_off, name_len;  /* into the text */
        uint8_t key_hash[4];
        uint8_t sig[LS_SIG_LEN];
} LsNoteSig;

typedef struct LsCheckpoint {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint64_t tree_size;
        uint8_t root[LS_HASH_LEN];
        int has_batch;                 /* the logseal-batch-v1 extension line was present */
        uint64_t batch_no;
        uint8_t header_hash[LS_HASH_LEN];
        size_t body_len;               /* signed bytes: text[0..body_len) */
        unsigned nsigs;
        LsNoteSig sigs[LS_MAX_CHECKPOINT_SIGS];
} LsCheckpoint;

/*
 * Strict parse of a checkpoint text (SPEC §7.2). -E2BIG when longer than
 * 8192 bytes or with too many signatures, -EBADMSG otherwise; *ret_offset
 * (optional) receives the byte offset of the first problem.
 */
int ls_checkpoint_parse(LsCheckpoint *c, const char *text, size_t n, size_t *ret_offset);

/*
 * Verifies that a signature line named after the origin, with the key hash
 * of pk, signs the body. 0, -ENOKEY when no line names that key,
 * -EKEYREJECTED when it does not verify.
 */
int ls_checkpoint_verify(const LsCheckpoint *c, const char *text, const uint8_t pk[LS_PK_LEN]);
