/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle-entries.c: steps 5 and 6 of SPEC §14.3: the entries, their inclusion proofs and
 * the custody record
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle-reader-internal.h"
#include "control.h"
#include "hash.h"
#include "merkle.h"
#include "util.h"

/* ---- steps 5 and 6: the entries and the custody record ---- */

static void copy_text(LsBundleText *t, const LsControl *c, uint16_t tag)
{
        const uint8_t *v;
        uint16_t len;

        if (!ls_control_get(c, tag, &v, &len))
                return;
        t->present = 1;
        t->len = MIN(len, (uint16_t) LS_BUNDLE_TEXT_MAX);
        memcpy(t->p, v, t->len);
}

static void step_custody(LsBundleReader *b, const LsRecord *rec, uint64_t off)
{
        LsBundleSummary *s = b->s;
        char h1[2 * LS_HASH_LEN + 1], h2[2 * LS_HASH_LEN + 1];
        const uint8_t *v;
        uint16_t vlen;
        uint64_t x;
        LsControl c;
        size_t coff = 0;
        int code = -EBADMSG, ok = 1;

        s->have_custody = 1;
        s->custody_time_ns = rec->time_ns;
        if (rec->type != LS_REC_CONTROL) {
                TAMPERED(b, "custody record", LS_BUNDLE_EVIDENCE, off, rec->seq,
                         "the last entry (record %" PRIu64 ") is a syslog message, not a custody "
                         "record",
                         rec->seq);
                return;
        }
        code = ls_control_decode(&c, rec->body, rec->body_len, &coff);
        if (code < 0) {
                TAMPERED(b, "custody record", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN + coff,
                         rec->seq, "control record malformed at body offset %zu: %s", coff,
                         bundle_errname(code));
                return;
        }
        code = -EBADMSG;
        if (c.type != LS_CTL_CUSTODY) {
                TAMPERED(b, "custody record", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN,
                         rec->seq, "the last entry is a %s record, not a custody record",
                         ls_control_type_name(c.type));
                return;
        }
        copy_text(&s->case_id, &c, LS_TAG_CASE_ID);
        copy_text(&s->examiner, &c, LS_TAG_EXAMINER);
        copy_text(&s->filter, &c, LS_TAG_FILTER);
        copy_text(&s->text, &c, LS_TAG_TEXT);
        if (ls_control_get_u64(&c, LS_TAG_ACTION, &x)) {
                s->have_action = 1;
                s->action = (uint16_t) x;
        }
        if (ls_control_get_u64(&c, LS_TAG_COUNT, &x)) {
                s->have_count = 1;
                s->count = x;
        }
        if (ls_control_get(&c, LS_TAG_MANIFEST_HASH, &v, &vlen) && vlen == LS_HASH_LEN) {
                s->have_manifest_hash = 1;
                memcpy(s->manifest_hash, v, LS_HASH_LEN);
        }
        if (!s->have_action || s->action != LS_CUSTODY_EXPORT) {
                TAMPERED(b, "custody action", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN,
                         rec->seq, "the custody record's action is %s, not export",
                         s->have_action ? ls_custody_action_name(s->action) : "missing");
                ok = 0;
        }
        if (!s->have_count) {
                TAMPERED(b, "custody count", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN,
                         rec->seq, "the custody record has no COUNT");
                ok = 0;
        } else if (s->count != s->header.record_count) {
                TAMPERED(b, "custody count", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN,
                         rec->seq,
                         "the custody record counts %" PRIu64 " exported records, the bundle "
                         "discloses %" PRIu32 ": records were removed or added",
                         s->count, s->header.record_count);
                ok = 0;
        }
        if (!s->have_manifest_hash) {
                TAMPERED(b, "selection hash", LS_BUNDLE_EVIDENCE, off + LS_RECORD_FIXED_LEN,
                         rec->seq, "the custody record has no MANIFEST_HASH (selection hash)");
                ok = 0;
        } else if (s->selection_complete) {
                s->selection_ok = ls_hash_equal(s->selection, s->manifest_hash);
                if (!s->selection_ok) {
                        ls_hex(h1, s->selection, LS_HASH_LEN);
                        ls_hex(h2, s->manifest_hash, LS_HASH_LEN);
                        code = -EILSEQ;
                        TAMPERED(b, "selection hash", LS_BUNDLE_EVIDENCE,
                                 off + LS_RECORD_FIXED_LEN, rec->seq,
                                 "the disclosed records are not the exported ones (removed, "
                                 "added, swapped or reordered): selection %s, custody record %s",
                                 h1, h2);
                        ok = 0;
                }
        } else {
                ok = 0;
        }
        s->custody_ok = ok && s->custody_proof_ok;
}

static int grow_record(LsBundleReader *b, size_t n)
{
        uint8_t *q;

        if (n <= b->rec_cap)
                return 0;
        q = realloc(b->rec, n);
        if (!q)
                return -ENOMEM;
        b->rec = q;
        b->rec_cap = n;
        return 0;
}


void bundle_step_entries(LsBundleReader *b, Stream *st)
{
        LsBundleSummary *s = b->s;
        const LsBundleHeader *h = &s->header;
        const int root_usable = s->checkpoint_parsed && s->chain_agrees;
        uint64_t prev_seq = 0;
        LsSelection sel;
        ssize_t k = 0;
        int code, have_prev = 0;

        if (!root_usable)
                bundle_finding(b, LS_CLASS_NOTE, 0, "inclusion proof", LS_BUNDLE_EVIDENCE, LS_UNSET,
                               LS_UNSET, LS_UNSET,
                               "no checkpoint of this bundle's tree: the inclusion proofs are not "
                               "checked");
        if (b->ahead) {
                b->ahead->tree_size = h->tree_size;
                b->ahead->root = root_usable ? s->checkpoint.root : NULL;
                b->ahead->n = 0;
                b->ahead->stalled = UINT64_MAX;
        }
        ls_selection_init(&sel, h->record_count);
        for (uint64_t i = 0; i <= h->record_count; i++) {
                const int custody = i == h->record_count;
                const uint64_t eoff = st->off, left = st->size > eoff ? st->size - eoff : 0;
                uint8_t fixed[LS_BUNDLE_ENTRY_FIXED_LEN], leaf[LS_HASH_LEN];
                const AheadEntry *ae;
                LsBundleEntry e;
                LsRecord rec;
                LsProof p;
                size_t roff = 0;
                int rec_ok, seq_ok = 1, proof_ok = 0;

                code = -ENODATA;
                if (left < LS_BUNDLE_ENTRY_FIXED_LEN) {
                        TAMPERED(b, "truncated", LS_BUNDLE_EVIDENCE, eoff, LS_UNSET,
                                 left ? "entry %" PRIu64 " of %" PRIu64 " is cut off in its fixed part" :
                                        "the file ends after %" PRIu64 " of %" PRIu64 " entries",
                                 i, (uint64_t) h->record_count + 1);
                        return;
                }
                k = bundle_stream_read(st, fixed, sizeof(fixed));
                if (k != (ssize_t) sizeof(fixed))
                        goto io;
                code = ls_bundle_entry_decode(&e, fixed, sizeof(fixed));
                if (code < 0) {
                        TAMPERED(b, "entry", LS_BUNDLE_EVIDENCE, eoff, LS_UNSET,
                                 "entry %" PRIu64 ": record_len %" PRIu32 " or proof_len %" PRIu32
                                 " out of range (%s); the entries after it cannot be found",
                                 i, ls_get32(fixed), ls_get32(fixed + 4), bundle_errname(code));
                        return;
                }
                if ((uint64_t) e.record_len + e.proof_len > left - LS_BUNDLE_ENTRY_FIXED_LEN) {
                        code = -ENODATA;
                        TAMPERED(b, "truncated", LS_BUNDLE_EVIDENCE, eoff, e.seq,
                                 "entry %" PRIu64 " needs %" PRIu64 " bytes, %" PRIu64
                                 " are left in the file",
                                 i, (uint64_t) LS_BUNDLE_ENTRY_FIXED_LEN + e.record_len + e.proof_len,
                                 left);
                        return;
                }
                if (grow_record(b, e.record_len) < 0) {
                        bundle_finding(b, LS_CLASS_IO, -ENOMEM, "memory", NULL, LS_UNSET, LS_UNSET,
                                       LS_UNSET, "out of memory");
                        return;
                }
                k = bundle_stream_read(st, b->rec, e.record_len);
                if (k != (ssize_t) e.record_len)
                        goto io;
                k = bundle_stream_read(st, b->proof, e.proof_len);
                if (k != (ssize_t) e.proof_len)
                        goto io;
                s->entries++;

                /* the record (SPEC §3) and its sequence number */
                ae = bundle_ahead_get(b, st, i, eoff, (uint64_t) h->record_count + 1 - i, &e);
                if (ae)
                        memcpy(leaf, ae->leaf, LS_HASH_LEN);
                else
                        ls_leaf_hash(leaf, e.salt, b->rec, e.record_len);
                code = ls_record_decode(&rec, b->rec, e.record_len, &roff);
                rec_ok = code == 0;
                if (!rec_ok)
                        TAMPERED(b, "record", LS_BUNDLE_EVIDENCE,
                                 eoff + LS_BUNDLE_ENTRY_FIXED_LEN + roff, e.seq,
                                 "record of entry %" PRIu64 " is %s at record offset %zu", i,
                                 bundle_errname(code), roff);
                code = -EBADMSG;
                if (rec_ok && rec.seq != e.seq) {
                        TAMPERED(b, "record seq", LS_BUNDLE_EVIDENCE,
                                 eoff + LS_BUNDLE_ENTRY_FIXED_LEN + 4, e.seq,
                                 "the record says sequence number %" PRIu64 ", its entry %" PRIu64,
                                 rec.seq, e.seq);
                        seq_ok = 0;
                }
                if (!custody) {
                        if (have_prev && e.seq <= prev_seq)
                                TAMPERED(b, "entry order", LS_BUNDLE_EVIDENCE, eoff + 8, e.seq,
                                         "record %" PRIu64 " follows record %" PRIu64
                                         ": entries must be in strictly increasing sequence order",
                                         e.seq, prev_seq);
                        if (e.seq == h->custody_seq)
                                TAMPERED(b, "entry order", LS_BUNDLE_EVIDENCE, eoff + 8, e.seq,
                                         "a disclosed entry has the custody record's sequence "
                                         "number %" PRIu64,
                                         e.seq);
                        have_prev = 1;
                        prev_seq = e.seq;
                        ls_selection_add(&sel, e.seq, leaf);
                } else if (e.seq != h->custody_seq) {
                        TAMPERED(b, "custody seq", LS_BUNDLE_EVIDENCE, eoff + 8, e.seq,
                                 "the last entry is record %" PRIu64 ", the header names the "
                                 "custody record %" PRIu64,
                                 e.seq, h->custody_seq);
                        seq_ok = 0;
                }

                /* its inclusion proof (SPEC §5.1) against the checkpoint's root */
                const uint64_t poff = eoff + LS_BUNDLE_ENTRY_FIXED_LEN + e.record_len;
                code = ls_proof_decode(&p, b->proof, e.proof_len);
                if (code < 0) {
                        TAMPERED(b, "proof", LS_BUNDLE_EVIDENCE, poff, e.seq,
                                 "the inclusion proof is %s", bundle_errname(code));
                } else if (p.kind != LS_PROOF_INCLUSION) {
                        code = -EBADMSG;
                        TAMPERED(b, "proof", LS_BUNDLE_EVIDENCE, poff, e.seq,
                                 "not an inclusion proof (kind %u)", p.kind);
                } else if (p.a != e.seq || p.b != h->tree_size) {
                        code = -EBADMSG;
                        TAMPERED(b, "proof", LS_BUNDLE_EVIDENCE, poff, e.seq,
                                 "a proof of leaf %" PRIu64 " in a tree of %" PRIu64
                                 ", not of leaf %" PRIu64 " in the tree of %" PRIu64,
                                 p.a, p.b, e.seq, h->tree_size);
                } else if (root_usable) {
                        if (ae && ae->incl != AHEAD_NOT_RUN)
                                code = ae->incl;
                        else
                                code = ls_verify_inclusion(e.seq, h->tree_size, leaf,
                                                           (const uint8_t(*)[LS_HASH_LEN]) p.path,
                                                           p.count, s->checkpoint.root);
                        if (code == -EILSEQ)
                                TAMPERED(b, "inclusion proof", LS_BUNDLE_EVIDENCE,
                                         eoff + LS_BUNDLE_ENTRY_FIXED_LEN, e.seq,
                                         "record %" PRIu64 " is not leaf %" PRIu64
                                         " of the checkpoint's tree: its bytes, salt or proof "
                                         "were altered",
                                         e.seq, e.seq);
                        else if (code < 0)
                                TAMPERED(b, "proof", LS_BUNDLE_EVIDENCE, poff, e.seq,
                                         "the inclusion proof is %s", bundle_errname(code));
                        proof_ok = code == 0;
                }

                /*
                 * SPEC §9.4: the checkpoint's epoch, once closed, sealed nothing dated after
                 * the end its close states; a disclosed record that is, was made with the
                 * erased key.
                 */
                if (rec_ok && s->have_signer) {
                        const LsEpochClose *cl = ls_trust_close(ls_chain_verifier_trust(b->v),
                                                                s->signer.chain_id,
                                                                s->signer.epoch);
                        if (cl && rec.time_ns > cl->max_time_ns) {
                                TAMPERED(b, "epoch close", LS_BUNDLE_EVIDENCE,
                                         eoff + LS_BUNDLE_ENTRY_FIXED_LEN + 12, e.seq,
                                         "record %" PRIu64 " is dated after the end of epoch %" PRIu64
                                         " that its signed close states, yet its checkpoint was "
                                         "signed with that epoch's key: made with the erased key",
                                         e.seq, s->signer.epoch);
                                rec_ok = 0;
                        }
                }
                const int verified = rec_ok && seq_ok && proof_ok && s->checkpoint_verified;
                if (!custody) {
                        if (verified)
                                s->records_verified++;
                        else
                                s->records_failed++;
                        if (rec_ok && b->cb.record)
                                b->cb.record(b->cb.userdata, &rec, b->rec, e.record_len,
                                             verified);
                } else {
                        ls_selection_final(&sel, s->selection);
                        s->selection_complete = 1;
                        s->custody_proof_ok = verified;
                        if (rec_ok)
                                step_custody(b, &rec, eoff + LS_BUNDLE_ENTRY_FIXED_LEN);
                }
        }
        if (st->off < st->size) {
                code = -EBADMSG;
                TAMPERED(b, "trailing bytes", LS_BUNDLE_EVIDENCE, st->off, LS_UNSET,
                         "%" PRIu64 " bytes after the custody entry (SPEC §14.1: the file ends "
                         "exactly after it)",
                         st->size - st->off);
        } else {
                /* The file may have grown since it was opened. */
                uint8_t probe;
                if (bundle_stream_read(st, &probe, 1) == 1) {
                        code = -EBADMSG;
                        TAMPERED(b, "trailing bytes", LS_BUNDLE_EVIDENCE, st->off - 1, LS_UNSET,
                                 "bytes after the custody entry");
                }
        }
        return;
io:
        if (k >= 0) {
                code = -ENODATA;
                TAMPERED(b, "truncated", LS_BUNDLE_EVIDENCE, st->off, LS_UNSET,
                         "the file ended while it was read (it shrank)");
        } else {
                bundle_finding(b, LS_CLASS_IO, (int) k, "read", LS_BUNDLE_EVIDENCE, st->off,
                               LS_UNSET, LS_UNSET, "read error: %s", strerror((int) -k));
        }
}
