/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-sha256.c: SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104) of hash.h: known answers,
 * and agreement with libsodium for every length 0..1100 under random chunkings of the
 * updates. Every test runs with the implementation the CPU selects (SHA-NI where present)
 * and with the libsodium fallback forced.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hash.h"
#include "util.h"
#include "tu-check.h"

/* ck_assert() reports every passing check to the parent; the loops make millions. */
#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                if (_unlikely_(!(cond)))                                                           \
                        ck_abort_msg(__VA_ARGS__);                                                 \
        } while (0)

#define MAX_LEN 1100
#define ALIGN_SLACK 16

/* The two implementations: 0 = as detected, 1 = libsodium forced. */
static const char *mode_name(int forced)
{
        return forced ? "libsodium (forced)" : ls_sha256_implementation();
}

static void set_mode(int forced)
{
        ls_sha256_force_portable(forced);
}

static void teardown(void)
{
        ls_sha256_force_portable(0);
}

/* Deterministic pseudo-random numbers (splitmix64) so a failure reproduces. */
static uint64_t rng_state;

static uint64_t rng(void)
{
        uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
        rng_state = seed;
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t) rng();
}

/* Splits n into chunks: lengths 0..max (zero-length updates included). */
static size_t next_chunk(size_t left, size_t max)
{
        size_t c = (size_t) (rng() % (max + 1));

        return MIN(c, left);
}

static void hex_of(char out[2 * LS_HASH_LEN + 1], const uint8_t h[LS_HASH_LEN])
{
        ls_hex(out, h, LS_HASH_LEN);
}

/* Incremental hash of p[0..n) in random chunks of at most max bytes. */
static void sha256_chunked(uint8_t out[LS_HASH_LEN], const uint8_t *p, size_t n, size_t max)
{
        LsSha256 s;

        ls_sha256_init(&s);
        for (size_t off = 0; off < n;) {
                size_t c = next_chunk(n - off, max);

                ls_sha256_update(&s, p + off, c);
                off += c;
        }
        ls_sha256_update(&s, p + n, 0);
        ls_sha256_final(&s, out);
}

static void hmac_chunked(uint8_t out[LS_HASH_LEN], const uint8_t *key, size_t klen,
                         const uint8_t *p, size_t n, size_t max)
{
        LsHmacSha256 h;

        ls_hmac_sha256_init(&h, key, klen);
        for (size_t off = 0; off < n;) {
                size_t c = next_chunk(n - off, max);

                ls_hmac_sha256_update(&h, p + off, c);
                off += c;
        }
        ls_hmac_sha256_final(&h, out);
}

static void sodium_hmac(uint8_t out[LS_HASH_LEN], const uint8_t *key, size_t klen, const uint8_t *p,
                        size_t n)
{
        crypto_auth_hmacsha256_state st;

        crypto_auth_hmacsha256_init(&st, key, klen);
        crypto_auth_hmacsha256_update(&st, p, n);
        crypto_auth_hmacsha256_final(&st, out);
}

/* ---------------------------------------------------------------------------------------------
 * Known answers: FIPS 180-4 examples (NIST CSRC "SHA256.pdf", SHA-2 additional examples)
 */

static const struct {
        const char *msg;
        size_t repeat;
        const char *digest;
} kat[] = {
        {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        /* 448 bits */
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        /* 896 bits */
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrl"
         "m"
         "nopqrsmnopqrstnopqrstu",
         1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
        /* one million 'a' */
        {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

START_TEST(fips_180_4_known_answers_one_shot_and_incremental)
{
        int forced = _i;

        set_mode(forced);
        for (size_t k = 0; k < ELEMENTSOF(kat); k++) {
                size_t unit = strlen(kat[k].msg), n = unit * kat[k].repeat;
                uint8_t *m = malloc(n + 1), h[LS_HASH_LEN];
                char hex[2 * LS_HASH_LEN + 1];
                LsSha256 s;

                ck_assert_ptr_nonnull(m);
                for (size_t i = 0; i < kat[k].repeat; i++)
                        memcpy(m + i * unit, kat[k].msg, unit);

                ls_sha256(h, m, n);
                hex_of(hex, h);
                ck_assert_msg(strcmp(hex, kat[k].digest) == 0, "%s: one-shot of vector %zu: %s",
                              mode_name(forced), k, hex);

                /* as the FIPS examples are usually fed: in units of the message string */
                ls_sha256_init(&s);
                for (size_t i = 0; i < kat[k].repeat; i++)
                        ls_sha256_update(&s, kat[k].msg, unit);
                ls_sha256_final(&s, h);
                hex_of(hex, h);
                ck_assert_msg(strcmp(hex, kat[k].digest) == 0, "%s: incremental of vector %zu: %s",
                              mode_name(forced), k, hex);

                rng_state = 1000 + k;
                sha256_chunked(h, m, n, 1000);
                hex_of(hex, h);
                ck_assert_msg(strcmp(hex, kat[k].digest) == 0, "%s: chunked vector %zu: %s",
                              mode_name(forced), k, hex);
                free(m);
        }
}
END_TEST

/* RFC 4231 test cases 1, 2 and 6 (a key longer than the block) */
START_TEST(hmac_rfc4231_known_answers)
{
        static const struct {
                uint8_t key_byte;
                size_t klen;
                const char *key;
                const char *msg;
                const char *mac;
        } tc[] = {
                {0x0b, 20, NULL, "Hi There",
                 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
                {0, 4, "Jefe", "what do ya want for nothing?",
                 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
                {0xaa, 131, NULL, "Test Using Larger Than Block-Size Key - Hash Key First",
                 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        };
        int forced = _i;

        set_mode(forced);
        for (size_t t = 0; t < ELEMENTSOF(tc); t++) {
                uint8_t key[200], mac[LS_HASH_LEN];
                char hex[2 * LS_HASH_LEN + 1];
                LsHmacSha256 h;

                if (tc[t].key)
                        memcpy(key, tc[t].key, tc[t].klen);
                else
                        memset(key, tc[t].key_byte, tc[t].klen);
                ls_hmac_sha256_init(&h, key, tc[t].klen);
                ls_hmac_sha256_update(&h, tc[t].msg, strlen(tc[t].msg));
                ls_hmac_sha256_final(&h, mac);
                hex_of(hex, mac);
                ck_assert_msg(strcmp(hex, tc[t].mac) == 0, "%s: RFC 4231 case %zu: %s",
                              mode_name(forced), t, hex);
        }
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Agreement with libsodium
 */

START_TEST(sha256_of_every_length_0_to_1100_equals_libsodium_one_shot_and_chunked)
{
        static const size_t max_chunk[] = {1, 7, 63, 64, 65, 200, MAX_LEN};
        uint8_t buf[MAX_LEN + ALIGN_SLACK], want[LS_HASH_LEN], got[LS_HASH_LEN];
        int forced = _i;

        set_mode(forced);
        fill(buf, sizeof(buf), 42);
        for (size_t n = 0; n <= MAX_LEN; n++) {
                const uint8_t *p = buf + n % ALIGN_SLACK; /* every alignment of the input */

                crypto_hash_sha256(want, p, n);
                ls_sha256(got, p, n);
                CHECK(memcmp(want, got, LS_HASH_LEN) == 0, "%s: one-shot of %zu bytes",
                      mode_name(forced), n);
                for (size_t c = 0; c < ELEMENTSOF(max_chunk); c++) {
                        rng_state = n * 31 + c;
                        sha256_chunked(got, p, n, max_chunk[c]);
                        CHECK(memcmp(want, got, LS_HASH_LEN) == 0,
                              "%s: %zu bytes in chunks of at most %zu", mode_name(forced), n,
                              max_chunk[c]);
                }
        }
}
END_TEST

START_TEST(random_chunkings_of_long_messages_equal_one_shot)
{
        size_t len = 70000;
        uint8_t *buf = malloc(len), want[LS_HASH_LEN], got[LS_HASH_LEN];
        int forced = _i;

        ck_assert_ptr_nonnull(buf);
        set_mode(forced);
        fill(buf, len, 7);
        for (int round = 0; round < 200; round++) {
                size_t n;

                rng_state = UINT64_C(0x5eed0000) + (uint64_t) round;
                n = (size_t) (rng() % len);
                crypto_hash_sha256(want, buf, n);
                ls_sha256(got, buf, n);
                CHECK(memcmp(want, got, LS_HASH_LEN) == 0, "%s: one-shot of %zu bytes",
                      mode_name(forced), n);
                sha256_chunked(got, buf, n, round % 2 ? 100 : 5000);
                CHECK(memcmp(want, got, LS_HASH_LEN) == 0, "%s: round %d, chunked %zu bytes",
                      mode_name(forced), round, n);
        }
        free(buf);
}
END_TEST

/* A copied state forks the hash (archive reader and writer copy LsSha256 by value). */
START_TEST(a_copied_state_continues_independently)
{
        uint8_t buf[3000], want[LS_HASH_LEN], got[LS_HASH_LEN];
        int forced = _i;

        set_mode(forced);
        fill(buf, sizeof(buf), 99);
        for (size_t split = 0; split <= 300; split++) {
                LsSha256 s, copy;

                ls_sha256_init(&s);
                ls_sha256_update(&s, buf, split);
                copy = s;
                ls_sha256_final(&copy, got);
                crypto_hash_sha256(want, buf, split);
                CHECK(memcmp(want, got, LS_HASH_LEN) == 0, "%s: fork at %zu", mode_name(forced),
                      split);
                ls_sha256_update(&s, buf + split, sizeof(buf) - split);
                ls_sha256_final(&s, got);
                crypto_hash_sha256(want, buf, sizeof(buf));
                CHECK(memcmp(want, got, LS_HASH_LEN) == 0, "%s: continued after %zu",
                      mode_name(forced), split);
        }
}
END_TEST

/* Switching the implementation never affects a state already started. */
START_TEST(a_state_finishes_with_the_implementation_that_started_it)
{
        uint8_t buf[500], want[LS_HASH_LEN], got[LS_HASH_LEN];
        LsSha256 a, b;

        fill(buf, sizeof(buf), 5);
        crypto_hash_sha256(want, buf, sizeof(buf));
        set_mode(0);
        ls_sha256_init(&a);
        ls_sha256_update(&a, buf, 100);
        set_mode(1);
        ck_assert_str_eq(ls_sha256_implementation(), "libsodium");
        ls_sha256_init(&b);
        ls_sha256_update(&b, buf, 100);
        ls_sha256_update(&a, buf + 100, 400);
        set_mode(0);
        ls_sha256_update(&b, buf + 100, 400);
        ls_sha256_final(&a, got);
        ck_assert(memcmp(want, got, LS_HASH_LEN) == 0);
        ls_sha256_final(&b, got);
        ck_assert(memcmp(want, got, LS_HASH_LEN) == 0);
}
END_TEST

START_TEST(hmac_of_every_length_0_to_1100_equals_libsodium)
{
        uint8_t key[crypto_auth_hmacsha256_KEYBYTES], buf[MAX_LEN + ALIGN_SLACK];
        uint8_t want[LS_HASH_LEN], got[LS_HASH_LEN];
        int forced = _i;

        set_mode(forced);
        fill(key, sizeof(key), 11);
        fill(buf, sizeof(buf), 12);
        for (size_t n = 0; n <= MAX_LEN; n++) {
                const uint8_t *p = buf + n % ALIGN_SLACK;

                crypto_auth_hmacsha256(want, p, n, key);
                for (size_t max = 1; max <= 1024; max *= 4) {
                        rng_state = n * 7 + max;
                        hmac_chunked(got, key, sizeof(key), p, n, max);
                        CHECK(memcmp(want, got, LS_HASH_LEN) == 0,
                              "%s: HMAC of %zu bytes in chunks of at most %zu", mode_name(forced),
                              n, max);
                }
        }
}
END_TEST

START_TEST(hmac_with_every_key_length_0_to_1100_equals_libsodium)
{
        uint8_t key[MAX_LEN], msg[100], want[LS_HASH_LEN], got[LS_HASH_LEN];
        int forced = _i;

        set_mode(forced);
        fill(key, sizeof(key), 21);
        fill(msg, sizeof(msg), 22);
        for (size_t klen = 0; klen <= MAX_LEN; klen++) {
                size_t mlen = klen % sizeof(msg);

                sodium_hmac(want, key, klen, msg, mlen);
                rng_state = klen;
                hmac_chunked(got, key, klen, msg, mlen, 40);
                CHECK(memcmp(want, got, LS_HASH_LEN) == 0, "%s: HMAC with a %zu-byte key",
                      mode_name(forced), klen);
        }
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * The hashes built on it
 */

START_TEST(salts_equal_libsodium_hmac_and_the_batch_key_for_many_seqs)
{
        static const uint64_t edges[] = {
                0,
                1,
                255,
                256,
                65535,
                65536,
                UINT64_C(0xffffffff),
                UINT64_C(0x100000000),
                UINT64_C(0x0102030405060708),
                UINT64_MAX - 1,
                UINT64_MAX,
        };
        uint8_t seed[LS_HASH_LEN], msg[16 + 8], want[LS_HASH_LEN], a[LS_HASH_LEN], b[LS_HASH_LEN];
        int forced = _i;

        set_mode(forced);
        ck_assert_uint_eq(strlen(LS_CTX_SALT), 16);
        for (uint64_t s = 0; s < 4; s++) {
                LsSaltKey k;

                fill(seed, sizeof(seed), 300 + s);
                ls_salt_key_init(&k, seed);
                for (uint64_t i = 0; i < 3000 + ELEMENTSOF(edges); i++) {
                        uint64_t seq = i < ELEMENTSOF(edges) ? edges[i]
                                       : i % 2               ? i * UINT64_C(0x9e3779b97f4a7c15)
                                                             : i;

                        memcpy(msg, LS_CTX_SALT, 16);
                        ls_put64(msg + 16, seq);
                        crypto_auth_hmacsha256(want, msg, sizeof(msg), seed);
                        ls_salt(a, seed, seq);
                        ls_salt_derive(&k, seq, b);
                        CHECK(memcmp(want, a, LS_HASH_LEN) == 0, "%s: ls_salt of seq %" PRIu64,
                              mode_name(forced), seq);
                        CHECK(memcmp(want, b, LS_HASH_LEN) == 0,
                              "%s: ls_salt_derive of seq %" PRIu64, mode_name(forced), seq);
                }
                ls_salt_key_wipe(&k);
                for (size_t i = 0; i < sizeof(k); i++)
                        CHECK(((const uint8_t *) &k)[i] == 0, "salt key wiped");
        }
}
END_TEST

START_TEST(leaf_and_node_hashes_equal_libsodium_of_the_concatenation)
{
        uint8_t salt[LS_SALT_LEN], l[LS_HASH_LEN], r[LS_HASH_LEN], rec[MAX_LEN];
        uint8_t buf[1 + LS_SALT_LEN + MAX_LEN], want[LS_HASH_LEN], got[LS_HASH_LEN];
        int forced = _i;

        set_mode(forced);
        fill(salt, sizeof(salt), 31);
        fill(rec, sizeof(rec), 32);
        for (size_t n = 0; n <= MAX_LEN; n++) {
                buf[0] = 0x00;
                memcpy(buf + 1, salt, LS_SALT_LEN);
                memcpy(buf + 1 + LS_SALT_LEN, rec, n);
                crypto_hash_sha256(want, buf, 1 + LS_SALT_LEN + n);
                ls_leaf_hash(got, salt, rec, n);
                CHECK(memcmp(want, got, LS_HASH_LEN) == 0, "%s: leaf of %zu bytes",
                      mode_name(forced), n);
        }
        for (int i = 0; i < 1000; i++) {
                fill(l, sizeof(l), 2 * (uint64_t) i);
                fill(r, sizeof(r), 2 * (uint64_t) i + 1);
                buf[0] = 0x01;
                memcpy(buf + 1, l, LS_HASH_LEN);
                memcpy(buf + 1 + LS_HASH_LEN, r, LS_HASH_LEN);
                crypto_hash_sha256(want, buf, 1 + 2 * LS_HASH_LEN);
                ls_node_hash(got, l, r);
                CHECK(memcmp(want, got, LS_HASH_LEN) == 0, "%s: node %d", mode_name(forced), i);
        }
}
END_TEST

START_TEST(final_wipes_the_state)
{
        uint8_t buf[100], h[LS_HASH_LEN];
        int forced = _i;
        LsSha256 s;

        set_mode(forced);
        fill(buf, sizeof(buf), 3);
        ls_sha256_init(&s);
        ls_sha256_update(&s, buf, sizeof(buf));
        ls_sha256_final(&s, h);
        for (size_t i = 0; i < sizeof(s.u); i++)
                CHECK(((const uint8_t *) &s.u)[i] == 0, "%s: byte %zu of the state",
                      mode_name(forced), i);
}
END_TEST

START_TEST(force_portable_switches_and_restores_the_implementation)
{
        const char *detected = ls_sha256_implementation();

        ck_assert(strcmp(detected, "sha-ni") == 0 || strcmp(detected, "libsodium") == 0);
        ck_assert_int_eq(ls_sha256_force_portable(1), 0);
        ck_assert_str_eq(ls_sha256_implementation(), "libsodium");
        ck_assert_int_eq(ls_sha256_force_portable(0), strcmp(detected, "sha-ni") == 0);
        ck_assert_str_eq(ls_sha256_implementation(), detected);
}
END_TEST

static TCase *tcase_new(const char *name)
{
        TCase *tc = tcase_create(name);

        tcase_add_checked_fixture(tc, NULL, teardown);
        if (!getenv("CK_DEFAULT_TIMEOUT"))
                tcase_set_timeout(tc, 120);
        return tc;
}

static Suite *sha256_suite(void)
{
        Suite *s = suite_create("sha256");
        TCase *tc;

        /* loop tests: _i = 0 with the detected implementation, 1 with libsodium forced */
        tc = tcase_new("known-answers");
        tcase_add_loop_test(tc, fips_180_4_known_answers_one_shot_and_incremental, 0, 2);
        tcase_add_loop_test(tc, hmac_rfc4231_known_answers, 0, 2);
        suite_add_tcase(s, tc);

        tc = tcase_new("libsodium");
        tcase_add_loop_test(
                tc, sha256_of_every_length_0_to_1100_equals_libsodium_one_shot_and_chunked, 0, 2);
        tcase_add_loop_test(tc, random_chunkings_of_long_messages_equal_one_shot, 0, 2);
        tcase_add_loop_test(tc, a_copied_state_continues_independently, 0, 2);
        tcase_add_test(tc, a_state_finishes_with_the_implementation_that_started_it);
        tcase_add_loop_test(tc, hmac_of_every_length_0_to_1100_equals_libsodium, 0, 2);
        tcase_add_loop_test(tc, hmac_with_every_key_length_0_to_1100_equals_libsodium, 0, 2);
        suite_add_tcase(s, tc);

        tc = tcase_new("derived");
        tcase_add_loop_test(tc, salts_equal_libsodium_hmac_and_the_batch_key_for_many_seqs, 0, 2);
        tcase_add_loop_test(tc, leaf_and_node_hashes_equal_libsodium_of_the_concatenation, 0, 2);
        tcase_add_loop_test(tc, final_wipes_the_state, 0, 2);
        tcase_add_test(tc, force_portable_switches_and_restores_the_implementation);
        suite_add_tcase(s, tc);

        return s;
}

int main(void)
{
        if (sodium_init() < 0)
                return 99;
        /* a TAP comment: which implementation the "detected" half of the tests ran */
        printf("# SHA-256 implementation: %s\n", ls_sha256_implementation());
        fflush(stdout);
        return tu_run_suite(sha256_suite());
}
