/* SPDX-License-Identifier: Apache-2.0 */
/* test-vectors: runs the syslog framer and parser on third-party peer cases and reports agreement
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "framing.h"
#include "parse.h"

/*
 * Reads every case of $SHARED_DATA/vectors/ *.jsonl and $SHARED_DATA/rfc/rfc_examples.jsonl
 * (SHARED_DATA defaults to ../shared/data, i.e. run from the source root), runs the framer
 * or the parser as the case's peer did, and compares validity and fields with the peer's
 * expectations. Prints per source file: cases, agreed, disagreed, not comparable, then each
 * disagreement (case id, field, expected, got). VECTORS.md explains every class of
 * deliberate difference. Exit 0, 1 when an agreement count falls below its floor (a
 * regression), 77 when the data is absent.
 */

#define SYSLOG_NG_NOW 1549615069 /* the "now" of syslog-ng's test_msgparse.c */

typedef enum Verdict { AGREE, DISAGREE, NA } Verdict;

typedef struct Report {
        char *text; /* disagreement lines */
        size_t len, cap;
        const char *case_id;
        int ndis;       /* disagreements in the current case */
        const char *na; /* reason the current case is not comparable */
} Report;

static Report R;

static void report_add(const char *fmt, ...)
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
static char *escape(const uint8_t *p, size_t n, size_t max)
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

static void dis(const char *field, const char *expected, const char *got)
{
        char *e = escape((const uint8_t *) expected, strlen(expected), 160);
        char *g = escape((const uint8_t *) got, strlen(got), 160);
        report_add("    %s: %s: expected <%s>, got <%s>\n", R.case_id, field, e, g);
        free(e);
        free(g);
        R.ndis++;
}

static void dis_int(const char *field, long long expected, long long got)
{
        char e[32], g[32];
        snprintf(e, sizeof(e), "%lld", expected);
        snprintf(g, sizeof(g), "%lld", got);
        dis(field, e, g);
}

static size_t unhex(const char *h, uint8_t **ret)
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

static char *span_str(const uint8_t *p, LsSpan s)
{
        char *r = malloc(s.len + 1);
        if (!r)
                abort();
        memcpy(r, p + s.off, s.len);
        r[s.len] = 0;
        return r;
}

/* expected: NULL or "" = absent. */
static void cmp_span(const char *field, const char *expected, const uint8_t *p, LsSpan s)
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

static void cmp_json_span(const char *field, json_t *v, const uint8_t *p, LsSpan s)
{
        cmp_span(field, json_is_string(v) ? json_string_value(v) : NULL, p, s);
}

/* MSG as peers keep it: go-syslog and the RFC file keep a BOM in it. */
static void cmp_msg_with_bom(const char *field, const char *expected, const uint8_t *p,
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

static void fmt_time(char *buf, size_t cap, const LsSyslogMsg *m)
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
static bool our_wall(const LsSyslogMsg *m, struct tm *tm, uint32_t *frac)
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

static void cmp_time_rfc3339(const char *field, const char *expected, const LsSyslogMsg *m)
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
static void cmp_wall(const char *field, const char *expected, int mon, int day, int h, int mi,
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

typedef struct SdPair {
        char *name; /* ".SDATA.id.param" (syslog-ng naming); ".SDATA.id" for no params */
        char *id, *param, *value;
} SdPair;

typedef struct SdList {
        SdPair *v;
        size_t n;
        int nelems;
        bool ok;
} SdList;

static SdList sd_collect(const uint8_t *p, size_t n, LsSpan sd)
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

static void sd_free(SdList *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].name);
                free(l->v[i].id);
                free(l->v[i].param);
                free(l->v[i].value);
        }
        free(l->v);
}

static const SdPair *sd_find(const SdList *l, const char *id, const char *param)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].id, id) == 0 &&
                    (param ? l->v[i].param && strcmp(l->v[i].param, param) == 0 : !l->v[i].param))
                        return &l->v[i];
        return NULL;
}

static const SdPair *sd_find_name(const SdList *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].name, name) == 0)
                        return &l->v[i];
        return NULL;
}

/* {"id": {"param": "value"}} (go-syslog, RFC file); elements without params appear as {}. */
static void cmp_sd_object(const char *field, json_t *exp, const uint8_t *p, size_t n,
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

/* ---- go-syslog (influxdata, leodido) ---------------------------------------------------- */

static int stat_col_checked, stat_col_equal;

static const char *jstr(json_t *o, const char *k)
{
        json_t *v = json_object_get(o, k);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool jhas(json_t *o, const char *k)
{
        json_t *v = json_object_get(o, k);
        return v && !json_is_null(v);
}

static void go_fields(json_t *e, const uint8_t *p, size_t n, const LsSyslogMsg *m, bool partial)
{
        if (jhas(e, "Priority"))
                if (json_integer_value(json_object_get(e, "Priority")) != m->pri)
                        dis_int("Priority", json_integer_value(json_object_get(e, "Priority")),
                                m->pri);
        if (jhas(e, "Facility"))
                if (json_integer_value(json_object_get(e, "Facility")) != m->facility)
                        dis_int("Facility", json_integer_value(json_object_get(e, "Facility")),
                                m->facility);
        if (jhas(e, "Severity"))
                if (json_integer_value(json_object_get(e, "Severity")) != m->severity)
                        dis_int("Severity", json_integer_value(json_object_get(e, "Severity")),
                                m->severity);
        if (jhas(e, "Version"))
                if (json_integer_value(json_object_get(e, "Version")) != m->version)
                        dis_int("Version", json_integer_value(json_object_get(e, "Version")),
                                m->version);
        if (!partial || jhas(e, "Timestamp"))
                cmp_time_rfc3339("Timestamp", jstr(e, "Timestamp"), m);
        if (!partial || jhas(e, "Hostname"))
                cmp_span("Hostname", jstr(e, "Hostname"), p, m->hostname);
        if (!partial || jhas(e, "Appname"))
                cmp_span("Appname", jstr(e, "Appname"), p, m->app_name);
        if (!partial || jhas(e, "ProcID"))
                cmp_span("ProcID", jstr(e, "ProcID"), p, m->procid);
        if (!partial || jhas(e, "MsgID"))
                cmp_span("MsgID", jstr(e, "MsgID"), p, m->msgid);
        if (!partial) {
                cmp_msg_with_bom("Message", jstr(e, "Message"), p, m);
                cmp_sd_object("StructuredData", json_object_get(e, "StructuredData"), p, n, m);
        }
}

static void go_rfc5424(json_t *c, const uint8_t *p, size_t n)
{
        LsSyslogMsg m;
        bool valid = json_is_true(json_object_get(c, "expected_valid"));
        char got[256];

        ls_syslog_parse(p, n, NULL, &m);
        snprintf(got, sizeof(got), "%s %s%s%s", ls_syslog_format_name(m.format),
                 m.status == LS_SYSLOG_OK ? "valid" : "invalid: ", m.error ? m.error : "", "");
        if (valid) {
                if (m.format != LS_SYSLOG_RFC5424 || m.status != LS_SYSLOG_OK)
                        dis("validity", "rfc5424 valid", got);
                go_fields(json_object_get(c, "expected_value"), p, n, &m, false);
        } else {
                const char *err = jstr(c, "expected_error"), *col;
                if (m.status == LS_SYSLOG_OK)
                        dis("validity", err ? err : "invalid", got);
                json_t *partial = json_object_get(c, "expected_partial_best_effort");
                if (json_is_object(partial))
                        go_fields(partial, p, n, &m, true);
                if (err && (col = strstr(err, "[col ")) && m.status != LS_SYSLOG_OK) {
                        stat_col_checked++;
                        stat_col_equal += atoi(col + 5) == (int) m.error_offset;
                }
        }
}

static int month_num(const char *s)
{
        static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        for (int i = 0; i < 12; i++)
                if (strncmp(s, mons[i], 3) == 0)
                        return i + 1;
        return 0;
}

static void go_rfc3164(json_t *c, const uint8_t *p, size_t n)
{
        LsSyslogMsg m;
        LsSyslogParseOpts o = {.now = SYSLOG_NG_NOW};
        json_t *e = json_object_get(c, "expected_value");
        bool valid = json_is_true(json_object_get(c, "expected_valid"));
        const char *ts;
        int y, mo, d, h, mi, s;

        ls_syslog_parse(p, n, &o, &m);
        if (valid != (m.status == LS_SYSLOG_OK && m.format == LS_SYSLOG_RFC3164))
                dis("validity", valid ? "valid" : "invalid",
                    m.error ? m.error : ls_syslog_format_name(m.format));
        if (!json_is_object(e))
                return;
        for (const char *const *k = (const char *const[]){"Priority", "Facility", "Severity", NULL};
             *k; k++) {
                long long want = jhas(e, *k) ? json_integer_value(json_object_get(e, *k)) : -1;
                long long got = **k == 'P' ? m.pri : **k == 'F' ? m.facility : m.severity;
                if (want != got)
                        dis_int(*k, want, got);
        }
        cmp_span("Hostname", jstr(e, "Hostname"), p, m.hostname);
        cmp_span("Appname", jstr(e, "Appname"), p, m.app_name);
        cmp_span("ProcID", jstr(e, "ProcID"), p, m.procid);
        cmp_span("Message", jstr(e, "Message"), p, m.msg);
        /* "0000-01-12T06:30:00Z": no year in the input; compare month to second. */
        ts = jstr(e, "Timestamp");
        if (ts && sscanf(ts, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) == 6)
                cmp_wall("Timestamp", ts, mo, d, h, mi, s, &m);
}

/* ---- framing streams (influxdata octetcounting / nontransparent) ------------------------ */

typedef struct Frame {
        uint8_t *p;
        size_t len;
        uint64_t orig;
        unsigned flags;
} Frame;

typedef struct Frames {
        Frame *v;
        size_t n;
} Frames;

static int on_frame(void *ud, const uint8_t *msg, size_t len, uint64_t orig, unsigned flags)
{
        Frames *fs = ud;
        fs->v = realloc(fs->v, (fs->n + 1) * sizeof(*fs->v));
        if (!fs->v)
                abort();
        Frame *f = &fs->v[fs->n++];
        f->p = malloc(len + 1);
        if (!f->p)
                abort();
        memcpy(f->p, msg, len);
        f->len = len;
        f->orig = orig;
        f->flags = flags;
        return 0;
}

static Frames frame_all(const uint8_t *p, size_t n, size_t max, size_t chunk)
{
        Frames fs = {0};
        LsFramer f;
        uint8_t *buf = malloc(max);
        if (!buf || ls_framer_init(&f, buf, max) < 0)
                abort();
        for (size_t i = 0; i < n; i += chunk)
                if (ls_framer_feed(&f, p + i, n - i < chunk ? n - i : chunk, on_frame, &fs) < 0)
                        abort();
        if (ls_framer_finish(&f, on_frame, &fs) < 0)
                abort();
        free(buf);
        return fs;
}

static void frames_free(Frames *fs)
{
        for (size_t i = 0; i < fs->n; i++)
                free(fs->v[i].p);
        free(fs->v);
}

static bool frames_equal(const Frames *a, const Frames *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (a->v[i].len != b->v[i].len || a->v[i].orig != b->v[i].orig ||
                    a->v[i].flags != b->v[i].flags || memcmp(a->v[i].p, b->v[i].p, a->v[i].len))
                        return false;
        return true;
}

static void stream_case(json_t *c, const uint8_t *p, size_t n)
{
        json_t *max_j = json_object_get(c, "max_message_length");
        size_t max = json_is_integer(max_j) ? (size_t) json_integer_value(max_j)
                                            : LS_FRAMER_DEFAULT_MAX_MSG;
        json_t *exp = json_object_get(c, "expected_results_best_effort");
        Frames fs = frame_all(p, n, max, n ? n : 1), bytewise = frame_all(p, n, max, 1);
        size_t k = 0, i;
        json_t *e;
        char f[64];

        if (!frames_equal(&fs, &bytewise))
                dis("framing", "same frames whatever the chunking", "different");
        json_array_foreach(exp, i, e)
        {
                const char *err = jstr(e, "error");
                json_t *msg = json_object_get(e, "message");
                snprintf(f, sizeof(f), "message %zu", i + 1);
                if (json_is_null(msg) && err && strstr(err, "found EOF, expecting a MSGLEN"))
                        continue; /* end of stream, not a message */
                if (k >= fs.n) {
                        dis(f, err && *err ? err : "a message", "(no message)");
                        continue;
                }
                Frame *fr = &fs.v[k++];
                if (json_is_null(msg)) {
                        /* The peer rejects the bytes; we must deliver them flagged. */
                        if (!(fr->flags &
                              (LS_FRAME_FRAMING_ERROR | LS_FRAME_TRUNCATED | LS_FRAME_INCOMPLETE)))
                                dis(f, err, "delivered unflagged");
                        continue;
                }
                LsSyslogMsg m;
                ls_syslog_parse(fr->p, fr->len, NULL, &m);
                bool eof = err && strstr(err, "unexpected EOF");
                if (eof && !(fr->flags & LS_FRAME_INCOMPLETE))
                        dis(f, "incomplete at EOF", "not flagged INCOMPLETE");
                bool want_ok = !err || !*err || eof;
                if (want_ok != (m.status == LS_SYSLOG_OK))
                        dis(f, want_ok ? "valid" : err, m.error ? m.error : "valid");
                go_fields(msg, fr->p, fr->len, &m, true);
                if (jhas(msg, "Message"))
                        cmp_msg_with_bom("Message", jstr(msg, "Message"), fr->p, &m);
        }
        if (k < fs.n) {
                char *g = escape(fs.v[k].p, fs.v[k].len, 60);
                dis("messages", "(no more)", g);
                free(g);
        }
        frames_free(&fs);
        frames_free(&bytewise);
}

/* ---- syslog-loose ---------------------------------------------------------------------- */

static int facility_num(const char *s)
{
        static const char *const names[] = {
                "LOG_KERN",     "LOG_USER",   "LOG_MAIL",   "LOG_DAEMON", "LOG_AUTH",
                "LOG_SYSLOG",   "LOG_LPR",    "LOG_NEWS",   "LOG_UUCP",   "LOG_CRON",
                "LOG_AUTHPRIV", "LOG_FTP",    "LOG_NTP",    "LOG_AUDIT",  "LOG_ALERT",
                "LOG_CLOCKD",   "LOG_LOCAL0", "LOG_LOCAL1", "LOG_LOCAL2", "LOG_LOCAL3",
                "LOG_LOCAL4",   "LOG_LOCAL5", "LOG_LOCAL6", "LOG_LOCAL7"};
        for (int i = 0; i < 24; i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        return -2;
}

static int severity_num(const char *s)
{
        static const char *const names[] = {"SEV_EMERG",   "SEV_ALERT",  "SEV_CRIT", "SEV_ERR",
                                            "SEV_WARNING", "SEV_NOTICE", "SEV_INFO", "SEV_DEBUG"};
        for (int i = 0; i < 8; i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        return -2;
}

static LsSyslogParseOpts loose_opts(json_t *c)
{
        const char *yr = jstr(c, "year_rule"), *tz = jstr(c, "tz");
        struct tm now = {.tm_year = 120, .tm_mon = 0, .tm_mday = 15, .tm_hour = 12};
        LsSyslogParseOpts o;
        /* "year = 2019 if month==12 else 2020" is syslog-ng's rule seen in January 2020. */
        if (yr && strstr(yr, "2019 (non leap"))
                now = (struct tm){.tm_year = 119, .tm_mon = 5, .tm_mday = 15};
        o.now = (int64_t) timegm(&now);
        o.local_offset = 0;
        if (tz && strstr(tz, "Paris"))
                o.local_offset = 3600; /* Europe/Paris in January */
        else if (tz && strstr(tz, "east 5*3600"))
                o.local_offset = 5 * 3600;
        return o;
}

static void loose_case(json_t *c, const uint8_t *p, size_t n)
{
        LsSyslogParseOpts o = loose_opts(c);
        LsSyslogMsg m;
        json_t *e = json_object_get(c, "expected");

        ls_syslog_parse(p, n, &o, &m);
        if (jhas(c, "expected_error")) {
                if (m.status == LS_SYSLOG_OK)
                        dis("validity", jstr(c, "expected_error"), "valid");
                return;
        }
        if (jhas(c, "expected_same_as")) {
                const char *ref = jstr(c, "expected_same_as");
                LsSyslogMsg r;
                ls_syslog_parse((const uint8_t *) ref, strlen(ref), &o, &r);
                char *a = span_str(p, m.msg), *b = span_str((const uint8_t *) ref, r.msg);
                if (strcmp(a, b))
                        dis("msg (as the trimmed message)", b, a);
                if (m.pri != r.pri || m.time_ns != r.time_ns)
                        dis("header (as the trimmed message)", "same", "different");
                free(a);
                free(b);
                return;
        }
        if (!json_is_object(e))
                return;
        const char *fac = jstr(e, "facility"), *sev = jstr(e, "severity");
        if ((fac ? facility_num(fac) : -1) != m.facility)
                dis_int("facility", fac ? facility_num(fac) : -1, m.facility);
        if ((sev ? severity_num(sev) : -1) != m.severity)
                dis_int("severity", sev ? severity_num(sev) : -1, m.severity);
        cmp_json_span("hostname", json_object_get(e, "hostname"), p, m.hostname);
        cmp_json_span("appname", json_object_get(e, "appname"), p, m.app_name);
        cmp_json_span("msgid", json_object_get(e, "msgid"), p, m.msgid);
        cmp_json_span("msg", json_object_get(e, "msg"), p, m.msg);
        json_t *pid = json_object_get(e, "procid");
        if (json_is_object(pid)) {
                const char *k;
                json_t *v;
                json_object_foreach(pid, k, v) cmp_json_span("procid", v, p, m.procid);
        } else {
                cmp_span("procid", NULL, p, m.procid);
        }
        const char *proto = jstr(e, "protocol"), *note = jstr(c, "note");
        if (proto && !(note && strstr(note, "ignores `protocol`"))) {
                LsSyslogFormat want =
                        strncmp(proto, "RFC5424", 7) == 0 ? LS_SYSLOG_RFC5424 : LS_SYSLOG_RFC3164;
                if (want != m.format)
                        dis("protocol", proto, ls_syslog_format_name(m.format));
        }
        /* structured_data: [{"id", "params": [[k, v]]}] in order. */
        SdList l = sd_collect(p, n, m.sd);
        json_t *sd = json_object_get(e, "structured_data"), *el;
        size_t i, nexp = json_array_size(sd);
        if ((int) nexp != l.nelems)
                dis_int("structured_data elements", (long long) nexp, l.nelems);
        json_array_foreach(sd, i, el)
        {
                json_t *pr;
                size_t j;
                json_array_foreach(json_object_get(el, "params"), j, pr)
                {
                        const char *id = jstr(el, "id");
                        const char *k = json_string_value(json_array_get(pr, 0));
                        const char *v = json_string_value(json_array_get(pr, 1));
                        const SdPair *q = sd_find(&l, id, k);
                        char f[160];
                        snprintf(f, sizeof(f), "structured_data[%s].%s", id, k);
                        if (!q)
                                dis(f, v, "(absent)");
                        else if (strcmp(q->value, v))
                                dis(f, v, q->value);
                }
        }
        sd_free(&l);
        /* timestamp: {"ymdhms", "offset_seconds" | "offset", "plus"} or null */
        json_t *ts = json_object_get(e, "timestamp");
        char got[96];
        fmt_time(got, sizeof(got), &m);
        if (!json_is_object(ts)) {
                if (m.flags & LS_SYSLOG_HAVE_TIME)
                        dis("timestamp", "(absent)", got);
                return;
        }
        json_t *ymd = json_object_get(ts, "ymdhms"), *plus = json_object_get(ts, "plus");
        struct tm tm;
        uint32_t frac, want_frac = 0;
        char want[96];
        if (json_is_object(plus)) {
                if (jhas(plus, "milliseconds"))
                        want_frac = (uint32_t) json_integer_value(
                                            json_object_get(plus, "milliseconds")) *
                                    1000000;
                if (jhas(plus, "microseconds"))
                        want_frac = (uint32_t) json_integer_value(
                                            json_object_get(plus, "microseconds")) *
                                    1000;
        }
        snprintf(want, sizeof(want), "%lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09u %s",
                 json_integer_value(json_array_get(ymd, 0)),
                 json_integer_value(json_array_get(ymd, 1)),
                 json_integer_value(json_array_get(ymd, 2)),
                 json_integer_value(json_array_get(ymd, 3)),
                 json_integer_value(json_array_get(ymd, 4)),
                 json_integer_value(json_array_get(ymd, 5)), want_frac,
                 jhas(ts, "offset_seconds") ? "offset"
                 : jstr(ts, "offset")       ? jstr(ts, "offset")
                                            : "");
        bool ok = our_wall(&m, &tm, &frac) &&
                  tm.tm_year + 1900 == json_integer_value(json_array_get(ymd, 0)) &&
                  tm.tm_mon + 1 == json_integer_value(json_array_get(ymd, 1)) &&
                  tm.tm_mday == json_integer_value(json_array_get(ymd, 2)) &&
                  tm.tm_hour == json_integer_value(json_array_get(ymd, 3)) &&
                  tm.tm_min == json_integer_value(json_array_get(ymd, 4)) &&
                  tm.tm_sec == json_integer_value(json_array_get(ymd, 5)) && frac == want_frac;
        if (jhas(ts, "offset_seconds")) {
                ok = ok && json_integer_value(json_object_get(ts, "offset_seconds")) == m.tz_offset;
        } else {
                ok = ok && !(m.flags & LS_SYSLOG_HAVE_TZ);
        }
        if (!ok)
                dis("timestamp", want, got);
}

/* ---- syslog-ng -------------------------------------------------------------------------- */

/* Offset east of UTC of TZ=MET-1METDST (syslog-ng's test zone) at a wall-clock time. */
static int32_t met_offset(int64_t wall)
{
        time_t t = (time_t) wall;
        struct tm tm;
        gmtime_r(&t, &tm);
        tm.tm_isdst = -1;
        time_t u = mktime(&tm);
        return (int32_t) (wall - (int64_t) u);
}

/* Parses as syslog-ng in TZ=MET-1METDST would date zoneless stamps. */
static void parse_met(const uint8_t *p, size_t n, LsSyslogMsg *m)
{
        LsSyslogParseOpts o = {.now = SYSLOG_NG_NOW, .local_offset = 0};
        o.local_offset = met_offset(SYSLOG_NG_NOW + 3600);
        ls_syslog_parse(p, n, &o, m);
        if ((m->flags & LS_SYSLOG_HAVE_TIME) && !(m->flags & LS_SYSLOG_HAVE_TZ)) {
                int64_t wall = m->time_ns / 1000000000 + m->tz_offset;
                o.local_offset = met_offset(wall);
                ls_syslog_parse(p, n, &o, m);
        }
}

static void sd_pair_check(const char *name, const char *value, const uint8_t *p, size_t n,
                          const LsSyslogMsg *m)
{
        char got[32];
        SdList l = sd_collect(p, n, m->sd);
        const SdPair *q = sd_find_name(&l, name);
        bool in_sd = q != NULL;
        sd_free(&l);
        /* Values syslog-ng derives from Cisco headers when the message has no such SD. */
        if (!in_sd && strcmp(name, ".SDATA.meta.sequenceId") == 0) {
                cmp_span(name, value, p, m->seq);
                return;
        }
        if (!in_sd && strcmp(name, ".SDATA.timeQuality.isSynced") == 0) {
                snprintf(got, sizeof(got), "%s",
                         m->flags & LS_SYSLOG_TIME_SYNCED     ? "1"
                         : m->flags & LS_SYSLOG_TIME_UNSYNCED ? "0"
                                                              : "(absent)");
                if (strcmp(got, value))
                        dis(name, value, got);
                return;
        }
        l = sd_collect(p, n, m->sd);
        q = sd_find_name(&l, name);
        if (!q)
                dis(name, value, "(absent)");
        else if (strcmp(q->value, value))
                dis(name, value, q->value);
        sd_free(&l);
}

static void ng_msgparse(json_t *c, const uint8_t *p, size_t n)
{
        const char *flags = jstr(c, "parse_flags"), *bad_re = jstr(c, "bad_hostname_re");
        const char *emsg = jstr(c, "expected_msg");
        LsSyslogMsg m;
        json_t *v;

        parse_met(p, n, &m);
        if (strstr(flags, "LP_NOPARSE") || strstr(flags, "LP_SANITIZE_UTF8")) {
                R.na = "peer option changes its output (LP_NOPARSE / LP_SANITIZE_UTF8)";
                return;
        }
        if (bad_re && strcmp(bad_re, "^%") != 0) {
                R.na = "peer configured with a bad-hostname regexp";
                return;
        }
        if (!strstr(flags, "LP_EXPECT_HOSTNAME") && !strstr(flags, "LP_SYSLOG_PROTOCOL") &&
            m.hostname.len) {
                R.na = "peer configured not to expect a HOSTNAME";
                return;
        }
        if (emsg && strncmp(emsg, "Error processing log message:", 29) == 0) {
                if (m.status == LS_SYSLOG_OK)
                        dis("validity", "parse error", "valid");
                return;
        }
        /* syslog-ng gives a message without PRI its default user.notice (13). */
        long long pri = json_integer_value(json_object_get(c, "expected_pri"));
        if (pri != (m.pri < 0 ? 13 : m.pri))
                dis_int("pri", pri, m.pri);
        cmp_json_span("host", json_object_get(c, "expected_host"), p, m.hostname);
        cmp_json_span("program", json_object_get(c, "expected_program"), p, m.app_name);
        cmp_json_span("msg", json_object_get(c, "expected_msg"), p, m.msg);
        if (jhas(c, "expected_pid"))
                cmp_json_span("pid", json_object_get(c, "expected_pid"), p, m.procid);
        if (jhas(c, "expected_msgid"))
                cmp_json_span("msgid", json_object_get(c, "expected_msgid"), p, m.msgid);
        if (jhas(c, "expected_sdata_str"))
                cmp_json_span("sdata", json_object_get(c, "expected_sdata_str"), p, m.sd);
        v = json_object_get(c, "expected_sd_pairs");
        if (json_is_array(v)) {
                size_t i;
                json_t *pr;
                json_array_foreach(v, i, pr)
                        sd_pair_check(json_string_value(json_array_get(pr, 0)),
                                      json_string_value(json_array_get(pr, 1)), p, n, &m);
        }
        long long sec = json_integer_value(json_object_get(c, "expected_stamp_sec"));
        long long usec = json_integer_value(json_object_get(c, "expected_stamp_usec"));
        long long off = json_integer_value(json_object_get(c, "expected_stamp_gmtoff"));
        char got[96], want[96];
        fmt_time(got, sizeof(got), &m);
        snprintf(want, sizeof(want), "sec %lld usec %lld gmtoff %lld", sec, usec, off);
        if (sec == 0) {
                if (m.flags & LS_SYSLOG_HAVE_TIME)
                        dis("stamp", "(none in the message)", got);
        } else if (!(m.flags & LS_SYSLOG_HAVE_TIME) ||
                   (sec != 1 && m.time_ns / 1000000000 != sec) ||
                   (m.time_ns % 1000000000) / 1000 != usec || m.tz_offset != off) {
                dis("stamp", want, got);
        }
}

static bool has_tag(json_t *tags, const char *t)
{
        size_t i;
        json_t *v;
        json_array_foreach(tags, i, v) if (json_is_string(v) &&
                                           !strcmp(json_string_value(v), t)) return true;
        return false;
}

static void ng_format(json_t *c, const uint8_t *p, size_t n)
{
        json_t *vals = json_object_get(c, "expect_values"), *v;
        const char *kind = jstr(c, "kind"), *k;
        LsSyslogMsg m;

        if (kind && !strcmp(kind, "sd_fragment")) {
                bool acc = json_is_true(json_object_get(c, "accepted"));
                uint32_t off;
                const char *why = NULL;
                int r = ls_sd_validate(p, n, (LsSpan){0, (uint32_t) n}, &off, &why);
                if (acc != (r == 0))
                        dis("accepted", acc ? "yes" : "no", r == 0 ? "yes" : why);
                if (r != 0)
                        return;
                m = (LsSyslogMsg){.sd = (LsSpan){0, (uint32_t) n}};
                if (n == 1 && p[0] == '-')
                        m.sd.len = 0;
                json_object_foreach(vals, k, v)
                {
                        if (!strcmp(k, "SDATA"))
                                cmp_json_span(k, v, p, m.sd);
                        else
                                sd_pair_check(k, json_string_value(v), p, n, &m);
                }
                return;
        }
        if (jhas(c, "input_length") &&
            (size_t) json_integer_value(json_object_get(c, "input_length")) < n)
                n = (size_t) json_integer_value(json_object_get(c, "input_length"));
        parse_met(p, n, &m);
        json_t *tags = json_object_get(c, "expect_tags"),
               *not_tags = json_object_get(c, "expect_not_tags");
        bool invalid = json_is_false(json_object_get(c, "handler_returns")) ||
                       has_tag(tags, "syslog.invalid_pri") ||
                       has_tag(tags, "syslog.missing_timestamp") ||
                       has_tag(tags, "syslog.rfc3164_missing_header") ||
                       has_tag(tags, "syslog.rfc5424_invalid_sdata");
        if (invalid && m.status == LS_SYSLOG_OK)
                dis("validity", "invalid (error or error tag)", "valid");
        if (has_tag(tags, "LM_T_SYSLOG_UNEXPECTED_FRAMING") && !(m.flags & LS_SYSLOG_FRAMED))
                dis("framing", "looks octet-framed", "not flagged");
        if (has_tag(not_tags, "LM_T_SYSLOG_UNEXPECTED_FRAMING") && (m.flags & LS_SYSLOG_FRAMED))
                dis("framing", "not framed", "flagged LS_SYSLOG_FRAMED");
        json_object_foreach(vals, k, v)
        {
                const char *s = json_string_value(v);
                if (!strcmp(k, "HOST"))
                        cmp_span(k, s, p, m.hostname);
                else if (!strcmp(k, "MSG"))
                        cmp_span(k, s, p, m.msg);
                else if (!strcmp(k, "PID"))
                        cmp_span(k, s, p, m.procid);
                else if (!strcmp(k, "PROGRAM"))
                        cmp_span(k, s, p, m.app_name);
                else if (!strcmp(k, "MSGID"))
                        cmp_span(k, s, p, m.msgid);
                else if (!strcmp(k, "SDATA"))
                        cmp_span(k, s, p, m.sd);
                else if (!strcmp(k, "MSGFORMAT")) {
                        if (*s && strcmp(s, ls_syslog_format_name(m.format)))
                                dis(k, s, ls_syslog_format_name(m.format));
                } else if (!strncmp(k, ".SDATA.", 7))
                        sd_pair_check(k, s, p, n, &m);
                else
                        dis(k, s, "(field not compared by this harness)");
        }
}

/* ---- RFC examples ---------------------------------------------------------------------- */

static void rfc_case(json_t *c, const uint8_t *p, size_t n)
{
        const char *valid = jstr(c, "expected_valid"), *section = jstr(c, "section");
        json_t *fields = json_object_get(c, "fields"), *v;
        bool want = valid && !strncmp(valid, "yes", 3);
        const char *k;
        LsSyslogMsg m;

        if (valid && strstr(valid, "illustrative")) {
                R.na = "illustrative example with the RFC's elisions, not literal input";
                return;
        }
        if (section && strstr(section, "6.2.3.1")) {
                int64_t ns;
                int32_t off;
                size_t bad = 0;
                int r = ls_syslog_parse_timestamp(p, n, &ns, &off, &bad);
                if (want != (r == 0))
                        dis("timestamp validity", valid, r == 0 ? "valid" : "invalid");
                if (r == 0 && jhas(fields, "timestamp")) {
                        m = (LsSyslogMsg){.flags = LS_SYSLOG_HAVE_TIME | LS_SYSLOG_HAVE_TZ,
                                          .time_ns = ns,
                                          .tz_offset = off};
                        cmp_time_rfc3339("timestamp", jstr(fields, "timestamp"), &m);
                }
                return;
        }
        if (section && strstr(section, "6.3.5")) {
                const char *why = NULL;
                uint32_t off;
                int r = ls_sd_validate(p, n, (LsSpan){0, (uint32_t) n}, &off, &why);
                if (want != (r == 0))
                        dis("structured-data validity", valid, r == 0 ? "valid" : why);
                return;
        }
        parse_met(p, n, &m);
        if (want != (m.status == LS_SYSLOG_OK))
                dis("validity", valid, m.status == LS_SYSLOG_OK ? "valid" : m.error);
        json_object_foreach(fields, k, v)
        {
                if (!strcmp(k, "pri")) {
                        if (json_integer_value(v) != m.pri)
                                dis_int(k, json_integer_value(v), m.pri);
                } else if (!strcmp(k, "facility")) {
                        if (json_integer_value(v) != m.facility)
                                dis_int(k, json_integer_value(v), m.facility);
                } else if (!strcmp(k, "severity")) {
                        if (json_integer_value(v) != m.severity)
                                dis_int(k, json_integer_value(v), m.severity);
                } else if (!strcmp(k, "version")) {
                        if (json_integer_value(v) != m.version)
                                dis_int(k, json_integer_value(v), m.version);
                } else if (!strcmp(k, "timestamp")) {
                        const char *s = json_string_value(v);
                        int d, h, mi, sec;
                        char mon[4];
                        if (sscanf(s, "%3s %d %d:%d:%d", mon, &d, &h, &mi, &sec) == 5 &&
                            month_num(mon))
                                cmp_wall(k, s, month_num(mon), d, h, mi, sec, &m);
                        else
                                cmp_time_rfc3339(k, s, &m);
                } else if (!strcmp(k, "hostname")) {
                        cmp_json_span(k, v, p, m.hostname);
                } else if (!strcmp(k, "app_name") || !strcmp(k, "tag")) {
                        cmp_json_span(k, v, p, m.app_name);
                } else if (!strcmp(k, "procid")) {
                        cmp_span(k, strcmp(json_string_value(v), "-") ? json_string_value(v) : NULL,
                                 p, m.procid);
                } else if (!strcmp(k, "msgid")) {
                        cmp_span(k, strcmp(json_string_value(v), "-") ? json_string_value(v) : NULL,
                                 p, m.msgid);
                } else if (!strcmp(k, "structured_data")) {
                        cmp_sd_object(k, v, p, n, &m);
                } else if (!strcmp(k, "msg")) {
                        cmp_msg_with_bom(k, json_string_value(v), p, &m);
                } else if (!strcmp(k, "content")) {
                        /* RFC 3164 CONTENT: everything after the TAG. */
                        LsSpan s = m.msg;
                        if (m.app_name.len) {
                                size_t e = m.procid.len ? m.procid.off + m.procid.len + 1
                                                        : m.app_name.off + m.app_name.len;
                                s = (LsSpan){(uint32_t) e, (uint32_t) (n - e)};
                        }
                        cmp_json_span(k, v, p, s);
                } else {
                        /* RFC 5848 SIGN/CERT parameters. */
                        SdList l = sd_collect(p, n, m.sd);
                        const SdPair *q = NULL;
                        for (size_t i = 0; i < l.n && !q; i++)
                                if (l.v[i].param && !strcmp(l.v[i].param, k))
                                        q = &l.v[i];
                        if (!q)
                                dis(k, json_string_value(v), "(absent)");
                        else if (strcmp(q->value, json_string_value(v)))
                                dis(k, json_string_value(v), q->value);
                        sd_free(&l);
                }
        }
}

/* ---- driver ---------------------------------------------------------------------------- */

typedef enum Schema {
        SCHEMA_GO5424,
        SCHEMA_GO3164,
        SCHEMA_STREAM,
        SCHEMA_LOOSE,
        SCHEMA_NG_MSGPARSE,
        SCHEMA_NG_FORMAT,
        SCHEMA_RFC,
        SCHEMA_UNKNOWN,
} Schema;

static Schema schema_of(const char *name)
{
        if (strstr(name, "octetcounting") || strstr(name, "nontransparent"))
                return SCHEMA_STREAM;
        if (strstr(name, "go-syslog_rfc5424"))
                return SCHEMA_GO5424;
        if (strstr(name, "go-syslog_rfc3164"))
                return SCHEMA_GO3164;
        if (strstr(name, "syslog-loose"))
                return SCHEMA_LOOSE;
        if (strstr(name, "test_msgparse"))
                return SCHEMA_NG_MSGPARSE;
        if (strstr(name, "test_syslog_format"))
                return SCHEMA_NG_FORMAT;
        if (strstr(name, "rfc_examples"))
                return SCHEMA_RFC;
        return SCHEMA_UNKNOWN;
}

/* Agreement floors: the counts reached when VECTORS.md was written. Raise them when the
 * parser improves; a drop below is a regression. */
static const struct {
        const char *file;
        int min_agreed;
} floors[] = {
        {"influxdata-go-syslog_nontransparent.jsonl", 10},
        {"influxdata-go-syslog_octetcounting.jsonl", 17},
        {"influxdata-go-syslog_rfc3164.jsonl", 8},
        {"influxdata-go-syslog_rfc5424.jsonl", 664},
        {"leodido-go-syslog_rfc5424.jsonl", 634},
        {"syslog-loose.jsonl", 27},
        {"syslog-ng_test_msgparse.jsonl", 53},
        {"syslog-ng_test_syslog_format.jsonl", 37},
        {"rfc_examples.jsonl", 23},
};

static int floor_of(const char *base)
{
        for (size_t i = 0; i < sizeof(floors) / sizeof(floors[0]); i++)
                if (!strcmp(floors[i].file, base))
                        return floors[i].min_agreed;
        return -1;
}

static char *case_id(json_t *c, int line)
{
        char *id;
        const char *t = jstr(c, "test"), *d = jstr(c, "descr"), *set = jstr(c, "set");
        const char *trailer = jstr(c, "trailer");
        json_t *idx = json_object_get(c, "idx"), *rid = json_object_get(c, "id");
        int r;

        if (json_is_integer(rid))
                r = asprintf(&id, "line %d (id %lld)", line, json_integer_value(rid));
        else if (t)
                r = asprintf(&id, "line %d (%s #%lld)", line, t, json_integer_value(idx));
        else if (d)
                r = asprintf(&id, "line %d (%s%s%s)", line, d, trailer ? ", " : "",
                             trailer ? trailer : "");
        else
                r = asprintf(&id, "line %d (%s #%lld)", line, set ? set : "case",
                             json_integer_value(idx));
        if (r < 0)
                abort();
        return id;
}

static int run_file(const char *path, int *failed)
{
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        Schema sch = schema_of(base);
        FILE *f = fopen(path, "re");
        char *line = NULL;
        size_t cap = 0;
        int lineno = 0, cases = 0, agreed = 0, disagreed = 0, na = 0;
        size_t na_start;

        if (!f) {
                fprintf(stderr, "%s: %m\n", path);
                return -errno;
        }
        R.len = 0;
        if (R.text)
                R.text[0] = 0;
        char *na_text = NULL;
        size_t na_len = 0;
        FILE *na_f = open_memstream(&na_text, &na_len);
        while (getline(&line, &cap, f) > 0) {
                json_error_t err;
                json_t *c;
                uint8_t *p;
                size_t n;

                lineno++;
                c = json_loads(line, 0, &err);
                if (!c) {
                        fprintf(stderr, "%s:%d: %s\n", path, lineno, err.text);
                        (*failed)++;
                        continue;
                }
                cases++;
                n = unhex(jstr(c, "input_hex") ? jstr(c, "input_hex") : "", &p);
                char *id = case_id(c, lineno);
                R.case_id = id;
                R.ndis = 0;
                R.na = NULL;
                na_start = R.len;
                switch (sch) {
                case SCHEMA_GO5424:
                        go_rfc5424(c, p, n);
                        break;
                case SCHEMA_GO3164:
                        go_rfc3164(c, p, n);
                        break;
                case SCHEMA_STREAM:
                        stream_case(c, p, n);
                        break;
                case SCHEMA_LOOSE:
                        loose_case(c, p, n);
                        break;
                case SCHEMA_NG_MSGPARSE:
                        ng_msgparse(c, p, n);
                        break;
                case SCHEMA_NG_FORMAT:
                        ng_format(c, p, n);
                        break;
                case SCHEMA_RFC:
                        rfc_case(c, p, n);
                        break;
                default:
                        R.na = "unknown file schema";
                        break;
                }
                if (R.na) {
                        na++;
                        R.len = na_start;
                        fprintf(na_f, "    %s: %s\n", id, R.na);
                } else if (R.ndis) {
                        disagreed++;
                } else {
                        agreed++;
                }
                free(id);
                free(p);
                json_decref(c);
        }
        fclose(na_f);
        free(line);
        fclose(f);
        int fl = floor_of(base);
        printf("%s: cases %d, agreed %d, disagreed %d, not comparable %d (agreement %.1f%% of "
               "comparable)%s\n",
               base, cases, agreed, disagreed, na,
               cases - na ? 100.0 * agreed / (cases - na) : 100.0,
               fl >= 0 && agreed < fl ? " BELOW FLOOR" : "");
        if (R.len)
                printf("  disagreements:\n%s", R.text);
        if (na_len)
                printf("  not comparable:\n%s", na_text);
        free(na_text);
        if (fl >= 0 && agreed < fl) {
                printf("  FAIL: agreed %d < floor %d\n", agreed, fl);
                (*failed)++;
        }
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Raw inputs without expectations: they must frame and parse without harm. */
static void run_corpus(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int files = 0, msgs = 0;
        if (!d)
                return;
        while ((e = readdir(d))) {
                char *path;
                FILE *f;
                uint8_t buf[1 << 16];
                size_t n;
                if (e->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
                        abort();
                f = fopen(path, "re");
                free(path);
                if (!f)
                        continue;
                n = fread(buf, 1, sizeof(buf), f);
                fclose(f);
                Frames fs = frame_all(buf, n, LS_FRAMER_DEFAULT_MAX_MSG, 7);
                for (size_t i = 0; i < fs.n; i++) {
                        LsSyslogMsg m;
                        ls_syslog_parse(fs.v[i].p, fs.v[i].len, NULL, &m);
                        msgs++;
                }
                frames_free(&fs);
                files++;
        }
        closedir(d);
        printf("rsyslog_fuzz_corpus: %d raw inputs, %d messages framed and parsed\n", files, msgs);
}

/* loghub BSD logs sent as "<13>" + line over a delimiter-framed connection. */
static int run_loghub(const char *dir, int *failed)
{
        static const char *const names[] = {"Linux", "OpenSSH", "Mac"};
        for (size_t k = 0; k < 3; k++) {
                char *path;
                FILE *f;
                char *line = NULL;
                size_t cap = 0;
                ssize_t len;
                int lines = 0, bsd = 0, timed = 0, host = 0, app = 0;
                if (asprintf(&path, "%s/loghub/%s_2k.log", dir, names[k]) < 0)
                        abort();
                f = fopen(path, "re");
                free(path);
                if (!f)
                        continue;
                /* The whole file, each line prefixed, framed in 1000-byte chunks. */
                char *stream = NULL;
                size_t slen = 0;
                FILE *s = open_memstream(&stream, &slen);
                while ((len = getline(&line, &cap, f)) > 0) {
                        fputs("<13>", s);
                        fwrite(line, 1, (size_t) len, s);
                }
                fclose(s);
                fclose(f);
                free(line);
                Frames fs =
                        frame_all((const uint8_t *) stream, slen, LS_FRAMER_DEFAULT_MAX_MSG, 1000);
                LsSyslogParseOpts o = {.now = 1500000000};
                for (size_t i = 0; i < fs.n; i++) {
                        LsSyslogMsg m;
                        ls_syslog_parse(fs.v[i].p, fs.v[i].len, &o, &m);
                        lines++;
                        bsd += m.format == LS_SYSLOG_RFC3164 && m.status == LS_SYSLOG_OK;
                        timed += !!(m.flags & LS_SYSLOG_HAVE_TIME);
                        host += m.hostname.len > 0;
                        app += m.app_name.len > 0;
                        if (fs.v[i].len && fs.v[i].p[fs.v[i].len - 1] == '\r')
                                (*failed)++, printf("  %s message %zu kept its CR\n", names[k], i);
                }
                frames_free(&fs);
                free(stream);
                printf("loghub %s: %d lines framed, %d RFC 3164 OK, %d with time, %d with host, "
                       "%d with app_name\n",
                       names[k], lines, bsd, timed, host, app);
                if (lines != 2000 || bsd != lines || timed != lines || host != lines) {
                        printf("  FAIL: every line must frame and parse as BSD with time and "
                               "host\n");
                        (*failed)++;
                }
        }
        return 0;
}

int main(void)
{
        const char *dir = getenv("SHARED_DATA");
        char *vdir, *rfc, *corpus;
        struct stat st;
        DIR *d;
        struct dirent *e;
        char **files = NULL;
        size_t nfiles = 0;
        int failed = 0;

        if (!dir || !*dir)
                dir = "../shared/data";
        if (asprintf(&vdir, "%s/vectors", dir) < 0 ||
            asprintf(&rfc, "%s/rfc/rfc_examples.jsonl", dir) < 0 ||
            asprintf(&corpus, "%s/vectors/rsyslog_fuzz_corpus", dir) < 0)
                return 1;
        if (stat(vdir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                printf("skipped: %s not found (set SHARED_DATA)\n", vdir);
                free(vdir);
                free(rfc);
                free(corpus);
                return 77;
        }
        /* syslog-ng's tests run in this zone. */
        setenv("TZ", "MET-1METDST", 1);
        tzset();
        d = opendir(vdir);
        if (!d)
                return 1;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l > 6 && !strcmp(e->d_name + l - 6, ".jsonl")) {
                        files = realloc(files, (nfiles + 1) * sizeof(*files));
                        if (!files || asprintf(&files[nfiles++], "%s/%s", vdir, e->d_name) < 0)
                                return 1;
                }
        }
        closedir(d);
        qsort(files, nfiles, sizeof(*files), cmp_str);
        for (size_t i = 0; i < nfiles; i++) {
                run_file(files[i], &failed);
                free(files[i]);
        }
        if (stat(rfc, &st) == 0)
                run_file(rfc, &failed);
        if (stat_col_checked)
                printf("go-syslog error columns: %d of %d invalid cases report the same offset\n",
                       stat_col_equal, stat_col_checked);
        run_corpus(corpus);
        run_loghub(dir, &failed);
        free(files);
        free(vdir);
        free(rfc);
        free(corpus);
        free(R.text);
        printf("%s\n", failed ? "FAILED" : "ok");
        return failed ? 1 : 0;
}
