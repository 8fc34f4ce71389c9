/* SPDX-License-Identifier: Apache-2.0 */
/* test-vectors, syslog-loose cases (the driver is in test-vectors.c) */
#include "test-vectors.h"

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

void loose_case(json_t *c, const uint8_t *p, size_t n)
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
