/* SPDX-License-Identifier: Apache-2.0 */
/* rfc3339.c: RFC 3339 times in and out (rfc3339.h) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rfc3339.h"
#include "util.h"

/* Exactly `n` decimal digits at *p (advanced past them). */
static int digits(const char **p, int n, int *ret)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if ((*p)[i] < '0' || (*p)[i] > '9')
                        return -EINVAL;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

int ls_time_parse(const char *s, uint64_t *ret)
{
        static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0, nd = 0;
        uint64_t frac = 0;
        struct tm tm = {};
        const char *p = s;
        time_t t;

        if (s[0] == '@') {
                char *end;
                unsigned long long v;
                if (s[1] < '0' || s[1] > '9')
                        return -EINVAL;
                errno = 0;
                v = strtoull(s + 1, &end, 10);
                if (errno || *end)
                        return -EINVAL;
                *ret = v;
                return 0;
        }
        if (digits(&p, 4, &year) < 0 || *p++ != '-' || digits(&p, 2, &mon) < 0 || *p++ != '-' ||
            digits(&p, 2, &day) < 0 || (*p != 'T' && *p != 't' && *p != ' ') ||
            (p++, digits(&p, 2, &hour)) < 0 || *p++ != ':' || digits(&p, 2, &min) < 0 ||
            *p++ != ':' || digits(&p, 2, &sec) < 0)
                return -EINVAL;
        if (*p == '.') {
                p++;
                while (*p >= '0' && *p <= '9') {
                        if (++nd > 9)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t) (*p++ - '0');
                }
                if (nd == 0)
                        return -EINVAL;
                for (int i = nd; i < 9; i++)
                        frac *= 10;
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p++ == '+' ? 1 : -1;
                if (digits(&p, 2, &oh) < 0 || *p++ != ':' || digits(&p, 2, &om) < 0 || oh > 23 ||
                    om > 59)
                        return -EINVAL;
        } else {
                return -EINVAL;
        }
        if (*p || year < 1970 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
            (mon == 2 && day == 29 && (year % 4 || (year % 100 == 0 && year % 400))) ||
            hour > 23 || min > 59 || sec > 60)
                return -EINVAL;
        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = MIN(sec, 59);
        t = timegm(&tm);
        t -= (time_t) sign * (oh * 3600 + om * 60);
        if (t < 0 || (uint64_t) t > (UINT64_MAX - frac) / 1000000000u)
                return -EINVAL;
        *ret = (uint64_t) t * 1000000000u + frac;
        return 0;
}

void ls_time_format(char *out, size_t cap, uint64_t ns)
{
        time_t sec = (time_t) (ns / 1000000000u);
        struct tm tm;

        if (ns == UINT64_MAX) {
                snprintf(out, cap, "-");
                return;
        }
        if (!gmtime_r(&sec, &tm)) {
                snprintf(out, cap, "@%" PRIu64, ns);
                return;
        }
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned) (ns % 1000000000u));
}
