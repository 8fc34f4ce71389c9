/* SPDX-License-Identifier: Apache-2.0 */
/* checkpoint.c: checkpoint note bodies, signature lines, strict parsing */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "checkpoint.h"
#include "hash.h"
#include "util.h"

static const char em_dash[] = "\xe2\x80\x94 ";
static const char ext_prefix[] = "logseal-batch-v1 ";

static void origin(char out[LS_ORIGIN_LEN + 1], const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        memcpy(out, "logseal/", 8);
        ls_hex(out + 8, chain_id, LS_CHAIN_ID_LEN);
}

int ls_checkpoint_body(char *out, size_t cap, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                       uint64_t tree_size, const uint8_t root[LS_HASH_LEN], uint64_t batch_no,
                       const uint8_t header_hash[LS_HASH_LEN])
{
        char o[LS_ORIGIN_LEN + 1], r64[64], h64[64];
        int n;

        origin(o, chain_id);
        ls_base64(r64, root, LS_HASH_LEN);
        ls_base64(h64, header_hash, LS_HASH_LEN);
        n = snprintf(out, cap, "%s\n%" PRIu64 "\n%s\n%s%" PRIu64 " %s\n", o, tree_size, r64,
                     ext_prefix, batch_no, h64);
        if (n < 0 || (size_t) n >= cap)
                return -ENOBUFS;
        return n;
}

void ls_note_key_hash(uint8_t out[4], const char *name, size_t name_len,
                      const uint8_t pk[LS_PK_LEN])
{
        static const uint8_t sep[2] = {'\n', 0x01};
        uint8_t h[LS_HASH_LEN];
        LsSha256 s;

        ls_sha256_init(&s);
        ls_sha256_update(&s, name, name_len);
        ls_sha256_update(&s, sep, sizeof(sep));
        ls_sha256_update(&s, pk, LS_PK_LEN);
        ls_sha256_final(&s, h);
        memcpy(out, h, 4);
}

int ls_checkpoint_format(char *out, size_t cap, const char *body, size_t body_len,
                         const uint8_t pk[LS_PK_LEN], const uint8_t sig[LS_SIG_LEN])
{
        uint8_t blob[4 + LS_SIG_LEN];
        char b64[128];
        int n;

        if (body_len < LS_ORIGIN_LEN + 1 || body[LS_ORIGIN_LEN] != '\n')
                return -EINVAL;
        ls_note_key_hash(blob, body, LS_ORIGIN_LEN, pk);
        memcpy(blob + 4, sig, LS_SIG_LEN);
        ls_base64(b64, blob, sizeof(blob));
        n = snprintf(out, cap, "%.*s\n%s%.*s %s\n", (int) body_len, body, em_dash,
                     (int) LS_ORIGIN_LEN, body, b64);
        if (n < 0 || (size_t) n >= cap)
                return -ENOBUFS;
        return n;
}

/* Finds the end of the line starting at pos; returns its length, or -1 without LF. */
static ssize_t line_len(const char *t, size_t n, size_t pos)
{
        const char *nl = memchr(t + pos, '\n', n - pos);
        return nl ? nl - (t + pos) : -1;
}

static int parse_u64(const char *s, size_t len, uint64_t *ret)
{
        uint64_t v = 0;

        if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
                unsigned d = (unsigned) (s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -EBADMSG;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

static int valid_key_name(const char *s, size_t len)
{
        if (len == 0)
                return 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char) s[i];
                if (ch <= 0x20 || ch == '+' || ch == 0x7f)
                        return 0;
        }
        return 1;
}

#define FAIL(code, where)                                                                          \
        do {                                                                                       \
                *ret_offset = (where);                                                             \
                return (code);                                                                     \
        } while (0)

int ls_checkpoint_parse(LsCheckpoint *ret, const char *t, size_t n, size_t *ret_offset)
{
        LsCheckpoint c = {};
        size_t pos = 0, dummy;
        unsigned nlines = 0;
        ssize_t len;
        const char *sp;

        if (!ret_offset)
                ret_offset = &dummy;
        if (n > LS_MAX_CHECKPOINT_TEXT)
                FAIL(-E2BIG, LS_MAX_CHECKPOINT_TEXT);
        if (memchr(t, 0, n))
                FAIL(-EBADMSG, (size_t) ((const char *) memchr(t, 0, n) - t));

        /* origin */
        len = line_len(t, n, pos);
        if (len != LS_ORIGIN_LEN || memcmp(t, "logseal/", 8) != 0)
                FAIL(-EBADMSG, pos);
        for (size_t i = 8; i < LS_ORIGIN_LEN; i++)
                if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
                        FAIL(-EBADMSG, i);
        if (ls_unhex(c.chain_id, LS_CHAIN_ID_LEN, t + 8, 2 * LS_CHAIN_ID_LEN) < 0)
                FAIL(-EBADMSG, 8);
        pos += (size_t) len + 1;

        /* tree size */
        len = line_len(t, n, pos);
        if (len < 0 || parse_u64(t + pos, (size_t) len, &c.tree_size) < 0)
                FAIL(-EBADMSG, pos);
        pos += (size_t) len + 1;

        /* root */
        len = line_len(t, n, pos);
        if (len < 0 || ls_unbase64(c.root, LS_HASH_LEN, t + pos, (size_t) len) < 0)
                FAIL(-EBADMSG, pos);
        pos += (size_t) len + 1;

        /* optional extension line: only ours, at most once */
        len = line_len(t, n, pos);
        if (len < 0)
                FAIL(-EBADMSG, pos);
        if (len > 0) {
                size_t el = (size_t) len, pl = sizeof(ext_prefix) - 1;
                if (el < pl || memcmp(t + pos, ext_prefix, pl) != 0)
                        FAIL(-EBADMSG, pos);
                sp = memchr(t + pos + pl, ' ', el - pl);
                if (!sp || parse_u64(t + pos + pl, (size_t) (sp - (t + pos + pl)), &c.batch_no) < 0)
                        FAIL(-EBADMSG, pos + pl);
                size_t hoff = (size_t) (sp + 1 - t);
                if (ls_unbase64(c.header_hash, LS_HASH_LEN, sp + 1, pos + el - hoff) < 0)
                        FAIL(-EBADMSG, hoff);
                c.has_batch = 1;
                pos += el + 1;
                len = line_len(t, n, pos);
                if (len != 0)
                        FAIL(-EBADMSG, pos);
        }
        c.body_len = pos;
        pos += 1; /* the empty line */

        /* signature lines */
        while (pos < n) {
                uint8_t blob[4 + LS_SIG_LEN];
                size_t dl = sizeof(em_dash) - 1;

                len = line_len(t, n, pos);
                if (len < 0 || (size_t) len < dl || memcmp(t + pos, em_dash, dl) != 0)
                        FAIL(-EBADMSG, pos);
                if (++nlines > LS_MAX_CHECKPOINT_SIGS)
                        FAIL(-E2BIG, pos);
                const char *name = t + pos + dl;
                const char *end = t + pos + (size_t) len;
                sp = memchr(name, ' ', (size_t) (end - name));
                if (!sp || !valid_key_name(name, (size_t) (sp - name)))
                        FAIL(-EBADMSG, (size_t) (name - t));
                /* Signature blobs of other key types may be longer; only Ed25519 ones are ours. */
                if (ls_unbase64(blob, sizeof(blob), sp + 1, (size_t) (end - sp - 1)) == 0) {
                        LsNoteSig *s = &c.sigs[c.nsigs++];
                        s->name_off = (size_t) (name - t);
                        s->name_len = (size_t) (sp - name);
                        memcpy(s->key_hash, blob, 4);
                        memcpy(s->sig, blob + 4, LS_SIG_LEN);
                } else {
                        uint8_t probe[512];
                        size_t got = 0;
                        if (sodium_base642bin(probe, sizeof(probe), sp + 1, (size_t) (end - sp - 1),
                                              NULL, &got, NULL,
                                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
                            got < 5)
                                FAIL(-EBADMSG, (size_t) (sp + 1 - t));
                }
                pos += (size_t) len + 1;
        }
        if (c.nsigs == 0)
                FAIL(-EBADMSG, n);
        *ret = c;
        *ret_offset = 0;
        return 0;
}

int ls_checkpoint_verify(const LsCheckpoint *c, const char *text, const uint8_t pk[LS_PK_LEN])
{
        uint8_t kh[4];
        int found = 0;

        ls_note_key_hash(kh, text, LS_ORIGIN_LEN, pk);
        for (unsigned i = 0; i < c->nsigs; i++) {
                const LsNoteSig *s = &c->sigs[i];
                if (s->name_len != LS_ORIGIN_LEN || memcmp(text + s->name_off, text, LS_ORIGIN_LEN))
                        continue;
                if (memcmp(s->key_hash, kh, 4) != 0)
                        continue;
                found = 1;
                if (crypto_sign_verify_detached(s->sig, (const uint8_t *) text, c->body_len, pk) ==
                    0)
                        return 0;
        }
        return found ? -EKEYREJECTED : -ENOKEY;
}
