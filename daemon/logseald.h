/* SPDX-License-Identifier: Apache-2.0 */
/* logseald.h: the daemon's shared state (struct Daemon); each module has its own header */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "conf.h"
#include "confine.h"
#include "defs.h"
#include "sealer.h"
#include "signer.h"
#include "state.h"
#include "wal.h"

/*
 * Data flow (one process, two threads):
 *
 *   main thread (sd-event)                         sealer thread
 *   listen.c: sockets -> framing -> records
 *   ingest.c: records -> WAL (write before the
 *             next read) -> chunk queue  ------->  sealer.c: chunks -> chain writer
 *                                                  (seq, leaves, zstd, sign, append,
 *                                                  fdatasync) -> sealed.state
 *   wal.c: trims segments once sealed  <-------  eventfd: durable WAL id
 *
 * recover.c runs before both: it repairs the archive tail and replays the WAL.
 */

typedef struct Daemon Daemon;
typedef struct Listener Listener;

struct Daemon {
        Config cfg;
        sd_event *event;
        int state_dirfd, archive_dirfd;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint8_t boot_id[16];
        Wal *wal;
        Sealer *sealer;
        Signer *signer;                     /* the signer process: holds every secret key */
        int notify_fd;                      /* eventfd: the sealer made something durable */
        Chunk *pending;
        Listener **listeners;
        size_t nlisteners;
        int paused;
        struct Sources *sources;            /* per-sender limits (sources.c) */
        uint64_t conn_serial;
        uint64_t received, truncated, rejected, parse_failed, declared_lost;
        uint64_t identity_missing;          /* sender_identity listeners: no usable identity */
        uint64_t last_wal_id;               /* of the last record committed (ingest_commit) */
        uint64_t published_size;            /* tree size of the last published checkpoint */
        uint64_t published_at;              /* CLOCK_REALTIME ns */
        sd_event_source *control_src;
        StateRoots roots;                   /* trusted root keys: check revocations, rotations */
        uint64_t last_ingest_ns;
        int stopping;
        int quickstart_hints;
        ConfineReport confinement;          /* confine.c, shown by `logsealctl status` */
        ConfineUser run_as;                 /* started as root: the user it runs as */
        struct Senders *senders;            /* sequence.c: sequence numbers per sender */
        uint64_t senders_wal_id;            /* the WAL id the saved sender state covers */
        struct BkQueue *carried;            /* batch keys, sealer -> indexer (batchkeys.h) */
};

