/* SPDX-License-Identifier: Apache-2.0 */
/* text.c: escaping of log text for people (text.h) */
#include <string.h>

#include "text.h"

/* Length of the valid UTF-8 sequence at p[0..n) and its code point, or 0 when invalid. */
static size_t utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
        uint32_t c = p[0], min;
        size_t len;

        if (c < 0x80) {
                *cp = c;
                return 1;
        }
        if (c >= 0xc2 && c <= 0xdf)
                len = 2, c &= 0x1f, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
                len = 3, c &= 0x0f, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
                len = 4, c &= 0x07, min = 0x10000;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return len;
}

/* Code points that are valid but change or hide what is displayed. */
static int invisible(uint32_t c)
{
        return (c >= 0x80 && c <= 0x9f) || c == 0x061c || (c >= 0x200b && c <= 0x200f) ||
               (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c == 0xfeff ||
               (c >= 0xfff9 && c <= 0xfffb);
}

/* Calls emit(ud, s, len) for each piece of the escaped text. */
static void escape(const uint8_t *p, size_t n, void (*emit)(void *ud, const char *s, size_t len),
                   void *ud)
{
        static const char hex[] = "0123456789abcdef", HEX[] = "0123456789ABCDEF";
        size_t i = 0, plain = 0;

        while (i < n) {
                uint32_t cp;
                size_t len = utf8_next(p + i, n - i, &cp);
                char e[7];
                size_t elen;

                if (len && cp >= 0x20 && cp != 0x7f && cp != '\\' && !invisible(cp)) {
                        i += len;
                        continue;
                }
                if (i > plain)
                        emit(ud, (const char *) p + plain, i - plain);
                if (len == 1 && cp == '\\') {
                        memcpy(e, "\\\\", 2);
                        elen = 2;
                } else if (len > 1) {
                        e[0] = '\\', e[1] = 'u';
                        e[2] = HEX[(cp >> 12) & 15], e[3] = HEX[(cp >> 8) & 15];
                        e[4] = HEX[(cp >> 4) & 15], e[5] = HEX[cp & 15];
                        elen = 6;
                } else {
                        len = 1;
                        e[0] = '\\', e[1] = 'x', e[2] = hex[p[i] >> 4], e[3] = hex[p[i] & 15];
                        elen = 4;
                }
                emit(ud, e, elen);
                i += len;
                plain = i;
        }
        if (n > plain)
                emit(ud, (const char *) p + plain, n - plain);
}

typedef struct Buf {
        char *out;
        size_t cap, len;
        int cut;
} Buf;

static void emit_buf(void *ud, const char *s, size_t len)
{
        Buf *b = ud;

        /* Plain runs may be cut anywhere on a UTF-8 boundary; escapes whole or not at all. */
        if (!b->cut && b->len + len < b->cap)
                memcpy(b->out + b->len, s, len);
        else if (!b->cut && b->cap) {
                size_t room = b->cap - 1 - b->len;
                if (s[0] != '\\') {
                        while (room > 0 && room < len && ((uint8_t) s[room] & 0xc0) == 0x80)
                                room--;
                        memcpy(b->out + b->len, s, room);
                        b->out[b->len + room] = 0;
                } else
                        b->out[b->len] = 0;
                b->cut = 1;
        }
        b->len += len;
}

size_t ls_text_escape(char *out, size_t cap, const uint8_t *p, size_t n)
{
        Buf b = {.out = out, .cap = cap};

        escape(p, n, emit_buf, &b);
        if (cap && !b.cut)
                out[b.len] = 0;
        return b.len;
}

static void emit_file(void *ud, const char *s, size_t len)
{
        fwrite(s, 1, len, ud);
}

void ls_text_write(FILE *f, const uint8_t *p, size_t n)
{
        escape(p, n, emit_file, f);
}

int ls_text_is_clean(const uint8_t *p, size_t n)
{
        for (size_t i = 0, len; i < n; i += len) {
                uint32_t cp;
                len = utf8_next(p + i, n - i, &cp);
                if (!len || cp < 0x20 || cp == 0x7f || invisible(cp))
                        return 0;
        }
        return 1;
}

int ls_text_is_plain(const uint8_t *p, size_t n)
{
        /* What escape() leaves as it is: clean text without a backslash. */
        return ls_text_is_clean(p, n) && !(n && memchr(p, '\\', n));
}
