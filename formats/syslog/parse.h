/* SPDX-License-Identifier: Apache-2.0 */
/* parse.h: RFC 5424 and RFC 3164 (with real-world variants) syslog message parser */
#pragma once

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The parser never rejects: every input yields an LsSyslogMsg whose spans point into the
 * input and whose status says whether the message follows its RFC. Parsed fields only
 * feed the search index; the raw bytes are what is sealed.
 *
 * Dispatch:
 *   "<PRI>" then NONZERO-DIGIT 0*2DIGIT then SP (or end)   RFC 5424
 *   "<PRI>" otherwise                                     RFC 3164 (BSD, Cisco, ISO stamps)
 *   no PRI, but a BSD/ISO timestamp (or Cisco prefix)     RFC 3164, INVALID "missing PRI"
 *   no PRI, "1 " then a timestamp or "-"                  RFC 5424, INVALID "missing PRI"
 *   anything else, or a malformed "<PRI>"                 UNPARSED, INVALID, msg = all
 *
 * Trailing LF, CR and NUL bytes are not part of any field. Leading whitespace before a
 * PRI is skipped (INVALID).
 *
 * INVALID with error_offset/error reports the first rule broken. Where the field
 * boundaries stay certain (a field too long or with a forbidden byte, a bad timestamp
 * value, invalid UTF-8 after a BOM, an over-long SD-NAME), parsing continues and later
 * fields are still filled in. Where they do not (a missing SP, a broken SD-ELEMENT),
 * parsing stops: the fields before stay set and msg covers the input from the start of
 * the item that failed to its end, so no text is lost to the index.
 */

typedef enum LsSyslogFormat {
        LS_SYSLOG_UNPARSED = 0,
        LS_SYSLOG_RFC3164 = 1,
        LS_SYSLOG_RFC5424 = 2,
} LsSyslogFormat;

typedef enum LsSyslogStatus {
        LS_SYSLOG_OK = 0,
        LS_SYSLOG_INVALID = 1,
} LsSyslogStatus;

/* LsSyslogMsg.flags */
enum {
        LS_SYSLOG_HAVE_TIME = 1u << 0,     /* time_ns and tz_offset are set */
        LS_SYSLOG_HAVE_TZ = 1u << 1,       /* the timestamp carried its UTC offset */
        LS_SYSLOG_YEAR_GUESSED = 1u << 2,  /* BSD timestamp without year: year from opts->now */
        LS_SYSLOG_BOM = 1u << 3,           /* 5424 MSG began with a UTF-8 BOM (not in msg) */
        LS_SYSLOG_TIME_UNSYNCED = 1u << 4, /* Cisco '*': the sender's clock was not synced */
        LS_SYSLOG_TIME_SYNCED = 1u << 5,   /* Cisco '.': the sender's clock was synced */
        LS_SYSLOG_FORWARDED = 1u << 6,     /* "Message forwarded from HOST:" (AIX) */
        LS_SYSLOG_FRAMED = 1u << 7,        /* begins with "LEN SP" and LEN bytes follow:
                                            * an octet-counted frame sent as a message */
};

/* A range of the input; len 0 means absent (RFC 5424 NILVALUE included). */
typedef struct LsSpan {
        uint32_t off;
        uint32_t len;
} LsSpan;
static_assert(sizeof(LsSpan) == 8, "LsSpan is two 32-bit words");

typedef struct LsSyslogMsg {
        uint8_t format;    /* LsSyslogFormat */
        uint8_t status;    /* LsSyslogStatus */
        uint16_t flags;    /* LS_SYSLOG_* */
        int16_t pri;       /* 0..191, or -1 when absent or out of range */
        int8_t facility;   /* pri / 8, or -1 */
        int8_t severity;   /* pri % 8, or -1 */
        uint16_t version;  /* RFC 5424 VERSION (1..999), else 0 */
        int32_t tz_offset; /* seconds east of UTC: the message's, or opts->local_offset */
        int64_t time_ns;   /* nanoseconds since the epoch, UTC (LS_SYSLOG_HAVE_TIME) */
        LsSpan hostname;
        LsSpan app_name;       /* 5424 APP-NAME; 3164 TAG */
        LsSpan procid;         /* 5424 PROCID; 3164 "[pid]" contents */
        LsSpan msgid;          /* 5424 MSGID */
        LsSpan sd;             /* 5424 STRUCTURED-DATA, absent when NILVALUE */
        LsSpan msg;            /* MSG, without a leading BOM */
        LsSpan seq;            /* Cisco/ASA sequence number ("<189>123: ...") */
        uint32_t error_offset; /* INVALID: offset of the first problem */
        const char *error;     /* INVALID: short static reason; NULL when OK */
} LsSyslogMsg;

typedef struct LsSyslogParseOpts {
        /* Seconds since the epoch: a BSD timestamp without a year gets this year (in
         * local_offset's zone), the previous one for a December message in January, the
         * next one for a January message in December (syslog-ng's rule). */
        int64_t now;
        /* Seconds east of UTC applied to timestamps without a zone. A caller that wants
         * full zone rules (DST) passes 0 and converts time_ns itself when
         * LS_SYSLOG_HAVE_TZ is clear: time_ns is then the wall clock read as UTC. */
        int32_t local_offset;
} LsSyslogParseOpts;

/*
 * Parses p[0..n) into *out (no allocation, p need not be NUL-terminated). opts may be
 * NULL (now = 0, local_offset = 0). Returns 0 (the verdict is out->status), -EINVAL on
 * NULL p/out, -E2BIG when n does not fit the 32-bit spans.
 */
int ls_syslog_parse(const uint8_t *p, size_t n, const LsSyslogParseOpts *opts, LsSyslogMsg *out);

/* Names for logs and tests: "rfc5424", "rfc3164", "unparsed". */
const char *ls_syslog_format_name(LsSyslogFormat f);

/*
 * Parses exactly p[0..n) as an RFC 5424 TIMESTAMP (FULL-DATE "T" FULL-TIME, at most six
 * fractional digits, "Z" or a numeric offset; not NILVALUE). 0 with *ret_ns and
 * *ret_offset (seconds east), or -EBADMSG with *err_off (may be NULL) at the first
 * offending byte; -ERANGE when valid but outside the int64 nanosecond range.
 */
int ls_syslog_parse_timestamp(const uint8_t *p, size_t n, int64_t *ret_ns, int32_t *ret_offset,
                              size_t *err_off);

/*
 * STRUCTURED-DATA iteration. All spans are offsets into p, like the message's.
 *
 *     LsSdIter it;
 *     LsSpan id, name, value;
 *     ls_sd_iter_init(&it, p, n, msg.sd);
 *     while ((r = ls_sd_next_element(&it, &id)) > 0)
 *             while ((r = ls_sd_next_param(&it, &name, &value)) > 0)
 *                     ls_sd_unescape(p, n, value, buf, sizeof(buf), &len);
 *
 * The iterator checks the RFC 5424 syntax as it goes and stops with -EBADMSG
 * (it.error_offset, it.error) where a structure is broken. Rules that do not break the
 * structure (SD-NAME longer than 32, invalid UTF-8 in a PARAM-VALUE) do not stop it:
 * the first such problem is kept in it.soft_offset/it.soft_error.
 */
typedef struct LsSdIter {
        const uint8_t *p;
        size_t end;     /* end of the STRUCTURED-DATA span */
        size_t pos;     /* next byte to read */
        unsigned state; /* private */
        int done;       /* end reached or error */
        uint32_t error_offset;
        const char *error; /* NULL unless -EBADMSG was returned */
        uint32_t soft_offset;
        const char *soft_error; /* NULL unless a non-structural rule was broken */
} LsSdIter;

/* sd may be a NILVALUE ("-") or absent span: no elements. */
void ls_sd_iter_init(LsSdIter *it, const uint8_t *p, size_t n, LsSpan sd);

/* 1 and *id for the next SD-ELEMENT (skipping unread params); 0 at the end; -EBADMSG. */
int ls_sd_next_element(LsSdIter *it, LsSpan *id);

/* 1 with the PARAM-NAME and the raw (escaped) PARAM-VALUE between the quotes; 0 at the
 * element's "]"; -EBADMSG. */
int ls_sd_next_param(LsSdIter *it, LsSpan *name, LsSpan *value);

/*
 * Unescapes a raw PARAM-VALUE: \" \\ \] become the character, any other backslash
 * stays (RFC 5424 §6.3.3). The result is never longer than value.len. 0 with *ret_len,
 * or -ENOBUFS when cap is too small (*ret_len is then the size needed).
 */
int ls_sd_unescape(const uint8_t *p, size_t n, LsSpan value, uint8_t *buf, size_t cap,
                   size_t *ret_len);

/* Strict check of p[sd.off..sd.off+sd.len) as STRUCTURED-DATA (NILVALUE or elements,
 * nothing after): 0, or -EBADMSG with *err_off and *why (either may be NULL). */
int ls_sd_validate(const uint8_t *p, size_t n, LsSpan sd, uint32_t *err_off, const char **why);

/* RFC 5424 §7.3.1: meta sequenceId is 1..2147483647, and wraps from the largest to 1. */
#define LS_SYSLOG_SEQUENCE_MAX 2147483647u

/*
 * The sender's sequence number: the sequenceId parameter of the message's "meta" SD-ELEMENT
 * (RFC 5424 §7.3.1; syslog-ng's syslog() destination writes it). 1 with *ret, 0 when the
 * message has none, -EBADMSG when it is not exactly one element "meta" with exactly one
 * sequenceId of 1..LS_SYSLOG_SEQUENCE_MAX in plain decimal (no sign, no leading zero, no
 * escape), or when the STRUCTURED-DATA is broken. Reads m->sd only, once.
 */
int ls_syslog_sequence_id(const uint8_t *p, size_t n, const LsSyslogMsg *m, uint32_t *ret);
