/* SPDX-License-Identifier: Apache-2.0 */
/* test-vectors, syslog-ng cases (the driver is in test-vectors.c) */
#include "test-vectors.h"

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
void parse_met(const uint8_t *p, size_t n, LsSyslogMsg *m)
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

void ng_msgparse(json_t *c, const uint8_t *p, size_t n)
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

void ng_format(json_t *c, const uint8_t *p, size_t n)
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
