/* SPDX-License-Identifier: Apache-2.0 */
/* archives.c: archive mode: verify archives as one chain from the root key, compare the
 * --checkpoint files with it, and report */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "hash.h"
#include "util.h"
#include "verify.h"

/*
 * SPEC §9.3 through the trust module: is this checkpoint evidence? 1 when a key that may
 * sign its batch signed it and nothing shows it was made after that key's epoch ended;
 * else 0 and *why.
 */
static int checkpoint_authentic(Ctx *c, Checkpoint *cp, const char **why, int *unbound_only)
{
        LsTrustDecision d;

        *unbound_only = 0;
        cp->authentic = 0;
        ls_trust_check_checkpoint(ls_chain_verifier_trust(c->v), &cp->cp, cp->text, &d);
        if (d.result != LS_TRUST_OK) {
                *why = d.why;
                return 0;
        }
        if (d.unbound) {
                /* It may agree with the evidence all the same: that is stated, not trusted. */
                *unbound_only = 1;
                *why = "it was signed with the key of an epoch that has ended, and nothing proves "
                       "it was made before the end (a holder of the erased key could have made it)";
                return 0;
        }
        return 1;
}

/* The checkpoints that name batch h (its header hash hh as written) compared with it. */
static void match_checkpoints(Ctx *c, const LsBatchHeader *h, const uint8_t *hh)
{
        /* Authenticity is decided at the end, with everything the chain taught (closes). */
        for (size_t i = 0; i < c->ncps; i++) {
                Checkpoint *cp = &c->cps[i];
                /* at the batch it names, or at the batch whose records its tree size ends in */
                if (cp->matched || memcmp(cp->cp.chain_id, h->chain_id, LS_CHAIN_ID_LEN) != 0 ||
                    !((cp->cp.has_batch && cp->cp.batch_no == h->batch_no) ||
                      (cp->cp.tree_size <= h->tree_size && cp->cp.tree_size > h->first_seq)))
                        continue;
                cp->matched = 1;
                cp->matched_batch = h->batch_no;
                cp->matched_time_ns = h->max_time_ns;
                cp->agrees = !memcmp(cp->cp.chain_id, h->chain_id, LS_CHAIN_ID_LEN) &&
                             cp->cp.tree_size == h->tree_size &&
                             ls_hash_equal(cp->cp.root, h->tree_root) && cp->cp.has_batch &&
                             cp->cp.batch_no == h->batch_no && ls_hash_equal(cp->cp.header_hash, hh);
        }
}

static void on_batch(void *ud, const char *file, uint64_t offset, const LsBatchHeader *h)
{
        Ctx *c = ud;
        uint8_t hh[LS_HASH_LEN];

        (void) file;
        (void) offset;
        if (!c->report.have_chain) {
                memcpy(c->report.chain_id, h->chain_id, LS_CHAIN_ID_LEN);
                c->report.have_chain = 1;
        }
        ls_batch_header_hash(h, hh);
        match_checkpoints(c, h, hh);
}

/*
 * A batch read by its envelope (SPEC §1.1): an authentic checkpoint that names it and differs
 * is a fork (tampered) as for any batch; one that agrees proves that header.
 */
static void on_envelope(void *ud, const LsBatchHeader *h, const uint8_t header_hash[32])
{
        match_checkpoints(ud, h, header_hash);
}

static void finish_checkpoints(Ctx *c)
{
        const LsVerifyStats *st = &c->report.stats;
        uint64_t have = st->last_seq == LS_UNSET ? 0 : st->last_seq + 1;

        for (size_t i = 0; i < c->ncps; i++) {
                Checkpoint *cp = &c->cps[i];
                LsFinding f = {.offset = LS_UNSET, .archive_no = LS_UNSET, .file = cp->file};
                const char *why = NULL;
                CheckpointCheck *k = &cp->check;

                f.batch_no = k->batch_no;
                f.seq = LS_UNSET;
                /*
                 * SPEC §7.3: a checkpoint that is not evidence (no trusted key may have signed
                 * it) is reported as such and changes no verdict; only an authentic one can
                 * show a fork or a missing tail.
                 */
                int unbound_only = 0;
                if (c->report.have_chain &&
                    memcmp(cp->cp.chain_id, c->report.chain_id, LS_CHAIN_ID_LEN) != 0) {
                        k->result = CP_UNVERIFIED;
                        snprintf(k->detail, sizeof(k->detail),
                                 "a checkpoint of another chain than this evidence: not compared "
                                 "(it changes no verdict)");
                } else if (!(cp->authentic = checkpoint_authentic(c, cp, &why, &unbound_only)) &&
                    !(unbound_only && cp->matched && cp->agrees)) {
                        k->result = CP_UNVERIFIED;
                        snprintf(k->detail, sizeof(k->detail),
                                 "not authentic, ignored (it changes no verdict): %s", why);
                } else if (cp->matched) {
                        k->result = cp->agrees ? CP_CONSISTENT : CP_FORK;
                        if (cp->agrees)
                                snprintf(k->detail, sizeof(k->detail),
                                         "the evidence contains exactly this tree (batch %" PRIu64
                                         ")%s",
                                         cp->matched_batch,
                                         unbound_only ? "; its key's epoch has ended, so it "
                                                        "proves nothing beyond the evidence" :
                                                        "");
                        else
                                snprintf(k->detail, sizeof(k->detail),
                                         "the chain's tree at this size differs from the signed "
                                         "checkpoint: history was rewritten (fork)");
                } else if (st->first_seq != LS_UNSET && cp->cp.tree_size <= st->first_seq) {
                        k->result = CP_NOT_REACHED;
                        snprintf(k->detail, sizeof(k->detail),
                                 "the evidence starts after this checkpoint");
                } else if (cp->cp.tree_size > have) {
                        k->result = CP_MISSING_TAIL;
                        k->missing_records = cp->cp.tree_size - have;
                        snprintf(k->detail, sizeof(k->detail),
                                 "the evidence ends at %" PRIu64 " records; %" PRIu64
                                 " records up to this checkpoint are missing",
                                 have, k->missing_records);
                } else {
                        k->result = CP_UNVERIFIED;
                        snprintf(k->detail, sizeof(k->detail),
                                 "its tree size falls on no verified batch boundary (the batch "
                                 "it names did not verify)");
                }
                switch (k->result) {
                case CP_FORK:
                        f.cls = LS_CLASS_TAMPERED;
                        f.code = -EILSEQ;
                        f.check = "checkpoint fork";
                        break;
                case CP_MISSING_TAIL:
                        f.cls = LS_CLASS_GAP;
                        f.code = -ENODATA;
                        f.check = "missing tail";
                        break;
                case CP_UNVERIFIED:
                        f.cls = LS_CLASS_NOTE;
                        f.code = -EKEYREJECTED;
                        f.check = "checkpoint not authentic";
                        break;
                default:
                        f.cls = LS_CLASS_NOTE;
                        f.check = "checkpoint";
                        break;
                }
                snprintf(f.detail, sizeof(f.detail), "%s", k->detail);
                if (f.cls != LS_CLASS_NOTE || k->result == CP_UNVERIFIED)
                        report_add_finding(&c->report, &f);
                report_add_checkpoint(&c->report, k);
        }
}

/* ---- callbacks ---- */

static void on_finding(void *ud, const LsFinding *f)
{
        Ctx *c = ud;
        if (report_add_finding(&c->report, f) < 0)
                c->oom = 1;
}

static void on_record(void *ud, const LsBatchHeader *h, const LsRecord *rec)
{
        Ctx *c = ud;

        if (rec->type == LS_REC_CONTROL && report_add_event(&c->report, h, rec, c->current_file) < 0)
                c->oom = 1;
        if (c->dump != DUMP_NONE)
                dump_record(c, rec);
}

static void on_archive(void *ud, const LsArchiveSummary *s)
{
        Ctx *c = ud;
        if (report_add_archive(&c->report, s) < 0)
                c->oom = 1;
}


static void write_text(void *userdata, FILE *f)
{
        report_write_text(userdata, f);
}

/* As ever for archives: a report file is complete when it could be closed. */
static int write_json(void *userdata, FILE *f)
{
        (void) report_write_json(userdata, f);
        return 0;
}

/* One verification of every input, with or without the --keys histories. */
static int verify_pass(Ctx *c, const Options *o, LsVerifyCallbacks *cb, int with_keys)
{
        if (ls_chain_verifier_new(&c->v, o->root_pk, cb) < 0 ||
            ls_chain_verifier_set_jobs(c->v, o->jobs, 0) < 0)
                return -ENOMEM;
        if (c->have_upto)
                ls_chain_verifier_set_upto(c->v, c->cps[c->upto_index].cp.batch_no);
        for (size_t i = 0; with_keys && i < o->nkeyfiles; i++)
                if (load_keys(c, o->keyfiles[i]) < 0)
                        return -EINVAL;
        for (size_t i = 0; i < c->ninputs; i++) {
                int fd = open(c->inputs[i].path, O_RDONLY | O_CLOEXEC);
                c->current_file = c->inputs[i].path;
                if (c->progress)
                        fprintf(stderr, "\r\033[Kverifying %zu/%zu %s", i + 1, c->ninputs,
                                c->inputs[i].path);
                if (fd < 0) {
                        LsFinding f = {.cls = LS_CLASS_IO, .code = -errno, .check = "open",
                                       .file = c->inputs[i].path, .offset = LS_UNSET,
                                       .archive_no = LS_UNSET, .batch_no = LS_UNSET,
                                       .seq = LS_UNSET};
                        snprintf(f.detail, sizeof(f.detail), "%s", strerror(errno));
                        report_add_finding(&c->report, &f);
                        continue;
                }
                ls_chain_verify_archive(c->v, fd, c->inputs[i].path);
        }
        if (c->progress)
                fprintf(stderr, "\r\033[K");
        c->report.verdict = ls_chain_verifier_finish(c->v, &c->report.stats);
        return 0;
}

/* Forgets what a pass found (the report keeps what the command line set). */
static void reset_pass(Ctx *c)
{
        ls_chain_verifier_free(c->v);
        c->v = NULL;
        report_restart(&c->report);
        for (size_t i = 0; i < c->ncps; i++) {
                c->cps[i].matched = c->cps[i].agrees = c->cps[i].authentic = 0;
                c->cps[i].matched_batch = c->cps[i].matched_time_ns = 0;
        }
}

/*
 * SPEC §9.3, conflicting trust material: the --keys history certifies (or closes) an epoch
 * otherwise than the evidence, both validly signed by the key of the epoch before. One of
 * them was made with a copy of that key; the inputs cannot tell which. What the history
 * made the chain's items look like is no verdict on the evidence: it is verified again
 * from the root key and its own certificates, and the conflict is an input error.
 */
void add_conflict_finding(Ctx *c, const LsTrustConflict *k, const Options *o)
{
        char hist[2 * LS_KEY_ID_LEN + 1], ev[2 * LS_KEY_ID_LEN + 1], files[256] = "";
        LsFinding f = {.cls = LS_CLASS_IO, .code = -EILSEQ, .check = "key history conflict",
                       .offset = LS_UNSET, .archive_no = LS_UNSET, .batch_no = LS_UNSET,
                       .seq = LS_UNSET};

        for (size_t i = 0; i < o->nkeyfiles; i++)
                snprintf(files + strlen(files), sizeof(files) - strlen(files), "%s%s",
                         i ? ", " : "", o->keyfiles[i]);
        f.file = o->nkeyfiles == 1 ? o->keyfiles[0] : NULL;
        ls_hex(hist, k->history_key_id, LS_KEY_ID_LEN);
        ls_hex(ev, k->evidence_key_id, LS_KEY_ID_LEN);
        snprintf(f.detail, sizeof(f.detail),
                 "%.40s and the evidence %s epoch %" PRIu64 " differently (history: key %.16s, "
                 "evidence: key %.16s), both signed by the key before: one was made with a copy "
                 "of it. Verified again without that history",
                 files, k->kind == 'X' ? "close" : "certify", k->epoch, hist, ev);
        if (report_add_finding(&c->report, &f) < 0)
                c->oom = 1;
}

/* What the verdict was with the conflicting history, as a note (its worst finding). */
void verdict_with_history(const Ctx *c, LsFinding *f)
{
        *f = (LsFinding){.cls = LS_CLASS_NOTE, .code = -EILSEQ,
                         .check = "verdict with that history", .offset = LS_UNSET,
                         .archive_no = LS_UNSET, .batch_no = LS_UNSET, .seq = LS_UNSET};
        for (size_t i = 0; i < c->report.nfindings; i++) {
                const LsFinding *x = &c->report.findings[i];
                if (x->cls == c->report.verdict) {
                        snprintf(f->detail, sizeof(f->detail), "%s: %.60s: %.150s",
                                 ls_class_name(x->cls), x->check, x->detail);
                        f->batch_no = x->batch_no;
                        f->seq = x->seq;
                        return;
                }
        }
        snprintf(f->detail, sizeof(f->detail), "%s", ls_class_name(c->report.verdict));
}

/*
 * --upto FILE (SPEC §11): the evidence was examined up to that checkpoint's batch. The
 * verdict covers exactly that: intact only when the checkpoint is authentic and bound and
 * the evidence holds exactly its tree; anything else about it is a finding (a fork or a
 * missing tail is one already, from finish_checkpoints).
 */
static void upto_verdict(Ctx *c, const Options *o)
{
        const Checkpoint *u = &c->cps[c->upto_index];
        LsFinding f = {.cls = LS_CLASS_IO, .code = -EKEYREJECTED, .check = "--upto checkpoint",
                       .file = u->file, .offset = LS_UNSET, .archive_no = LS_UNSET,
                       .batch_no = u->cp.batch_no, .seq = LS_UNSET};
        char t[64];

        if (u->check.result == CP_FORK || u->check.result == CP_MISSING_TAIL)
                return;
        if (u->check.result == CP_CONSISTENT && u->authentic &&
            ls_chain_verifier_upto_reached(c->v)) {
                ls_time_format(t, sizeof(t), u->matched_time_ns);
                /* It replaces what the tail cannot exclude: the checkpoint settles the tail. */
                c->report.upto = 1;
                snprintf(c->report.limit, sizeof(c->report.limit),
                         "verified up to batch %" PRIu64 " (tree size %" PRIu64 "), the "
                         "checkpoint the appliance signed at %s (%.200s); later batches were not "
                         "examined.",
                         u->cp.batch_no, u->cp.tree_size, t, o->upto);
                return;
        }
        if (u->check.result == CP_CONSISTENT) {
                /* Signed by a key whose epoch ended after it, its close beyond the checkpoint
                 * (a key change right after it): true, but not proven. A later one will be. */
                f.cls = LS_CLASS_PARTIAL;
                f.code = 0;
                snprintf(f.detail, sizeof(f.detail),
                         "the evidence holds exactly this checkpoint's tree (batch %" PRIu64
                         "), but its key's epoch ended after it and the close that binds the "
                         "epoch lies beyond it: not proven; verify up to a later checkpoint",
                         u->cp.batch_no);
                if (report_add_finding(&c->report, &f) < 0)
                        c->oom = 1;
                return;
        }
        snprintf(f.detail, sizeof(f.detail),
                 "the evidence was to be verified up to this checkpoint (batch %" PRIu64
                 "), but it is not an authentic, bound checkpoint that the evidence reaches: "
                 "%.90s",
                 u->cp.batch_no, u->check.detail);
        if (report_add_finding(&c->report, &f) < 0)
                c->oom = 1;
}

int run_archives(Ctx *c, const Options *o, char *const *paths, size_t npaths)
{
        LsVerifyCallbacks cb = {.finding = on_finding,
                                .record = on_record,
                                .batch = on_batch,
                                .envelope = on_envelope,
                                .archive = on_archive,
                                .userdata = c};
        LsTrustConflict conflict;
        LsFinding with_history;
        int have_conflict = 0, r;

        cb.all_records = c->dump != DUMP_NONE;
        for (size_t i = 0; i < o->ncpfiles; i++)
                if (load_checkpoint(c, o->cpfiles[i]) < 0)
                        return 2;
        if (o->upto) {
                if (load_checkpoint(c, o->upto) < 0)
                        return 2;
                c->have_upto = 1;
                c->upto_index = c->ncps - 1;
                if (!c->cps[c->upto_index].cp.has_batch) {
                        fprintf(stderr, "logseal-verify: %s: --upto needs a logseal checkpoint "
                                        "that names its batch (SPEC §7.2)\n",
                                o->upto);
                        return 2;
                }
        }
        for (size_t i = 0; i < npaths; i++)
                if (add_path(c, paths[i], 0) < 0)
                        return 2;
        if (c->ninputs == 0) {
                fprintf(stderr, "logseal-verify: no archive files found\n");
                return 2;
        }
        sort_inputs(c);

        c->progress = !o->quiet && isatty(STDERR_FILENO);
        r = verify_pass(c, o, &cb, 1);
        if (r < 0)
                return 2;
        if (o->nkeyfiles && ls_trust_conflict(ls_chain_verifier_trust(c->v), &conflict)) {
                have_conflict = 1;
                verdict_with_history(c, &with_history);
                /* a dump has printed already: it is not printed twice */
                if (c->dump == DUMP_NONE) {
                        reset_pass(c);
                        if (verify_pass(c, o, &cb, 0) < 0)
                                return 2;
                }
        }
        finish_checkpoints(c);
        snprintf(c->report.limit, sizeof(c->report.limit), "%s", ls_chain_verifier_guarantee(c->v));
        if (c->have_upto)
                upto_verdict(c, o);
        if (have_conflict) {
                add_conflict_finding(c, &conflict, o);
                if (report_add_finding(&c->report, &with_history) < 0)
                        c->oom = 1;
        }

        {
                const LsKeyInfo *keys;
                size_t n = ls_chain_verifier_keys(c->v, &keys);
                (void) report_set_keys(&c->report, keys, n);
        }
        /* Checkpoint findings may change the verdict. */
        report_raise_verdict(&c->report);
        /* A later root as the trust anchor: a usage error, not tampering (exit 2). */
        if (c->report.stats.batches_ok == 0 && later_root_hint(ls_chain_verifier_trust(c->v)))
                c->report.verdict = LS_CLASS_IO;
        if (c->oom) {
                fprintf(stderr, "logseal-verify: out of memory while building the report\n");
                c->report.verdict = LS_CLASS_IO;
        }
        c->report.finished_ns = now_ns();

        ReportWriter w = {.text = write_text, .json = write_json, .userdata = &c->report};
        if (emit_report(&w, o, c->dump != DUMP_NONE ? stderr : stdout) != 0)
                return 2;
        return fflush(stdout) != 0 ? 2 : (int) c->report.verdict;
}
