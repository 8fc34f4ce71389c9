/* SPDX-License-Identifier: Apache-2.0 */
/* test-encoding, hash helpers, key ids, hex and base64 (the suite is in test-encoding.c) */
#include "test-encoding.h"

/* ---------------------------------------------------------------------------------------------
 * Hash helpers (SPEC §1, §3.3)
 */

START_TEST(salt_is_hmac_sha256_of_context_and_le_seq_under_the_seed)
{
        static const uint64_t seqs[] = {0, 1, 255, 256, UINT64_C(0x0102030405060708), UINT64_MAX};
        uint8_t seed[32], msg[16 + 8], want[32], got[32];

        tu_seed(seed, "salt-seed-test");
        for (size_t i = 0; i < ELEMENTSOF(seqs); i++) {
                memcpy(msg, "logseal-salt-v1\n", 16);
                le64(msg + 16, seqs[i]);
                ref_hmac_sha256(want, seed, 32, msg, sizeof(msg));
                ls_salt(got, seed, seqs[i]);
                ck_assert_msg(memcmp(want, got, 32) == 0, "salt of seq %" PRIu64, seqs[i]);
        }
        /* The salt depends on the seed. */
        seed[31] ^= 1;
        ls_salt(got, seed, 0);
        memcpy(msg, "logseal-salt-v1\n", 16);
        le64(msg + 16, 0);
        seed[31] ^= 1;
        ref_hmac_sha256(want, seed, 32, msg, sizeof(msg));
        ck_assert(memcmp(want, got, 32) != 0);
}
END_TEST

START_TEST(leaf_hash_is_sha256_of_zero_byte_salt_and_record)
{
        uint8_t salt[32], rec[200], buf[1 + 32 + 200], want[32], got[32];

        for (size_t i = 0; i < sizeof(rec); i++)
                rec[i] = (uint8_t) (i * 7 + 3);
        tu_seed(salt, "leaf-salt");
        for (size_t n = 0; n <= sizeof(rec); n += 50) {
                buf[0] = 0x00;
                memcpy(buf + 1, salt, 32);
                memcpy(buf + 33, rec, n);
                crypto_hash_sha256(want, buf, 33 + n);
                ls_leaf_hash(got, salt, rec, n);
                ck_assert_msg(memcmp(want, got, 32) == 0, "leaf of %zu bytes", n);
        }
}
END_TEST

START_TEST(node_hash_is_sha256_of_one_byte_left_and_right)
{
        uint8_t l[32], r[32], buf[65], want[32], got[32];

        tu_seed(l, "left");
        tu_seed(r, "right");
        buf[0] = 0x01;
        memcpy(buf + 1, l, 32);
        memcpy(buf + 33, r, 32);
        crypto_hash_sha256(want, buf, sizeof(buf));
        ls_node_hash(got, l, r);
        ck_assert(memcmp(want, got, 32) == 0);
}
END_TEST

START_TEST(key_id_is_first_8_bytes_of_sha256_of_context_and_pk)
{
        static const char *const names[] = {"root-key", "epoch-key-0", "epoch-key-1", "other"};

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                LsKeyPair *k = key_from_name(names[i], 0);
                uint8_t want[8], got[8];

                ref_key_id(want, k->pk);
                ls_key_id(got, k->pk);
                ck_assert(memcmp(want, got, 8) == 0);
                ck_assert(memcmp(want, k->key_id, 8) == 0);
                ls_keypair_free(k);
        }
}
END_TEST

START_TEST(key_id_of_the_golden_root_key_matches_expected_txt)
{
        const char *d = getenv("VECTORS_DIR");
        char path[1024], *line;
        uint8_t *text, pk[32], want[8], got[8];
        size_t n;

        snprintf(path, sizeof(path), "%s/expected.txt", d ? d : "tests/vectors");
        ck_assert_int_eq(tu_read_file(path, 1 << 20, &text, &n), 0);
        line = strstr((char *) text, "\nroot_public_key ");
        ck_assert_ptr_nonnull(line);
        ck_assert_int_eq(ls_unhex(pk, 32, line + 17, 64), 0);
        line = strstr((char *) text, "\nroot_key_id ");
        ck_assert_ptr_nonnull(line);
        ck_assert_int_eq(ls_unhex(want, 8, line + 13, 16), 0);
        free(text);
        ref_key_id(got, pk);
        ck_assert(memcmp(want, got, 8) == 0);
        ls_key_id(got, pk);
        ck_assert(memcmp(want, got, 8) == 0);
}
END_TEST

START_TEST(unhex_accepts_exactly_2n_hex_digits_of_either_case)
{
        uint8_t out[4];
        static const uint8_t want[4] = {0x01, 0xab, 0xcd, 0xef};

        ck_assert_int_eq(ls_unhex(out, 4, "01abcdef", 8), 0);
        ck_assert(memcmp(out, want, 4) == 0);
        ck_assert_int_eq(ls_unhex(out, 4, "01ABCDEF", 8), 0);
        ck_assert(memcmp(out, want, 4) == 0);
        ck_assert_int_eq(ls_unhex(out, 0, "", 0), 0);

        /* wrong lengths */
        ck_assert_int_eq(ls_unhex(out, 4, "01abcde", 7), -EBADMSG);
        ck_assert_int_eq(ls_unhex(out, 4, "01abcdef0", 9), -EBADMSG);
        ck_assert_int_eq(ls_unhex(out, 4, "01abcdef00", 10), -EBADMSG);
        ck_assert_int_eq(ls_unhex(out, 3, "01abcdef", 8), -EBADMSG);
        /* a non-hex character in each position */
        static const char bad[] = {'g', 'G', ' ', ':', 'x', '\n', '\0', '-', '+', (char) 0xe9};
        for (size_t pos = 0; pos < 8; pos++)
                for (size_t j = 0; j < sizeof(bad); j++) {
                        char s[9];
                        memcpy(s, "01abcdef", 9);
                        s[pos] = bad[j];
                        ck_assert_msg(ls_unhex(out, 4, s, 8) == -EBADMSG, "bad char %02x at %zu",
                                      (unsigned char) bad[j], pos);
                }
        ck_assert_int_eq(ls_unhex(out, 1, "0x", 2), -EBADMSG);
}
END_TEST

START_TEST(unbase64_accepts_only_canonical_padded_standard_base64)
{
        uint8_t out[64], in[64];
        char enc[128];

        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = (uint8_t) (0xf0 + i * 13);
        /* round trip for every length 0..64, each padding case */
        for (size_t n = 0; n <= 64; n++) {
                size_t len = 4 * ((n + 2) / 3);
                sodium_bin2base64(enc, sizeof(enc), in, n, sodium_base64_VARIANT_ORIGINAL);
                ck_assert_uint_eq(strlen(enc), len);
                ck_assert_uint_eq(ls_base64_len(n), len + 1);
                char mine[128];
                ls_base64(mine, in, n);
                ck_assert_str_eq(mine, enc);
                ck_assert_msg(ls_unbase64(out, n, enc, len) == 0, "len %zu", n);
                ck_assert(n == 0 || memcmp(out, in, n) == 0);
                /* wrong expected size */
                ck_assert_int_eq(ls_unbase64(out, n + 1, enc, len), -EBADMSG);
                if (n > 0)
                        ck_assert_int_eq(ls_unbase64(out, n - 1, enc, len), -EBADMSG);
        }

        /* 32 bytes: 43 characters and one '=' */
        sodium_bin2base64(enc, sizeof(enc), in, 32, sodium_base64_VARIANT_ORIGINAL);
        ck_assert_uint_eq(strlen(enc), 44);
        ck_assert_int_eq(enc[43], '=');
        /* padding missing */
        ck_assert_int_eq(ls_unbase64(out, 32, enc, 43), -EBADMSG);
        /* non-canonical: unused low bits of the last character set */
        {
                char s[45];
                uint8_t z[32] = {0};
                sodium_bin2base64(s, sizeof(s), z, 32, sodium_base64_VARIANT_ORIGINAL);
                ck_assert_int_eq(s[42], 'A');
                s[42] = 'B'; /* decodes to the same 32 bytes in a lax decoder */
                ck_assert_int_eq(ls_unbase64(out, 32, s, 44), -EBADMSG);
                s[42] = 'A';
                ck_assert_int_eq(ls_unbase64(out, 32, s, 44), 0);
        }
        /* 31 bytes: "==" padding; non-canonical bits in the last data character */
        {
                char s[45];
                uint8_t z[31] = {0};
                sodium_bin2base64(s, sizeof(s), z, 31, sodium_base64_VARIANT_ORIGINAL);
                ck_assert_int_eq(s[42], '=');
                ck_assert_int_eq(s[43], '=');
                s[41] = 'B';
                ck_assert_int_eq(ls_unbase64(out, 31, s, 44), -EBADMSG);
        }
        /* URL-safe alphabet, whitespace, padding inside, invalid characters */
        {
                uint8_t ff[3] = {0xfb, 0xff, 0xbf};
                char s[8];
                sodium_bin2base64(s, sizeof(s), ff, 3, sodium_base64_VARIANT_ORIGINAL);
                ck_assert_str_eq(s, "+/+/");
                ck_assert_int_eq(ls_unbase64(out, 3, "+/+/", 4), 0);
                ck_assert_int_eq(ls_unbase64(out, 3, "-_-_", 4), -EBADMSG);
                ck_assert_int_eq(ls_unbase64(out, 3, "+/+ ", 4), -EBADMSG);
                ck_assert_int_eq(ls_unbase64(out, 3, "+/\n/", 4), -EBADMSG);
                ck_assert_int_eq(ls_unbase64(out, 3, "+/+\0", 4), -EBADMSG);
                ck_assert_int_eq(ls_unbase64(out, 6, "+/==+/+/", 8), -EBADMSG);
                ck_assert_int_eq(ls_unbase64(out, 3, "+/+/=", 5), -EBADMSG);
        }
}
END_TEST

START_TEST(unbase64_decodes_canonical_text_of_any_length)
{
        /*
         * BUG: ls_unbase64 (hash.c) returns -EBADMSG for every n >= 382 because it
         * re-encodes into a fixed char canon[512]; hash.h documents no such limit
         * ("Strict canonical base64 decode into exactly n bytes").
         */
        static uint8_t in[600], out[600];
        static char enc[1024];
        int r = 0;
        size_t n;

        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = (uint8_t) (i * 31 + 1);
        for (n = 380; n <= sizeof(in); n++) {
                sodium_bin2base64(enc, sizeof(enc), in, n, sodium_base64_VARIANT_ORIGINAL);
                r = ls_unbase64(out, n, enc, strlen(enc));
                if (r != 0)
                        break;
        }
        ck_assert_msg(r == 0, "canonical base64 of %zu bytes rejected with %d", n, r);
}
END_TEST

void suite_add_hash(TCase *tc)
{
        tcase_add_test(tc, salt_is_hmac_sha256_of_context_and_le_seq_under_the_seed);
        tcase_add_test(tc, leaf_hash_is_sha256_of_zero_byte_salt_and_record);
        tcase_add_test(tc, node_hash_is_sha256_of_one_byte_left_and_right);
        tcase_add_test(tc, key_id_is_first_8_bytes_of_sha256_of_context_and_pk);
        tcase_add_test(tc, key_id_of_the_golden_root_key_matches_expected_txt);
        tcase_add_test(tc, unhex_accepts_exactly_2n_hex_digits_of_either_case);
        tcase_add_test(tc, unbase64_accepts_only_canonical_padded_standard_base64);
        tcase_add_test(tc, unbase64_decodes_canonical_text_of_any_length);
}
