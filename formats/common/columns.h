/* SPDX-License-Identifier: Apache-2.0 */
/* columns.h: pieces of the column payload layout (SPEC §6.4) shared by its writer and reader */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* LEB128 varints of at most 10 bytes; a reader refuses non-canonical ones. */
#define LS_VARINT_MAX 10
static inline size_t ls_varint_put(uint8_t out[LS_VARINT_MAX], uint64_t v)
{
        size_t n = 0;

        while (v >= 0x80) {
                out[n++] = (uint8_t) (v | 0x80);
                v >>= 7;
        }
        out[n++] = (uint8_t) v;
        return n;
}
/* Reads one varint at p[*pos..n): 0 and *pos advanced, -ENODATA when cut, -EBADMSG otherwise. */
int ls_varint_get(const uint8_t *p, size_t n, size_t *pos, uint64_t *ret);

static inline uint64_t ls_zigzag(int64_t v)
{
        return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

static inline int64_t ls_unzigzag(uint64_t v)
{
        return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}

/*
 * The RFC 5424 TIMESTAMP a message body may carry after its "<PRI>1 " prefix, kept as a
 * number beside the body instead of as text (SPEC §6.4). kind 0: none; else kind − 1 =
 * digits + 7·zone, digits 0..6 fractional digits, zone 0 'Z', 1 '+', 2 '-'; offset = hh·60 + mm
 * of a numeric zone; value = the written local date and time in units of 10^-digits s since
 * 1970-01-01T00:00:00 (zone not applied).
 */
#define LS_STAMP_MAX_KIND 21
#define LS_STAMP_MAX_OFFSET (99 * 60 + 59)
#define LS_STAMP_MAX_TEXT 32
typedef struct LsStamp {
        uint8_t kind;
        uint16_t offset;
        int64_t value;
} LsStamp;

/* Length of the "<PRI>1 " prefix body starts with (PRI 1-3 digits), or 0. */
size_t ls_stamp_prefix(const uint8_t *body, size_t n);
/*
 * Finds a timestamp at body[pos..n) that ls_stamp_format() writes back byte for byte: its
 * length and *ret, or 0 (kind 0) when there is none.
 */
size_t ls_stamp_parse(const uint8_t *p, size_t n, LsStamp *ret);
/* Writes the text of s into out: its length, or 0 when s is out of range (year 0000-9999). */
size_t ls_stamp_format(const LsStamp *s, uint8_t out[LS_STAMP_MAX_TEXT]);
/* The value time_ns predicts for a stamp of `digits` fractional digits. */
int64_t ls_stamp_predict(uint64_t time_ns, unsigned digits);
