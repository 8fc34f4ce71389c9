/* SPDX-License-Identifier: Apache-2.0 */
/* text.h: log text made safe for a person reading it in a terminal or a report */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Log text is written by remote senders, case fields by whoever runs an export: in a
 * human-readable output none of it may change what the reader sees. Valid UTF-8 prints
 * as written (Spanish names stay readable), except:
 *
 *   C0 controls and DEL          \xHH   (a newline in a message is \x0a)
 *   C1 controls U+0080..U+009F   \u0085 style
 *   bidi controls and invisible  \u202E style (U+061C, U+200B..U+200F, U+2028..U+202E,
 *   format characters                     U+2060..U+2069, U+FEFF, U+FFF9..U+FFFB)
 *   bytes that are not UTF-8     \xHH   (overlong forms, surrogates, > U+10FFFF, cuts)
 *   backslash                    \\     (so that every escape is unambiguous)
 *
 * JSON outputs stay exact and do not use this.
 */

/* Worst case: 4 output bytes per input byte. */
#define LS_TEXT_ESCAPED_MAX(n) (4 * (size_t) (n) + 1)

/*
 * Writes the escaped form of p[0..n) into out (NUL-terminated, truncated to cap like
 * snprintf, never cutting an escape). Returns the full escaped length.
 */
size_t ls_text_escape(char *out, size_t cap, const uint8_t *p, size_t n);

/* The same, to a stream. */
void ls_text_write(FILE *f, const uint8_t *p, size_t n);

/* 1 when p[0..n) would print unchanged (nothing to escape). */
int ls_text_is_plain(const uint8_t *p, size_t n);

/*
 * 1 when p[0..n) holds nothing ls_text_escape would escape but backslashes: what a CUSTODY
 * record's text fields may hold (SPEC §4.4; a backslash, as in DOMAIN\user, is text).
 */
int ls_text_is_clean(const uint8_t *p, size_t n);
