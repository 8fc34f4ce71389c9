/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle-later.c: an evidence.lsb of a later format (SPEC §14.1, §1.1), authenticated through
 * its envelope: its custody entry (the last, at custody_offset, in this format's entry layout)
 * is proven by the authentic checkpoint and commits to the header's bytes. Authentic: class
 * error, the disclosed records not judged. Anything else: tampered.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle-reader-internal.h"
#include "control.h"
#include "merkle.h"
#include "util.h"

#define SKIP_CHUNK 65536

/* A finding of class tampered: the later header does not authenticate. */
#define NOT_AUTHENTIC(off, seq, ...)                                                               \
        do {                                                                                       \
                char _why[160];                                                                    \
                snprintf(_why, sizeof(_why), __VA_ARGS__);                                         \
                TAMPERED(b, "bundle header", LS_BUNDLE_EVIDENCE, off, seq,                         \
                         "evidence.lsb has %s, unknown here, and its custody record does not "     \
                         "authenticate it: %s",                                                    \
                         what, _why);                                                              \
                goto out;                                                                          \
        } while (0)

void bundle_step_later(LsBundleReader *b, Stream *st)
{
        LsBundleSummary *s = b->s;
        const LsBundleHeader *h = &s->header;
        const uint64_t coff = b->later_custody_offset;
        uint8_t want[LS_HASH_LEN], leaf[LS_HASH_LEN], *chunk = NULL, *rec = NULL;
        const uint8_t *v;
        uint16_t vlen;
        uint64_t x;
        char what[48];
        LsBundleEntry e;
        LsRecord r;
        LsControl c;
        LsProof p;
        size_t roff = 0;
        ssize_t k;
        int code = -EBADMSG;

        if (b->later_version != LS_FORMAT_VERSION)
                snprintf(what, sizeof(what), "version %u", (unsigned) b->later_version);
        else
                snprintf(what, sizeof(what), "incompat_flags 0x%04x", (unsigned) b->later_flags);
        if (!s->checkpoint_verified || !s->chain_agrees) {
                code = -EKEYREJECTED;
                NOT_AUTHENTIC(0, LS_UNSET, "there is no authentic checkpoint of its chain and "
                                           "tree size to prove it");
        }
        if (coff > st->size || st->size - coff < LS_BUNDLE_ENTRY_FIXED_LEN)
                NOT_AUTHENTIC(56, LS_UNSET, "custody_offset %" PRIu64 " is not inside the file",
                              coff);
        chunk = malloc(SKIP_CHUNK);
        if (!chunk) {
                bundle_finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                               LS_UNSET, "out of memory");
                return;
        }
        while (st->off < coff) {
                k = bundle_stream_read(st, chunk, (size_t) MIN(coff - st->off, SKIP_CHUNK));
                if (k <= 0)
                        goto io;
        }
        k = bundle_stream_read(st, chunk, LS_BUNDLE_ENTRY_FIXED_LEN);
        if (k != LS_BUNDLE_ENTRY_FIXED_LEN)
                goto io;
        code = ls_bundle_entry_decode(&e, chunk, LS_BUNDLE_ENTRY_FIXED_LEN);
        if (code < 0)
                NOT_AUTHENTIC(coff, LS_UNSET, "its custody entry is %s", bundle_errname(code));
        code = -EBADMSG;
        if (st->size - coff - LS_BUNDLE_ENTRY_FIXED_LEN != (uint64_t) e.record_len + e.proof_len)
                NOT_AUTHENTIC(coff, e.seq, "the custody entry does not end the file");
        rec = malloc(e.record_len);
        if (!rec) {
                bundle_finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                               LS_UNSET, "out of memory");
                goto out;
        }
        if (bundle_stream_read(st, rec, e.record_len) != (ssize_t) e.record_len ||
            bundle_stream_read(st, b->proof, e.proof_len) != (ssize_t) e.proof_len)
                goto io;
        ls_leaf_hash(leaf, e.salt, rec, e.record_len);
        code = ls_record_decode(&r, rec, e.record_len, &roff);
        if (code < 0)
                NOT_AUTHENTIC(coff + LS_BUNDLE_ENTRY_FIXED_LEN + roff, e.seq,
                              "its custody record is %s", bundle_errname(code));
        code = -EBADMSG;
        if (r.seq != e.seq || e.seq != h->custody_seq)
                NOT_AUTHENTIC(coff + 8, e.seq, "the custody entry is record %" PRIu64
                                               ", the header names %" PRIu64,
                              r.seq, h->custody_seq);
        code = ls_proof_decode(&p, b->proof, e.proof_len);
        if (code == 0 && (p.kind != LS_PROOF_INCLUSION || p.a != e.seq || p.b != h->tree_size))
                code = -EBADMSG;
        if (code == 0)
                code = ls_verify_inclusion(e.seq, h->tree_size, leaf,
                                           (const uint8_t(*)[LS_HASH_LEN]) p.path, p.count,
                                           s->checkpoint.root);
        if (code < 0)
                NOT_AUTHENTIC(coff + LS_BUNDLE_ENTRY_FIXED_LEN + e.record_len, e.seq,
                              "its custody record is not leaf %" PRIu64
                              " of the checkpoint's tree (%s)",
                              e.seq, bundle_errname(code));
        code = -EBADMSG;
        if (r.type != LS_REC_CONTROL || ls_control_decode(&c, r.body, r.body_len, NULL) < 0 ||
            c.type != LS_CTL_CUSTODY || !ls_control_get_u64(&c, LS_TAG_ACTION, &x) ||
            x != LS_CUSTODY_EXPORT)
                NOT_AUTHENTIC(coff + LS_BUNDLE_ENTRY_FIXED_LEN, e.seq,
                              "record %" PRIu64 " is not the custody record of an export", e.seq);
        ls_bundle_header_later_hash(b->later_hdr, b->later_size, want);
        code = -EILSEQ;
        if (!ls_control_get(&c, LS_TAG_MANIFEST_HASH, &v, &vlen) || vlen != LS_HASH_LEN ||
            !ls_hash_equal(v, want))
                NOT_AUTHENTIC(0, e.seq, "its MANIFEST_HASH is not the hash of the header");
        s->have_custody = 1;
        s->custody_proof_ok = 1;
        s->custody_time_ns = r.time_ns;
        s->entries = 1;
        bundle_finding(b, LS_CLASS_IO, -EPROTONOSUPPORT, "later format", LS_BUNDLE_EVIDENCE, 0,
                       LS_UNSET, e.seq,
                       "evidence.lsb has %s, unknown here: written by a later format of "
                       "logseal, authentic (its custody record %" PRIu64
                       ", proven by the checkpoint, commits to the header); upgrade "
                       "logseal-verify: the disclosed records were not judged",
                       what, e.seq);
        goto out;
io:
        bundle_finding(b, LS_CLASS_TAMPERED, -ENODATA, "bundle header", LS_BUNDLE_EVIDENCE,
                       st->off, LS_UNSET, LS_UNSET,
                       "evidence.lsb has %s, unknown here, and ends before its custody entry",
                       what);
out:
        free(chunk);
        free(rec);
}
