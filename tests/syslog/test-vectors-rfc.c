/* SPDX-License-Identifier: Apache-2.0 */
/* test-vectors, the RFC examples (the driver is in test-vectors.c) */
#include "test-vectors.h"

/* ---- RFC examples ---------------------------------------------------------------------- */

void rfc_case(json_t *c, const uint8_t *p, size_t n)
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
