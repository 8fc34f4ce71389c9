/* SPDX-License-Identifier: Apache-2.0 */
/* parse-time.c: syslog timestamps: RFC 5424, ISO 8601 and BSD forms (see parse.h) */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parse-internal.h"

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
bool syslog_strict_rfc5424_ts(const uint8_t *p, size_t i, size_t end, Wall *w, size_t *bad,
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
size_t syslog_scan_iso(const uint8_t *p, size_t i, size_t end, Wall *w)
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
size_t syslog_scan_bsd(const uint8_t *p, size_t i, size_t end, Wall *w)
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
void syslog_set_time(Ctx *c, Wall *w, size_t at)
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
        if (!syslog_strict_rfc5424_ts(p, 0, n, &w, &bad, &why)) {
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

