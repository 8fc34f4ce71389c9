/* SPDX-License-Identifier: Apache-2.0 */
/* framing.h: RFC 6587 TCP stream framing, octet counting and non-transparent, never losing bytes */
#pragma once

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A framer cuts one TCP connection's byte stream into syslog messages.
 *
 * Each message's framing is chosen from its first byte (RFC 6587 §3.4):
 *
 *   '1'-'9'   octet counting, "MSG-LEN SP MSG" with MSG-LEN a decimal of at most
 *             LS_FRAMER_MAX_LEN_DIGITS digits and no leading zero;
 *   otherwise non-transparent framing: the message ends at LF or NUL; a CR right
 *             before the LF is part of the delimiter and is stripped.
 *
 * The connection remembers how it started. Once it has used octet counting, a message
 * that does not start with a well-formed count is read with delimiter framing and
 * flagged LS_FRAME_FRAMING_ERROR; the bytes are delivered, never skipped. Once it has
 * used delimiter framing, a line that merely starts with digits and a space is not
 * mistaken for a count: a count is believed there only when "<" (a PRI) follows it.
 *
 * A message longer than max_msg is delivered with its first max_msg bytes,
 * LS_FRAME_TRUNCATED and its real length; the framer never holds more than max_msg
 * bytes of a message, whatever the input. Empty delimiter-framed messages (blank
 * lines, stray delimiters between octet-counted frames) carry no bytes and are not
 * delivered.
 *
 * For every delivered message, orig_len - len is the number of bytes of that message
 * that were received but not delivered (truncation). Delimiters and the "MSG-LEN SP"
 * prefix of octet-counted messages are not message bytes.
 */

#define LS_FRAMER_DEFAULT_MAX_MSG (64u * 1024u)
#define LS_FRAMER_MAX_MSG (1024u * 1024u)
#define LS_FRAMER_MAX_LEN_DIGITS 9

/* Flags passed with each message. */
enum {
        LS_FRAME_OCTET_COUNTED = 1u << 0, /* framed by its MSG-LEN (else by a delimiter) */
        LS_FRAME_TRUNCATED = 1u << 1,     /* longer than max_msg: the first max_msg bytes */
        LS_FRAME_FRAMING_ERROR = 1u << 2, /* an octet count was malformed or missing here */
        LS_FRAME_INCOMPLETE = 1u << 3,    /* the stream ended inside it (ls_framer_finish) */
};

/*
 * Called once per message. msg is valid during the call only (it points into the
 * framer's buffer or into the caller's input chunk). A negative return stops
 * ls_framer_feed()/ls_framer_finish(), which return it.
 */
typedef int (*LsFrameHandler)(void *userdata, const uint8_t *msg, size_t len, uint64_t orig_len,
                              unsigned flags);

/* Caller-allocated; all fields are private to framing.c. */
typedef struct LsFramer {
        uint8_t *buf; /* caller's buffer of max_msg bytes */
        size_t max_msg;
        size_t len;    /* bytes of the current message held in buf */
        uint64_t seen; /* bytes of the current message received so far (>= len) */
        uint64_t want; /* octet counting: MSG-LEN of the current message */
        uint8_t state;
        uint8_t mode;                              /* how the connection has framed so far */
        uint8_t flags;                             /* LS_FRAME_* of the current message */
        uint8_t ndigits;                           /* bytes held in hdr */
        bool last_cr;                              /* the last message byte received was CR */
        uint8_t hdr[LS_FRAMER_MAX_LEN_DIGITS + 1]; /* "MSG-LEN SP" while undecided */
} LsFramer;

static_assert(LS_FRAMER_MAX_MSG <= UINT32_MAX, "message offsets fit in 32 bits");
static_assert(LS_FRAMER_DEFAULT_MAX_MSG <= LS_FRAMER_MAX_MSG, "default within the limit");
/* 10^9 - 1 must fit in uint64_t with room: counts never overflow. */
static_assert(LS_FRAMER_MAX_LEN_DIGITS <= 18, "MSG-LEN fits in 64 bits");

/*
 * Prepares f for a new connection, using buf[0..max_msg) as its message buffer.
 * 0, or -EINVAL when buf is NULL or max_msg is 0 or above LS_FRAMER_MAX_MSG.
 */
int ls_framer_init(LsFramer *f, uint8_t *buf, size_t max_msg);

/*
 * Feeds the next n bytes of the stream (any chunking). Calls handler for each message
 * completed by them. 0, or the handler's negative return (the rest of p is then not
 * consumed and the connection should be dropped).
 */
int ls_framer_feed(LsFramer *f, const uint8_t *p, size_t n, LsFrameHandler handler, void *userdata);

/*
 * End of stream: delivers a partially received message, if any, flagged
 * LS_FRAME_INCOMPLETE, then resets f for reuse. orig_len is what was received, except for
 * an octet-counted message: its declared MSG-LEN (so it is also LS_FRAME_TRUNCATED, and
 * orig_len - len is what never arrived).
 * 0, or the handler's negative return.
 */
int ls_framer_finish(LsFramer *f, LsFrameHandler handler, void *userdata);

/* True when no partial message is held (a connection may close here without loss). */
bool ls_framer_idle(const LsFramer *f);
