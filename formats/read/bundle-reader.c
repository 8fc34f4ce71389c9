/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle-reader.c: the bundle verification of SPEC §14.3, in bounded memory: findings, the
 * order of the steps, step 2 (checkpoint and evidence header) and step 4 (its signature).
 * The other steps are in bundle-files.c, bundle-keys.c and bundle-entries.c
 * (bundle-reader-internal.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle-reader-internal.h"
#include "util.h"

/* ---- findings ---- */

static const char *file_label(LsBundleReader *b, const char *name)
{
        if (!name)
                return NULL;
        if (!b->label)
                return name;
        /* Out-of-band key files are named as given, not as files of the bundle. */
        for (size_t i = 0; i < b->nsrcs; i++)
                if (name == b->srcs[i].name)
                        return name;
        snprintf(b->fname, sizeof(b->fname), "%s/%s", b->label, name);
        return b->fname;
}

void bundle_finding(LsBundleReader *b, LsClass cls, int code, const char *check, const char *file,
                    uint64_t offset, uint64_t batch_no, uint64_t seq, const char *fmt, ...)
{
        LsFinding f = {
                .cls = cls,
                .code = code,
                .check = check,
                .file = file_label(b, file),
                .offset = offset,
                .archive_no = LS_UNSET,
                .batch_no = batch_no,
                .seq = seq,
        };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(f.detail, sizeof(f.detail), fmt, ap);
        va_end(ap);
        b->s->findings[cls]++;
        if (b->cb.finding)
                b->cb.finding(b->cb.userdata, &f);
}

const char *bundle_errname(int code)
{
        switch (-code) {
        case ENODATA:
                return "truncated";
        case E2BIG:
                return "a length above its maximum";
        case EBADMSG:
                return "malformed";
        case EPROTONOSUPPORT:
                return "unknown version or incompatible flag";
        case EILSEQ:
                return "hash mismatch";
        case EKEYREJECTED:
                return "signature or key rejected";
        default:
                return strerror(-code);
        }
}

int bundle_read_full(int fd, void *p, size_t n)
{
        size_t got = 0;

        while (got < n) {
                ssize_t k = read(fd, (uint8_t *) p + got, n - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                got += (size_t) k;
        }
        return (int) MIN(got, (size_t) INT32_MAX);
}

/* ---- step 2: checkpoint and evidence header ---- */

static void step_checkpoint(LsBundleReader *b)
{
        LsBundleSummary *s = b->s;
        struct stat st;
        size_t off = 0;
        int fd = bundle_open_required(b, F_CHECKPOINT, &st), code, r;

        if (fd < 0)
                return;
        if ((uint64_t) st.st_size > LS_MAX_CHECKPOINT_TEXT) {
                close(fd);
                code = -E2BIG;
                TAMPERED(b, "checkpoint", LS_BUNDLE_CHECKPOINT, LS_MAX_CHECKPOINT_TEXT, LS_UNSET,
                         "%" PRIu64 " bytes, more than a checkpoint's limit of %u",
                         (uint64_t) st.st_size, LS_MAX_CHECKPOINT_TEXT);
                return;
        }
        r = bundle_read_full(fd, b->cp_text, (size_t) st.st_size);
        close(fd);
        if (r < 0 || (size_t) r != (size_t) st.st_size) {
                bundle_finding(b, LS_CLASS_IO, r < 0 ? r : -EIO, "read", LS_BUNDLE_CHECKPOINT,
                               LS_UNSET, LS_UNSET, LS_UNSET, "read error: %s",
                               r < 0 ? strerror(-r) : "short read");
                return;
        }
        b->cp_len = (size_t) r;
        b->cp_text[b->cp_len] = 0;
        code = ls_checkpoint_parse(&s->checkpoint, b->cp_text, b->cp_len, &off);
        if (code < 0) {
                TAMPERED(b, "checkpoint", LS_BUNDLE_CHECKPOINT, off, LS_UNSET,
                         "not a valid signed checkpoint (SPEC §7.2): %s at byte %zu",
                         bundle_errname(code), off);
                return;
        }
        if (!s->checkpoint.has_batch) {
                code = -EBADMSG;
                TAMPERED(b, "checkpoint", LS_BUNDLE_CHECKPOINT, 0, LS_UNSET,
                         "the checkpoint has no logseal-batch-v1 line (SPEC §14)");
                return;
        }
        s->checkpoint_parsed = 1;
}

static int stream_fill(Stream *st)
{
        for (;;) {
                ssize_t k = read(st->fd, st->buf, IOBUF_LEN);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                st->pos = 0;
                st->len = (size_t) k;
                return k > 0;
        }
}

/* Reads exactly n bytes: n, fewer at the end of the file, or -errno. */
ssize_t bundle_stream_read(Stream *st, void *dst, size_t n)
{
        size_t got = 0;

        while (got < n) {
                if (st->pos == st->len) {
                        int r = stream_fill(st);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                break;
                }
                size_t k = MIN(n - got, st->len - st->pos);
                memcpy((uint8_t *) dst + got, st->buf + st->pos, k);
                st->pos += k;
                st->off += k;
                got += k;
        }
        return (ssize_t) got;
}

static void step_header(LsBundleReader *b, Stream *st)
{
        LsBundleSummary *s = b->s;
        uint8_t hdr[LS_BUNDLE_HEADER_LEN];
        ssize_t k;
        int code;

        k = bundle_stream_read(st, hdr, sizeof(hdr));
        if (k < 0) {
                bundle_finding(b, LS_CLASS_IO, (int) k, "read", LS_BUNDLE_EVIDENCE, 0, LS_UNSET,
                               LS_UNSET, "read error: %s", strerror((int) -k));
                return;
        }
        code = ls_bundle_header_decode(&s->header, hdr, (size_t) k);
        if (code == -EPROTONOSUPPORT &&
            ls_bundle_header_decode_later(&s->header, &b->later_size, &b->later_custody_offset,
                                          hdr, (size_t) k) == 0) {
                /* a later format (SPEC §14.1, §1.1): authenticated by its custody record */
                memcpy(b->later_hdr, hdr, LS_BUNDLE_HEADER_LEN);
                k = bundle_stream_read(st, b->later_hdr + LS_BUNDLE_HEADER_LEN,
                                       b->later_size - LS_BUNDLE_HEADER_LEN);
                if (k == b->later_size - LS_BUNDLE_HEADER_LEN) {
                        b->later = 1;
                        b->later_version = ls_get16(hdr + 8);
                        b->later_flags = ls_get16(hdr + 12);
                        s->header_ok = 1;
                        return;
                }
                code = k < 0 ? (int) k : -ENODATA;
        }
        if (code < 0) {
                TAMPERED(b, "bundle header", LS_BUNDLE_EVIDENCE, 0, LS_UNSET,
                         "the evidence.lsb header (SPEC §14.1) is %s%s", bundle_errname(code),
                         code == -ENODATA ? ""
                         : code == -E2BIG ? " (record_count)"
                                          : " (magic, size, reserved fields, or sequence numbers "
                                            "outside the tree)");
                return;
        }
        s->header_ok = 1;
        if (ls_get16(hdr + 14) != 0)
                bundle_finding(b, LS_CLASS_NOTE, 0, "bundle header", LS_BUNDLE_EVIDENCE, 14,
                               LS_UNSET, LS_UNSET, "compat_flags 0x%04x set; ignored (SPEC §1)",
                               ls_get16(hdr + 14));
}

static void step_agree(LsBundleReader *b)
{
        LsBundleSummary *s = b->s;
        char h1[2 * LS_CHAIN_ID_LEN + 1], h2[2 * LS_CHAIN_ID_LEN + 1];
        int code = -EBADMSG, ok = 1;

        if (s->checkpoint_parsed) {
                memcpy(b->chain_id, s->checkpoint.chain_id, LS_CHAIN_ID_LEN);
                b->have_chain = 1;
                ls_trust_set_chain(ls_chain_verifier_trust(b->v), b->chain_id);
        } else if (s->header_ok) {
                memcpy(b->chain_id, s->header.chain_id, LS_CHAIN_ID_LEN);
                b->have_chain = 1;
                ls_trust_set_chain(ls_chain_verifier_trust(b->v), b->chain_id);
        }
        if (!s->checkpoint_parsed || !s->header_ok)
                return;
        if (memcmp(s->header.chain_id, s->checkpoint.chain_id, LS_CHAIN_ID_LEN) != 0) {
                ls_hex(h1, s->header.chain_id, LS_CHAIN_ID_LEN);
                ls_hex(h2, s->checkpoint.chain_id, LS_CHAIN_ID_LEN);
                TAMPERED(b, "chain id", LS_BUNDLE_EVIDENCE, 16, LS_UNSET,
                         "evidence.lsb names chain %s, the checkpoint chain %s", h1, h2);
                ok = 0;
        }
        if (s->header.tree_size != s->checkpoint.tree_size) {
                TAMPERED(b, "tree size", LS_BUNDLE_EVIDENCE, 32, LS_UNSET,
                         "evidence.lsb says tree size %" PRIu64 ", the checkpoint %" PRIu64,
                         s->header.tree_size, s->checkpoint.tree_size);
                ok = 0;
        }
        s->chain_agrees = ok;
}

/* ---- step 4: the checkpoint's signature ---- */

static void step_signature(LsBundleReader *b)
{
        LsBundleSummary *s = b->s;
        const LsCheckpoint *cp = &s->checkpoint;
        LsTrustDecision d;
        char id[2 * LS_KEY_ID_LEN + 1];

        if (!s->checkpoint_parsed)
                return;
        /* SPEC §9.3: the one trust decision for checkpoints, as in every other mode. */
        ls_trust_check_checkpoint(ls_chain_verifier_trust(b->v), cp, b->cp_text, &d);
        if (d.key) {
                s->have_signer = 1;
                s->signer = *d.key;
                ls_hex(id, d.key->key_id, LS_KEY_ID_LEN);
        }
        switch (d.result) {
        case LS_TRUST_OK:
                s->checkpoint_verified = 1;
                s->checkpoint_unbound = d.unbound;
                s->signer_epoch_ended = ls_trust_epoch_ended(ls_chain_verifier_trust(b->v), d.key);
                if (d.unbound)
                        bundle_finding(
                                b, LS_CLASS_PARTIAL, 0, "epoch close", LS_BUNDLE_CHECKPOINT,
                                LS_UNSET, cp->batch_no, LS_UNSET,
                                "the checkpoint was signed by the key of epoch %" PRIu64
                                ", which has ended, and nothing you supplied proves it was made "
                                "before the end (%s): a holder of that erased key could have "
                                "made it",
                                d.key->epoch,
                                ls_trust_close(ls_chain_verifier_trust(b->v), d.key->chain_id,
                                               d.key->epoch)
                                        ? "it is not the tree head the epoch's signed close names"
                                : (d.key->cert_flags & LS_CERT_F_CLOSED)
                                        ? "the epoch's signed close is missing"
                                        : "a format-1 epoch has no signed close");
                break;
        case LS_TRUST_REVOKED:
                s->checkpoint_verified = 1;
                bundle_finding(
                        b, LS_CLASS_REVOKED, -EKEYREJECTED, "revoked", LS_BUNDLE_CHECKPOINT,
                        LS_UNSET, cp->batch_no, LS_UNSET,
                        "signed by key %s (epoch %" PRIu64 "), which a root revocation covers "
                        "(a checkpoint carries no batch time: a time-based revocation is taken "
                        "to cover it)",
                        id, d.key->epoch);
                break;
        case LS_TRUST_UNKNOWN_KEY:
                bundle_finding(
                        b, LS_CLASS_TAMPERED, -EKEYREJECTED, "checkpoint key", LS_BUNDLE_CHECKPOINT,
                        LS_UNSET, cp->batch_no, LS_UNSET,
                        "not signed by any key certified from the root key for this chain "
                        "(keys.lsk must hold the certificates from the root to the signing key)");
                break;
        case LS_TRUST_BAD_SIGNATURE:
                bundle_finding(b, LS_CLASS_TAMPERED, -EKEYREJECTED, "checkpoint signature",
                               LS_BUNDLE_CHECKPOINT, LS_UNSET, cp->batch_no, LS_UNSET,
                               "the signature line of key %s does not verify over the checkpoint",
                               id);
                break;
        case LS_TRUST_DENIED:
        case LS_TRUST_AFTER_CLOSE:
        case LS_TRUST_NOT_EVIDENCE:
                bundle_finding(b, LS_CLASS_TAMPERED, -EKEYREJECTED,
                               d.result == LS_TRUST_AFTER_CLOSE ? "epoch close" : "checkpoint key",
                               LS_BUNDLE_CHECKPOINT, LS_UNSET, cp->batch_no, LS_UNSET,
                               "signed by key %s (epoch %" PRIu64
                               "), which may not sign batch %" PRIu64 ": %s",
                               id, d.key ? d.key->epoch : 0, cp->batch_no, d.why);
                break;
        }
}

/* ---- the reader ---- */

int ls_bundle_reader_new(LsBundleReader **ret, const uint8_t root_pk[LS_PK_LEN],
                         const LsBundleCallbacks *cb)
{
        LsBundleReader *b = calloc(1, sizeof(*b));
        int r;

        if (!b)
                return -ENOMEM;
        if (cb)
                b->cb = *cb;
        b->iobuf = malloc(IOBUF_LEN);
        if (!b->iobuf) {
                free(b);
                return -ENOMEM;
        }
        r = ls_chain_verifier_new(&b->v, root_pk, NULL);
        if (r < 0) {
                ls_bundle_reader_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

LsBundleReader *ls_bundle_reader_free(LsBundleReader *b)
{
        if (!b)
                return NULL;
        ls_bundle_reader_set_jobs(b, 1);
        ls_chain_verifier_free(b->v);
        for (size_t i = 0; i < b->nsrcs; i++) {
                free(b->srcs[i].name);
                free(b->srcs[i].p);
        }
        free(b->man);
        free(b->iobuf);
        free(b->rec);
        free(b);
        return NULL;
}

int ls_bundle_reader_add_keys(LsBundleReader *b, const uint8_t *p, size_t n, const char *source)
{
        KeySource *k;

        if (b->nsrcs == MAX_KEY_SOURCES)
                return -E2BIG;
        if (n > LS_BUNDLE_KEYS_MAX)
                return -E2BIG;
        k = &b->srcs[b->nsrcs];
        k->name = strdup(source ? source : "key history");
        k->p = malloc(n ? n : 1);
        if (!k->name || !k->p) {
                free(k->name);
                free(k->p);
                return -ENOMEM;
        }
        memcpy(k->p, p, n);
        k->n = n;
        b->nsrcs++;
        return 0;
}

LsTrust *ls_bundle_reader_trust(LsBundleReader *b)
{
        return ls_chain_verifier_trust(b->v);
}

size_t ls_bundle_reader_keys(const LsBundleReader *b, const LsKeyInfo **ret)
{
        return ls_chain_verifier_keys(b->v, ret);
}

LsClass ls_bundle_reader_verify(LsBundleReader *b, int dirfd, const char *label,
                                LsBundleSummary *ret)
{
        LsBundleSummary *s = ret;
        Stream st = {.fd = -1};
        struct stat sst;

        memset(s, 0, sizeof(*s));
        s->custody_seq = LS_UNSET;
        s->custody_time_ns = LS_UNSET;
        b->s = s;
        b->dirfd = dirfd;
        b->label = label;
        if (b->used) {
                bundle_finding(b, LS_CLASS_IO, -EINVAL, "usage", NULL, LS_UNSET, LS_UNSET, LS_UNSET,
                               "a bundle reader verifies one bundle");
                return s->verdict = LS_CLASS_IO;
        }
        b->used = 1;

        /* 1. the manifest */
        bundle_step_manifest(b);

        /* 2. checkpoint and evidence header agree */
        step_checkpoint(b);
        st.fd = bundle_open_required(b, F_EVIDENCE, &sst);
        if (st.fd >= 0) {
                st.size = (uint64_t) sst.st_size;
                st.buf = b->iobuf;
                step_header(b, &st);
        }
        step_agree(b);
        if (s->header_ok)
                s->custody_seq = s->header.custody_seq;

        /* 3. key material, 4. the checkpoint's signature */
        bundle_step_keys(b);
        step_signature(b);

        /* 5. every entry, 6. the custody record */
        if (st.fd >= 0 && s->header_ok && b->later)
                bundle_step_later(b, &st);
        else if (st.fd >= 0 && s->header_ok)
                bundle_step_entries(b, &st);
        if (st.fd >= 0)
                close(st.fd);

        s->verdict = LS_CLASS_INTACT;
        for (int k = LS_CLASS_INTACT; k < LS_CLASS_NOTE; k++)
                if (s->findings[k] && ls_class_rank(k) > ls_class_rank(s->verdict))
                        s->verdict = k;
        b->s = NULL;
        return s->verdict;
}
