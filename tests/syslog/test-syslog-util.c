/* SPDX-License-Identifier: Apache-2.0 */
/* test-syslog, the parsing helpers (the suite is in test-syslog.c) */
#include "test-syslog.h"

LsSyslogMsg parse_opts(const char *text, const LsSyslogParseOpts *o)
{
        LsSyslogMsg m;
        size_t n = strlen(text);
        /* Exact-size copy without a terminating NUL: the parser must not look past n. */
        uint8_t *p = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(p);
        memcpy(p, text, n);
        ck_assert_int_eq(ls_syslog_parse(p, n, o, &m), 0);
        free(p);
        return m;
}

LsSyslogMsg parse(const char *text)
{
        return parse_opts(text, NULL);
}

int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
        struct tm tm = {.tm_year = y - 1900,
                        .tm_mon = mo - 1,
                        .tm_mday = d,
                        .tm_hour = h,
                        .tm_min = mi,
                        .tm_sec = s};
        return (int64_t) timegm(&tm);
}
