/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chain-summary.c: the end of a run: the key review, the verdict and what it guarantees
 * (SPEC §11.1)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chain-verify-internal.h"

static LsClass class_of(LsTrustResult r)
{
        return r == LS_TRUST_REVOKED ? LS_CLASS_REVOKED : LS_CLASS_TAMPERED;
}

static void on_review(void *ud, const LsKeyInfo *k, LsTrustResult result, const char *detail)
{
        LsChainVerifier *v = ud;

        chain_report(v, class_of(result), -EKEYREJECTED,
                     result == LS_TRUST_REVOKED ? "revoked" : "epoch close", LS_UNSET,
                     k->last_signed, LS_UNSET, "%s", detail);
}

/* SPEC §11.1: what the verdict guarantees given what the investigator supplied. */
static void make_guarantee(LsChainVerifier *v)
{
        const LsKeyInfo *k;
        const LsEpochClose *c;

        v->guarantee[0] = 0;
        if (v->st.last_batch == LS_UNSET)
                return;
        k = ls_trust_key(v->trust, v->last_key_id);
        if (!k || k->is_root)
                return;
        c = ls_trust_close(v->trust, k->chain_id, k->epoch);
        if (!ls_trust_epoch_ended(v->trust, k)) {
                /* only a history that itself certifies the last key says it is still in use */
                if (!k->in_history)
                        snprintf(v->guarantee, sizeof(v->guarantee),
                                 "Nothing you supplied comes from after this evidence: if a copy "
                                 "of any signing key it relies on survived the appliance's "
                                 "erasure, a truncation or rewrite after batch %" PRIu64
                                 " (the chain cut there and continued with fabricated batches) "
                                 "cannot be excluded. Supply the appliance's current key history "
                                 "(logsealctl key export-history) or a checkpoint published later "
                                 "to exclude it.",
                                 v->st.first_batch);
                else
                        snprintf(v->guarantee, sizeof(v->guarantee),
                                 "The key history you supplied shows the key of epoch %" PRIu64
                                 ", which signed the last batch, still in use: what it sealed "
                                 "after batch %" PRIu64
                                 " (a truncation of the tail) cannot be excluded without a "
                                 "checkpoint published later.",
                                 k->epoch, v->st.last_batch);
        } else if (c && c->last_batch_no == v->st.last_batch) {
                snprintf(v->guarantee, sizeof(v->guarantee),
                         "The evidence ends exactly at the end of epoch %" PRIu64
                         ", as its signed close states; the key history shows later epochs, "
                         "whose batches are not part of this evidence.",
                         k->epoch);
        } else if (!c && !(k->cert_flags & LS_CERT_F_CLOSED)) {
                snprintf(v->guarantee, sizeof(v->guarantee),
                         "The key history shows that epoch %" PRIu64
                         " ended, but its format-1 certificate does not bind the epoch to what "
                         "it sealed: a truncation after batch %" PRIu64
                         " and batches fabricated with a copy of that erased key cannot be "
                         "excluded. A checkpoint published later would settle it.",
                         k->epoch, k->valid_from_batch);
        }
}

void ls_chain_verifier_set_history(LsChainVerifier *v)
{
        v->have_history = 1;
}

/* The last key of the evidence is format 2 and has ended, but its close is not known. */
static int unbound_tail(LsChainVerifier *v)
{
        const LsKeyInfo *k;

        if (v->st.last_batch == LS_UNSET)
                return 0;
        k = ls_trust_key(v->trust, v->last_key_id);
        return k && !k->is_root && (k->cert_flags & LS_CERT_F_CLOSED) &&
               ls_trust_epoch_ended(v->trust, k) && !ls_trust_close(v->trust, k->chain_id, k->epoch);
}

LsClass ls_chain_verifier_finish(LsChainVerifier *v, LsVerifyStats *ret)
{
        LsClass c = LS_CLASS_INTACT;
        uint64_t known;

        chain_report_gap(v);
        v->a.file = NULL;
        memset(&v->a.hdr, 0, sizeof(v->a.hdr));
        v->a.have_header = 0;
        /* Closes and revocations learnt after a key's batches apply to them too (§9.3). */
        ls_trust_review(v->trust, on_review, v);
        if (v->st.batches_ok == 0 && v->st.batches_bad == 0 && v->st.batches_later == 0) {
                chain_report(v, LS_CLASS_IO, -ENODATA, "evidence", LS_UNSET, LS_UNSET, LS_UNSET,
                             "no batches found");
        } else {
                if (v->first_archive_seen && v->first_archive_no != 0)
                        chain_report(v, LS_CLASS_PARTIAL, 0, "chain start", LS_UNSET,
                                     v->st.first_batch, v->st.first_seq,
                                     "evidence starts at archive %" PRIu64
                                     ", not at the chain's first archive",
                                     v->first_archive_no);
                known = v->have_chain ? ls_trust_known_last_batch(v->trust, v->chain_id) : LS_UNSET;
                /* batches of a later format count for how far the evidence reaches (§1.1) */
                uint64_t last = v->st.last_batch;
                if (v->st.later_last_batch != LS_UNSET &&
                    (last == LS_UNSET || v->st.later_last_batch > last))
                        last = v->st.later_last_batch;
                if (v->upto_reached)
                        ; /* the evidence ends at batch upto by request: its tail is not judged */
                else if (known != LS_UNSET && (last == LS_UNSET || last < known))
                        chain_report(
                                v, LS_CLASS_GAP, -ENODATA, "truncated chain", LS_UNSET,
                                v->st.last_batch, v->st.last_seq,
                                "the signed epoch closes you supplied show that the chain reached "
                                "batch %" PRIu64 ", but the evidence ends at batch %" PRIu64
                                ": the batches after it are missing",
                                known, last);
                else if (unbound_tail(v))
                        chain_report(
                                v, LS_CLASS_PARTIAL, 0, "epoch close", LS_UNSET, v->st.last_batch,
                                v->st.last_seq,
                                "the evidence ends in an epoch that has ended (a successor key is "
                                "certified) but whose signed close is missing: what that epoch "
                                "sealed is not bound (SPEC §9.4)");
                else if (v->last_archive_open)
                        chain_report(
                                v, LS_CLASS_PARTIAL, 0, "open archive", LS_UNSET, v->st.last_batch,
                                v->st.last_seq,
                                "the last archive is open (not sealed): evidence may continue");
        }
        make_guarantee(v);
        {
                const LsKeyInfo *keys;
                v->st.keys = ls_trust_keys(v->trust, &keys);
        }
        for (int k = LS_CLASS_INTACT; k < LS_CLASS_NOTE; k++)
                if (v->st.findings[k] && ls_class_rank(k) > ls_class_rank(c))
                        c = k;
        if (ret)
                *ret = v->st;
        return c;
}

const char *ls_chain_verifier_guarantee(const LsChainVerifier *v)
{
        return v->guarantee;
}
