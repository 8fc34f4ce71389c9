/* SPDX-License-Identifier: Apache-2.0 */
/* test-merkle, proof encodings (the suite is in test-merkle.c) */
#include "test-merkle.h"

/* ---- proof encodings (SPEC §5.1) ---- */

static size_t encode(uint8_t kind, uint64_t a, uint64_t b, const Hash *path, unsigned count,
                     uint8_t *out, size_t cap)
{
        LsProof p = {.kind = kind, .count = count, .a = a, .b = b, .path = (const uint8_t *) path};
        size_t len = 0;

        ck_assert_int_eq(ls_proof_encode(&p, out, cap, &len), 0);
        ck_assert_uint_eq(len, LS_PROOF_HDR_LEN + (size_t) count * LS_HASH_LEN);
        return len;
}

START_TEST(proof_encoding_round_trips)
{
        static uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        static const uint64_t pairs[][2] = {{0, 1}, {0, 2}, {6, 7},    {99, 300}, {1, 1},
                                            {1, 2}, {3, 7}, {63, 100}, {100, 100}};

        for (size_t z = 0; z < ELEMENTSOF(pairs); z++) {
                uint8_t kind = z < 4 ? LS_PROOF_INCLUSION : LS_PROOF_CONSISTENCY;
                uint64_t a = pairs[z][0], b = pairs[z][1];
                const Hash *path;
                const Proof *p = kind == LS_PROOF_INCLUSION ? incl_proof(a, b, &path)
                                                            : cons_proof(a, b, &path);
                LsProof d;
                size_t len;

                len = encode(kind, a, b, path, p->count, buf, sizeof(buf));
                ck_assert_uint_eq(buf[0], kind);
                ck_assert_uint_eq(buf[1], p->count);
                ck_assert_uint_eq(buf[2], 0);
                ck_assert_uint_eq(buf[3], 0);
                ck_assert_uint_eq(ls_get64(buf + 4), a);
                ck_assert_uint_eq(ls_get64(buf + 12), b);
                ck_assert_uint_eq(buf[4], (uint8_t) a); /* little-endian */
                ck_assert_uint_eq(buf[12], (uint8_t) b);
                if (p->count > 0)
                        ck_assert_mem_eq(buf + LS_PROOF_HDR_LEN, path, p->count * sizeof(Hash));

                ck_assert_int_eq(ls_proof_decode(&d, buf, len), 0);
                ck_assert_uint_eq(d.kind, kind);
                ck_assert_uint_eq(d.count, p->count);
                ck_assert_uint_eq(d.a, a);
                ck_assert_uint_eq(d.b, b);
                ck_assert_ptr_eq(d.path, buf + LS_PROOF_HDR_LEN);

                /* The decoded proof verifies. */
                if (kind == LS_PROOF_INCLUSION)
                        ck_assert_int_eq(ls_verify_inclusion(d.a, d.b, leaves[a],
                                                             (const uint8_t(*)[LS_HASH_LEN]) d.path,
                                                             d.count, roots[b]),
                                         0);
                else
                        ck_assert_int_eq(ls_verify_consistency(
                                                 d.a, d.b, roots[a], roots[b],
                                                 (const uint8_t(*)[LS_HASH_LEN]) d.path, d.count),
                                         0);
        }
}
END_TEST

START_TEST(proof_encoding_of_a_large_tree_round_trips)
{
        Hash path[LS_MAX_INCLUSION_PROOF];
        uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_INCLUSION_PROOF * LS_HASH_LEN];
        LsProof d;
        size_t len;

        /* 64 elements, the most an inclusion proof can have; the hashes are arbitrary. */
        memcpy(path, leaves, sizeof(path));
        len = encode(LS_PROOF_INCLUSION, 0, UINT64_MAX, (const Hash *) path, 64, buf, sizeof(buf));
        ck_assert_uint_eq(len, sizeof(buf));
        ck_assert_int_eq(ls_proof_decode(&d, buf, len), 0);
        ck_assert_uint_eq(d.count, 64);
        ck_assert_uint_eq(d.a, 0);
        ck_assert_uint_eq(d.b, UINT64_MAX);
        ck_assert_mem_eq(d.path, path, sizeof(path));
}
END_TEST

START_TEST(proof_decode_rejects_truncated_input_as_missing_data)
{
        uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        const Hash *path;
        const Proof *p = incl_proof(17, 300, &path);
        const Proof *q;
        size_t len;
        LsProof d;

        len = encode(LS_PROOF_INCLUSION, 17, 300, path, p->count, buf, sizeof(buf));
        for (size_t n = 0; n < len; n++)
                ck_assert_int_eq(ls_proof_decode(&d, buf, n), -ENODATA);
        ck_assert_int_eq(ls_proof_decode(&d, NULL, 0), -ENODATA);

        q = cons_proof(37, 99, &path);
        len = encode(LS_PROOF_CONSISTENCY, 37, 99, path, q->count, buf, sizeof(buf));
        for (size_t n = 0; n < len; n++)
                ck_assert_int_eq(ls_proof_decode(&d, buf, n), -ENODATA);
}
END_TEST

START_TEST(proof_decode_rejects_leftover_bytes)
{
        uint8_t buf[LS_PROOF_HDR_LEN + 20 * LS_HASH_LEN];
        const Hash *path;
        const Proof *p = incl_proof(5, 6, &path);
        size_t len;
        LsProof d;

        memset(buf, 0, sizeof(buf));
        len = encode(LS_PROOF_INCLUSION, 5, 6, path, p->count, buf, sizeof(buf));
        for (size_t extra = 1; extra <= 2 * LS_HASH_LEN; extra++)
                ck_assert_int_eq(ls_proof_decode(&d, buf, len + extra), -EBADMSG);

        len = encode(LS_PROOF_CONSISTENCY, 4, 4, NULL, 0, buf, sizeof(buf));
        ck_assert_uint_eq(len, LS_PROOF_HDR_LEN);
        ck_assert_int_eq(ls_proof_decode(&d, buf, len), 0);
        ck_assert_int_eq(ls_proof_decode(&d, buf, len + 1), -EBADMSG);
        ck_assert_int_eq(ls_proof_decode(&d, buf, len + LS_HASH_LEN), -EBADMSG);
}
END_TEST

START_TEST(proof_decode_rejects_an_unknown_kind)
{
        uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_INCLUSION_PROOF * LS_HASH_LEN];
        const Hash *path;
        const Proof *p = incl_proof(5, 6, &path);
        size_t len;
        LsProof d;

        len = encode(LS_PROOF_INCLUSION, 5, 6, path, p->count, buf, sizeof(buf));
        for (unsigned kind = 0; kind < 256; kind++) {
                buf[0] = (uint8_t) kind;
                if (kind == LS_PROOF_INCLUSION)
                        ck_assert_int_eq(ls_proof_decode(&d, buf, len), 0);
                else
                        ck_assert_int_eq(ls_proof_decode(&d, buf, len), -EBADMSG);
        }
}
END_TEST

START_TEST(proof_decode_rejects_nonzero_reserved_bits)
{
        uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        const Hash *path;
        const Proof *p = cons_proof(3, 7, &path);
        size_t len;
        LsProof d;

        len = encode(LS_PROOF_CONSISTENCY, 3, 7, path, p->count, buf, sizeof(buf));
        for (unsigned bit = 16; bit < 32; bit++) {
                flip_bit(buf, bit);
                ck_assert_int_eq(ls_proof_decode(&d, buf, len), -EBADMSG);
                flip_bit(buf, bit);
        }
        ck_assert_int_eq(ls_proof_decode(&d, buf, len), 0);
}
END_TEST

START_TEST(proof_decode_rejects_a_count_above_the_maximum)
{
        static uint8_t buf[LS_PROOF_HDR_LEN + 255 * LS_HASH_LEN];
        static const struct {
                uint8_t kind;
                unsigned count;
        } cases[] = {
                {LS_PROOF_INCLUSION, LS_MAX_INCLUSION_PROOF + 1},
                {LS_PROOF_INCLUSION, 255},
                {LS_PROOF_CONSISTENCY, LS_MAX_CONSISTENCY_PROOF + 1},
                {LS_PROOF_CONSISTENCY, 255},
        };
        LsProof d;

        for (size_t z = 0; z < ELEMENTSOF(cases); z++) {
                size_t len = LS_PROOF_HDR_LEN + cases[z].count * LS_HASH_LEN;

                memset(buf, 0, sizeof(buf));
                buf[0] = cases[z].kind;
                buf[1] = (uint8_t) cases[z].count;
                ls_put64(buf + 4, 1);
                ls_put64(buf + 12, UINT64_MAX);
                /* Complete, and also short: more input cannot make it valid. */
                ck_assert_int_eq(ls_proof_decode(&d, buf, len), -EBADMSG);
                ck_assert_int_eq(ls_proof_decode(&d, buf, LS_PROOF_HDR_LEN), -EBADMSG);
        }
}
END_TEST

START_TEST(proof_decode_rejects_a_count_inconsistent_with_the_sizes)
{
        static uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        static const struct {
                uint8_t kind;
                uint64_t a, b;
        } cases[] = {
                {LS_PROOF_INCLUSION, 0, 1},     {LS_PROOF_INCLUSION, 5, 6},
                {LS_PROOF_INCLUSION, 17, 300},  {LS_PROOF_INCLUSION, 0, UINT64_MAX},
                {LS_PROOF_CONSISTENCY, 1, 1},   {LS_PROOF_CONSISTENCY, 3, 7},
                {LS_PROOF_CONSISTENCY, 64, 65}, {LS_PROOF_CONSISTENCY, 5, UINT64_MAX},
        };
        LsProof d;

        memset(buf, 0xa5, sizeof(buf));
        for (size_t z = 0; z < ELEMENTSOF(cases); z++) {
                unsigned want = cases[z].kind == LS_PROOF_INCLUSION
                                        ? ls_inclusion_proof_len(cases[z].a, cases[z].b)
                                        : ls_consistency_proof_len(cases[z].a, cases[z].b);
                unsigned max = cases[z].kind == LS_PROOF_INCLUSION ? LS_MAX_INCLUSION_PROOF
                                                                   : LS_MAX_CONSISTENCY_PROOF;

                buf[0] = cases[z].kind;
                buf[2] = buf[3] = 0;
                ls_put64(buf + 4, cases[z].a);
                ls_put64(buf + 12, cases[z].b);
                for (unsigned c = 0; c <= max; c++) {
                        buf[1] = (uint8_t) c;
                        ck_assert_int_eq(
                                ls_proof_decode(&d, buf, LS_PROOF_HDR_LEN + c * LS_HASH_LEN),
                                c == want ? 0 : -EBADMSG);
                }
        }
}
END_TEST

START_TEST(proof_decode_rejects_sizes_no_proof_can_have)
{
        static uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        static const struct {
                uint8_t kind;
                uint64_t a, b;
        } cases[] = {
                {LS_PROOF_INCLUSION, 0, 0},   {LS_PROOF_INCLUSION, 6, 6},
                {LS_PROOF_INCLUSION, 7, 6},   {LS_PROOF_INCLUSION, UINT64_MAX, 6},
                {LS_PROOF_CONSISTENCY, 0, 0}, {LS_PROOF_CONSISTENCY, 0, 8},
                {LS_PROOF_CONSISTENCY, 8, 7}, {LS_PROOF_CONSISTENCY, UINT64_MAX, 1},
        };
        LsProof d;

        memset(buf, 0, sizeof(buf));
        for (size_t z = 0; z < ELEMENTSOF(cases); z++) {
                unsigned max = cases[z].kind == LS_PROOF_INCLUSION ? LS_MAX_INCLUSION_PROOF
                                                                   : LS_MAX_CONSISTENCY_PROOF;

                buf[0] = cases[z].kind;
                ls_put64(buf + 4, cases[z].a);
                ls_put64(buf + 12, cases[z].b);
                for (unsigned c = 0; c <= max; c++) {
                        buf[1] = (uint8_t) c;
                        ck_assert_int_eq(
                                ls_proof_decode(&d, buf, LS_PROOF_HDR_LEN + c * LS_HASH_LEN),
                                -EBADMSG);
                }
        }
}
END_TEST

START_TEST(proof_encode_refuses_a_short_buffer_and_proofs_it_could_not_decode)
{
        uint8_t buf[LS_PROOF_HDR_LEN + LS_MAX_CONSISTENCY_PROOF * LS_HASH_LEN];
        const Hash *path;
        const Proof *p = incl_proof(17, 300, &path);
        size_t need = LS_PROOF_HDR_LEN + p->count * LS_HASH_LEN, len = 12345;
        LsProof e = {.kind = LS_PROOF_INCLUSION,
                     .count = p->count,
                     .a = 17,
                     .b = 300,
                     .path = (const uint8_t *) path};

        ck_assert_int_eq(ls_proof_encode(&e, buf, need - 1, &len), -ENOBUFS);
        ck_assert_int_eq(ls_proof_encode(&e, buf, 0, &len), -ENOBUFS);
        ck_assert_uint_eq(len, 12345);
        ck_assert_int_eq(ls_proof_encode(&e, buf, need, &len), 0);
        ck_assert_uint_eq(len, need);

        e.kind = 3;
        ck_assert_int_eq(ls_proof_encode(&e, buf, sizeof(buf), &len), -EINVAL);
        e.kind = LS_PROOF_CONSISTENCY;
        ck_assert_int_eq(ls_proof_encode(&e, buf, sizeof(buf), &len), -EINVAL);
        e.kind = LS_PROOF_INCLUSION;
        e.count++;
        ck_assert_int_eq(ls_proof_encode(&e, buf, sizeof(buf), &len), -EINVAL);
        e.count = 300;
        ck_assert_int_eq(ls_proof_encode(&e, buf, sizeof(buf), &len), -EINVAL);
        e.count = p->count;
        e.a = 300;
        ck_assert_int_eq(ls_proof_encode(&e, buf, sizeof(buf), &len), -EINVAL);
}
END_TEST

TCase *tcase_encoding(void)
{
        TCase *tc = tcase_new("encoding");

        tcase_add_test(tc, proof_encoding_round_trips);
        tcase_add_test(tc, proof_encoding_of_a_large_tree_round_trips);
        tcase_add_test(tc, proof_decode_rejects_truncated_input_as_missing_data);
        tcase_add_test(tc, proof_decode_rejects_leftover_bytes);
        tcase_add_test(tc, proof_decode_rejects_an_unknown_kind);
        tcase_add_test(tc, proof_decode_rejects_nonzero_reserved_bits);
        tcase_add_test(tc, proof_decode_rejects_a_count_above_the_maximum);
        tcase_add_test(tc, proof_decode_rejects_a_count_inconsistent_with_the_sizes);
        tcase_add_test(tc, proof_decode_rejects_sizes_no_proof_can_have);
        tcase_add_test(tc, proof_encode_refuses_a_short_buffer_and_proofs_it_could_not_decode);
        return tc;
}
