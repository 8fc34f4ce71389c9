/* SPDX-License-Identifier: Apache-2.0 */
/* recover.h: crash recovery before start (recover.c): repairs the archive tail, finds what the WAL
 * still owes */
#pragma once

#include <stdint.h>

#include "batch.h"
#include "chain-writer.h"
#include "defs.h"
#include "keys.h"

typedef struct Recovery {
        LsChainPosition pos;                /* an open archive left behind is sealed first */
        int chain_empty;                    /* no batch yet: emit the first certificate */
        int unclean;                        /* the previous run did not stop cleanly */
        uint32_t undeclared;                /* unclean stops the chain does not declare yet,
                                             * this one included (UNCLEAN_SHUTDOWN records owed) */
        uint64_t wal_id_sealed;             /* WAL entries known to be in archives */
        uint64_t wal_skip;                  /* further entries already sealed (count) */
        uint64_t torn_bytes;                /* archive bytes cut from a torn tail */
        LsSamples samples;                  /* the last archive's latest payload content (at
                                             * most DICT_SAMPLES_MAX), to train the next
                                             * archive's dictionary; ls_samples_free() it */
} Recovery;

int recover_archives(int state_dirfd, int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                     const LsSigner *signer, Recovery *ret);
/* After recover_archives(): the chain's last batch header (*ret_have 0 when the chain is
 * empty) and the largest max_time_ns of all batches its key signed, for that epoch's close. */
int recover_epoch_tail(int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                       LsBatchHeader *ret_last, int *ret_have, uint64_t *ret_max_time_ns);
