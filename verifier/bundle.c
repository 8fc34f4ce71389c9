/* SPDX-License-Identifier: Apache-2.0 */
/* bundle.c: bundle mode: verify an evidence bundle (SPEC §14), a directory or a tar file,
 * on its own, and report */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "hash.h"
#include "merkle.h"
#include "util.h"
#include "bundle-tar.h"
#include "verify.h"

#define BUNDLE_LIST_MAX_RECORDS 100000
#define BUNDLE_LIST_MAX_BYTES (64u << 20)

static void on_bundle_finding(void *ud, const LsFinding *f)
{
        Bundle *b = ud;
        if (report_add_finding(&b->c->report, f) < 0)
                b->c->oom = 1;
}

static void on_bundle_file(void *ud, const LsBundleFile *fi)
{
        Bundle *b = ud;
        BundleFileRow *row;

        if (b->nfiles >= 2 * LS_BUNDLE_MAX_FILES + 2)
                return;
        if ((b->nfiles & (b->nfiles - 1)) == 0) {
                BundleFileRow *q = realloc(b->files, (b->nfiles ? 2 * b->nfiles : 8) * sizeof(*q));
                if (!q) {
                        b->c->oom = 1;
                        return;
                }
                b->files = q;
        }
        row = &b->files[b->nfiles];
        row->name = strdup(fi->name);
        if (!row->name) {
                b->c->oom = 1;
                return;
        }
        row->status = fi->status;
        row->size = fi->size;
        row->have_hash = fi->have_hash;
        memcpy(row->sha256, fi->sha256, LS_HASH_LEN);
        row->authenticated = fi->authenticated;
        b->nfiles++;
}

/* Disclosed records: printed with --dump and listed in the report once verified. */
static void on_bundle_record(void *ud, const LsRecord *rec, const uint8_t *bytes, size_t len,
                             int verified)
{
        Bundle *b = ud;
        BundleRec *q;

        if (!verified)
                return;
        if (b->c->dump != DUMP_NONE)
                dump_record(b->c, rec);
        if (b->nrecs >= BUNDLE_LIST_MAX_RECORDS || len > BUNDLE_LIST_MAX_BYTES - b->rec_bytes) {
                b->recs_not_listed++;
                return;
        }
        if ((b->nrecs & (b->nrecs - 1)) == 0) {
                q = realloc(b->recs, (b->nrecs ? 2 * b->nrecs : 8) * sizeof(*q));
                if (!q) {
                        b->c->oom = 1;
                        return;
                }
                b->recs = q;
        }
        q = &b->recs[b->nrecs];
        q->bytes = malloc(len);
        if (!q->bytes) {
                b->c->oom = 1;
                return;
        }
        memcpy(q->bytes, bytes, len);
        q->len = len;
        b->rec_bytes += len;
        b->nrecs++;
}

/* A bundle's unbound checkpoint was proven a prefix of a bound tree: its finding is void. */
static void bundle_unbound_proven(Bundle *b, const char *by)
{
        for (size_t i = 0; i < b->c->report.nfindings; i++) {
                LsFinding *f = &b->c->report.findings[i];
                if (f->cls == LS_CLASS_PARTIAL && f->check && !strcmp(f->check, "epoch close")) {
                        f->cls = LS_CLASS_NOTE;
                        snprintf(f->detail, sizeof(f->detail),
                                 "the checkpoint's epoch has ended, and the consistency proof of "
                                 "%s shows its tree is a prefix of that checkpoint's: proven",
                                 by);
                }
        }
        b->sum.checkpoint_unbound = 0;
}

/* An authentic checkpoint of another tree than the bundle's. */
static void cp_fork(BundleCp *r, LsFinding *f, const char *detail)
{
        r->result = "fork";
        f->cls = LS_CLASS_TAMPERED;
        f->code = -EILSEQ;
        f->check = "checkpoint fork";
        snprintf(r->detail, sizeof(r->detail), "%s", detail);
}

/* An authentic checkpoint of the bundle's tree, or of a tree proven to extend it. */
static void cp_consistent(Bundle *b, BundleCp *r, const char *which, const char *how)
{
        r->result = "consistent";
        snprintf(r->detail, sizeof(r->detail), "%s tree of %" PRIu64 " records %s", which,
                 r->cp->cp.tree_size, how);
        if (b->sum.checkpoint_unbound)
                bundle_unbound_proven(b, r->cp->file);
}

/*
 * The --checkpoint files against the bundle's checkpoint (SPEC §7.3): only an authentic one
 * counts. Same size: the same tree, or a fork. Larger, with FILE.proof (a consistency proof
 * from the bundle's tree, as `logsealctl checkpoint --since` writes): the later tree extends
 * the bundle's, which also proves a checkpoint of an ended epoch (SPEC §9.4).
 */
static void bundle_checkpoints(Bundle *b)
{
        const LsBundleSummary *s = &b->sum;

        b->cps = calloc(b->c->ncps ? b->c->ncps : 1, sizeof(*b->cps));
        if (!b->cps) {
                b->c->oom = 1;
                return;
        }
        for (size_t i = 0; i < b->c->ncps; i++) {
                Checkpoint *cp = &b->c->cps[i];
                BundleCp *r = &b->cps[b->ncps++];
                LsFinding f = {.cls = LS_CLASS_NOTE, .check = "checkpoint", .file = cp->file,
                               .offset = LS_UNSET, .archive_no = LS_UNSET,
                               .batch_no = cp->cp.has_batch ? cp->cp.batch_no : LS_UNSET,
                               .seq = LS_UNSET};
                LsTrustDecision d;
                char ppath[PATH_MAX];
                uint8_t *p = NULL;
                size_t n = 0;
                LsProof pr;

                r->cp = cp;
                ls_trust_check_checkpoint(ls_bundle_reader_trust(b->reader), &cp->cp, cp->text, &d);
                if (!s->checkpoint_parsed) {
                        r->result = "no-checkpoint";
                        snprintf(r->detail, sizeof(r->detail),
                                 "the bundle has no valid checkpoint to compare it with");
                } else if (d.result != LS_TRUST_OK || d.unbound) {
                        r->result = "unverified";
                        f.code = -EKEYREJECTED;
                        snprintf(r->detail, sizeof(r->detail),
                                 "not authentic, ignored (it changes no verdict): %s",
                                 d.result != LS_TRUST_OK ? d.why :
                                                           "signed with the key of an epoch that "
                                                           "has ended, not proven made before");
                } else if (memcmp(cp->cp.chain_id, s->checkpoint.chain_id, LS_CHAIN_ID_LEN) != 0) {
                        r->result = "other-chain";
                        snprintf(r->detail, sizeof(r->detail),
                                 "names another chain than the bundle's checkpoint");
                } else if (cp->cp.tree_size == s->checkpoint.tree_size) {
                        if (ls_hash_equal(cp->cp.root, s->checkpoint.root) &&
                            cp->cp.batch_no == s->checkpoint.batch_no &&
                            ls_hash_equal(cp->cp.header_hash, s->checkpoint.header_hash)) {
                                cp_consistent(b, r, "the same", "as the bundle's checkpoint");
                        } else {
                                cp_fork(r, &f, "an authentic checkpoint of another tree of the "
                                               "same size: history was rewritten (fork)");
                        }
                } else if (cp->cp.tree_size > s->checkpoint.tree_size &&
                           snprintf(ppath, sizeof(ppath), "%s.proof", cp->file) < (int) sizeof(ppath) &&
                           read_file(ppath, 20 + 32 * LS_MAX_CONSISTENCY_PROOF + 1, &p, &n) == 0) {
                        if (ls_proof_decode(&pr, p, n) < 0 || pr.kind != 2 ||
                            pr.a != s->checkpoint.tree_size || pr.b != cp->cp.tree_size) {
                                r->result = "not-comparable";
                                snprintf(r->detail, sizeof(r->detail),
                                         "its .proof file is not a consistency proof from the "
                                         "bundle's tree size to this one");
                        } else if (ls_verify_consistency(s->checkpoint.tree_size, cp->cp.tree_size,
                                                         s->checkpoint.root, cp->cp.root,
                                                         (const uint8_t(*)[LS_HASH_LEN]) pr.path,
                                                         pr.count) < 0) {
                                cp_fork(r, &f, "the authentic later checkpoint does not extend "
                                               "the bundle's tree: one of them is a rewritten "
                                               "history");
                        } else {
                                cp_consistent(b, r, "a later",
                                              "that extends the bundle's (by its .proof file)");
                        }
                        free(p);
                } else {
                        r->result = "not-comparable";
                        snprintf(r->detail, sizeof(r->detail),
                                 "tree size %" PRIu64 ", the bundle's %" PRIu64
                                 ": consistency cannot be checked without a consistency proof "
                                 "(FILE.proof)",
                                 cp->cp.tree_size, s->checkpoint.tree_size);
                }
                snprintf(f.detail, sizeof(f.detail), "%s", r->detail);
                if (report_add_finding(&b->c->report, &f) < 0)
                        b->c->oom = 1;
        }
}

/* The verified custody record as an event of the report (its batch is not known). */
static void add_custody_event(Ctx *c, const LsBundleSummary *s, const char *path)
{
        _cleanup_free_ LsControlBuilder *cb = malloc(sizeof(*cb));
        LsBatchHeader h = {.batch_no = LS_UNSET};
        LsRecord rec = {.type = LS_REC_CONTROL, .seq = s->custody_seq,
                        .time_ns = s->custody_time_ns};
        const LsBundleText *texts[] = {&s->text, &s->case_id, &s->examiner, &s->filter};
        static const uint16_t tags[] = {LS_TAG_TEXT, LS_TAG_CASE_ID, LS_TAG_EXAMINER,
                                        LS_TAG_FILTER};
        size_t n;

        if (!cb) {
                c->oom = 1;
                return;
        }
        ls_control_begin(cb, LS_CTL_CUSTODY);
        if (s->have_count)
                ls_control_add_u64(cb, LS_TAG_COUNT, s->count);
        for (size_t i = 0; i < ELEMENTSOF(tags); i++)
                if (texts[i]->present)
                        ls_control_add(cb, tags[i], texts[i]->p, texts[i]->len);
        if (s->have_manifest_hash)
                ls_control_add(cb, LS_TAG_MANIFEST_HASH, s->manifest_hash, LS_HASH_LEN);
        if (s->have_action)
                ls_control_add_u16(cb, LS_TAG_ACTION, s->action);
        if (ls_control_end(cb, &rec.body, &n) < 0)
                return;
        rec.body_len = rec.orig_len = (uint32_t) n;
        if (report_add_event(&c->report, &h, &rec, path) < 0)
                c->oom = 1;
}

static void write_text(void *userdata, FILE *f)
{
        bundle_write_text(userdata, f);
}

static int write_json(void *userdata, FILE *f)
{
        return bundle_write_json(userdata, f);
}

/* Frees what one pass over the bundle collected. */
static void bundle_clear(Bundle *b)
{
        b->reader = ls_bundle_reader_free(b->reader);
        for (size_t i = 0; i < b->nrecs; i++)
                free(b->recs[i].bytes);
        free(b->recs);
        b->recs = NULL;
        b->nrecs = b->rec_bytes = 0;
        b->recs_not_listed = 0;
        for (size_t i = 0; i < b->nfiles; i++)
                free(b->files[i].name);
        free(b->files);
        b->files = NULL;
        b->nfiles = 0;
        free(b->cps);
        b->cps = NULL;
        b->ncps = 0;
        memset(&b->sum, 0, sizeof(b->sum));
}

/* One verification of the bundle, with or without the --keys histories: 0, or -errno. */
static int bundle_pass(Ctx *c, const Options *o, Bundle *b, int dfd, int with_keys)
{
        LsBundleCallbacks cb = {.finding = on_bundle_finding,
                                .file = on_bundle_file,
                                .record = on_bundle_record,
                                .userdata = b};
        int r = ls_bundle_reader_new(&b->reader, o->root_pk, &cb);

        if (r >= 0)
                r = ls_bundle_reader_set_jobs(b->reader, o->jobs);
        if (r < 0) {
                fprintf(stderr, "logseal-verify: %s\n", strerror(-r));
                return r;
        }
        for (size_t i = 0; with_keys && i < o->nkeyfiles; i++) {
                uint8_t *p;
                size_t n;
                r = read_file(o->keyfiles[i], LS_BUNDLE_KEYS_MAX, &p, &n);
                if (r == 0) {
                        r = ls_bundle_reader_add_keys(b->reader, p, n, o->keyfiles[i]);
                        free(p);
                }
                if (r < 0) {
                        fprintf(stderr, "logseal-verify: %s: %s\n", o->keyfiles[i],
                                strerror(-r));
                        return r;
                }
        }
        c->report.verdict = ls_bundle_reader_verify(b->reader, dfd, b->path, &b->sum);
        return 0;
}

int run_bundle(Ctx *c, const Options *o, const char *path, int kind)
{
        Bundle b = {.c = c, .path = path, .kind = kind};
        _cleanup_free_ char *tmpdir = NULL;
        _cleanup_close_ int dfd = -1;
        LsTrustConflict conflict;
        LsFinding with_history;
        int r, ret = 2;

        if (kind == BUNDLE_TAR) {
                r = bundle_tar_extract(path, &tmpdir);
                if (r < 0) {
                        if (r != -EBADMSG)
                                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(-r));
                        goto out;
                }
        }
        dfd = open(tmpdir ? tmpdir : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(errno));
                goto out;
        }
        if (bundle_pass(c, o, &b, dfd, 1) < 0)
                goto out;
        /* A --keys history that conflicts with the bundle's own: as in archive mode. */
        if (o->nkeyfiles &&
            ls_trust_conflict(ls_bundle_reader_trust(b.reader), &conflict)) {
                verdict_with_history(c, &with_history);
                if (c->dump == DUMP_NONE) {
                        bundle_clear(&b);
                        report_restart(&c->report);
                        if (bundle_pass(c, o, &b, dfd, 0) < 0)
                                goto out;
                }
                add_conflict_finding(c, &conflict, o);
                if (report_add_finding(&c->report, &with_history) < 0)
                        c->oom = 1;
        }

        if (b.sum.checkpoint_parsed || b.sum.header_ok) {
                memcpy(c->report.chain_id,
                       b.sum.checkpoint_parsed ? b.sum.checkpoint.chain_id : b.sum.header.chain_id,
                       LS_CHAIN_ID_LEN);
                c->report.have_chain = 1;
        }
        bundle_checkpoints(&b);
        /* The only partial finding of a bundle is its unbound checkpoint, now maybe proven. */
        if (c->report.verdict == LS_CLASS_PARTIAL && !b.sum.checkpoint_unbound)
                c->report.verdict = LS_CLASS_INTACT;
        {
                const LsKeyInfo *keys;
                size_t n = ls_bundle_reader_keys(b.reader, &keys);
                if (report_set_keys(&c->report, keys, n) < 0)
                        c->oom = 1;
        }
        /* The custody record is an event of the chain, once authenticated. */
        if (b.sum.custody_ok)
                add_custody_event(c, &b.sum, path);
        c->report.stats.records = b.sum.records_verified;
        c->report.stats.first_batch = c->report.stats.last_batch = LS_UNSET;
        c->report.stats.first_seq = c->report.stats.last_seq = LS_UNSET;
        c->report.stats.tree_checked_all = 0;
        report_raise_verdict(&c->report);
        if (c->oom) {
                fprintf(stderr, "logseal-verify: out of memory while building the report\n");
                c->report.verdict = LS_CLASS_IO;
        }
        /* A later root as the trust anchor: a usage error, not tampering (exit 2). */
        if (!b.sum.checkpoint_verified && later_root_hint(ls_bundle_reader_trust(b.reader)))
                c->report.verdict = LS_CLASS_IO;
        /* SPEC §11.1: what an INTACT bundle cannot exclude, given what was supplied. */
        if (b.sum.checkpoint_verified && b.sum.have_signer && !b.sum.signer_epoch_ended &&
            !b.sum.signer.in_history)
                snprintf(c->report.limit, sizeof(c->report.limit),
                         "Nothing you supplied comes from after this bundle was made: if a copy "
                         "of the key of epoch %" PRIu64 " that signed its checkpoint (or of a key "
                         "that handed over to it) survived the appliance's erasure, a bundle made "
                         "with it cannot be excluded. Verify with the agency's current key "
                         "history (--keys, from logsealctl key export-history) to exclude it.",
                         b.sum.signer.epoch);
        c->report.finished_ns = now_ns();

        ReportWriter w = {.text = write_text, .json = write_json, .userdata = &b};
        if (emit_report(&w, o, c->dump != DUMP_NONE ? stderr : stdout) != 0)
                goto out;
        ret = fflush(stdout) != 0 ? 2 : (int) c->report.verdict;
out:
        if (tmpdir)
                bundle_tar_remove(tmpdir);
        bundle_clear(&b);
        return ret;
}

