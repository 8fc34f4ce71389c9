/* SPDX-License-Identifier: Apache-2.0 */
/* framing.c: RFC 6587 stream framer (see framing.h for the rules) */
#include <errno.h>
#include <string.h>

#include "framing.h"

enum {
        S_START,    /* at a message boundary, nothing consumed */
        S_COUNT,    /* reading MSG-LEN digits into hdr */
        S_COUNT_SP, /* delimiter-framed connection: "MSG-LEN SP" read, is a '<' next? */
        S_BODY,     /* octet counting: reading want bytes */
        S_LINE,     /* delimiter framing: reading up to LF or NUL */
};

enum {
        MODE_UNKNOWN, /* no message framed yet */
        MODE_OCTET,   /* the connection uses octet counting */
        MODE_DELIM,   /* the connection uses delimiter framing */
};

int ls_framer_init(LsFramer *f, uint8_t *buf, size_t max_msg)
{
        if (!f || !buf || max_msg == 0 || max_msg > LS_FRAMER_MAX_MSG)
                return -EINVAL;
        *f = (LsFramer){.buf = buf, .max_msg = max_msg, .state = S_START, .mode = MODE_UNKNOWN};
        return 0;
}

bool ls_framer_idle(const LsFramer *f)
{
        return f->state == S_START;
}

/* Appends message bytes; what does not fit in buf is only counted. */
static void append(LsFramer *f, const uint8_t *p, size_t k)
{
        if (k == 0)
                return;
        if (f->len < f->max_msg) {
                size_t room = f->max_msg - f->len, c = k < room ? k : room;
                memcpy(f->buf + f->len, p, c);
                f->len += c;
        }
        f->seen += k;
        f->last_cr = p[k - 1] == '\r';
}

/* Resets the per-message state; the caller then delivers what it saved. */
static void next_message(LsFramer *f)
{
        f->state = S_START;
        f->len = 0;
        f->seen = 0;
        f->want = 0;
        f->flags = 0;
        f->ndigits = 0;
        f->last_cr = false;
}

static int deliver(LsFramer *f, const uint8_t *msg, size_t len, uint64_t orig_len, unsigned flags,
                   LsFrameHandler handler, void *userdata)
{
        if (orig_len > len)
                flags |= LS_FRAME_TRUNCATED;
        /* State is reset first: a failing handler leaves the framer consistent. */
        next_message(f);
        return handler(userdata, msg, len, orig_len, flags);
}

/* The held "MSG-LEN[ SP]" is not a count: it starts a delimiter-framed message. */
static void fall_back_to_line(LsFramer *f)
{
        uint8_t hdr[sizeof(f->hdr)];
        size_t n = f->ndigits;

        memcpy(hdr, f->hdr, n);
        f->state = S_LINE;
        f->len = 0;
        f->seen = 0;
        f->want = 0;
        f->ndigits = 0;
        /* A digit-led line is ordinary in a delimiter-framed connection. */
        f->flags = f->mode == MODE_DELIM ? 0 : LS_FRAME_FRAMING_ERROR;
        append(f, hdr, n);
}

static void begin_body(LsFramer *f)
{
        f->state = S_BODY;
        f->flags = LS_FRAME_OCTET_COUNTED;
        f->len = 0;
        f->seen = 0;
        f->ndigits = 0;
        if (f->mode == MODE_UNKNOWN)
                f->mode = MODE_OCTET;
}

static void begin_line(LsFramer *f, unsigned flags)
{
        f->state = S_LINE;
        f->flags = (uint8_t) flags;
        f->len = 0;
        f->seen = 0;
}

/* Delimiter reached: strips a CR before LF, delivers unless empty. */
static int end_line(LsFramer *f, bool lf, LsFrameHandler handler, void *userdata)
{
        uint64_t seen = f->seen;
        size_t len = f->len;

        if (lf && f->last_cr) {
                seen--;
                if (len > seen)
                        len = (size_t) seen;
        }
        /* The connection turned out to be delimiter framed. */
        if (f->mode == MODE_UNKNOWN)
                f->mode = MODE_DELIM;
        if (seen == 0) {
                next_message(f);
                return 0;
        }
        return deliver(f, f->buf, len, seen, f->flags, handler, userdata);
}

int ls_framer_feed(LsFramer *f, const uint8_t *p, size_t n, LsFrameHandler handler, void *userdata)
{
        int r;

        if (n > 0 && !p)
                return -EINVAL;
        while (n > 0) {
                switch (f->state) {
                case S_START:
                        if (p[0] >= '1' && p[0] <= '9') {
                                f->state = S_COUNT;
                                f->want = 0;
                                f->ndigits = 0;
                        } else if (f->mode == MODE_OCTET ||
                                   (p[0] == '0' && f->mode != MODE_DELIM)) {
                                /* "abc" or "0..." where a count belongs: keep the bytes. */
                                begin_line(f, LS_FRAME_FRAMING_ERROR);
                        } else {
                                begin_line(f, 0);
                        }
                        break;

                case S_COUNT: {
                        uint8_t b = p[0];
                        if (b >= '0' && b <= '9') {
                                if (f->ndigits == LS_FRAMER_MAX_LEN_DIGITS) {
                                        fall_back_to_line(f);
                                        break;
                                }
                                f->hdr[f->ndigits++] = b;
                                f->want = f->want * 10 + (uint64_t) (b - '0');
                                p++;
                                n--;
                        } else if (b == ' ') {
                                p++;
                                n--;
                                if (f->mode == MODE_DELIM) {
                                        f->hdr[f->ndigits++] = ' ';
                                        f->state = S_COUNT_SP;
                                } else {
                                        begin_body(f);
                                }
                        } else {
                                fall_back_to_line(f);
                        }
                        break;
                }

                case S_COUNT_SP:
                        if (p[0] == '<')
                                begin_body(f);
                        else
                                fall_back_to_line(f);
                        break;

                case S_BODY: {
                        uint64_t rem = f->want - f->seen;
                        if (f->seen == 0 && rem <= n && rem <= f->max_msg) {
                                /* Whole message in this chunk: no copy. */
                                size_t k = (size_t) rem;
                                const uint8_t *msg = p;
                                p += k;
                                n -= k;
                                r = deliver(f, msg, k, k, LS_FRAME_OCTET_COUNTED, handler,
                                            userdata);
                                if (r < 0)
                                        return r;
                                break;
                        }
                        size_t k = rem < n ? (size_t) rem : n;
                        append(f, p, k);
                        p += k;
                        n -= k;
                        if (f->seen == f->want) {
                                r = deliver(f, f->buf, f->len, f->seen, f->flags, handler,
                                            userdata);
                                if (r < 0)
                                        return r;
                        }
                        break;
                }

                case S_LINE: {
                        const uint8_t *lf = memchr(p, '\n', n);
                        size_t lim = lf ? (size_t) (lf - p) : n;
                        const uint8_t *nul = memchr(p, '\0', lim);
                        size_t k = nul ? (size_t) (nul - p) : lim;
                        bool delim = nul || lf, is_lf = !nul && lf;

                        if (delim && f->seen == 0) {
                                size_t m = k;
                                if (is_lf && m > 0 && p[m - 1] == '\r')
                                        m--;
                                if (m <= f->max_msg) {
                                        /* Whole line in this chunk: no copy. */
                                        const uint8_t *msg = p;
                                        unsigned flags = f->flags;
                                        p += k + 1;
                                        n -= k + 1;
                                        if (f->mode == MODE_UNKNOWN)
                                                f->mode = MODE_DELIM;
                                        if (m == 0) {
                                                next_message(f);
                                                break;
                                        }
                                        r = deliver(f, msg, m, m, flags, handler, userdata);
                                        if (r < 0)
                                                return r;
                                        break;
                                }
                        }
                        append(f, p, k);
                        p += k;
                        n -= k;
                        if (delim) {
                                p++;
                                n--;
                                r = end_line(f, is_lf, handler, userdata);
                                if (r < 0)
                                        return r;
                        }
                        break;
                }

                default:
                        return -EINVAL;
                }
        }
        return 0;
}

int ls_framer_finish(LsFramer *f, LsFrameHandler handler, void *userdata)
{
        int r = 0;

        switch (f->state) {
        case S_COUNT:
        case S_COUNT_SP: {
                /* "16" at EOF: the digits are all that was received of this message. */
                uint8_t hdr[sizeof(f->hdr)];
                size_t n = f->ndigits < f->max_msg ? f->ndigits : f->max_msg;
                memcpy(hdr, f->hdr, f->ndigits);
                r = deliver(f, hdr, n, f->ndigits, LS_FRAME_INCOMPLETE, handler, userdata);
                break;
        }
        case S_BODY:
                /* An octet-counted message cut short: its length is the one its sender
                 * declared (MSG-LEN), so it is delivered TRUNCATED, never as complete. */
                if (f->seen > 0 || f->want > 0)
                        r = deliver(f, f->buf, f->len, f->want, f->flags | LS_FRAME_INCOMPLETE,
                                    handler, userdata);
                break;
        case S_LINE:
                if (f->seen > 0)
                        r = deliver(f, f->buf, f->len, f->seen, f->flags | LS_FRAME_INCOMPLETE,
                                    handler, userdata);
                break;
        default:
                break;
        }
        /* Ready for another connection, with the same buffer. */
        (void) ls_framer_init(f, f->buf, f->max_msg);
        return r;
}
