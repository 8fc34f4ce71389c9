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

typedef struct Sender {
        struct Sender *next;
        uint64_t last_ns;
        uint32_t last;
        uint16_t keylen;
        char key[SENDER_KEY_MAX];
} Sender;

struct Senders {
        Sender *buckets[NBUCKETS];
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

size_t senders_key(const LsRecord *r, const uint8_t *msg, const LsSyslogMsg *m,
                   char buf[static SENDER_KEY_MAX])
{
        char addr[INET6_ADDRSTRLEN + 16];
        size_t o = 0;

        if (r->transport == LS_TRANSPORT_TCP) {
                if (r->family != LS_FAMILY_IPV4 && r->family != LS_FAMILY_IPV6)
                        return 0;
                if (!inet_ntop(r->family == LS_FAMILY_IPV4 ? AF_INET : AF_INET6, r->address, addr,
                               sizeof(addr)))
                        return 0;
                add_bytes(buf, &o, "tcp peer=", 9);
                add_bytes(buf, &o, addr, strlen(addr));
                add_bytes(buf, &o, " ", 1);
        } else if (r->transport == LS_TRANSPORT_UNIX_STREAM) {
                add_bytes(buf, &o, "unix ", 5);
        } else {
                return 0;
        }
        add_bytes(buf, &o, "host=", 5);
        if (m->hostname.len)
                add_bytes(buf, &o, msg + m->hostname.off, m->hostname.len);
        else
                add_bytes(buf, &o, "-", 1);
        return o;
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

int senders_observe(Senders *s, const char *key, size_t keylen, uint32_t seq, uint64_t now_ns,
                    SenderEvent *ev)
{
        const uint64_t ring = LS_SYSLOG_SEQUENCE_MAX; /* numbers 1..ring */
        Sender **pp, *e;
        uint64_t dist;

        *ev = (SenderEvent) {.got = seq};
        if (keylen == 0 || keylen > SENDER_KEY_MAX || seq == 0 || seq > ring)
                return 0;
        pp = slot(s, key, keylen);
        e = *pp;
        if (!e) {
                /* First sight: nothing to compare with (what came before is unknown). */
                e = insert(s, pp, key, keylen);
                if (!e)
                        return s->count >= SENDERS_MAX ? 0 : -ENOMEM;
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
                ev->kind = SENDER_GAP;
                ev->count = dist;
        } else
                ev->kind = SENDER_BACK;
        e->last = seq;
        e->last_ns = now_ns;
        s->dirty = 1;
        return 0;
}

/*
 * The file: FILE_MAGIC, u64 wal_id, u32 count, then count entries of u16 key length
 * (1..SENDER_KEY_MAX), the key, u32 last number, u64 time of the last message (ns), all
 * little-endian. Private to this appliance (not evidence), rewritten atomically.
 */
int senders_save(Senders *s, int state_dirfd, uint64_t wal_id)
{
        size_t cap = 20 + s->count * (14 + SENDER_KEY_MAX), o = 20, n = 0;
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
                        o += 12;
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
        r = read_file_at(state_dirfd, STATE_SENDERS, 20 + (size_t) SENDERS_MAX * (14 + SENDER_KEY_MAX),
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
                if (kl == 0 || kl > SENDER_KEY_MAX || n - o - 2 < (size_t) kl + 12)
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
                o += 12;
        }
        if (o != n)
                goto out;
        *ret_wal_id = ls_get64(p + 8);
        r = 0;
out:
        free(p);
        return r;
}
