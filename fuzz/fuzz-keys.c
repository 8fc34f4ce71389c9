/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-keys.c: certificates, revocations, key files and header decoders, by a selector byte */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "batch.h"
#include "checkpoint.h"
#include "keys.h"

#include "fuzz.h"

/* The first input byte (modulo FUZZ_KEYS_MAX) selects the decoder for the rest. */
enum {
        FUZZ_KEYS_CERT = 0,
        FUZZ_KEYS_REVOCATION = 1,
        FUZZ_KEYS_PUBKEY = 2,
        FUZZ_KEYS_SECKEY = 3,
        FUZZ_KEYS_BATCH_HEADER = 4,
        FUZZ_KEYS_ARCHIVE_HEADER = 5,
        FUZZ_KEYS_TRAILER = 6,
        FUZZ_KEYS_MAX,
};

static uint8_t root_pk[LS_PK_LEN], epoch0_pk[LS_PK_LEN];

static void init_keys(void)
{
        static int done;

        if (done)
                return;
        fuzz_vector_pk(root_pk, "root-key");
        fuzz_vector_pk(epoch0_pk, "epoch-key-0");
        done = 1;
}

static void fuzz_cert(const uint8_t *p, size_t n)
{
        uint8_t buf[LS_CERT_LEN];
        LsCert c;
        int r;

        if (ls_cert_decode(&c, p, n) < 0)
                return;
        ls_cert_encode(&c, buf);
        FUZZ_CHECK(n == LS_CERT_LEN && memcmp(buf, p, n) == 0);
        r = ls_cert_verify(&c, root_pk);
        FUZZ_CHECK(r == 0 || r == -EKEYREJECTED);
        r = ls_cert_verify(&c, epoch0_pk);
        FUZZ_CHECK(r == 0 || r == -EKEYREJECTED);
}

static void fuzz_revocation(const uint8_t *p, size_t n)
{
        LsRevocation rv;
        uint8_t *out;
        size_t len = 0;
        int r;

        if (ls_revocation_decode(&rv, p, n) < 0)
                return;
        FUZZ_CHECK(ls_revocation_size(&rv) == n);
        FUZZ_CHECK(rv.reason_len == 0 || ((const uint8_t *) rv.reason >= p &&
                                          (const uint8_t *) rv.reason + rv.reason_len <= p + n));
        /* Exactly sized, so an overlong encoding trips ASan. */
        out = malloc(n);
        FUZZ_CHECK(out);
        FUZZ_CHECK(ls_revocation_encode(&rv, out, n, &len) == 0);
        FUZZ_CHECK(len == n);
        if (memcmp(out, p, n) != 0) {
                fprintf(stderr, "fuzz-keys: revocation re-encoding differs from the input\n");
                abort();
        }
        FUZZ_CHECK(ls_revocation_encode(&rv, out, n - 1, &len) == -ENOBUFS);
        free(out);
        r = ls_revocation_verify(&rv, root_pk);
        FUZZ_CHECK(r == 0 || r == -EKEYREJECTED);
}

static void fuzz_pubkey(const uint8_t *p, size_t n)
{
        uint8_t pk[LS_PK_LEN], id[LS_KEY_ID_LEN];
        char fp[LS_FINGERPRINT_LEN], out[LS_PUBKEY_TEXT_MAX + 64], *comment;
        const uint8_t *nl;
        size_t clen;

        if (ls_pubkey_parse((const char *) p, n, pk, id) < 0)
                return;
        ls_fingerprint(fp, pk);
        FUZZ_CHECK(strlen(fp) == LS_FINGERPRINT_LEN - 1);

        /* Formatting the key with its comment gives the text back (the final LF is optional). */
        nl = memchr(p, '\n', n);
        FUZZ_CHECK(nl && (size_t) (nl - p) >= 19);
        clen = (size_t) (nl - p) - 19;
        if (memchr(p + 19, 0, clen))
                return; /* a comment with a NUL cannot be passed as a C string */
        comment = malloc(clen + 1);
        FUZZ_CHECK(comment);
        memcpy(comment, p + 19, clen);
        comment[clen] = 0;
        /* Comments above 1024 bytes are refused by the formatter (SPEC §10.1). */
        if (ls_pubkey_format(out, sizeof(out), pk, comment) == 0) {
                size_t olen = strlen(out);
                FUZZ_CHECK(olen == n || (olen == n + 1 && p[n - 1] != '\n'));
                FUZZ_CHECK(memcmp(out, p, n) == 0);
        }
        free(comment);
}

static void fuzz_seckey(const uint8_t *p, size_t n)
{
        static const uint8_t msg[] = "logseal fuzz";
        uint8_t sig[LS_SIG_LEN];
        LsKeyPair *k = NULL;
        LsSigner s;
        int r;

        /* Argon2id would make each input take a second: only unencrypted (kdf 0) files. */
        if (ls_seckey_needs_passphrase(p, n) == 1)
                return;
        r = ls_seckey_decode(&k, p, n, NULL);
        if (r < 0) {
                FUZZ_CHECK(!k);
                return;
        }
        FUZZ_CHECK(k && k->sk);
        ls_signer_from_keypair(&s, k);
        FUZZ_CHECK(ls_sign(&s, "logseal-fuzz\n", msg, sizeof(msg), sig) == 0);
        FUZZ_CHECK(ls_verify(k->pk, "logseal-fuzz\n", msg, sizeof(msg), sig) == 0);
        ls_keypair_free(k);
}

static void fuzz_batch_header(const uint8_t *p, size_t n)
{
        uint8_t buf[LS_BATCH_HEADER_LEN], hash[LS_HASH_LEN];
        char note[LS_NOTE_BODY_MAX];
        LsBatchHeader h;
        size_t off = 0;
        int r;

        r = ls_batch_header_decode(&h, p, n, &off);
        if (r < 0) {
                FUZZ_CHECK(off <= n);
                return;
        }
        ls_batch_header_encode(&h, buf);
        FUZZ_CHECK(n == LS_BATCH_HEADER_LEN && memcmp(buf, p, n) == 0);
        ls_batch_header_hash(&h, hash);
        FUZZ_CHECK(ls_batch_note_body(&h, note, sizeof(note)) > 0);
        r = ls_batch_header_verify(&h, epoch0_pk);
        FUZZ_CHECK(r == 0 || r == -EKEYREJECTED);
}

static void fuzz_archive_header(const uint8_t *p, size_t n)
{
        uint8_t *buf;
        LsArchiveHeader h;
        size_t off = 0;
        int r;

        r = ls_archive_header_decode(&h, p, n, &off);
        if (r < 0) {
                FUZZ_CHECK(off <= n);
                return;
        }
        FUZZ_CHECK(ls_archive_header_size(&h) == n);
        buf = malloc(LS_ARCHIVE_HEADER_MAX_LEN);
        FUZZ_CHECK(buf);
        FUZZ_CHECK(ls_archive_header_encode(&h, buf) == n);
        FUZZ_CHECK(memcmp(buf, p, n) == 0);
        free(buf);
        r = ls_archive_header_verify(&h, epoch0_pk);
        FUZZ_CHECK(r == 0 || r == -EKEYREJECTED);
}

static void fuzz_trailer(const uint8_t *p, size_t n)
{
        uint8_t buf[LS_TRAILER_LEN], hash[LS_HASH_LEN];
        LsTrailer t;
        size_t off = 0;
        int r;

        r = ls_trailer_decode(&t, p, n, &off);
        if (r < 0) {
                FUZZ_CHECK(off <= n);
                return;
        }
        ls_trailer_encode(&t, buf);
        FUZZ_CHECK(n == LS_TRAILER_LEN && memcmp(buf, p, n) == 0);
        ls_trailer_hash(&t, hash);
        r = ls_trailer_verify(&t, epoch0_pk);
        FUZZ_CHECK(r == 0 || r == -EKEYREJECTED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *p;
        size_t n;

        fuzz_init();
        init_keys();
        if (size < 1)
                return 0;
        p = data + 1;
        n = size - 1;

        switch (data[0] % FUZZ_KEYS_MAX) {
        case FUZZ_KEYS_CERT:
                fuzz_cert(p, n);
                break;
        case FUZZ_KEYS_REVOCATION:
                fuzz_revocation(p, n);
                break;
        case FUZZ_KEYS_PUBKEY:
                fuzz_pubkey(p, n);
                break;
        case FUZZ_KEYS_SECKEY:
                fuzz_seckey(p, n);
                break;
        case FUZZ_KEYS_BATCH_HEADER:
                fuzz_batch_header(p, n);
                break;
        case FUZZ_KEYS_ARCHIVE_HEADER:
                fuzz_archive_header(p, n);
                break;
        case FUZZ_KEYS_TRAILER:
                fuzz_trailer(p, n);
                break;
        }
        return 0;
}
