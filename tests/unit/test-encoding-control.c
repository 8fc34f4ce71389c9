/* SPDX-License-Identifier: Apache-2.0 */
/* test-encoding, control bodies (the suite is in test-encoding.c) */
#include "test-encoding.h"

/* ---------------------------------------------------------------------------------------------
 * Control bodies (SPEC §4)
 */

static void body_begin(Body *b, uint16_t type)
{
        le16(b->b, type);
        le16(b->b + 2, 0);
        b->n = 4;
        b->nbounds = 0;
}

static void body_add(Body *b, uint16_t tag, const void *v, size_t len)
{
        ck_assert(b->n + 4 + len <= sizeof(b->b));
        le16(b->b + b->n, tag);
        le16(b->b + b->n + 2, (uint16_t) len);
        if (len)
                memcpy(b->b + b->n + 4, v, len);
        b->n += 4 + len;
        if (b->nbounds < ELEMENTSOF(b->bounds))
                b->bounds[b->nbounds++] = b->n;
}

static int dec_control(const uint8_t *p, size_t n)
{
        LsControl c;
        return ls_control_decode(&c, p, n, NULL);
}

/* SPEC §4.1 sizes: 0 = variable (with its maximum in max_len). */
static const struct {
        uint16_t fixed;
        uint16_t max_len;
} tag_spec[LS_TAG_MAX + 1] = {
        [LS_TAG_COUNT] = {8, 8},         [LS_TAG_FIRST_TIME] = {8, 8},
        [LS_TAG_LAST_TIME] = {8, 8},     [LS_TAG_CAUSE] = {2, 2},
        [LS_TAG_TEXT] = {0, 4096},       [LS_TAG_BOOT_ID] = {16, 16},
        [LS_TAG_CONFIG_HASH] = {32, 32}, [LS_TAG_VERSION] = {0, 64},
        [LS_TAG_CERT] = {168, 168},      [LS_TAG_REVOCATION] = {0, 1160},
        [LS_TAG_CASE_ID] = {0, 256},     [LS_TAG_EXAMINER] = {0, 256},
        [LS_TAG_FILTER] = {0, 4096},     [LS_TAG_MANIFEST_HASH] = {32, 32},
        [LS_TAG_ACTION] = {2, 2},        [LS_TAG_FIRST_SEQ] = {8, 8},
        [LS_TAG_LAST_SEQ] = {8, 8},      [LS_TAG_PREV_HASH] = {32, 32},
        [LS_TAG_CLOCK_DELTA] = {8, 8},   [LS_TAG_SOURCE] = {0, 256},
        [LS_TAG_ARCHIVE_FIRST] = {8, 8}, [LS_TAG_ARCHIVE_LAST] = {8, 8},
        [LS_TAG_SEAL_HASH] = {32, 32},   [LS_TAG_RECEIVED] = {8, 8},
        [LS_TAG_LOST] = {8, 8},          [LS_TAG_PID] = {4, 4},
        [LS_TAG_HEARTBEAT_INTERVAL] = {8, 8}, [LS_TAG_CLOSE] = {248, 248},
        [LS_TAG_CONFINEMENT] = {4, 4},   [LS_TAG_UID] = {4, 4},
        [LS_TAG_COMMAND] = {0, 1024},
        [LS_TAG_SEQ_EXPECTED] = {8, 8},  [LS_TAG_SEQ_GOT] = {8, 8},
};

/* SPEC §4.2: required and optional tags per control type, each zero-terminated. */
static const struct {
        uint16_t type;
        uint16_t req[6];
        uint16_t opt[12];
} ctl_spec[] = {
        {LS_CTL_START,
         {LS_TAG_BOOT_ID, LS_TAG_VERSION},
         {LS_TAG_CONFIG_HASH, LS_TAG_PID, LS_TAG_HEARTBEAT_INTERVAL, LS_TAG_CONFINEMENT, LS_TAG_UID,
          LS_TAG_TEXT}},
        {LS_CTL_STOP, {0}, {LS_TAG_RECEIVED, LS_TAG_LOST, LS_TAG_TEXT}},
        {LS_CTL_UNCLEAN_SHUTDOWN,
         {LS_TAG_COUNT},
         {LS_TAG_LAST_SEQ, LS_TAG_FIRST_TIME, LS_TAG_LAST_TIME, LS_TAG_TEXT}},
        {LS_CTL_LOSS,
         {LS_TAG_CAUSE, LS_TAG_COUNT},
         {LS_TAG_FIRST_TIME, LS_TAG_LAST_TIME, LS_TAG_SOURCE, LS_TAG_TEXT, LS_TAG_SEQ_EXPECTED,
          LS_TAG_SEQ_GOT}},
        {LS_CTL_HEARTBEAT, {0}, {LS_TAG_RECEIVED, LS_TAG_LOST}},
        {LS_CTL_KEY_TRANSITION, {LS_TAG_CERT}, {LS_TAG_TEXT}},
        {LS_CTL_REVOCATION, {LS_TAG_REVOCATION}, {LS_TAG_TEXT}},
        {LS_CTL_CUSTODY,
         {LS_TAG_ACTION},
         {LS_TAG_CASE_ID, LS_TAG_EXAMINER, LS_TAG_FILTER, LS_TAG_COUNT, LS_TAG_MANIFEST_HASH,
          LS_TAG_TEXT, LS_TAG_PID, LS_TAG_UID, LS_TAG_COMMAND}},
        {LS_CTL_CONFIG_CHANGE, {LS_TAG_CONFIG_HASH}, {LS_TAG_PREV_HASH, LS_TAG_TEXT}},
        {LS_CTL_CLOCK_STEP, {LS_TAG_CLOCK_DELTA}, {LS_TAG_FIRST_TIME, LS_TAG_LAST_TIME}},
        {LS_CTL_RETENTION,
         {LS_TAG_ARCHIVE_FIRST, LS_TAG_ARCHIVE_LAST, LS_TAG_FIRST_SEQ, LS_TAG_LAST_SEQ,
          LS_TAG_SEAL_HASH},
         {LS_TAG_TEXT}},
        {LS_CTL_EPOCH_CLOSE, {LS_TAG_CLOSE}, {LS_TAG_TEXT}},
        {LS_CTL_SEQUENCE_RESET,
         {LS_TAG_SOURCE, LS_TAG_SEQ_GOT},
         {LS_TAG_FIRST_TIME, LS_TAG_LAST_TIME, LS_TAG_TEXT, LS_TAG_SEQ_EXPECTED}},
};

/* A deterministic value of the right size for tag (variable ones: some bytes, under max). */
static size_t tag_value(uint16_t tag, uint8_t *out)
{
        size_t len = tag_spec[tag].fixed;

        if (!len)
                len = tag == LS_TAG_REVOCATION ? 136 + 7
                                               : MIN((size_t) 20 + tag, tag_spec[tag].max_len);
        for (size_t i = 0; i < len; i++)
                out[i] = (uint8_t) (tag * 17 + i);
        return len;
}

/* Is tag among the zero-terminated list? */
static int tag_in(uint16_t tag, const uint16_t *list, size_t n)
{
        for (size_t i = 0; i < n && list[i]; i++)
                if (list[i] == tag)
                        return 1;
        return 0;
}

/* Raw body of control type spec i with all its tags except `omit` (0 = none), in tag order. */
void full_body(Body *b, size_t i, uint16_t omit)
{
        uint8_t v[2048];

        body_begin(b, ctl_spec[i].type);
        for (uint16_t tag = 1; tag <= LS_TAG_MAX; tag++) {
                if (tag == omit)
                        continue;
                if (!tag_in(tag, ctl_spec[i].req, 6) && !tag_in(tag, ctl_spec[i].opt, 12))
                        continue;
                body_add(b, tag, v, tag_value(tag, v));
        }
}

/* SPEC §4.1, §4.5: the confinement a START record states, byte for byte. */
START_TEST(control_start_confinement_and_uid_are_pinned)
{
        static LsControlBuilder cb;
        static const uint8_t boot[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        static const uint8_t tail[] = {0x1d, 0x00, 0x04, 0x00, 0x3d, 0x00, 0x00, 0x00,
                                       0x1e, 0x00, 0x04, 0x00, 0xfe, 0xff, 0x00, 0x00};
        const uint8_t *out;
        size_t len;
        uint64_t x;
        LsControl c;

        ck_assert_uint_eq(LS_TAG_CONFINEMENT, 29);
        ck_assert_uint_eq(LS_TAG_UID, 30);
        ck_assert_uint_eq(LS_TAG_SEQ_EXPECTED, 32);
        ck_assert_uint_eq(LS_TAG_SEQ_GOT, 33);
        ck_assert_uint_eq(LS_TAG_COMMAND, 31);
        ck_assert_uint_eq(LS_CONFINE_LANDLOCK, 1);
        ck_assert_uint_eq(LS_CONFINE_DISABLED, 2);
        ck_assert_uint_eq(LS_CONFINE_NO_CAPABILITIES, 4);
        ck_assert_uint_eq(LS_CONFINE_BOUNDING_EMPTY, 8);
        ck_assert_uint_eq(LS_CONFINE_NO_NEW_PRIVS, 16);
        ck_assert_uint_eq(LS_CONFINE_SIGNER, 32);
        ck_assert_str_eq(ls_control_tag_name(LS_TAG_CONFINEMENT), "confinement");
        ck_assert_str_eq(ls_control_tag_name(LS_TAG_UID), "uid");
        ck_assert_str_eq(ls_control_tag_name(LS_TAG_COMMAND), "command");
        ls_control_begin(&cb, LS_CTL_START);
        ls_control_add(&cb, LS_TAG_BOOT_ID, boot, sizeof(boot));
        ls_control_add_str(&cb, LS_TAG_VERSION, "0.1.0");
        ls_control_add_u32(&cb, LS_TAG_CONFINEMENT,
                           LS_CONFINE_LANDLOCK | LS_CONFINE_NO_CAPABILITIES |
                                   LS_CONFINE_BOUNDING_EMPTY | LS_CONFINE_NO_NEW_PRIVS |
                                   LS_CONFINE_SIGNER);
        ls_control_add_u32(&cb, LS_TAG_UID, 65534);
        ck_assert_int_eq(ls_control_end(&cb, &out, &len), 0);
        ck_assert_uint_eq(len, 4 + 4 + 16 + 4 + 5 + sizeof(tail));
        ck_assert(memcmp(out + len - sizeof(tail), tail, sizeof(tail)) == 0);
        ck_assert_int_eq(ls_control_decode(&c, out, len, NULL), 0);
        ck_assert_int_eq(ls_control_get_u64(&c, LS_TAG_UID, &x), 1);
        ck_assert_uint_eq(x, 65534);
        /* fixed width: a 2-byte CONFINEMENT is malformed */
        ls_control_begin(&cb, LS_CTL_START);
        ls_control_add(&cb, LS_TAG_BOOT_ID, boot, sizeof(boot));
        ls_control_add_str(&cb, LS_TAG_VERSION, "0.1.0");
        ls_control_add_u16(&cb, LS_TAG_CONFINEMENT, 1);
        ck_assert_int_eq(ls_control_end(&cb, &out, &len), -EBADMSG);
}
END_TEST

START_TEST(control_round_trip_for_every_type_with_all_its_tags)
{
        static LsControlBuilder cb, cb2;
        static Body b;

        for (size_t i = 0; i < ELEMENTSOF(ctl_spec); i++) {
                const uint8_t *out, *val;
                size_t len;
                uint16_t vlen;
                uint8_t v[2048];
                LsControl c;

                full_body(&b, i, 0);
                /* The builder writes exactly the SPEC layout. */
                ls_control_begin(&cb, ctl_spec[i].type);
                for (uint16_t tag = 1; tag <= LS_TAG_MAX; tag++)
                        if (tag_in(tag, ctl_spec[i].req, 6) || tag_in(tag, ctl_spec[i].opt, 12))
                                ls_control_add(&cb, tag, v, tag_value(tag, v));
                ck_assert_int_eq(ls_control_end(&cb, &out, &len), 0);
                ck_assert_uint_eq(len, b.n);
                ck_assert_msg(memcmp(out, b.b, len) == 0, "type %u", ctl_spec[i].type);

                ck_assert_int_eq(ls_control_decode(&c, b.b, b.n, NULL), 0);
                ck_assert_uint_eq(c.type, ctl_spec[i].type);
                ck_assert_uint_eq(c.len, b.n);
                ck_assert_ptr_eq(c.body, b.b);
                /* every field reads back; re-encoding the decoded fields gives the same bytes */
                ls_control_begin(&cb2, c.type);
                for (uint16_t tag = 1; tag <= LS_TAG_MAX; tag++) {
                        int present =
                                tag_in(tag, ctl_spec[i].req, 6) || tag_in(tag, ctl_spec[i].opt, 12);
                        ck_assert_int_eq(ls_control_get(&c, tag, &val, &vlen), present);
                        if (!present)
                                continue;
                        size_t want = tag_value(tag, v);
                        ck_assert_uint_eq(vlen, want);
                        ck_assert(memcmp(val, v, want) == 0);
                        ls_control_add(&cb2, tag, val, vlen);
                        uint64_t x;
                        if (tag_spec[tag].fixed == 8 || tag_spec[tag].fixed == 4 ||
                            tag_spec[tag].fixed == 2) {
                                uint64_t wantx = 0;
                                for (size_t k = 0; k < want; k++)
                                        wantx |= (uint64_t) v[k] << (8 * k);
                                ck_assert_int_eq(ls_control_get_u64(&c, tag, &x), 1);
                                ck_assert_uint_eq(x, wantx);
                        }
                }
                ck_assert_int_eq(ls_control_end(&cb2, &out, &len), 0);
                ck_assert_uint_eq(len, b.n);
                ck_assert(memcmp(out, b.b, len) == 0);
        }
}
END_TEST

START_TEST(loss_causes_have_their_spec_numbers_and_names)
{
        /* SPEC §4.3: the numbers are on disk, the names in every report. */
        static const struct {
                uint16_t cause;
                const char *name;
        } c[] = {{1, "udp-overflow"},        {2, "rate-limit"},         {3, "rejected-source"},
                 {4, "disk-full"},           {5, "truncated"},          {6, "wal-damage"},
                 {7, "queue-overflow"},      {8, "connection-refused"}, {9, "connection-closed"},
                 {10, "throttled"},          {11, "sequence-gap"},      {0, "unknown"},
                 {12, "unknown"}};
        for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
                ck_assert_str_eq(ls_loss_cause_name(c[i].cause), c[i].name);
        ck_assert_int_eq(LS_LOSS_CONNECTION_REFUSED, 8);
        ck_assert_int_eq(LS_LOSS_CONNECTION_CLOSED, 9);
        ck_assert_int_eq(LS_LOSS_THROTTLED, 10);
        ck_assert_int_eq(LS_LOSS_SEQUENCE_GAP, 11);
}
END_TEST

START_TEST(control_body_with_only_required_tags_decodes)
{
        static Body b;
        uint8_t v[2048];

        for (size_t i = 0; i < ELEMENTSOF(ctl_spec); i++) {
                body_begin(&b, ctl_spec[i].type);
                for (uint16_t tag = 1; tag <= LS_TAG_MAX; tag++)
                        if (tag_in(tag, ctl_spec[i].req, 6))
                                body_add(&b, tag, v, tag_value(tag, v));
                ck_assert_msg(dec_control(b.b, b.n) == 0, "type %u", ctl_spec[i].type);
        }
}
END_TEST

START_TEST(control_body_missing_a_required_tag_is_ebadmsg)
{
        static Body b;
        size_t off;
        LsControl c;

        for (size_t i = 0; i < ELEMENTSOF(ctl_spec); i++)
                for (size_t j = 0; j < 6 && ctl_spec[i].req[j]; j++) {
                        full_body(&b, i, ctl_spec[i].req[j]);
                        int r = ls_control_decode(&c, b.b, b.n, &off);
                        ck_assert_msg(r == -EBADMSG, "type %u without tag %u: %d", ctl_spec[i].type,
                                      ctl_spec[i].req[j], r);
                }
}
END_TEST

START_TEST(control_every_strict_prefix_is_rejected)
{
        /*
         * A control body is not self-delimiting (the record's body_len delimits
         * it): a prefix that ends inside a field is -ENODATA; one that ends at a
         * field boundary is a shorter body, rejected exactly when it lacks a
         * required tag. The RETENTION body ends in a required tag (SEAL_HASH,
         * the highest), so every strict prefix of it is rejected.
         */
        static Body b;

        for (size_t i = 0; i < ELEMENTSOF(ctl_spec); i++) {
                full_body(&b, i, 0);
                for (size_t k = 0; k < b.n; k++) {
                        uint8_t *q = dup_bytes(b.b, k);
                        int r = dec_control(q, k), boundary = k == 4;
                        free(q);
                        for (unsigned j = 0; j < b.nbounds; j++)
                                boundary |= b.bounds[j] == k;
                        if (!boundary) {
                                ck_assert_msg(r == -ENODATA, "type %u prefix %zu/%zu: %d",
                                              ctl_spec[i].type, k, b.n, r);
                                continue;
                        }
                        /* missing required tags? */
                        int missing = 0;
                        for (size_t j = 0; j < 6 && ctl_spec[i].req[j]; j++) {
                                Body *whole = &b;
                                size_t pos = 4;
                                int found = 0;
                                while (pos < k) {
                                        uint16_t t =
                                                (uint16_t) (whole->b[pos] | whole->b[pos + 1] << 8);
                                        uint16_t l = (uint16_t) (whole->b[pos + 2] |
                                                                 whole->b[pos + 3] << 8);
                                        found |= t == ctl_spec[i].req[j];
                                        pos += 4u + l;
                                }
                                missing |= !found;
                        }
                        ck_assert_msg(r == (missing ? -EBADMSG : 0), "type %u prefix %zu: %d",
                                      ctl_spec[i].type, k, r);
                        if (ctl_spec[i].type == LS_CTL_RETENTION)
                                ck_assert_int_eq(r, -EBADMSG);
                }
        }
}
END_TEST

START_TEST(control_trailing_bytes_are_a_truncated_or_malformed_field)
{
        static Body b;
        uint8_t *q;
        int r;

        full_body(&b, 3 /* LOSS */, 0);
        ck_assert_int_eq(dec_control(b.b, b.n), 0);
        /* 1..3 bytes: an incomplete field header */
        for (size_t extra = 1; extra <= 3; extra++) {
                q = dup_bytes(b.b, b.n + extra);
                memset(q + b.n, 0, extra);
                r = dec_control(q, b.n + extra);
                free(q);
                ck_assert_int_eq(r, -ENODATA);
        }
        /* a field header whose value is missing */
        memcpy(b.b + b.n, "\x1f\x00\x05\x00", 4);
        ck_assert_int_eq(dec_control(b.b, b.n + 4), -ENODATA);
        /* a zero tag, a repeated tag, a smaller tag */
        memcpy(b.b + b.n, "\x00\x00\x00\x00", 4);
        ck_assert_int_eq(dec_control(b.b, b.n + 4), -EBADMSG);
        memcpy(b.b + b.n, "\x05\x00\x00\x00", 4); /* TEXT was the last tag */
        ck_assert_int_eq(dec_control(b.b, b.n + 4), -EBADMSG);
        memcpy(b.b + b.n, "\x01\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00", 12);
        ck_assert_int_eq(dec_control(b.b, b.n + 12), -EBADMSG);
        /* whereas a complete unknown non-critical field after the last is a valid body */
        memcpy(b.b + b.n, "\x00\x01\x02\x00xy", 6);
        ck_assert_int_eq(dec_control(b.b, b.n + 6), 0);
}
END_TEST

START_TEST(control_variable_field_above_its_maximum_is_e2big)
{
        static Body b;
        static uint8_t v[8192];
        static const uint16_t var_tags[] = {LS_TAG_TEXT,      LS_TAG_VERSION, LS_TAG_CASE_ID,
                                            LS_TAG_EXAMINER,  LS_TAG_FILTER,  LS_TAG_SOURCE,
                                            LS_TAG_REVOCATION};

        memset(v, 'x', sizeof(v));
        for (size_t i = 0; i < ELEMENTSOF(var_tags); i++) {
                uint16_t tag = var_tags[i], max = tag_spec[tag].max_len;
                body_begin(&b, LS_CTL_MAX + 1 /* an unknown type: no required tags, all fields checked */);
                body_add(&b, tag, v, max);
                ck_assert_msg(dec_control(b.b, b.n) == 0, "tag %u at %u", tag, max);
                body_begin(&b, LS_CTL_MAX + 1);
                body_add(&b, tag, v, max + 1u);
                ck_assert_msg(dec_control(b.b, b.n) == -E2BIG, "tag %u at %u", tag, max + 1);
        }
        /* TEXT 4097 in a STOP */
        body_begin(&b, LS_CTL_STOP);
        body_add(&b, LS_TAG_TEXT, v, 4097);
        ck_assert_int_eq(dec_control(b.b, b.n), -E2BIG);
        body_begin(&b, LS_CTL_STOP);
        body_add(&b, LS_TAG_TEXT, v, 4096);
        ck_assert_int_eq(dec_control(b.b, b.n), 0);
}
END_TEST

START_TEST(control_body_above_65535_bytes_is_e2big)
{
        static Body b;
        static uint8_t v[65535];

        /* 4 + (4 + 65527) = 65535: the maximum, as one unknown non-critical field */
        body_begin(&b, LS_CTL_HEARTBEAT);
        body_add(&b, 0x1000, v, 65527);
        ck_assert_uint_eq(b.n, 65535);
        ck_assert_int_eq(dec_control(b.b, b.n), 0);
        body_begin(&b, LS_CTL_HEARTBEAT);
        body_add(&b, 0x1000, v, 65528);
        ck_assert_uint_eq(b.n, 65536);
        ck_assert_int_eq(dec_control(b.b, b.n), -E2BIG);
}
END_TEST

START_TEST(control_fixed_size_field_of_another_size_is_ebadmsg)
{
        static Body b;
        uint8_t v[512] = {0};

        for (uint16_t tag = 1; tag <= LS_TAG_MAX; tag++) {
                uint16_t f = tag_spec[tag].fixed;
                if (!f)
                        continue;
                const size_t sizes[] = {0, f - 1u, f + 1u, 2u * f};
                for (size_t j = 0; j < ELEMENTSOF(sizes); j++) {
                        body_begin(&b, LS_CTL_MAX + 1);
                        body_add(&b, tag, v, sizes[j]);
                        int r = dec_control(b.b, b.n);
                        ck_assert_msg(r == -EBADMSG, "tag %u of %zu bytes: %d", tag, sizes[j], r);
                }
                body_begin(&b, LS_CTL_MAX + 1);
                body_add(&b, tag, v, f);
                ck_assert_int_eq(dec_control(b.b, b.n), 0);
        }
        /* a REVOCATION value shorter than a revocation's fixed part cannot be one */
        body_begin(&b, LS_CTL_MAX + 1);
        body_add(&b, LS_TAG_REVOCATION, v, 135);
        ck_assert_int_eq(dec_control(b.b, b.n), -EBADMSG);
}
END_TEST

START_TEST(control_fields_out_of_order_or_repeated_are_ebadmsg)
{
        static Body b;
        uint8_t v[64] = {0};

        /* decreasing */
        body_begin(&b, LS_CTL_LOSS);
        body_add(&b, LS_TAG_CAUSE, v, 2);
        body_add(&b, LS_TAG_COUNT, v, 8);
        ck_assert_int_eq(dec_control(b.b, b.n), -EBADMSG);
        /* repeated */
        body_begin(&b, LS_CTL_LOSS);
        body_add(&b, LS_TAG_COUNT, v, 8);
        body_add(&b, LS_TAG_CAUSE, v, 2);
        body_add(&b, LS_TAG_CAUSE, v, 2);
        ck_assert_int_eq(dec_control(b.b, b.n), -EBADMSG);
        /* repeated unknown non-critical tag */
        body_begin(&b, LS_CTL_HEARTBEAT);
        body_add(&b, 100, v, 1);
        body_add(&b, 100, v, 1);
        ck_assert_int_eq(dec_control(b.b, b.n), -EBADMSG);
        /* unknown non-critical tag out of order */
        body_begin(&b, LS_CTL_HEARTBEAT);
        body_add(&b, 100, v, 1);
        body_add(&b, LS_TAG_RECEIVED, v, 8);
        ck_assert_int_eq(dec_control(b.b, b.n), -EBADMSG);
        /* tag 0 */
        body_begin(&b, LS_CTL_HEARTBEAT);
        body_add(&b, 0, v, 0);
        ck_assert_int_eq(dec_control(b.b, b.n), -EBADMSG);
        /* reserved u16 after the type */
        body_begin(&b, LS_CTL_HEARTBEAT);
        b.b[2] = 1;
        ck_assert_int_eq(dec_control(b.b, b.n), -EBADMSG);
        b.b[2] = 0;
        b.b[3] = 0x80;
        ck_assert_int_eq(dec_control(b.b, b.n), -EBADMSG);
        /* shorter than the 4-byte header */
        ck_assert_int_eq(dec_control(b.b, 3), -ENODATA);
        ck_assert_int_eq(dec_control(b.b, 0), -ENODATA);

        /* the builder refuses to write them */
        static LsControlBuilder cb;
        const uint8_t *out;
        size_t len;
        ls_control_begin(&cb, LS_CTL_LOSS);
        ls_control_add_u16(&cb, LS_TAG_CAUSE, 1);
        ls_control_add_u64(&cb, LS_TAG_COUNT, 1);
        ck_assert_int_lt(ls_control_end(&cb, &out, &len), 0);
        ls_control_begin(&cb, LS_CTL_LOSS);
        ls_control_add_u64(&cb, LS_TAG_COUNT, 1);
        ck_assert_int_eq(ls_control_end(&cb, &out, &len), -EBADMSG); /* CAUSE missing */
}
END_TEST

START_TEST(control_unknown_critical_tag_is_eprotonosupport_and_non_critical_ignored)
{
        static Body b;
        uint8_t v[64] = {0};
        static const uint16_t unknown_critical[] = {0x8000 | (LS_TAG_MAX + 1), 0x8000 | 0x7fff,
                                                    0x8000 | 1000};
        static const uint16_t unknown_plain[] = {LS_TAG_MAX + 1, LS_TAG_MAX + 2, 1000, 0x7fff};
        const uint8_t *val;
        uint16_t vlen;
        LsControl c;

        for (size_t i = 0; i < ELEMENTSOF(unknown_critical); i++) {
                body_begin(&b, LS_CTL_HEARTBEAT);
                body_add(&b, LS_TAG_RECEIVED, v, 8);
                body_add(&b, unknown_critical[i], v, 3);
                ck_assert_msg(dec_control(b.b, b.n) == -EPROTONOSUPPORT, "tag %04x",
                              unknown_critical[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(unknown_plain); i++) {
                body_begin(&b, LS_CTL_LOSS);
                body_add(&b, LS_TAG_COUNT, "\x05\0\0\0\0\0\0\0", 8);
                body_add(&b, LS_TAG_CAUSE, "\x02\0", 2);
                body_add(&b, unknown_plain[i], v, sizeof(v));
                ck_assert_msg(ls_control_decode(&c, b.b, b.n, NULL) == 0, "tag %u",
                              unknown_plain[i]);
                uint64_t x = 0;
                ck_assert_int_eq(ls_control_get_u64(&c, LS_TAG_COUNT, &x), 1);
                ck_assert_uint_eq(x, 5);
                ck_assert_int_eq(ls_control_get_u64(&c, LS_TAG_CAUSE, &x), 1);
                ck_assert_uint_eq(x, 2);
                ck_assert_int_eq(ls_control_get(&c, LS_TAG_TEXT, &val, &vlen), 0);
        }
        /* unknown non-critical tags may be long (no maximum but the body's) */
        static uint8_t big[5000];
        body_begin(&b, LS_CTL_HEARTBEAT);
        body_add(&b, 0x4000, big, sizeof(big));
        ck_assert_int_eq(dec_control(b.b, b.n), 0);
}
END_TEST

START_TEST(control_unknown_type_decodes_with_its_fields)
{
        /* SPEC §4: an unknown control_type does not invalidate the record */
        static Body b;
        static const uint16_t types[] = {LS_CTL_MAX + 1, 100, 0x7fff, 0xffff};
        LsControl c;
        uint64_t x;

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                body_begin(&b, types[i]);
                body_add(&b, LS_TAG_COUNT, "\x07\0\0\0\0\0\0\0", 8);
                body_add(&b, 200, "zz", 2);
                ck_assert_int_eq(ls_control_decode(&c, b.b, b.n, NULL), 0);
                ck_assert_uint_eq(c.type, types[i]);
                ck_assert_int_eq(ls_control_get_u64(&c, LS_TAG_COUNT, &x), 1);
                ck_assert_uint_eq(x, 7);
                ck_assert_str_eq(ls_control_type_name(types[i]), "unknown");
                /* but its known fields are still checked */
                body_begin(&b, types[i]);
                body_add(&b, LS_TAG_COUNT, "\x07\0\0\0\0\0\0", 7);
                ck_assert_int_eq(dec_control(b.b, b.n), -EBADMSG);
        }
}
END_TEST

START_TEST(control_known_tag_repeated_with_the_critical_bit_is_rejected)
{
        /*
         * BUG: ls_control_decode (control.c) strips bit 15 before looking a tag
         * up, so a body carrying COUNT (0x0001) and COUNT|critical (0x8001)
         * passes the strictly-increasing check (1 < 0x8001) and decodes as a
         * LOSS with two different COUNT values; ls_control_get returns the
         * first, another reader may take the second. SPEC §4: each tag at most
         * once, and a critical tag the reader does not know (0x8001 is not in
         * the §4.1 table) MUST be rejected -- either way it must not decode.
         */
        static Body b;
        int r;

        body_begin(&b, LS_CTL_LOSS);
        body_add(&b, LS_TAG_COUNT, "\x01\0\0\0\0\0\0\0", 8);
        body_add(&b, LS_TAG_CAUSE, "\x01\0", 2);
        body_add(&b, 0x8000 | LS_TAG_COUNT, "\xff\xff\xff\xff\0\0\0\0", 8);
        r = dec_control(b.b, b.n);
        ck_assert_msg(r < 0, "COUNT and COUNT|0x8000 in one body decoded (%d)", r);
}
END_TEST

void suite_add_control(TCase *tc)
{
        tcase_add_test(tc, control_round_trip_for_every_type_with_all_its_tags);
        tcase_add_test(tc, control_start_confinement_and_uid_are_pinned);
        tcase_add_test(tc, control_body_with_only_required_tags_decodes);
        tcase_add_test(tc, loss_causes_have_their_spec_numbers_and_names);
        tcase_add_test(tc, control_body_missing_a_required_tag_is_ebadmsg);
        tcase_add_test(tc, control_every_strict_prefix_is_rejected);
        tcase_add_test(tc, control_trailing_bytes_are_a_truncated_or_malformed_field);
        tcase_add_test(tc, control_variable_field_above_its_maximum_is_e2big);
        tcase_add_test(tc, control_body_above_65535_bytes_is_e2big);
        tcase_add_test(tc, control_fixed_size_field_of_another_size_is_ebadmsg);
        tcase_add_test(tc, control_fields_out_of_order_or_repeated_are_ebadmsg);
        tcase_add_test(tc,
                       control_unknown_critical_tag_is_eprotonosupport_and_non_critical_ignored);
        tcase_add_test(tc, control_unknown_type_decodes_with_its_fields);
        tcase_add_test(tc, control_known_tag_repeated_with_the_critical_bit_is_rejected);
}
