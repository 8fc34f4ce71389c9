/* SPDX-License-Identifier: Apache-2.0 */
/* test-encoding, batch headers and checkpoint note bodies (the suite is in test-encoding.c) */
#include "test-encoding.h"

/* ---------------------------------------------------------------------------------------------
 * Batch header (SPEC §6.1) and its checkpoint note body (§7.1)
 */

static const uint8_t magic_prefix[8] = {0x89, 'L', 'S', 0, 0x0d, 0x0a, 0x1a, 0x0a};

void put_magic(uint8_t *p, char x)
{
        memcpy(p, magic_prefix, 8);
        p[3] = (uint8_t) x;
}

void fill(uint8_t *p, size_t n, const char *name)
{
        uint8_t h[32];

        for (size_t i = 0; i < n; i += 32) {
                char nm[64];
                snprintf(nm, sizeof(nm), "%s-%zu", name, i);
                tu_seed(h, nm);
                memcpy(p + i, h, MIN((size_t) 32, n - i));
        }
}

void batch_fixture(LsBatchHeader *h, LsKeyPair *k)
{
        LsSigner s;

        memset(h, 0, sizeof(*h));
        fill(h->chain_id, 16, "chain");
        h->archive_no = 3;
        h->batch_no = 7;
        h->first_seq = 100;
        h->record_count = 5;
        h->payload_raw_len = 1000;
        h->min_time_ns = TU_T0;
        h->max_time_ns = TU_T0 + 10;
        h->tree_size = 105;
        fill(h->tree_root, 32, "root");
        fill(h->prev_header_hash, 32, "prev");
        fill(h->salt_seed, 32, "salt");
        h->payload_len = 321;
        fill(h->payload_hash, 32, "payload");
        ls_signer_from_keypair(&s, k);
        ck_assert_int_eq(ls_batch_header_sign(h, &s), 0);
        ck_assert(memcmp(h->key_id, k->key_id, 8) == 0);
        ck_assert_uint_eq(h->epoch, k->epoch);
}

void ref_batch(const LsBatchHeader *h, uint8_t out[304])
{
        memset(out, 0, 304);
        put_magic(out, 'B');
        le16(out + 8, 1);
        le16(out + 10, 304);
        le16(out + 12, h->incompat_flags);
        le16(out + 14, h->compat_flags);
        memcpy(out + 16, h->chain_id, 16);
        le64(out + 32, h->archive_no);
        le64(out + 40, h->batch_no);
        le64(out + 48, h->first_seq);
        le32(out + 56, h->record_count);
        le32(out + 60, h->payload_raw_len);
        le64(out + 64, h->min_time_ns);
        le64(out + 72, h->max_time_ns);
        le64(out + 80, h->tree_size);
        memcpy(out + 88, h->tree_root, 32);
        memcpy(out + 120, h->prev_header_hash, 32);
        memcpy(out + 152, h->salt_seed, 32);
        le32(out + 184, h->payload_len);
        memcpy(out + 192, h->payload_hash, 32);
        memcpy(out + 224, h->key_id, 8);
        le64(out + 232, h->epoch);
        memcpy(out + 240, h->sig, 64);
}

static void assert_batch_equal(const LsBatchHeader *a, const LsBatchHeader *b)
{
        ck_assert_uint_eq(a->incompat_flags, b->incompat_flags);
        ck_assert_uint_eq(a->compat_flags, b->compat_flags);
        ck_assert(memcmp(a->chain_id, b->chain_id, 16) == 0);
        ck_assert_uint_eq(a->archive_no, b->archive_no);
        ck_assert_uint_eq(a->batch_no, b->batch_no);
        ck_assert_uint_eq(a->first_seq, b->first_seq);
        ck_assert_uint_eq(a->record_count, b->record_count);
        ck_assert_uint_eq(a->payload_raw_len, b->payload_raw_len);
        ck_assert_uint_eq(a->min_time_ns, b->min_time_ns);
        ck_assert_uint_eq(a->max_time_ns, b->max_time_ns);
        ck_assert_uint_eq(a->tree_size, b->tree_size);
        ck_assert(memcmp(a->tree_root, b->tree_root, 32) == 0);
        ck_assert(memcmp(a->prev_header_hash, b->prev_header_hash, 32) == 0);
        ck_assert(memcmp(a->salt_seed, b->salt_seed, 32) == 0);
        ck_assert_uint_eq(a->payload_len, b->payload_len);
        ck_assert(memcmp(a->payload_hash, b->payload_hash, 32) == 0);
        ck_assert(memcmp(a->key_id, b->key_id, 8) == 0);
        ck_assert_uint_eq(a->epoch, b->epoch);
        ck_assert(memcmp(a->sig, b->sig, 64) == 0);
}

static int dec_batch(const uint8_t *p, size_t n)
{
        LsBatchHeader h;
        return ls_batch_header_decode(&h, p, n, NULL);
}

/* The §7.1 note body, built with snprintf and libsodium only. */
int ref_note_body(char *out, size_t cap, const uint8_t chain_id[16], uint64_t tree_size,
                  const uint8_t root[32], uint64_t batch_no, const uint8_t hh[32])
{
        char hex[33], r64[45], h64[45];

        sodium_bin2hex(hex, sizeof(hex), chain_id, 16);
        sodium_bin2base64(r64, sizeof(r64), root, 32, sodium_base64_VARIANT_ORIGINAL);
        sodium_bin2base64(h64, sizeof(h64), hh, 32, sodium_base64_VARIANT_ORIGINAL);
        return snprintf(out, cap, "logseal/%s\n%" PRIu64 "\n%s\nlogseal-batch-v1 %" PRIu64 " %s\n",
                        hex, tree_size, r64, batch_no, h64);
}

START_TEST(batch_header_round_trip_preserves_fields_and_bytes)
{
        LsKeyPair *k = key_from_name("epoch-key-0", 4);
        LsBatchHeader h, d;
        uint8_t p[304], q[304], ref[304];
        size_t off = 99;

        batch_fixture(&h, k);
        for (int compat = 0; compat < 4; compat++) {
                h.compat_flags = compat & 1 ? 0xffff : 0; /* unknown compat flags are ignored */
                h.incompat_flags = compat & 2 ? LS_BATCH_INCOMPAT_COLUMNS : 0; /* format 3 */
                ls_batch_header_encode(&h, p);
                ref_batch(&h, ref);
                ck_assert(memcmp(p, ref, 304) == 0);
                ck_assert_int_eq(ls_batch_header_decode(&d, p, 304, &off), 0);
                ck_assert_uint_eq(off, 0);
                assert_batch_equal(&h, &d);
                ls_batch_header_encode(&d, q);
                ck_assert(memcmp(p, q, 304) == 0);
        }
        ls_keypair_free(k);
}
END_TEST

START_TEST(batch_header_hash_and_note_body_follow_the_spec)
{
        LsKeyPair *k = key_from_name("epoch-key-0", 0);
        LsBatchHeader h;
        uint8_t p[304], want[32], got[32];
        char body[LS_NOTE_BODY_MAX], mine[LS_NOTE_BODY_MAX];
        int n, m;

        batch_fixture(&h, k);
        ls_batch_header_encode(&h, p);
        crypto_hash_sha256(want, p, 240);
        ls_batch_header_hash(&h, got);
        ck_assert(memcmp(want, got, 32) == 0);
        n = ls_batch_note_body(&h, body, sizeof(body));
        m = ref_note_body(mine, sizeof(mine), h.chain_id, h.tree_size, h.tree_root, h.batch_no,
                          want);
        ck_assert_int_eq(n, m);
        ck_assert_str_eq(body, mine);
        /* the signature is plain Ed25519 over the note body (no binary context) */
        ck_assert_int_eq(
                crypto_sign_verify_detached(h.sig, (const uint8_t *) mine, (size_t) m, k->pk), 0);
        n = ls_checkpoint_body(body, sizeof(body), h.chain_id, UINT64_MAX, h.tree_root, UINT64_MAX,
                               want);
        m = ref_note_body(mine, sizeof(mine), h.chain_id, UINT64_MAX, h.tree_root, UINT64_MAX,
                          want);
        ck_assert_int_eq(n, m);
        ck_assert_str_eq(body, mine);
        ck_assert_int_eq(ls_checkpoint_body(body, (size_t) m, h.chain_id, UINT64_MAX, h.tree_root,
                                            UINT64_MAX, want),
                         -ENOBUFS);
        ls_keypair_free(k);
}
END_TEST

START_TEST(batch_header_every_strict_prefix_is_enodata_and_trailing_bytes_ebadmsg)
{
        LsKeyPair *k = key_from_name("epoch-key-0", 0);
        LsBatchHeader h;
        uint8_t p[304];

        batch_fixture(&h, k);
        ls_batch_header_encode(&h, p);
        assert_prefixes_rejected(dec_batch, p, 304, -ENODATA, "batch header");
        assert_trailing_rejected(dec_batch, p, 304, "batch header");
        ls_keypair_free(k);
}
END_TEST

/* Encodes h (unsigned, any values) with the reference encoder and decodes it. */
static int batch_decode_of(const LsBatchHeader *h)
{
        uint8_t p[304];

        ref_batch(h, p);
        return dec_batch(p, 304);
}

START_TEST(batch_header_lengths_above_maximum_are_e2big)
{
        LsKeyPair *k = key_from_name("epoch-key-0", 0);
        LsBatchHeader h, base;

        batch_fixture(&base, k);
        /* record_count 2^20 + 1 (payload_raw_len large enough) */
        h = base;
        h.record_count = (1u << 20) + 1;
        h.tree_size = h.first_seq + h.record_count;
        h.payload_raw_len = 33554432;
        ck_assert_int_eq(batch_decode_of(&h), -E2BIG);
        h.record_count = UINT32_MAX;
        h.tree_size = h.first_seq + h.record_count;
        ck_assert_int_eq(batch_decode_of(&h), -E2BIG);
        /* payload_raw_len 32 MiB + 1 */
        h = base;
        h.payload_raw_len = 33554432;
        ck_assert_int_eq(batch_decode_of(&h), 0);
        h.payload_raw_len = 33554433;
        ck_assert_int_eq(batch_decode_of(&h), -E2BIG);
        h.payload_raw_len = UINT32_MAX;
        ck_assert_int_eq(batch_decode_of(&h), -E2BIG);
        /* payload_len 33 MiB + 1 */
        h = base;
        h.payload_len = 34603008;
        ck_assert_int_eq(batch_decode_of(&h), 0);
        h.payload_len = 34603009;
        ck_assert_int_eq(batch_decode_of(&h), -E2BIG);
        h.payload_len = UINT32_MAX;
        ck_assert_int_eq(batch_decode_of(&h), -E2BIG);
        /*
         * SPEC ambiguity: payload_raw_len >= 60 * record_count and <= 32 MiB
         * caps record_count at 559240, below the documented 1048576.
         */
        h = base;
        h.payload_raw_len = 33554432;
        h.record_count = 559240;
        h.tree_size = h.first_seq + h.record_count;
        ck_assert_int_eq(batch_decode_of(&h), 0);
        h.record_count = 559241;
        h.tree_size = h.first_seq + h.record_count;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        h.record_count = 1u << 20;
        h.tree_size = h.first_seq + h.record_count;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        ls_keypair_free(k);
}
END_TEST

START_TEST(batch_header_malformed_values_are_ebadmsg)
{
        LsKeyPair *k = key_from_name("epoch-key-0", 0);
        LsBatchHeader h, base;
        uint8_t p[304];

        batch_fixture(&base, k);
        ref_batch(&base, p);
        ck_assert_int_eq(dec_batch(p, 304), 0);
        /* magic: each byte, and the magic of another structure */
        for (size_t i = 0; i < 8; i++)
                ck_assert_int_eq(decode_with_byte(dec_batch, p, 304, i, p[i] ^ 0x20), -EBADMSG);
        static const char others[] = "ATCRS";
        for (size_t i = 0; i < 5; i++)
                ck_assert_int_eq(decode_with_byte(dec_batch, p, 304, 3, (uint8_t) others[i]),
                                 -EBADMSG);
        /* size */
        ck_assert_int_eq(decode_with_byte(dec_batch, p, 304, 10, 0x2f), -EBADMSG); /* 303 */
        ck_assert_int_eq(decode_with_byte(dec_batch, p, 304, 10, 0x31), -EBADMSG); /* 305 */
        ck_assert_int_eq(decode_with_byte(dec_batch, p, 304, 11, 0x00), -EBADMSG); /* 48 */
        /* reserved u32 at 188 */
        for (size_t i = 188; i < 192; i++)
                ck_assert_int_eq(decode_with_byte(dec_batch, p, 304, i, 1), -EBADMSG);
        /* record_count 0 */
        h = base;
        h.record_count = 0;
        h.tree_size = h.first_seq;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        /* payload_raw_len below 60 per record */
        h = base;
        h.payload_raw_len = 60 * 5;
        ck_assert_int_eq(batch_decode_of(&h), 0);
        h.payload_raw_len = 60 * 5 - 1;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        /* payload_len 0 */
        h = base;
        h.payload_len = 0;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        h.payload_len = 1;
        ck_assert_int_eq(batch_decode_of(&h), 0);
        /* times */
        h = base;
        h.min_time_ns = h.max_time_ns + 1;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        h.min_time_ns = h.max_time_ns;
        ck_assert_int_eq(batch_decode_of(&h), 0);
        /* tree_size == first_seq + record_count */
        h = base;
        h.tree_size++;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        h.tree_size -= 2;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        h.tree_size = 0;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        /* first_seq + record_count overflows u64 */
        h = base;
        h.first_seq = UINT64_MAX - 2;
        h.tree_size = h.first_seq + h.record_count; /* wraps to 2 */
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        h.first_seq = UINT64_MAX - 5;
        h.tree_size = UINT64_MAX;
        ck_assert_int_eq(batch_decode_of(&h), 0);
        /* batch 0: first_seq 0 and a zero prev_header_hash */
        h = base;
        h.batch_no = 0;
        h.first_seq = 0;
        h.tree_size = h.record_count;
        memset(h.prev_header_hash, 0, 32);
        ck_assert_int_eq(batch_decode_of(&h), 0);
        h.prev_header_hash[31] = 1;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        h.prev_header_hash[31] = 0;
        h.first_seq = 1;
        h.tree_size = 1 + h.record_count;
        ck_assert_int_eq(batch_decode_of(&h), -EBADMSG);
        ls_keypair_free(k);
}
END_TEST

START_TEST(batch_header_unknown_version_or_incompat_flag_is_eprotonosupport)
{
        LsKeyPair *k = key_from_name("epoch-key-0", 0);
        LsBatchHeader h;
        uint8_t p[304];

        batch_fixture(&h, k);
        ref_batch(&h, p);
        ck_assert_int_eq(decode_with_byte(dec_batch, p, 304, 8, 0), -EPROTONOSUPPORT);
        ck_assert_int_eq(decode_with_byte(dec_batch, p, 304, 8, 2), -EPROTONOSUPPORT);
        ck_assert_int_eq(decode_with_byte(dec_batch, p, 304, 9, 1), -EPROTONOSUPPORT);
        for (int bit = 0; bit < 16; bit++) {
                uint8_t q[304];
                memcpy(q, p, 304);
                le16(q + 12, (uint16_t) (1u << bit));
                /* bit 0: the column payload layout (format 3), bit 1 DICT (format 4) */
                ck_assert_msg(dec_batch(q, 304) == (bit <= 1 ? 0 : -EPROTONOSUPPORT),
                              "incompat bit %d", bit);
                memcpy(q, p, 304);
                le16(q + 14, (uint16_t) (1u << bit));
                ck_assert_msg(dec_batch(q, 304) == 0, "compat bit %d", bit);
        }
        ls_keypair_free(k);
}
END_TEST

START_TEST(batch_header_signature_verifies_only_with_its_key_and_unchanged_fields)
{
        LsKeyPair *k = key_from_name("epoch-key-0", 0), *other = key_from_name("epoch-key-1", 1);
        LsBatchHeader h, d;
        LsSigner so;
        uint8_t p[304];

        batch_fixture(&h, k);
        ck_assert_int_eq(ls_batch_header_verify(&h, k->pk), 0);
        ck_assert_int_eq(ls_batch_header_verify(&h, other->pk), -EKEYREJECTED);
        /* another key that claims this key_id: the signature itself fails */
        d = h;
        memcpy(d.key_id, other->key_id, 8);
        ck_assert_int_eq(ls_batch_header_verify(&d, other->pk), -EKEYREJECTED);
        /* signed by the other key but claiming this key's id */
        d = h;
        ls_signer_from_keypair(&so, other);
        ck_assert_int_eq(ls_batch_header_sign(&d, &so), 0);
        memcpy(d.key_id, k->key_id, 8);
        ck_assert_int_eq(ls_batch_header_verify(&d, k->pk), -EKEYREJECTED);
        /* every bit of the signed part and the signature */
        ls_batch_header_encode(&h, p);
        unsigned decoded = 0;
        for (size_t i = 0; i < 304; i++)
                for (int bit = 0; bit < 8; bit++) {
                        p[i] ^= (uint8_t) (1u << bit);
                        if (ls_batch_header_decode(&d, p, 304, NULL) == 0) {
                                decoded++;
                                ck_assert_msg(ls_batch_header_verify(&d, k->pk) == -EKEYREJECTED,
                                              "bit %d of byte %zu", bit, i);
                        }
                        p[i] ^= (uint8_t) (1u << bit);
                }
        ck_assert_uint_gt(decoded, 2000);
        ls_keypair_free(k);
        ls_keypair_free(other);
}
END_TEST

void suite_add_batch_archive(TCase *tc)
{
        tcase_add_test(tc, batch_header_round_trip_preserves_fields_and_bytes);
        tcase_add_test(tc, batch_header_hash_and_note_body_follow_the_spec);
        tcase_add_test(tc, batch_header_every_strict_prefix_is_enodata_and_trailing_bytes_ebadmsg);
        tcase_add_test(tc, batch_header_lengths_above_maximum_are_e2big);
        tcase_add_test(tc, batch_header_malformed_values_are_ebadmsg);
        tcase_add_test(tc, batch_header_unknown_version_or_incompat_flag_is_eprotonosupport);
        tcase_add_test(tc, batch_header_signature_verifies_only_with_its_key_and_unchanged_fields);
        suite_add_archive(tc);
}
