/* SPDX-License-Identifier: Apache-2.0 */
/* test-vectors, the report and the comparisons every peer uses (driver in test-vectors.c) */
#include "test-vectors.h"

Report R;

void report_add(const char *fmt, ...)
{
        va_list ap;
        char line[2048];
        int k;

        va_start(ap, fmt);
        k = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (k < 0)
                return;
        if ((size_t) k >= sizeof(line))
                k = sizeof(line) - 1;
        if (R.len + (size_t) k + 1 > R.cap) {
                R.cap = (R.len + (size_t) k + 1) * 2;
                R.text = realloc(R.text, R.cap);
                if (!R.text)
                        abort();
        }
        memcpy(R.text + R.len, line, (size_t) k + 1);
        R.len += (size_t) k;
}

/* README escaping: 0x20-0x7e literal except '\', \t \n \r, else \xHH. */
char *escape(const uint8_t *p, size_t n, size_t max)
{
        size_t cap = (n < max ? n : max) * 4 + 8, o = 0;
        char *s = malloc(cap);
        if (!s)
                abort();
        for (size_t i = 0; i < n && o + 8 < cap; i++) {
                uint8_t b = p[i];
                if (b == '\\')
                        o += (size_t) sprintf(s + o, "\\\\");
                else if (b == '\t')
                        o += (size_t) sprintf(s + o, "\\t");
                else if (b == '\n')
                        o += (size_t) sprintf(s + o, "\\n");
                else if (b == '\r')
                        o += (size_t) sprintf(s + o, "\\r");
                else if (b >= 0x20 && b <= 0x7e)
                        s[o++] = (char) b;
                else
                        o += (size_t) sprintf(s + o, "\\x%02x", b);
        }
        if (n > max)
                o += (size_t) sprintf(s + o, "...");
        s[o] = 0;
        return s;
}

void dis(const char *field, const char *expected, const char *got)
{
        char *e = escape((const uint8_t *) expected, strlen(expected), 160);
        char *g = escape((const uint8_t *) got, strlen(got), 160);
        report_add("    %s: %s: expected <%s>, got <%s>\n", R.case_id, field, e, g);
        free(e);
        free(g);
        R.ndis++;
}

void dis_int(const char *field, long long expected, long long got)
{
        char e[32], g[32];
        snprintf(e, sizeof(e), "%lld", expected);
        snprintf(g, sizeof(g), "%lld", got);
        dis(field, e, g);
}

size_t unhex(const char *h, uint8_t **ret)
{
        size_t n = strlen(h) / 2;
        uint8_t *p = malloc(n + 1);
        if (!p)
                abort();
        for (size_t i = 0; i < n; i++) {
                unsigned v;
                if (sscanf(h + 2 * i, "%2x", &v) != 1)
                        abort();
                p[i] = (uint8_t) v;
        }
        *ret = p;
        return n;
}

/* The peers' files write bytes either as they are or README-escaped: accept both. */
static bool bytes_match(const char *expected, const uint8_t *p, size_t n)
{
        bool ok;
        if (strlen(expected) == n && memcmp(expected, p, n) == 0)
                return true;
        char *e = escape(p, n, SIZE_MAX / 8);
        ok = strcmp(e, expected) == 0;
        free(e);
        return ok;
}

char *span_str(const uint8_t *p, LsSpan s)
{
        char *r = malloc(s.len + 1);
        if (!r)
                abort();
        memcpy(r, p + s.off, s.len);
        r[s.len] = 0;
        return r;
}

/* expected: NULL or "" = absent. */
void cmp_span(const char *field, const char *expected, const uint8_t *p, LsSpan s)
{
        if (!expected || !*expected) {
                if (s.len) {
                        char *g = span_str(p, s);
                        dis(field, "(absent)", g);
                        free(g);
                }
                return;
        }
        if (!bytes_match(expected, p + s.off, s.len)) {
                char *g = s.len ? span_str(p, s) : strdup("(absent)");
                dis(field, expected, g);
                free(g);
        }
}

void cmp_json_span(const char *field, json_t *v, const uint8_t *p, LsSpan s)
{
        cmp_span(field, json_is_string(v) ? json_string_value(v) : NULL, p, s);
}

/* MSG as peers keep it: go-syslog and the RFC file keep a BOM in it. */
void cmp_msg_with_bom(const char *field, const char *expected, const uint8_t *p,
                      const LsSyslogMsg *m)
{
        LsSpan s = m->msg;
        if (m->flags & LS_SYSLOG_BOM) {
                s.off -= 3;
                s.len += 3;
        }
        cmp_span(field, expected, p, s);
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
        struct tm tm = {.tm_year = (int) y - 1900, .tm_mon = m - 1, .tm_mday = d};
        return (int64_t) timegm(&tm) / 86400;
}

/* Test-side RFC 3339 reading, independent of the parser: ns and offset. */
static bool read_rfc3339(const char *s, int64_t *ns, int32_t *off, struct tm *wall,
                         uint32_t *frac_ns)
{
        int y, mo, d, h, mi, sec, n = 0;
        uint32_t frac = 0;
        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
                return false;
        s += n;
        if (*s == '.') {
                int k = 0;
                s++;
                while (isdigit((unsigned char) *s)) {
                        if (k++ < 9)
                                frac = frac * 10 + (uint32_t) (*s - '0');
                        s++;
                }
                for (; k < 9; k++)
                        frac *= 10;
        }
        if (*s == 'Z') {
                *off = 0;
        } else if ((*s == '+' || *s == '-') && strlen(s) == 6) {
                int oh, om;
                if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
                        return false;
                *off = (*s == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        } else {
                return false;
        }
        *wall = (struct tm){.tm_year = y - 1900,
                            .tm_mon = mo - 1,
                            .tm_mday = d,
                            .tm_hour = h,
                            .tm_min = mi,
                            .tm_sec = sec};
        *frac_ns = frac;
        int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - *off;
        *ns = secs * 1000000000 + frac;
        return true;
}

void fmt_time(char *buf, size_t cap, const LsSyslogMsg *m)
{
        if (!(m->flags & LS_SYSLOG_HAVE_TIME)) {
                snprintf(buf, cap, "(absent)");
                return;
        }
        int64_t wall =
                m->time_ns / 1000000000 + (m->time_ns % 1000000000 < 0 ? -1 : 0) + m->tz_offset;
        int64_t frac = ((m->time_ns % 1000000000) + 1000000000) % 1000000000;
        time_t t = (time_t) wall;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "%+03d:%02d%s",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 frac, m->tz_offset / 3600, abs(m->tz_offset % 3600) / 60,
                 (m->flags & LS_SYSLOG_HAVE_TZ) ? "" : " (no zone in message)");
}

/* Wall clock of the message (local to its offset) and its fraction. */
bool our_wall(const LsSyslogMsg *m, struct tm *tm, uint32_t *frac)
{
        if (!(m->flags & LS_SYSLOG_HAVE_TIME))
                return false;
        int64_t s = m->time_ns / 1000000000, f = m->time_ns % 1000000000;
        if (f < 0) {
                f += 1000000000;
                s--;
        }
        time_t t = (time_t) (s + m->tz_offset);
        gmtime_r(&t, tm);
        *frac = (uint32_t) f;
        return true;
}

void cmp_time_rfc3339(const char *field, const char *expected, const LsSyslogMsg *m)
{
        char got[96];
        int64_t ns;
        int32_t off;
        struct tm wall;
        uint32_t frac;

        fmt_time(got, sizeof(got), m);
        if (!expected) {
                if (m->flags & LS_SYSLOG_HAVE_TIME)
                        dis(field, "(absent)", got);
                return;
        }
        if (!read_rfc3339(expected, &ns, &off, &wall, &frac)) {
                dis(field, expected, "(test cannot read the expected value)");
                return;
        }
        if (!(m->flags & LS_SYSLOG_HAVE_TIME) || m->time_ns != ns || m->tz_offset != off)
                dis(field, expected, got);
}

/* Month, day and time only (peers without a year, or BSD timestamps). */
void cmp_wall(const char *field, const char *expected, int mon, int day, int h, int mi,
              int s, const LsSyslogMsg *m)
{
        struct tm tm;
        uint32_t frac;
        char got[96];
        fmt_time(got, sizeof(got), m);
        if (!our_wall(m, &tm, &frac) || tm.tm_mon + 1 != mon || tm.tm_mday != day ||
            tm.tm_hour != h || tm.tm_min != mi || tm.tm_sec != s)
                dis(field, expected, got);
}

/* ---- STRUCTURED-DATA as peers describe it ------------------------------------------------ */

SdList sd_collect(const uint8_t *p, size_t n, LsSpan sd)
{
        SdList l = {.ok = true};
        LsSdIter it;
        LsSpan id, name, value;
        int r;

        ls_sd_iter_init(&it, p, n, sd);
        while ((r = ls_sd_next_element(&it, &id)) > 0) {
                int params = 0;
                l.nelems++;
                char *ids = span_str(p, id);
                while ((r = ls_sd_next_param(&it, &name, &value)) > 0) {
                        uint8_t *buf = malloc(value.len + 1);
                        size_t len;
                        if (!buf || ls_sd_unescape(p, n, value, buf, value.len, &len) < 0)
                                abort();
                        buf[len] = 0;
                        l.v = realloc(l.v, (l.n + 1) * sizeof(*l.v));
                        SdPair *q = &l.v[l.n++];
                        q->id = strdup(ids);
                        q->param = span_str(p, name);
                        q->value = (char *) buf;
                        if (asprintf(&q->name, ".SDATA.%s.%s", q->id, q->param) < 0)
                                abort();
                        params++;
                }
                if (r < 0)
                        break;
                if (params == 0) {
                        l.v = realloc(l.v, (l.n + 1) * sizeof(*l.v));
                        SdPair *q = &l.v[l.n++];
                        q->id = strdup(ids);
                        q->param = NULL;
                        q->value = strdup("");
                        if (asprintf(&q->name, ".SDATA.%s", q->id) < 0)
                                abort();
                }
                free(ids);
        }
        if (r < 0)
                l.ok = false;
        return l;
}

void sd_free(SdList *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].name);
                free(l->v[i].id);
                free(l->v[i].param);
                free(l->v[i].value);
        }
        free(l->v);
}

const SdPair *sd_find(const SdList *l, const char *id, const char *param)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].id, id) == 0 &&
                    (param ? l->v[i].param && strcmp(l->v[i].param, param) == 0 : !l->v[i].param))
                        return &l->v[i];
        return NULL;
}

const SdPair *sd_find_name(const SdList *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].name, name) == 0)
                        return &l->v[i];
        return NULL;
}

/* {"id": {"param": "value"}} (go-syslog, RFC file); elements without params appear as {}. */
void cmp_sd_object(const char *field, json_t *exp, const uint8_t *p, size_t n,
                   const LsSyslogMsg *m)
{
        SdList l = sd_collect(p, n, m->sd);
        const char *id;
        json_t *params;
        char f[256];

        if (!exp || json_is_null(exp) ||
            (json_is_string(exp) && !strcmp(json_string_value(exp), "-"))) {
                if (m->sd.len)
                        dis(field, "(absent)", "present");
                sd_free(&l);
                return;
        }
        if ((int) json_object_size(exp) != l.nelems)
                dis_int("SD element count", (long long) json_object_size(exp), l.nelems);
        json_object_foreach(exp, id, params)
        {
                const char *k;
                json_t *v;
                if (json_object_size(params) == 0 && !sd_find(&l, id, NULL)) {
                        bool any = false;
                        for (size_t i = 0; i < l.n; i++)
                                any |= strcmp(l.v[i].id, id) == 0;
                        if (!any) {
                                snprintf(f, sizeof(f), "%s[%s]", field, id);
                                dis(f, "present", "(absent)");
                        }
                }
                json_object_foreach(params, k, v)
                {
                        const SdPair *q = sd_find(&l, id, k);
                        snprintf(f, sizeof(f), "%s[%s].%s", field, id, k);
                        if (!q)
                                dis(f, json_string_value(v), "(absent)");
                        else if (!bytes_match(json_string_value(v), (const uint8_t *) q->value,
                                              strlen(q->value)))
                                dis(f, json_string_value(v), q->value);
                }
        }
        sd_free(&l);
}

const char *jstr(json_t *o, const char *k)
{
        json_t *v = json_object_get(o, k);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

bool jhas(json_t *o, const char *k)
{
        json_t *v = json_object_get(o, k);
        return v && !json_is_null(v);
}
