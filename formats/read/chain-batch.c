/* SPDX-License-Identifier: Apache-2.0 */
/* chain-batch.c: one batch checked in chain order (SPEC §6.3, §8, §9.3, §11) */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "chain-verify-internal.h"
#include "control.h"
#include "hash.h"
#include "util.h"

/* ---- keys learnt from the chain: every decision is the trust module's (trust.c) ---- */

static const char *cert_reason(int r, const char *why)
{
        if (why)
                return why;
        return r == -ENOKEY ? "issuer unknown" : "forged, forked or out of order";
}

/* ---- control records of a verified batch ---- */

static void learn_from_records(LsChainVerifier *v, const LsBatchHeader *h, const uint8_t *raw,
                               size_t rawlen, int report_errors, uint64_t offset)
{
        LsPayloadIter it;
        LsRecord rec;
        const uint8_t *bytes, *val;
        size_t len, off;
        uint16_t vlen;
        LsControl c;

        ls_payload_iter_init(&it, h, raw, rawlen);
        while (ls_payload_next(&it, &rec, &bytes, &len, NULL, &off) > 0) {
                const char *why = NULL, *what = NULL;
                int r = 0;

                if (rec.type != LS_REC_CONTROL)
                        continue;
                if (ls_control_decode(&c, rec.body, rec.body_len, NULL) < 0)
                        continue;
                if (c.type == LS_CTL_KEY_TRANSITION && ls_control_get(&c, LS_TAG_CERT, &val, &vlen)) {
                        LsCert cert;
                        what = "key transition";
                        r = ls_cert_decode(&cert, val, vlen);
                        if (r == 0)
                                r = ls_trust_add_cert(v->trust, &cert, &why);
                } else if (c.type == LS_CTL_REVOCATION &&
                           ls_control_get(&c, LS_TAG_REVOCATION, &val, &vlen)) {
                        LsRevocation rv;
                        what = "revocation";
                        r = ls_revocation_decode(&rv, val, vlen);
                        if (r == 0)
                                r = ls_trust_add_revocation(v->trust, &rv, &why);
                } else if (c.type == LS_CTL_EPOCH_CLOSE &&
                           ls_control_get(&c, LS_TAG_CLOSE, &val, &vlen)) {
                        LsEpochClose cl;
                        what = "epoch close";
                        r = ls_close_decode(&cl, val, vlen);
                        if (r == 0)
                                r = ls_trust_add_close(v->trust, &cl, &why);
                }
                if (r == -EPROTONOSUPPORT && report_errors) {
                        /* authentic (its batch verified), of a later format (SPEC §1.1): what
                         * its keys sign is not judged from here on */
                        chain_report(v, LS_CLASS_IO, r, "later format", offset, h->batch_no,
                                     rec.seq,
                                     "%s of a version or with a flag unknown here, in an "
                                     "authentic batch: written by a later format of logseal; "
                                     "upgrade logseal-verify: what its keys sign is not judged",
                                     what);
                        chain_later_seen(v, h->batch_no);
                } else if (r < 0 && report_errors)
                        chain_report(v, LS_CLASS_TAMPERED,
                                     r == -ENOKEY || r == -EXDEV ? -EKEYREJECTED : r, what, offset,
                                     h->batch_no, rec.seq, "%s in the chain is not acceptable: %s",
                                     what, cert_reason(r, why));
        }
}

/* ---- structures of a later format (SPEC §1.1) ---- */

void chain_later_seen(LsChainVerifier *v, uint64_t b)
{
        v->later_seen = 1;
        if (b != LS_UNSET && (v->later_batch == LS_UNSET || b > v->later_batch))
                v->later_batch = b;
}

/*
 * After an authentic structure of a later format a key this verifier does not know may have
 * been certified in what it cannot read, but only where no known key owns batch b: not in a
 * window that a known successor or close bounds (only that window's key signs there), nor in
 * the open window of the last known key unless a later structure was met inside it (the
 * structure that could certify its successor). Else a copy of an erased key could sign a
 * later structure in its own window and make every later key "not judged".
 */
int chain_later_unknown_ok(LsChainVerifier *v, uint64_t b)
{
        const LsKeyInfo *k;
        int open = 0;

        if (!v->later_seen || b == LS_UNSET)
                return 0;
        k = ls_trust_batch_owner(v->trust, v->chain_id, b, &open);
        return !k || (open && v->later_batch != LS_UNSET && v->later_batch >= k->valid_from_batch);
}

/* ---- heartbeat coverage ---- */

void chain_report_gap(LsChainVerifier *v)
{
        if (!v->gap.active)
                return;
        chain_report(v, LS_CLASS_GAP, -ENODATA, "heartbeat gap", v->gap.offset, v->gap.batch,
                     v->gap.seq,
                     "%.0f s without any record although the appliance announced a heartbeat every "
                     "%.0f s, and no signed stop, restart or clock step explains it",
                     (double) (v->gap.to - v->gap.from) / 1e9, (double) v->hb_ns / 1e9);
        v->gap.active = 0;
}

static void track_time(LsChainVerifier *v, const LsRecord *rec, const LsControl *ctl,
                       uint64_t batch_no, uint64_t offset)
{
        uint16_t type = ctl ? ctl->type : 0;
        uint64_t x;

        /*
         * A record re-sealed from the WAL after a crash carries the time it was received,
         * before the UNCLEAN_SHUTDOWN that declares the crash: it neither opens nor closes a
         * silence (SPEC §11), or every recovery would read as a gap.
         */
        if (rec->flags & LS_RECF_RECOVERED)
                return;
        /* A signed clock step explains a jump; a declared unclean stop the downtime before it
         * (a record that must open its batch may come first: SPEC §11). */
        if (type == LS_CTL_CLOCK_STEP || type == LS_CTL_UNCLEAN_SHUTDOWN)
                v->gap.active = 0;
        if (v->hb_ns && v->last_time != LS_UNSET && !v->last_was_stop &&
            type != LS_CTL_START && type != LS_CTL_UNCLEAN_SHUTDOWN &&
            type != LS_CTL_CLOCK_STEP && rec->time_ns > v->last_time &&
            rec->time_ns - v->last_time > 2 * v->hb_ns + 10000000000ull) {
                chain_report_gap(v);
                v->gap.active = 1;
                v->gap.from = v->last_time;
                v->gap.to = rec->time_ns;
                v->gap.batch = batch_no;
                v->gap.seq = rec->seq;
                v->gap.offset = offset;
        }
        if (type == LS_CTL_START)
                v->hb_ns = ls_control_get_u64(ctl, LS_TAG_HEARTBEAT_INTERVAL, &x) ? x : 0;
        /* The writer's own statement that a run was not confined (SPEC §4.5): a note, once. */
        if (type == LS_CTL_START && !v->confine_noted &&
            ls_control_get_u64(ctl, LS_TAG_CONFINEMENT, &x) && (x & LS_CONFINE_DISABLED)) {
                v->confine_noted = 1;
                chain_report(v, LS_CLASS_NOTE, 0, "confinement", offset, batch_no, rec->seq,
                             "the appliance ran without its file-system confinement (confine = "
                             "no) from this START record on; later such runs are not listed "
                             "(SPEC §4.5)");
        }
        v->last_time = rec->time_ns;
        v->last_was_stop = type == LS_CTL_STOP;
}

/* ---- batches ---- */

void chain_verify_batch(LsChainVerifier *v, BatchJob *j)
{
        const LsBatchHeader *h = &j->h;
        const uint64_t off = j->offset, b = h->batch_no;
        int payload_ok = 0, authentic = 0, ok = 1, r;
        const uint8_t *raw = NULL;
        size_t rawlen = 0;
        LsKeyInfo *key;

        v->a.batches++;
        v->a.have_last_no = 1;
        v->a.last_no = b;
        if (!v->have_chain) {
                memcpy(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN);
                v->have_chain = 1;
                ls_trust_set_chain(v->trust, h->chain_id);
        } else if (memcmp(v->chain_id, h->chain_id, LS_CHAIN_ID_LEN) != 0) {
                chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "chain id", off, b, h->first_seq,
                             "batch belongs to another chain (spliced in)");
                ok = 0;
        }

        r = j->open_r; /* ls_payload_open(), run by the job */
        if (r == 0) {
                payload_ok = 1;
                raw = ls_payload_raw(j->pc, &rawlen);
        }

        /*
         * SPEC §6.3: a batch whose key is not known yet (the chain's first batch, an admin
         * rotation) may carry that key's certificate as its first record; certificates are
         * self-authenticating, so they are learnt from the payload before the signature is
         * checked.
         */
        key = ls_trust_key(v->trust, h->key_id);
        if (!key && payload_ok) {
                learn_from_records(v, h, raw, rawlen, 0, off);
                key = ls_trust_key(v->trust, h->key_id);
        }
        if (v->a.have_header && !v->a.header_verified)
                chain_verify_archive_header_sig(v);

        LsTrustDecision d;
        ls_trust_check_batch(v->trust, h, &d);
        if (d.result == LS_TRUST_UNKNOWN_KEY && chain_later_unknown_ok(v, b)) {
                /*
                 * After an authentic structure of a later format its key may be certified in
                 * a batch this verifier could not read (SPEC §1.1): not judged, and its links
                 * carry on, so that a forgery here still breaks the next link or seal.
                 */
                if (v->have_prev_batch && v->links_known &&
                    (b != v->next_batch_no || h->first_seq != v->next_seq ||
                     !ls_hash_equal(h->prev_header_hash, v->prev_header_hash)))
                        chain_report(v, LS_CLASS_TAMPERED, -EILSEQ, "batch chain", off + 8 + 120,
                                     b, h->first_seq,
                                     "batch does not continue the chain after batch %" PRIu64,
                                     v->next_batch_no - 1);
                /* its payload is still the one its header signs (SPEC §1.1 envelope) */
                if (r == -EILSEQ)
                        chain_report(v, LS_CLASS_TAMPERED, r, "payload hash",
                                     off + 8 + LS_BATCH_HEADER_LEN, b, h->first_seq,
                                     "compressed payload does not match the signed digest");
                v->st.later_unjudged++;
                if (v->st.later_last_batch == LS_UNSET || b > v->st.later_last_batch)
                        v->st.later_last_batch = b;
                v->a.later = 1;
                v->next_batch_no = b + 1;
                v->next_seq = h->tree_size;
                ls_batch_header_hash(h, v->prev_header_hash);
                if (v->cb.envelope)
                        v->cb.envelope(v->cb.userdata, h, v->prev_header_hash);
                v->links_known = 1;
                v->have_prev_batch = 1;
                v->tree_valid = 0;
                v->st.tree_checked_all = 0;
                v->last_time = LS_UNSET;
                v->a.sum.bytes_unverified += j->length;
                return;
        }
        switch (d.result) {
        case LS_TRUST_UNKNOWN_KEY: {
                char hex[2 * LS_KEY_ID_LEN + 1];
                ls_hex(hex, h->key_id, LS_KEY_ID_LEN);
                chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "signing key", off, b,
                             h->first_seq,
                             "key %s is not certified from the root key for this chain (pass its "
                             "certificates with --keys if earlier archives are absent)",
                             hex);
                ok = 0;
                break;
        }
        case LS_TRUST_BAD_SIGNATURE:
                chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED, "batch signature", off, b,
                             h->first_seq, "signature does not verify");
                ok = 0;
                break;
        case LS_TRUST_REVOKED:
                /*
                 * Authentic but untrusted: reported per key by the review at the end, the
                 * same whether the revocation was known before or found later in the chain.
                 */
                authentic = 1;
                break;
        case LS_TRUST_OK:
                authentic = 1;
                break;
        case LS_TRUST_DENIED:
        case LS_TRUST_AFTER_CLOSE:
        case LS_TRUST_NOT_EVIDENCE:
                authentic = 1;
                chain_report(v, LS_CLASS_TAMPERED, -EKEYREJECTED,
                             d.result == LS_TRUST_AFTER_CLOSE ? "epoch close" : "key validity", off,
                             b, h->first_seq, "signed by the key of epoch %" PRIu64 ": %s",
                             d.key ? d.key->epoch : h->epoch, d.why);
                ok = 0;
                break;
        }

        if (r == -EILSEQ) {
                chain_report(v, LS_CLASS_TAMPERED, r, "payload hash", off + 8 + LS_BATCH_HEADER_LEN,
                             b, h->first_seq,
                             "compressed payload does not match the signed digest");
                ok = 0;
        } else if (r < 0 && (h->incompat_flags & LS_BATCH_INCOMPAT_DICT) && !j->dict) {
                chain_report(v, LS_CLASS_TAMPERED, r, "dictionary",
                             off + 8 + LS_BATCH_HEADER_LEN, b, h->first_seq,
                             "payload needs the archive's dictionary, which is missing or does "
                             "not match the signed archive header");
                ok = 0;
        } else if (r < 0 && (h->incompat_flags & LS_BATCH_INCOMPAT_DICT)) {
                chain_report(v, LS_CLASS_TAMPERED, r, "payload frame",
                             off + 8 + LS_BATCH_HEADER_LEN, b, h->first_seq,
                             "payload is not one zstd frame of the declared size compressed "
                             "with the archive's dictionary (id %" PRIu32 ")",
                             ls_dict_id(j->dict));
                ok = 0;
        } else if (r < 0) {
                chain_report(v, LS_CLASS_TAMPERED, r, "payload frame",
                             off + 8 + LS_BATCH_HEADER_LEN, b, h->first_seq,
                             "payload is not one zstd frame of the declared size");
                ok = 0;
        }

        if (v->a.have_header && h->archive_no != v->a.hdr.archive_no) {
                chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive number", off + 8 + 32, b,
                             h->first_seq,
                             "batch says archive %" PRIu64 ", file header says %" PRIu64,
                             h->archive_no, v->a.hdr.archive_no);
                ok = 0;
        }

        /* links to the previous batch */
        if (v->have_prev_batch && v->links_known) {
                if (b != v->next_batch_no) {
                        chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "batch order", off + 8 + 40, b,
                                     h->first_seq,
                                     b < v->next_batch_no
                                             ? "batch %" PRIu64
                                               " repeated or out of order (expected %" PRIu64 ")"
                                             : "batch %" PRIu64
                                               " follows a missing batch (expected %" PRIu64 ")",
                                     b, v->next_batch_no);
                        ok = 0;
                } else if (!ls_hash_equal(h->prev_header_hash, v->prev_header_hash)) {
                        chain_report(v, LS_CLASS_TAMPERED, -EILSEQ, "batch chain", off + 8 + 120, b,
                                     h->first_seq,
                                     "previous-header hash does not match batch %" PRIu64, b - 1);
                        ok = 0;
                }
                if (h->first_seq != v->next_seq) {
                        chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "sequence", off + 8 + 48, b,
                                     h->first_seq, "first sequence %" PRIu64 ", expected %" PRIu64,
                                     h->first_seq, v->next_seq);
                        ok = 0;
                }
        } else if (v->a.have_header && v->a.batches == 1 &&
                   (b != v->a.hdr.first_batch_no || h->first_seq != v->a.hdr.first_seq)) {
                chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "archive start", off, b, h->first_seq,
                             "first batch is not the one the archive header names (%" PRIu64 ")",
                             v->a.hdr.first_batch_no);
                ok = 0;
        }

        /* records, leaves and the Merkle root */
        int tree_ok = v->tree_valid && v->tree.size == h->first_seq, has_control = 0;
        if (payload_ok) {
                LsMerkle t = v->tree;
                uint64_t tmin = j->tmin, tmax = j->tmax;
                int k = j->k, recs_ok = 1;

                if (j->err < 0) {
                        chain_report(v, LS_CLASS_IO, -ENOMEM, "memory", off, b, h->first_seq,
                                     "out of memory");
                        return;
                }
                /* Pass 1 (decoded by the job): control records and times, in order. */
                for (uint32_t i = 0; i < j->nrec; i++) {
                        const RecInfo *ri = &j->recs[i];
                        LsControl ctl;
                        LsRecord rec = {
                                .type = ri->type,
                                .flags = ri->flags,
                                .seq = h->first_seq + i,
                                .time_ns = ri->time_ns,
                        };
                        size_t coff = 0;
                        int ck = -1;
                        if (rec.type == LS_REC_CONTROL) {
                                has_control = 1;
                                (void) ls_record_decode(&rec, raw + ri->off, ri->len, &coff);
                                coff = 0;
                                ck = ls_control_decode(&ctl, rec.body, rec.body_len, &coff);
                                if (ck == -EPROTONOSUPPORT && authentic) {
                                        /* the batch's signature vouches for it (SPEC §1.1) */
                                        chain_report(
                                                v, LS_CLASS_IO, ck, "later format", off, b,
                                                rec.seq,
                                                "control record with a critical field unknown "
                                                "here (body offset %zu), in an authentic batch: "
                                                "written by a later format of logseal; upgrade "
                                                "logseal-verify to read it",
                                                coff);
                                        chain_later_seen(v, b);
                                } else if (ck < 0) {
                                        chain_report(
                                                v, LS_CLASS_TAMPERED, ck, "control record", off, b,
                                                rec.seq,
                                                "control record malformed at body offset %zu (%s)",
                                                coff,
                                                ck == -EPROTONOSUPPORT ? "unknown critical field"
                                                                       : "bad fields");
                                        ok = 0;
                                }
                        }
                        track_time(v, &rec, ck == 0 ? &ctl : NULL, b, off);
                }
                /* Pass 2: the job's perfect subtrees of the leaves, appended in order. */
                if (k == 0 && tree_ok)
                        for (unsigned i = 0; i < j->nsub && tree_ok; i++)
                                if (ls_merkle_append_subtree(&t, j->sub[i].hash, j->sub[i].height) < 0)
                                        tree_ok = 0;
                if (k < 0) {
                        chain_report(v, LS_CLASS_TAMPERED, k, "record", off, b, j->it_next_seq,
                                     "record %" PRIu32
                                     " of the batch is malformed at payload offset %zu",
                                     j->it_index, j->roff);
                        recs_ok = ok = 0;
                        tree_ok = 0;
                } else if (tmin != h->min_time_ns || tmax != h->max_time_ns) {
                        chain_report(v, LS_CLASS_TAMPERED, -EBADMSG, "time range", off + 8 + 64, b,
                                     h->first_seq, "header time range does not match the records");
                        ok = 0;
                }
                if (recs_ok && tree_ok) {
                        uint8_t root[LS_HASH_LEN];
                        ls_merkle_root(&t, root);
                        if (!ls_hash_equal(root, h->tree_root)) {
                                chain_report(
                                        v, LS_CLASS_TAMPERED, -EILSEQ, "Merkle root", off + 8 + 88,
                                        b, h->first_seq,
                                        "tree root after this batch does not match the leaves");
                                ok = 0;
                                tree_ok = 0;
                        } else {
                                v->tree = t;
                        }
                }
        } else {
                tree_ok = 0;
        }
        if (!tree_ok) {
                v->tree_valid = 0;
                v->st.tree_checked_all = 0;
        }

        /* a suspected gap survives one further batch without a clock step: report it */
        if (v->gap.active && v->gap.batch < b)
                chain_report_gap(v);

        /* advance */
        if (authentic) {
                v->next_batch_no = b + 1;
                v->next_seq = h->tree_size;
                ls_batch_header_hash(h, v->prev_header_hash);
                v->links_known = 1;
        } else {
                v->next_batch_no = v->have_prev_batch ? v->next_batch_no + 1 : b + 1;
                v->links_known = 0;
        }
        v->have_prev_batch = 1;

        if (ok) {
                v->st.batches_ok++;
                v->a.sum.batches_ok++;
                v->st.records += h->record_count;
                v->a.sum.records += h->record_count;
                if (v->st.first_batch == LS_UNSET) {
                        v->st.first_batch = b;
                        v->st.first_seq = h->first_seq;
                }
                v->st.last_batch = b;
                v->st.last_seq = h->tree_size - 1;
                memcpy(v->last_key_id, h->key_id, LS_KEY_ID_LEN);
                if (v->a.sum.first_seq == LS_UNSET)
                        v->a.sum.first_seq = h->first_seq;
                v->a.sum.last_seq = h->tree_size - 1;
                v->a.sum.min_time_ns = MIN(v->a.sum.min_time_ns, h->min_time_ns);
                v->a.sum.max_time_ns = MAX(v->a.sum.max_time_ns, h->max_time_ns);
                ls_trust_note_signed(v->trust, h);
                v->a.have_last = 1;
                v->a.last = *h;
                v->a.records += h->record_count;
                v->a.min_time = MIN(v->a.min_time, h->min_time_ns);
                v->a.max_time = MAX(v->a.max_time, h->max_time_ns);
                if (has_control)
                        learn_from_records(v, h, raw, rawlen, 1, off);
                if (v->cb.record && (has_control || v->cb.all_records)) {
                        LsPayloadIter it;
                        LsRecord rec;
                        const uint8_t *bytes;
                        size_t len, roff;

                        ls_payload_iter_init(&it, h, raw, rawlen);
                        while (ls_payload_next(&it, &rec, &bytes, &len, NULL, &roff) > 0)
                                if (rec.type == LS_REC_CONTROL || v->cb.all_records)
                                        v->cb.record(v->cb.userdata, h, &rec);
                }
                if (v->cb.batch)
                        v->cb.batch(v->cb.userdata, v->a.file, off, h);
        } else {
                v->st.batches_bad++;
                v->a.sum.batches_bad++;
                v->a.sum.bytes_unverified += j->length;
                v->a.damaged = 1;
        }
}

