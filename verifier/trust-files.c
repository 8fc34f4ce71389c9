/* SPDX-License-Identifier: Apache-2.0 */
/* trust-files.c: the key histories and checkpoints an investigator passes with --keys and
 * --checkpoint, loaded into the trust module */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "hash.h"
#include "keys.h"
#include "util.h"
#include "verify.h"

#define MAX_KEYFILE (64u << 20)

typedef struct KeysLoad {
        Ctx *c;
        const char *path;
        int rejected, other_chain;
} KeysLoad;

static void on_key_item(void *ud, size_t offset, char kind, int result, const char *why)
{
        KeysLoad *kl = ud;
        const char *what = kind == 'C' ? "certificate" : kind == 'R' ? "revocation" : "epoch close";

        if (result == -EXDEV) {
                kl->other_chain++;
                return;
        }
        if (result == -EILSEQ) {
                /* Two histories disagree about what an epoch sealed: a key was misused. */
                LsFinding f = {.cls = LS_CLASS_TAMPERED, .code = -EILSEQ, .check = "epoch close",
                               .file = kl->path, .offset = offset, .archive_no = LS_UNSET,
                               .batch_no = LS_UNSET, .seq = LS_UNSET};
                snprintf(f.detail, sizeof(f.detail), "%s in the key history contradicts what is "
                                                     "known: %s",
                         what, why ? why : "conflict");
                if (report_add_finding(&kl->c->report, &f) < 0)
                        kl->c->oom = 1;
                return;
        }
        kl->rejected++;
        fprintf(stderr, "logseal-verify: %s: offset %zu: %s not accepted: %s\n", kl->path, offset,
                what, why ? why : "rejected");
}

/* The anchor given is a later root: say so, and name the root to use (exit 2). */
int later_root_hint(LsTrust *t)
{
        uint8_t issuer[LS_KEY_ID_LEN];
        char hex[2 * LS_KEY_ID_LEN + 1];
        uint64_t gen;

        if (!ls_trust_anchor_is_later_root(t, issuer, &gen))
                return 0;
        ls_hex(hex, issuer, LS_KEY_ID_LEN);
        fprintf(stderr,
                "logseal-verify: the evidence is not certified from the root key you gave, and it "
                "holds a root certificate naming that key as root generation %" PRIu64
                ", issued by key %s: it looks like a later root of the appliance. Verify with the "
                "agency's first root public key (generation 0), whose fingerprint you obtained "
                "from the agency; trust carries forward to later roots.%s%s%s That certificate is "
                "not authenticated: never take a root key from the evidence.\n",
                gen, hex, gen == 1 ? " Its key id should be " : "", gen == 1 ? hex : "",
                gen == 1 ? "." : "");
        return 1;
}

int load_keys(Ctx *c, const char *path)
{
        uint8_t *p;
        size_t n, off = 0;
        KeysLoad kl = {.c = c, .path = path};
        int r = read_file(path, MAX_KEYFILE, &p, &n);

        if (r < 0) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(-r));
                return r;
        }
        ls_chain_verifier_set_history(c->v);
        /* SPEC §10.3 through the trust module: any order, each item under §9.3. */
        r = ls_trust_load_history(ls_chain_verifier_trust(c->v), p, n, on_key_item, &kl, &off);
        free(p);
        if (r < 0) {
                fprintf(stderr,
                        "logseal-verify: %s: offset %zu: not a certificate, revocation or epoch "
                        "close\n",
                        path, off);
                return -EBADMSG;
        }
        if (kl.rejected) {
                if (later_root_hint(ls_chain_verifier_trust(c->v)))
                        return -EKEYREJECTED;
                /* Never ignore quietly what an investigator was handed as trust material. */
                fprintf(stderr,
                        "logseal-verify: %s: %d certificate(s), revocation(s) or close(s) do not "
                        "verify from the root key\n",
                        path, kl.rejected);
                return -EKEYREJECTED;
        }
        return 0;
}

/* ---- checkpoints ---- */

/* A checkpoint file read and parsed (errors printed). */
int read_checkpoint(const char *path, size_t max, LsCheckpoint *cp, char **ret_text,
                    size_t *ret_len)
{
        uint8_t *p;
        size_t n, off = 0;
        int r = read_file(path, max, &p, &n);

        if (r < 0) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(-r));
                return r;
        }
        r = ls_checkpoint_parse(cp, (const char *) p, n, &off);
        if (r < 0) {
                fprintf(stderr, "logseal-verify: %s: byte %zu: not a valid logseal checkpoint\n",
                        path, off);
                free(p);
                return r;
        }
        *ret_text = (char *) p;
        *ret_len = n;
        return 0;
}

int load_checkpoint(Ctx *c, const char *path)
{
        Checkpoint *cp = realloc(c->cps, (c->ncps + 1) * sizeof(*cp));
        int r;

        if (!cp)
                return -ENOMEM;
        c->cps = cp;
        cp = &c->cps[c->ncps];
        memset(cp, 0, sizeof(*cp));
        r = read_checkpoint(path, LS_MAX_CHECKPOINT_TEXT, &cp->cp, &cp->text, &cp->len);
        if (r < 0)
                return r;
        cp->file = strdup(path);
        cp->check.file = cp->file;
        cp->check.tree_size = cp->cp.tree_size;
        cp->check.batch_no = cp->cp.has_batch ? cp->cp.batch_no : LS_UNSET;
        c->ncps++;
        return 0;
}

