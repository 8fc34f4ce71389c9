/* SPDX-License-Identifier: Apache-2.0 */
/* logseald.h: the daemon's modules, prototypes grouped by source file */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <systemd/sd-event.h>

#include "chain-writer.h"
#include "confine.h"
#include "defs.h"
#include "keys.h"
#include "record.h"
#include "signer.h"
#include "state.h"

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

/* ---- config.c ---- */

typedef enum ListenKind {
        LISTEN_UDP,
        LISTEN_TCP,
        LISTEN_UNIX_DGRAM,
        LISTEN_UNIX_STREAM,
} ListenKind;

typedef struct Cidr {
        int family;            /* AF_INET or AF_INET6 */
        uint8_t addr[16];
        unsigned prefix;
} Cidr;

/* Where a record's identity field (SPEC §3) comes from. */
typedef enum SenderIdentity {
        SENDER_IDENTITY_NONE,
        /* A trusted front end (syslog-ng terminating mutual TLS) writes to this listener and
         * puts the sender in an RFC 5424 SD element [logseal-sender@32473 subject=".." peer=".."] */
        SENDER_IDENTITY_STRUCTURED_DATA,
} SenderIdentity;

typedef struct ListenConf {
        char *name;
        ListenKind kind;
        char *address;         /* host for IP, path for unix */
        uint16_t port;
        Cidr *allow;           /* empty: everyone */
        size_t nallow;
        SenderIdentity sender_identity;  /* never on UDP */
        int line;                        /* its [listen NAME] line in the file; 0: --listen */
} ListenConf;

typedef struct Config {
        char *path;                    /* config file, NULL when none */
        uint8_t hash[LS_HASH_LEN];     /* H(config file), zero when none */
        char *state_dir;
        int state_dir_line; /* its line in the file; 0: --state-dir or none */
        ListenConf *listens;
        size_t nlistens;
        size_t max_message;            /* bytes; longer messages are sealed truncated */
        uint32_t batch_max_records;
        size_t batch_max_bytes;
        uint64_t batch_latency_ns;
        uint64_t archive_max_bytes;
        uint64_t archive_max_age_ns;
        uint64_t heartbeat_ns;
        int zstd_level;
        size_t queue_max_bytes;        /* back-pressure above this much unsealed data */
        uint64_t epoch_interval_ns;    /* move to a new signing key this often (0: never) */
        uint32_t epoch_batches;        /* ... or after this many batches (0: no limit) */
        char *publish_dir;             /* [checkpoint]: write signed checkpoints here ... */
        char *publish_command;         /* ... and/or run this with the file as its argument */
        uint64_t publish_interval_ns;  /* this often (when the chain grew) */
        int index_fulltext;            /* [index] fulltext: FTS5 over message bodies */
        int confine;                   /* [daemon] confine: Landlock after start-up (confine.c) */
        char *user;                    /* [daemon] user: who a root start runs as (confine.c) */
        /* [limits]: hostile senders (listen.c, sources.c; logseald.conf(5)) */
        uint64_t idle_timeout_ns;      /* close a connection that sent nothing this long (0: never) */
        uint64_t frame_timeout_ns;     /* ... or whose begun message is not complete by then */
        uint32_t max_connections;      /* per stream listener */
        uint32_t max_conns_per_source; /* per peer address, all listeners together (0: no cap) */
        size_t buffer_max_bytes;       /* partial frames held by all connections together */
        uint32_t rate_limit;           /* messages/s per sender (0: none) */
        uint32_t rate_burst;           /* messages a sender may send at once (0: rate_limit) */
} Config;

void config_defaults(Config *c);
/* Parses an INI file; prints every problem as "FILE:LINE: problem" and then returns <0. */
int config_load(Config *c, const char *path);
/* --check-config, after config_load and the command line: the state directory, listeners
 * sharing a port or path, privileged ports this process cannot bind without socket
 * activation. Prints every problem (FILE:LINE or the option); returns their number. */
int config_check(const Config *c, int socket_activated);
/* udp:HOST:PORT, tcp:HOST:PORT ([v6]:PORT), unix:PATH (stream), unix-dgram:PATH */
int config_add_listen(Config *c, const char *spec, const char *origin);
int config_parse_cidr(const char *s, Cidr *ret);
int cidr_match(const Cidr *c, const struct sockaddr *sa);
void config_free(Config *c);

/* ---- wal.c ---- */

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

/* ---- sealer.c ---- */

/* A run of encoded records: u32 len ‖ record (seq 0), repeated. */
typedef struct Chunk {
        struct Chunk *next;
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

/* Admin rotation (sealer.c): the sealing thread closes the open batch, generates a key and
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
 * the revocation takes effect (sealer.c). 0: not a key in use, nothing to do; 1: the key in
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
/* Appends an encoded record; -ENOBUFS when the chunk is full. */
int chunk_add(Chunk *c, const LsRecord *r);

/* ---- recover.c ---- */

typedef struct Recovery {
        LsChainPosition pos;                /* an open archive left behind is sealed first */
        int chain_empty;                    /* no batch yet: emit the first certificate */
        int unclean;                        /* the previous run did not stop cleanly */
        uint32_t undeclared;                /* unclean stops the chain does not declare yet,
                                             * this one included (UNCLEAN_SHUTDOWN records owed) */
        uint64_t wal_id_sealed;             /* WAL entries known to be in archives */
        uint64_t wal_skip;                  /* further entries already sealed (count) */
        uint64_t torn_bytes;                /* archive bytes cut from a torn tail */
} Recovery;

int recover_archives(int state_dirfd, int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                     const LsSigner *signer, Recovery *ret);
/* After recover_archives(): the chain's last batch header (*ret_have 0 when the chain is
 * empty) and the largest max_time_ns of all batches its key signed, for that epoch's close. */
int recover_epoch_tail(int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                       LsBatchHeader *ret_last, int *ret_have, uint64_t *ret_max_time_ns);

/* ---- listen.c ---- */

typedef struct Daemon Daemon;
typedef struct Listener Listener;

int listeners_open(Daemon *d);
/* Every tick: timeouts, throttled connections due again, a full listener accepting again. */
void listeners_tick(Daemon *d, uint64_t now_ns);
void listeners_pause(Daemon *d, int pause);
void listeners_drain(Daemon *d);
void listeners_close(Daemon *d);

/* ---- ingest.c ---- */

/* Takes one received message: builds its record, appends it to the pending chunk. With
 * SENDER_IDENTITY_STRUCTURED_DATA the record's identity comes from the message's SD. */
int ingest_message(Daemon *d, const LsRecord *proto, SenderIdentity si, const uint8_t *msg,
                   size_t len, size_t orig_len);
int ingest_control(Daemon *d, uint16_t type, const uint8_t *body, size_t len);
/* A record re-sealed from the WAL at start-up: its sequence number updates the sender's,
 * without declarations (those of the run that received it are in the WAL too, and a gap
 * declaration there closes the gap it declares). */
void ingest_replayed_sequence(Daemon *d, const LsRecord *r);
/* Declares the sequence gaps whose window has passed (sequence.c). */
void ingest_expire_sequences(Daemon *d);
/* Writes the pending chunk to the WAL and hands it to the sealer: call before the next read. */
int ingest_commit(Daemon *d);

/* ---- control.c ---- */

int control_open(Daemon *d);
void control_close(Daemon *d);
/* A root revocation (its encoding) for this appliance: checked (chain, trusted root), the key
 * in use moved off first when it names it (sealer_revoke_key), then a REVOCATION record queued
 * for the next ingest_commit(). 0 or 1 as sealer_revoke_key(); -EBADMSG, -EXDEV (another
 * chain), -EKEYREJECTED (no trusted root signed it), or its errors: nothing queued. */
int revocation_apply(Daemon *d, const uint8_t *enc, size_t n, RevokeOutcome *out);

/* ---- logseald.c ---- */

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
};

uint64_t now_realtime_ns(void);
