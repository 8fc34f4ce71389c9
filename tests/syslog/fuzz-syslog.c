/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-syslog: framer in random chunk sizes, then the parser and SD iterator on every message */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: byte 0 picks max_msg, byte 1 seeds the chunk sizes, the rest is the stream.
 * Checked (abort on failure): every delivered message fits max_msg and its orig_len, the
 * delivered bytes never exceed the stream, the result does not depend on chunking, every
 * parsed span and error offset lies inside its message, and SD iteration over every
 * message terminates with spans inside it.
 */

typedef struct Run {
        size_t max_msg;
        uint64_t count, orig_total, digest;
        int finishing;          /* within ls_framer_finish(): the end of the stream */
        uint64_t stream_total;  /* bytes of the stream the messages account for */
} Run;

/* An oracle that holds in every build (assert() vanishes under NDEBUG). */
#define CHECK(x)                                                                                   \
        do {                                                                                       \
                if (!(x)) {                                                                        \
                        fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", __FILE__, __LINE__,     \
                                #x);                                                               \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

static uint64_t mix(uint64_t h, uint64_t v)
{
        h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        return h * 0x100000001b3ull;
}

static bool in_msg(LsSpan s, size_t n)
{
        return s.off <= n && s.len <= n - s.off;
}

static void check_parse(const uint8_t *p, size_t n)
{
        LsSyslogParseOpts o = {.now = 1549615069, .local_offset = 3600};
        LsSyslogMsg m;
        LsSdIter it;
        LsSpan id, name, value;
        uint8_t buf[512];
        size_t len;
        int r, steps = 0;

        CHECK(ls_syslog_parse(p, n, &o, &m) == 0);
        CHECK(m.format <= LS_SYSLOG_RFC5424);
        CHECK((m.status == LS_SYSLOG_OK) == (m.error == NULL));
        CHECK(m.status == LS_SYSLOG_OK || m.error_offset <= n);
        CHECK(in_msg(m.hostname, n) && in_msg(m.app_name, n) && in_msg(m.procid, n) &&
              in_msg(m.msgid, n) && in_msg(m.sd, n) && in_msg(m.msg, n) && in_msg(m.seq, n));
        CHECK(m.pri >= -1 && m.pri <= 191);
        CHECK(m.pri < 0 ? m.facility == -1 && m.severity == -1
                        : m.facility == m.pri / 8 && m.severity == m.pri % 8);
        CHECK(m.format != LS_SYSLOG_UNPARSED || m.status == LS_SYSLOG_INVALID);

        ls_sd_iter_init(&it, p, n, m.sd);
        while ((r = ls_sd_next_element(&it, &id)) > 0) {
                CHECK(in_msg(id, n) && id.len > 0);
                while ((r = ls_sd_next_param(&it, &name, &value)) > 0) {
                        CHECK(in_msg(name, n) && in_msg(value, n));
                        r = ls_sd_unescape(p, n, value, buf, sizeof(buf), &len);
                        CHECK(len <= value.len);
                        CHECK(r == 0 || (r == -ENOBUFS && len > sizeof(buf)));
                        CHECK(++steps < 1 << 20);
                }
                if (r < 0)
                        break;
        }
        /* A message that parsed OK has valid STRUCTURED-DATA. */
        if (m.status == LS_SYSLOG_OK && m.sd.len)
                CHECK(r == 0 && !it.error && !it.soft_error);

        uint32_t seq = 0;
        r = ls_syslog_sequence_id(p, n, &m, &seq);
        CHECK(r == 0 || r == -EBADMSG || (r == 1 && seq >= 1 && seq <= LS_SYSLOG_SEQUENCE_MAX));
}

static int on_msg(void *ud, const uint8_t *msg, size_t len, uint64_t orig, unsigned flags)
{
        Run *run = ud;
        CHECK(len <= run->max_msg && len <= orig);
        CHECK((orig > len) == !!(flags & LS_FRAME_TRUNCATED));
        CHECK(orig > 0);
        run->count++;
        run->orig_total += orig;
        /* A frame cut by the end of the stream states its declared length (SPEC §3.2), which
         * the stream may not hold: only the bytes it delivered came from the stream. */
        CHECK(!run->finishing || orig >= len);
        run->stream_total += run->finishing ? len : orig;
        run->digest = mix(run->digest, len);
        run->digest = mix(run->digest, orig);
        run->digest = mix(run->digest, flags);
        for (size_t i = 0; i < len; i++)
                run->digest = mix(run->digest, msg[i]);
        check_parse(msg, len);
        return 0;
}

static Run frame(const uint8_t *p, size_t n, size_t max_msg, uint32_t seed, uint8_t *buf)
{
        Run run = {.max_msg = max_msg};
        LsFramer f;
        uint32_t x = seed | 1;

        CHECK(ls_framer_init(&f, buf, max_msg) == 0);
        for (size_t i = 0; i < n;) {
                size_t k = n - i;
                if (seed) {
                        /* xorshift32: chunks of 1..64 bytes, now and then much larger. */
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        size_t c = (x & 0x100) ? (x >> 9) % 4096 + 1 : (x & 63) + 1;
                        k = k < c ? k : c;
                }
                CHECK(ls_framer_feed(&f, p + i, k, on_msg, &run) == 0);
                i += k;
        }
        run.finishing = 1;
        CHECK(ls_framer_finish(&f, on_msg, &run) == 0);
        CHECK(ls_framer_idle(&f));
        /* Message bytes come from the stream: never more than it held. */
        CHECK(run.stream_total <= n);
        return run;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t buf[LS_FRAMER_DEFAULT_MAX_MSG];
        size_t max_msg;
        Run a, b;

        if (size < 2) {
                check_parse(data, size);
                return 0;
        }
        max_msg = data[0] < 192 ? (size_t) data[0] % 64 + 1 : sizeof(buf);
        a = frame(data + 2, size - 2, max_msg, 0, buf);
        b = frame(data + 2, size - 2, max_msg, (uint32_t) data[1] * 2654435761u + 1, buf);
        CHECK(a.count == b.count && a.orig_total == b.orig_total && a.digest == b.digest);

        /* The whole input as one datagram, and through the standalone helpers. */
        check_parse(data, size);
        {
                int64_t ns;
                int32_t off;
                size_t bad;
                (void) ls_syslog_parse_timestamp(data, size, &ns, &off, &bad);
                (void) ls_sd_validate(data, size, (LsSpan){0, (uint32_t) size}, NULL, NULL);
        }
        return 0;
}
