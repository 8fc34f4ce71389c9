/* SPDX-License-Identifier: Apache-2.0 */
/* test-syslog, RFC 5424 parsing (the suite is in test-syslog.c) */
#include "test-syslog.h"

/* ---- RFC 5424 ---------------------------------------------------------------------------- */

START_TEST(parser_reads_every_rfc5424_header_field)
{
        static const char t[] =
                "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
                "eventID=\"1011\"][examplePriority@32473 class=\"high\"] hello";
        LsSyslogMsg m = parse(t);

        ck_assert_int_eq(m.format, LS_SYSLOG_RFC5424);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_assert_ptr_null(m.error);
        ck_assert_int_eq(m.pri, 165);
        ck_assert_int_eq(m.facility, 20);
        ck_assert_int_eq(m.severity, 5);
        ck_assert_int_eq(m.version, 1);
        ck_assert(m.flags & LS_SYSLOG_HAVE_TIME);
        ck_assert(m.flags & LS_SYSLOG_HAVE_TZ);
        ck_assert_int_eq(m.time_ns, utc(2003, 10, 11, 22, 14, 15) * NS + 3000000);
        ck_assert_int_eq(m.tz_offset, 0);
        ck_span(t, m.hostname, "mymachine.example.com");
        ck_span(t, m.app_name, "evntslog");
        ck_span(t, m.procid, NULL);
        ck_span(t, m.msgid, "ID47");
        ck_span(t, m.sd,
                "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
                "eventID=\"1011\"][examplePriority@32473 class=\"high\"]");
        ck_span(t, m.msg, "hello");
}
END_TEST

START_TEST(parser_reads_fractional_seconds_and_numeric_offsets)
{
        LsSyslogMsg m =
                parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - x");
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_assert_int_eq(m.time_ns, utc(2003, 8, 24, 12, 14, 15) * NS + 3000);
        ck_assert_int_eq(m.tz_offset, -7 * 3600);
        m = parse("<1>1 1985-04-12T23:20:50.52+23:59 - - - - -");
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_assert_int_eq(m.time_ns,
                         (utc(1985, 4, 12, 23, 20, 50) - 23 * 3600 - 59 * 60) * NS + 520000000);
        /* Before 1970 and leap day. */
        m = parse("<1>1 1969-12-31T23:59:59.5Z - - - - -");
        ck_assert_int_eq(m.time_ns, -NS / 2);
        m = parse("<1>1 2000-02-29T00:00:00Z - - - - -");
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
}
END_TEST

START_TEST(parser_flags_timestamps_the_rfc_forbids_but_keeps_a_readable_time)
{
        static const struct {
                const char *text;
                unsigned err_off;
                bool time;
        } cases[] = {
                {"<1>1 2003-08-24T05:14:15.000000003-07:00 - - - - -", 31, true},
                {"<1>1 2003-08-24t05:14:15Z - - - - -", 15, true},
                {"<1>1 2003-08-24T05:14:15z - - - - -", 24, true},
                {"<1>1 2003-08-24T05:14:15 - - - - -", 24, true},
                {"<1>1 2003-09-31T05:14:15Z - - - - -", 13, false},
                {"<1>1 2018-02-29T05:14:15Z - - - - -", 13, false},
                {"<1>1 2003-08-24T05:14:15-24:00 - - - - -", 25, false},
                {"<1>1 2003-08-24T05:14:60Z - - - - -", 22, true}, /* leap second */
                {"<1>1 Oct 11 22:14:15 - - - - -", 5, false},
        };
        for (size_t i = 0; i < NW(cases); i++) {
                LsSyslogMsg m = parse(cases[i].text);
                ck_assert_msg(m.status == LS_SYSLOG_INVALID, "%s: not flagged", cases[i].text);
                ck_assert_msg(m.error_offset == cases[i].err_off, "%s: error at %u (%s)",
                              cases[i].text, m.error_offset, m.error);
                ck_assert_msg(!!(m.flags & LS_SYSLOG_HAVE_TIME) == cases[i].time, "%s: time",
                              cases[i].text);
        }
        /* "Oct 11 22:14:15" spans three words: the fields after it shift, so the parser
         * goes on but the message stays INVALID. */
        LsSyslogMsg m = parse("<1>1 2003-08-24T05:14:15.000000003-07:00 h a p m - x");
        ck_assert_int_eq(m.time_ns, utc(2003, 8, 24, 12, 14, 15) * NS + 3);
        ck_span("<1>1 2003-08-24T05:14:15.000000003-07:00 h a p m - x", m.msg, "x");
}
END_TEST

START_TEST(parser_treats_nil_values_as_absent)
{
        static const char t[] = "<14>1 - - - - - -";
        LsSyslogMsg m = parse(t);
        ck_assert_int_eq(m.format, LS_SYSLOG_RFC5424);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_assert(!(m.flags & LS_SYSLOG_HAVE_TIME));
        ck_span(t, m.hostname, NULL);
        ck_span(t, m.app_name, NULL);
        ck_span(t, m.procid, NULL);
        ck_span(t, m.msgid, NULL);
        ck_span(t, m.sd, NULL);
        ck_span(t, m.msg, NULL);
}
END_TEST

START_TEST(parser_enforces_field_limits_and_still_reads_later_fields)
{
        char t[600];
        LsSyslogMsg m;

        snprintf(t, sizeof(t), "<1>1 - %0256d app 42 ID - text", 0);
        m = parse(t);
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_uint_eq(m.error_offset, 7 + 255);
        ck_assert_uint_eq(m.hostname.len, 256);
        ck_span(t, m.app_name, "app");
        ck_span(t, m.procid, "42");
        ck_span(t, m.msg, "text");
        snprintf(t, sizeof(t), "<1>1 - h %049d - - - x", 0);
        m = parse(t);
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_uint_eq(m.error_offset, 9 + 48);
        snprintf(t, sizeof(t), "<1>1 - h a - %033d - x", 0);
        m = parse(t);
        ck_assert_uint_eq(m.error_offset, 13 + 32);
        snprintf(t, sizeof(t), "<1>1 - h a %0129d - - x", 0);
        m = parse(t);
        ck_assert_uint_eq(m.error_offset, 11 + 128);
        /* Exactly at the limits is fine. */
        snprintf(t, sizeof(t), "<1>1 - %0255d %048d %0128d %032d - x", 0, 0, 0, 0);
        m = parse(t);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        /* A byte outside PRINTUSASCII. */
        m = parse("<1>1 - h\xc3\xa9 a - - -");
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_uint_eq(m.error_offset, 8);
}
END_TEST

START_TEST(parser_stops_where_structure_is_lost_and_keeps_the_rest_as_text)
{
        static const char t1[] = "<1>1 - h a p m [ok x=\"1\"][bad x=\"]\"] more text";
        LsSyslogMsg m = parse(t1);
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_str_eq(m.error, "unescaped ']' in PARAM-VALUE");
        ck_assert_uint_eq(m.error_offset, 33);
        ck_span(t1, m.sd, "[ok x=\"1\"]");
        ck_span(t1, m.msg, "[bad x=\"]\"] more text");
        static const char t2[] = "<1>1 - h a p";
        m = parse(t2);
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_uint_eq(m.error_offset, 12);
        ck_span(t2, m.procid, "p");
        static const char t3[] = "<1>1 -  a p m - x";
        m = parse(t3);
        ck_assert_uint_eq(m.error_offset, 7);
        ck_span(t3, m.msg, " a p m - x");
        /* SP between SD-ELEMENTs ends the STRUCTURED-DATA: the rest is MSG, valid. */
        static const char t4[] = "<1>1 - - - - - [a x=\"1\"] [b y=\"2\"]";
        m = parse(t4);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_span(t4, m.sd, "[a x=\"1\"]");
        ck_span(t4, m.msg, "[b y=\"2\"]");
        /* The RFC example mis-transcribed with a SP after '=' must be rejected. */
        m = parse("<165>1 2003-10-11T22:14:15.003Z m e - ID47 [exampleSDID@32473 iut=\"3\" "
                  "eventSource= \"Application\" eventID=\"1011\"] BOMAn application event");
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_str_eq(m.error, "expecting '\"' before PARAM-VALUE");
}
END_TEST

START_TEST(parser_reports_duplicate_sd_ids_and_overlong_sd_names)
{
        LsSyslogMsg m = parse("<1>1 - - - - - [a x=\"1\"][b][a y=\"2\"] x");
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_str_eq(m.error, "duplicate SD-ID");
        ck_assert_uint_eq(m.error_offset, 28);
        ck_assert_uint_eq(m.sd.len, 21);
        m = parse("<1>1 - - - - - [abcdefghijabcdefghijabcdefghijabc x=\"1\"] x");
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_str_eq(m.error, "SD-ID longer than 32");
        ck_assert_uint_eq(m.error_offset, 16 + 32);
}
END_TEST

START_TEST(sequence_id_is_the_one_meta_sequenceId_in_range)
{
        static const struct {
                const char *msg;
                int r;
                uint32_t seq;
        } cases[] = {
                {"<13>1 - h a - - [meta sequenceId=\"1\"] m", 1, 1},
                {"<13>1 - h a - - [x@1 a=\"b\"][meta sysUpTime=\"5\" sequenceId=\"42\"] m", 1, 42},
                {"<13>1 - h a - - [meta sequenceId=\"2147483647\"] m", 1, 2147483647u},
                {"<13>1 - h a - - - m", 0, 0},
                {"<13>1 - h a - - [meta sysUpTime=\"5\"] m", 0, 0},
                {"<13>1 - h a - - [x@1 sequenceId=\"5\"] m", 0, 0},
                {"<13>Jan  1 00:00:00 h a: [meta sequenceId=\"5\"]", 0, 0},
                {"<13>1 - h a - - [meta sequenceId=\"2147483648\"] m", -EBADMSG, 0},
                {"<13>1 - h a - - [meta sequenceId=\"99999999999999999999\"] m", -EBADMSG, 0},
                {"<13>1 - h a - - [meta sequenceId=\"0\"] m", -EBADMSG, 0},
                {"<13>1 - h a - - [meta sequenceId=\"07\"] m", -EBADMSG, 0},
                {"<13>1 - h a - - [meta sequenceId=\"-7\"] m", -EBADMSG, 0},
                {"<13>1 - h a - - [meta sequenceId=\"\"] m", -EBADMSG, 0},
                {"<13>1 - h a - - [meta sequenceId=\"1\\]\"] m", -EBADMSG, 0},
                {"<13>1 - h a - - [meta sequenceId=\"1\" sequenceId=\"2\"] m", -EBADMSG, 0},
                {"<13>1 - h a - - [meta sequenceId=\"1\"][meta sequenceId=\"2\"] m", -EBADMSG, 0},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                LsSyslogMsg m = parse(cases[i].msg);
                uint32_t seq = 0;
                int r = ls_syslog_sequence_id((const uint8_t *) cases[i].msg,
                                              strlen(cases[i].msg), &m, &seq);
                ck_assert_msg(r == cases[i].r, "%s: %d", cases[i].msg, r);
                if (r == 1)
                        ck_assert_uint_eq(seq, cases[i].seq);
        }
}
END_TEST

START_TEST(sd_iterator_walks_elements_and_unescapes_values)
{
        static const char t[] =
                "<1>1 - - - - - [id@1 a=\"q\\\"b\\\\s\\]e\" lit=\"\\n\\x\" e=\"\"][z] m";
        LsSyslogMsg m = parse(t);
        LsSdIter it;
        LsSpan id, name, value;
        uint8_t buf[32];
        size_t len;

        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ls_sd_iter_init(&it, (const uint8_t *) t, strlen(t), m.sd);
        ck_assert_int_eq(ls_sd_next_element(&it, &id), 1);
        ck_span(t, id, "id@1");
        ck_assert_int_eq(ls_sd_next_param(&it, &name, &value), 1);
        ck_span(t, name, "a");
        ck_span(t, value, "q\\\"b\\\\s\\]e");
        ck_assert_int_eq(
                ls_sd_unescape((const uint8_t *) t, strlen(t), value, buf, sizeof(buf), &len), 0);
        ck_assert_uint_eq(len, 7);
        ck_assert_mem_eq(buf, "q\"b\\s]e", 7);
        /* Too small a buffer: the size needed. */
        ck_assert_int_eq(ls_sd_unescape((const uint8_t *) t, strlen(t), value, buf, 3, &len),
                         -ENOBUFS);
        ck_assert_uint_eq(len, 7);
        /* A backslash before any other character stays (RFC 5424 §6.3.3). */
        ck_assert_int_eq(ls_sd_next_param(&it, &name, &value), 1);
        ck_assert_int_eq(
                ls_sd_unescape((const uint8_t *) t, strlen(t), value, buf, sizeof(buf), &len), 0);
        ck_assert_uint_eq(len, 4);
        ck_assert_mem_eq(buf, "\\n\\x", 4);
        ck_assert_int_eq(ls_sd_next_param(&it, &name, &value), 1);
        ck_assert_uint_eq(value.len, 0);
        ck_assert_int_eq(ls_sd_next_param(&it, &name, &value), 0);
        ck_assert_int_eq(ls_sd_next_element(&it, &id), 1);
        ck_span(t, id, "z");
        ck_assert_int_eq(ls_sd_next_param(&it, &name, &value), 0);
        ck_assert_int_eq(ls_sd_next_element(&it, &id), 0);
        ck_assert_ptr_null(it.error);
        ck_assert_ptr_null(it.soft_error);
        /* Skipping params, and a NILVALUE span. */
        ls_sd_iter_init(&it, (const uint8_t *) t, strlen(t), m.sd);
        ck_assert_int_eq(ls_sd_next_element(&it, &id), 1);
        ck_assert_int_eq(ls_sd_next_element(&it, &id), 1);
        ck_span(t, id, "z");
        ls_sd_iter_init(&it, (const uint8_t *) "-", 1, (LsSpan){0, 1});
        ck_assert_int_eq(ls_sd_next_element(&it, &id), 0);
}
END_TEST

START_TEST(sd_validation_follows_the_rfc_grammar)
{
        static const struct {
                const char *sd;
                bool ok;
        } cases[] = {
                {"-", true},
                {"[a]", true},
                {"[a b=\"\"]", true},
                {"[a@32473 b=\"1\" c=\"2\"][d e=\"3\"]", true},
                {"[a b=\"\\\\\"]", true},
                {"[a b=\"\xc3\xa9\"]", true},
                {"", false},
                {"[", false},
                {"[]", false},
                {"[ a]", false},
                {"[a] [b]", false},
                {"[a b]", false},
                {"[a b=c]", false},
                {"[a b=\"c]", false},
                {"[a b=\"]\"]", false},
                {"[a b=\"\\\"]", false},
                {"[a= b=\"c\"]", false},
                {"[a b=\"\xc3(\"]", false},
                {"[a b=\"1\"", false},
                {"[abcdefghijabcdefghijabcdefghijabc]", false},
                {"[a b=\"1\"]x", false},
        };
        for (size_t i = 0; i < NW(cases); i++) {
                size_t n = strlen(cases[i].sd);
                const char *why = NULL;
                uint32_t off = 0;
                int r = ls_sd_validate((const uint8_t *) cases[i].sd, n, (LsSpan){0, (uint32_t) n},
                                       &off, &why);
                ck_assert_msg((r == 0) == cases[i].ok, "%s: %s", cases[i].sd, why ? why : "valid");
        }
}
END_TEST

START_TEST(parser_strips_a_bom_and_checks_the_utf8_after_it)
{
        static const char t[] = "<1>1 - - - - - - \xef\xbb\xbf\xce\xba\xe1\xbd\xb9";
        LsSyslogMsg m = parse(t);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_assert(m.flags & LS_SYSLOG_BOM);
        ck_span(t, m.msg, "\xce\xba\xe1\xbd\xb9");
        m = parse("<1>1 - - - - - - \xef\xbb\xbfok\xed\xa0\x80");
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_uint_eq(m.error_offset, 22);
        /* Without a BOM any octets are MSG-ANY. */
        m = parse("<1>1 - - - - - - fond\xfc");
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_assert(!(m.flags & LS_SYSLOG_BOM));
}
END_TEST

START_TEST(parser_reports_malformed_and_out_of_range_pri)
{
        static const struct {
                const char *t;
                int format;
                unsigned off;
        } cases[] = {
                {"<>1 - - - - - -", LS_SYSLOG_UNPARSED, 1},
                {"<1a>1 - - - - - -", LS_SYSLOG_UNPARSED, 2},
                {"<1910>1 - - - - - -", LS_SYSLOG_UNPARSED, 4},
                {"<189 Feb  3 12:34:56 host program[pid]: message", LS_SYSLOG_UNPARSED, 4},
                {"<192>1 - - - - - -", LS_SYSLOG_RFC5424, 1},
                {"<002>1 - - - - - -", LS_SYSLOG_RFC5424, 1},
        };
        for (size_t i = 0; i < NW(cases); i++) {
                LsSyslogMsg m = parse(cases[i].t);
                ck_assert_msg(m.format == cases[i].format, "%s: format %d", cases[i].t, m.format);
                ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
                ck_assert_msg(m.error_offset == cases[i].off, "%s: at %u", cases[i].t,
                              m.error_offset);
                if (m.format == LS_SYSLOG_UNPARSED)
                        ck_span(cases[i].t, m.msg, cases[i].t);
        }
        LsSyslogMsg m = parse("<192>1 - - - - - -");
        ck_assert_int_eq(m.pri, -1);
        ck_assert_int_eq(m.facility, -1);
        m = parse("<002>1 - - - - - -");
        ck_assert_int_eq(m.pri, 2);
}
END_TEST

void suite_add_rfc5424(TCase *tc)
{
        tcase_add_test(tc, parser_reads_every_rfc5424_header_field);
        tcase_add_test(tc, parser_reads_fractional_seconds_and_numeric_offsets);
        tcase_add_test(tc, parser_flags_timestamps_the_rfc_forbids_but_keeps_a_readable_time);
        tcase_add_test(tc, parser_treats_nil_values_as_absent);
        tcase_add_test(tc, parser_enforces_field_limits_and_still_reads_later_fields);
        tcase_add_test(tc, parser_stops_where_structure_is_lost_and_keeps_the_rest_as_text);
        tcase_add_test(tc, parser_reports_duplicate_sd_ids_and_overlong_sd_names);
        tcase_add_test(tc, sd_iterator_walks_elements_and_unescapes_values);
        tcase_add_test(tc, sequence_id_is_the_one_meta_sequenceId_in_range);
        tcase_add_test(tc, sd_validation_follows_the_rfc_grammar);
        tcase_add_test(tc, parser_strips_a_bom_and_checks_the_utf8_after_it);
        tcase_add_test(tc, parser_reports_malformed_and_out_of_range_pri);
}
