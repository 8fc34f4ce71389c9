/* SPDX-License-Identifier: Apache-2.0 */
/* sealer.h: the sealing thread (sealer*.c): chunks in, signed batches and archives out */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "chain-writer.h"
#include "conf.h"
#include "defs.h"
#include "keys.h"
#include "record.h"
#include "signer.h"

struct ChunkKeys;
struct BkQueue;

/* A run of encoded records: u32 len ‖ record (seq 0), repeated. */
typedef struct Chunk {
        struct Chunk *next;
        struct ChunkKeys *keys;     /* what the index takes from them (batchkeys.h), or NULL */
        uint64_t first_wal_id;      /* 0: not from the WAL (never happens today) */
        uint32_t count;
        size_t len, cap;
        uint8_t data[];
} Chunk;

typedef struct SealerStats {
        _Atomic uint64_t records_sealed;
        _Atomic uint64_t batches;
        _Atomic uint64_t archives_sealed;
        _Atomic uint64_t last_tree_size;
        /* WAL ids up to here are sealed and covered by sealed.state on disk, which is what
         * recovery reads: the WAL may drop them. (Not the last sealed batch: recovery
         * finds the records sealed since the state was written in the archive and takes
         * the rest from the WAL by id, so the WAL must keep everything after the state.) */
        _Atomic uint64_t durable_wal_id;
        _Atomic int degraded;               /* last write failed (disk full?) */
        _Atomic int keys_readable;          /* the sealing thread could open keys/signing.key */
        _Atomic uint64_t last_seal_ns;      /* CLOCK_REALTIME when the last batch became durable */
        _Atomic int zstd_level;             /* the last batch's ([batch] compression_level auto) */
} SealerStats;

typedef struct Sealer Sealer;

typedef struct SealerInit {
        const Config *cfg;
        int state_dirfd;
        int archive_dirfd;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        LsChainPosition pos;
        Signer *signer;                     /* the signer process (signer.h) */
        SignerKey key;                      /* the current key, held by the signer */
        LsCert cert;                        /* the key's certificate */
        int emit_cert;                      /* write a KEY_TRANSITION with cert first */
        SignerKey next_key;                 /* a prepared epoch key whose transition is pending */
        int has_next;
        LsCert next_cert;
        uint64_t wal_id_base;               /* last WAL id already sealed */
        LsBatchHeader last_batch;           /* the chain's last batch (recover_epoch_tail) */
        int have_last_batch;
        uint64_t epoch_max_time_ns;         /* the largest max_time_ns its key signed */
        /* The UNCLEAN_SHUTDOWN declarations owed (undeclared of them): sealed first of all,
         * right after a root-issued certificate, before anything from the queue; not from the
         * WAL (recover.c does not count them as WAL records). The sealer frees it. */
        Chunk *first;
        uint32_t undeclared;
        /* Earlier payload content (Recovery.samples, recover.c) for the dictionary of the
         * first archive this run creates (SPEC §8.6); copied, the caller keeps it. */
        const LsSamples *samples;
        /* Where each durable batch's index keys go (batchkeys.h), or NULL. */
        struct BkQueue *carried;
} SealerInit;

int sealer_start(Sealer **ret, SealerInit *init, int notify_fd);
/* Hands a chunk over (the sealer frees it). */
void sealer_push(Sealer *s, Chunk *c);
/* Bytes queued but not yet sealed. */
size_t sealer_backlog(Sealer *s);
/* Seals everything queued, seals the archive, writes the clean state, joins. */
int sealer_stop(Sealer *s);
SealerStats *sealer_stats(Sealer *s);
/* For `status`: batches sealed with the current key and how long it has signed (ns). */
void sealer_epoch_progress(Sealer *s, uint64_t *ret_batches, uint64_t *ret_age_ns);
/* The seq the sealer gave the control record with this WAL id (recent ones only), or -ENOENT. */
int sealer_seq_of_wal(Sealer *s, uint64_t wal_id, uint64_t *ret_seq);

/* Admin rotation (sealer-keys.c): the sealing thread closes the open batch, generates a key and
 * reserves the next batch for it; records wait until the root-signed certificate arrives
 * (sealer_rotate_commit) or the hold expires. Blocks the caller for at most 3 s. */
typedef struct RotateOffer {
        uint8_t pk[LS_PK_LEN];
        uint64_t epoch;
        uint64_t batch;                     /* the certificate's valid_from_batch */
} RotateOffer;
int sealer_rotate_begin(Sealer *s, RotateOffer *ret);
/* -ESTALE when no reservation is open (expired), -EINVAL when c does not fit it. */
int sealer_rotate_commit(Sealer *s, const LsCert *c);
/*
 * A root revocation (already verified) of a key this appliance may sign with: when it names
 * the key in use or the prepared next one, the sealing thread moves to a new epoch key before
 * the revocation takes effect (sealer-keys.c). 0: not a key in use, nothing to do; 1: the key in
 * charge now is *ret; -EKEYREVOKED: the revocation already covers the batch the key in use
 * signs next, only `logsealctl key rotate` can help (nothing changed); -EBUSY: a rotation or
 * another revocation is in progress. Blocks the caller for at most 3 s (-ETIMEDOUT).
 */
typedef struct RevokeOutcome {
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t epoch;
        uint64_t valid_from_batch;
} RevokeOutcome;
int sealer_revoke_key(Sealer *s, const LsRevocation *rv, RevokeOutcome *ret);
/* The newest durable batch header (the latest checkpoint); -ENODATA before the first. */
int sealer_last_batch(Sealer *s, LsBatchHeader *ret, uint8_t pk[LS_PK_LEN]);

typedef struct SealedState {
        uint64_t tree_size;                 /* records durable in archives */
        uint64_t wal_id;                    /* WAL entries durable in archives */
        int clean;                          /* no run ended without a clean stop since this
                                             * was written, other than those in undeclared */
        uint32_t undeclared;                /* unclean stops not yet declared in the archives
                                             * up to tree_size (UNCLEAN_SHUTDOWN records owed) */
} SealedState;

int sealed_state_read(int state_dirfd, SealedState *ret);
int sealed_state_write(int state_dirfd, const SealedState *s);

Chunk *chunk_new(size_t cap);
/* Frees c and its keys; returns NULL. */
Chunk *chunk_free(Chunk *c);
/* Appends an encoded record; -ENOBUFS when the chunk is full. */
int chunk_add(Chunk *c, const LsRecord *r);

/* CLOCK_REALTIME in ns: every record's time (defined in sealer.c, used by every module). */
uint64_t now_realtime_ns(void);
