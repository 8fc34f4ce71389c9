/* SPDX-License-Identifier: Apache-2.0 */
/* keys.c: key pairs, signatures, certificates, revocations and key files */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "hash.h"
#include "keys.h"
#include "magic.h"
#include "util.h"

#define SIGN_BUF_MAX 4096

static int keypair_alloc(LsKeyPair **ret, uint64_t epoch)
{
        LsKeyPair *k = calloc(1, sizeof(*k));

        if (!k)
                return -ENOMEM;
        k->sk = sodium_malloc(LS_SK_LEN);
        if (!k->sk) {
                free(k);
                return -ENOMEM;
        }
        k->epoch = epoch;
        *ret = k;
        return 0;
}

int ls_keypair_generate(LsKeyPair **ret, uint64_t epoch)
{
        LsKeyPair *k;
        int r = keypair_alloc(&k, epoch);

        if (r < 0)
                return r;
        crypto_sign_keypair(k->pk, k->sk);
        ls_key_id(k->key_id, k->pk);
        *ret = k;
        return 0;
}

int ls_keypair_from_seed(LsKeyPair **ret, const uint8_t seed[32], uint64_t epoch)
{
        LsKeyPair *k;
        int r = keypair_alloc(&k, epoch);

        if (r < 0)
                return r;
        crypto_sign_seed_keypair(k->pk, k->sk, seed);
        ls_key_id(k->key_id, k->pk);
        *ret = k;
        return 0;
}

LsKeyPair *ls_keypair_free(LsKeyPair *k)
{
        if (!k)
                return NULL;
        sodium_free(k->sk); /* wipes before unmapping */
        sodium_memzero(k, sizeof(*k));
        free(k);
        return NULL;
}

static int keypair_sign(void *ud, const uint8_t *msg, size_t n, uint8_t sig[LS_SIG_LEN])
{
        LsKeyPair *k = ud;
        return crypto_sign_detached(sig, NULL, msg, n, k->sk) == 0 ? 0 : -EIO;
}

void ls_signer_from_keypair(LsSigner *s, LsKeyPair *k)
{
        memcpy(s->pk, k->pk, LS_PK_LEN);
        memcpy(s->key_id, k->key_id, LS_KEY_ID_LEN);
        s->epoch = k->epoch;
        s->sign = keypair_sign;
        s->userdata = k;
}

static int join_ctx(uint8_t *buf, const char *ctx, const uint8_t *msg, size_t n, size_t *ret)
{
        size_t c = ctx ? strlen(ctx) : 0;

        if (n > SIGN_BUF_MAX - c)
                return -E2BIG;
        if (c)
                memcpy(buf, ctx, c);
        if (n)
                memcpy(buf + c, msg, n);
        *ret = c + n;
        return 0;
}

int ls_sign(const LsSigner *s, const char *ctx, const uint8_t *msg, size_t n,
            uint8_t sig[LS_SIG_LEN])
{
        uint8_t buf[SIGN_BUF_MAX];
        size_t len;
        int r = join_ctx(buf, ctx, msg, n, &len);

        if (r < 0)
                return r;
        return s->sign(s->userdata, buf, len, sig);
}

int ls_verify(const uint8_t pk[LS_PK_LEN], const char *ctx, const uint8_t *msg, size_t n,
              const uint8_t sig[LS_SIG_LEN])
{
        uint8_t buf[SIGN_BUF_MAX];
        size_t len;
        int r = join_ctx(buf, ctx, msg, n, &len);

        if (r < 0)
                return r;
        return crypto_sign_verify_detached(sig, buf, len, pk) == 0 ? 0 : -EKEYREJECTED;
}

/* ---- certificates ---- */

void ls_cert_encode(const LsCert *c, uint8_t out[LS_CERT_LEN])
{
        memset(out, 0, LS_CERT_LEN);
        ls_magic_put(out, LS_MAGIC_CERT);
        ls_put16(out + 8, LS_FORMAT_VERSION);
        ls_put16(out + 10, LS_CERT_LEN);
        out[12] = c->kind;
        ls_put16(out + 14, c->flags);
        memcpy(out + 16, c->chain_id, LS_CHAIN_ID_LEN);
        memcpy(out + 32, c->pk, LS_PK_LEN);
        memcpy(out + 64, c->key_id, LS_KEY_ID_LEN);
        ls_put64(out + 72, c->epoch);
        ls_put64(out + 80, c->valid_from_batch);
        ls_put64(out + 88, c->issued_ns);
        memcpy(out + 96, c->issuer_key_id, LS_KEY_ID_LEN);
        memcpy(out + 104, c->sig, LS_SIG_LEN);
}

int ls_cert_sign(LsCert *c, const LsSigner *issuer)
{
        uint8_t buf[LS_CERT_LEN];

        ls_key_id(c->key_id, c->pk);
        memcpy(c->issuer_key_id, issuer->key_id, LS_KEY_ID_LEN);
        ls_cert_encode(c, buf);
        return ls_sign(issuer, LS_CTX_CERT, buf, LS_CERT_SIGNED_LEN, c->sig);
}

int ls_cert_decode(LsCert *ret, const uint8_t *p, size_t n)
{
        LsCert c = {};
        uint8_t id[LS_KEY_ID_LEN];

        if (n < LS_CERT_LEN)
                return -ENODATA;
        if (!ls_magic_check(p, LS_MAGIC_CERT))
                return -EBADMSG;
        if (ls_get16(p + 8) != LS_FORMAT_VERSION)
                return -EPROTONOSUPPORT;
        if (ls_get16(p + 10) != LS_CERT_LEN || n != LS_CERT_LEN)
                return -EBADMSG;
        c.kind = p[12];
        if (c.kind != LS_CERT_SIGNING && c.kind != LS_CERT_ROOT)
                return -EBADMSG;
        if (p[13] != 0)
                return -EBADMSG;
        c.flags = ls_get16(p + 14);
        if (c.flags & ~LS_CERT_F_KNOWN)
                return -EPROTONOSUPPORT;
        if (c.flags && c.kind != LS_CERT_SIGNING)
                return -EBADMSG;
        memcpy(c.chain_id, p + 16, LS_CHAIN_ID_LEN);
        memcpy(c.pk, p + 32, LS_PK_LEN);
        memcpy(c.key_id, p + 64, LS_KEY_ID_LEN);
        c.epoch = ls_get64(p + 72);
        c.valid_from_batch = ls_get64(p + 80);
        c.issued_ns = ls_get64(p + 88);
        memcpy(c.issuer_key_id, p + 96, LS_KEY_ID_LEN);
        memcpy(c.sig, p + 104, LS_SIG_LEN);
        ls_key_id(id, c.pk);
        if (memcmp(id, c.key_id, LS_KEY_ID_LEN) != 0)
                return -EBADMSG;
        if (c.kind == LS_CERT_ROOT &&
            (!ls_all_zero(c.chain_id, LS_CHAIN_ID_LEN) || c.valid_from_batch != 0))
                return -EBADMSG;
        *ret = c;
        return 0;
}

/* A structure signed by the key it names as its issuer: that key, and its signature. */
static int verify_issued(const uint8_t issuer_pk[LS_PK_LEN],
                         const uint8_t issuer_key_id[LS_KEY_ID_LEN], const char *ctx,
                         const uint8_t *signed_bytes, size_t n, const uint8_t sig[LS_SIG_LEN])
{
        uint8_t id[LS_KEY_ID_LEN];

        ls_key_id(id, issuer_pk);
        if (memcmp(id, issuer_key_id, LS_KEY_ID_LEN) != 0)
                return -EKEYREJECTED;
        return ls_verify(issuer_pk, ctx, signed_bytes, n, sig);
}

int ls_cert_verify(const LsCert *c, const uint8_t issuer_pk[LS_PK_LEN])
{
        uint8_t buf[LS_CERT_LEN];

        ls_cert_encode(c, buf);
        return verify_issued(issuer_pk, c->issuer_key_id, LS_CTX_CERT, buf, LS_CERT_SIGNED_LEN,
                             c->sig);
}

/* ---- key history items ---- */

int ls_history_item(const uint8_t *p, size_t n, char *ret_kind, size_t *ret_len)
{
        static const char kinds[] = {LS_MAGIC_CERT, LS_MAGIC_REVOCATION, LS_MAGIC_CLOSE};
        uint8_t m[LS_MAGIC_LEN];
        size_t len;
        char kind = 0;

        for (size_t i = 0; i < sizeof(kinds) && !kind; i++) {
                ls_magic_put(m, kinds[i]);
                if (memcmp(p, m, MIN(n, sizeof(m))) == 0)
                        kind = kinds[i];
        }
        if (!kind)
                return -EBADMSG;
        if (n < LS_MAGIC_LEN + 4) /* the revocation's length field ends at byte 12 */
                return -ENODATA;
        len = kind == LS_MAGIC_CERT  ? LS_CERT_LEN :
              kind == LS_MAGIC_CLOSE ? LS_CLOSE_LEN :
                                       LS_REVOCATION_FIXED_LEN + (size_t) ls_get16(p + 10);
        *ret_kind = kind;
        *ret_len = len;
        return n < len ? -ENODATA : 0;
}

/* ---- epoch closes ---- */

void ls_close_encode(const LsEpochClose *c, uint8_t out[LS_CLOSE_LEN])
{
        memset(out, 0, LS_CLOSE_LEN);
        ls_magic_put(out, LS_MAGIC_CLOSE);
        ls_put16(out + 8, 1);
        ls_put16(out + 10, LS_CLOSE_LEN);
        memcpy(out + 16, c->chain_id, LS_CHAIN_ID_LEN);
        memcpy(out + 32, c->closed_key_id, LS_KEY_ID_LEN);
        ls_put64(out + 40, c->closed_epoch);
        ls_put64(out + 48, c->last_batch_no);
        ls_put64(out + 56, c->tree_size);
        memcpy(out + 64, c->tree_root, LS_HASH_LEN);
        memcpy(out + 96, c->last_header_hash, LS_HASH_LEN);
        ls_put64(out + 128, c->max_time_ns);
        memcpy(out + 136, c->prev_close_hash, LS_HASH_LEN);
        ls_put64(out + 168, c->issued_ns);
        memcpy(out + 176, c->issuer_key_id, LS_KEY_ID_LEN);
        memcpy(out + 184, c->sig, LS_SIG_LEN);
}

int ls_close_sign(LsEpochClose *c, const LsSigner *issuer)
{
        uint8_t buf[LS_CLOSE_LEN];

        memcpy(c->issuer_key_id, issuer->key_id, LS_KEY_ID_LEN);
        ls_close_encode(c, buf);
        return ls_sign(issuer, LS_CTX_CLOSE, buf, LS_CLOSE_SIGNED_LEN, c->sig);
}

int ls_close_decode(LsEpochClose *ret, const uint8_t *p, size_t n)
{
        LsEpochClose c = {};

        if (n < LS_CLOSE_LEN)
                return -ENODATA;
        if (!ls_magic_check(p, LS_MAGIC_CLOSE))
                return -EBADMSG;
        if (ls_get16(p + 8) != 1)
                return -EPROTONOSUPPORT;
        if (ls_get16(p + 10) != LS_CLOSE_LEN || n != LS_CLOSE_LEN || ls_get32(p + 12) != 0)
                return -EBADMSG;
        memcpy(c.chain_id, p + 16, LS_CHAIN_ID_LEN);
        memcpy(c.closed_key_id, p + 32, LS_KEY_ID_LEN);
        c.closed_epoch = ls_get64(p + 40);
        c.last_batch_no = ls_get64(p + 48);
        c.tree_size = ls_get64(p + 56);
        memcpy(c.tree_root, p + 64, LS_HASH_LEN);
        memcpy(c.last_header_hash, p + 96, LS_HASH_LEN);
        c.max_time_ns = ls_get64(p + 128);
        memcpy(c.prev_close_hash, p + 136, LS_HASH_LEN);
        c.issued_ns = ls_get64(p + 168);
        memcpy(c.issuer_key_id, p + 176, LS_KEY_ID_LEN);
        memcpy(c.sig, p + 184, LS_SIG_LEN);
        /* Every batch holds a record: a closed epoch's tree holds more than its batch number. */
        if (c.tree_size <= c.last_batch_no || c.closed_epoch == UINT64_MAX)
                return -EBADMSG;
        if (c.closed_epoch == 0 && !ls_all_zero(c.prev_close_hash, LS_HASH_LEN))
                return -EBADMSG;
        *ret = c;
        return 0;
}

int ls_close_verify(const LsEpochClose *c, const uint8_t issuer_pk[LS_PK_LEN])
{
        uint8_t buf[LS_CLOSE_LEN];

        ls_close_encode(c, buf);
        return verify_issued(issuer_pk, c->issuer_key_id, LS_CTX_CLOSE, buf, LS_CLOSE_SIGNED_LEN,
                             c->sig);
}

void ls_close_hash(const LsEpochClose *c, uint8_t out[LS_HASH_LEN])
{
        uint8_t buf[LS_CLOSE_LEN];

        ls_close_encode(c, buf);
        ls_sha256(out, buf, LS_CLOSE_SIGNED_LEN);
}

/* ---- revocations ---- */

size_t ls_revocation_size(const LsRevocation *r)
{
        return LS_REVOCATION_FIXED_LEN + r->reason_len;
}

static int revocation_check(const LsRevocation *r)
{
        if (r->reason_len > LS_MAX_REASON)
                return -E2BIG;
        if (r->from_batch == LS_UNSET && r->from_time_ns == LS_UNSET)
                return -EBADMSG;
        return 0;
}

int ls_revocation_encode(const LsRevocation *r, uint8_t *out, size_t cap, size_t *ret_len)
{
        size_t n = ls_revocation_size(r);
        int k = revocation_check(r);

        if (k < 0)
                return k;
        if (cap < n)
                return -ENOBUFS;
        memset(out, 0, 72);
        ls_magic_put(out, LS_MAGIC_REVOCATION);
        ls_put16(out + 8, LS_FORMAT_VERSION);
        ls_put16(out + 10, r->reason_len);
        memcpy(out + 16, r->chain_id, LS_CHAIN_ID_LEN);
        memcpy(out + 32, r->revoked_key_id, LS_KEY_ID_LEN);
        ls_put64(out + 40, r->from_batch);
        ls_put64(out + 48, r->from_time_ns);
        ls_put64(out + 56, r->issued_ns);
        memcpy(out + 64, r->issuer_key_id, LS_KEY_ID_LEN);
        if (r->reason_len)
                memcpy(out + 72, r->reason, r->reason_len);
        memcpy(out + 72 + r->reason_len, r->sig, LS_SIG_LEN);
        if (ret_len)
                *ret_len = n;
        return 0;
}

int ls_revocation_sign(LsRevocation *r, const LsSigner *issuer)
{
        uint8_t buf[LS_REVOCATION_MAX_LEN];
        size_t n;
        int k;

        memcpy(r->issuer_key_id, issuer->key_id, LS_KEY_ID_LEN);
        k = ls_revocation_encode(r, buf, sizeof(buf), &n);
        if (k < 0)
                return k;
        return ls_sign(issuer, LS_CTX_REVOCATION, buf, n - LS_SIG_LEN, r->sig);
}

int ls_revocation_decode(LsRevocation *ret, const uint8_t *p, size_t n)
{
        LsRevocation r = {};

        if (n < LS_REVOCATION_FIXED_LEN)
                return -ENODATA;
        if (!ls_magic_check(p, LS_MAGIC_REVOCATION))
                return -EBADMSG;
        if (ls_get16(p + 8) != LS_FORMAT_VERSION)
                return -EPROTONOSUPPORT;
        r.reason_len = ls_get16(p + 10);
        if (r.reason_len > LS_MAX_REASON)
                return -E2BIG;
        if (ls_get32(p + 12) != 0)
                return -EBADMSG;
        if (n < ls_revocation_size(&r))
                return -ENODATA;
        if (n != ls_revocation_size(&r))
                return -EBADMSG;
        memcpy(r.chain_id, p + 16, LS_CHAIN_ID_LEN);
        memcpy(r.revoked_key_id, p + 32, LS_KEY_ID_LEN);
        r.from_batch = ls_get64(p + 40);
        r.from_time_ns = ls_get64(p + 48);
        r.issued_ns = ls_get64(p + 56);
        memcpy(r.issuer_key_id, p + 64, LS_KEY_ID_LEN);
        r.reason = (const char *) p + 72;
        memcpy(r.sig, p + 72 + r.reason_len, LS_SIG_LEN);
        int k = revocation_check(&r);
        if (k < 0)
                return k;
        *ret = r;
        return 0;
}

int ls_revocation_verify(const LsRevocation *r, const uint8_t issuer_pk[LS_PK_LEN])
{
        uint8_t buf[LS_REVOCATION_MAX_LEN], id[LS_KEY_ID_LEN];
        size_t n;
        int k;

        ls_key_id(id, issuer_pk);
        if (memcmp(id, r->issuer_key_id, LS_KEY_ID_LEN) != 0)
                return -EKEYREJECTED;
        k = ls_revocation_encode(r, buf, sizeof(buf), &n);
        if (k < 0)
                return k;
        return ls_verify(issuer_pk, LS_CTX_REVOCATION, buf, n - LS_SIG_LEN, r->sig);
}

/* ---- key files ---- */

#define PUBKEY_BLOB_LEN (4 + LS_KEY_ID_LEN + LS_PK_LEN)
static const char pubkey_tag[4] = {'L', 'S', 'K', '1'};
static const char comment_prefix[] = "untrusted comment: ";

int ls_pubkey_format(char *out, size_t cap, const uint8_t pk[LS_PK_LEN], const char *comment)
{
        uint8_t blob[PUBKEY_BLOB_LEN];
        char b64[80];
        int n;

        if (strchr(comment, '\n') || strlen(comment) > 1024)
                return -EINVAL;
        memcpy(blob, pubkey_tag, 4);
        ls_key_id(blob + 4, pk);
        memcpy(blob + 4 + LS_KEY_ID_LEN, pk, LS_PK_LEN);
        ls_base64(b64, blob, sizeof(blob));
        n = snprintf(out, cap, "%s%s\n%s\n", comment_prefix, comment, b64);
        if (n < 0 || (size_t) n >= cap)
                return -ENOBUFS;
        return 0;
}

int ls_pubkey_parse(const char *text, size_t n, uint8_t pk[LS_PK_LEN],
                    uint8_t key_id[LS_KEY_ID_LEN])
{
        uint8_t blob[PUBKEY_BLOB_LEN], id[LS_KEY_ID_LEN];
        const char *nl, *line2;
        size_t len2;

        if (n > LS_PUBKEY_TEXT_MAX)
                return -E2BIG;
        if (n < sizeof(comment_prefix) - 1 ||
            memcmp(text, comment_prefix, sizeof(comment_prefix) - 1) != 0)
                return -EBADMSG;
        nl = memchr(text, '\n', n);
        if (!nl)
                return -ENODATA;
        if ((size_t) (nl - text) > sizeof(comment_prefix) - 1 + 1024)
                return -E2BIG;
        line2 = nl + 1;
        len2 = n - (size_t) (line2 - text);
        if (len2 > 0 && line2[len2 - 1] == '\n')
                len2--;
        if (memchr(line2, '\n', len2))
                return -EBADMSG;
        if (ls_unbase64(blob, sizeof(blob), line2, len2) < 0)
                return -EBADMSG;
        if (memcmp(blob, pubkey_tag, 4) != 0)
                return -EBADMSG;
        ls_key_id(id, blob + 4 + LS_KEY_ID_LEN);
        if (memcmp(id, blob + 4, LS_KEY_ID_LEN) != 0)
                return -EBADMSG;
        memcpy(pk, blob + 4 + LS_KEY_ID_LEN, LS_PK_LEN);
        memcpy(key_id, id, LS_KEY_ID_LEN);
        return 0;
}

void ls_fingerprint(char out[LS_FINGERPRINT_LEN], const uint8_t pk[LS_PK_LEN])
{
        uint8_t h[LS_HASH_LEN];
        char hex[2 * LS_HASH_LEN + 1];
        size_t o = 0;

        ls_sha256(h, pk, LS_PK_LEN);
        ls_hex(hex, h, sizeof(h));
        for (size_t i = 0; i < 64; i += 4) {
                if (i)
                        out[o++] = ' ';
                memcpy(out + o, hex + i, 4);
                o += 4;
        }
        out[o] = 0;
}

#define SECRET_BOX_OFF 88
#define MAX_OPSLIMIT 64
#define MAX_MEMLIMIT (UINT64_C(4) << 30)

static int derive_box_key(uint8_t *key, uint16_t kdf, const char *pass, const uint8_t *salt,
                          uint64_t ops, uint64_t mem)
{
        if (kdf == 0) {
                memset(key, 0, crypto_secretbox_KEYBYTES);
                return 0;
        }
        if (!pass)
                return -ENOKEY;
        if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pass, strlen(pass), salt, ops,
                          (size_t) mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
                return -ENOMEM;
        return 0;
}

int ls_seckey_encode(const LsKeyPair *k, const char *passphrase, uint64_t opslimit,
                     size_t memlimit, uint8_t out[LS_SECRET_FILE_LEN])
{
        uint8_t *key;
        uint16_t kdf = passphrase ? 1 : 0;
        int r;

        static_assert(SECRET_BOX_OFF + crypto_secretbox_MACBYTES + LS_SK_LEN ==
                              LS_SECRET_FILE_LEN,
                      "secret key file layout");
        if (kdf && (opslimit > MAX_OPSLIMIT || memlimit > MAX_MEMLIMIT))
                return -E2BIG;
        memset(out, 0, LS_SECRET_FILE_LEN);
        ls_magic_put(out, LS_MAGIC_SECRET);
        ls_put16(out + 8, LS_FORMAT_VERSION);
        ls_put16(out + 10, kdf);
        if (kdf) {
                ls_put64(out + 16, opslimit);
                ls_put64(out + 24, memlimit);
                randombytes_buf(out + 32, 16);
        }
        randombytes_buf(out + 48, 24);
        memcpy(out + 72, k->key_id, LS_KEY_ID_LEN);
        ls_put64(out + 80, k->epoch);

        key = sodium_malloc(crypto_secretbox_KEYBYTES);
        if (!key)
                return -ENOMEM;
        r = derive_box_key(key, kdf, passphrase, out + 32, opslimit, memlimit);
        if (r == 0)
                crypto_secretbox_easy(out + SECRET_BOX_OFF, k->sk, LS_SK_LEN, out + 48, key);
        sodium_free(key);
        return r;
}

int ls_seckey_needs_passphrase(const uint8_t *p, size_t n)
{
        if (n != LS_SECRET_FILE_LEN)
                return n < LS_SECRET_FILE_LEN ? -ENODATA : -EBADMSG;
        if (!ls_magic_check(p, LS_MAGIC_SECRET))
                return -EBADMSG;
        if (ls_get16(p + 8) != LS_FORMAT_VERSION)
                return -EPROTONOSUPPORT;
        switch (ls_get16(p + 10)) {
        case 0:
                return 0;
        case 1:
                return 1;
        default:
                return -EPROTONOSUPPORT;
        }
}

int ls_seckey_decode(LsKeyPair **ret, const uint8_t *p, size_t n, const char *passphrase)
{
        LsKeyPair *k = NULL;
        uint8_t *key;
        uint8_t id[LS_KEY_ID_LEN];
        uint64_t ops, mem;
        int kdf, r;

        kdf = ls_seckey_needs_passphrase(p, n);
        if (kdf < 0)
                return kdf;
        if (ls_get32(p + 12) != 0)
                return -EBADMSG;
        ops = ls_get64(p + 16);
        mem = ls_get64(p + 24);
        if (kdf) {
                if (ops > MAX_OPSLIMIT || mem > MAX_MEMLIMIT)
                        return -E2BIG;
                if (ops < crypto_pwhash_OPSLIMIT_MIN || mem < crypto_pwhash_MEMLIMIT_MIN)
                        return -EBADMSG;
        } else if (ops || mem || !ls_all_zero(p + 32, 16)) {
                return -EBADMSG;
        }
        r = keypair_alloc(&k, ls_get64(p + 80));
        if (r < 0)
                return r;
        key = sodium_malloc(crypto_secretbox_KEYBYTES);
        if (!key) {
                ls_keypair_free(k);
                return -ENOMEM;
        }
        r = derive_box_key(key, (uint16_t) kdf, passphrase, p + 32, ops, mem);
        if (r == 0 && crypto_secretbox_open_easy(k->sk, p + SECRET_BOX_OFF,
                                                 crypto_secretbox_MACBYTES + LS_SK_LEN, p + 48,
                                                 key) != 0)
                r = -EKEYREJECTED;
        sodium_free(key);
        if (r < 0) {
                ls_keypair_free(k);
                return r;
        }
        /* The public half must be the one the seed yields, not just what the file says. */
        {
                uint8_t seed[32], pk2[LS_PK_LEN], *sk2 = sodium_malloc(LS_SK_LEN);
                int bad = !sk2;
                if (sk2) {
                        crypto_sign_ed25519_sk_to_seed(seed, k->sk);
                        crypto_sign_seed_keypair(pk2, sk2, seed);
                        crypto_sign_ed25519_sk_to_pk(k->pk, k->sk);
                        bad = sodium_memcmp(pk2, k->pk, LS_PK_LEN) != 0;
                        sodium_memzero(seed, sizeof(seed));
                        sodium_free(sk2);
                }
                if (bad) {
                        ls_keypair_free(k);
                        return -EKEYREJECTED;
                }
        }
        ls_key_id(id, k->pk);
        if (memcmp(id, p + 72, LS_KEY_ID_LEN) != 0) {
                ls_keypair_free(k);
                return -EKEYREJECTED;
        }
        memcpy(k->key_id, id, LS_KEY_ID_LEN);
        *ret = k;
        return 0;
}
