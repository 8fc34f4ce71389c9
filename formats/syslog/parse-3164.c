/* SPDX-License-Identifier: Apache-2.0 */
/* parse-3164.c: RFC 3164 / BSD syslog messages and their common variants */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parse-internal.h"
/* ---- RFC 3164 --------------------------------------------------------------------------- */

/* A timestamp at p[i..), with Cisco's '*' (unsynced) or '.' (synced) before it. */
static size_t scan_timestamp(Ctx *c, size_t i, Wall *w, unsigned *flags)
{
        const uint8_t *p = c->p;
        size_t n = c->n, e;

        *flags = 0;
        if (i < n && (p[i] == '*' || p[i] == '.')) {
                *flags = p[i] == '*' ? LS_SYSLOG_TIME_UNSYNCED : LS_SYSLOG_TIME_SYNCED;
                i++;
        }
        e = syslog_scan_iso(p, i, n, w);
        if (!e)
                e = syslog_scan_bsd(p, i, n, w);
        /* A timestamp ends the word. */
        if (e && e < n && p[e] != ' ' && p[e] != ':')
                e = 0;
        return e;
}

/* End of a hostname word at p[i..) followed by SP, or 0 when the word is not one. */
static size_t hostname_end(const uint8_t *p, size_t i, size_t n)
{
        size_t t = i, colons = 0;
        bool ipv6ish = true;

        if (i >= n || p[i] == '%')
                return 0;
        while (t < n && p[t] != ' ') {
                uint8_t b = p[t];
                if (b < 0x21 || b == 0x7f || b == '[' || b == ']')
                        return 0;
                if (b == ':')
                        colons++;
                else if (!is_hex(b) && b != '.')
                        ipv6ish = false;
                t++;
        }
        if (t == i || t >= n || t - i > HOSTNAME_MAX)
                return 0;
        /* "prog:" is a TAG; "0002::" or "fe80::1" is an IPv6 address. */
        if (colons > 0 && !(ipv6ish && colons >= 2))
                return 0;
        return t;
}

static bool is_tag_char(uint8_t b)
{
        return is_alpha(b) || is_digit(b) || b >= 0x80 || b == '-' || b == '_' || b == '.' ||
               b == '/' || b == '(' || b == ')' || b == '%' || b == '@' || b == '+';
}

/* TAG, "TAG:" or "TAG[pid]:" at p[*pos]; a word not ended by ':' or '[' is text. */
static void parse_tag(Ctx *c, size_t *pos)
{
        const uint8_t *p = c->p;
        size_t n = c->n, i = *pos, t = i, e;
        bool letter = false;

        while (t < n && is_tag_char(p[t]) && t - i <= TAG_MAX) {
                letter |= is_alpha(p[t]) || p[t] >= 0x80;
                t++;
        }
        if (t == i || t - i > TAG_MAX || !letter || t >= n)
                return;
        if (p[t] == '[') {
                size_t a = t + 1, b = a;
                while (b < n && p[b] != ']' && p[b] != ' ' && b - a <= PID_MAX)
                        b++;
                if (b >= n || p[b] != ']')
                        return;
                c->m->app_name = span(i, t - i);
                if (b > a)
                        c->m->procid = span(a, b - a);
                e = b + 1;
                if (e < n && p[e] == ':')
                        e++;
        } else if (p[t] == ':' && (t + 1 == n || p[t + 1] == ' ')) {
                c->m->app_name = span(i, t - i);
                e = t + 1;
        } else {
                return;
        }
        while (e < n && p[e] == ' ')
                e++;
        *pos = e;
}

/* After the timestamp: "Message forwarded from H:", "last message repeated", HOSTNAME. */
static bool parse_origin(Ctx *c, size_t *pos)
{
        static const char fwd[] = "Message forwarded from ";
        static const char rep[] = "last message repeated";
        const uint8_t *p = c->p;
        size_t n = c->n, i = *pos, e;

        if (n - i >= sizeof(fwd) - 1 && memcmp(p + i, fwd, sizeof(fwd) - 1) == 0) {
                size_t h = i + sizeof(fwd) - 1;
                e = h;
                while (e < n && p[e] != ':' && p[e] != ' ')
                        e++;
                if (e > h && e < n && p[e] == ':') {
                        c->m->hostname = span(h, e - h);
                        c->m->flags |= LS_SYSLOG_FORWARDED;
                        e++;
                        while (e < n && p[e] == ' ')
                                e++;
                        *pos = e;
                }
                return true;
        }
        if (n - i >= sizeof(rep) - 1 && memcmp(p + i, rep, sizeof(rep) - 1) == 0)
                return false;
        e = hostname_end(p, i, n);
        if (e) {
                c->m->hostname = span(i, e - i);
                while (e < n && p[e] == ' ')
                        e++;
                *pos = e;
        }
        return true;
}

/* False (nothing stored but seq) when there is no PRI and no timestamp either. */
bool syslog_parse_3164(Ctx *c, size_t pos, bool have_pri)
{
        LsSyslogMsg *m = c->m;
        const uint8_t *p = c->p;
        size_t n = c->n, q, ts, ts_at;
        unsigned tflags;
        bool tag = true;
        Wall w;

        /* Cisco/ASA sequence number: "<189>123: ..." */
        q = pos;
        while (q < n && q - pos < 20 && is_digit(p[q]))
                q++;
        if (q > pos && q + 1 < n && p[q] == ':' && p[q + 1] == ' ') {
                m->seq = span(pos, q - pos);
                pos = q + 2;
        }
        while (pos < n && p[pos] == ' ')
                pos++;
        ts_at = pos;
        ts = scan_timestamp(c, pos, &w, &tflags);
        if (!ts) {
                /* Cisco "logging origin-id": "<189>123: host: *Mar  1 ..." */
                size_t e = pos;
                while (e < n && p[e] > 0x20 && p[e] != 0x7f && p[e] != ':' && p[e] != '[' &&
                       e - pos <= HOSTNAME_MAX)
                        e++;
                if (e > pos && e + 1 < n && p[e] == ':' && p[e + 1] == ' ') {
                        q = e + 2;
                        while (q < n && p[q] == ' ')
                                q++;
                        ts = scan_timestamp(c, q, &w, &tflags);
                        if (ts) {
                                m->hostname = span(pos, e - pos);
                                ts_at = q;
                        }
                }
        }
        if (!ts && !have_pri)
                return false;
        m->format = LS_SYSLOG_RFC3164;
        if (ts) {
                m->flags |= (uint16_t) tflags;
                syslog_set_time(c, &w, ts_at);
                pos = ts;
                if (pos < n && p[pos] == ':')
                        pos++;
                while (pos < n && p[pos] == ' ')
                        pos++;
                if (!m->hostname.len)
                        tag = parse_origin(c, &pos);
        } else {
                problem(c, pos, "missing TIMESTAMP");
        }
        if (tag)
                parse_tag(c, &pos);
        m->msg = span(pos, n - pos);
        return true;
}

