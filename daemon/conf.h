/* SPDX-License-Identifier: Apache-2.0 */
/* conf.h: the daemon's configuration (config.c: defaults, listeners, CIDR; config-file.c: the
 * INI file; config-check.c: --check-config). Not config.h: that is meson's build configuration */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "defs.h"

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
/* Payload content kept to train the next archive's dictionary (SPEC §8.6). */
#define DICT_SAMPLES_MAX (8u << 20)
        size_t dict_size;              /* [archive] dictionary_size: 0 = no dictionaries */
        uint64_t dict_after;           /* [archive] dictionary_after: early seal (0: never) */
        uint64_t heartbeat_ns;
        int zstd_level;                /* 1..19, or LS_ZSTD_LEVEL_AUTO (0) */
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
/* A new zeroed entry at the end of c->listens (config-file.c: a [listen NAME] section). */
ListenConf *config_listen_new(Config *c);
