/* SPDX-License-Identifier: Apache-2.0 */
/* columns.c: varints and RFC 5424 time stamps of the column payload layout (SPEC §6.4) */
#include <errno.h>
#include <string.h>

#include "columns.h"

int ls_varint_get(const uint8_t *p, size_t n, size_t *pos, uint64_t *ret)
{
        uint64_t v = 0;
        size_t i = *pos;

        for (unsigned shift = 0;; shift += 7) {
                uint8_t b;

                if (i >= n)
                        return -ENODATA;
                b = p[i++];
                if (shift == 63 && b > 1)
                        return -EBADMSG; /* more than 64 bits */
                v |= (uint64_t) (b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        if (b == 0 && shift > 0)
                                return -EBADMSG; /* not the shortest encoding */
                        break;
                }
        }
        *pos = i;
        *ret = v;
        return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned) (y - era * 400);
        unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned) (z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int64_t) yoe + era * 400 + (*m <= 2);
}

static const int64_t pow10s[] = {1,      10,      100,      1000,      10000,
                                 100000, 1000000, 10000000, 100000000, 1000000000};

size_t ls_stamp_prefix(const uint8_t *b, size_t n)
{
        size_t i = 1;

        if (n < 5 || b[0] != '<')
                return 0;
        while (i < n && i <= 3 && b[i] >= '0' && b[i] <= '9')
                i++;
        if (i == 1 || i + 3 > n || b[i] != '>' || b[i + 1] != '1' || b[i + 2] != ' ')
                return 0;
        return i + 3;
}

static int digits(const uint8_t *p, unsigned n, unsigned *ret)
{
        unsigned v = 0;

        for (unsigned i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -1;
                v = v * 10 + (unsigned) (p[i] - '0');
        }
        *ret = v;
        return 0;
}

size_t ls_stamp_parse(const uint8_t *p, size_t n, LsStamp *ret)
{
        unsigned y, mo, d, h, mi, s, frac = 0, nd = 0, zone, off = 0, oh, om;
        size_t i = 19;
        LsStamp st;

        ret->kind = 0;
        if (n < 20 || digits(p, 4, &y) < 0 || p[4] != '-' || digits(p + 5, 2, &mo) < 0 ||
            p[7] != '-' || digits(p + 8, 2, &d) < 0 || p[10] != 'T' || digits(p + 11, 2, &h) < 0 ||
            p[13] != ':' || digits(p + 14, 2, &mi) < 0 || p[16] != ':' || digits(p + 17, 2, &s) < 0)
                return 0;
        if (p[i] == '.') {
                i++;
                while (i < n && nd < 6 && p[i] >= '0' && p[i] <= '9') {
                        frac = frac * 10 + (unsigned) (p[i] - '0');
                        nd++;
                        i++;
                }
                if (nd == 0)
                        return 0;
        }
        if (i >= n)
                return 0;
        if (p[i] == 'Z') {
                zone = 0;
                i++;
        } else if ((p[i] == '+' || p[i] == '-') && n - i >= 6 && digits(p + i + 1, 2, &oh) == 0 &&
                   p[i + 3] == ':' && digits(p + i + 4, 2, &om) == 0 && om < 60) {
                zone = p[i] == '+' ? 1 : 2;
                off = oh * 60 + om;
                i += 6;
        } else {
                return 0;
        }
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
                return 0;
        /*
         * Only what writes back byte for byte: every field is fixed-width digits already read
         * in range, so that holds exactly when the day exists in its month (02-30 would come
         * back as 03-02). test-columns checks ls_stamp_format() against this.
         */
        static const uint8_t mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (d > (unsigned) (mdays[mo - 1] + (mo == 2 && leap)))
                return 0;
        st.kind = (uint8_t) (1 + nd + 7 * zone);
        st.offset = (uint16_t) off;
        st.value =
                ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * pow10s[nd]) + frac;
        *ret = st;
        return i;
}

static void put_num(uint8_t *out, uint64_t v, unsigned width)
{
        for (unsigned i = width; i > 0; i--) {
                out[i - 1] = (uint8_t) ('0' + v % 10);
                v /= 10;
        }
}

static _Thread_local int64_t last_secs = INT64_MIN;
static _Thread_local uint8_t last_text[19];

size_t ls_stamp_format(const LsStamp *st, uint8_t out[LS_STAMP_MAX_TEXT])
{
        unsigned k, nd, zone, m, d;
        int64_t secs, frac, days, rem, y;
        size_t i = 19;

        if (st->kind == 0 || st->kind > LS_STAMP_MAX_KIND || st->offset > LS_STAMP_MAX_OFFSET)
                return 0;
        k = st->kind - 1u;
        nd = k % 7;
        zone = k / 7;
        /* Years 0000-9999 only: bounds the arithmetic below. */
        if (st->value < days_from_civil(0, 1, 1) * 86400 * pow10s[nd] ||
            st->value >= days_from_civil(10000, 1, 1) * 86400 * pow10s[nd])
                return 0;
        secs = st->value / pow10s[nd];
        frac = st->value % pow10s[nd];
        if (frac < 0) {
                frac += pow10s[nd];
                secs--;
        }
        /* Records of a batch mostly share their second: its 19 characters are kept per
         * thread (the verifier rebuilds a stamp per record on every worker). */
        if (secs == last_secs) {
                memcpy(out, last_text, 19);
        } else {
                days = secs / 86400;
                rem = secs % 86400;
                if (rem < 0) {
                        rem += 86400;
                        days--;
                }
                civil_from_days(days, &y, &m, &d);
                put_num(out, (uint64_t) y, 4);
                out[4] = '-';
                put_num(out + 5, m, 2);
                out[7] = '-';
                put_num(out + 8, d, 2);
                out[10] = 'T';
                put_num(out + 11, (uint64_t) (rem / 3600), 2);
                out[13] = ':';
                put_num(out + 14, (uint64_t) (rem / 60 % 60), 2);
                out[16] = ':';
                put_num(out + 17, (uint64_t) (rem % 60), 2);
                memcpy(last_text, out, 19);
                last_secs = secs;
        }
        if (nd > 0) {
                out[i++] = '.';
                put_num(out + i, (uint64_t) frac, nd);
                i += nd;
        }
        if (zone == 0) {
                out[i++] = 'Z';
        } else {
                out[i++] = zone == 1 ? '+' : '-';
                put_num(out + i, st->offset / 60, 2);
                out[i + 2] = ':';
                put_num(out + i + 3, st->offset % 60, 2);
                i += 5;
        }
        return i;
}

int64_t ls_stamp_predict(uint64_t time_ns, unsigned nd)
{
        return (int64_t) (time_ns / (uint64_t) pow10s[9 - (nd > 6 ? 6 : nd)]);
}
