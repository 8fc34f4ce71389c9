/* SPDX-License-Identifier: Apache-2.0 */
/* test-encoding, records (the suite is in test-encoding.c) */
#include "test-encoding.h"

/* ---------------------------------------------------------------------------------------------
 * Records (SPEC §3)
 */

static int dec_record(const uint8_t *p, size_t n)
{
        LsRecord r;
        return ls_record_decode(&r, p, n, NULL);
}

static void assert_record_equal(const LsRecord *a, const LsRecord *b)
{
        ck_assert_uint_eq(a->type, b->type);
        ck_assert_uint_eq(a->flags, b->flags);
        ck_assert_uint_eq(a->seq, b->seq);
        ck_assert_uint_eq(a->time_ns, b->time_ns);
        ck_assert_uint_eq(a->transport, b->transport);
        ck_assert_uint_eq(a->family, b->family);
        ck_assert_uint_eq(a->port, b->port);
        ck_assert(memcmp(a->address, b->address, 16) == 0);
        ck_assert_uint_eq(a->conn_id, b->conn_id);
        ck_assert_uint_eq(a->orig_len, b->orig_len);
        ck_assert_uint_eq(a->identity_len, b->identity_len);
        ck_assert(a->identity_len == 0 || memcmp(a->identity, b->identity, a->identity_len) == 0);
        ck_assert_uint_eq(a->body_len, b->body_len);
        ck_assert(a->body_len == 0 || memcmp(a->body, b->body, a->body_len) == 0);
}

/* Encodes r (which must be valid) into a malloc'ed buffer. */
static uint8_t *record_bytes(const LsRecord *r, size_t *ret_len)
{
        size_t n = ls_record_size(r), got = 0;
        uint8_t *p = malloc(n);

        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(ls_record_encode(r, p, n, &got), 0);
        ck_assert_uint_eq(got, n);
        *ret_len = n;
        return p;
}

#define N_RECORD_FIXTURES 8
static const uint8_t fixture_ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                        0,    0,    0,    0,    0, 0, 0, 0x42};

/* Syslog records over every transport and flag combination. */
LsRecord record_fixture(unsigned i)
{
        LsRecord r;

        switch (i) {
        case 0:
                r = tu_udp4(TU_T0 + 1, "192.0.2.7", 514, "<13>Jan  1 00:00:00 host app: hello");
                break;
        case 1:
                r = tu_tcp6(TU_T0 + 2, fixture_ip6, 40001, 7,
                            "<34>1 2026-01-01T00:00:00Z h su - - - x");
                r.identity = (const uint8_t *) "CN=client.example,O=Org";
                r.identity_len = (uint16_t) strlen((const char *) r.identity);
                break;
        case 2:
                r = tu_unix(TU_T0 + 3, 4242, 1000, 100, "<14>local message");
                break;
        case 3:
                r = tu_unix(TU_T0 + 4, 1, 2, 3, "<14>stream");
                r.transport = LS_TRANSPORT_UNIX_STREAM;
                r.conn_id = 3;
                break;
        case 4: /* unix stream without credentials */
                r = tu_unix(TU_T0 + 5, 0, 0, 0, "no creds");
                r.family = LS_FAMILY_NONE;
                memset(r.address, 0, 16);
                r.transport = LS_TRANSPORT_UNIX_DGRAM;
                break;
        case 5: /* truncated, parse failed, recovered */
                r = tu_udp4(TU_T0 + 6, "203.0.113.255", 65535, "trunc\x00\xff");
                r.body_len = 7;
                r.orig_len = 70000;
                r.flags = LS_RECF_TRUNCATED | LS_RECF_PARSE_FAILED | LS_RECF_RECOVERED;
                break;
        case 6: /* empty body over TCP/IPv4 */
                r = tu_udp4(UINT64_MAX, "0.0.0.0", 0, "");
                r.transport = LS_TRANSPORT_TCP;
                r.conn_id = UINT32_MAX;
                break;
        default: /* identity without body */
                r = tu_tcp6(0, fixture_ip6, 1, 1, "");
                r.identity = (const uint8_t *) "\xff\xfe not utf-8";
                r.identity_len = 12;
                break;
        }
        r.seq = (uint64_t) i * UINT64_C(0x0101010101010101);
        return r;
}

START_TEST(record_round_trip_preserves_fields_and_bytes)
{
        for (unsigned i = 0; i < N_RECORD_FIXTURES; i++) {
                LsRecord r = record_fixture(i), d;
                size_t n, n2;
                uint8_t *p = record_bytes(&r, &n), *q;

                ck_assert_int_eq(ls_record_check(&r), 0);
                ck_assert_uint_eq(n, 56u + r.identity_len + r.body_len);
                ck_assert_int_eq(ls_record_decode(&d, p, n, NULL), 0);
                assert_record_equal(&r, &d);
                /* identity and body point into the input */
                ck_assert(d.body == p + 56 + d.identity_len);
                q = record_bytes(&d, &n2);
                ck_assert_uint_eq(n, n2);
                ck_assert(memcmp(p, q, n) == 0);
                free(p);
                free(q);
        }
}
END_TEST

START_TEST(record_layout_matches_spec_table)
{
        LsRecord r = record_fixture(1);
        size_t n;
        uint8_t *p = record_bytes(&r, &n), want[56] = {0};

        want[0] = 1;
        want[1] = LS_REC_SYSLOG;
        le16(want + 2, r.flags);
        le64(want + 4, r.seq);
        le64(want + 12, r.time_ns);
        want[20] = 2;
        want[21] = 2;
        le16(want + 22, 40001);
        memcpy(want + 24, fixture_ip6, 16);
        le32(want + 40, 7);
        le32(want + 44, r.body_len);
        le16(want + 48, r.identity_len);
        le32(want + 52, r.body_len);
        ck_assert(memcmp(p, want, 56) == 0);
        ck_assert(memcmp(p + 56, r.identity, r.identity_len) == 0);
        ck_assert(memcmp(p + 56 + r.identity_len, r.body, r.body_len) == 0);
        free(p);

        /* unix credentials: u32 pid, uid, gid, 0 */
        r = record_fixture(2);
        p = record_bytes(&r, &n);
        uint8_t cred[16] = {0};
        le32(cred, 4242);
        le32(cred + 4, 1000);
        le32(cred + 8, 100);
        ck_assert(memcmp(p + 24, cred, 16) == 0);
        ck_assert_uint_eq(p[20], 3);
        ck_assert_uint_eq(p[21], 3);
        free(p);
}
END_TEST

START_TEST(record_every_strict_prefix_is_enodata)
{
        for (unsigned i = 0; i < N_RECORD_FIXTURES; i++) {
                LsRecord r = record_fixture(i);
                size_t n;
                uint8_t *p = record_bytes(&r, &n);

                assert_prefixes_rejected(dec_record, p, n, -ENODATA, "record");
                free(p);
        }
}
END_TEST

START_TEST(record_with_trailing_bytes_is_ebadmsg)
{
        for (unsigned i = 0; i < N_RECORD_FIXTURES; i++) {
                LsRecord r = record_fixture(i);
                size_t n;
                uint8_t *p = record_bytes(&r, &n);

                assert_trailing_rejected(dec_record, p, n, "record");
                free(p);
        }
}
END_TEST

START_TEST(record_lengths_at_maximum_round_trip_and_above_are_e2big)
{
        size_t cap = LS_MAX_RECORD_LEN + 16, n;
        uint8_t *body = calloc(1, LS_MAX_BODY + 1), *ident = calloc(1, LS_MAX_IDENTITY + 1);
        uint8_t *p = malloc(cap);
        LsRecord r = record_fixture(0), d;
        int k;

        ck_assert_ptr_nonnull(body);
        ck_assert_ptr_nonnull(ident);
        ck_assert_ptr_nonnull(p);
        memset(body, 'b', LS_MAX_BODY + 1);
        memset(ident, 'i', LS_MAX_IDENTITY + 1);

        /* at the maxima: 56 + 1024 + 1048576 = 1049656 (SPEC §12) */
        r.identity = ident;
        r.identity_len = 1024;
        r.body = body;
        r.body_len = r.orig_len = 1048576;
        ck_assert_uint_eq(ls_record_size(&r), 1049656);
        ck_assert_int_eq(ls_record_encode(&r, p, cap, &n), 0);
        ck_assert_uint_eq(n, 1049656);
        ck_assert_int_eq(ls_record_decode(&d, p, n, NULL), 0);
        assert_record_equal(&r, &d);
        ck_assert_int_eq(ls_record_decode(&d, p, n - 1, NULL), -ENODATA);

        /* identity_len 1025 */
        r.identity_len = 1025;
        ck_assert_int_eq(ls_record_check(&r), -E2BIG);
        ck_assert_int_eq(ls_record_encode(&r, p, cap, &n), -E2BIG);
        r.identity_len = 1024;
        ck_assert_int_eq(ls_record_encode(&r, p, cap, &n), 0);
        le16(p + 48, 1025);
        ck_assert_int_eq(ls_record_decode(&d, p, n + 1, NULL), -E2BIG);
        ck_assert_int_eq(ls_record_decode(&d, p, 56, NULL), -E2BIG); /* before the length check */

        /* body_len 1048577 (orig_len following) */
        r.body_len = r.orig_len = 1048577;
        ck_assert_int_eq(ls_record_check(&r), -E2BIG);
        ck_assert_int_eq(ls_record_encode(&r, p, cap, &n), -E2BIG);
        r.identity_len = 0;
        r.body_len = r.orig_len = 16;
        ck_assert_int_eq(ls_record_encode(&r, p, cap, &n), 0);
        le32(p + 44, 1048577);
        le32(p + 52, 1048577);
        ck_assert_int_eq(ls_record_decode(&d, p, n, NULL), -E2BIG);
        le32(p + 52, UINT32_MAX);
        le32(p + 44, UINT32_MAX);
        ck_assert_int_eq(ls_record_decode(&d, p, n, NULL), -E2BIG);

        /* a too small output buffer */
        r = record_fixture(0);
        k = ls_record_encode(&r, p, ls_record_size(&r) - 1, &n);
        ck_assert_int_eq(k, -ENOBUFS);
        free(p);
        free(body);
        free(ident);
}
END_TEST

START_TEST(record_unknown_version_is_eprotonosupport)
{
        LsRecord r = record_fixture(0);
        size_t n;
        uint8_t *p = record_bytes(&r, &n);

        ck_assert_int_eq(decode_with_byte(dec_record, p, n, 0, 0), -EPROTONOSUPPORT);
        ck_assert_int_eq(decode_with_byte(dec_record, p, n, 0, 2), -EPROTONOSUPPORT);
        ck_assert_int_eq(decode_with_byte(dec_record, p, n, 0, 0xff), -EPROTONOSUPPORT);
        free(p);
}
END_TEST

/* The SPEC §3 table, written without the library (no rule checks: for malformed inputs). */
size_t ref_record(const LsRecord *r, uint8_t *out)
{
        memset(out, 0, 56);
        out[0] = 1;
        out[1] = r->type;
        le16(out + 2, r->flags);
        le64(out + 4, r->seq);
        le64(out + 12, r->time_ns);
        out[20] = r->transport;
        out[21] = r->family;
        le16(out + 22, r->port);
        memcpy(out + 24, r->address, 16);
        le32(out + 40, r->conn_id);
        le32(out + 44, r->orig_len);
        le16(out + 48, r->identity_len);
        le32(out + 52, r->body_len);
        if (r->identity_len)
                memcpy(out + 56, r->identity, r->identity_len);
        if (r->body_len)
                memcpy(out + 56 + r->identity_len, r->body, r->body_len);
        return 56 + (size_t) r->identity_len + r->body_len;
}

START_TEST(record_encoding_equals_reference_encoding)
{
        uint8_t ref[4096];

        for (unsigned i = 0; i < N_RECORD_FIXTURES; i++) {
                LsRecord r = record_fixture(i);
                size_t n, m = ref_record(&r, ref);
                uint8_t *p = record_bytes(&r, &n);

                ck_assert_uint_eq(n, m);
                ck_assert_msg(memcmp(p, ref, n) == 0, "fixture %u", i);
                free(p);
        }
}
END_TEST

/* r violates a rule: ls_record_check, ls_record_encode and decoding its bytes all say `want`. */
static void expect_record_rejected(const LsRecord *r, int want, const char *what)
{
        uint8_t buf[4096], out[4096];
        size_t n = ref_record(r, buf), got;
        LsRecord d;

        ck_assert_msg(ls_record_check(r) == want, "%s: check gave %d", what, ls_record_check(r));
        ck_assert_msg(ls_record_encode(r, out, sizeof(out), &got) == want, "%s: encode", what);
        int k = ls_record_decode(&d, buf, n, NULL);
        ck_assert_msg(k == want, "%s: decode gave %d, want %d", what, k, want);
}

static void expect_record_accepted(const LsRecord *r, const char *what)
{
        uint8_t buf[4096];
        size_t n = ref_record(r, buf);
        LsRecord d;

        ck_assert_msg(ls_record_check(r) == 0, "%s: check gave %d", what, ls_record_check(r));
        int k = ls_record_decode(&d, buf, n, NULL);
        ck_assert_msg(k == 0, "%s: decode gave %d", what, k);
        assert_record_equal(r, &d);
}

static const uint8_t start_body[] = {
        /* START: BOOT_ID(6) 16 bytes, VERSION(8) "1" */
        0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x10, 0x00, 1,  2,    3,    4,    5,    6,   7,
        8,    9,    10,   11,   12,   13,   14,   15,   16, 0x08, 0x00, 0x01, 0x00, '1',
};

static LsRecord control_record_fixture(void)
{
        LsRecord r = {
                .type = LS_REC_CONTROL,
                .seq = 9,
                .time_ns = TU_T0,
                .body = start_body,
                .body_len = sizeof(start_body),
                .orig_len = sizeof(start_body),
        };
        return r;
}

START_TEST(record_type_flags_transport_and_reserved_are_checked)
{
        LsRecord r;
        uint8_t buf[4096];
        size_t n;

        static const uint8_t bad_types[] = {0, 3, 0x80, 0xff};
        for (size_t i = 0; i < sizeof(bad_types); i++) {
                r = record_fixture(0);
                r.type = bad_types[i];
                expect_record_rejected(&r, -EBADMSG, "unknown type");
        }
        for (int bit = 3; bit < 16; bit++) {
                r = record_fixture(0);
                r.flags = (uint16_t) (1u << bit);
                expect_record_rejected(&r, -EBADMSG, "reserved flag bit");
        }
        static const uint8_t bad_transports[] = {5, 6, 0x7f, 0xff};
        for (size_t i = 0; i < sizeof(bad_transports); i++) {
                r = record_fixture(0);
                r.transport = bad_transports[i];
                expect_record_rejected(&r, -EBADMSG, "unknown transport");
        }
        /* reserved u16 at offset 50 */
        r = record_fixture(0);
        n = ref_record(&r, buf);
        ck_assert_int_eq(decode_with_byte(dec_record, buf, n, 50, 1), -EBADMSG);
        ck_assert_int_eq(decode_with_byte(dec_record, buf, n, 51, 0x80), -EBADMSG);
        /* RECOVERED alone is fine on any record, including control records */
        r = record_fixture(2);
        r.flags = LS_RECF_RECOVERED;
        expect_record_accepted(&r, "recovered syslog");
        r = control_record_fixture();
        r.flags = LS_RECF_RECOVERED;
        expect_record_accepted(&r, "recovered control");
        r.flags = LS_RECF_RECOVERED | LS_RECF_PARSE_FAILED;
        expect_record_rejected(&r, -EBADMSG, "control with PARSE_FAILED");
}
END_TEST

START_TEST(record_family_must_match_transport)
{
        /* SPEC §3.1: UDP, TCP -> 1 or 2; unix dgram/stream -> 3 or 0; internal -> 0 */
        static const struct {
                uint8_t transport;
                uint8_t ok[4]; /* family 0..3 */
        } m[] = {
                {LS_TRANSPORT_UDP, {0, 1, 1, 0}},
                {LS_TRANSPORT_TCP, {0, 1, 1, 0}},
                {LS_TRANSPORT_UNIX_DGRAM, {1, 0, 0, 1}},
                {LS_TRANSPORT_UNIX_STREAM, {1, 0, 0, 1}},
        };

        for (size_t i = 0; i < ELEMENTSOF(m); i++)
                for (uint8_t fam = 0; fam <= 5; fam++) {
                        LsRecord r = record_fixture(0);
                        char what[64];

                        r.transport = m[i].transport;
                        r.family = fam;
                        memset(r.address, 0, 16);
                        r.address[0] = fam == 1 || fam == 2 ? 10 : 0;
                        r.port = fam == 1 || fam == 2 ? 514 : 0;
                        r.conn_id = m[i].transport == LS_TRANSPORT_TCP ||
                                                    m[i].transport == LS_TRANSPORT_UNIX_STREAM
                                            ? 1
                                            : 0;
                        snprintf(what, sizeof(what), "transport %u family %u", m[i].transport, fam);
                        if (fam <= 3 && m[i].ok[fam])
                                expect_record_accepted(&r, what);
                        else
                                expect_record_rejected(&r, -EBADMSG, what);
                }
        /* internal transport (control records) needs family 0 */
        for (uint8_t fam = 1; fam <= 4; fam++) {
                LsRecord r = control_record_fixture();
                r.family = fam;
                expect_record_rejected(&r, -EBADMSG, "control with a family");
        }
}
END_TEST

START_TEST(record_unused_address_bytes_and_port_must_be_zero)
{
        LsRecord r;

        /* IPv4: bytes 4..15 */
        for (int i = 4; i < 16; i++) {
                r = record_fixture(0);
                r.address[i] = 1;
                expect_record_rejected(&r, -EBADMSG, "ipv4 address tail");
        }
        /* IPv6 uses all 16 bytes; port any value */
        r = record_fixture(1);
        memset(r.address, 0xff, 16);
        r.port = 0xffff;
        expect_record_accepted(&r, "ipv6 all ones");
        /* unix credentials: bytes 12..15 zero, port zero */
        for (int i = 12; i < 16; i++) {
                r = record_fixture(2);
                r.address[i] = 0x80;
                expect_record_rejected(&r, -EBADMSG, "unix address tail");
        }
        r = record_fixture(2);
        memset(r.address, 0xff, 12);
        expect_record_accepted(&r, "unix all-ones credentials");
        r.port = 1;
        expect_record_rejected(&r, -EBADMSG, "unix with a port");
        /* none: all 16 bytes and the port zero */
        for (int i = 0; i < 16; i++) {
                r = record_fixture(4);
                r.address[i] = 1;
                expect_record_rejected(&r, -EBADMSG, "family none with an address");
                r = control_record_fixture();
                r.address[i] = 1;
                expect_record_rejected(&r, -EBADMSG, "control with an address");
        }
        r = record_fixture(4);
        r.port = 514;
        expect_record_rejected(&r, -EBADMSG, "family none with a port");
        r = control_record_fixture();
        r.port = 0x8000;
        expect_record_rejected(&r, -EBADMSG, "control with a port");
}
END_TEST

START_TEST(record_truncated_flag_iff_orig_len_exceeds_body_len)
{
        LsRecord r;

        r = record_fixture(0);
        r.orig_len = r.body_len + 1;
        expect_record_rejected(&r, -EBADMSG, "orig_len > body_len without TRUNCATED");
        r.orig_len = r.body_len - 1;
        expect_record_rejected(&r, -EBADMSG, "orig_len < body_len without TRUNCATED");
        r.orig_len = 0;
        expect_record_rejected(&r, -EBADMSG, "orig_len 0 without TRUNCATED");
        r.flags = LS_RECF_TRUNCATED;
        r.orig_len = r.body_len;
        expect_record_rejected(&r, -EBADMSG, "TRUNCATED with orig_len == body_len");
        r.orig_len = r.body_len - 1;
        expect_record_rejected(&r, -EBADMSG, "TRUNCATED with orig_len < body_len");
        r.orig_len = r.body_len + 1;
        expect_record_accepted(&r, "TRUNCATED with orig_len == body_len + 1");
        r.orig_len = UINT32_MAX;
        expect_record_accepted(&r, "TRUNCATED with orig_len max");
}
END_TEST

START_TEST(record_control_type_needs_internal_transport_and_no_peer_data)
{
        LsRecord r;

        r = control_record_fixture();
        expect_record_accepted(&r, "control");

        r = control_record_fixture();
        r.transport = LS_TRANSPORT_UDP;
        r.family = LS_FAMILY_IPV4;
        r.address[0] = 10;
        r.port = 514;
        expect_record_rejected(&r, -EBADMSG, "control over UDP");
        r = control_record_fixture();
        r.transport = LS_TRANSPORT_UNIX_DGRAM;
        expect_record_rejected(&r, -EBADMSG, "control over unix, family none");
        r = control_record_fixture();
        r.conn_id = 1;
        expect_record_rejected(&r, -EBADMSG, "control with conn_id");
        r = control_record_fixture();
        r.identity = (const uint8_t *) "x";
        r.identity_len = 1;
        expect_record_rejected(&r, -EBADMSG, "control with identity");
        r = control_record_fixture();
        r.flags = LS_RECF_PARSE_FAILED;
        expect_record_rejected(&r, -EBADMSG, "control with PARSE_FAILED");
        r = control_record_fixture();
        r.flags = LS_RECF_TRUNCATED;
        r.orig_len = r.body_len + 10;
        expect_record_rejected(&r, -EBADMSG, "control with TRUNCATED");

        /* type 1 needs a transport */
        r = record_fixture(0);
        r.transport = LS_TRANSPORT_INTERNAL;
        r.family = LS_FAMILY_NONE;
        memset(r.address, 0, 16);
        r.port = 0;
        expect_record_rejected(&r, -EBADMSG, "syslog over internal transport");
}
END_TEST

void suite_add_record(TCase *tc)
{
        tcase_add_test(tc, record_round_trip_preserves_fields_and_bytes);
        tcase_add_test(tc, record_layout_matches_spec_table);
        tcase_add_test(tc, record_every_strict_prefix_is_enodata);
        tcase_add_test(tc, record_with_trailing_bytes_is_ebadmsg);
        tcase_add_test(tc, record_lengths_at_maximum_round_trip_and_above_are_e2big);
        tcase_add_test(tc, record_unknown_version_is_eprotonosupport);
        tcase_add_test(tc, record_encoding_equals_reference_encoding);
        tcase_add_test(tc, record_type_flags_transport_and_reserved_are_checked);
        tcase_add_test(tc, record_family_must_match_transport);
        tcase_add_test(tc, record_unused_address_bytes_and_port_must_be_zero);
        tcase_add_test(tc, record_truncated_flag_iff_orig_len_exceeds_body_len);
        tcase_add_test(tc, record_control_type_needs_internal_transport_and_no_peer_data);
}
