/* SPDX-License-Identifier: Apache-2.0 */
/* consistency.c: --consistency OLD NEW: a newer checkpoint extends an older one */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "checkpoint.h"
#include "merkle.h"
#include "util.h"
#include "verify.h"

/*
 * Parses a checkpoint file and asks the trust module whether it is evidence (SPEC §9.3):
 * 0 yes, 1 no (*why), 2 unreadable, 4 authentic but not proven made before its key's epoch
 * ended (*why), 5 signed by a key a revocation covers.
 */
static int consistency_checkpoint(Ctx *c, const char *path, char **ret_text, LsCheckpoint *cp,
                                  const char **why)
{
        LsTrustDecision d;
        size_t n;

        if (read_checkpoint(path, LS_MAX_CHECKPOINT_TEXT + 1, cp, ret_text, &n) < 0)
                return 2;
        ls_trust_check_checkpoint(ls_chain_verifier_trust(c->v), cp, *ret_text, &d);
        *why = d.why;
        switch (d.result) {
        case LS_TRUST_OK:
                if (!d.unbound)
                        return 0;
                *why = "signed with the key of an epoch that has ended, and nothing proves it was "
                       "made before the end: a holder of the erased key could have made it";
                return 4;
        case LS_TRUST_REVOKED:
                return 5;
        case LS_TRUST_UNKNOWN_KEY:
                *why = "not signed by a key certified from the root key for its chain (pass the "
                       "key history with --keys)";
                return 1;
        default:
                return 1;
        }
}

int run_consistency(Ctx *c, const Options *o, const char *old_path, const char *new_path)
{
        const char *proof_path = o->proof;
        LsVerifyCallbacks cb = {.userdata = c};
        LsCheckpoint a, b;
        LsProof pr;
        char *ta = NULL, *tb = NULL, ppath[PATH_MAX];
        const char *why = NULL, *verdict = NULL;
        uint8_t *p = NULL;
        size_t n = 0;
        int r;

        if (ls_chain_verifier_new(&c->v, o->root_pk, &cb) < 0)
                return 2;
        for (size_t i = 0; i < o->nkeyfiles; i++)
                if (load_keys(c, o->keyfiles[i]) < 0)
                        return 2;
        if (!proof_path) {
                snprintf(ppath, sizeof(ppath), "%s.proof", new_path);
                proof_path = ppath;
        }
        /* Both are judged; the worse verdict wins (tampered > error > revoked > partial). */
        r = consistency_checkpoint(c, old_path, &ta, &a, &why);
        /*
         * An OLD signed with the key of an epoch that has ended needs no further proof: if the
         * consistency proof connects it to an authentic NEW, its tree is a prefix of NEW's.
         */
        if (r == 4) {
                r = 0;
                why = NULL;
        }
        if (r == 1 || r >= 4)
                verdict = "the OLD checkpoint's signature";
        if (r != 2) {
                const char *why_b = NULL;
                int rb = consistency_checkpoint(c, new_path, &tb, &b, &why_b);
                if (ls_class_rank((LsClass) rb) > ls_class_rank((LsClass) r)) {
                        r = rb;
                        why = why_b;
                        verdict = rb == 2 ? NULL : "the NEW checkpoint's signature";
                }
        }
        /* Not proven or revoked signatures still get the structural checks (tampered wins). */
        const int go_on = r == 0 || r == 4 || r == 5;
        if (go_on && memcmp(a.chain_id, b.chain_id, LS_CHAIN_ID_LEN) != 0) {
                r = 1;
                verdict = "chain";
                why = "the checkpoints are of different chains";
        }
        if (go_on && r != 1 && a.tree_size > b.tree_size) {
                r = 1;
                verdict = "sizes";
                why = "the OLD checkpoint is larger than the NEW one";
        }
        if (go_on && r != 1) {
                int k = read_file(proof_path, 20 + 32 * LS_MAX_CONSISTENCY_PROOF + 1, &p, &n);
                if (k < 0) {
                        fprintf(stderr, "logseal-verify: %s: %s\n", proof_path, strerror(-k));
                        r = 2;
                } else if (ls_proof_decode(&pr, p, n) < 0 || pr.kind != 2 || pr.a != a.tree_size ||
                           pr.b != b.tree_size) {
                        r = 1;
                        verdict = "proof";
                        why = "not a consistency proof between these two tree sizes";
                } else if (ls_verify_consistency(a.tree_size, b.tree_size, a.root, b.root,
                                                 (const uint8_t(*)[LS_HASH_LEN]) pr.path,
                                                 pr.count) < 0) {
                        r = 1;
                        verdict = "consistency";
                        why = "the proof does not connect the two roots: the NEW chain does not "
                              "extend the OLD one (a fork or a rewritten history)";
                }
        }
        if (o->json) {
                json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s?}", "format",
                                      "logseal-consistency/1", "old", old_path, "new", new_path,
                                      "result",
                                      r == 0 ? "consistent" : r == 1 ? "inconsistent" :
                                      r == 4 ? "not proven" : r == 5 ? "revoked" : "error",
                                      "old_tree_size", (json_int_t) (ta ? a.tree_size : 0),
                                      "new_tree_size", (json_int_t) (tb ? b.tree_size : 0),
                                      "detail", why);
                json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                fputc('\n', stdout);
                json_decref(doc);
        } else if (r == 0) {
                printf("CONSISTENT: %s (%" PRIu64 " records) extends %s (%" PRIu64
                       " records) of chain ",
                       new_path, b.tree_size, old_path, a.tree_size);
                for (size_t i = 0; i < LS_CHAIN_ID_LEN; i++)
                        printf("%02x", a.chain_id[i]);
                printf(": both signed by keys certified from the root key, and the consistency "
                       "proof connects their roots (exit 0)\n");
        } else if (r == 1) {
                printf("TAMPERED OR INCONSISTENT: %s: %s (exit 1)\n", verdict, why);
        } else if (r == 4) {
                printf("NOT PROVEN: %s: %s (exit 4)\n", verdict, why);
        } else if (r == 5) {
                printf("REVOKED: %s: %s (exit 5)\n", verdict, why);
        }
        free(ta);
        free(tb);
        free(p);
        return r;
}

