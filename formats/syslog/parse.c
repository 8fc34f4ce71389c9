/* SPDX-License-Identifier: Apache-2.0 */
/* parse.c: RFC 5424 / RFC 3164 syslog parser and STRUCTURED-DATA iterator (see parse.h) */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parse.h"

/* RFC 5424 §6: field length limits. */
#define HOSTNAME_MAX 255
#define APP_NAME_MAX 48
#define PROCID_MAX 128
#define MSGID_MAX 32
#define SD_NAME_MAX 32
#define SD_DUP_CHECK 64               /* SD-IDs checked for duplicates */
#define NOW_LIMIT ((int64_t) 1 << 40) /* |opts->now| is clamped to this (~34,000 years) */
/* RFC 3164 variants: longest TAG and "[pid]" taken as such. */
#define TAG_MAX 255
#define PID_MAX 128

typedef struct Ctx {
        const uint8_t *p;
        size_t n; /* without trailing LF/CR/NUL */
        LsSyslogMsg *m;
        int64_t now;
        int32_t local_offset;
} Ctx;

/* A broken-down timestamp as read, before zone and year are settled. */
typedef struct Wall {
        int64_t year; /* -1: not in the message */
        int mon, day, hour, min, sec;
        uint32_t nsec;
        int32_t offset;
        bool has_offset;
} Wall;

static LsSpan span(size_t off, size_t len)
{
        return (LsSpan){.off = (uint32_t) off, .len = (uint32_t) len};
}

static bool is_digit(uint8_t b)
{
        return b >= '0' && b <= '9';
}

static bool is_alpha(uint8_t b)
{
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

static bool is_hex(uint8_t b)
{
        return is_digit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
}

/* RFC 5424 PRINTUSASCII. */
static bool is_printusascii(uint8_t b)
{
        return b >= 33 && b <= 126;
}

/* RFC 5424 SD-NAME character: PRINTUSASCII except '=', SP, ']', '"'. */
static bool is_sd_name_char(uint8_t b)
{
        return is_printusascii(b) && b != '=' && b != ']' && b != '"';
}

/* The first problem wins: callers report in input order. */
static void problem(Ctx *c, size_t off, const char *why)
{
        if (c->m->status == LS_SYSLOG_OK) {
                c->m->status = LS_SYSLOG_INVALID;
                c->m->error_offset = (uint32_t) off;
                c->m->error = why;
        }
}

/* Structure lost: keep what was parsed, the rest from msg_start is the text. */
static void stop(Ctx *c, size_t off, const char *why, size_t msg_start)
{
        problem(c, off, why);
        c->m->msg = span(msg_start, c->n - msg_start);
}

/* Offset of the first byte that is not part of valid UTF-8 (RFC 3629), or end. */
static size_t utf8_invalid_at(const uint8_t *p, size_t i, size_t end)
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

/* ---- time ---------------------------------------------------------------------------- */

static bool is_leap(int64_t y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
        static const uint8_t d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        *m = (int) (mp < 10 ? mp + 3 : mp - 9);
        *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* -EINVAL for an impossible date or time, -ERANGE outside int64 nanoseconds. */
static int wall_to_ns(const Wall *w, int32_t offset, int64_t *ret)
{
        if (w->year < 0 || w->year > 9999 || w->mon < 1 || w->mon > 12 || w->day < 1 ||
            w->day > days_in_month(w->year, w->mon) || w->hour > 23 || w->min > 59 || w->sec > 60)
                return -EINVAL;
        int64_t secs = days_from_civil(w->year, w->mon, w->day) * 86400 + w->hour * 3600 +
                       w->min * 60 + w->sec - offset;
        /* INT64_MAX ns is 9223372036.854775807 s. */
        if (secs < -9223372035 || secs > 9223372035)
                return -ERANGE;
        *ret = secs * 1000000000 + (int64_t) w->nsec;
        return 0;
}

static bool digits_at(const uint8_t *p, size_t i, size_t end, int k, int *ret)
{
        int v = 0;
        if (i > end || end - i < (size_t) k)
                return false;
        for (int j = 0; j < k; j++) {
                if (!is_digit(p[i + j]))
                        return false;
                v = v * 10 + (p[i + j] - '0');
        }
        *ret = v;
        return true;
}

/* Fraction digits at p[i..): nanoseconds from the first nine, all digits consumed. */
static size_t scan_frac(const uint8_t *p, size_t i, size_t end, uint32_t *nsec)
{
        uint32_t v = 0;
        int k = 0;
        while (i < end && is_digit(p[i])) {
                if (k < 9) {
                        v = v * 10 + (uint32_t) (p[i] - '0');
                        k++;
                }
                i++;
        }
        for (; k < 9; k++)
                v *= 10;
        *nsec = v;
        return i;
}

/*
 * Strict RFC 5424 TIMESTAMP occupying exactly p[i..end). True with *w; false with *bad
 * and *why at the first deviation.
 */
static bool strict_rfc5424_ts(const uint8_t *p, size_t i, size_t end, Wall *w, size_t *bad,
                              const char **why)
{
        int y = 0;

        *w = (Wall){0};
#define FAIL(at, reason)                                                                           \
        do {                                                                                       \
                *bad = (at);                                                                       \
                *why = (reason);                                                                   \
                return false;                                                                      \
        } while (0)
#define NEED_DIGITS(k, out)                                                                        \
        do {                                                                                       \
                for (int j_ = 0; j_ < (k); j_++)                                                   \
                        if (i + (size_t) j_ >= end || !is_digit(p[i + (size_t) j_]))               \
                                FAIL(i + (size_t) j_, "malformed TIMESTAMP");                      \
                (void) digits_at(p, i, end, (k), &(out));                                          \
        } while (0)
#define NEED_CHAR(ch, reason)                                                                      \
        do {                                                                                       \
                if (i >= end || p[i] != (ch))                                                      \
                        FAIL(i, reason);                                                           \
                i++;                                                                               \
        } while (0)

        NEED_DIGITS(4, y);
        w->year = y;
        i += 4;
        NEED_CHAR('-', "malformed TIMESTAMP");
        NEED_DIGITS(2, w->mon);
        if (w->mon < 1 || w->mon > 12)
                FAIL(i, "TIMESTAMP month out of range");
        i += 2;
        NEED_CHAR('-', "malformed TIMESTAMP");
        NEED_DIGITS(2, w->day);
        if (w->day < 1 || w->day > days_in_month(w->year, w->mon))
                FAIL(i, "TIMESTAMP day out of range");
        i += 2;
        NEED_CHAR('T', "TIMESTAMP needs an upper-case 'T'");
        NEED_DIGITS(2, w->hour);
        if (w->hour > 23)
                FAIL(i, "TIMESTAMP hour out of range");
        i += 2;
        NEED_CHAR(':', "malformed TIMESTAMP");
        NEED_DIGITS(2, w->min);
        if (w->min > 59)
                FAIL(i, "TIMESTAMP minute out of range");
        i += 2;
        NEED_CHAR(':', "malformed TIMESTAMP");
        NEED_DIGITS(2, w->sec);
        if (w->sec > 59)
                FAIL(i, "TIMESTAMP second out of range");
        i += 2;
        if (i < end && p[i] == '.') {
                size_t f = ++i, e = scan_frac(p, i, end, &w->nsec);
                if (e == f)
                        FAIL(i, "malformed TIMESTAMP");
                if (e - f > 6)
                        FAIL(f + 6, "TIME-SECFRAC longer than 6 digits");
                i = e;
        }
        if (i >= end)
                FAIL(i, "TIMESTAMP without TIME-OFFSET");
        if (p[i] == 'Z') {
                i++;
        } else if (p[i] == '+' || p[i] == '-') {
                int sign = p[i] == '-' ? -1 : 1, oh = 0, om = 0;
                i++;
                NEED_DIGITS(2, oh);
                if (oh > 23)
                        FAIL(i, "TIME-OFFSET hour out of range");
                i += 2;
                NEED_CHAR(':', "malformed TIME-OFFSET");
                NEED_DIGITS(2, om);
                if (om > 59)
                        FAIL(i, "TIME-OFFSET minute out of range");
                i += 2;
                w->offset = sign * (oh * 3600 + om * 60);
        } else {
                FAIL(i,
                     p[i] == 'z' ? "TIMESTAMP needs an upper-case 'Z'" : "malformed TIME-OFFSET");
        }
        w->has_offset = true;
        if (i != end)
                FAIL(i, "junk after TIMESTAMP");
        return true;
#undef NEED_CHAR
#undef NEED_DIGITS
#undef FAIL
}

/*
 * Lenient ISO 8601 at p[i..): YYYY-MM-DD (T|t|SP) hh:mm[:ss][(.|,)frac][Z|z|+-hh[:]mm|+-hh].
 * End offset, or 0 when there is none. Values are range-checked later (wall_to_ns).
 */
static size_t scan_iso(const uint8_t *p, size_t i, size_t end, Wall *w)
{
        int y;

        *w = (Wall){0};
        if (!digits_at(p, i, end, 4, &y) || end - i < 16 || p[i + 4] != '-' ||
            !digits_at(p, i + 5, end, 2, &w->mon) || p[i + 7] != '-' ||
            !digits_at(p, i + 8, end, 2, &w->day) ||
            (p[i + 10] != 'T' && p[i + 10] != 't' && p[i + 10] != ' ') ||
            !digits_at(p, i + 11, end, 2, &w->hour) || p[i + 13] != ':' ||
            !digits_at(p, i + 14, end, 2, &w->min))
                return 0;
        w->year = y;
        i += 16;
        if (i < end && p[i] == ':') {
                if (!digits_at(p, i + 1, end, 2, &w->sec))
                        return 0;
                i += 3;
        }
        if (i < end && (p[i] == '.' || p[i] == ',') && i + 1 < end && is_digit(p[i + 1]))
                i = scan_frac(p, i + 1, end, &w->nsec);
        if (i < end && (p[i] == 'Z' || p[i] == 'z')) {
                w->has_offset = true;
                i++;
        } else if (i < end && (p[i] == '+' || p[i] == '-')) {
                int sign = p[i] == '-' ? -1 : 1, oh, om = 0;
                size_t j = i + 1;
                if (!digits_at(p, j, end, 2, &oh))
                        return i; /* not an offset: the timestamp ends before it */
                j += 2;
                if (j < end && p[j] == ':' && digits_at(p, j + 1, end, 2, &om))
                        j += 3;
                else if (digits_at(p, j, end, 2, &om))
                        j += 2;
                if (oh > 23 || om > 59)
                        return 0;
                w->offset = sign * (oh * 3600 + om * 60);
                w->has_offset = true;
                i = j;
        }
        return i;
}

/* Zone names recognised after a BSD time; only the UTC ones carry a known offset. */
static int zone_name(const uint8_t *p, size_t i, size_t end, size_t *len, bool *utc)
{
        static const char *const names[] = {
                "UTC",  "GMT",  "UT",   "EST",  "EDT",  "CST",  "CDT",  "MST",  "MDT",
                "PST",  "PDT",  "AKST", "AKDT", "HST",  "AST",  "ADT",  "NST",  "NDT",
                "CET",  "CEST", "MET",  "MEST", "EET",  "EEST", "WET",  "WEST", "BST",
                "IST",  "MSK",  "JST",  "KST",  "HKT",  "SGT",  "AEST", "AEDT", "ACST",
                "ACDT", "AWST", "NZST", "NZDT", "SAST", "WIB",  "PHT",  "BRT",  "ART",
        };
        size_t k = 0;
        while (i + k < end && p[i + k] >= 'A' && p[i + k] <= 'Z' && k < 5)
                k++;
        if (k < 2 || (i + k < end && is_alpha(p[i + k])))
                return 0;
        for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++)
                if (strlen(names[j]) == k && memcmp(names[j], p + i, k) == 0) {
                        *len = k;
                        *utc = j < 3;
                        return 1;
                }
        return 0;
}

static int month_at(const uint8_t *p, size_t i, size_t end)
{
        static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
        char m[3];
        if (i > end || end - i < 3)
                return 0;
        for (int j = 0; j < 3; j++)
                m[j] = (char) (p[i + j] | 0x20);
        for (int j = 0; j < 12; j++)
                if (memcmp(months + 3 * j, m, 3) == 0)
                        return j + 1;
        return 0;
}

/*
 * BSD timestamp at p[i..): "Mmm dd [yyyy ]hh:mm:ss[.frac]" then optionally " yyyy",
 * " TZ:" or " TZ yyyy" (RFC 3164, Cisco IOS/PIX/ASA, Linksys). End offset or 0.
 */
static size_t scan_bsd(const uint8_t *p, size_t i, size_t end, Wall *w)
{
        int y;

        *w = (Wall){.year = -1};
        w->mon = month_at(p, i, end);
        if (!w->mon)
                return 0;
        i += 3;
        if (i >= end || p[i] != ' ')
                return 0;
        while (i < end && p[i] == ' ')
                i++;
        if (i >= end || !is_digit(p[i]))
                return 0;
        w->day = p[i++] - '0';
        if (i < end && is_digit(p[i]))
                w->day = w->day * 10 + (p[i++] - '0');
        if (i >= end || p[i] != ' ')
                return 0;
        while (i < end && p[i] == ' ')
                i++;
        /* PIX/ASA: year before the time. */
        if (digits_at(p, i, end, 4, &y) && i + 4 < end && p[i + 4] == ' ') {
                w->year = y;
                i += 5;
        }
        if (!digits_at(p, i, end, 2, &w->hour) || i + 2 >= end || p[i + 2] != ':' ||
            !digits_at(p, i + 3, end, 2, &w->min) || i + 5 >= end || p[i + 5] != ':' ||
            !digits_at(p, i + 6, end, 2, &w->sec))
                return 0;
        i += 8;
        if (i < end && p[i] == '.')
                i = scan_frac(p, i + 1, end, &w->nsec);
        if (i < end && p[i] == ' ') {
                size_t zl;
                bool utc;
                if (w->year < 0 && digits_at(p, i + 1, end, 4, &y) &&
                    (i + 5 == end || p[i + 5] == ' ')) {
                        /* Linksys: year after the time. */
                        w->year = y;
                        i += 5;
                } else if (zone_name(p, i + 1, end, &zl, &utc)) {
                        size_t j = i + 1 + zl;
                        if (j < end && p[j] == ':') {
                                /* Cisco "18:48:50.483 UTC:" */
                                i = j;
                        } else if (j < end && p[j] == ' ' && w->year < 0 &&
                                   digits_at(p, j + 1, end, 4, &y) &&
                                   (j + 5 == end || p[j + 5] == ' ')) {
                                /* RFC 3164 §5.4 example 3: "05:34:00 CST 1987" */
                                w->year = y;
                                i = j + 5;
                        } else {
                                utc = false;
                                zl = 0;
                        }
                        if (zl > 0 && utc) {
                                w->has_offset = true;
                                w->offset = 0;
                        }
                }
        }
        return i;
}

/* Settles zone and year of w and stores the time; at is where the timestamp began. */
static void set_time(Ctx *c, Wall *w, size_t at)
{
        LsSyslogMsg *m = c->m;
        int32_t off = w->has_offset ? w->offset : c->local_offset;
        int64_t ns;
        int r;

        if (w->year < 0) {
                /* syslog-ng's rule: December seen in January is last year's, January
                 * seen in December is next year's. */
                int64_t ny;
                int nm;
                civil_from_days(floor_div(c->now + c->local_offset, 86400), &ny, &nm);
                if (w->mon == 12 && nm == 1)
                        ny--;
                else if (w->mon == 1 && nm == 12)
                        ny++;
                w->year = ny;
                m->flags |= LS_SYSLOG_YEAR_GUESSED;
        }
        r = wall_to_ns(w, off, &ns);
        if (r == -EINVAL)
                problem(c, at, "impossible date or time in TIMESTAMP");
        if (r < 0)
                return;
        m->time_ns = ns;
        m->tz_offset = off;
        m->flags |= LS_SYSLOG_HAVE_TIME | (w->has_offset ? LS_SYSLOG_HAVE_TZ : 0);
}

int ls_syslog_parse_timestamp(const uint8_t *p, size_t n, int64_t *ret_ns, int32_t *ret_offset,
                              size_t *err_off)
{
        Wall w;
        size_t bad;
        const char *why;
        int64_t ns;
        int r;

        if (!p || !ret_ns || !ret_offset)
                return -EINVAL;
        if (!strict_rfc5424_ts(p, 0, n, &w, &bad, &why)) {
                if (err_off)
                        *err_off = bad;
                return -EBADMSG;
        }
        r = wall_to_ns(&w, w.offset, &ns);
        if (r < 0)
                return r == -ERANGE ? -ERANGE : -EBADMSG;
        *ret_ns = ns;
        *ret_offset = w.offset;
        return 0;
}

/* ---- STRUCTURED-DATA ------------------------------------------------------------------ */

enum {
        IT_IN_ELEMENT = 1 << 0,
        IT_OPEN = 1 << 1, /* parser use: the data ends at the first byte after an element
                           * that is not '[' */
};

static int it_fail(LsSdIter *it, size_t off, const char *why)
{
        it->error_offset = (uint32_t) off;
        it->error = why;
        it->done = 1;
        return -EBADMSG;
}

static void it_soft(LsSdIter *it, size_t off, const char *why)
{
        if (!it->soft_error) {
                it->soft_offset = (uint32_t) off;
                it->soft_error = why;
        }
}

static size_t sd_name_end(const uint8_t *p, size_t i, size_t end)
{
        while (i < end && is_sd_name_char(p[i]))
                i++;
        return i;
}

void ls_sd_iter_init(LsSdIter *it, const uint8_t *p, size_t n, LsSpan sd)
{
        *it = (LsSdIter){.p = p};
        if (!p || sd.off > n || sd.len > n - sd.off) {
                (void) it_fail(it, n, "STRUCTURED-DATA span outside the input");
                return;
        }
        it->pos = sd.off;
        it->end = (size_t) sd.off + sd.len;
        if (sd.len == 1 && p[sd.off] == '-')
                it->pos = it->end;
}

static void sd_iter_open(LsSdIter *it, const uint8_t *p, size_t n, size_t pos)
{
        *it = (LsSdIter){.p = p, .pos = pos, .end = n, .state = IT_OPEN};
}

int ls_sd_next_element(LsSdIter *it, LsSpan *id)
{
        const uint8_t *p = it->p;
        size_t i, e;
        int r;

        if (it->error)
                return -EBADMSG;
        while (it->state & IT_IN_ELEMENT) {
                LsSpan a, b;
                r = ls_sd_next_param(it, &a, &b);
                if (r < 0)
                        return r;
        }
        if (it->done)
                return 0;
        i = it->pos;
        if (i >= it->end || ((it->state & IT_OPEN) && p[i] != '[')) {
                it->done = 1;
                return 0;
        }
        if (p[i] != '[')
                return it_fail(it, i, "expecting '[' to open an SD-ELEMENT");
        i++;
        e = sd_name_end(p, i, it->end);
        if (e == i)
                return it_fail(it, i, "expecting an SD-ID");
        if (e - i > SD_NAME_MAX)
                it_soft(it, i + SD_NAME_MAX, "SD-ID longer than 32");
        if (id)
                *id = span(i, e - i);
        it->pos = e;
        it->state |= IT_IN_ELEMENT;
        return 1;
}

int ls_sd_next_param(LsSdIter *it, LsSpan *name, LsSpan *value)
{
        const uint8_t *p = it->p;
        size_t i, e, v;

        if (it->error)
                return -EBADMSG;
        if (!(it->state & IT_IN_ELEMENT))
                return 0;
        i = it->pos;
        if (i >= it->end)
                return it_fail(it, i, "unterminated SD-ELEMENT");
        if (p[i] == ']') {
                it->pos = i + 1;
                it->state &= ~IT_IN_ELEMENT;
                return 0;
        }
        if (p[i] != ' ')
                return it_fail(it, i, "expecting SP or ']' in SD-ELEMENT");
        i++;
        e = sd_name_end(p, i, it->end);
        if (e == i)
                return it_fail(it, i, "expecting a PARAM-NAME");
        if (e - i > SD_NAME_MAX)
                it_soft(it, i + SD_NAME_MAX, "PARAM-NAME longer than 32");
        if (name)
                *name = span(i, e - i);
        i = e;
        if (i >= it->end || p[i] != '=')
                return it_fail(it, i, "expecting '=' after PARAM-NAME");
        i++;
        if (i >= it->end || p[i] != '"')
                return it_fail(it, i, "expecting '\"' before PARAM-VALUE");
        v = ++i;
        for (;;) {
                if (i >= it->end)
                        return it_fail(it, i, "unterminated PARAM-VALUE");
                if (p[i] == '"')
                        break;
                if (p[i] == ']')
                        return it_fail(it, i, "unescaped ']' in PARAM-VALUE");
                if (p[i] == '\\' && i + 1 < it->end &&
                    (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == ']'))
                        i += 2;
                else
                        i++;
        }
        e = utf8_invalid_at(p, v, i);
        if (e < i)
                it_soft(it, e, "PARAM-VALUE is not UTF-8");
        if (value)
                *value = span(v, i - v);
        it->pos = i + 1;
        return 1;
}

int ls_sd_unescape(const uint8_t *p, size_t n, LsSpan value, uint8_t *buf, size_t cap,
                   size_t *ret_len)
{
        size_t o = 0, end;

        if (!p || !ret_len || value.off > n || value.len > n - value.off || (!buf && cap))
                return -EINVAL;
        end = (size_t) value.off + value.len;
        for (size_t i = value.off; i < end; i++) {
                uint8_t b = p[i];
                if (b == '\\' && i + 1 < end &&
                    (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == ']'))
                        b = p[++i];
                if (o < cap)
                        buf[o] = b;
                o++;
        }
        *ret_len = o;
        return o > cap ? -ENOBUFS : 0;
}

int ls_sd_validate(const uint8_t *p, size_t n, LsSpan sd, uint32_t *err_off, const char **why)
{
        LsSdIter it = {0};
        int r;

        if (sd.len == 0) {
                r = -EBADMSG;
                it.error_offset = sd.off;
                it.error = "empty STRUCTURED-DATA";
                goto out;
        }
        ls_sd_iter_init(&it, p, n, sd);
        while ((r = ls_sd_next_element(&it, NULL)) > 0)
                while ((r = ls_sd_next_param(&it, NULL, NULL)) > 0)
                        ;
        if (r == 0 && it.soft_error) {
                r = -EBADMSG;
                it.error_offset = it.soft_offset;
                it.error = it.soft_error;
        }
out:
        if (r < 0) {
                if (err_off)
                        *err_off = it.error_offset;
                if (why)
                        *why = it.error;
        }
        return r < 0 ? r : 0;
}

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

        if (strict_rfc5424_ts(c->p, i, e, &w, &bad, &why)) {
                set_time(c, &w, i);
                return;
        }
        problem(c, bad, why);
        /* Still index what a lenient reading finds ("t", 9 digits, no zone). */
        if (scan_iso(c->p, i, e, &w) > 0)
                set_time(c, &w, i);
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

static void parse_5424(Ctx *c, size_t pos)
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
                sd_iter_open(&it, p, n, pos);
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
                e = utf8_invalid_at(p, pos, n);
                if (e < n)
                        problem(c, e, "MSG after a BOM is not UTF-8");
        }
        m->msg = span(pos, n - pos);
}

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
        e = scan_iso(p, i, n, w);
        if (!e)
                e = scan_bsd(p, i, n, w);
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
static bool parse_3164(Ctx *c, size_t pos, bool have_pri)
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
                set_time(c, &w, ts_at);
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
                        parse_5424(&c, e);
                else
                        (void) parse_3164(&c, e, true);
                return 0;
        }

        /* No PRI. "1 2020-05-22T..." is RFC 5424 without its PRI. */
        if (n - pos >= 3 && p[pos] == '1' && p[pos + 1] == ' ' &&
            (p[pos + 2] == '-' || is_digit(p[pos + 2]))) {
                problem(&c, pos, "missing PRI");
                parse_5424(&c, pos);
                return 0;
        }
        {
                LsSyslogMsg fresh = *out;
                problem(&c, pos, "missing PRI");
                if (!parse_3164(&c, pos, false)) {
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
