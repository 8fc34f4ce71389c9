/* SPDX-License-Identifier: Apache-2.0 */
/* chain-archive.c: an archive read and verified: header, batches in flight, seal (SPEC §8) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive-reader.h"
#include "chain-verify-internal.h"
#include "hash.h"
#include "util.h"

/* ---- archive header and trailer ---- */

void chain_verify_archive_header_sig(LsChainVerifier *v)
{
        const LsArchiveHeader *h = &v->a.hdr;
        LsKeyInfo *key = ls_trust_key(v->trust, h->key_id);
        LsTrustDecision d;

        if (!key)
                return; /* retried at the first batch, reported at the end of the archive */
        v->a.header_verified = -1;
        if (ls_archive_header_verify(h, key->pk) < 0) {
                chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "archive header signature",
                             v->a.offset_header, h->first_batch_no, h->first_seq,
                             "archive header signature does not verify");
                v->a.damaged = 1;
                return;
        }
        /*
         * The key must be one that may sign the archive's first batch. A revocation is judged
         * on the batches (SPEC §9.3), not on the header that precedes them.
         */
        ls_trust_may_sign(v->trust, h->key_id, h->chain_id, h->first_batch_no, h->created_ns, &d);
        if (h->epoch != key->epoch || (d.result != LS_TRUST_OK && d.result != LS_TRUST_REVOKED)) {
                chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "archive header key",
                             v->a.offset_header, h->first_batch_no, h->first_seq,
                             "archive header signed by a key not valid for batch %" PRIu64 ": %s",
                             h->first_batch_no, d.why ? d.why : "another epoch");
                v->a.damaged = 1;
                return;
        }
        v->a.header_verified = 1;
        /* Resume Merkle checking from the signed tree state when ours was lost. */
        if (!v->tree_valid && !v->have_prev_batch) {
                v->tree.size = h->first_seq;
                v->tree.n = h->peak_count;
                memcpy(v->tree.peaks, h->peaks, (size_t) h->peak_count * LS_HASH_LEN);
                v->tree_valid = 1;
        } else if (!v->tree_valid && v->next_seq == h->first_seq) {
                v->tree.size = h->first_seq;
                v->tree.n = h->peak_count;
                memcpy(v->tree.peaks, h->peaks, (size_t) h->peak_count * LS_HASH_LEN);
                v->tree_valid = 1;
        }
}

static void process_header(LsChainVerifier *v, const LsReadItem *item)
{
        const LsArchiveHeader *h = &item->header;

        v->a.have_header = 1;
        v->a.hdr = *h;
        v->a.offset_header = item->offset;
        v->a.sum.header_ok = 1;
        v->a.sum.archive_no = h->archive_no;
        if (!v->have_chain) {
                memcpy(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN);
                v->have_chain = 1;
                ls_trust_set_chain(v->trust, h->chain_id);
        } else if (memcmp(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN) != 0) {
                chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "chain id", item->offset + 8 + 16,
                             h->first_batch_no, h->first_seq,
                             "archive belongs to another chain (spliced in)");
                v->a.damaged = 1;
        }
        if (!v->first_archive_seen) {
                v->first_archive_seen = 1;
                v->first_archive_no = h->archive_no;
                if (h->archive_no == 0)
                        v->tree_valid = 1;
                else
                        v->tree_valid = 0; /* taken from the peaks once the header verifies */
        }
        if (v->have_prev_archive) {
                if (h->archive_no < v->next_archive_no) {
                        chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive order",
                                     item->offset + 8 + 32, h->first_batch_no, h->first_seq,
                                     "archive %" PRIu64
                                     " repeated or out of order (expected %" PRIu64 ")",
                                     h->archive_no, v->next_archive_no);
                        v->a.damaged = 1;
                } else if (h->archive_no > v->next_archive_no) {
                        chain_report(v, LS_CLASS_GAP, -EBADMSG, "archive gap", item->offset,
                                     h->first_batch_no, h->first_seq,
                                     "archives %" PRIu64 "..%" PRIu64 " are missing",
                                     v->next_archive_no, h->archive_no - 1);
                        /* The batch links across the gap cannot be checked. */
                        v->links_known = 0;
                        v->last_time = LS_UNSET;
                        v->tree_valid = 0;
                } else if (!v->prev_archive_sealed) {
                        chain_report(
                                v, LS_CLASS_TAMPERED, -EBADMSG, "archive seal", item->offset,
                                h->first_batch_no, h->first_seq,
                                "previous archive has no valid seal trailer but is followed by "
                                "this one (truncated or damaged)");
                } else if (!ls_hash_equal(h->prev_seal_hash, v->prev_seal_hash)) {
                        chain_report(v, LS_CLASS_TAMPERED, -EILSEQ, "archive chain",
                                     item->offset + 8 + 64, h->first_batch_no, h->first_seq,
                                     "previous-seal hash does not match archive %" PRIu64,
                                     h->archive_no - 1);
                        v->a.damaged = 1;
                }
        }
        if (v->have_prev_batch && v->links_known &&
            (h->first_batch_no != v->next_batch_no || h->first_seq != v->next_seq)) {
                chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive start", item->offset + 8 + 40,
                             h->first_batch_no, h->first_seq,
                             "archive starts at batch %" PRIu64 " record %" PRIu64
                             ", expected batch %" PRIu64 " record %" PRIu64,
                             h->first_batch_no, h->first_seq, v->next_batch_no, v->next_seq);
                v->a.damaged = 1;
        }
        if (v->tree_valid && v->tree.size == h->first_seq &&
            (v->tree.n != h->peak_count ||
             memcmp(v->tree.peaks, h->peaks, (size_t) h->peak_count * LS_HASH_LEN) != 0)) {
                chain_report(v, LS_CLASS_TAMPERED, -EILSEQ, "archive tree state",
                             item->offset + 8 + LS_ARCHIVE_HEADER_FIXED_LEN, h->first_batch_no,
                             h->first_seq,
                             "tree state in the archive header does not match the chain");
                v->a.damaged = 1;
        }
        chain_verify_archive_header_sig(v);
}

static void process_trailer(LsChainVerifier *v, const LsReadItem *item)
{
        const LsTrailer *t = &item->trailer;
        const uint64_t off = item->offset;
        /* the archive's last batch is the last one read, whatever the seal claims */
        uint64_t last = v->a.have_last_no ? v->a.last_no : t->first_batch_no + t->batch_count - 1;
        LsKeyInfo *key = ls_trust_key(v->trust, t->key_id);
        LsTrustDecision d1 = {.result = LS_TRUST_UNKNOWN_KEY}, d2 = d1;
        int ok = 1;

        if (!ls_hash_equal(t->content_hash, item->content_hash)) {
                chain_report(v, LS_CLASS_TAMPERED, -EILSEQ, "seal content hash", off + 8 + 168,
                             last, LS_UNSET, "archive bytes before the seal were modified");
                ok = 0;
        }
        if (!key && ok && (chain_later_unknown_ok(v, last) || chain_later_unknown_ok(v, last + 1))) {
                /* its key may be certified where this verifier could not read (SPEC §1.1) */
                v->st.later_unjudged++;
                v->a.sum.sealed = 1;
                ls_trailer_hash(t, v->prev_seal_hash);
                return;
        }
        if (!key || ls_trailer_verify(t, key->pk) < 0) {
                chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "seal signature", off + 8 + 216,
                             last, LS_UNSET,
                             key ? "seal signature does not verify" : "seal key unknown");
                ok = 0;
        } else if ((ls_trust_may_sign(v->trust, t->key_id, t->chain_id, last, t->sealed_ns, &d1),
                    ls_trust_may_sign(v->trust, t->key_id, t->chain_id, last + 1, t->sealed_ns, &d2),
                    t->epoch != key->epoch ||
                            (d1.result != LS_TRUST_OK && d1.result != LS_TRUST_REVOKED &&
                             d2.result != LS_TRUST_OK && d2.result != LS_TRUST_REVOKED))) {
                chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "seal key", off + 8 + 200, last,
                             LS_UNSET, "seal signed by a key not valid at the end of this archive");
                ok = 0;
        }
        if (ok && (!v->a.have_header || memcmp(t->chain_id, v->a.hdr.chain_id, 16) != 0 ||
                   t->archive_no != v->a.hdr.archive_no ||
                   t->first_batch_no != v->a.hdr.first_batch_no ||
                   t->first_seq != v->a.hdr.first_seq)) {
                chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "seal fields", off + 8 + 16, last,
                             LS_UNSET, "seal does not describe this archive");
                ok = 0;
        }
        /* With a later format in the archive the batches were not all read: the seal's
         * signature over content_hash covers them (SPEC §1.1). */
        if (ok && !v->a.damaged && !v->a.later) {
                uint8_t lh[LS_HASH_LEN];
                if (v->a.have_last)
                        ls_batch_header_hash(&v->a.last, lh);
                if (!v->a.have_last || t->batch_count != v->a.batches ||
                    t->record_count != v->a.records || t->tree_size != v->a.last.tree_size ||
                    !ls_hash_equal(t->tree_root, v->a.last.tree_root) ||
                    !ls_hash_equal(t->last_header_hash, lh) || t->min_time_ns != v->a.min_time ||
                    t->max_time_ns != v->a.max_time) {
                        chain_report(
                                v, LS_CLASS_TAMPERED, -EBADMSG, "seal counts", off + 8 + 48, last,
                                LS_UNSET,
                                "seal counts, times or last batch do not match the batches read "
                                "(batches removed or added)");
                        ok = 0;
                }
        }
        if (ok) {
                v->a.sum.sealed = 1;
                ls_trailer_hash(t, v->prev_seal_hash);
        }
}

/* ---- structures of a later format (SPEC §1.1) ---- */

static const char *later_name(char magic)
{
        switch (magic) {
        case LS_MAGIC_ARCHIVE:
                return "archive header";
        case LS_MAGIC_BATCH:
                return "batch header";
        case LS_MAGIC_TRAILER:
                return "seal trailer";
        case LS_MAGIC_DICT:
                return "dictionary";
        }
        return "structure";
}

/* "version 2" or "incompat_flags 0x8000": what this verifier does not know. */
static void later_what(const LsReadItem *it, char *out, size_t cap)
{
        if (it->later_version != LS_FORMAT_VERSION)
                snprintf(out, cap, "version %u", (unsigned) it->later_version);
        else
                snprintf(out, cap, "incompat_flags 0x%04x", (unsigned) it->later_flags);
}

/*
 * The envelope of a structure of a later format, authenticated as SPEC §1.1 says: 1 when it
 * is authentic (signed by a key that may sign it, and where it belongs in the chain); 2 when
 * it is in an archive of a later format (v->a.later) and signed by a key this verifier does
 * not know (certified, as likely as not, in a batch it cannot read): not judged; else 0 with
 * a finding of class tampered made.
 */
static int later_authentic(LsChainVerifier *v, const LsReadItem *it, const char *what)
{
        const uint64_t off = it->offset;
        LsTrustDecision d = {.result = LS_TRUST_UNKNOWN_KEY};
        const uint8_t *key_id;
        LsKeyInfo *key;
        char hex[2 * LS_KEY_ID_LEN + 1];

        switch (it->later_magic) {
        case LS_MAGIC_BATCH: {
                const LsBatchHeader *h = &it->batch;
                /* its payload is the one its header signs, whoever signed it (envelope) */
                if (!ls_hash_equal(it->later_payload_hash, h->payload_hash)) {
                        chain_report(v, LS_CLASS_TAMPERED, -EILSEQ, "payload hash",
                                     off + 8 + LS_BATCH_HEADER_LEN, h->batch_no, h->first_seq,
                                     "compressed payload does not match the digest its batch "
                                     "header of a later format (%s) signs",
                                     what);
                        return 0;
                }
                ls_trust_check_batch_hash(v->trust, h, it->later_hash, &d);
                if (d.result == LS_TRUST_UNKNOWN_KEY && chain_later_unknown_ok(v, h->batch_no))
                        return 2; /* certified in what this verifier cannot read */
                if (d.result == LS_TRUST_UNKNOWN_KEY) {
                        ls_hex(hex, h->key_id, LS_KEY_ID_LEN);
                        chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "signing key", off,
                                     h->batch_no, h->first_seq,
                                     "batch header of a later format (%s) signed by key %s, which "
                                     "is not certified from the root key for this chain: not "
                                     "authentic (give the appliance's key history with --keys "
                                     "if it certifies that key)",
                                     what, hex);
                        return 0;
                }
                if (d.result == LS_TRUST_BAD_SIGNATURE) {
                        chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "batch signature", off,
                                     h->batch_no, h->first_seq,
                                     "batch header of a later format (%s): signature does not "
                                     "verify",
                                     what);
                        return 0;
                }
                if (d.result != LS_TRUST_OK && d.result != LS_TRUST_REVOKED) {
                        chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED,
                                     d.result == LS_TRUST_AFTER_CLOSE ? "epoch close"
                                                                      : "key validity",
                                     off, h->batch_no, h->first_seq,
                                     "batch header of a later format (%s) signed by the key of "
                                     "epoch %" PRIu64 ": %s",
                                     what, d.key ? d.key->epoch : h->epoch, d.why);
                        return 0;
                }
                if (v->have_chain && memcmp(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN) != 0) {
                        chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "chain id", off, h->batch_no,
                                     h->first_seq, "batch belongs to another chain (spliced in)");
                        return 0;
                }
                if (v->a.have_header && h->archive_no != v->a.hdr.archive_no) {
                        chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive number",
                                     off + 8 + 32, h->batch_no, h->first_seq,
                                     "batch says archive %" PRIu64 ", file header says %" PRIu64,
                                     h->archive_no, v->a.hdr.archive_no);
                        return 0;
                }
                if (v->have_prev_batch && v->links_known &&
                    (h->batch_no != v->next_batch_no || h->first_seq != v->next_seq ||
                     !ls_hash_equal(h->prev_header_hash, v->prev_header_hash))) {
                        chain_report(v, LS_CLASS_TAMPERED, -EILSEQ, "batch chain", off + 8 + 40,
                                     h->batch_no, h->first_seq,
                                     "batch header of a later format (%s) does not continue the "
                                     "chain after batch %" PRIu64,
                                     what, v->next_batch_no - 1);
                        return 0;
                }
                return 1;
        }
        case LS_MAGIC_ARCHIVE:
        case LS_MAGIC_TRAILER: {
                int hdr = it->later_magic == LS_MAGIC_ARCHIVE;
                const LsTrailer *t = &it->trailer;
                const LsArchiveHeader *h = &it->header;
                uint64_t b = hdr ? h->first_batch_no
                                 : v->a.have_last_no ? v->a.last_no
                                                     : t->first_batch_no + t->batch_count - 1;
                const uint8_t *chain_id = hdr ? h->chain_id : t->chain_id;
                uint64_t epoch = hdr ? h->epoch : t->epoch;
                LsTrustDecision d2 = d;

                key_id = hdr ? h->key_id : t->key_id;
                key = ls_trust_key(v->trust, key_id);
                /* certified, as likely as not, in what this verifier cannot read: not judged,
                 * but its links are (below) */
                int unjudged = !key && hdr && chain_later_unknown_ok(v, b);
                if (!key && !hdr &&
                    (chain_later_unknown_ok(v, b) || chain_later_unknown_ok(v, b + 1)) &&
                    ls_hash_equal(t->content_hash, it->content_hash))
                        return 2;
                if (!key && !unjudged) {
                        ls_hex(hex, key_id, LS_KEY_ID_LEN);
                        chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED,
                                     hdr ? "archive header signature" : "seal signature", off,
                                     b, LS_UNSET,
                                     "%s of a later format (%s) signed by key %s, which is not "
                                     "certified from the root key for this chain: not authentic "
                                     "(give the appliance's key history with --keys if it "
                                     "certifies that key)",
                                     hdr ? "archive header" : "seal trailer", what, hex);
                        return 0;
                }
                if (!unjudged &&
                    (hdr ? ls_archive_header_verify_raw(it->raw, it->raw_len, key->pk)
                         : ls_trailer_verify_raw(it->raw, it->raw_len, key->pk)) < 0) {
                        chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED,
                                     hdr ? "archive header signature" : "seal signature", off,
                                     b, LS_UNSET, "%s of a later format (%s): signature does not "
                                     "verify",
                                     hdr ? "archive header" : "seal trailer", what);
                        return 0;
                }
                if (!unjudged)
                        ls_trust_may_sign(v->trust, key_id, chain_id, b,
                                          hdr ? h->created_ns : t->sealed_ns, &d);
                if (!hdr)
                        ls_trust_may_sign(v->trust, key_id, chain_id, b + 1, t->sealed_ns, &d2);
                if (!unjudged && (epoch != key->epoch ||
                    (d.result != LS_TRUST_OK && d.result != LS_TRUST_REVOKED &&
                     (hdr || (d2.result != LS_TRUST_OK && d2.result != LS_TRUST_REVOKED))))) {
                        chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED,
                                     hdr ? "archive header key" : "seal key", off, b, LS_UNSET,
                                     "%s of a later format (%s) signed by a key not valid for "
                                     "batch %" PRIu64 ": %s",
                                     hdr ? "archive header" : "seal trailer", what, b,
                                     d.why ? d.why : "another epoch");
                        return 0;
                }
                if (v->have_chain && memcmp(v->chain_id, chain_id, LS_CHAIN_ID_LEN) != 0) {
                        chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "chain id", off + 8 + 16, b,
                                     LS_UNSET, "%s belongs to another chain (spliced in)",
                                     hdr ? "archive" : "seal");
                        return 0;
                }
                if (hdr && v->have_prev_archive && h->archive_no > v->next_archive_no) {
                        chain_report(v, LS_CLASS_GAP, -EBADMSG, "archive gap", off, b,
                                     h->first_seq, "archives %" PRIu64 "..%" PRIu64 " are missing",
                                     v->next_archive_no, h->archive_no - 1);
                        v->links_known = 0;
                } else if (hdr && v->have_prev_archive &&
                    (h->archive_no != v->next_archive_no || !v->prev_archive_sealed ||
                     !ls_hash_equal(h->prev_seal_hash, v->prev_seal_hash) ||
                     (v->have_prev_batch && v->links_known &&
                      (h->first_batch_no != v->next_batch_no || h->first_seq != v->next_seq)))) {
                        chain_report(v, LS_CLASS_TAMPERED, -EILSEQ, "archive chain", off + 8 + 32,
                                     b, h->first_seq,
                                     "archive header of a later format (%s) does not continue the "
                                     "chain after archive %" PRIu64,
                                     what, v->next_archive_no - 1);
                        return 0;
                }
                if (!hdr && (!ls_hash_equal(t->content_hash, it->content_hash) ||
                             !v->a.have_header || t->archive_no != v->a.hdr.archive_no ||
                             t->first_batch_no != v->a.hdr.first_batch_no)) {
                        chain_report(v, LS_CLASS_TAMPERED, -EILSEQ, "seal content hash",
                                     off + 8 + 168, b, LS_UNSET,
                                     "seal trailer of a later format (%s) does not seal the bytes "
                                     "of this archive",
                                     what);
                        return 0;
                }
                return unjudged ? 2 : 1;
        }
        case LS_MAGIC_DICT:
                /* Its hash is the signed header's dict_hash (the reader checked it). */
                if (v->a.header_verified != 1) {
                        chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "dictionary", off,
                                     v->a.have_header ? v->a.hdr.first_batch_no : LS_UNSET,
                                     LS_UNSET,
                                     "dictionary of a later format (%s) in an archive whose "
                                     "header is not authentic",
                                     what);
                        return 0;
                }
                return 1;
        }
        return 0;
}

/*
 * A LATER item (SPEC §1.1). Authentic: one finding of class error per archive (the first
 * structure of a later format in it), and the chain goes on through its envelope (batch
 * numbers, header hashes, seals), so that what follows is still judged; its content is not.
 * Not authentic: tampered (later_authentic reported it).
 */
static void process_later(LsChainVerifier *v, const LsReadItem *it)
{
        char what[64], hex[2 * LS_KEY_ID_LEN + 1] = "";
        uint64_t b = LS_UNSET, seq = LS_UNSET;
        const uint8_t *key_id = NULL;

        v->a.sum.bytes_unverified += it->length;
        if (it->later_magic == '?')
                return; /* a frame of a later-format archive: not judged */
        later_what(it, what, sizeof(what));
        if (it->later_magic == LS_MAGIC_ARCHIVE) {
                v->a.sum.archive_no = it->header.archive_no;
                b = it->header.first_batch_no;
                seq = it->header.first_seq;
                key_id = it->header.key_id;
        } else if (it->later_magic == LS_MAGIC_BATCH) {
                b = it->batch.batch_no;
                seq = it->batch.first_seq;
                key_id = it->batch.key_id;
        } else if (it->later_magic == LS_MAGIC_TRAILER) {
                b = it->trailer.first_batch_no + it->trailer.batch_count - 1;
                key_id = it->trailer.key_id;
        } else if (v->a.have_header) {
                b = v->a.hdr.first_batch_no;
                key_id = v->a.hdr.key_id;
        }
        if (it->later_magic == LS_MAGIC_BATCH) {
                v->a.batches++;
                v->a.have_last_no = 1;
                v->a.last_no = it->batch.batch_no;
        }
        int auth = later_authentic(v, it, what);
        if (auth == 2) {
                /* Not judged: its links carry on (the next structure must continue it). */
                v->st.later_unjudged++;
                if (it->later_magic == LS_MAGIC_BATCH) {
                        if (v->cb.envelope)
                                v->cb.envelope(v->cb.userdata, &it->batch, it->later_hash);
                        v->next_batch_no = it->batch.batch_no + 1;
                        v->next_seq = it->batch.tree_size;
                        memcpy(v->prev_header_hash, it->later_hash, LS_HASH_LEN);
                        v->have_prev_batch = 1;
                        if (v->st.later_last_batch == LS_UNSET ||
                            it->batch.batch_no > v->st.later_last_batch)
                                v->st.later_last_batch = it->batch.batch_no;
                } else if (it->later_magic == LS_MAGIC_ARCHIVE) {
                        v->a.have_header = 1;
                        v->a.header_verified = 1; /* not judged, counted above */
                        v->a.hdr = it->header;
                        v->a.offset_header = it->offset;
                        v->a.sum.header_ok = 1;
                        v->a.later = 1;
                } else {
                        v->a.sum.sealed = 1;
                        ls_sha256(v->prev_seal_hash, it->raw, LS_TRAILER_SIGNED_LEN);
                }
                return;
        }
        if (!auth) {
                v->a.damaged = 1;
                v->links_known = 0;
                v->tree_valid = 0;
                v->st.tree_checked_all = 0;
                v->last_time = LS_UNSET;
                if (it->later_magic == LS_MAGIC_BATCH) {
                        v->st.batches_bad++;
                        v->a.sum.batches_bad++;
                        v->next_batch_no = v->have_prev_batch ? v->next_batch_no + 1 : b + 1;
                        v->have_prev_batch = 1;
                }
                return;
        }
        /* In an archive read by its envelope a batch or seal of a known version and flags is
         * a LATER item too: the finding is for what this verifier does not know. */
        if (!v->a.later &&
            (it->later_version != LS_FORMAT_VERSION || it->later_flags != 0)) {
                if (key_id)
                        ls_hex(hex, key_id, LS_KEY_ID_LEN);
                chain_report(v, LS_CLASS_IO, -EPROTONOSUPPORT, "later format", it->offset, b, seq,
                             "%s at offset %" PRIu64 " has %s, unknown here: written by a later "
                             "format of logseal, authentic (key %s); upgrade logseal-verify: "
                             "nothing from here on was judged but links, keys and seals",
                             later_name(it->later_magic), it->offset, what, hex);
        }
        v->a.later = 1;
        chain_later_seen(v, b);
        /* Its content is not judged: no Merkle root, no heartbeat coverage across it. */
        v->tree_valid = 0;
        v->st.tree_checked_all = 0;
        v->last_time = LS_UNSET;
        switch (it->later_magic) {
        case LS_MAGIC_ARCHIVE: {
                const LsArchiveHeader *h = &it->header;
                if (!v->have_chain) {
                        memcpy(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN);
                        v->have_chain = 1;
                        ls_trust_set_chain(v->trust, h->chain_id);
                }
                if (!v->first_archive_seen) {
                        v->first_archive_seen = 1;
                        v->first_archive_no = h->archive_no;
                }
                v->a.have_header = 1;
                v->a.header_verified = 1;
                v->a.hdr = *h;
                v->a.offset_header = it->offset;
                v->a.sum.header_ok = 1;
                break;
        }
        case LS_MAGIC_BATCH: {
                const LsBatchHeader *h = &it->batch;
                if (!v->have_chain) {
                        memcpy(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN);
                        v->have_chain = 1;
                        ls_trust_set_chain(v->trust, h->chain_id);
                }
                v->next_batch_no = h->batch_no + 1;
                v->next_seq = h->tree_size;
                memcpy(v->prev_header_hash, it->later_hash, LS_HASH_LEN);
                v->links_known = 1;
                v->have_prev_batch = 1;
                ls_trust_note_signed_hash(v->trust, h, it->later_hash);
                if (v->cb.envelope)
                        v->cb.envelope(v->cb.userdata, h, it->later_hash);
                memcpy(v->last_key_id, h->key_id, LS_KEY_ID_LEN);
                v->st.batches_later++;
                if (v->st.later_last_batch == LS_UNSET || h->batch_no > v->st.later_last_batch)
                        v->st.later_last_batch = h->batch_no;
                break;
        }
        case LS_MAGIC_TRAILER:
                v->a.sum.sealed = 1;
                ls_sha256(v->prev_seal_hash, it->raw, LS_TRAILER_SIGNED_LEN);
                break;
        }
}

/* ---- the window of batches in flight ---- */

static size_t job_bytes(const BatchJob *j)
{
        return j->payload_cap + j->recs_cap * sizeof(RecInfo) + j->held_raw;
}

/* Takes the oldest batch's results (waiting for its job) and verifies it in order. */
static void take_oldest(LsChainVerifier *v)
{
        BatchJob *j = v->win_head;

        ls_pool_wait(v->pool, &j->pj);
        v->win_head = j->next;
        if (!v->win_head)
                v->win_tail = NULL;
        v->win_bytes -= j->cost;
        v->win_count--;
        chain_verify_batch(v, j);
        j->dict = ls_dict_unref(j->dict);
        if (job_bytes(j) > JOB_KEEP_BYTES || v->kept_bytes + job_bytes(j) > v->budget) {
                chain_job_free(j);
                return;
        }
        v->kept_bytes += job_bytes(j);
        j->next = v->free_jobs;
        v->free_jobs = j;
}

static void drain(LsChainVerifier *v)
{
        while (v->win_head)
                take_oldest(v);
}

/*
 * Queues a batch: its bytes are copied into a job (the reader's buffer is reused for
 * the next item). The window holds at most `budget` bytes of compressed payload,
 * decompressed payload and record facts, and never fewer than one batch; jobs kept for
 * reuse hold at most another budget: memory is bounded whatever the archive size.
 * 0, or -ENOMEM with nothing queued.
 */
static int submit_batch(LsChainVerifier *v, const LsReadItem *item)
{
        const LsBatchHeader *h = &item->batch;
        size_t cost = item->payload_len + (size_t) h->payload_raw_len +
                      (size_t) h->record_count * sizeof(RecInfo);
        BatchJob *j;

        while (v->win_head && (v->win_bytes + cost > v->budget || v->win_count >= v->max_count))
                take_oldest(v);
        j = v->free_jobs;
        if (j) {
                v->free_jobs = j->next;
                v->kept_bytes -= job_bytes(j);
        } else {
                j = calloc(1, sizeof(*j));
                if (!j || ls_payload_new(&j->pc) < 0) {
                        free(j);
                        return -ENOMEM;
                }
                j->pj.run = chain_job_run;
        }
        if (j->payload_cap < item->payload_len) {
                uint8_t *q = realloc(j->payload, item->payload_len);
                if (!q) {
                        chain_job_free(j);
                        return -ENOMEM;
                }
                j->payload = q;
                j->payload_cap = item->payload_len;
        }
        memcpy(j->payload, item->payload, item->payload_len);
        j->payload_len = item->payload_len;
        j->dict = ls_dict_ref(item->dict);
        j->h = *h;
        j->held_raw = MAX(j->held_raw, (size_t) MIN(h->payload_raw_len, LS_MAX_BATCH_RAW));
        j->offset = item->offset;
        j->length = item->length;
        j->cost = cost;
        j->next = NULL;
        if (v->win_tail)
                v->win_tail->next = j;
        else
                v->win_head = j;
        v->win_tail = j;
        v->win_bytes += cost;
        v->win_count++;
        ls_pool_submit(v->pool, &j->pj);
        if (!v->pool)
                take_oldest(v); /* one job: verified at once, as it was read */
        return 0;
}

/* ---- ls_chain_verifier_set_upto: the evidence ends at a checkpoint's batch ---- */

void ls_chain_verifier_set_upto(LsChainVerifier *v, uint64_t batch_no)
{
        v->upto = batch_no;
}

/* 1: item comes after batch upto (any item but that archive's trailer): not examined. */
static int upto_stop(LsChainVerifier *v, const LsReadItem *item)
{
        if (v->upto == LS_UNSET)
                return 0;
        if (v->upto_reached && item->kind != LS_ITEM_TRAILER)
                return 1;
        int batch = item->kind == LS_ITEM_BATCH ||
                    (item->kind == LS_ITEM_LATER && item->later_magic == LS_MAGIC_BATCH);
        if (batch && item->batch.batch_no >= v->upto)
                v->upto_reached = 1;
        return batch && item->batch.batch_no > v->upto;
}

int ls_chain_verifier_upto_reached(const LsChainVerifier *v)
{
        return v->upto_reached;
}

int ls_chain_verify_archive(LsChainVerifier *v, int fd, const char *file)
{
        LsArchiveReader *rd = NULL;
        LsReadItem *item;
        int r;

        if (v->upto_reached) {
                close(fd); /* after the batch of set_upto: not examined */
                return 0;
        }
        memset(&v->a, 0, sizeof(v->a));
        v->a.file = file;
        v->a.min_time = UINT64_MAX;
        v->a.sum.file = file;
        v->a.sum.first_seq = v->a.sum.last_seq = LS_UNSET;
        v->a.sum.min_time_ns = UINT64_MAX;
        v->a.sum.archive_no = LS_UNSET;
        r = ls_archive_reader_new(&rd, fd);
        if (r < 0) {
                close(fd);
                chain_report(v, LS_CLASS_IO, r, "open", LS_UNSET, LS_UNSET, LS_UNSET,
                             "cannot read archive: %s", strerror(-r));
                return r;
        }
        item = calloc(1, sizeof(*item));
        if (!item) {
                ls_archive_reader_free(rd);
                return -ENOMEM;
        }
        v->st.archives++;
        v->a.sum.file_size = ls_archive_reader_file_size(rd);
        while ((r = ls_archive_reader_next(rd, item)) > 0) {
                if (upto_stop(v, item))
                        break;
                /* Anything but a batch depends on the batches before it: take them first. */
                if (item->kind != LS_ITEM_BATCH)
                        drain(v);
                switch (item->kind) {
                case LS_ITEM_HEADER:
                        process_header(v, item);
                        break;
                case LS_ITEM_BATCH:
                        r = submit_batch(v, item);
                        if (r < 0) {
                                drain(v);
                                chain_report(v, LS_CLASS_IO, r, "memory", item->offset,
                                             item->batch.batch_no, item->batch.first_seq,
                                             "out of memory");
                                v->a.sum.bytes_unverified += item->length;
                                v->a.damaged = 1;
                        }
                        break;
                case LS_ITEM_TRAILER:
                        process_trailer(v, item);
                        break;
                case LS_ITEM_DICT:
                        /* Its hash is the header's dict_hash (checked by the reader), so the
                         * header signature covers it. */
                        v->a.sum.dict_id = ls_dict_id(item->dict);
                        break;
                case LS_ITEM_DAMAGE:
                        v->last_time = LS_UNSET;
                        chain_report(v, LS_CLASS_TAMPERED, item->error, item->what,
                                     item->error_offset, LS_UNSET, LS_UNSET,
                                     "%" PRIu64 " bytes at offset %" PRIu64
                                     " are not a valid frame; "
                                     "skipped to offset %" PRIu64,
                                     item->length, item->offset, item->offset + item->length);
                        v->a.sum.bytes_unverified += item->length;
                        v->a.damaged = 1;
                        v->links_known = 0;
                        v->tree_valid = 0;
                        v->st.tree_checked_all = 0;
                        break;
                case LS_ITEM_LATER:
                        process_later(v, item);
                        break;
                case LS_ITEM_TORN_TAIL:
                        chain_report(v, LS_CLASS_PARTIAL, item->error, item->what, item->offset,
                                     LS_UNSET, LS_UNSET,
                                     "incomplete last frame of %" PRIu64 " bytes at offset %" PRIu64
                                     " (unclean stop of an open archive); not verified",
                                     item->length, item->offset);
                        v->a.sum.bytes_unverified += item->length;
                        break;
                }
        }
        drain(v);
        if (r < 0)
                chain_report(v, LS_CLASS_IO, r, "read", ls_archive_reader_position(rd), LS_UNSET,
                             LS_UNSET, "read error: %s", strerror(-r));
        else
                ls_archive_reader_file_hash(rd, v->a.sum.file_hash);
        if (!v->a.have_header && !v->a.later)
                chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive header", 0, LS_UNSET,
                             LS_UNSET, "no valid archive header");
        else if (v->a.have_header && v->a.header_verified == 0 &&
                 chain_later_unknown_ok(v, v->a.hdr.first_batch_no))
                v->st.later_unjudged++; /* its key is not known after a later format (§1.1) */
        else if (v->a.have_header && v->a.header_verified == 0)
                chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "archive header signature",
                             v->a.offset_header, v->a.hdr.first_batch_no, v->a.hdr.first_seq,
                             "archive header signed by a key not certified from the root key");
        if (v->a.sum.sealed)
                v->st.archives_sealed++;
        v->have_prev_archive = 1;
        v->prev_archive_sealed = v->a.sum.sealed;
        v->last_archive_open = !v->a.sum.sealed;
        if (v->a.have_header)
                v->next_archive_no = v->a.hdr.archive_no + 1;
        else
                v->next_archive_no++;
        if (v->cb.archive)
                v->cb.archive(v->cb.userdata, &v->a.sum);
        free(item);
        ls_archive_reader_free(rd);
        return r < 0 ? r : 0;
}

