/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parse-internal.h: what the parts of the syslog parser share (not for callers: parse.h is
 * the interface).
 *
 *   parse.c       the dispatch (PRI, which format), the UTF-8 check
 *   parse-time.c  timestamps: RFC 5424 strict, ISO 8601 and BSD forms, zones and years
 *   parse-sd.c    the STRUCTURED-DATA iterator (RFC 5424 §6.3)
 *   parse-5424.c  the RFC 5424 header
 *   parse-3164.c  RFC 3164 / BSD messages and their common variants
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

/* RFC 5424 §6: field length limits. */
#define HOSTNAME_MAX 255
#define APP_NAME_MAX 48
#define PROCID_MAX 128
#define MSGID_MAX 32
#define SD_NAME_MAX 32
#define SD_DUP_CHECK 64               /* SD-IDs checked for duplicates */
#define NOW_LIMIT ((int64_t) 1 << 40) /* |opts->now| is clamped to this (~34,000 years) */
/* RFC 3164 variants: longest TAG and "[pid]" taken as such. */
#define TAG_MAX 255
#define PID_MAX 128

typedef struct Ctx {
        const uint8_t *p;
        size_t n; /* without trailing LF/CR/NUL */
        LsSyslogMsg *m;
        int64_t now;
        int32_t local_offset;
} Ctx;

/* A broken-down timestamp as read, before zone and year are settled. */
typedef struct Wall {
        int64_t year; /* -1: not in the message */
        int mon, day, hour, min, sec;
        uint32_t nsec;
        int32_t offset;
        bool has_offset;
} Wall;

static inline LsSpan span(size_t off, size_t len)
{
        return (LsSpan){.off = (uint32_t) off, .len = (uint32_t) len};
}

static inline bool is_digit(uint8_t b)
{
        return b >= '0' && b <= '9';
}

static inline bool is_alpha(uint8_t b)
{
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

static inline bool is_hex(uint8_t b)
{
        return is_digit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
}

/* RFC 5424 PRINTUSASCII. */
static inline bool is_printusascii(uint8_t b)
{
        return b >= 33 && b <= 126;
}

/* RFC 5424 SD-NAME character: PRINTUSASCII except '=', SP, ']', '"'. */
static inline bool is_sd_name_char(uint8_t b)
{
        return is_printusascii(b) && b != '=' && b != ']' && b != '"';
}

/* The first problem wins: callers report in input order. */
static inline void problem(Ctx *c, size_t off, const char *why)
{
        if (c->m->status == LS_SYSLOG_OK) {
                c->m->status = LS_SYSLOG_INVALID;
                c->m->error_offset = (uint32_t) off;
                c->m->error = why;
        }
}

/* Structure lost: keep what was parsed, the rest from msg_start is the text. */
static inline void stop(Ctx *c, size_t off, const char *why, size_t msg_start)
{
        problem(c, off, why);
        c->m->msg = span(msg_start, c->n - msg_start);
}

/* parse.c */
size_t syslog_utf8_invalid_at(const uint8_t *p, size_t i, size_t end);

/* parse-time.c */
bool syslog_strict_rfc5424_ts(const uint8_t *p, size_t i, size_t end, Wall *w, size_t *bad,
                              const char **why);
size_t syslog_scan_iso(const uint8_t *p, size_t i, size_t end, Wall *w);
size_t syslog_scan_bsd(const uint8_t *p, size_t i, size_t end, Wall *w);
void syslog_set_time(Ctx *c, Wall *w, size_t at);

/* parse-sd.c */
void syslog_sd_iter_open(LsSdIter *it, const uint8_t *p, size_t n, size_t pos);

/* parse-5424.c */
void syslog_parse_5424(Ctx *c, size_t pos);

/* parse-3164.c */
bool syslog_parse_3164(Ctx *c, size_t pos, bool have_pri);
