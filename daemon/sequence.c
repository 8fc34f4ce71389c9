/* SPDX-License-Identifier: Apache-2.0 */
/* sequence.c: per-sender sequence numbers (RFC 5424 meta sequenceId), gaps and restarts */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sequence.h"
#include "state.h"
#include "util.h"

/*
 * What the transport cannot report: a message a sender wrote into a connection that died
 * before logseald read it (a TLS front end restarting, a TCP connection reset, logseald
 * killed). syslog-ng counts it as sent and drops it from its disk buffer. Its syslog()
 * destination numbers the messages it writes (meta sequenceId, counted per destination,
 * kept across reconnections, begun again at 1 when syslog-ng restarts, wrapping from
 * 2147483647 to 1), so a number skipped is a message lost on the way.
 *
 * The table is keyed by the sender name (senders_key) through SipHash with a random key:
 * the names come from the network. Bounded by SENDERS_MAX.
 */

#define NBUCKETS 4096u
#define FILE_MAGIC "LSSENDR2"
/* u16 key length, u32 last, u64 time, 8 bytes HOSTNAME hash, u8 pending count */
#define ENTRY_FIXED 23
#define PENDING_LEN 16 /* u32 first, u32 end, u64 time seen */

typedef struct Pending {
        uint32_t first, end;        /* the numbers first..end-1 on the ring, not arrived */
        uint32_t got;               /* unused (0) */
        uint64_t seen_ns;           /* when the gap was seen */
} Pending;

typedef struct Sender {
        struct Sender *next;
        uint64_t last_ns;
        uint32_t last;
        uint16_t keylen;
        uint8_t npending;
        uint8_t host_hash[8];
        Pending pending[SENDER_MAX_PENDING]; /* oldest first */
        char key[SENDER_KEY_MAX];
} Sender;

#define NORPHANS 1024u

typedef struct Orphan {
        uint8_t host_hash[8];
        uint32_t seq;
        uint64_t time_ns;
} Orphan;

struct Senders {
        Sender *buckets[NBUCKETS];
        Orphan orphans[NORPHANS];   /* the latest front-end records without identity */
        size_t norphans;            /* ever noted: the next goes to norphans % NORPHANS */
        size_t count;
        size_t npending;            /* senders with pending gaps */
        uint64_t scratch[NORPHANS];
        int dirty;
        uint8_t hkey[crypto_shorthash_KEYBYTES];
};

int senders_new(Senders **ret)
{
        Senders *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        randombytes_buf(s->hkey, sizeof(s->hkey));
        *ret = s;
        return 0;
}

Senders *senders_free(Senders *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < NBUCKETS; i++)
                for (Sender *e = s->buckets[i], *n; e; e = n) {
                        n = e->next;
                        free(e);
                }
        free(s);
        return NULL;
}

int senders_dirty(const Senders *s)
{
        return s && s->dirty;
}

size_t senders_count(const Senders *s)
{
        return s ? s->count : 0;
}

static void add_bytes(char *buf, size_t *o, const void *p, size_t n)
{
        size_t room = SENDER_KEY_MAX - *o;

        n = MIN(n, room);
        memcpy(buf + *o, p, n);
        *o += n;
}

#define FRONTEND_SD_ID "logseal-sender@32473"

static int has_frontend_element(const uint8_t *msg, size_t len, const LsSyslogMsg *m)
{
        LsSdIter it;
        LsSpan id;
        int r;

        ls_sd_iter_init(&it, msg, len, m->sd);
        while ((r = ls_sd_next_element(&it, &id)) > 0)
                if (id.len == strlen(FRONTEND_SD_ID) &&
                    memcmp(msg + id.off, FRONTEND_SD_ID, id.len) == 0)
                        return 1;
        return 0;
}

int senders_name(Senders *s, const LsRecord *r, const uint8_t *msg, const LsSyslogMsg *m,
                 SenderName *n)
{
        char addr[INET6_ADDRSTRLEN + 16];
        const uint8_t *host = m->hostname.len ? msg + m->hostname.off : (const uint8_t *) "-";
        size_t hostlen = m->hostname.len ? m->hostname.len : 1;

        n->len = 0;
        n->orphan = 0;
        if (r->transport == LS_TRANSPORT_TCP) {
                if (r->family != LS_FAMILY_IPV4 && r->family != LS_FAMILY_IPV6)
                        return 0;
                if (!inet_ntop(r->family == LS_FAMILY_IPV4 ? AF_INET : AF_INET6, r->address, addr,
                               sizeof(addr)))
                        return 0;
                add_bytes(n->key, &n->len, "tcp peer=", 9);
                add_bytes(n->key, &n->len, addr, strlen(addr));
                add_bytes(n->key, &n->len, " ", 1);
        } else if (r->transport == LS_TRANSPORT_UNIX_STREAM) {
                add_bytes(n->key, &n->len, "unix ", 5);
                if (r->identity_len) {
                        /* "subject=S peer=P" (ingest.c): the subject names the sender; its
                         * address may change. */
                        size_t il = r->identity_len;
                        for (size_t i = il; i-- > 0;)
                                if (il - i >= 6 && memcmp(r->identity + i, " peer=", 6) == 0) {
                                        il = i;
                                        break;
                                }
                        add_bytes(n->key, &n->len, r->identity, il);
                        add_bytes(n->key, &n->len, " ", 1);
                } else if (has_frontend_element(r->body, r->body_len, m)) {
                        n->orphan = 1;
                }
        } else {
                return 0;
        }
        add_bytes(n->key, &n->len, "host=", 5);
        add_bytes(n->key, &n->len, host, hostlen);
        /* Unkeyed: it is saved with the sender and compared in a later run. */
        crypto_generichash(n->host_hash, sizeof(n->host_hash), host, hostlen, NULL, 0);
        return 1;
}

static Sender **slot(Senders *s, const char *key, size_t keylen)
{
        uint8_t h[crypto_shorthash_BYTES];
        Sender **pp;

        crypto_shorthash(h, (const unsigned char *) key, keylen, s->hkey);
        pp = &s->buckets[(h[0] | (unsigned) h[1] << 8) % NBUCKETS];
        while (*pp && ((*pp)->keylen != keylen || memcmp((*pp)->key, key, keylen) != 0))
                pp = &(*pp)->next;
        return pp;
}

static Sender *insert(Senders *s, Sender **pp, const char *key, size_t keylen)
{
        Sender *e;

        if (s->count >= SENDERS_MAX)
                return NULL;
        e = calloc(1, sizeof(*e));
        if (!e)
                return NULL;
        memcpy(e->key, key, keylen);
        e->keylen = (uint16_t) keylen;
        *pp = e;
        s->count++;
        return e;
}

static const uint64_t RING = LS_SYSLOG_SEQUENCE_MAX; /* numbers 1..RING */

/* Forward distance from a to b on the ring 1..RING. */
static uint64_t ring_dist(uint32_t a, uint32_t b)
{
        return ((uint64_t) b + RING - a) % RING;
}

static uint32_t ring_add(uint32_t a, uint64_t n)
{
        return (uint32_t) (((uint64_t) a - 1 + n) % RING + 1);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* The numbers that orphans (front-end records without identity) from e's HOSTNAME carried
 * since e's previous message, as distances from `from` below `dist`, sorted, into out. */
static size_t orphans_in(const Senders *s, const Sender *e, uint32_t from, uint64_t dist,
                         uint64_t out[static NORPHANS])
{
        size_t n = MIN(s->norphans, (size_t) NORPHANS), k = 0;

        for (size_t i = 0; i < n; i++) {
                const Orphan *o = &s->orphans[i];
                uint64_t d = ring_dist(from, o->seq);
                if (d < dist && o->time_ns >= e->last_ns &&
                    memcmp(o->host_hash, e->host_hash, 8) == 0)
                        out[k++] = d;
        }
        qsort(out, k, sizeof(*out), cmp_u64);
        return k;
}

static void declare_pending(Senders *s, Sender *e, size_t i, SenderDeclareFn fn, void *ud)
{
        Pending *p = &e->pending[i];
        SenderEvent ev = {.kind = SENDER_GAP,
                          .expected = p->first,
                          .got = p->end,
                          .count = ring_dist(p->first, p->end),
                          .first_ns = p->seen_ns};

        if (fn)
                fn(ud, e->key, e->keylen, &ev);
        memmove(&e->pending[i], &e->pending[i + 1],
                (size_t) (e->npending - i - 1) * sizeof(Pending));
        if (--e->npending == 0)
                s->npending--;
        s->dirty = 1;
}

static void add_pending(Senders *s, Sender *e, uint32_t first, uint32_t end, uint64_t seen_ns,
                        SenderDeclareFn fn, void *ud)
{
        if (e->npending == SENDER_MAX_PENDING)
                declare_pending(s, e, 0, fn, ud);
        if (e->npending == 0)
                s->npending++;
        e->pending[e->npending++] = (Pending) {.first = first, .end = end, .seen_ns = seen_ns};
}

/* x arrived late: take it out of the pending gap that holds it. 1 if one did. */
static int arrived_late(Senders *s, Sender *e, uint32_t x, SenderDeclareFn fn, void *ud)
{
        for (size_t i = 0; i < e->npending; i++) {
                Pending *p = &e->pending[i];
                if (ring_dist(p->first, x) >= ring_dist(p->first, p->end))
                        continue;
                if (x == p->first)
                        p->first = ring_add(x, 1);
                else if (ring_add(x, 1) == p->end)
                        p->end = x;
                else {
                        /* Split: the numbers after x become a gap of their own. */
                        Pending rest = {.first = ring_add(x, 1), .end = p->end,
                                        .seen_ns = p->seen_ns};
                        p->end = x;
                        if (e->npending == SENDER_MAX_PENDING)
                                declare_pending(s, e, 0, fn, ud); /* the oldest: room */
                        if (e->npending == 0)
                                s->npending++;
                        e->pending[e->npending++] = rest;
                        s->dirty = 1;
                        return 1;
                }
                if (p->first == p->end) {
                        memmove(p, p + 1, (size_t) (e->npending - i - 1) * sizeof(Pending));
                        if (--e->npending == 0)
                                s->npending--;
                }
                s->dirty = 1;
                return 1;
        }
        return 0;
}

int senders_observe(Senders *s, const SenderName *n, uint32_t seq, uint64_t now_ns,
                    SenderDeclareFn fn, void *ud)
{
        Sender **pp, *e;
        uint32_t expected;
        uint64_t dist;

        if (n->len == 0 || n->len > SENDER_KEY_MAX || seq == 0 || seq > RING)
                return 0;
        if (n->orphan) {
                Orphan *o = &s->orphans[s->norphans++ % NORPHANS];
                memcpy(o->host_hash, n->host_hash, 8);
                o->seq = seq;
                o->time_ns = now_ns;
                return 0;
        }
        pp = slot(s, n->key, n->len);
        e = *pp;
        if (!e) {
                /* First sight: nothing to compare with (what came before is unknown). */
                e = insert(s, pp, n->key, n->len);
                if (!e)
                        return s->count >= SENDERS_MAX ? 0 : -ENOMEM;
                memcpy(e->host_hash, n->host_hash, 8);
                e->last = seq;
                e->last_ns = now_ns;
                s->dirty = 1;
                return 0;
        }
        s->dirty = 1;
        expected = ring_add(e->last, 1);
        dist = ring_dist(expected, seq);
        if (dist == 0) {
                e->last = seq;
                e->last_ns = now_ns;
                return 0;
        }
        if (dist < RING / 2 && seq != 1) {
                /* Numbers skipped: pending until the window passes, less those an orphan
                 * carried (their sender is unknown, but this HOSTNAME's is the likely one). */
                uint64_t *orph = s->scratch, at = 0;
                size_t k = orphans_in(s, e, expected, dist, orph);
                uint32_t first = expected;
                for (size_t i = 0; i < k; i++) {
                        if (orph[i] < at)
                                continue; /* the same number twice */
                        if (orph[i] > at)
                                add_pending(s, e, first, ring_add(expected, orph[i]), now_ns, fn,
                                            ud);
                        at = orph[i] + 1;
                        first = ring_add(expected, at);
                }
                if (first != seq)
                        add_pending(s, e, first, seq, now_ns, fn, ud);
                e->last = seq;
                e->last_ns = now_ns;
                return 0;
        }
        if (arrived_late(s, e, seq, fn, ud))
                return 0;
        /* The numbering went back: what is pending will not come in the old numbering. */
        while (e->npending)
                declare_pending(s, e, 0, fn, ud);
        if (fn) {
                SenderEvent ev = {.kind = seq == 1 ? SENDER_RESTART : SENDER_BACK,
                                  .expected = expected,
                                  .got = seq,
                                  .first_ns = e->last_ns};
                fn(ud, e->key, e->keylen, &ev);
        }
        e->last = seq;
        e->last_ns = now_ns;
        return 0;
}

void senders_expire(Senders *s, uint64_t now_ns, uint64_t window_ns, SenderDeclareFn fn, void *ud)
{
        if (!s || s->npending == 0)
                return;
        for (size_t b = 0; b < NBUCKETS; b++)
                for (Sender *e = s->buckets[b]; e; e = e->next)
                        while (e->npending && e->pending[0].seen_ns + window_ns <= now_ns)
                                declare_pending(s, e, 0, fn, ud);
}

void senders_declared(Senders *s, const char *key, size_t keylen, uint32_t expected, uint32_t got)
{
        Sender *e;

        if (keylen == 0 || keylen > SENDER_KEY_MAX)
                return;
        e = *slot(s, key, keylen);
        if (!e)
                return;
        for (size_t i = 0; i < e->npending; i++)
                if (e->pending[i].first == expected && e->pending[i].end == got) {
                        declare_pending(s, e, i, NULL, NULL);
                        return;
                }
}

/*
 * The file: FILE_MAGIC, u64 wal_id, u32 count, then count entries of u16 key length
 * (1..SENDER_KEY_MAX), the key, u32 last number, u64 time of the last message (ns), 8 bytes
 * hash of its HOSTNAME, u8 count of pending gaps (0..SENDER_MAX_PENDING) and that many of
 * u32 first, u32 end, u64 time seen; little-endian. Private to this appliance (not evidence), rewritten atomically.
 */
int senders_save(Senders *s, int state_dirfd, uint64_t wal_id)
{
        size_t cap = 20 + s->count * (ENTRY_FIXED + SENDER_KEY_MAX +
                                      SENDER_MAX_PENDING * PENDING_LEN),
               o = 20, n = 0;
        uint8_t *p = malloc(cap);
        int r;

        if (!p)
                return -ENOMEM;
        memcpy(p, FILE_MAGIC, 8);
        ls_put64(p + 8, wal_id);
        for (size_t i = 0; i < NBUCKETS; i++)
                for (Sender *e = s->buckets[i]; e; e = e->next) {
                        ls_put16(p + o, e->keylen);
                        memcpy(p + o + 2, e->key, e->keylen);
                        o += 2 + e->keylen;
                        ls_put32(p + o, e->last);
                        ls_put64(p + o + 4, e->last_ns);
                        memcpy(p + o + 12, e->host_hash, 8);
                        p[o + 20] = e->npending;
                        o += 21;
                        for (size_t k = 0; k < e->npending; k++) {
                                ls_put32(p + o, e->pending[k].first);
                                ls_put32(p + o + 4, e->pending[k].end);
                                ls_put64(p + o + 8, e->pending[k].seen_ns);
                                o += PENDING_LEN;
                        }
                        n++;
                }
        ls_put32(p + 16, (uint32_t) n);
        r = write_file_atomic(state_dirfd, STATE_SENDERS, p, o, 0600);
        free(p);
        if (r == 0)
                s->dirty = 0;
        return r;
}

int senders_load(Senders *s, int state_dirfd, uint64_t *ret_wal_id)
{
        uint8_t *p = NULL;
        size_t n = 0, o = 20;
        uint32_t count;
        int r;

        *ret_wal_id = 0;
        r = read_file_at(state_dirfd, STATE_SENDERS,
                         20 + (size_t) SENDERS_MAX * (ENTRY_FIXED + SENDER_KEY_MAX +
                                                      SENDER_MAX_PENDING * PENDING_LEN),
                         &p, &n);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = -EBADMSG;
        if (n < 20 || memcmp(p, FILE_MAGIC, 8) != 0)
                goto out;
        count = ls_get32(p + 16);
        if (count > SENDERS_MAX)
                goto out;
        for (uint32_t i = 0; i < count; i++) {
                uint16_t kl;
                uint8_t np;
                Sender **pp, *e;
                if (n - o < 2)
                        goto out;
                kl = ls_get16(p + o);
                if (kl == 0 || kl > SENDER_KEY_MAX || n - o - 2 < (size_t) kl + ENTRY_FIXED - 2)
                        goto out;
                pp = slot(s, (const char *) p + o + 2, kl);
                e = *pp ? *pp : insert(s, pp, (const char *) p + o + 2, kl);
                if (!e) {
                        r = -ENOMEM;
                        goto out;
                }
                o += 2 + kl;
                e->last = ls_get32(p + o);
                e->last_ns = ls_get64(p + o + 4);
                memcpy(e->host_hash, p + o + 12, 8);
                np = p[o + 20];
                o += 21;
                if (np > SENDER_MAX_PENDING || n - o < (size_t) np * PENDING_LEN)
                        goto out;
                if (e->npending)
                        s->npending--;
                e->npending = 0;
                for (size_t k = 0; k < np; k++, o += PENDING_LEN) {
                        Pending q = {.first = ls_get32(p + o), .end = ls_get32(p + o + 4),
                                     .seen_ns = ls_get64(p + o + 8)};
                        if (q.first == 0 || q.first > RING || q.end == 0 || q.end > RING ||
                            q.first == q.end)
                                goto out;
                        e->pending[e->npending++] = q;
                }
                if (e->npending)
                        s->npending++;
        }
        if (o != n)
                goto out;
        *ret_wal_id = ls_get64(p + 8);
        r = 0;
out:
        free(p);
        return r;
}
