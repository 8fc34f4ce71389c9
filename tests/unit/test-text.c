/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-text.c: escaping of log text for people (text.h): what a hostile sender or a forged
 * case field could do to an investigator's terminal or a printed report is made visible,
 * and honest text (Spanish names, CJK, emoji) prints as written.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"
#include "tu-check.h"

static char *esc(const char *s, size_t n)
{
        static char out[1024];
        size_t len = ls_text_escape(out, sizeof(out), (const uint8_t *) s, n);
        ck_assert_uint_lt(len, sizeof(out));
        ck_assert_uint_eq(strlen(out), len);
        return out;
}
#define ESC(lit) esc(lit, sizeof(lit) - 1)

START_TEST(honest_text_prints_as_written)
{
        ck_assert_str_eq(ESC("Lic. Ana P\xc3\xa9rez"), "Lic. Ana P\xc3\xa9rez");
        ck_assert_str_eq(ESC("\xe6\x97\xa5\xe6\x9c\xac"), "\xe6\x97\xa5\xe6\x9c\xac");
        ck_assert_str_eq(ESC("ok \xf0\x9f\x94\x92 sealed"), "ok \xf0\x9f\x94\x92 sealed");
        ck_assert_int_eq(ls_text_is_plain((const uint8_t *) "Se\xc3\xb1or", 6), 1);
        ck_assert_int_eq(ls_text_is_plain((const uint8_t *) "a\\b", 3), 0);
}
END_TEST

START_TEST(terminal_controls_are_visible)
{
        /* clear screen, OSC 52 clipboard write, a fake verdict on a new line */
        ck_assert_str_eq(ESC("\x1b[2J\x1b]52;c;ZWNobw==\x07"),
                         "\\x1b[2J\\x1b]52;c;ZWNobw==\\x07");
        ck_assert_str_eq(ESC("x\nVERDICT: INTACT\r"), "x\\x0aVERDICT: INTACT\\x0d");
        ck_assert_str_eq(ESC("a\tb\x7f"), "a\\x09b\\x7f");
        ck_assert_str_eq(ESC("\\x1b"), "\\\\x1b"); /* a literal backslash is never an escape */
        ck_assert_str_eq(esc("a\0b", 3), "a\\x00b");
}
END_TEST

START_TEST(c1_controls_are_visible)
{
        /* U+009B is CSI on terminals that take 8-bit controls; U+0085 is NEL */
        ck_assert_str_eq(ESC("\xc2\x9b" "2J\xc2\x85"), "\\u009B2J\\u0085");
        ck_assert_str_eq(ESC("\xc2\xa0"), "\xc2\xa0"); /* U+00A0 is a character */
}
END_TEST

START_TEST(bidi_overrides_are_visible)
{
        /* "Judge <RLO>eoD nhoJ<PDF>" displays as "Judge John Doe" when printed raw */
        ck_assert_str_eq(ESC("Judge \xe2\x80\xae" "eoD nhoJ\xe2\x80\xac"),
                         "Judge \\u202EeoD nhoJ\\u202C");
        ck_assert_str_eq(ESC("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
        ck_assert_str_eq(ESC("\xe2\x80\x8f\xd8\x9c"), "\\u200F\\u061C");
        ck_assert_str_eq(ESC("a\xe2\x80\x8b" "b\xef\xbb\xbf"), "a\\u200Bb\\uFEFF");
        ck_assert_str_eq(ESC("\xe2\x80\xa8"), "\\u2028");
}
END_TEST

START_TEST(invalid_utf8_is_escaped_bytewise)
{
        ck_assert_str_eq(ESC("\xc3"), "\\xc3");                 /* cut sequence */
        ck_assert_str_eq(ESC("\xc3(x"), "\\xc3(x");
        ck_assert_str_eq(ESC("\xc0\xaf"), "\\xc0\\xaf");        /* overlong '/' */
        ck_assert_str_eq(ESC("\xe0\x80\xaf"), "\\xe0\\x80\\xaf"); /* overlong */
        ck_assert_str_eq(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* surrogate */
        ck_assert_str_eq(ESC("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
        ck_assert_str_eq(ESC("\xff\xfe"), "\\xff\\xfe");
}
END_TEST

START_TEST(truncation_never_cuts_an_escape_or_a_character)
{
        char out[8];
        size_t len;

        len = ls_text_escape(out, sizeof(out), (const uint8_t *) "abcdef\x1b", 7);
        ck_assert_uint_eq(len, 10);
        ck_assert_str_eq(out, "abcdef"); /* "\x1b" does not fit whole */
        len = ls_text_escape(out, sizeof(out), (const uint8_t *) "abcde\xc3\xa9z", 8);
        ck_assert_uint_eq(len, 8);
        ck_assert_str_eq(out, "abcde\xc3\xa9");
        len = ls_text_escape(out, 7, (const uint8_t *) "abcde\xc3\xa9z", 8);
        ck_assert_str_eq(out, "abcde"); /* é does not fit whole */
        ck_assert_uint_eq(ls_text_escape(NULL, 0, (const uint8_t *) "\x01", 1), 4);
}
END_TEST

START_TEST(worst_case_fits_the_stated_bound)
{
        uint8_t in[256];
        char *out;
        size_t len;

        for (int i = 0; i < 256; i++)
                in[i] = (uint8_t) i;
        out = malloc(LS_TEXT_ESCAPED_MAX(sizeof(in)));
        ck_assert_ptr_nonnull(out);
        len = ls_text_escape(out, LS_TEXT_ESCAPED_MAX(sizeof(in)), in, sizeof(in));
        ck_assert_uint_lt(len, LS_TEXT_ESCAPED_MAX(sizeof(in)));
        /* nothing below 0x20, no DEL and no byte >= 0x80 survives unescaped */
        for (size_t i = 0; i < len; i++)
                ck_assert((uint8_t) out[i] >= 0x20 && (uint8_t) out[i] < 0x7f);
        free(out);
}
END_TEST

START_TEST(stream_and_buffer_agree)
{
        const char in[] = "P\xc3\xa9rez \x1b[31m\xe2\x80\xae\xff\\";
        char *mem = NULL, buf[256];
        size_t memlen = 0;
        FILE *f = open_memstream(&mem, &memlen);

        ck_assert_ptr_nonnull(f);
        ls_text_write(f, (const uint8_t *) in, sizeof(in) - 1);
        fclose(f);
        ls_text_escape(buf, sizeof(buf), (const uint8_t *) in, sizeof(in) - 1);
        ck_assert_str_eq(mem, buf);
        ck_assert_str_eq(buf, "P\xc3\xa9rez \\x1b[31m\\u202E\\xff\\\\");
        free(mem);
}
END_TEST

/* SPEC §4.4: what a client's custody text may hold: nothing escaped but backslashes. */
START_TEST(text_is_clean_refuses_controls_bidi_and_bad_utf8)
{
        static const struct {
                const char *s;
                int clean;
        } cases[] = {
                {"", 1},
                {"Case 2026-0042 / J. M\xc3\xbcller", 1},
                {"\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x8f", 1},      /* CJK, U+1F50F */
                {"a\tb", 0},                                            /* C0 */
                {"a\nb", 0},
                {"\x1b[2J", 0},                                         /* escape sequence */
                {"a\x7f", 0},                                           /* DEL */
                {"\xc2\x9b" "31m", 0},                                  /* C1 CSI */
                {"\xc2\xa0", 1},                                        /* U+00A0 is text */
                {"Judge \xe2\x80\xae" "eoD nhoJ\xe2\x80\xac", 0},       /* U+202E, U+202C */
                {"\xe2\x81\xa6x\xe2\x81\xa9", 0},                       /* U+2066, U+2069 */
                {"\xe2\x80\x8f", 0},                                    /* U+200F */
                {"a\xe2\x80\x8b" "b", 0},                              /* U+200B zero width */
                {"\xef\xbb\xbf", 0},                                    /* U+FEFF */
                {"DOMAIN\\user", 1},                                  /* a backslash is text */
                {"\xd8\x9c", 0},                                        /* U+061C */
                {"\xc0\xaf", 0},                                        /* overlong '/' */
                {"\xe0\x80\xaf", 0},
                {"\xed\xa0\x80", 0},                                    /* surrogate */
                {"\xf4\x90\x80\x80", 0},                                /* > U+10FFFF */
                {"\xc3", 0},                                            /* cut */
                {"\x80", 0},
                {"\xff", 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                ck_assert_msg(ls_text_is_clean((const uint8_t *) cases[i].s,
                                               strlen(cases[i].s)) == cases[i].clean,
                              "case %zu", i);
        ck_assert_int_eq(ls_text_is_clean((const uint8_t *) "a\0b", 3), 0); /* NUL */
}
END_TEST

int main(void)
{
        Suite *s = suite_create("text");
        TCase *tc = tcase_create("escape");

        tcase_add_test(tc, honest_text_prints_as_written);
        tcase_add_test(tc, terminal_controls_are_visible);
        tcase_add_test(tc, c1_controls_are_visible);
        tcase_add_test(tc, bidi_overrides_are_visible);
        tcase_add_test(tc, invalid_utf8_is_escaped_bytewise);
        tcase_add_test(tc, truncation_never_cuts_an_escape_or_a_character);
        tcase_add_test(tc, worst_case_fits_the_stated_bound);
        tcase_add_test(tc, stream_and_buffer_agree);
        tcase_add_test(tc, text_is_clean_refuses_controls_bidi_and_bad_utf8);
        suite_add_tcase(s, tc);
        return tu_run_suite(s);
}
