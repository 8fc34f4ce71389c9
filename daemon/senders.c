/* SPDX-License-Identifier: Apache-2.0 */
/* senders.c: per-sender sequence numbers (RFC 5424 meta sequenceId), gaps and restarts */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "senders.h"
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
#define FILE_MAGIC "LSSENDR1"
#define ENTRY_FIXED 22 /* u16 key length, u32 last, u64 time, 8 bytes HOSTNAME hash */

typedef struct Sender {
        struct Sender *next;
        uint64_t last_ns;
        uint32_t last;
        uint16_t keylen;
        uint8_t host_hash[8];
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

/* How many of the numbers expected..got-1 (on the ring) arrived as orphans from this
 * sender's HOSTNAME since its previous message. */
static uint64_t orphans_within(const Senders *s, const Sender *e, uint32_t expected, uint64_t dist)
{
        const uint64_t ring = LS_SYSLOG_SEQUENCE_MAX;
        size_t n = MIN(s->norphans, (size_t) NORPHANS);
        uint64_t found = 0;

        for (size_t i = 0; i < n; i++) {
                const Orphan *o = &s->orphans[i];
                if (memcmp(o->host_hash, e->host_hash, 8) != 0 || o->time_ns < e->last_ns)
                        continue;
                if (((uint64_t) o->seq + ring - expected) % ring < dist)
                        found++;
        }
        return MIN(found, dist);
}

int senders_observe(Senders *s, const SenderName *n, uint32_t seq, uint64_t now_ns,
                    SenderEvent *ev)
{
        const uint64_t ring = LS_SYSLOG_SEQUENCE_MAX; /* numbers 1..ring */
        Sender **pp, *e;
        uint64_t dist;

        *ev = (SenderEvent) {.got = seq};
        if (n->len == 0 || n->len > SENDER_KEY_MAX || seq == 0 || seq > ring)
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
        ev->expected = e->last == ring ? 1 : e->last + 1;
        ev->prev_time_ns = e->last_ns;
        /* Forward distance on the ring 1..ring. */
        dist = ((uint64_t) seq + ring - ev->expected) % ring;
        if (dist == 0)
                ev->kind = SENDER_NONE;
        else if (seq == 1)
                ev->kind = SENDER_RESTART;
        else if (dist < ring / 2) {
                ev->count = dist - orphans_within(s, e, ev->expected, dist);
                ev->kind = ev->count ? SENDER_GAP : SENDER_NONE;
        } else
                ev->kind = SENDER_BACK;
        e->last = seq;
        e->last_ns = now_ns;
        s->dirty = 1;
        return 0;
}

/*
 * The file: FILE_MAGIC, u64 wal_id, u32 count, then count entries of u16 key length
 * (1..SENDER_KEY_MAX), the key, u32 last number, u64 time of the last message (ns), 8 bytes
 * keyed hash of its HOSTNAME, little-endian. Private to this appliance (not evidence), rewritten atomically.
 */
int senders_save(Senders *s, int state_dirfd, uint64_t wal_id)
{
        size_t cap = 20 + s->count * (ENTRY_FIXED + SENDER_KEY_MAX), o = 20, n = 0;
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
                        o += 20;
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
                         20 + (size_t) SENDERS_MAX * (ENTRY_FIXED + SENDER_KEY_MAX),
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
                o += 20;
        }
        if (o != n)
                goto out;
        *ret_wal_id = ls_get64(p + 8);
        r = 0;
out:
        free(p);
        return r;
}
