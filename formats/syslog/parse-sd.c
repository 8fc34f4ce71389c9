/* SPDX-License-Identifier: Apache-2.0 */
/* parse-sd.c: the RFC 5424 STRUCTURED-DATA iterator (see parse.h) */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parse-internal.h"

/* ---- STRUCTURED-DATA ------------------------------------------------------------------ */

enum {
        IT_IN_ELEMENT = 1 << 0,
        IT_OPEN = 1 << 1, /* parser use: the data ends at the first byte after an element
                           * that is not '[' */
};

static int it_fail(LsSdIter *it, size_t off, const char *why)
{
        it->error_offset = (uint32_t) off;
        it->error = why;
        it->done = 1;
        return -EBADMSG;
}

static void it_soft(LsSdIter *it, size_t off, const char *why)
{
        if (!it->soft_error) {
                it->soft_offset = (uint32_t) off;
                it->soft_error = why;
        }
}

static size_t sd_name_end(const uint8_t *p, size_t i, size_t end)
{
        while (i < end && is_sd_name_char(p[i]))
                i++;
        return i;
}

void ls_sd_iter_init(LsSdIter *it, const uint8_t *p, size_t n, LsSpan sd)
{
        *it = (LsSdIter){.p = p};
        if (!p || sd.off > n || sd.len > n - sd.off) {
                (void) it_fail(it, n, "STRUCTURED-DATA span outside the input");
                return;
        }
        it->pos = sd.off;
        it->end = (size_t) sd.off + sd.len;
        if (sd.len == 1 && p[sd.off] == '-')
                it->pos = it->end;
}

void syslog_sd_iter_open(LsSdIter *it, const uint8_t *p, size_t n, size_t pos)
{
        *it = (LsSdIter){.p = p, .pos = pos, .end = n, .state = IT_OPEN};
}

int ls_sd_next_element(LsSdIter *it, LsSpan *id)
{
        const uint8_t *p = it->p;
        size_t i, e;
        int r;

        if (it->error)
                return -EBADMSG;
        while (it->state & IT_IN_ELEMENT) {
                LsSpan a, b;
                r = ls_sd_next_param(it, &a, &b);
                if (r < 0)
                        return r;
        }
        if (it->done)
                return 0;
        i = it->pos;
        if (i >= it->end || ((it->state & IT_OPEN) && p[i] != '[')) {
                it->done = 1;
                return 0;
        }
        if (p[i] != '[')
                return it_fail(it, i, "expecting '[' to open an SD-ELEMENT");
        i++;
        e = sd_name_end(p, i, it->end);
        if (e == i)
                return it_fail(it, i, "expecting an SD-ID");
        if (e - i > SD_NAME_MAX)
                it_soft(it, i + SD_NAME_MAX, "SD-ID longer than 32");
        if (id)
                *id = span(i, e - i);
        it->pos = e;
        it->state |= IT_IN_ELEMENT;
        return 1;
}

int ls_sd_next_param(LsSdIter *it, LsSpan *name, LsSpan *value)
{
        const uint8_t *p = it->p;
        size_t i, e, v;

        if (it->error)
                return -EBADMSG;
        if (!(it->state & IT_IN_ELEMENT))
                return 0;
        i = it->pos;
        if (i >= it->end)
                return it_fail(it, i, "unterminated SD-ELEMENT");
        if (p[i] == ']') {
                it->pos = i + 1;
                it->state &= ~IT_IN_ELEMENT;
                return 0;
        }
        if (p[i] != ' ')
                return it_fail(it, i, "expecting SP or ']' in SD-ELEMENT");
        i++;
        e = sd_name_end(p, i, it->end);
        if (e == i)
                return it_fail(it, i, "expecting a PARAM-NAME");
        if (e - i > SD_NAME_MAX)
                it_soft(it, i + SD_NAME_MAX, "PARAM-NAME longer than 32");
        if (name)
                *name = span(i, e - i);
        i = e;
        if (i >= it->end || p[i] != '=')
                return it_fail(it, i, "expecting '=' after PARAM-NAME");
        i++;
        if (i >= it->end || p[i] != '"')
                return it_fail(it, i, "expecting '\"' before PARAM-VALUE");
        v = ++i;
        for (;;) {
                if (i >= it->end)
                        return it_fail(it, i, "unterminated PARAM-VALUE");
                if (p[i] == '"')
                        break;
                if (p[i] == ']')
                        return it_fail(it, i, "unescaped ']' in PARAM-VALUE");
                if (p[i] == '\\' && i + 1 < it->end &&
                    (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == ']'))
                        i += 2;
                else
                        i++;
        }
        e = syslog_utf8_invalid_at(p, v, i);
        if (e < i)
                it_soft(it, e, "PARAM-VALUE is not UTF-8");
        if (value)
                *value = span(v, i - v);
        it->pos = i + 1;
        return 1;
}

int ls_sd_unescape(const uint8_t *p, size_t n, LsSpan value, uint8_t *buf, size_t cap,
                   size_t *ret_len)
{
        size_t o = 0, end;

        if (!p || !ret_len || value.off > n || value.len > n - value.off || (!buf && cap))
                return -EINVAL;
        end = (size_t) value.off + value.len;
        for (size_t i = value.off; i < end; i++) {
                uint8_t b = p[i];
                if (b == '\\' && i + 1 < end &&
                    (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == ']'))
                        b = p[++i];
                if (o < cap)
                        buf[o] = b;
                o++;
        }
        *ret_len = o;
        return o > cap ? -ENOBUFS : 0;
}

int ls_sd_validate(const uint8_t *p, size_t n, LsSpan sd, uint32_t *err_off, const char **why)
{
        LsSdIter it = {0};
        int r;

        if (sd.len == 0) {
                r = -EBADMSG;
                it.error_offset = sd.off;
                it.error = "empty STRUCTURED-DATA";
                goto out;
        }
        ls_sd_iter_init(&it, p, n, sd);
        while ((r = ls_sd_next_element(&it, NULL)) > 0)
                while ((r = ls_sd_next_param(&it, NULL, NULL)) > 0)
                        ;
        if (r == 0 && it.soft_error) {
                r = -EBADMSG;
                it.error_offset = it.soft_offset;
                it.error = it.soft_error;
        }
out:
        if (r < 0) {
                if (err_off)
                        *err_off = it.error_offset;
                if (why)
                        *why = it.error;
        }
        return r < 0 ? r : 0;
}

