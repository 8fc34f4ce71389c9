/* SPDX-License-Identifier: Apache-2.0 */
/* test-syslog.h: what the parts of test-syslog share (the helpers are in test-syslog-util.c) */
#pragma once

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "framing.h"
#include "parse.h"

#define NW(w) (sizeof(w) / sizeof((w)[0]))

/* Parses a copy of text of exactly its length (no NUL after it); the parse must succeed. */
LsSyslogMsg parse_opts(const char *text, const LsSyslogParseOpts *o);
LsSyslogMsg parse(const char *text);

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

/* Seconds since the epoch of a UTC date and time. */
int64_t utc(int y, int mo, int d, int h, int mi, int s);

#define NS 1000000000LL

/* Each part adds its tests: framing to the "framing" test case, the parsers to "parsing". */
void suite_add_framing(TCase *tc);
void suite_add_rfc5424(TCase *tc);
void suite_add_rfc3164(TCase *tc);
