/* SPDX-License-Identifier: Apache-2.0 */
/* chain-writer.h: records -> batches -> archives of one chain, with rotation and sealing */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "batch.h"
#include "batch-builder.h"
#include "keys.h"
#include "merkle.h"
#include "record.h"

typedef struct LsChainWriterConfig {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        int dirfd;                   /* archive directory (not owned) */
        int zstd_level;
        int columns;                 /* payloads in the column layout (SPEC §6.4, format 3) */
        size_t max_batch_raw;        /* close a batch at this many payload bytes */
        uint32_t max_batch_records;
        /* Deterministic salt seeds for test vectors; NULL = random (always in production). */
        void (*seed_fn)(void *ud, uint64_t batch_no, uint8_t out[LS_HASH_LEN]);
        void *seed_ud;
        /*
         * Per-archive zstd dictionary (SPEC §8.6): 0 = none. Otherwise each new archive gets a
         * dictionary of at most dict_size bytes (LS_DICT_MIN..LS_MAX_DICT) trained (ZDICT
         * fastCover) on the payload content of the chain's latest batches, kept in a sample
         * buffer of at most dict_samples_max bytes, once it holds dict_samples_min bytes.
         */
        size_t dict_size;
        size_t dict_samples_min, dict_samples_max;
        /* Batch headers signed by this (batch-builder.h), NULL: with the flush's LsSigner. */
        LsBatchSignFn sign_batch;
        void *sign_batch_ud;
} LsChainWriterConfig;

/*
 * The latest payload contents a dictionary is trained on (SPEC §8.6): chunks of at most
 * 8 KiB (zstd's trainer reads each as one sample), at most max bytes; when full, the older
 * half goes. Zero-initialise with max set; ls_samples_free releases it.
 */
typedef struct LsSamples {
        size_t max;
        uint8_t *buf;
        size_t len;
        size_t *sizes;
        size_t n;
} LsSamples;
int ls_samples_add(LsSamples *s, const uint8_t *p, size_t n);
void ls_samples_free(LsSamples *s);

/* Where a chain continues: all zero for a new chain. */
typedef struct LsChainPosition {
        uint64_t archive_no;         /* next archive to create */
        uint64_t batch_no;           /* next batch */
        uint8_t prev_header_hash[LS_HASH_LEN];
        uint8_t prev_seal_hash[LS_HASH_LEN];
        LsMerkle tree;               /* size = next seq */
} LsChainPosition;

typedef struct LsChainWriter LsChainWriter;

int ls_chain_writer_new(LsChainWriter **ret, const LsChainWriterConfig *cfg,
                        const LsChainPosition *pos);
/* Frees without sealing: the active archive stays open. */
LsChainWriter *ls_chain_writer_free(LsChainWriter *w);

/*
 * Adds a record to the open batch (assigning its seq). -ENOSPC when the batch
 * is full, or signed and waiting to be written (a flush failed): flush, then
 * add again.
 */
int ls_chain_writer_add(LsChainWriter *w, LsRecord *r);
uint32_t ls_chain_writer_pending(const LsChainWriter *w);
int ls_chain_writer_batch_full(const LsChainWriter *w);

/*
 * Closes the open batch with signer s and appends it to the active archive,
 * creating the archive (signed by s, at time now_ns) when none is open.
 * Does not sync. *ret_hdr (optional) receives the signed header. No-op
 * returning 0 when no record is pending. A batch is signed once: when it
 * was signed but could not be written, the next flush writes the same bytes
 * (whatever s is then), and no record joins it meanwhile.
 */
int ls_chain_writer_flush(LsChainWriter *w, const LsSigner *s, uint64_t now_ns,
                          LsBatchHeader *ret_hdr);
/* Group commit: fdatasync of the active archive. */
int ls_chain_writer_sync(LsChainWriter *w);
/*
 * Seals the active archive (if it holds a batch); -EBUSY while records are
 * pending (flush first). The next flush opens a new archive.
 */
int ls_chain_writer_seal(LsChainWriter *w, const LsSigner *s, uint64_t now_ns);

const LsChainPosition *ls_chain_writer_position(const LsChainWriter *w);

/*
 * Dictionaries (SPEC §8.6). add_sample feeds the sample buffer with earlier payload content
 * (the writer adds every batch it writes itself; a restarted daemon may feed the last
 * archive's); dict_due is 1 when the open archive has no dictionary and the samples would
 * give one (the caller may seal early so the next archive has it); last_train reports the
 * last training: its duration, the dictionary's size (0: none, e.g. training failed).
 */
int ls_chain_writer_add_sample(LsChainWriter *w, const uint8_t *p, size_t n);
/* At most `bytes` for the next archive's dictionary (0: no limit beyond dict_size): the
 * caller's estimate of what a dictionary is worth in the archive it will serve. */
void ls_chain_writer_set_dict_limit(LsChainWriter *w, size_t bytes);
int ls_chain_writer_dict_due(const LsChainWriter *w);
void ls_chain_writer_last_train(const LsChainWriter *w, uint64_t *ret_ns, size_t *ret_size,
                                size_t *ret_samples);
/* With zstd_level LS_ZSTD_LEVEL_AUTO: ls_batch_builder_set_hurry, ls_batch_builder_last_level. */
void ls_chain_writer_set_hurry(LsChainWriter *w, int hurry);
int ls_chain_writer_zstd_level(const LsChainWriter *w);
uint64_t ls_chain_writer_archive_size(const LsChainWriter *w); /* 0 when none is open */
uint64_t ls_chain_writer_next_seq(const LsChainWriter *w);
/* Name of archive n: "chain-<chain hex>-<n, 8 digits>.lsa" (out: at least 64 bytes). */
void ls_archive_name(char *out, size_t cap, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                     uint64_t archive_no);
