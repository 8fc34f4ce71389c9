/* SPDX-License-Identifier: Apache-2.0 */
/* test-encoding, checkpoints (the suite is in test-encoding.c) */
#include "test-encoding.h"

/* ---------------------------------------------------------------------------------------------
 * Checkpoints (SPEC §7)
 */

#define CP_MAX 16384

/* "— <name> <base64(H(name ‖ LF ‖ 0x01 ‖ pk)[0..4] ‖ Ed25519(sk, body))>\n" */
static size_t ref_sig_line(char *out, size_t cap, const char *name, const LsKeyPair *k,
                           const char *body, size_t body_len)
{
        uint8_t blob[68], h[32];
        char b64[128];
        crypto_hash_sha256_state st;
        int n;

        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, (const uint8_t *) name, strlen(name));
        crypto_hash_sha256_update(&st, (const uint8_t *) "\n\x01", 2);
        crypto_hash_sha256_update(&st, k->pk, 32);
        crypto_hash_sha256_final(&st, h);
        memcpy(blob, h, 4);
        crypto_sign_detached(blob + 4, NULL, (const uint8_t *) body, body_len, k->sk);
        sodium_bin2base64(b64, sizeof(b64), blob, 68, sodium_base64_VARIANT_ORIGINAL);
        n = snprintf(out, cap, "\xe2\x80\x94 %s %s\n", name, b64);
        ck_assert(n > 0 && (size_t) n < cap);
        return (size_t) n;
}

typedef struct Cp {
        Keys k;
        LsBatchHeader h;
        char origin[64];
        char body[LS_NOTE_BODY_MAX];
        size_t body_len;
        char text[CP_MAX]; /* body, empty line, our signature line */
        size_t len;
} Cp;

static void cp_setup(Cp *c)
{
        uint8_t hh[32];

        keys_setup(&c->k);
        batch_fixture(&c->h, c->k.epoch0);
        memcpy(c->h.chain_id, c->k.chain_id, 16);
        LsSigner s;
        ls_signer_from_keypair(&s, c->k.epoch0);
        ck_assert_int_eq(ls_batch_header_sign(&c->h, &s), 0);
        ls_batch_header_hash(&c->h, hh);
        int n = ref_note_body(c->body, sizeof(c->body), c->h.chain_id, c->h.tree_size,
                              c->h.tree_root, c->h.batch_no, hh);
        c->body_len = (size_t) n;
        memcpy(c->origin, c->body, 40);
        c->origin[40] = 0;
        memcpy(c->text, c->body, c->body_len);
        c->text[c->body_len] = '\n';
        c->len = c->body_len + 1;
        c->len += ref_sig_line(c->text + c->len, sizeof(c->text) - c->len, c->origin, c->k.epoch0,
                               c->body, c->body_len);
        c->text[c->len] = 0;
}

static int cp_parse(const char *t, size_t n)
{
        static LsCheckpoint c;
        return ls_checkpoint_parse(&c, t, n, NULL);
}

static int dec_checkpoint(const uint8_t *p, size_t n)
{
        return cp_parse((const char *) p, n);
}

/* Replaces the first occurrence of `from` in the text by `to`, then parses. */
static int cp_parse_edited(const Cp *c, const char *from, const char *to)
{
        static char t[CP_MAX];
        const char *at = strstr(c->text, from);
        size_t pre, fl = strlen(from), tl = strlen(to);

        ck_assert_ptr_nonnull(at);
        pre = (size_t) (at - c->text);
        memcpy(t, c->text, pre);
        memcpy(t + pre, to, tl);
        memcpy(t + pre + tl, at + fl, c->len - pre - fl);
        return cp_parse(t, c->len - fl + tl);
}

START_TEST(checkpoint_format_parse_verify_round_trip)
{
        static Cp c;
        static char t[CP_MAX], t2[CP_MAX];
        LsCheckpoint cp;
        uint8_t hh[32];
        size_t off = 7;

        cp_setup(&c);
        /* the library writes exactly the reference text */
        int n = ls_batch_checkpoint(&c.h, c.k.epoch0->pk, t, sizeof(t));
        ck_assert_int_eq(n, (int) c.len);
        ck_assert_str_eq(t, c.text);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, t, (size_t) n, &off), 0);
        ck_assert_uint_eq(off, 0);
        ck_assert(memcmp(cp.chain_id, c.h.chain_id, 16) == 0);
        ck_assert_uint_eq(cp.tree_size, c.h.tree_size);
        ck_assert(memcmp(cp.root, c.h.tree_root, 32) == 0);
        ck_assert_int_eq(cp.has_batch, 1);
        ck_assert_uint_eq(cp.batch_no, c.h.batch_no);
        ls_batch_header_hash(&c.h, hh);
        ck_assert(memcmp(cp.header_hash, hh, 32) == 0);
        ck_assert_uint_eq(cp.body_len, c.body_len);
        ck_assert_uint_eq(cp.nsigs, 1);
        ck_assert_uint_eq(cp.sigs[0].name_len, 40);
        ck_assert(memcmp(t + cp.sigs[0].name_off, c.origin, 40) == 0);
        ck_assert(memcmp(cp.sigs[0].sig, c.h.sig, 64) == 0);
        uint8_t kh[4];
        ls_note_key_hash(kh, c.origin, 40, c.k.epoch0->pk);
        ck_assert(memcmp(cp.sigs[0].key_hash, kh, 4) == 0);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk), 0);
        /* formatting the parsed note again gives the same text */
        n = ls_checkpoint_format(t2, sizeof(t2), t, cp.body_len, c.k.epoch0->pk, cp.sigs[0].sig);
        ck_assert_int_eq(n, (int) c.len);
        ck_assert_str_eq(t2, c.text);
        ck_assert_int_eq(
                ls_checkpoint_format(t2, c.len, t, cp.body_len, c.k.epoch0->pk, cp.sigs[0].sig),
                -ENOBUFS);
        keys_free(&c.k);
}
END_TEST

START_TEST(golden_checkpoint_parses_and_verifies_with_the_epoch_1_key)
{
        const char *d = getenv("VECTORS_DIR");
        char path[1024], *line;
        uint8_t *text, *exp, pk[32];
        size_t n, m;
        LsCheckpoint cp;

        snprintf(path, sizeof(path), "%s/expected.txt", d ? d : "tests/vectors");
        ck_assert_int_eq(tu_read_file(path, 1 << 20, &exp, &m), 0);
        line = strstr((char *) exp, "\nepoch1_public_key ");
        ck_assert_ptr_nonnull(line);
        ck_assert_int_eq(ls_unhex(pk, 32, line + 19, 64), 0);
        free(exp);
        snprintf(path, sizeof(path), "%s/golden.checkpoint", d ? d : "tests/vectors");
        ck_assert_int_eq(tu_read_file(path, 1 << 16, &text, &n), 0);
        int r = ls_checkpoint_parse(&cp, (const char *) text, n, NULL);
        int v = r == 0 ? ls_checkpoint_verify(&cp, (const char *) text, pk) : r;
        free(text);
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(v, 0);
        ck_assert_uint_eq(cp.tree_size, 14);
        ck_assert_uint_eq(cp.batch_no, 4);
}
END_TEST

START_TEST(checkpoint_every_strict_prefix_and_any_trailing_bytes_are_ebadmsg)
{
        static Cp c;

        cp_setup(&c);
        assert_prefixes_rejected(dec_checkpoint, (const uint8_t *) c.text, c.len, -EBADMSG,
                                 "checkpoint");
        static const char *const tails[] = {
                "x", "\n", " ", "\xe2\x80\x94", "\xe2\x80\x94 ", "\xe2\x80\x94 logseal/x\n"};
        for (size_t i = 0; i < ELEMENTSOF(tails); i++) {
                static char t[CP_MAX];
                size_t n = c.len + strlen(tails[i]);
                memcpy(t, c.text, c.len);
                memcpy(t + c.len, tails[i], strlen(tails[i]));
                ck_assert_msg(cp_parse(t, n) == -EBADMSG, "tail %zu", i);
        }
        /* a NUL anywhere */
        for (size_t i = 0; i < c.len; i += 13) {
                static char t[CP_MAX];
                memcpy(t, c.text, c.len);
                t[i] = 0;
                ck_assert_int_eq(cp_parse(t, c.len), -EBADMSG);
        }
        keys_free(&c.k);
}
END_TEST

START_TEST(checkpoint_tree_size_must_be_canonical_decimal_u64)
{
        static Cp c;
        char from[32];

        cp_setup(&c);
        snprintf(from, sizeof(from), "\n%" PRIu64 "\n", c.h.tree_size);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n0105\n"), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n00\n"), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n+105\n"), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n 105\n"), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n105 \n"), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n\n"), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n0x69\n"), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n18446744073709551616\n"), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n99999999999999999999\n"), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n000000000000000000001\n"), -EBADMSG);
        /* well-formed (the signature is not checked by the parser) */
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n18446744073709551615\n"), 0);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n0\n"), 0);
        ck_assert_int_eq(cp_parse_edited(&c, from, "\n7\n"), 0);
        /* same rules for the batch number of the extension line */
        snprintf(from, sizeof(from), "logseal-batch-v1 %" PRIu64 " ", c.h.batch_no);
        ck_assert_int_eq(cp_parse_edited(&c, from, "logseal-batch-v1 07 "), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "logseal-batch-v1  7 "), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "logseal-batch-v1 -7 "), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "logseal-batch-v1 18446744073709551616 "),
                         -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, from, "logseal-batch-v1 0 "), 0);
        keys_free(&c.k);
}
END_TEST

START_TEST(checkpoint_root_and_header_hash_must_be_canonical_base64_of_32_bytes)
{
        static Cp c;
        char root[64], bad[160];
        static const char alphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        cp_setup(&c);
        sodium_bin2base64(root, sizeof(root), c.h.tree_root, 32, sodium_base64_VARIANT_ORIGINAL);
        /* non-canonical: unused bits of the last character */
        strcpy(bad, root);
        int v = (int) (strchr(alphabet, bad[42]) - alphabet);
        bad[42] = alphabet[v ^ 1];
        ck_assert_int_eq(cp_parse_edited(&c, root, bad), -EBADMSG);
        bad[42] = alphabet[v ^ 3];
        ck_assert_int_eq(cp_parse_edited(&c, root, bad), -EBADMSG);
        /* padding missing, extra, URL-safe */
        strcpy(bad, root);
        bad[43] = 0;
        ck_assert_int_eq(cp_parse_edited(&c, root, bad), -EBADMSG);
        snprintf(bad, sizeof(bad), "%s=", root);
        ck_assert_int_eq(cp_parse_edited(&c, root, bad), -EBADMSG);
        snprintf(bad, sizeof(bad), "A%s", root);
        ck_assert_int_eq(cp_parse_edited(&c, root, bad), -EBADMSG);
        /* 33 bytes, 31 bytes */
        uint8_t z[33] = {0};
        sodium_bin2base64(bad, sizeof(bad), z, 33, sodium_base64_VARIANT_ORIGINAL);
        ck_assert_int_eq(cp_parse_edited(&c, root, bad), -EBADMSG);
        sodium_bin2base64(bad, sizeof(bad), z, 31, sodium_base64_VARIANT_ORIGINAL);
        ck_assert_int_eq(cp_parse_edited(&c, root, bad), -EBADMSG);
        /* header hash of the extension line */
        uint8_t hh[32];
        char h64[64];
        ls_batch_header_hash(&c.h, hh);
        sodium_bin2base64(h64, sizeof(h64), hh, 32, sodium_base64_VARIANT_ORIGINAL);
        strcpy(bad, h64);
        v = (int) (strchr(alphabet, bad[42]) - alphabet);
        bad[42] = alphabet[v ^ 2];
        ck_assert_int_eq(cp_parse_edited(&c, h64, bad), -EBADMSG);
        strcpy(bad, h64);
        bad[43] = 0;
        ck_assert_int_eq(cp_parse_edited(&c, h64, bad), -EBADMSG);
        keys_free(&c.k);
}
END_TEST

START_TEST(checkpoint_origin_must_be_logseal_and_32_lowercase_hex)
{
        static Cp c;
        char bad[160];

        cp_setup(&c);
        strcpy(bad, c.origin);
        for (size_t i = 8; i < 40; i++)
                if (bad[i] >= 'a' && bad[i] <= 'f') {
                        bad[i] = (char) (bad[i] - 'a' + 'A');
                        break;
                }
        ck_assert_int_eq(cp_parse_edited(&c, c.origin, bad), -EBADMSG);
        strcpy(bad, c.origin);
        bad[39] = 'g';
        ck_assert_int_eq(cp_parse_edited(&c, c.origin, bad), -EBADMSG);
        strcpy(bad, c.origin);
        bad[0] = 'L';
        ck_assert_int_eq(cp_parse_edited(&c, c.origin, bad), -EBADMSG);
        strcpy(bad, c.origin);
        bad[7] = ':';
        ck_assert_int_eq(cp_parse_edited(&c, c.origin, bad), -EBADMSG);
        /* 31 and 33 hex digits (edit only the first line) */
        snprintf(bad, sizeof(bad), "%.39s\n", c.origin);
        char from[256];
        snprintf(from, sizeof(from), "%s\n", c.origin);
        ck_assert_int_eq(cp_parse_edited(&c, from, bad), -EBADMSG);
        snprintf(bad, sizeof(bad), "%s0\n", c.origin);
        ck_assert_int_eq(cp_parse_edited(&c, from, bad), -EBADMSG);
        snprintf(bad, sizeof(bad), "example.com/log\n");
        ck_assert_int_eq(cp_parse_edited(&c, from, bad), -EBADMSG);
        /* a well-formed origin of another chain parses, but our key line no longer names it */
        strcpy(bad, c.origin);
        bad[39] = bad[39] == '0' ? '1' : '0';
        snprintf(from, sizeof(from), "%s\n", bad);
        static char t[CP_MAX];
        static LsCheckpoint cp;
        memcpy(t, c.text, c.len);
        memcpy(t, from, 41);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, t, c.len, NULL), 0);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk), -ENOKEY);
        keys_free(&c.k);
}
END_TEST

START_TEST(checkpoint_extension_and_blank_line_rules)
{
        static Cp c;
        static char t[CP_MAX], body3[LS_NOTE_BODY_MAX];
        static LsCheckpoint cp;
        char *ext;
        size_t n;

        cp_setup(&c);
        ext = strstr(c.text, "logseal-batch-v1 ");
        ck_assert_ptr_nonnull(ext);
        size_t ext_off = (size_t) (ext - c.text), ext_len = c.body_len - ext_off;

        /* missing blank line */
        memcpy(t, c.text, c.body_len);
        memcpy(t + c.body_len, c.text + c.body_len + 1, c.len - c.body_len - 1);
        ck_assert_int_eq(cp_parse(t, c.len - 1), -EBADMSG);
        /* two blank lines */
        memcpy(t, c.text, c.body_len);
        t[c.body_len] = '\n';
        memcpy(t + c.body_len + 1, c.text + c.body_len, c.len - c.body_len);
        ck_assert_int_eq(cp_parse(t, c.len + 1), -EBADMSG);
        /* an unknown extension line, instead of or besides ours */
        ck_assert_int_eq(cp_parse_edited(&c, "logseal-batch-v1 ", "logseal-batch-v2 "), -EBADMSG);
        ck_assert_int_eq(
                cp_parse_edited(&c, "logseal-batch-v1 ", "other-extension 1\nlogseal-batch-v1 "),
                -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, "logseal-batch-v1 ", "Logseal-batch-v1 "), -EBADMSG);
        /* our extension line twice */
        memcpy(t, c.text, c.body_len);
        memcpy(t + c.body_len, ext, ext_len);
        memcpy(t + c.body_len + ext_len, c.text + c.body_len, c.len - c.body_len);
        ck_assert_int_eq(cp_parse(t, c.len + ext_len), -EBADMSG);
        /* our extension line followed by something else */
        memcpy(t, c.text, c.body_len);
        memcpy(t + c.body_len, "x 1\n", 4);
        memcpy(t + c.body_len + 4, c.text + c.body_len, c.len - c.body_len);
        ck_assert_int_eq(cp_parse(t, c.len + 4), -EBADMSG);
        /* extension line with one field, or a third one */
        ck_assert_int_eq(cp_parse_edited(&c, "logseal-batch-v1 7 ", "logseal-batch-v1 "), -EBADMSG);
        ck_assert_int_eq(cp_parse_edited(&c, "logseal-batch-v1 7 ", "logseal-batch-v1 7 7 "),
                         -EBADMSG);

        /* a 3-line body (no extension line) signed by the key parses and verifies */
        memcpy(body3, c.body, ext_off);
        n = ext_off;
        memcpy(t, body3, n);
        t[n++] = '\n';
        n += ref_sig_line(t + n, sizeof(t) - n, c.origin, c.k.epoch0, body3, ext_off);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, t, n, NULL), 0);
        ck_assert_int_eq(cp.has_batch, 0);
        ck_assert_uint_eq(cp.body_len, ext_off);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk), 0);
        /* fewer than 3 lines */
        char *l3 = strchr(strchr(c.body, '\n') + 1, '\n') + 1;
        n = (size_t) (l3 - c.body);
        memcpy(t, c.body, n);
        t[n++] = '\n';
        n += ref_sig_line(t + n, sizeof(t) - n, c.origin, c.k.epoch0, c.body,
                          (size_t) (l3 - c.body));
        ck_assert_int_eq(cp_parse(t, n), -EBADMSG);
        keys_free(&c.k);
}
END_TEST

START_TEST(checkpoint_signature_lines_form_and_count)
{
        static Cp c;
        static char t[CP_MAX];
        static LsCheckpoint cp;
        LsKeyPair *w = key_from_name("witness", 0);
        size_t n;

        cp_setup(&c);
        /* no signature line */
        memcpy(t, c.text, c.body_len + 1);
        ck_assert_int_eq(cp_parse(t, c.body_len + 1), -EBADMSG);
        /* malformed signature lines */
        static const char *const froms[] = {"\xe2\x80\x94 ", "\xe2\x80\x94 ", "\xe2\x80\x94 ",
                                            "\xe2\x80\x94 logseal/", "\xe2\x80\x94 logseal/"};
        static const char *const tos[] = {"- ", "\xe2\x80\x94", "\xe2\x80\x94  ",
                                          "\xe2\x80\x94 log+seal/", "\xe2\x80\x94 log seal/"};
        for (size_t i = 0; i < ELEMENTSOF(froms); i++)
                ck_assert_msg(cp_parse_edited(&c, froms[i], tos[i]) == -EBADMSG, "edit %zu", i);
        /* a signature that is not base64 */
        memcpy(t, c.text, c.len);
        t[c.len - 5] = '*';
        ck_assert_int_eq(cp_parse(t, c.len), -EBADMSG);
        /* no key name / no signature */
        n = c.body_len + 1;
        memcpy(t, c.text, n);
        n += (size_t) snprintf(t + n, sizeof(t) - n, "\xe2\x80\x94 %s\n", c.origin);
        ck_assert_int_eq(cp_parse(t, n), -EBADMSG);

        /* a witness line with another key name is accepted and ignored */
        memcpy(t, c.text, c.len);
        n = c.len;
        n += ref_sig_line(t + n, sizeof(t) - n, "witness.example/w1", w, c.body, c.body_len);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, t, n, NULL), 0);
        ck_assert_uint_eq(cp.nsigs, 2);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk), 0);
        /* ... also before ours */
        n = c.body_len + 1;
        memcpy(t, c.text, n);
        n += ref_sig_line(t + n, sizeof(t) - n, "witness.example/w1", w, c.body, c.body_len);
        memcpy(t + n, c.text + c.body_len + 1, c.len - c.body_len - 1);
        n += c.len - c.body_len - 1;
        ck_assert_int_eq(ls_checkpoint_parse(&cp, t, n, NULL), 0);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk), 0);
        /* only the witness line: no line names our key */
        n = c.body_len + 1;
        memcpy(t, c.text, n);
        n += ref_sig_line(t + n, sizeof(t) - n, "witness.example/w1", w, c.body, c.body_len);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, t, n, NULL), 0);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk), -ENOKEY);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, w->pk), -ENOKEY); /* not the origin */
        /* a line named after the origin but with another key's hash is ignored */
        n = c.body_len + 1;
        memcpy(t, c.text, n);
        n += ref_sig_line(t + n, sizeof(t) - n, c.origin, w, c.body, c.body_len);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, t, n, NULL), 0);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk), -ENOKEY);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, w->pk), 0);

        /* 16 signature lines are accepted, 17 are -E2BIG */
        memcpy(t, c.text, c.len);
        n = c.len;
        for (int i = 1; i < 16; i++) {
                char name[32];
                snprintf(name, sizeof(name), "witness.example/w%d", i);
                n += ref_sig_line(t + n, sizeof(t) - n, name, w, c.body, c.body_len);
        }
        ck_assert_int_eq(ls_checkpoint_parse(&cp, t, n, NULL), 0);
        ck_assert_uint_eq(cp.nsigs, 16);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk), 0);
        n += ref_sig_line(t + n, sizeof(t) - n, "witness.example/w16", w, c.body, c.body_len);
        ck_assert_int_lt(n, 8192);
        ck_assert_int_eq(cp_parse(t, n), -E2BIG);
        ls_keypair_free(w);
        keys_free(&c.k);
}
END_TEST

START_TEST(checkpoint_text_above_8192_bytes_is_e2big)
{
        static Cp c;
        static char t[CP_MAX], name[8192];
        LsKeyPair *w = key_from_name("witness", 0);
        size_t n, base;

        cp_setup(&c);
        /* our line plus one witness line with a long name: exactly 8192, then 8193 bytes */
        memcpy(t, c.text, c.len);
        base = c.len + 4 + 1 + 92 + 1; /* dash+space, space, base64(68), LF */
        memset(name, 'w', 8192 - base);
        name[8192 - base] = 0;
        n = c.len + ref_sig_line(t + c.len, sizeof(t) - c.len, name, w, c.body, c.body_len);
        ck_assert_uint_eq(n, 8192);
        ck_assert_int_eq(cp_parse(t, n), 0);
        strcat(name, "w");
        n = c.len + ref_sig_line(t + c.len, sizeof(t) - c.len, name, w, c.body, c.body_len);
        ck_assert_uint_eq(n, 8193);
        ck_assert_int_eq(cp_parse(t, n), -E2BIG);
        ls_keypair_free(w);
        keys_free(&c.k);
}
END_TEST

START_TEST(checkpoint_verify_rejects_a_changed_body_or_signature)
{
        static Cp c;
        static char t[CP_MAX];
        static LsCheckpoint cp;
        char from[32];

        cp_setup(&c);
        /* tree size changed: the line still names our key, the signature fails */
        snprintf(from, sizeof(from), "\n%" PRIu64 "\n", c.h.tree_size);
        const char *at = strstr(c.text, from);
        memcpy(t, c.text, c.len);
        t[at - c.text + 1] = (char) (t[at - c.text + 1] == '1' ? '2' : '1');
        ck_assert_int_eq(ls_checkpoint_parse(&cp, t, c.len, NULL), 0);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk), -EKEYREJECTED);
        /* every character of the body (where it still parses) */
        for (size_t i = 0; i < c.body_len; i++) {
                memcpy(t, c.text, c.len);
                t[i] = t[i] == 'A' ? 'B' : t[i] == '1' ? '2' : t[i] == 'a' ? 'b' : 'A';
                if (ls_checkpoint_parse(&cp, t, c.len, NULL) == 0)
                        ck_assert_msg(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk) < 0, "byte %zu",
                                      i);
        }
        /* a signature byte changed (key hash intact) */
        uint8_t blob[68];
        char b64[100];
        const char *sp = strrchr(c.text, ' ') + 1;
        ck_assert_int_eq(ls_unbase64(blob, 68, sp, 92), 0);
        blob[40] ^= 1;
        sodium_bin2base64(b64, sizeof(b64), blob, 68, sodium_base64_VARIANT_ORIGINAL);
        memcpy(t, c.text, c.len);
        memcpy(t + (sp - c.text), b64, 92);
        ck_assert_int_eq(ls_checkpoint_parse(&cp, t, c.len, NULL), 0);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, t, c.k.epoch0->pk), -EKEYREJECTED);
        /* another key: no line names it */
        ck_assert_int_eq(ls_checkpoint_parse(&cp, c.text, c.len, NULL), 0);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, c.text, c.k.epoch1->pk), -ENOKEY);
        ck_assert_int_eq(ls_checkpoint_verify(&cp, c.text, c.k.root->pk), -ENOKEY);
        keys_free(&c.k);
}
END_TEST

START_TEST(checkpoint_signature_lines_of_other_key_types_count_towards_16)
{
        /*
         * BUG: ls_checkpoint_parse (checkpoint.c) only counts lines whose blob
         * decodes to 68 bytes (Ed25519) against LS_MAX_CHECKPOINT_SIGS; lines
         * with other blobs (>= 5 bytes, e.g. C2SP cosignatures of 76 bytes)
         * are skipped uncounted, so a text with 1 + 16 signature lines parses.
         * SPEC §7.2: a parser MUST reject more than 16 signature lines (-E2BIG).
         */
        static Cp c;
        static char t[CP_MAX];
        uint8_t blob[76];
        char b64[128];
        size_t n;

        cp_setup(&c);
        keys_free(&c.k);
        memset(blob, 0x5a, sizeof(blob));
        sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
        memcpy(t, c.text, c.len);
        n = c.len;
        for (int i = 0; i < 16; i++)
                n += (size_t) snprintf(t + n, sizeof(t) - n,
                                       "\xe2\x80\x94 witness.example/c%d %s\n", i, b64);
        ck_assert_int_lt(n, 8192);
        int r = cp_parse(t, n);
        ck_assert_msg(r == -E2BIG, "17 signature lines (16 of 76-byte blobs): got %d", r);
}
END_TEST

void suite_add_checkpoint(TCase *tc)
{
        tcase_add_test(tc, checkpoint_format_parse_verify_round_trip);
        tcase_add_test(tc, golden_checkpoint_parses_and_verifies_with_the_epoch_1_key);
        tcase_add_test(tc, checkpoint_every_strict_prefix_and_any_trailing_bytes_are_ebadmsg);
        tcase_add_test(tc, checkpoint_tree_size_must_be_canonical_decimal_u64);
        tcase_add_test(tc, checkpoint_root_and_header_hash_must_be_canonical_base64_of_32_bytes);
        tcase_add_test(tc, checkpoint_origin_must_be_logseal_and_32_lowercase_hex);
        tcase_add_test(tc, checkpoint_extension_and_blank_line_rules);
        tcase_add_test(tc, checkpoint_signature_lines_form_and_count);
        tcase_add_test(tc, checkpoint_text_above_8192_bytes_is_e2big);
        tcase_add_test(tc, checkpoint_verify_rejects_a_changed_body_or_signature);
        tcase_add_test(tc, checkpoint_signature_lines_of_other_key_types_count_towards_16);
}
