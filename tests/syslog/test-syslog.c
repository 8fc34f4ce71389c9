/* SPDX-License-Identifier: Apache-2.0 */
/* test-syslog: RFC 6587 framing at every split point, and RFC 5424 / 3164 parsing by hand */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "framing.h"
#include "parse.h"

/* ---- helpers ----------------------------------------------------------------------------- */

typedef struct Msg {
        char bytes[256];
        size_t len;
        uint64_t orig;
        unsigned flags;
} Msg;

typedef struct Sink {
        Msg v[32];
        size_t n;
        const uint8_t *chunk; /* current input chunk, to see zero-copy delivery */
        size_t chunk_len;
        size_t in_chunk; /* messages delivered pointing into the chunk */
        int fail_with;
} Sink;

static int sink(void *ud, const uint8_t *msg, size_t len, uint64_t orig, unsigned flags)
{
        Sink *s = ud;
        ck_assert_uint_lt(s->n, 32);
        ck_assert_uint_le(len, orig);
        Msg *m = &s->v[s->n++];
        m->len = len < sizeof(m->bytes) ? len : sizeof(m->bytes);
        memcpy(m->bytes, msg, m->len);
        m->len = len;
        m->orig = orig;
        m->flags = flags;
        if (s->chunk && msg >= s->chunk && msg < s->chunk + s->chunk_len)
                s->in_chunk++;
        return s->fail_with;
}

/* Frames in[0..n) split at the given cut points, then finishes. */
static void frame_cuts(const char *in, size_t n, size_t max, const size_t *cuts, size_t ncuts,
                       Sink *s)
{
        uint8_t *buf = malloc(max);
        LsFramer f;
        size_t at = 0;

        ck_assert_ptr_nonnull(buf);
        memset(s, 0, sizeof(*s));
        ck_assert_int_eq(ls_framer_init(&f, buf, max), 0);
        for (size_t i = 0; i <= ncuts; i++) {
                size_t end = i < ncuts ? cuts[i] : n;
                /* Each chunk in its own exact-size allocation: ASan sees overreads. */
                uint8_t *chunk = malloc(end - at + 1);
                ck_assert_ptr_nonnull(chunk);
                memcpy(chunk, in + at, end - at);
                ck_assert_int_eq(ls_framer_feed(&f, chunk, end - at, sink, s), 0);
                free(chunk);
                at = end;
        }
        ck_assert_int_eq(ls_framer_finish(&f, sink, s), 0);
        ck_assert(ls_framer_idle(&f));
        free(buf);
}

typedef struct Want {
        const char *bytes;
        uint64_t orig; /* 0: strlen(bytes) */
        unsigned flags;
} Want;

static void check_msgs(const Sink *s, const Want *w, size_t nw, const char *ctx)
{
        ck_assert_msg(s->n == nw, "%s: %zu messages, expected %zu", ctx, s->n, nw);
        for (size_t i = 0; i < nw; i++) {
                size_t len = strlen(w[i].bytes);
                uint64_t orig = w[i].orig ? w[i].orig : len;
                ck_assert_msg(s->v[i].len == len && memcmp(s->v[i].bytes, w[i].bytes, len) == 0,
                              "%s: message %zu is '%.*s', expected '%s'", ctx, i, (int) s->v[i].len,
                              s->v[i].bytes, w[i].bytes);
                ck_assert_msg(s->v[i].orig == orig, "%s: message %zu orig_len %llu, expected %llu",
                              ctx, i, (unsigned long long) s->v[i].orig, (unsigned long long) orig);
                ck_assert_msg(s->v[i].flags == w[i].flags,
                              "%s: message %zu flags %#x, expected %#x", ctx, i, s->v[i].flags,
                              w[i].flags);
        }
}

/* One cut at every position, two cuts at every pair, and one byte at a time. */
static void check_splits(const char *in, size_t n, size_t max, const Want *w, size_t nw)
{
        size_t cuts[2];
        char ctx[64];
        Sink s;

        for (size_t i = 0; i <= n; i++) {
                cuts[0] = i;
                frame_cuts(in, n, max, cuts, 1, &s);
                snprintf(ctx, sizeof(ctx), "split at %zu", i);
                check_msgs(&s, w, nw, ctx);
                for (size_t j = i; j <= n; j++) {
                        cuts[1] = j;
                        frame_cuts(in, n, max, cuts, 2, &s);
                        snprintf(ctx, sizeof(ctx), "split at %zu and %zu", i, j);
                        check_msgs(&s, w, nw, ctx);
                }
        }
        size_t *all = malloc((n + 1) * sizeof(*all));
        ck_assert_ptr_nonnull(all);
        for (size_t i = 0; i < n; i++)
                all[i] = i + 1;
        frame_cuts(in, n, max, all, n ? n - 1 : 0, &s);
        check_msgs(&s, w, nw, "byte at a time");
        free(all);
}

#define NW(w) (sizeof(w) / sizeof((w)[0]))
#define check_every_split(in, max, w, nw) check_splits((in), strlen(in), (max), (w), (nw))

static LsSyslogMsg parse_opts(const char *text, const LsSyslogParseOpts *o)
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

static LsSyslogMsg parse(const char *text)
{
        return parse_opts(text, NULL);
}

#define ck_span(text, span, want)                                                                  \
        do {                                                                                       \
                const char *w_ = (want);                                                           \
                LsSpan s_ = (span);                                                                \
                if (!w_)                                                                           \
                        ck_assert_msg(s_.len == 0, "%s: expected absent, got '%.*s'", #span,       \
                                      (int) s_.len, (text) + s_.off);                              \
                else                                                                               \
                        ck_assert_msg(s_.len == strlen(w_) &&                                      \
                                              !memcmp((text) + s_.off, w_, s_.len),                \
                                      "%s: expected '%s', got '%.*s'", #span, w_, (int) s_.len,    \
                                      (text) + s_.off);                                            \
        } while (0)

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
        struct tm tm = {.tm_year = y - 1900,
                        .tm_mon = mo - 1,
                        .tm_mday = d,
                        .tm_hour = h,
                        .tm_min = mi,
                        .tm_sec = s};
        return (int64_t) timegm(&tm);
}

#define NS 1000000000LL

/* ---- framing ----------------------------------------------------------------------------- */

START_TEST(framer_delivers_octet_counted_messages_at_every_split_point)
{
        static const char in[] = "16 <1>1 - - - - - -5 hello1 x11 <13>a\nb\rc d";
        static const Want w[] = {
                {"<1>1 - - - - - -", 0, LS_FRAME_OCTET_COUNTED},
                {"hello", 0, LS_FRAME_OCTET_COUNTED},
                {"x", 0, LS_FRAME_OCTET_COUNTED},
                /* LF, CR and NUL are ordinary bytes inside a counted message. */
                {"<13>a\nb\rc d", 0, LS_FRAME_OCTET_COUNTED},
        };
        check_every_split(in, 64, w, NW(w));
}
END_TEST

START_TEST(framer_delivers_lf_nul_and_crlf_delimited_lines_at_every_split_point)
{
        static const char in[] = "<13>one\n<13>two\r\n<13>th\rree\0<13>four\r\0<13>five\r\n";
        static const Want w[] = {
                {"<13>one", 0, 0},
                {"<13>two", 0, 0},     /* CR before LF is part of the delimiter */
                {"<13>th\rree", 0, 0}, /* a lone CR is data */
                {"<13>four\r", 0, 0},  /* only LF takes a CR with it */
                {"<13>five", 0, 0},
        };
        check_splits(in, sizeof(in) - 1, 64, w, NW(w));
}
END_TEST

START_TEST(framer_skips_empty_lines_and_stray_delimiters_between_frames)
{
        static const Want w1[] = {{"<1>a", 0, 0}, {"<1>b", 0, 0}};
        check_every_split("\n\n<1>a\n\r\n\n<1>b\n", 64, w1, NW(w1));
        /* A sender appending LF to octet-counted frames loses nothing and gets no flag. */
        static const Want w2[] = {{"<1>a", 0, LS_FRAME_OCTET_COUNTED},
                                  {"<1>bc", 0, LS_FRAME_OCTET_COUNTED}};
        check_every_split("4 <1>a\n5 <1>bc\r\n", 64, w2, NW(w2));
}
END_TEST

START_TEST(framer_truncates_an_oversize_counted_message_and_reports_its_length)
{
        static const Want w[] = {
                {"<1>1 0123456789", 40, LS_FRAME_OCTET_COUNTED | LS_FRAME_TRUNCATED},
                {"<1>ok", 0, LS_FRAME_OCTET_COUNTED},
        };
        check_every_split("40 <1>1 0123456789abcdefghijklmnopqrstuvwxy5 <1>ok", 15, w, NW(w));
}
END_TEST

START_TEST(framer_truncates_an_oversize_line_and_counts_on_to_the_delimiter)
{
        static const Want w[] = {
                {"<13>0123456", 31, LS_FRAME_TRUNCATED},
                {"<13>next", 0, 0},
                /* The stripped CR of CRLF is not counted, even beyond the buffer. */
                {"<13>0123456", 12, LS_FRAME_TRUNCATED},
        };
        check_every_split("<13>0123456789abcdefghijklmnopq\n<13>next\n<13>01234567\r\n", 11, w,
                          NW(w));
}
END_TEST

START_TEST(framer_keeps_the_bytes_of_a_malformed_count_as_a_flagged_message)
{
        /* After octet counting: a non-digit, a leading zero, too many digits, no SP. */
        static const Want w[] = {
                {"<1>a", 0, LS_FRAME_OCTET_COUNTED},
                {"abc", 0, LS_FRAME_FRAMING_ERROR},
                {"012 <1>x", 0, LS_FRAME_FRAMING_ERROR},
                {"1234567890 <1>y", 0, LS_FRAME_FRAMING_ERROR},
                {"16<1>1 z", 0, LS_FRAME_FRAMING_ERROR},
                {"<1>b", 0, LS_FRAME_OCTET_COUNTED},
        };
        check_every_split("4 <1>aabc\n012 <1>x\n1234567890 <1>y\n16<1>1 z\n4 <1>b", 64, w, NW(w));
        /* The first message of a connection: no SP after the digits. */
        static const Want w2[] = {{"16<1>1", 0, LS_FRAME_FRAMING_ERROR | LS_FRAME_INCOMPLETE}};
        check_every_split("16<1>1", 64, w2, NW(w2));
}
END_TEST

START_TEST(framer_delivers_a_partial_message_at_eof_flagged_incomplete)
{
        /* Octet counted: the declared length is its orig_len, so it is truncated too. */
        static const Want counted[] = {
                {"<1>1", 16, LS_FRAME_OCTET_COUNTED | LS_FRAME_INCOMPLETE | LS_FRAME_TRUNCATED}};
        check_every_split("16 <1>1", 64, counted, NW(counted));
        static const Want huge[] = {{"<13>short", 999999999,
                                     LS_FRAME_OCTET_COUNTED | LS_FRAME_INCOMPLETE |
                                             LS_FRAME_TRUNCATED}};
        check_every_split("999999999 <13>short", 64, huge, NW(huge));
        static const Want line[] = {{"<3>1 - - - - - -", 0, LS_FRAME_INCOMPLETE}};
        check_every_split("<3>1 - - - - - -", 64, line, NW(line));
        static const Want digits[] = {{"12", 0, LS_FRAME_INCOMPLETE}};
        check_every_split("12", 64, digits, NW(digits));
        static const Want trunc[] = {{"<3>12", 9, LS_FRAME_INCOMPLETE | LS_FRAME_TRUNCATED}};
        check_every_split("<3>123456", 5, trunc, NW(trunc));
        static const Want none[] = {{"", 0, 0}};
        check_every_split("", 64, none, 0);
}
END_TEST

START_TEST(framer_does_not_take_a_digit_led_line_for_a_count_on_a_delimiter_connection)
{
        static const Want w[] = {
                {"<13>first", 0, 0},
                {"2019 is a year", 0, 0},
                {"12 apples", 0, 0},
                /* but a count followed by a PRI is one */
                {"<13>abcdefgh", 0, LS_FRAME_OCTET_COUNTED},
                {"<13>last", 0, 0},
        };
        check_every_split("<13>first\n2019 is a year\n12 apples\n12 <13>abcdefgh<13>last\n", 64, w,
                          NW(w));
        /* A first line that only looks like a count is flagged, later ones are not. */
        static const Want w2[] = {
                {"081109 203615 INFO", 0, LS_FRAME_FRAMING_ERROR},
                {"081109 203616 INFO", 0, 0},
        };
        check_every_split("081109 203615 INFO\n081109 203616 INFO\n", 64, w2, NW(w2));
}
END_TEST

START_TEST(framer_memory_is_bounded_by_its_buffer_whatever_the_input)
{
        enum { MAX = 1024, GUARD = 64 };
        uint8_t *buf = malloc(MAX + GUARD), chunk[4096];
        LsFramer f;
        Sink s = {0};

        ck_assert_ptr_nonnull(buf);
        memset(buf + MAX, 0xa5, GUARD);
        ck_assert_int_eq(ls_framer_init(&f, buf, MAX), 0);
        memset(chunk, 'x', sizeof(chunk));
        /* 8 MiB without a delimiter, then one. */
        for (int i = 0; i < 2048; i++)
                ck_assert_int_eq(ls_framer_feed(&f, chunk, sizeof(chunk), sink, &s), 0);
        ck_assert_uint_eq(s.n, 0);
        ck_assert_int_eq(ls_framer_feed(&f, (const uint8_t *) "\n", 1, sink, &s), 0);
        ck_assert_uint_eq(s.n, 1);
        ck_assert_uint_eq(s.v[0].len, MAX);
        ck_assert_uint_eq(s.v[0].orig, 2048u * sizeof(chunk));
        ck_assert_uint_eq(s.v[0].flags, LS_FRAME_TRUNCATED);
        /* A count of 999999999 is skipped, never stored. */
        ck_assert_int_eq(ls_framer_feed(&f, (const uint8_t *) "4 <1>a999999999 <", 17, sink, &s),
                         0);
        for (int i = 0; i < 64; i++)
                ck_assert_int_eq(ls_framer_feed(&f, chunk, sizeof(chunk), sink, &s), 0);
        ck_assert_int_eq(ls_framer_finish(&f, sink, &s), 0);
        ck_assert_uint_eq(s.n, 3);
        ck_assert_uint_eq(s.v[2].len, MAX);
        ck_assert_uint_eq(s.v[2].orig, 999999999u); /* declared, not received */
        ck_assert_uint_eq(s.v[2].flags,
                          LS_FRAME_OCTET_COUNTED | LS_FRAME_TRUNCATED | LS_FRAME_INCOMPLETE);
        for (int i = 0; i < GUARD; i++)
                ck_assert_uint_eq(buf[MAX + i], 0xa5);
        ck_assert_uint_le(sizeof(LsFramer), 96);
        free(buf);
}
END_TEST

START_TEST(framer_delivers_whole_messages_of_a_chunk_without_copying)
{
        static const uint8_t in[] = "5 <1>ab<13>line\n";
        uint8_t buf[64];
        LsFramer f;
        Sink s = {.chunk = in, .chunk_len = sizeof(in) - 1};

        ck_assert_int_eq(ls_framer_init(&f, buf, sizeof(buf)), 0);
        ck_assert_int_eq(ls_framer_feed(&f, in, sizeof(in) - 1, sink, &s), 0);
        ck_assert_uint_eq(s.n, 2);
        ck_assert_uint_eq(s.in_chunk, 2);
}
END_TEST

START_TEST(framer_rejects_bad_buffers_and_stops_when_the_handler_fails)
{
        uint8_t buf[8];
        LsFramer f;
        Sink s = {.fail_with = -EIO};

        ck_assert_int_eq(ls_framer_init(&f, buf, 0), -EINVAL);
        ck_assert_int_eq(ls_framer_init(&f, NULL, 8), -EINVAL);
        ck_assert_int_eq(ls_framer_init(&f, buf, LS_FRAMER_MAX_MSG + 1), -EINVAL);
        ck_assert_int_eq(ls_framer_init(&f, buf, sizeof(buf)), 0);
        ck_assert_int_eq(ls_framer_feed(&f, (const uint8_t *) "a\nb\n", 4, sink, &s), -EIO);
        ck_assert_uint_eq(s.n, 1);
        /* The framer stays usable: the failed message is consumed, the rest is not. */
        s.fail_with = 0;
        ck_assert_int_eq(ls_framer_feed(&f, (const uint8_t *) "b\n", 2, sink, &s), 0);
        ck_assert_uint_eq(s.n, 2);
}
END_TEST

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

static Suite *suite(void)
{
        Suite *s = suite_create("syslog");
        TCase *tf = tcase_create("framing"), *tp = tcase_create("parsing");

        tcase_set_timeout(tf, 300);
        tcase_add_test(tf, framer_delivers_octet_counted_messages_at_every_split_point);
        tcase_add_test(tf, framer_delivers_lf_nul_and_crlf_delimited_lines_at_every_split_point);
        tcase_add_test(tf, framer_skips_empty_lines_and_stray_delimiters_between_frames);
        tcase_add_test(tf, framer_truncates_an_oversize_counted_message_and_reports_its_length);
        tcase_add_test(tf, framer_truncates_an_oversize_line_and_counts_on_to_the_delimiter);
        tcase_add_test(tf, framer_keeps_the_bytes_of_a_malformed_count_as_a_flagged_message);
        tcase_add_test(tf, framer_delivers_a_partial_message_at_eof_flagged_incomplete);
        tcase_add_test(tf,
                       framer_does_not_take_a_digit_led_line_for_a_count_on_a_delimiter_connection);
        tcase_add_test(tf, framer_memory_is_bounded_by_its_buffer_whatever_the_input);
        tcase_add_test(tf, framer_delivers_whole_messages_of_a_chunk_without_copying);
        tcase_add_test(tf, framer_rejects_bad_buffers_and_stops_when_the_handler_fails);
        suite_add_tcase(s, tf);

        tcase_add_test(tp, parser_reads_every_rfc5424_header_field);
        tcase_add_test(tp, parser_reads_fractional_seconds_and_numeric_offsets);
        tcase_add_test(tp, parser_flags_timestamps_the_rfc_forbids_but_keeps_a_readable_time);
        tcase_add_test(tp, parser_treats_nil_values_as_absent);
        tcase_add_test(tp, parser_enforces_field_limits_and_still_reads_later_fields);
        tcase_add_test(tp, parser_stops_where_structure_is_lost_and_keeps_the_rest_as_text);
        tcase_add_test(tp, parser_reports_duplicate_sd_ids_and_overlong_sd_names);
        tcase_add_test(tp, sd_iterator_walks_elements_and_unescapes_values);
        tcase_add_test(tp, sd_validation_follows_the_rfc_grammar);
        tcase_add_test(tp, parser_strips_a_bom_and_checks_the_utf8_after_it);
        tcase_add_test(tp, parser_reports_malformed_and_out_of_range_pri);
        tcase_add_test(tp, parser_reads_a_bsd_message_and_guesses_the_year_like_syslog_ng);
        tcase_add_test(tp, parser_reads_bsd_timestamp_variants);
        tcase_add_test(tp, parser_reads_iso_timestamps_in_bsd_messages);
        tcase_add_test(tp, parser_reads_cisco_and_asa_forms);
        tcase_add_test(tp, parser_reads_forwarded_messages_and_ipv6_hostnames);
        tcase_add_test(tp, parser_never_rejects_and_keeps_unparseable_input_as_text);
        tcase_add_test(tp, parser_should_not_read_past_the_given_length);
        tcase_add_test(tp, parser_ignores_trailing_newlines_and_flags_leading_whitespace);
        tcase_add_test(tp, parser_flags_a_message_that_is_itself_an_octet_counted_frame);
        tcase_add_test(tp, timestamp_helper_is_strict_rfc5424);
        tcase_add_test(tp, parser_rejects_null_arguments);
        suite_add_tcase(s, tp);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        int failed;

        srunner_run_all(sr, CK_ENV);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
