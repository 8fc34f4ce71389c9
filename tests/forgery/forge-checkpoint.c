/* SPDX-License-Identifier: Apache-2.0 */
/* forge, item 3: forged, wrongly signed and unsigned checkpoints (main is in forge.c) */
#include "forge.h"

static int read_checkpoint(const char *path, char **ret_text, size_t *ret_len, LsCheckpoint *cp)
{
        uint8_t *p;
        size_t n, off = 0;

        TRY(tu_read_file(path, LS_MAX_CHECKPOINT_TEXT, &p, &n), "%s", path);
        if (ls_checkpoint_parse(cp, (const char *) p, n, &off) < 0) {
                free(p);
                return log_err(0, "%s: byte %zu: not a checkpoint", path, off);
        }
        *ret_text = (char *) p;
        *ret_len = n;
        return 0;
}

/*
 * Issue 12 item 3: NEW extends a genuine OLD checkpoint by fabricated leaves and is signed with
 * the stolen (superseded or revoked) key; by default without the logseal-batch-v1 line.
 */
int cmd_checkpoint_3line(Forge *f, const Opts *o, int n, char **paths)
{
        _cleanup_free_ char *old_text = NULL, *proof_path = NULL;
        size_t old_len, len, plen;
        LsCheckpoint old, nw;
        LsBatchHeader h;
        const uint8_t *bytes;
        uint8_t root[LS_HASH_LEN], prev[LS_HASH_LEN] = {0}, sig[LS_SIG_LEN];
        uint8_t proof[LS_MAX_CONSISTENCY_PROOF][LS_HASH_LEN],
                enc[20 + 32 * LS_MAX_CONSISTENCY_PROOF];
        char body[LS_NOTE_BODY_MAX], text[LS_MAX_CHECKPOINT_TEXT], hex[2 * LS_CHAIN_ID_LEN + 1];
        char b64[64];
        unsigned count;
        uint64_t m, t;
        int tn;

        TRY(need("--key", o->key) | need("--out", o->out), "options");
        TRY(load_key(f, o->key), "key");
        TRY(load_chain(f, paths, n, 0), "archives");
        if (o->old) {
                TRY(read_checkpoint(o->old, &old_text, &old_len, &old), "OLD");
        } else {
                /* no OLD: extend the end of the archives */
                memcpy(old.chain_id, f->chain_id, LS_CHAIN_ID_LEN);
                old.tree_size = f->nleaves;
                ls_merkle_root(&f->tree, old.root);
        }
        m = old.tree_size;
        if (memcmp(old.chain_id, f->chain_id, LS_CHAIN_ID_LEN) || m == 0 || m > f->nleaves)
                return log_err(0, "%s: not a checkpoint within these archives", o->old);
        TRY(ls_merkle_subtree_hash(leaf_fn, f, 0, m, root), "tree");
        if (!ls_hash_equal(root, old.root))
                return log_err(0, "%s: its root is not the archives' tree at size %" PRIu64, o->old,
                               m);
        /* the genuine tree up to OLD, then the fabricated batch */
        f->nleaves = m;
        TRY(tree_at(f, m, &f->tree), "tree");
        for (size_t i = 0; i < f->nheaders; i++)
                if (o->have_batch && o->batch > 0 && f->headers[i].batch_no == o->batch - 1)
                        ls_batch_header_hash(&f->headers[i], prev);
        t = f->last.max_time_ns + o->days * DAY_NS;
        TRY(forge_begin(f, f->last_archive_no + 1, o->have_batch ? o->batch : f->last.batch_no + 1,
                        prev),
            "batch");
        TRY(forge_messages(f, t, (unsigned) o->records, o->host, "appended", 0), "messages");
        TRY(forge_finish(f, &h, &bytes, &len), "batch");
        if (o->have_batch) {
                tn = ls_batch_checkpoint(&h, f->key->pk, text, sizeof(text));
        } else {
                ls_hex(hex, f->chain_id, LS_CHAIN_ID_LEN);
                ls_base64(b64, h.tree_root, LS_HASH_LEN);
                tn = snprintf(body, sizeof(body), "logseal/%s\n%" PRIu64 "\n%s\n", hex, h.tree_size,
                              b64);
                TRY(ls_sign(&f->signer, NULL, (const uint8_t *) body, (size_t) tn, sig), "sign");
                tn = ls_checkpoint_format(text, sizeof(text), body, (size_t) tn, f->key->pk, sig);
        }
        TRY(tn, "checkpoint");
        TRY(check_checkpoint(text, (size_t) tn, f->key->pk, o->have_batch, &nw), "self-check");
        TRY(ls_consistency_proof(leaf_fn, f, m, nw.tree_size, proof, &count), "proof");
        TRY(ls_verify_consistency(m, nw.tree_size, old.root, nw.root,
                                  (const uint8_t(*)[LS_HASH_LEN]) proof, count),
            "self-check: consistency proof");
        {
                LsProof p = {.kind = LS_PROOF_CONSISTENCY,
                             .count = count,
                             .a = m,
                             .b = nw.tree_size,
                             .path = &proof[0][0]};
                TRY(ls_proof_encode(&p, enc, sizeof(enc), &plen), "proof");
        }
        if (!o->proof && asprintf(&proof_path, "%s.proof", o->out) < 0)
                return -ENOMEM;
        TRY(write_file(o->out, text, (size_t) tn), "NEW");
        if (o->old)
                TRY(write_file(o->proof ? o->proof : proof_path, enc, plen), "proof");
        fprintf(stderr,
                PROG ": %d-line checkpoint of %" PRIu64 " records extends %s (%" PRIu64
                     ") by %" PRIu64 " fabricated records\n",
                o->have_batch ? 4 : 3, nw.tree_size, o->old ? o->old : "the archives", m,
                nw.tree_size - m);
        printf("%s\n", o->out);
        if (o->old)
                printf("%s\n", o->proof ? o->proof : proof_path);
        return 0;
}

/* Issue 12 item 3 (archive mode): a checkpoint of batch B signed by a key that may not sign B. */
int cmd_checkpoint_wrong_key(Forge *f, const Opts *o, int n, char **paths)
{
        const LsBatchHeader *g = NULL;
        char body[LS_NOTE_BODY_MAX], text[LS_MAX_CHECKPOINT_TEXT];
        uint8_t sig[LS_SIG_LEN];
        LsCheckpoint cp;
        int tn;

        TRY(need("--key", o->key) | need("--out", o->out), "options");
        if (!o->have_batch)
                return log_err(0, "--batch is required");
        TRY(load_key(f, o->key), "key");
        TRY(load_chain(f, paths, n, 0), "archives");
        for (size_t i = 0; i < f->nheaders; i++)
                if (f->headers[i].batch_no == o->batch)
                        g = &f->headers[i];
        if (!g)
                return log_err(0, "batch %" PRIu64 " is not in the archives", o->batch);
        if (!memcmp(g->key_id, f->key->key_id, LS_KEY_ID_LEN))
                fprintf(stderr, PROG ": note: batch %" PRIu64 " was signed by this very key\n",
                        o->batch);
        if (!o->fork) {
                tn = ls_batch_note_body(g, body, sizeof(body));
                TRY(tn, "body");
                TRY(ls_sign(&f->signer, NULL, (const uint8_t *) body, (size_t) tn, sig), "sign");
                tn = ls_checkpoint_format(text, sizeof(text), body, (size_t) tn, f->key->pk, sig);
        } else {
                LsBatchHeader h;
                const uint8_t *bytes;
                size_t len;
                uint64_t t = g->max_time_ns;
                TRY(tree_at(f, g->first_seq, &f->tree), "tree");
                f->nleaves = g->first_seq;
                TRY(forge_begin(f, g->archive_no, g->batch_no, g->prev_header_hash), "batch");
                TRY(forge_messages(f, t, g->record_count, o->host, "rewritten", 0), "messages");
                TRY(forge_finish(f, &h, &bytes, &len), "batch");
                if (h.tree_size != g->tree_size || ls_hash_equal(h.tree_root, g->tree_root))
                        return log_err(0, "self-check: not a fork");
                tn = ls_batch_checkpoint(&h, f->key->pk, text, sizeof(text));
        }
        TRY(tn, "checkpoint");
        TRY(check_checkpoint(text, (size_t) tn, f->key->pk, 1, &cp), "self-check");
        TRY(write_file(o->out, text, (size_t) tn), "out");
        printf("%s\n", o->out);
        return 0;
}

/* Issue 12 item 12: a checkpoint no appliance key signed, claiming a larger (or another) tree. */
int cmd_unsigned_checkpoint(Forge *f, const Opts *o, int n, char **paths)
{
        LsKeyPair *k = NULL;
        LsSigner s;
        LsCheckpoint cp;
        uint8_t root[LS_HASH_LEN], hh[LS_HASH_LEN], sig[LS_SIG_LEN];
        char body[LS_NOTE_BODY_MAX], text[LS_MAX_CHECKPOINT_TEXT];
        uint64_t size, batch;
        int bn, tn, r;

        TRY(need("--out", o->out), "options");
        TRY(load_chain(f, paths, n, 0), "archives");
        size = o->fork ? f->last.tree_size : f->last.tree_size + o->grow;
        batch = o->fork ? f->last.batch_no : f->last.batch_no + 1 + o->grow / 100;
        randombytes_buf(root, sizeof(root));
        randombytes_buf(hh, sizeof(hh));
        TRY(ls_keypair_generate(&k, 0), "key");
        ls_signer_from_keypair(&s, k);
        bn = ls_checkpoint_body(body, sizeof(body), f->chain_id, size, root, batch, hh);
        r = bn < 0 ? bn : ls_sign(&s, NULL, (const uint8_t *) body, (size_t) bn, sig);
        tn = r < 0 ? r : ls_checkpoint_format(text, sizeof(text), body, (size_t) bn, k->pk, sig);
        r = tn < 0 ? tn : check_checkpoint(text, (size_t) tn, k->pk, 1, &cp);
        ls_keypair_free(k);
        TRY(r, "checkpoint");
        TRY(write_file(o->out, text, (size_t) tn), "out");
        printf("%s\n", o->out);
        return 0;
}
