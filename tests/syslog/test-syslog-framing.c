/* SPDX-License-Identifier: Apache-2.0 */
/* test-syslog, RFC 6587 framing at every split point (the suite is in test-syslog.c) */
#include "test-syslog.h"

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

#define check_every_split(in, max, w, nw) check_splits((in), strlen(in), (max), (w), (nw))

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

void suite_add_framing(TCase *tc)
{
        tcase_add_test(tc, framer_delivers_octet_counted_messages_at_every_split_point);
        tcase_add_test(tc, framer_delivers_lf_nul_and_crlf_delimited_lines_at_every_split_point);
        tcase_add_test(tc, framer_skips_empty_lines_and_stray_delimiters_between_frames);
        tcase_add_test(tc, framer_truncates_an_oversize_counted_message_and_reports_its_length);
        tcase_add_test(tc, framer_truncates_an_oversize_line_and_counts_on_to_the_delimiter);
        tcase_add_test(tc, framer_keeps_the_bytes_of_a_malformed_count_as_a_flagged_message);
        tcase_add_test(tc, framer_delivers_a_partial_message_at_eof_flagged_incomplete);
        tcase_add_test(tc,
                       framer_does_not_take_a_digit_led_line_for_a_count_on_a_delimiter_connection);
        tcase_add_test(tc, framer_memory_is_bounded_by_its_buffer_whatever_the_input);
        tcase_add_test(tc, framer_delivers_whole_messages_of_a_chunk_without_copying);
        tcase_add_test(tc, framer_rejects_bad_buffers_and_stops_when_the_handler_fails);
}
