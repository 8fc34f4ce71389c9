/* SPDX-License-Identifier: Apache-2.0 */
/* ingest.c: received messages -> records -> WAL -> sealer, before the next read */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "logseald.h"
#include "parse.h"
#include "util.h"

#define CHUNK_CAP (1u << 20)

static int ensure_pending(Daemon *d, size_t need)
{
        if (d->pending && d->pending->cap - d->pending->len >= need)
                return 0;
        if (d->pending && d->pending->count) {
                int r = ingest_commit(d);
                if (r < 0)
                        return r;
        }
        if (!d->pending || d->pending->cap < need) {
                free(d->pending);
                d->pending = chunk_new(MAX((size_t) CHUNK_CAP, need));
                if (!d->pending)
                        return -ENOMEM;
        }
        return 0;
}

/* Parsed fields only decide the PARSE_FAILED flag here; they feed the index, never the evidence. */
static int parse_failed(const uint8_t *msg, size_t len)
{
        LsSyslogParseOpts opts = {.now = (int64_t) (now_realtime_ns() / 1000000000u)};
        LsSyslogMsg m;

        if (ls_syslog_parse(msg, len, &opts, &m) < 0)
                return 1;
        return m.status != LS_SYSLOG_OK || m.format == LS_SYSLOG_UNPARSED;
}

int ingest_message(Daemon *d, const LsRecord *proto, const uint8_t *msg, size_t len,
                   size_t orig_len)
{
        LsRecord r = *proto;
        int k;

        r.type = LS_REC_SYSLOG;
        r.time_ns = now_realtime_ns();
        r.body = msg;
        r.body_len = (uint32_t) len;
        r.orig_len = (uint32_t) MIN(orig_len, (size_t) UINT32_MAX);
        r.flags = proto->flags & LS_RECF_PARSE_FAILED;
        if (orig_len > len) {
                r.flags |= LS_RECF_TRUNCATED;
                d->truncated++;
        }
        if ((r.flags & LS_RECF_PARSE_FAILED) || parse_failed(msg, len)) {
                r.flags |= LS_RECF_PARSE_FAILED;
                d->parse_failed++;
        }
        k = ensure_pending(d, 4 + ls_record_size(&r));
        if (k < 0)
                return k;
        k = chunk_add(d->pending, &r);
        if (k < 0)
                return k;
        d->received++;
        d->last_ingest_ns = r.time_ns;
        return 0;
}

int ingest_control(Daemon *d, uint16_t type, const uint8_t *body, size_t len)
{
        LsRecord r = {
                .type = LS_REC_CONTROL,
                .time_ns = now_realtime_ns(),
                .body = body,
                .body_len = (uint32_t) len,
                .orig_len = (uint32_t) len,
        };
        int k;

        (void) type;
        k = ensure_pending(d, 4 + ls_record_size(&r));
        if (k < 0)
                return k;
        return chunk_add(d->pending, &r);
}

int ingest_commit(Daemon *d)
{
        Chunk *c = d->pending;
        uint64_t first;
        int r;

        if (!c || c->count == 0)
                return 0;
        /* Invariant: a message read from a socket is in the WAL before the next read. */
        r = wal_append(d->wal, c->data, c->len, c->count, &first);
        if (r < 0) {
                fprintf(stderr, "logseald: cannot write the WAL: %s\n", strerror(-r));
                return r;
        }
        c->first_wal_id = first;
        d->last_wal_id = first + c->count - 1;
        d->pending = NULL;
        sealer_push(d->sealer, c);
        return 0;
}
