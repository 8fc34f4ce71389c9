/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chain-verify.c: the verification procedure of SPEC §6.3, §8, §9.3 and §11: classes,
 * findings, keys and setup. The procedure itself is in chain-archive.c, chain-batch.c,
 * chain-batch-job.c and chain-summary.c (chain-verify-internal.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chain-verify-internal.h"
#include "util.h"

const char *ls_class_name(LsClass c)
{
        switch (c) {
        case LS_CLASS_INTACT:
                return "intact";
        case LS_CLASS_TAMPERED:
                return "tampered";
        case LS_CLASS_IO:
                return "error";
        case LS_CLASS_GAP:
                return "gap";
        case LS_CLASS_PARTIAL:
                return "partial";
        case LS_CLASS_REVOKED:
                return "revoked";
        case LS_CLASS_NOTE:
                return "note";
        }
        return "unknown";
}

int ls_class_rank(LsClass c)
{
        switch (c) {
        case LS_CLASS_INTACT:
                return 0;
        case LS_CLASS_PARTIAL:
                return 1;
        case LS_CLASS_GAP:
                return 2;
        case LS_CLASS_REVOKED:
                return 3;
        case LS_CLASS_IO:
                return 4;
        case LS_CLASS_TAMPERED:
                return 5;
        case LS_CLASS_NOTE:
                break;
        }
        return -1;
}

void chain_report(LsChainVerifier *v, LsClass cls, int code, const char *check, uint64_t offset,
                  uint64_t batch_no, uint64_t seq, const char *fmt, ...)
{
        LsFinding f = {
                .cls = cls,
                .code = code,
                .check = check,
                .file = v->a.file,
                .offset = offset,
                .archive_no = v->a.have_header ? v->a.hdr.archive_no : LS_UNSET,
                .batch_no = batch_no,
                .seq = seq,
        };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(f.detail, sizeof(f.detail), fmt, ap);
        va_end(ap);
        v->st.findings[cls]++;
        if (v->cb.finding)
                v->cb.finding(v->cb.userdata, &f);
}

/* ---- keys: every decision is the trust module's (trust.c, SPEC §9.3) ---- */

int ls_chain_verifier_add_cert(LsChainVerifier *v, const LsCert *c, const char *source)
{
        (void) source;
        return ls_trust_add_cert(v->trust, c, NULL);
}

int ls_chain_verifier_add_revocation(LsChainVerifier *v, const LsRevocation *rv,
                                     const char *source)
{
        (void) source;
        return ls_trust_add_revocation(v->trust, rv, NULL);
}

int ls_chain_verifier_add_close(LsChainVerifier *v, const LsEpochClose *c, const char *source)
{
        (void) source;
        return ls_trust_add_close(v->trust, c, NULL);
}

LsTrust *ls_chain_verifier_trust(LsChainVerifier *v)
{
        return v->trust;
}
/* ---- setup ---- */

int ls_chain_verifier_new(LsChainVerifier **ret, const uint8_t root_pk[LS_PK_LEN],
                          const LsVerifyCallbacks *cb)
{
        LsChainVerifier *v = calloc(1, sizeof(*v));
        int r;

        if (!v)
                return -ENOMEM;
        if (cb)
                v->cb = *cb;
        v->jobs = 1;
        v->budget = DEFAULT_BUDGET;
        v->max_count = 1;
        r = ls_trust_new(&v->trust, root_pk);
        if (r < 0) {
                ls_chain_verifier_free(v);
                return r;
        }
        v->tree_valid = 1;
        ls_merkle_init(&v->tree);
        v->st.first_batch = v->st.last_batch = LS_UNSET;
        v->st.first_seq = v->st.last_seq = LS_UNSET;
        v->st.later_last_batch = LS_UNSET;
        v->later_batch = LS_UNSET;
        v->st.tree_checked_all = 1;
        v->last_time = LS_UNSET;
        v->upto = LS_UNSET;
        *ret = v;
        return 0;
}

LsChainVerifier *ls_chain_verifier_free(LsChainVerifier *v)
{
        if (!v)
                return NULL;
        ls_pool_free(v->pool);
        while (v->win_head) {
                BatchJob *j = v->win_head;
                v->win_head = j->next;
                j->next = v->free_jobs;
                v->free_jobs = j;
        }
        while (v->free_jobs) {
                BatchJob *j = v->free_jobs;
                v->free_jobs = j->next;
                chain_job_free(j);
        }
        ls_trust_free(v->trust);
        free(v);
        return NULL;
}

int ls_chain_verifier_set_jobs(LsChainVerifier *v, unsigned jobs, size_t budget)
{
        LsPool *p = NULL;
        int r;

        if (v->win_head)
                return -EBUSY;
        if (jobs == 0)
                jobs = ls_online_cpus();
        if (jobs > 1) {
                r = ls_pool_new(&p, jobs);
                if (r < 0)
                        return r;
        }
        ls_pool_free(v->pool);
        v->pool = p;
        v->jobs = jobs;
        v->budget = budget ? budget : DEFAULT_BUDGET;
        /* enough batches in flight to keep every worker busy while the oldest is taken */
        v->max_count = jobs > 1 ? 4 * jobs : 1;
        return 0;
}

size_t ls_chain_verifier_keys(const LsChainVerifier *v, const LsKeyInfo **ret)
{
        return ls_trust_keys(v->trust, ret);
}

