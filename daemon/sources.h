/* SPDX-License-Identifier: Apache-2.0 */
/* sources.h: per-sender state for the connection, memory and rate limits ([limits], listen.c) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "record.h"

typedef struct Daemon Daemon;

/* The limits that can act on a sender; each is declared in the chain with the limit's
 * setting and value (SPEC §4.3): one LOSS record per sender and kind. */
typedef enum SourceEvent {
        SRC_REFUSED_PER_SOURCE,    /* CAUSE connection-refused: max_connections_per_source */
        SRC_REFUSED_LISTENER_FULL, /* CAUSE connection-refused: max_connections */
        SRC_CLOSED_IDLE,           /* CAUSE connection-closed: idle_timeout */
        SRC_CLOSED_FRAME,          /* CAUSE connection-closed: frame_timeout */
        SRC_CLOSED_BUFFER,         /* CAUSE connection-closed: buffer_max_size */
        SRC_CLOSED_STOP,           /* CAUSE connection-closed: still sending when a stop's drain ended */
        SRC_RATE_DROPPED,          /* CAUSE rate-limit: a message dropped */
        SRC_THROTTLED,             /* CAUSE throttled: a stream held back, nothing lost */
        SRC_NEVENTS,
} SourceEvent;

typedef struct Source Source;
typedef struct Sources Sources;

int sources_new(Sources **ret, const Config *cfg);
Sources *sources_free(Sources *s);

/* The entry of a peer address (a record prototype's family/address; local senders by uid),
 * created when new. Never NULL: when the table is full, senders share one entry, declared as
 * "(other senders)". */
Source *sources_by_addr(Sources *s, const LsRecord *proto);
/* The same for a sender identity from a trusted front end. */
Source *sources_by_identity(Sources *s, const uint8_t *id, size_t n);

void source_count(Source *src, SourceEvent ev, uint64_t n);
/* Token bucket ([limits] rate_limit): takes one message; 0 when over the rate (counted as a
 * rate-limit drop). 1 for a NULL source or without a rate limit. */
int source_admit(Sources *s, Source *src, uint64_t now_ns);
/* Takes n messages read from a stream, going into debt; the ns to wait before the source's
 * streams are read again (0: not over its rate; counted as throttled otherwise). */
uint64_t source_charge(Sources *s, Source *src, uint64_t n, uint64_t now_ns);
uint32_t *source_conns(Source *src);
/* n messages read from src now (CLOCK_REALTIME ns), for status; NULL is ignored. */
void source_seen(Source *src, uint64_t n, uint64_t now_ns);

/* The counts not yet declared, as LOSS records (after 1 s of counting, or all with force);
 * returns the messages of them that were lost (rate-limit drops), for `declared_lost`. */
uint64_t sources_declare(Daemon *d, Sources *s, int force);
/* Bytes of partial frames held by all stream connections (listen.c keeps it). */
size_t *sources_buffered(Sources *s);
/* For `status`: the senders with the most events (and connections), at most max of them. */
#include <jansson.h>
json_t *sources_json(Sources *s, size_t max);
