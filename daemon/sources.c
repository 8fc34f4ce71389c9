/* SPDX-License-Identifier: Apache-2.0 */
/* sources.c: per-sender state (connections, rate, undeclared limit events) and its LOSS records */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <xxhash.h>

#include "control.h"
#include "ingest.h"
#include "listen.h"
#include "sealer.h"
#include "sources.h"
#include "util.h"

/*
 * One entry per sender: an IP address, or an identity a trusted front end supplied. The
 * table is bounded (TABLE_MAX entries); an attacker with many addresses cannot grow it:
 * entries without connections and without undeclared events are dropped when it fills, and
 * past that, senders share the OTHER entry (declared as "(other senders)"). Hash keys are
 * seeded at random so that addresses cannot be chosen to collide.
 */
#define TABLE_MAX 8192
#define TABLE_SLOTS (2 * TABLE_MAX)
#define SOURCE_TEXT_MAX 256 /* SPEC §4.1: SOURCE */

enum { KEY_ADDR4 = 1, KEY_ADDR6 = 2, KEY_IDENTITY = 3, KEY_OTHER = 4, KEY_UID = 5 };

struct Source {
        uint8_t kind;
        uint8_t addr[16];
        uint64_t hash;
        char *identity; /* KEY_IDENTITY: its text, cut to SOURCE_TEXT_MAX */
        uint32_t nconns;
        double tokens;
        uint64_t refill_ns;
        uint64_t last_ns;
        uint64_t pending[SRC_NEVENTS]; /* not yet declared */
        uint64_t total[SRC_NEVENTS];   /* since start, for status */
        uint64_t first_ns;             /* window of the pending events */
        uint64_t messages, last_msg_ns; /* for status: messages read, CLOCK_REALTIME of the last */
};

struct Sources {
        const Config *cfg;
        uint64_t seed;
        Source **slots; /* open addressing, linear probing; NULL: free */
        size_t n;
        Source other;
        size_t buffered;
        uint64_t sweep_after_ns; /* a sweep freed nothing: not again before this */
};

int sources_new(Sources **ret, const Config *cfg)
{
        Sources *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->slots = calloc(TABLE_SLOTS, sizeof(*s->slots));
        if (!s->slots) {
                free(s);
                return -ENOMEM;
        }
        s->cfg = cfg;
        randombytes_buf(&s->seed, sizeof(s->seed));
        s->other.kind = KEY_OTHER;
        *ret = s;
        return 0;
}

static void source_free(Source *e)
{
        if (e) {
                free(e->identity);
                free(e);
        }
}

Sources *sources_free(Sources *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < TABLE_SLOTS; i++)
                source_free(s->slots[i]);
        free(s->slots);
        free(s);
        return NULL;
}

static int idle(const Source *e)
{
        if (e->nconns)
                return 0;
        for (int k = 0; k < SRC_NEVENTS; k++)
                if (e->pending[k])
                        return 0;
        return 1;
}

/* Drops idle entries (rebuilding the probe sequences) when the table is full. */
static void sweep(Sources *s)
{
        Source **old = s->slots, **fresh = calloc(TABLE_SLOTS, sizeof(*fresh));

        if (!fresh)
                return;
        s->slots = fresh;
        s->n = 0;
        for (size_t i = 0; i < TABLE_SLOTS; i++) {
                Source *e = old[i];
                if (!e)
                        continue;
                if (idle(e)) {
                        source_free(e);
                        continue;
                }
                size_t j = e->hash % TABLE_SLOTS;
                while (fresh[j])
                        j = (j + 1) % TABLE_SLOTS;
                fresh[j] = e;
                s->n++;
        }
        free(old);
}

static Source *lookup(Sources *s, uint8_t kind, const void *key, size_t n, const char *text,
                      size_t tn)
{
        uint64_t h = XXH3_64bits_withSeed(key, n, s->seed ^ kind);
        size_t j = h % TABLE_SLOTS;
        Source *e;

        for (; (e = s->slots[j]); j = (j + 1) % TABLE_SLOTS) {
                if (e->hash != h || e->kind != kind)
                        continue;
                if (kind != KEY_IDENTITY
                            ? !memcmp(e->addr, key, n)
                            : (strlen(e->identity) == tn && !memcmp(e->identity, text, tn)))
                        return e;
        }
        if (s->n >= TABLE_MAX) {
                /* Full of busy senders (a flood from many addresses): share an entry rather
                 * than sweep for every new one. */
                uint64_t now = now_realtime_ns();
                if (now < s->sweep_after_ns)
                        return &s->other;
                sweep(s);
                if (s->n >= TABLE_MAX) {
                        s->sweep_after_ns = now + 1000000000ull;
                        return &s->other;
                }
                for (j = h % TABLE_SLOTS; s->slots[j]; j = (j + 1) % TABLE_SLOTS)
                        ;
        }
        e = calloc(1, sizeof(*e));
        if (!e)
                return &s->other;
        e->kind = kind;
        e->hash = h;
        if (kind == KEY_IDENTITY) {
                e->identity = strndup(text, tn);
                if (!e->identity) {
                        free(e);
                        return &s->other;
                }
        } else {
                memcpy(e->addr, key, n);
        }
        s->slots[j] = e;
        s->n++;
        return e;
}

Source *sources_by_addr(Sources *s, const LsRecord *proto)
{
        if (proto->family == LS_FAMILY_IPV4)
                return lookup(s, KEY_ADDR4, proto->address, 4, NULL, 0);
        if (proto->family == LS_FAMILY_IPV6)
                return lookup(s, KEY_ADDR6, proto->address, 16, NULL, 0);
        /* Local senders: one per uid (their credentials: u32 pid, u32 uid, u32 gid). */
        if (proto->family == LS_FAMILY_UNIX)
                return lookup(s, KEY_UID, proto->address + 4, 4, NULL, 0);
        static const uint8_t none[4] = {0xff, 0xff, 0xff, 0xff};
        return lookup(s, KEY_UID, none, 4, NULL, 0);
}

Source *sources_by_identity(Sources *s, const uint8_t *id, size_t n)
{
        size_t tn = MIN(n, (size_t) SOURCE_TEXT_MAX);

        /* Cut at a UTF-8 character boundary, like the identity itself (SPEC §4.3). */
        if (tn < n)
                for (int i = 0; i < 3 && tn > 0 && (id[tn] & 0xc0) == 0x80; i++)
                        tn--;
        /* An identity with a NUL cannot be text: key it by the bytes up to it. */
        const void *nul = memchr(id, 0, tn);
        if (nul)
                tn = (size_t) ((const uint8_t *) nul - id);
        return lookup(s, KEY_IDENTITY, id, tn, (const char *) id, tn);
}

void source_count(Source *src, SourceEvent ev, uint64_t n)
{
        if (!src || !n)
                return;
        src->pending[ev] += n;
        src->total[ev] += n;
}

uint32_t *source_conns(Source *src)
{
        return &src->nconns;
}

size_t *sources_buffered(Sources *s)
{
        return &s->buffered;
}

static double burst(const Config *c)
{
        return c->rate_burst ? (double) c->rate_burst : (double) c->rate_limit;
}

static void refill(const Config *c, Source *src, uint64_t now)
{
        if (src->refill_ns == 0) { /* first use: a full bucket */
                src->tokens = burst(c);
        } else if (now > src->refill_ns) {
                src->tokens += (double) (now - src->refill_ns) * 1e-9 * (double) c->rate_limit;
                if (src->tokens > burst(c))
                        src->tokens = burst(c);
        }
        src->refill_ns = now;
}

int source_admit(Sources *s, Source *src, uint64_t now_ns)
{
        if (!src || !s->cfg->rate_limit)
                return 1;
        refill(s->cfg, src, now_ns);
        if (src->tokens < 1.0) {
                source_count(src, SRC_RATE_DROPPED, 1);
                return 0;
        }
        src->tokens -= 1.0;
        return 1;
}

void source_seen(Source *src, uint64_t n, uint64_t now_ns)
{
        if (!src)
                return;
        src->messages += n;
        src->last_msg_ns = now_ns;
}

uint64_t source_charge(Sources *s, Source *src, uint64_t n, uint64_t now_ns)
{
        if (!src || !s->cfg->rate_limit)
                return 0;
        refill(s->cfg, src, now_ns);
        src->tokens -= (double) n;
        if (src->tokens >= 0)
                return 0;
        /* In debt: the source's streams wait until it is paid back. */
        source_count(src, SRC_THROTTLED, 1);
        return (uint64_t) (-src->tokens / (double) s->cfg->rate_limit * 1e9) + 1;
}

static void source_text(const Source *e, char *buf, size_t n)
{
        switch (e->kind) {
        case KEY_ADDR4:
                inet_ntop(AF_INET, e->addr, buf, (socklen_t) n);
                break;
        case KEY_ADDR6:
                inet_ntop(AF_INET6, e->addr, buf, (socklen_t) n);
                break;
        case KEY_IDENTITY:
                snprintf(buf, n, "%s", e->identity);
                break;
        case KEY_UID: {
                uint32_t uid = ls_get32(e->addr);
                if (uid == UINT32_MAX)
                        snprintf(buf, n, "local (no credentials)");
                else
                        snprintf(buf, n, "local uid %" PRIu32, uid);
                break;
        }
        default:
                snprintf(buf, n, "(other senders)");
                break;
        }
}

static void fmt_ns(char *buf, size_t n, uint64_t ns)
{
        if (ns % 1000000000ull == 0)
                snprintf(buf, n, "%" PRIu64 "s", ns / UINT64_C(1000000000));
        else
                snprintf(buf, n, "%" PRIu64 "ms", ns / UINT64_C(1000000));
}

static void limit_text(const Config *c, SourceEvent ev, char *buf, size_t n)
{
        char v[32];

        switch (ev) {
        case SRC_REFUSED_PER_SOURCE:
                snprintf(buf, n, "max_connections_per_source = %" PRIu32, c->max_conns_per_source);
                break;
        case SRC_REFUSED_LISTENER_FULL:
                snprintf(buf, n, "max_connections = %" PRIu32 " (a listener was full)",
                         c->max_connections);
                break;
        case SRC_CLOSED_IDLE:
                fmt_ns(v, sizeof(v), c->idle_timeout_ns);
                snprintf(buf, n, "idle_timeout = %s (nothing sent)", v);
                break;
        case SRC_CLOSED_FRAME:
                fmt_ns(v, sizeof(v), c->frame_timeout_ns);
                snprintf(buf, n, "frame_timeout = %s (a message begun and not completed)", v);
                break;
        case SRC_CLOSED_BUFFER:
                snprintf(buf, n, "buffer_max_size = %zuK (partial messages of all connections)",
                         c->buffer_max_bytes >> 10);
                break;
        case SRC_CLOSED_STOP:
                snprintf(buf, n, "stop: still sending after %llu s of reading at the stop (what "
                                 "it sent later is unread)",
                         (unsigned long long) (LISTEN_DRAIN_NS / 1000000000ull));
                break;
        case SRC_RATE_DROPPED:
                snprintf(buf, n, "rate_limit = %" PRIu32 "/s, rate_burst = %.0f", c->rate_limit,
                         burst(c));
                break;
        case SRC_THROTTLED:
                snprintf(buf, n,
                         "rate_limit = %" PRIu32 "/s, rate_burst = %.0f (held back, nothing "
                         "dropped)",
                         c->rate_limit, burst(c));
                break;
        default:
                buf[0] = 0;
        }
}

static const uint16_t event_cause[SRC_NEVENTS] = {
        [SRC_REFUSED_PER_SOURCE] = LS_LOSS_CONNECTION_REFUSED,
        [SRC_REFUSED_LISTENER_FULL] = LS_LOSS_CONNECTION_REFUSED,
        [SRC_CLOSED_IDLE] = LS_LOSS_CONNECTION_CLOSED,
        [SRC_CLOSED_FRAME] = LS_LOSS_CONNECTION_CLOSED,
        [SRC_CLOSED_BUFFER] = LS_LOSS_CONNECTION_CLOSED,
        [SRC_CLOSED_STOP] = LS_LOSS_CONNECTION_CLOSED,
        [SRC_RATE_DROPPED] = LS_LOSS_RATE_LIMIT,
        [SRC_THROTTLED] = LS_LOSS_THROTTLED,
};

/* Declares one source's pending events; the messages lost among them. */
static uint64_t declare_one(Daemon *d, Sources *s, Source *e, LsControlBuilder *b, uint64_t now,
                            int force)
{
        char src[SOURCE_TEXT_MAX + 1], text[160];
        uint64_t lost = 0;

        if (idle(e))
                return 0;
        if (!e->first_ns)
                e->first_ns = now;
        if (!force && now - e->first_ns < 1000000000ull)
                return 0;
        source_text(e, src, sizeof(src));
        for (int k = 0; k < SRC_NEVENTS; k++) {
                const uint8_t *body;
                size_t len;
                int r;
                if (!e->pending[k])
                        continue;
                limit_text(s->cfg, (SourceEvent) k, text, sizeof(text));
                ls_control_begin(b, LS_CTL_LOSS);
                ls_control_add_u64(b, LS_TAG_COUNT, e->pending[k]);
                ls_control_add_u64(b, LS_TAG_FIRST_TIME, e->first_ns);
                ls_control_add_u64(b, LS_TAG_LAST_TIME, now);
                ls_control_add_u16(b, LS_TAG_CAUSE, event_cause[k]);
                ls_control_add_str(b, LS_TAG_TEXT, text);
                ls_control_add_str(b, LS_TAG_SOURCE, src);
                r = ls_control_end(b, &body, &len);
                if (r == 0)
                        r = ingest_control(d, LS_CTL_LOSS, body, len);
                if (r < 0) {
                        fprintf(stderr, "logseald: cannot record a loss of %s: %s\n", src,
                                strerror(-r));
                        continue; /* kept: declared at the next try */
                }
                if (k == SRC_RATE_DROPPED)
                        lost += e->pending[k];
                e->pending[k] = 0;
        }
        if (idle(e))
                e->first_ns = 0;
        return lost;
}

uint64_t sources_declare(Daemon *d, Sources *s, int force)
{
        LsControlBuilder *b;
        uint64_t now = now_realtime_ns(), lost = 0;

        if (!s)
                return 0;
        b = malloc(sizeof(*b));
        if (!b)
                return 0;
        for (size_t i = 0; i < TABLE_SLOTS; i++)
                if (s->slots[i])
                        lost += declare_one(d, s, s->slots[i], b, now, force);
        lost += declare_one(d, s, &s->other, b, now, force);
        free(b);
        return lost;
}

static uint64_t weight(const Source *e)
{
        uint64_t w = 0;
        for (int k = 0; k < SRC_NEVENTS; k++)
                w += e->total[k];
        return w;
}

static int by_weight(const void *a, const void *b)
{
        const Source *x = *(Source *const *) a, *y = *(Source *const *) b;
        uint64_t wx = weight(x), wy = weight(y);

        if (wx != wy)
                return wx > wy ? -1 : 1;
        if (x->nconns != y->nconns)
                return x->nconns > y->nconns ? -1 : 1;
        /* then the most recently heard from */
        return x->last_msg_ns > y->last_msg_ns ? -1 : x->last_msg_ns < y->last_msg_ns;
}

json_t *sources_json(Sources *s, size_t max)
{
        json_t *a = json_array();
        Source **v;
        size_t n = 0;
        char src[SOURCE_TEXT_MAX + 1];

        if (!s || !a)
                return a;
        v = malloc((TABLE_SLOTS + 1) * sizeof(*v));
        if (!v)
                return a;
        for (size_t i = 0; i < TABLE_SLOTS; i++)
                if (s->slots[i] && (s->slots[i]->nconns || weight(s->slots[i]) ||
                                    s->slots[i]->messages))
                        v[n++] = s->slots[i];
        if (weight(&s->other) || s->other.messages)
                v[n++] = &s->other;
        qsort(v, n, sizeof(*v), by_weight);
        for (size_t i = 0; i < n && i < max; i++) {
                const Source *e = v[i];
                source_text(e, src, sizeof(src));
                json_array_append_new(
                        a, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "source", src, "connections",
                                     (json_int_t) e->nconns, "refused",
                                     (json_int_t) (e->total[SRC_REFUSED_PER_SOURCE] +
                                                   e->total[SRC_REFUSED_LISTENER_FULL]),
                                     "closed",
                                     (json_int_t) (e->total[SRC_CLOSED_IDLE] +
                                                   e->total[SRC_CLOSED_FRAME] +
                                                   e->total[SRC_CLOSED_BUFFER] +
                                                   e->total[SRC_CLOSED_STOP]),
                                     "rate_limited", (json_int_t) e->total[SRC_RATE_DROPPED],
                                     "throttled", (json_int_t) e->total[SRC_THROTTLED]));
                json_t *o = json_array_get(a, json_array_size(a) - 1);
                json_object_set_new(o, "messages", json_integer((json_int_t) e->messages));
                if (e->last_msg_ns)
                        json_object_set_new(o, "last_message_ns",
                                            json_integer((json_int_t) e->last_msg_ns));
        }
        free(v);
        return a;
}
