/* SPDX-License-Identifier: Apache-2.0 */
/* test-vectors, go-syslog cases and framing streams (the driver is in test-vectors.c) */
#include "test-vectors.h"

/* ---- go-syslog (influxdata, leodido) ---------------------------------------------------- */

int stat_col_checked, stat_col_equal;

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

void go_rfc5424(json_t *c, const uint8_t *p, size_t n)
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

int month_num(const char *s)
{
        static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        for (int i = 0; i < 12; i++)
                if (strncmp(s, mons[i], 3) == 0)
                        return i + 1;
        return 0;
}

void go_rfc3164(json_t *c, const uint8_t *p, size_t n)
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

Frames frame_all(const uint8_t *p, size_t n, size_t max, size_t chunk)
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

void frames_free(Frames *fs)
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

void stream_case(json_t *c, const uint8_t *p, size_t n)
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
