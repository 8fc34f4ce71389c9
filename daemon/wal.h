/* SPDX-License-Identifier: Apache-2.0 */
/* wal.h: the write-ahead log (wal.c): ingest appends, the sealer's progress trims */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct Wal Wal;

/* One WAL entry as replayed: the record encoding with seq 0. */
typedef int (*WalReplayFn)(void *ud, uint64_t wal_id, const uint8_t *rec, size_t n);

int wal_open(Wal **ret, int state_dirfd);
Wal *wal_free(Wal *w);
/*
 * Replays entries with id > after, in order. Stops at the first damaged entry
 * (a torn tail after power loss) and reports its bytes in *ret_damaged.
 */
int wal_replay(Wal *w, uint64_t after, WalReplayFn fn, void *ud, uint64_t *ret_last_id,
               uint64_t *ret_damaged);
/* Starts appending with ids from next_id (a new segment). */
int wal_start(Wal *w, uint64_t next_id);
/* Appends encoded records (a chunk body: u32 len ‖ record, repeated); assigns ids. */
int wal_append(Wal *w, const uint8_t *entries, size_t len, uint32_t count, uint64_t *ret_first_id);
int wal_sync(Wal *w);
/* Deletes segments whose entries are all <= durable_id. */
int wal_trim(Wal *w, uint64_t durable_id);
uint64_t wal_next_id(const Wal *w);
/* After a clean stop every entry is in the archives: removes all segments. */
int wal_remove_all(Wal *w);
