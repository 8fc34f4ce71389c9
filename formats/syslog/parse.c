/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parse.c: RFC 5424 / RFC 3164 syslog parser and STRUCTURED-DATA iterator (see parse.h): the
 * dispatch. The formats are in parse-5424.c, parse-3164.c, parse-sd.c and parse-time.c
 * (parse-internal.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parse-internal.h"

/* Offset of the first byte that is not part of valid UTF-8 (RFC 3629), or end. */
size_t syslog_utf8_invalid_at(const uint8_t *p, size_t i, size_t end)
{
        while (i < end) {
                uint8_t b = p[i];
                uint32_t cp, min;
                size_t k;

                if (b < 0x80) {
                        uint64_t w;
                        i++;
                        /* ASCII runs, eight bytes at a time. */
                        while (end - i >= 8) {
                                memcpy(&w, p + i, 8);
                                if (w & 0x8080808080808080ull)
                                        break;
                                i += 8;
                        }
                        continue;
                }
                if (b >= 0xc2 && b <= 0xdf) {
                        k = 1;
                        cp = b & 0x1f;
                        min = 0x80;
                } else if ((b & 0xf0) == 0xe0) {
                        k = 2;
                        cp = b & 0x0f;
                        min = 0x800;
                } else if (b >= 0xf0 && b <= 0xf4) {
                        k = 3;
                        cp = b & 0x07;
                        min = 0x10000;
                } else {
                        return i;
                }
                if (end - i <= k)
                        return i;
                for (size_t j = 1; j <= k; j++) {
                        if ((p[i + j] & 0xc0) != 0x80)
                                return i;
                        cp = (cp << 6) | (p[i + j] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return i;
                i += k + 1;
        }
        return end;
}
/* ---- dispatch -------------------------------------------------------------------------- */

const char *ls_syslog_format_name(LsSyslogFormat f)
{
        switch (f) {
        case LS_SYSLOG_RFC5424:
                return "rfc5424";
        case LS_SYSLOG_RFC3164:
                return "rfc3164";
        default:
                return "unparsed";
        }
}

/* "<" 1*3DIGIT ">" at p[i]: 0 with *pri and *end; -EBADMSG with *bad. */
static int scan_pri(const uint8_t *p, size_t i, size_t n, int *pri, size_t *end, size_t *bad,
                    bool *lead_zero)
{
        size_t d = i + 1, e = d;
        int v = 0;

        while (e < n && is_digit(p[e]) && e - d < 3)
                v = v * 10 + (p[e++] - '0');
        if (e == d || e >= n || p[e] != '>') {
                *bad = e;
                return -EBADMSG;
        }
        *pri = v;
        *end = e + 1;
        *lead_zero = e - d > 1 && p[d] == '0';
        return 0;
}

/* NONZERO-DIGIT 0*2DIGIT followed by SP or the end. */
static bool version_follows(const uint8_t *p, size_t i, size_t n)
{
        size_t e = i;
        if (i >= n || p[i] < '1' || p[i] > '9')
                return false;
        while (e < n && is_digit(p[e]) && e - i < 4)
                e++;
        return e - i <= 3 && (e == n || p[e] == ' ');
}

/* "LEN SP" + exactly LEN more bytes: an RFC 6587 frame delivered as a message. */
static bool looks_framed(const uint8_t *p, size_t n)
{
        uint64_t v = 0;
        size_t i = 0;
        if (n == 0 || p[0] < '1' || p[0] > '9')
                return false;
        while (i < n && is_digit(p[i]) && i < 10)
                v = v * 10 + (uint64_t) (p[i++] - '0');
        return i < n && p[i] == ' ' && v == n - i - 1;
}

int ls_syslog_parse(const uint8_t *p, size_t n, const LsSyslogParseOpts *opts, LsSyslogMsg *out)
{
        Ctx c;
        size_t pos = 0, q;

        if (!out || (!p && n))
                return -EINVAL;
        if (n > UINT32_MAX)
                return -E2BIG;
        *out = (LsSyslogMsg){
                .format = LS_SYSLOG_UNPARSED, .pri = -1, .facility = -1, .severity = -1};
        if (!p)
                p = (const uint8_t *) "";
        while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == '\0'))
                n--;
        c = (Ctx){.p = p,
                  .n = n,
                  .m = out,
                  .now = opts ? opts->now : 0,
                  .local_offset = opts ? opts->local_offset : 0};
        /* Keep now + local_offset far from overflow whatever the caller passes. */
        if (c.now > NOW_LIMIT || c.now < -NOW_LIMIT)
                c.now = c.now > 0 ? NOW_LIMIT : -NOW_LIMIT;
        if (looks_framed(p, n))
                out->flags |= LS_SYSLOG_FRAMED;

        q = 0;
        while (q < n && (p[q] == ' ' || p[q] == '\t' || p[q] == '\r' || p[q] == '\n'))
                q++;
        if (q > 0 && q < n && p[q] == '<') {
                problem(&c, 0, "whitespace before PRI");
                pos = q;
        }

        if (pos < n && p[pos] == '<') {
                int pri;
                size_t e, bad;
                bool lead_zero;
                if (scan_pri(p, pos, n, &pri, &e, &bad, &lead_zero) < 0) {
                        problem(&c, bad, "malformed PRI");
                        out->msg = span(0, n);
                        return 0;
                }
                if (lead_zero)
                        problem(&c, pos + 1, "leading zero in PRI");
                if (pri > 191) {
                        problem(&c, pos + 1, "PRI above 191");
                } else {
                        out->pri = (int16_t) pri;
                        out->facility = (int8_t) (pri >> 3);
                        out->severity = (int8_t) (pri & 7);
                }
                if (version_follows(p, e, n))
                        syslog_parse_5424(&c, e);
                else
                        (void) syslog_parse_3164(&c, e, true);
                return 0;
        }

        /* No PRI. "1 2020-05-22T..." is RFC 5424 without its PRI. */
        if (n - pos >= 3 && p[pos] == '1' && p[pos + 1] == ' ' &&
            (p[pos + 2] == '-' || is_digit(p[pos + 2]))) {
                problem(&c, pos, "missing PRI");
                syslog_parse_5424(&c, pos);
                return 0;
        }
        {
                LsSyslogMsg fresh = *out;
                problem(&c, pos, "missing PRI");
                if (!syslog_parse_3164(&c, pos, false)) {
                        *out = fresh;
                        problem(&c, pos, "no PRI and no timestamp: not syslog");
                        out->msg = span(0, n);
                }
        }
        return 0;
}

int ls_syslog_sequence_id(const uint8_t *p, size_t n, const LsSyslogMsg *m, uint32_t *ret)
{
        LsSpan id, name, value, seq = {};
        unsigned metas = 0, seqs = 0;
        uint64_t v = 0;
        LsSdIter it;
        int r;

        if (m->format != LS_SYSLOG_RFC5424 || m->sd.len == 0)
                return 0;
        ls_sd_iter_init(&it, p, n, m->sd);
        while ((r = ls_sd_next_element(&it, &id)) > 0) {
                if (id.len != 4 || memcmp(p + id.off, "meta", 4) != 0)
                        continue;
                metas++;
                while ((r = ls_sd_next_param(&it, &name, &value)) > 0)
                        if (name.len == 10 && memcmp(p + name.off, "sequenceId", 10) == 0)
                                seq = value, seqs++;
                if (r < 0)
                        return -EBADMSG;
        }
        if (r < 0)
                return -EBADMSG;
        if (metas == 0 || seqs == 0)
                return metas > 1 ? -EBADMSG : 0;
        if (metas != 1 || seqs != 1 || seq.len == 0 || seq.len > 10 || p[seq.off] == '0')
                return -EBADMSG;
        for (uint32_t i = 0; i < seq.len; i++) {
                uint8_t c = p[seq.off + i];
                if (c < '0' || c > '9')
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (c - '0');
        }
        if (v > LS_SYSLOG_SEQUENCE_MAX)
                return -EBADMSG;
        *ret = (uint32_t) v;
        return 1;
}
