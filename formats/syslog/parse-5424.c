/* SPDX-License-Identifier: Apache-2.0 */
/* parse-5424.c: the RFC 5424 header: fields, timestamp, STRUCTURED-DATA, MSG */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parse-internal.h"
/* ---- RFC 5424 --------------------------------------------------------------------------- */

static size_t token_end(const uint8_t *p, size_t i, size_t n)
{
        const uint8_t *sp = memchr(p + i, ' ', n - i);
        return sp ? (size_t) (sp - p) : n;
}

static void timestamp_5424(Ctx *c, size_t i, size_t e)
{
        Wall w;
        size_t bad;
        const char *why;

        if (syslog_strict_rfc5424_ts(c->p, i, e, &w, &bad, &why)) {
                syslog_set_time(c, &w, i);
                return;
        }
        problem(c, bad, why);
        /* Still index what a lenient reading finds ("t", 9 digits, no zone). */
        if (syslog_scan_iso(c->p, i, e, &w) > 0)
                syslog_set_time(c, &w, i);
}

/* One header field; false when the structure is lost (parsing stopped). */
static bool header_field(Ctx *c, size_t *pos, LsSpan *out, size_t max, const char *empty,
                         const char *too_long, const char *bad_byte, const char *missing_next)
{
        const uint8_t *p = c->p;
        size_t i = *pos, e;

        if (i >= c->n) {
                stop(c, i, empty, i);
                return false;
        }
        e = token_end(p, i, c->n);
        if (e == i) {
                stop(c, i, empty, i);
                return false;
        }
        if (!(e - i == 1 && p[i] == '-')) {
                size_t k = i;
                while (k < e && is_printusascii(p[k]))
                        k++;
                if (k < e && k < i + max)
                        problem(c, k, bad_byte);
                else if (e - i > max)
                        problem(c, i + max, too_long);
                else if (k < e)
                        problem(c, k, bad_byte);
                *out = span(i, e - i);
        }
        if (missing_next && e >= c->n) {
                stop(c, e, missing_next, e);
                return false;
        }
        *pos = e + 1;
        return true;
}

/* Reports the earlier of the iterator's non-structural problem and a duplicate SD-ID. */
static void sd_problems(Ctx *c, const LsSdIter *it, size_t dup_off)
{
        if (it->soft_error && it->soft_offset < dup_off)
                problem(c, it->soft_offset, it->soft_error);
        else if (dup_off != SIZE_MAX)
                problem(c, dup_off, "duplicate SD-ID");
}

void syslog_parse_5424(Ctx *c, size_t pos)
{
        LsSyslogMsg *m = c->m;
        const uint8_t *p = c->p;
        size_t n = c->n, e;
        unsigned v = 0;

        m->format = LS_SYSLOG_RFC5424;
        while (pos < n && is_digit(p[pos]))
                v = v * 10 + (unsigned) (p[pos++] - '0');
        m->version = (uint16_t) v;
        if (pos >= n) {
                stop(c, pos, "missing SP after VERSION", pos);
                return;
        }
        pos++;

        if (pos >= n || p[pos] == ' ') {
                stop(c, pos, "missing TIMESTAMP", pos);
                return;
        }
        e = token_end(p, pos, n);
        if (!(e - pos == 1 && p[pos] == '-'))
                timestamp_5424(c, pos, e);
        if (e >= n) {
                stop(c, e, "missing HOSTNAME", e);
                return;
        }
        pos = e + 1;

        if (!header_field(c, &pos, &m->hostname, HOSTNAME_MAX, "missing HOSTNAME",
                          "HOSTNAME longer than 255", "HOSTNAME byte outside 33-126",
                          "missing APP-NAME") ||
            !header_field(c, &pos, &m->app_name, APP_NAME_MAX, "missing APP-NAME",
                          "APP-NAME longer than 48", "APP-NAME byte outside 33-126",
                          "missing PROCID") ||
            !header_field(c, &pos, &m->procid, PROCID_MAX, "missing PROCID",
                          "PROCID longer than 128", "PROCID byte outside 33-126",
                          "missing MSGID") ||
            !header_field(c, &pos, &m->msgid, MSGID_MAX, "missing MSGID", "MSGID longer than 32",
                          "MSGID byte outside 33-126", "missing STRUCTURED-DATA"))
                return;

        if (pos >= n) {
                stop(c, pos, "missing STRUCTURED-DATA", pos);
                return;
        }
        if (p[pos] == '-') {
                e = pos + 1;
        } else if (p[pos] == '[') {
                /* SD-IDs seen, to find duplicates (RFC 5424 §6.3.2); more elements than
                 * this are not checked, so a message cannot make the check quadratic. */
                LsSpan ids[SD_DUP_CHECK];
                size_t nids = 0, dup_off = SIZE_MAX;
                LsSdIter it;
                LsSpan id;
                int r;
                syslog_sd_iter_open(&it, p, n, pos);
                for (;;) {
                        size_t start = it.pos;
                        r = ls_sd_next_element(&it, &id);
                        if (r > 0) {
                                for (size_t j = 0; j < nids && dup_off == SIZE_MAX; j++)
                                        if (ids[j].len == id.len &&
                                            memcmp(p + ids[j].off, p + id.off, id.len) == 0)
                                                dup_off = id.off;
                                if (nids < SD_DUP_CHECK)
                                        ids[nids++] = id;
                                while ((r = ls_sd_next_param(&it, NULL, NULL)) > 0)
                                        ;
                        } else if (r == 0) {
                                break;
                        }
                        if (r < 0) {
                                sd_problems(c, &it, dup_off);
                                if (start > pos)
                                        m->sd = span(pos, start - pos);
                                stop(c, it.error_offset, it.error, start);
                                return;
                        }
                }
                sd_problems(c, &it, dup_off);
                e = it.pos;
                m->sd = span(pos, e - pos);
        } else {
                stop(c, pos, "expecting STRUCTURED-DATA", pos);
                return;
        }
        if (e >= n)
                return;
        if (p[e] != ' ') {
                stop(c, e, "expecting SP after STRUCTURED-DATA", e);
                return;
        }
        pos = e + 1;
        if (n - pos >= 3 && p[pos] == 0xef && p[pos + 1] == 0xbb && p[pos + 2] == 0xbf) {
                m->flags |= LS_SYSLOG_BOM;
                pos += 3;
                e = syslog_utf8_invalid_at(p, pos, n);
                if (e < n)
                        problem(c, e, "MSG after a BOM is not UTF-8");
        }
        m->msg = span(pos, n - pos);
}

