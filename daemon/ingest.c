/* SPDX-License-Identifier: Apache-2.0 */
/* ingest.c: received messages -> records -> WAL -> sealer, before the next read */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchkeys.h"
#include "control.h"
#include "ingest.h"
#include "logseald.h"
#include "parse.h"
#include "sources.h"
#include "sequence.h"
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
                chunk_free(d->pending);
                d->pending = chunk_new(MAX((size_t) CHUNK_CAP, need));
                if (!d->pending)
                        return -ENOMEM;
        }
        return 0;
}

/* Parsed fields only decide the PARSE_FAILED flag here (and, from a trusted front end, the
 * identity); they feed the index, never the evidence. The parse is the index's own (a BSD
 * timestamp's year from the receive time, index_record_keys), so the keys found here are
 * those the index would find in the archive. ls_syslog_parse's result. */
static int parse(const uint8_t *msg, size_t len, uint64_t time_ns, LsSyslogMsg *m)
{
        LsSyslogParseOpts opts = {.now = (int64_t) (time_ns / 1000000000u)};

        return ls_syslog_parse(msg, len, &opts, m);
}

static int parse_failed(int parsed, const LsSyslogMsg *m)
{
        return parsed < 0 || m->status != LS_SYSLOG_OK || m->format == LS_SYSLOG_UNPARSED;
}

#define SENDER_SD_ID "logseal-sender@32473"

static bool span_is(const uint8_t *p, LsSpan s, const char *str)
{
        return s.len == strlen(str) && memcmp(p + s.off, str, s.len) == 0;
}

static void put(uint8_t *buf, size_t cap, size_t *o, const char *s)
{
        size_t n = strlen(s);

        if (*o < cap)
                memcpy(buf + *o, s, MIN(n, cap - *o));
        *o += n;
}

static void put_value(uint8_t *buf, size_t cap, size_t *o, const uint8_t *msg, size_t len,
                      LsSpan value)
{
        size_t n;

        /* -ENOBUFS still fills the buffer and reports the length needed. */
        (void) ls_sd_unescape(msg, len, value, buf + MIN(*o, cap), *o < cap ? cap - *o : 0, &n);
        *o += n;
}

/*
 * "subject=S peer=P" from the one [logseal-sender@32473 subject="S" peer="P"] element a
 * trusted front end put in an RFC 5424 message (peer optional), at most LS_MAX_IDENTITY
 * bytes, cut at a UTF-8 boundary. 0 when there is no such element, several, or no subject.
 */
static size_t sender_identity(const uint8_t *msg, size_t len, const LsSyslogMsg *m,
                              uint8_t buf[static LS_MAX_IDENTITY + 1])
{
        LsSpan id, name, value, subject = {}, peer = {};
        unsigned elements = 0, nsubject = 0, npeer = 0;
        size_t o = 0, cap = LS_MAX_IDENTITY + 1;
        LsSdIter it;
        int r;

        if (m->format != LS_SYSLOG_RFC5424 || m->sd.len == 0)
                return 0;
        ls_sd_iter_init(&it, msg, len, m->sd);
        while ((r = ls_sd_next_element(&it, &id)) > 0) {
                if (!span_is(msg, id, SENDER_SD_ID))
                        continue;
                elements++;
                while ((r = ls_sd_next_param(&it, &name, &value)) > 0) {
                        if (span_is(msg, name, "subject"))
                                subject = value, nsubject++;
                        else if (span_is(msg, name, "peer"))
                                peer = value, npeer++;
                }
                if (r < 0)
                        return 0;
        }
        if (r < 0 || elements != 1 || nsubject != 1 || subject.len == 0 || npeer > 1)
                return 0;
        put(buf, cap, &o, "subject=");
        put_value(buf, cap, &o, msg, len, subject);
        if (npeer) {
                put(buf, cap, &o, " peer=");
                put_value(buf, cap, &o, msg, len, peer);
        }
        if (o <= LS_MAX_IDENTITY)
                return o;
        /* buf[LS_MAX_IDENTITY] is the first byte cut: back off to the start of its character. */
        o = LS_MAX_IDENTITY;
        for (int i = 0; i < 3 && o > 0 && (buf[o] & 0xc0) == 0x80; i++)
                o--;
        return o;
}

/* A sender's sequence numbers skipped some or began again: say so in the chain (SPEC §4.5:
 * LOSS with cause sequence-gap, SEQUENCE_RESET). A sequence.c SenderDeclareFn. */
static void declare_sequence(void *ud, const char *key, size_t keylen, const SenderEvent *ev)
{
        Daemon *d = ud;
        LsControlBuilder *b = malloc(sizeof(*b));
        const uint8_t *body;
        size_t len;
        uint16_t type = ev->kind == SENDER_GAP ? LS_CTL_LOSS : LS_CTL_SEQUENCE_RESET;
        int k;

        if (!b) {
                fprintf(stderr, "logseald: out of memory for a sequence declaration\n");
                return;
        }
        ls_control_begin(b, type);
        if (ev->kind == SENDER_GAP)
                ls_control_add_u64(b, LS_TAG_COUNT, ev->count);
        ls_control_add_u64(b, LS_TAG_FIRST_TIME, ev->first_ns);
        ls_control_add_u64(b, LS_TAG_LAST_TIME, now_realtime_ns());
        if (ev->kind == SENDER_GAP)
                ls_control_add_u16(b, LS_TAG_CAUSE, LS_LOSS_SEQUENCE_GAP);
        else
                ls_control_add_str(b, LS_TAG_TEXT,
                                   ev->kind == SENDER_RESTART ?
                                           "the sender numbers its messages from 1 again (it "
                                           "restarted, or it numbers per connection): "
                                           "messages it sent before, after the last one "
                                           "received, cannot be counted" :
                                           "the sender's numbering went back");
        ls_control_add(b, LS_TAG_SOURCE, key, keylen);
        ls_control_add_u64(b, LS_TAG_SEQ_EXPECTED, ev->expected);
        ls_control_add_u64(b, LS_TAG_SEQ_GOT, ev->got);
        k = ls_control_end(b, &body, &len);
        if (k == 0)
                k = ingest_control(d, type, body, len);
        if (k < 0)
                fprintf(stderr, "logseald: cannot record a sequence %s of %.*s: %s\n",
                        ev->kind == SENDER_GAP ? "gap" : "reset", (int) keylen, key,
                        strerror(-k));
        else if (ev->kind == SENDER_GAP)
                d->declared_lost += ev->count;
        free(b);
}

static void track_sequence(Daemon *d, const LsRecord *r, const LsSyslogMsg *m, int declare)
{
        SenderName n;
        uint32_t seq;

        if (!d->senders || ls_syslog_sequence_id(r->body, r->body_len, m, &seq) <= 0)
                return;
        if (senders_name(d->senders, r, r->body, m, &n))
                (void) senders_observe(d->senders, &n, seq, r->time_ns,
                                       declare ? declare_sequence : NULL, d);
}

void ingest_expire_sequences(Daemon *d)
{
        senders_expire(d->senders, now_realtime_ns(), SENDERS_WINDOW_NS, declare_sequence, d);
}

void ingest_replayed_sequence(Daemon *d, const LsRecord *r)
{
        LsSyslogMsg m;

        if (!d->senders)
                return;
        if (r->type == LS_REC_CONTROL) {
                /* A gap the run before declared: no longer pending. */
                const uint8_t *v, *src;
                uint16_t vl, sl;
                uint64_t cause, exp, got;
                LsControl c;
                if (ls_control_decode(&c, r->body, r->body_len, NULL) < 0 || c.type != LS_CTL_LOSS ||
                    !ls_control_get(&c, LS_TAG_CAUSE, &v, &vl) || vl != 2 ||
                    (cause = ls_get16(v)) != LS_LOSS_SEQUENCE_GAP ||
                    !ls_control_get(&c, LS_TAG_SOURCE, &src, &sl) ||
                    !ls_control_get(&c, LS_TAG_SEQ_EXPECTED, &v, &vl) || vl != 8)
                        return;
                exp = ls_get64(v);
                if (!ls_control_get(&c, LS_TAG_SEQ_GOT, &v, &vl) || vl != 8)
                        return;
                got = ls_get64(v);
                if (exp <= LS_SYSLOG_SEQUENCE_MAX && got <= LS_SYSLOG_SEQUENCE_MAX)
                        senders_declared(d->senders, (const char *) src, sl, (uint32_t) exp,
                                         (uint32_t) got);
                return;
        }
        if (r->type != LS_REC_SYSLOG || (r->flags & LS_RECF_PARSE_FAILED) ||
            parse_failed(parse(r->body, r->body_len, r->time_ns, &m), &m))
                return;
        track_sequence(d, r, &m, 0);
}

int ingest_message(Daemon *d, const LsRecord *proto, SenderIdentity si, const uint8_t *msg,
                   size_t len, size_t orig_len)
{
        uint8_t identity[LS_MAX_IDENTITY + 1];
        LsRecord r = *proto;
        LsSyslogMsg m;
        IndexKeyTuple keys;
        int k, parsed;

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
        parsed = parse(msg, len, r.time_ns, &m);
        if ((r.flags & LS_RECF_PARSE_FAILED) || parse_failed(parsed, &m)) {
                r.flags |= LS_RECF_PARSE_FAILED;
                d->parse_failed++;
        }
        if (si == SENDER_IDENTITY_STRUCTURED_DATA) {
                size_t n = 0;
                /* A record flagged PARSE_FAILED never carries an identity. */
                if (!(r.flags & LS_RECF_PARSE_FAILED))
                        n = sender_identity(msg, len, &m, identity);
                r.identity = n ? identity : NULL;
                r.identity_len = (uint16_t) n;
                if (n == 0)
                        d->identity_missing++;
                /* A front end's connection carries many senders: the rate limit is theirs,
                 * each over its rate dropped here and declared (sources.c). */
                else {
                        Source *src = sources_by_identity(d->sources, identity, n);
                        if (!source_admit(d->sources, src, r.time_ns))
                                return 0;
                        source_seen(src, 1, r.time_ns); /* for status */
                }
        }
        /* Before the record: a declaration due now comes before the message that shows it. */
        if (!(r.flags & LS_RECF_PARSE_FAILED))
                track_sequence(d, &r, &m, 1);
        k = ensure_pending(d, 4 + ls_record_size(&r));
        if (k < 0)
                return k;
        k = chunk_add(d->pending, &r);
        if (k < 0)
                return k;
        /* What the index takes from this record, carried to it (batchkeys.h). */
        index_record_keys(&r, parsed == 0 ? &m : NULL, &keys);
        chunk_keys_note(&d->pending->keys, d->pending->count - 1, &keys);
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
        k = chunk_add(d->pending, &r);
        if (k == 0)
                chunk_keys_note(&d->pending->keys, d->pending->count - 1, NULL); /* no keys */
        return k;
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
        /* A commit after every read can leave chunks mostly empty (one partial message of a
         * connection closed for a limit, a slow sender): queue_max_size counts their bytes,
         * so give the rest back, or the queue would hold up to CHUNK_CAP per record. */
        if (c->cap - c->len >= 64 * 1024) {
                Chunk *small = realloc(c, sizeof(*c) + c->len);
                if (small) {
                        c = small;
                        c->cap = c->len;
                }
        }
        sealer_push(d->sealer, c);
        return 0;
}
