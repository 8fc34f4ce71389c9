/* SPDX-License-Identifier: Apache-2.0 */
/* batch-builder.h: accumulate records, close them into a signed, compressed batch (SPEC §6) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "keys.h"
#include "merkle.h"
#include "record.h"

typedef struct LsBatchBuilder LsBatchBuilder;

/* zstd_level LS_ZSTD_LEVEL_AUTO: chosen per batch, by its size and ls_batch_builder_set_hurry
 * (batch-builder.c, auto_level); otherwise 1..19. */
#define LS_ZSTD_LEVEL_AUTO 0

/* max_raw: close threshold for the decompressed payload (<= LS_MAX_BATCH_RAW). */
int ls_batch_builder_new(LsBatchBuilder **ret, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                         int zstd_level, size_t max_raw, uint32_t max_records);
LsBatchBuilder *ls_batch_builder_free(LsBatchBuilder *b);

/*
 * on: payloads in the column layout (SPEC §6.4, format 3; a batch whose columns would not be
 * shorter is written as entries); off (the default): record entries (formats 1 and 2, what the
 * committed vectors of those formats hold). 0 or -ENOMEM.
 */
int ls_batch_builder_set_columns(LsBatchBuilder *b, int on);

/*
 * The current archive's zstd dictionary (SPEC §8.6; NULL: none, the default): the following
 * batches are compressed with it and carry the DICT flag. Set it when the archive that holds
 * it is created, clear it when the next archive has none. 0, -EINVAL, -ENOMEM.
 */
int ls_batch_builder_set_dict(LsBatchBuilder *b, const uint8_t *dict, size_t len);

/* LS_ZSTD_LEVEL_AUTO: a backlog waits (1) or not (0); the next batches are compressed at the
 * fastest level while it does. */
void ls_batch_builder_set_hurry(LsBatchBuilder *b, int hurry);
/* The level the last finish compressed at (0: none yet). */
int ls_batch_builder_last_level(const LsBatchBuilder *b);

/* After a successful finish: the uncompressed payload content (columns or entries), valid
 * until the next begin; the daemon samples it to train the next archive's dictionary. */
void ls_batch_builder_content(const LsBatchBuilder *b, const uint8_t **ret, size_t *ret_len);

/*
 * Starts a batch. seed: the batch's salt seed, NULL for a random one (only
 * test vectors pass a fixed seed).
 */
void ls_batch_builder_begin(LsBatchBuilder *b, uint64_t archive_no, uint64_t batch_no,
                            uint64_t first_seq, const uint8_t prev_header_hash[LS_HASH_LEN],
                            const uint8_t *seed);

/*
 * Appends a record; the builder assigns r->seq. -ENOSPC when the record does
 * not fit in this batch (finish it and retry in the next one); record check
 * errors as ls_record_encode.
 */
int ls_batch_builder_add(LsBatchBuilder *b, LsRecord *r);

uint32_t ls_batch_builder_count(const LsBatchBuilder *b);
size_t ls_batch_builder_raw_len(const LsBatchBuilder *b);
/* 1 when the batch reached max_raw or max_records. */
int ls_batch_builder_full(const LsBatchBuilder *b);

/*
 * Signs a batch header (fills h->sig) whose every other field is final, key_id and epoch
 * included. A signer that must see the header itself, not only its note body (the daemon's
 * signer process checks that each header extends the one it signed before), installs one;
 * without, ls_batch_header_sign() with the finishing LsSigner.
 */
typedef int (*LsBatchSignFn)(void *ud, LsBatchHeader *h);
void ls_batch_builder_set_sign(LsBatchBuilder *b, LsBatchSignFn fn, void *ud);

/*
 * Closes the batch: appends its leaves to `tree` (which must be at
 * first_seq), compresses, fills and signs the header. *ret_bytes is the
 * archive encoding (skippable frame + header + zstd frame), valid until the
 * next begin. -ENODATA for an empty batch.
 */
int ls_batch_builder_finish(LsBatchBuilder *b, LsMerkle *tree, const LsSigner *s,
                            LsBatchHeader *ret_hdr, const uint8_t **ret_bytes, size_t *ret_len);
