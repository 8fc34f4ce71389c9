/* SPDX-License-Identifier: Apache-2.0 */
/* test-syslog, RFC 3164 and real-world variants (the suite is in test-syslog.c) */
#include "test-syslog.h"

/* ---- RFC 3164 and real-world variants ---------------------------------------------------- */

START_TEST(parser_reads_a_bsd_message_and_guesses_the_year_like_syslog_ng)
{
        static const char t[] = "<34>Oct 11 22:14:15 mymachine su[77]: 'su root' failed";
        LsSyslogParseOpts o = {.now = utc(2019, 2, 8, 12, 0, 0), .local_offset = 3600};
        LsSyslogMsg m = parse_opts(t, &o);

        ck_assert_int_eq(m.format, LS_SYSLOG_RFC3164);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_assert_int_eq(m.pri, 34);
        ck_assert(m.flags & LS_SYSLOG_YEAR_GUESSED);
        ck_assert(!(m.flags & LS_SYSLOG_HAVE_TZ));
        ck_assert_int_eq(m.tz_offset, 3600);
        ck_assert_int_eq(m.time_ns, (utc(2019, 10, 11, 22, 14, 15) - 3600) * NS);
        ck_span(t, m.hostname, "mymachine");
        ck_span(t, m.app_name, "su");
        ck_span(t, m.procid, "77");
        ck_span(t, m.msg, "'su root' failed");
        /* December seen in January: last year. January seen in December: next year. */
        o = (LsSyslogParseOpts){.now = utc(2020, 1, 2, 0, 0, 0)};
        m = parse_opts("<13>Dec 31 23:59:59 h a: x", &o);
        ck_assert_int_eq(m.time_ns, utc(2019, 12, 31, 23, 59, 59) * NS);
        o = (LsSyslogParseOpts){.now = utc(2019, 12, 31, 23, 0, 0)};
        m = parse_opts("<13>Jan  1 00:00:01 h a: x", &o);
        ck_assert_int_eq(m.time_ns, utc(2020, 1, 1, 0, 0, 1) * NS);
        /* The year follows opts->now in local time: 23:30 UTC on Dec 31 is January in +1h. */
        o = (LsSyslogParseOpts){.now = utc(2019, 12, 31, 23, 30, 0), .local_offset = 3600};
        m = parse_opts("<13>Dec 31 23:59:59 h a: x", &o);
        ck_assert_int_eq(m.time_ns, (utc(2019, 12, 31, 23, 59, 59) - 3600) * NS);
        /* Feb 29 in a year without it. */
        o = (LsSyslogParseOpts){.now = utc(2019, 6, 1, 0, 0, 0)};
        m = parse_opts("<134> Feb 29 14:07:19 myhostname sshd: x", &o);
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert(!(m.flags & LS_SYSLOG_HAVE_TIME));
}
END_TEST

START_TEST(parser_reads_bsd_timestamp_variants)
{
        LsSyslogParseOpts o = {.now = utc(2019, 2, 8, 12, 0, 0)};
        static const struct {
                const char *t;
                int64_t when;
                uint32_t frac;
                const char *host, *app, *msg;
        } cases[] = {
                {"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", 0, 0, "10.0.0.99", NULL,
                 "Use the BFG!"},
                {"<13>Jan 5 10:01:00 h a: x", 0, 0, "h", "a", "x"},
                {"<190>NOV 22 00:00:33 192.168.33.8-1 CMDLOGGER[165]: cmd", 0, 0, "192.168.33.8-1",
                 "CMDLOGGER", "cmd"},
                {"<7> Aug 29 02:00:00.156789 h snmpd[2499]: x", 0, 156789000, "h", "snmpd", "x"},
                {"<190>Apr 15 21:28:13 2007 linksys app: msg", 1176672493, 0, "linksys", "app",
                 "msg"},
                {"<190>Apr 15 2007 21:28:13: %PIX-6-302014: Teardown", 1176672493, 0, NULL,
                 "%PIX-6-302014", "Teardown"},
                {"<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time", 556781640, 0,
                 "mymachine", "myproc", "%% It's time"},
                {"<13>Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass", 0, 0, "combo",
                 "sshd(pam_unix)", "check pass"},
                {"<13>Feb 13 20:07:26 74794bfb6795 root[8539]:syslog message", 0, 0, "74794bfb6795",
                 "root", "syslog message"},
                {"<133>Jan 13 16:33:35 haproxy[73411]: Proxy started.", 0, 0, NULL, "haproxy",
                 "Proxy started."},
                {"<13>Jan 13 16:33:35 host last message repeated 2 times", 0, 0, "host", NULL,
                 "last message repeated 2 times"},
        };
        for (size_t i = 0; i < NW(cases); i++) {
                const char *t = cases[i].t;
                LsSyslogMsg m = parse_opts(t, &o);
                ck_assert_msg(m.format == LS_SYSLOG_RFC3164 && m.status == LS_SYSLOG_OK, "%s: %s",
                              t, m.error);
                ck_assert_msg(m.flags & LS_SYSLOG_HAVE_TIME, "%s: no time", t);
                if (cases[i].when)
                        ck_assert_msg(m.time_ns / NS == cases[i].when, "%s: %lld", t,
                                      (long long) (m.time_ns / NS));
                ck_assert_int_eq(m.time_ns % NS, cases[i].frac);
                ck_span(t, m.hostname, cases[i].host);
                ck_span(t, m.app_name, cases[i].app);
                ck_span(t, m.msg, cases[i].msg);
        }
}
END_TEST

START_TEST(parser_reads_iso_timestamps_in_bsd_messages)
{
        static const char t[] = "<7>2006-10-29T01:59:59.156+01:00 bzorp openvpn[2499]: PTHREAD";
        LsSyslogMsg m = parse(t);
        ck_assert_int_eq(m.format, LS_SYSLOG_RFC3164);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_assert_int_eq(m.time_ns, 1162083599 * NS + 156000000);
        ck_assert_int_eq(m.tz_offset, 3600);
        ck_span(t, m.hostname, "bzorp");
        ck_span(t, m.app_name, "openvpn");
        /* More than nine fractional digits are read and ignored; no zone; space for T. */
        m = parse("<7>2006-11-10T10:43:21.15600000000000000000000 bzorp openvpn[2499]: x");
        ck_assert_int_eq(m.time_ns, utc(2006, 11, 10, 10, 43, 21) * NS + 156000000);
        ck_assert(!(m.flags & LS_SYSLOG_HAVE_TZ));
        m = parse("<7>2006-10-29 02:00:00.156+01:00");
        ck_assert_int_eq(m.time_ns, 1162083600 * NS + 156000000);
}
END_TEST

START_TEST(parser_reads_cisco_and_asa_forms)
{
        LsSyslogParseOpts o = {.now = utc(2019, 2, 8, 12, 0, 0)};
        static const char t1[] =
                "<189>123: host1: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured";
        LsSyslogMsg m = parse_opts(t1, &o);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_span(t1, m.seq, "123");
        ck_span(t1, m.hostname, "host1");
        ck_span(t1, m.app_name, "%SYS-5-CONFIG_I");
        ck_span(t1, m.msg, "Configured");
        ck_assert(m.flags & LS_SYSLOG_TIME_UNSYNCED);
        ck_assert(m.flags & LS_SYSLOG_HAVE_TZ);
        ck_assert_int_eq(m.time_ns, utc(2019, 3, 1, 18, 46, 11) * NS + 123000000);
        static const char t2[] =
                "<0>91: *Oct 07 03:10:04: mydevice.com %CRYPTO-4-RECVD_PKT_INV_SPI: decaps";
        m = parse_opts(t2, &o);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_span(t2, m.seq, "91");
        ck_span(t2, m.hostname, "mydevice.com");
        ck_span(t2, m.app_name, "%CRYPTO-4-RECVD_PKT_INV_SPI");
        static const char t3[] = "<166>%ASA-6-302013: Built outbound TCP connection";
        m = parse_opts(t3, &o);
        ck_assert_int_eq(m.format, LS_SYSLOG_RFC3164);
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID); /* no timestamp */
        ck_span(t3, m.app_name, "%ASA-6-302013");
        ck_span(t3, m.msg, "Built outbound TCP connection");
        static const char t4[] = "<190>.Apr 15 2007 21:28:13: %PIX-6-302014: x";
        m = parse_opts(t4, &o);
        ck_assert(m.flags & LS_SYSLOG_TIME_SYNCED);
        ck_span(t4, m.hostname, NULL);
        static const char t5[] = "<189>65536: ";
        m = parse_opts(t5, &o);
        ck_span(t5, m.seq, "65536");
}
END_TEST

START_TEST(parser_reads_forwarded_messages_and_ipv6_hostnames)
{
        static const char t1[] =
                "<38>Sep 22 10:11:56 Message forwarded from cdaix66: sshd[679960]: Accepted";
        LsSyslogMsg m = parse(t1);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_assert(m.flags & LS_SYSLOG_FORWARDED);
        ck_span(t1, m.hostname, "cdaix66");
        ck_span(t1, m.app_name, "sshd");
        ck_span(t1, m.procid, "679960");
        ck_span(t1, m.msg, "Accepted");
        static const char *const v6[] = {"0000:BABA:BA00:DAB:BABA:BABA:BABA:BAB0",
                                         "0001:BABA:BA00:DAB::BAB0", "0002::", "fe80::1",
                                         "::FFFF:129.144.52.38"};
        for (size_t i = 0; i < NW(v6); i++) {
                char t[128];
                snprintf(t, sizeof(t), "<0>Jan 10 01:00:00 %s prg0: msgtxt", v6[i]);
                m = parse(t);
                ck_span(t, m.hostname, v6[i]);
                ck_span(t, m.app_name, "prg0");
                ck_span(t, m.msg, "msgtxt");
        }
        /* "prog:" is a TAG, not a host. */
        static const char t2[] = "<0>Jan 10 01:00:00 abc: msgtxt";
        m = parse(t2);
        ck_span(t2, m.hostname, NULL);
        ck_span(t2, m.app_name, "abc");
}
END_TEST

START_TEST(parser_never_rejects_and_keeps_unparseable_input_as_text)
{
        static const char *const texts[] = {"complete and utter gobbledegook",
                                            "",
                                            "<",
                                            "\xff\xfe",
                                            "12 apples",
                                            "(190>122 2018-11-22"};
        for (size_t i = 0; i < NW(texts); i++) {
                LsSyslogMsg m = parse(texts[i]);
                ck_assert_int_eq(m.format, LS_SYSLOG_UNPARSED);
                ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
                ck_assert_ptr_nonnull(m.error);
                ck_span(texts[i], m.msg, texts[i][0] ? texts[i] : NULL);
        }
        /* No PRI but a BSD header: fields, flagged. */
        static const char t[] = "Dec 28 16:49:07 plertrood nginx: 127.0.0.1 GET /";
        LsSyslogMsg m = parse(t);
        ck_assert_int_eq(m.format, LS_SYSLOG_RFC3164);
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_str_eq(m.error, "missing PRI");
        ck_assert_int_eq(m.pri, -1);
        ck_span(t, m.hostname, "plertrood");
        ck_span(t, m.app_name, "nginx");
        /* No PRI before an RFC 5424 header. */
        static const char t2[] = "1 2020-05-22T14:59:09.250-03:00 mx204 rpd 6589 - - bgp";
        m = parse(t2);
        ck_assert_int_eq(m.format, LS_SYSLOG_RFC5424);
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_span(t2, m.app_name, "rpd");
}
END_TEST

START_TEST(parser_should_not_read_past_the_given_length)
{
        static const char *const texts[] = {
                ("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                 "[exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\]ication\"] \xef\xbb\xbfhi"),
                "<189>123: host1: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured",
                "<38>Sep 22 10:11:56 Message forwarded from cdaix66: sshd[679960]: Accepted",
                "<190>Apr 15 2007 21:28:13: %PIX-6-302014: Teardown",
                "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: x",
                "<7>2006-10-29T01:59:59.156+01:00 bzorp openvpn[2499]: PTHREAD",
        };
        /* Every prefix, each in an exact-size heap block: ASan catches any overread. */
        for (size_t i = 0; i < NW(texts); i++)
                for (size_t n = 0; n <= strlen(texts[i]); n++) {
                        uint8_t *p = malloc(n ? n : 1);
                        LsSyslogMsg m;
                        ck_assert_ptr_nonnull(p);
                        memcpy(p, texts[i], n);
                        ck_assert_int_eq(ls_syslog_parse(p, n, NULL, &m), 0);
                        ck_assert_uint_le((size_t) m.msg.off + m.msg.len, n);
                        ck_assert_uint_le((size_t) m.sd.off + m.sd.len, n);
                        ck_assert_uint_le((size_t) m.hostname.off + m.hostname.len, n);
                        ck_assert(m.status == LS_SYSLOG_OK || m.error);
                        free(p);
                }
}
END_TEST

START_TEST(parser_ignores_trailing_newlines_and_flags_leading_whitespace)
{
        static const char t[] = "<1>1 - - - - - - x\r\n\0";
        LsSyslogMsg m;
        ck_assert_int_eq(ls_syslog_parse((const uint8_t *) t, sizeof(t) - 1, NULL, &m), 0);
        ck_assert_int_eq(m.status, LS_SYSLOG_OK);
        ck_span(t, m.msg, "x");
        static const char t2[] = "\n   <13>1 2019-02-13T19:48:34+00:00 host root 8449 - - hi";
        m = parse(t2);
        ck_assert_int_eq(m.format, LS_SYSLOG_RFC5424);
        ck_assert_int_eq(m.status, LS_SYSLOG_INVALID);
        ck_assert_uint_eq(m.error_offset, 0);
        ck_span(t2, m.hostname, "host");
}
END_TEST

START_TEST(parser_flags_a_message_that_is_itself_an_octet_counted_frame)
{
        ck_assert(parse("5 aaaaa").flags & LS_SYSLOG_FRAMED);
        ck_assert(parse("16 <1>1 - - - - - -").flags & LS_SYSLOG_FRAMED);
        ck_assert(!(parse("99999999999 a").flags & LS_SYSLOG_FRAMED));
        ck_assert(!(parse(" non-framed").flags & LS_SYSLOG_FRAMED));
        ck_assert(!(parse("5 aaaa").flags & LS_SYSLOG_FRAMED));
}
END_TEST

START_TEST(timestamp_helper_is_strict_rfc5424)
{
        static const struct {
                const char *t;
                int r;
        } cases[] = {
                {"1985-04-12T23:20:50.52Z", 0},
                {"1985-04-12T19:20:50.52-04:00", 0},
                {"2003-10-11T22:14:15.003Z", 0},
                {"2003-08-24T05:14:15.000003-07:00", 0},
                {"2003-08-24T05:14:15.000000003-07:00", -EBADMSG},
                {"2003-08-24T05:14:15", -EBADMSG},
                {"2003-08-24T05:14:15Z ", -EBADMSG},
                {"-", -EBADMSG},
                {"2300-01-01T00:00:00Z", -ERANGE},
        };
        for (size_t i = 0; i < NW(cases); i++) {
                int64_t ns;
                int32_t off;
                size_t bad = 0;
                int r = ls_syslog_parse_timestamp((const uint8_t *) cases[i].t, strlen(cases[i].t),
                                                  &ns, &off, &bad);
                ck_assert_msg(r == cases[i].r, "%s: %d", cases[i].t, r);
        }
        int64_t ns;
        int32_t off;
        ck_assert_int_eq(ls_syslog_parse_timestamp((const uint8_t *) "1985-04-12T19:20:50.52-04:00",
                                                   28, &ns, &off, NULL),
                         0);
        ck_assert_int_eq(ns, utc(1985, 4, 12, 23, 20, 50) * NS + 520000000);
        ck_assert_int_eq(off, -4 * 3600);
}
END_TEST

START_TEST(parser_rejects_null_arguments)
{
        LsSyslogMsg m;
        ck_assert_int_eq(ls_syslog_parse(NULL, 1, NULL, &m), -EINVAL);
        ck_assert_int_eq(ls_syslog_parse((const uint8_t *) "x", 1, NULL, NULL), -EINVAL);
        ck_assert_int_eq(ls_syslog_parse(NULL, 0, NULL, &m), 0);
        ck_assert_int_eq(m.format, LS_SYSLOG_UNPARSED);
        ck_assert_str_eq(ls_syslog_format_name(LS_SYSLOG_RFC5424), "rfc5424");
}
END_TEST

void suite_add_rfc3164(TCase *tc)
{
        tcase_add_test(tc, parser_reads_a_bsd_message_and_guesses_the_year_like_syslog_ng);
        tcase_add_test(tc, parser_reads_bsd_timestamp_variants);
        tcase_add_test(tc, parser_reads_iso_timestamps_in_bsd_messages);
        tcase_add_test(tc, parser_reads_cisco_and_asa_forms);
        tcase_add_test(tc, parser_reads_forwarded_messages_and_ipv6_hostnames);
        tcase_add_test(tc, parser_never_rejects_and_keeps_unparseable_input_as_text);
        tcase_add_test(tc, parser_should_not_read_past_the_given_length);
        tcase_add_test(tc, parser_ignores_trailing_newlines_and_flags_leading_whitespace);
        tcase_add_test(tc, parser_flags_a_message_that_is_itself_an_octet_counted_frame);
        tcase_add_test(tc, timestamp_helper_is_strict_rfc5424);
        tcase_add_test(tc, parser_rejects_null_arguments);
}
