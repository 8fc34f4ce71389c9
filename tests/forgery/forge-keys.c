/* SPDX-License-Identifier: Apache-2.0 */
/* forge, epoch closes and a rogue certificate (main is in forge.c) */
#include "forge.h"

/*
 * Not a forgery: the epoch close (SPEC §9.4) the appliance writes when epoch E ends, signed by
 * the key of epoch E+1 (a genuine key file copied while epoch E+1 was current). Lets the suite
 * check the verifier's close rules against the forgeries before the daemon writes closes.
 */
int cmd_emulate_close(Forge *f, const Opts *o, int n, char **paths)
{
        LsEpochClose c = {0};
        const LsBatchHeader *last = NULL;
        uint8_t enc[LS_CLOSE_LEN];
        LsEpochClose back;

        TRY(need("--key", o->key) | need("--out", o->out), "options");
        if (!o->have_epoch)
                return log_err(0, "--epoch E (the epoch to close) is required");
        TRY(load_key(f, o->key), "key");
        TRY(load_chain(f, paths, n, 0), "archives");
        if (o->epoch > 0)
                return log_err(0, "only epoch 0 (no previous close to link to)");
        for (size_t i = 0; i < f->nheaders; i++) {
                const LsBatchHeader *h = &f->headers[i];
                if (h->epoch != o->epoch)
                        continue;
                if (last && memcmp(h->key_id, last->key_id, LS_KEY_ID_LEN))
                        return log_err(0, "two keys sign epoch %" PRIu64, o->epoch);
                last = h;
                c.max_time_ns = MAX(c.max_time_ns, h->max_time_ns);
        }
        if (!last)
                return log_err(0, "no batch of epoch %" PRIu64 " in the archives", o->epoch);
        if (f->nheaders && f->headers[f->nheaders - 1].batch_no == last->batch_no)
                return log_err(0, "epoch %" PRIu64 " has not ended in these archives", o->epoch);
        memcpy(c.chain_id, f->chain_id, LS_CHAIN_ID_LEN);
        memcpy(c.closed_key_id, last->key_id, LS_KEY_ID_LEN);
        c.closed_epoch = o->epoch;
        c.last_batch_no = last->batch_no;
        c.tree_size = last->tree_size;
        memcpy(c.tree_root, last->tree_root, LS_HASH_LEN);
        ls_batch_header_hash(last, c.last_header_hash);
        c.issued_ns = last->max_time_ns + 1;
        TRY(ls_close_sign(&c, &f->signer), "close");
        ls_close_encode(&c, enc);
        TRY(ls_close_decode(&back, enc, sizeof(enc)), "self-check: close");
        TRY(ls_close_verify(&back, f->key->pk), "self-check: close signature");
        TRY(write_file(o->out, enc, sizeof(enc)), "out");
        fprintf(stderr,
                PROG ": close of epoch %" PRIu64 ": last batch %" PRIu64 ", tree size %" PRIu64
                     "\n",
                o->epoch, c.last_batch_no, c.tree_size);
        printf("%s\n", o->out);
        return 0;
}

/*
 * F3 of the trust review: with a copy of the key of epoch E, a certificate of a key of the
 * forger's for epoch E+1, from the batch where the genuine epoch E+1 starts in the archives
 * (or right after them), to hand to an investigator in a key history. The genuine chain
 * carries its own certificate for that epoch: the two conflict.
 */
int cmd_rogue_cert(Forge *f, const Opts *o, int n, char **paths)
{
        LsCert c = {.kind = LS_CERT_SIGNING, .flags = LS_CERT_F_CLOSED};
        LsKeyPair *rogue = NULL;
        uint8_t enc[LS_CERT_LEN];
        char hex[2 * LS_KEY_ID_LEN + 1];

        TRY(need("--key", o->key) | need("--out", o->out), "options");
        TRY(load_key(f, o->key), "key");
        TRY(load_chain(f, paths, n, 0), "archives");
        c.valid_from_batch = f->last.batch_no + 1;
        for (size_t i = 0; i < f->nheaders; i++)
                if (f->headers[i].epoch == f->signer.epoch + 1) {
                        c.valid_from_batch = f->headers[i].batch_no;
                        break;
                }
        TRY(ls_keypair_generate(&rogue, f->signer.epoch + 1), "key");
        memcpy(c.chain_id, f->chain_id, LS_CHAIN_ID_LEN);
        memcpy(c.pk, rogue->pk, LS_PK_LEN);
        c.epoch = f->signer.epoch + 1;
        c.issued_ns = f->last.max_time_ns;
        TRY(ls_cert_sign(&c, &f->signer), "certificate");
        ls_cert_encode(&c, enc);
        ls_hex(hex, rogue->key_id, LS_KEY_ID_LEN);
        rogue = ls_keypair_free(rogue);
        TRY(write_file(o->out, enc, sizeof(enc)), "out");
        fprintf(stderr, PROG ": rogue key %s certified for epoch %" PRIu64 " from batch %" PRIu64
                             "\n", hex, c.epoch, c.valid_from_batch);
        printf("%s\n", o->out);
        return 0;
}
