/* SPDX-License-Identifier: Apache-2.0 */
/* test-columns.c: the column payload layout (SPEC §6.4) stores exactly the records entries do */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <sodium.h>
#include <zstd.h>

#include "batch-builder.h"
#include "columns.h"
#include "control.h"
#include "hash.h"
#include "keys.h"
#include "payload.h"
#include "testutil.h"
#include "util.h"
#include "tu-check.h"

static const char *const bodies[] = {
        "<13>1 2026-01-01T00:00:00.123456+00:00 host app - - - six digits, numeric zone",
        "<13>1 2026-01-01T00:00:00.123456Z host app - - - six digits, Z",
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [x@1 a=\"b\"] x",
        "<13>1 2026-01-01T05:30:00+05:30 h a - - - no fraction, positive offset",
        "<13>1 1969-12-31T23:59:59.9-08:00 h a - - - before 1970, negative offset",
        "<13>1 2026-02-30T00:00:00Z h a - - - not a date: stays text",
        "<13>1 2026-01-01T00:00:00.1234567Z h a - - - seven digits: stays text",
        "<13>1 2026-01-01T00:00:00.Z h a - - - empty fraction: stays text",
        "<13>1 2026-01-01T00:00:00.12345+0000 h a - - - bad zone: stays text",
        "<13>1 9999-12-31T23:59:59.999999+99:59",
        "<13>1 0000-01-01T00:00:00Z",
        "<13>1 - h a - - - nil time stamp",
        "<13>1 ",
        "<1>1 2026-01-01T00:00:00Z",
        "<1234>1 2026-01-01T00:00:00Z four-digit PRI: stays text",
        "<13>Jan  1 00:00:00 host tag: RFC 3164",
        "",
        "x",
};

/* Builds one batch of varied records with the given layout; returns its leaves via *tree. */
static void build(int columns, LsMerkle *tree, LsBatchHeader *h, uint8_t **payload, size_t *len)
{
        static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
        LsKeyPair *k;
        LsSigner s;
        LsBatchBuilder *b;
        LsControlBuilder cb;
        uint8_t seed[32], cid[32];
        const uint8_t *bytes;
        size_t n;
        uint64_t t = 1767225600ull * 1000000000ull;

        tu_seed(seed, "columns-key");
        ck_assert_int_eq(ls_keypair_from_seed(&k, seed, 0), 0);
        ls_signer_from_keypair(&s, k);
        tu_seed(cid, "columns-chain-id");
        ck_assert_int_eq(ls_batch_builder_new(&b, cid, 3, 1 << 20, 1000), 0);
        ck_assert_int_eq(ls_batch_builder_set_columns(b, columns), 0);
        tu_seed(seed, "columns-salt-seed");
        ls_merkle_init(tree);
        ls_batch_builder_begin(b, 0, 0, 0, (uint8_t[32]){0}, seed);
        for (int round = 0; round < 3; round++) {
                for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
                        LsRecord r;
                        switch ((i + round) % 5) {
                        case 0:
                                r = tu_udp4(t, "192.0.2.7", (uint16_t) (514 + i % 3), bodies[i]);
                                break;
                        case 1:
                                r = tu_tcp6(t, ip6, 40000, (uint32_t) round + 1, bodies[i]);
                                break;
                        case 2:
                                r = tu_unix(t, 100 + (uint32_t) i, 0, 0, bodies[i]);
                                break;
                        case 3:
                                r = tu_tcp6(t, ip6, 40001, 9, bodies[i]);
                                r.identity = (const uint8_t *) (i & 1 ? "CN=a.example" : "CN=b");
                                r.identity_len = (uint16_t) strlen((const char *) r.identity);
                                break;
                        default:
                                r = tu_udp4(t, "198.51.100.1", 514, bodies[i]);
                                if (r.body_len > 3) { /* truncated and parse-failed */
                                        r.orig_len = r.body_len + 1000;
                                        r.body_len -= 3;
                                        r.flags = LS_RECF_TRUNCATED | LS_RECF_PARSE_FAILED;
                                }
                        }
                        /* times jump back and forth, as a stepped clock makes them */
                        t += i % 4 == 3 ? (uint64_t) -5000000000ll : 1234567;
                        ck_assert_int_eq(ls_batch_builder_add(b, &r), 0);
                }
                ls_control_begin(&cb, LS_CTL_HEARTBEAT);
                ls_control_add_u64(&cb, LS_TAG_RECEIVED, 6);
                LsRecord c;
                ck_assert_int_eq(tu_control(&c, t, &cb), 0);
                ck_assert_int_eq(ls_batch_builder_add(b, &c), 0);
        }
        ck_assert_int_eq(ls_batch_builder_finish(b, tree, &s, h, &bytes, &n), 0);
        *len = n - LS_FRAME_HDR_LEN - LS_BATCH_HEADER_LEN;
        *payload = malloc(*len);
        memcpy(*payload, bytes + LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN, *len);
        ls_batch_builder_free(b);
        ls_keypair_free(k);
}

START_TEST(columns_store_the_same_records_and_leaves_as_entries)
{
        LsMerkle t1, t2;
        LsBatchHeader h1, h2;
        uint8_t *p1, *p2, r1[32], r2[32];
        size_t n1, n2, raw1, raw2;
        LsPayload *a, *b;
        const uint8_t *x1, *x2;

        build(0, &t1, &h1, &p1, &n1);
        build(1, &t2, &h2, &p2, &n2);
        ck_assert_uint_eq(h1.incompat_flags, 0);
        ck_assert_uint_eq(h2.incompat_flags, LS_BATCH_INCOMPAT_COLUMNS);
        /* what is hashed does not change: same tree, same payload_raw_len */
        ls_merkle_root(&t1, r1);
        ls_merkle_root(&t2, r2);
        ck_assert(memcmp(r1, r2, 32) == 0);
        ck_assert(memcmp(h1.tree_root, h2.tree_root, 32) == 0);
        ck_assert_uint_eq(h1.payload_raw_len, h2.payload_raw_len);
        ck_assert_uint_lt(n2, n1);
        ck_assert_int_eq(ls_payload_new(&a), 0);
        ck_assert_int_eq(ls_payload_new(&b), 0);
        ck_assert_int_eq(ls_payload_open(a, &h1, p1, n1), 0);
        ck_assert_int_eq(ls_payload_open(b, &h2, p2, n2), 0);
        x1 = ls_payload_raw(a, &raw1);
        x2 = ls_payload_raw(b, &raw2);
        ck_assert_uint_eq(raw1, raw2);
        ck_assert(memcmp(x1, x2, raw1) == 0);
        /* the column flag decides how the payload reads: swapped, each is refused */
        ck_assert_int_lt(ls_payload_open(a, &h2, p1, n1), 0);
        h1.incompat_flags = LS_BATCH_INCOMPAT_COLUMNS;
        memcpy(h1.payload_hash, h2.payload_hash, 32);
        h1.payload_len = h2.payload_len;
        h2.incompat_flags = 0;
        ck_assert_int_lt(ls_payload_open(b, &h2, p2, n2), 0);
        ls_payload_free(a);
        ls_payload_free(b);
        free(p1);
        free(p2);
}
END_TEST

START_TEST(time_stamps_write_back_byte_for_byte_or_stay_text)
{
        uint8_t out[LS_STAMP_MAX_TEXT];
        unsigned kept = 0;

        for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
                const uint8_t *b = (const uint8_t *) bodies[i];
                size_t n = strlen(bodies[i]), pre = ls_stamp_prefix(b, n), sl = 0;
                LsStamp st;

                if (pre)
                        sl = ls_stamp_parse(b + pre, n - pre, &st);
                if (sl) {
                        ck_assert_uint_eq(ls_stamp_format(&st, out), sl);
                        ck_assert(memcmp(out, b + pre, sl) == 0);
                        kept++;
                }
                ck_assert_msg(!strstr(bodies[i], "stays text") || sl == 0, "%s", bodies[i]);
        }
        ck_assert_uint_eq(kept, 8);
        /* out of range values are refused, not formatted */
        ck_assert_uint_eq(ls_stamp_format(&(LsStamp){.kind = 1, .value = INT64_MAX}, out), 0);
        ck_assert_uint_eq(ls_stamp_format(&(LsStamp){.kind = 1, .value = INT64_MIN}, out), 0);
        ck_assert_uint_eq(ls_stamp_format(&(LsStamp){.kind = 22}, out), 0);
}
END_TEST

/* A stamp is taken out exactly when its date exists (timegm as the independent oracle). */
START_TEST(time_stamps_are_taken_out_exactly_for_real_dates)
{
        static const int years[] = {0,    1,    4,    100,  400,  1900, 1969,
                                    1970, 2000, 2024, 2026, 2100, 9999};
        uint8_t out[LS_STAMP_MAX_TEXT];

        for (size_t yi = 0; yi < sizeof(years) / sizeof(*years); yi++) {
                for (int m = 0; m <= 13; m++) {
                        for (int d = 0; d <= 32; d++) {
                                char text[64];
                                struct tm tm = {.tm_year = years[yi] - 1900,
                                                .tm_mon = m - 1,
                                                .tm_mday = d,
                                                .tm_hour = 12};
                                time_t t = timegm(&tm);
                                int real = m >= 1 && m <= 12 && d >= 1 && t != (time_t) -1 &&
                                           tm.tm_mon == m - 1 && tm.tm_mday == d;
                                LsStamp st;
                                size_t n;

                                snprintf(text, sizeof(text), "%04d-%02d-%02dT12:34:56.789-03:00 x",
                                         years[yi], m, d);
                                n = ls_stamp_parse((const uint8_t *) text, strlen(text), &st);
                                ck_assert_msg(!!n == real, "%s", text);
                                if (n) {
                                        ck_assert_uint_eq(n, 29);
                                        ck_assert_uint_eq(ls_stamp_format(&st, out), n);
                                        ck_assert(memcmp(out, text, n) == 0);
                                        if (years[yi] >= 1970) /* the value is the date's */
                                                ck_assert_int_eq(st.value / 1000,
                                                                 (int64_t) t + 34 * 60 + 56);
                                }
                        }
                }
        }
}
END_TEST

START_TEST(varints_are_canonical_and_bounded)
{
        uint8_t b[LS_VARINT_MAX + 1];
        uint64_t v;
        size_t pos;

        for (int i = 0; i < 64; i++) {
                uint64_t x = (1ull << i) | 1;
                size_t n = ls_varint_put(b, x);
                pos = 0;
                ck_assert_int_eq(ls_varint_get(b, n, &pos, &v), 0);
                ck_assert_uint_eq(pos, n);
                ck_assert_uint_eq(v, x);
                pos = 0;
                ck_assert_int_eq(ls_varint_get(b, n - 1, &pos, &v), -ENODATA);
        }
        pos = 0;
        ck_assert_int_eq(ls_varint_get((const uint8_t[]){0x80, 0x00}, 2, &pos, &v), -EBADMSG);
        memset(b, 0xff, sizeof(b));
        b[9] = 0x02; /* 65 bits */
        pos = 0;
        ck_assert_int_eq(ls_varint_get(b, 10, &pos, &v), -EBADMSG);
        ck_assert_int_eq(ls_unzigzag(ls_zigzag(INT64_MIN)), INT64_MIN);
        ck_assert_int_eq(ls_unzigzag(ls_zigzag(-1)), -1);
}
END_TEST

/* Every change of a column payload's content is refused or yields other records (leaves). */
START_TEST(damaged_column_content_never_crashes_and_never_reads_the_same)
{
        LsMerkle t;
        LsBatchHeader h;
        uint8_t *p, *raw, *frame;
        size_t n, rawlen, cap;
        LsPayload *pl, *orig;
        const uint8_t *x;
        size_t xn;
        ZSTD_CCtx *c = ZSTD_createCCtx();

        build(1, &t, &h, &p, &n);
        ck_assert_int_eq(ls_payload_new(&pl), 0);
        ck_assert_int_eq(ls_payload_new(&orig), 0);
        ck_assert_int_eq(ls_payload_open(orig, &h, p, n), 0);
        x = ls_payload_raw(orig, &xn);
        /* the column content itself, to damage before compressing it again */
        rawlen = ZSTD_getFrameContentSize(p, n);
        raw = malloc(rawlen);
        ck_assert_uint_eq(ZSTD_decompress(raw, rawlen, p, n), rawlen);
        cap = ZSTD_compressBound(rawlen + 1);
        frame = malloc(cap);
        for (size_t i = 0; i < rawlen; i++) {
                for (int bit = 0; bit < 8; bit += 3) {
                        LsBatchHeader d = h;
                        size_t fl, ln;
                        raw[i] ^= (uint8_t) (1u << bit);
                        fl = ZSTD_compress(frame, cap, raw, rawlen, 1);
                        d.payload_len = (uint32_t) fl;
                        ls_sha256(d.payload_hash, frame, fl);
                        if (ls_payload_open(pl, &d, frame, fl) == 0) {
                                const uint8_t *y = ls_payload_raw(pl, &ln);
                                ck_assert_uint_eq(ln, xn);
                                ck_assert_msg(memcmp(x, y, xn) != 0, "byte %zu bit %d", i, bit);
                        }
                        raw[i] ^= (uint8_t) (1u << bit);
                }
        }
        /* cut short and overlong */
        for (size_t cut = 0; cut < rawlen; cut += 7) {
                LsBatchHeader d = h;
                size_t fl = ZSTD_compress(frame, cap, raw, cut, 1);
                d.payload_len = (uint32_t) fl;
                ls_sha256(d.payload_hash, frame, fl);
                ck_assert_int_lt(ls_payload_open(pl, &d, frame, fl), 0);
        }
        free(raw);
        free(frame);
        free(p);
        ZSTD_freeCCtx(c);
        ls_payload_free(pl);
        ls_payload_free(orig);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("columns");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, columns_store_the_same_records_and_leaves_as_entries);
        tcase_add_test(tc, time_stamps_write_back_byte_for_byte_or_stay_text);
        tcase_add_test(tc, time_stamps_are_taken_out_exactly_for_real_dates);
        tcase_add_test(tc, varints_are_canonical_and_bounded);
        tcase_add_test(tc, damaged_column_content_never_crashes_and_never_reads_the_same);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
