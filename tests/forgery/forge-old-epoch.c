/* SPDX-License-Identifier: Apache-2.0 */
/* forge, item 1: the stolen key of an ended epoch extends the chain (main is in forge.c) */
#include "forge.h"

/*
 * Issue 12 item 1: the stolen key of an ended epoch extends the genuine chain after its last
 * archive: a START, a CLOCK_STEP of +days (so the heartbeat rule sees a declared step), the
 * fabricated messages dated `days` later, a custody record of their export, a STOP. With
 * --handover the STOP is replaced by a KEY_TRANSITION to a key of the forger's (the "next
 * epoch", certified by the stolen key from the next batch on).
 */
static int forge_old_epoch_batch(Forge *f, const Opts *o, LsBatchHeader *h, const uint8_t **bytes,
                                 size_t *len, uint64_t *ret_t, LsKeyPair **ret_next)
{
        uint64_t before = f->last.max_time_ns, t = before + o->days * DAY_NS;
        char hex[2 * LS_KEY_ID_LEN + 1], filter[300];

        if (memcmp(f->last.key_id, f->key->key_id, LS_KEY_ID_LEN) != 0) {
                ls_hex(hex, f->last.key_id, LS_KEY_ID_LEN);
                fprintf(stderr,
                        PROG ": note: the last genuine batch (%" PRIu64 ") was signed by "
                             "%s, not by the stolen key\n",
                        f->last.batch_no, hex);
        }
        TRY(forge_begin_next(f, f->last_archive_no + 1), "batch");
        TRY(forge_start_record(f, t), "START");
        ls_control_begin(f->cb, LS_CTL_CLOCK_STEP);
        ls_control_add_u64(f->cb, LS_TAG_FIRST_TIME, before + 1000000000u);
        ls_control_add_u64(f->cb, LS_TAG_LAST_TIME, t);
        ls_control_add_u64(f->cb, LS_TAG_CLOCK_DELTA, t - before - 1000000000u);
        TRY(forge_add_control(f, t + 1000000u), "CLOCK_STEP");
        TRY(forge_messages(f, t + 10000000u, (unsigned) o->records, o->host, "forged", 1),
            "messages");
        snprintf(filter, sizeof(filter), "host=%s", o->host);
        TRY(forge_custody(f, t + 500000000u, filter), "CUSTODY");
        if (o->handover) {
                LsCert c = {.kind = LS_CERT_SIGNING, .issued_ns = t + 600000000u};
                uint8_t enc[LS_CERT_LEN];

                TRY(ls_keypair_generate(ret_next, f->signer.epoch + 1), "key");
                memcpy(c.chain_id, f->chain_id, LS_CHAIN_ID_LEN);
                memcpy(c.pk, (*ret_next)->pk, LS_PK_LEN);
                c.epoch = f->signer.epoch + 1;
                c.valid_from_batch = f->last.batch_no + 2;
                TRY(ls_cert_sign(&c, &f->signer), "certificate");
                ls_cert_encode(&c, enc);
                ls_control_begin(f->cb, LS_CTL_KEY_TRANSITION);
                ls_control_add_str(f->cb, LS_TAG_TEXT, "scheduled epoch change");
                ls_control_add(f->cb, LS_TAG_CERT, enc, LS_CERT_LEN);
                TRY(forge_add_control(f, t + 600000000u), "KEY_TRANSITION");
        } else {
                TRY(forge_stop_record(f, t + 600000000u), "STOP");
        }
        TRY(forge_finish(f, h, bytes, len), "finish");
        *ret_t = t;
        fprintf(stderr,
                PROG ": forged batch %" PRIu64 " (seq %" PRIu64 "..%" PRIu64 ", tree size %" PRIu64
                     ") dated %" PRIu64 " days after the last genuine record%s\n",
                h->batch_no, h->first_seq, h->tree_size - 1, h->tree_size, o->days,
                o->handover ? ", handing over to a key of the forger's" : "");
        return 0;
}

int cmd_old_epoch(Forge *f, const Opts *o, int n, char **paths, int bundle)
{
        LsBatchHeader h;
        LsMerkle start;
        LsArchiveWriter *w = NULL;
        LsTrailer tr;
        LsKeyPair *next = NULL;
        const uint8_t *bytes;
        _cleanup_free_ uint8_t *keys = NULL;
        uint8_t prev_seal[LS_HASH_LEN];
        size_t len, keys_len = 0;
        uint64_t t = 0;
        char path[4096];
        int r;

        TRY(need("--key", o->key) | need("--out", o->out), "options");
        if (bundle)
                TRY(need("--keys", o->keys), "options");
        TRY(load_key(f, o->key), "key");
        TRY(load_chain(f, paths, n, 0), "archives");
        if (bundle)
                TRY(read_history(o->keys, &keys, &keys_len), "history");
        else if (!f->last_sealed)
                return log_err(0, "the last archive given is not sealed");
        start = f->tree;
        memcpy(prev_seal, f->last_seal_hash, LS_HASH_LEN);
        TRY(forge_old_epoch_batch(f, o, &h, &bytes, &len, &t, &next), "forging");
        if (bundle) {
                ls_keypair_free(next);
                TRY(write_bundle(f, o->out, &h, keys, keys_len), "bundle");
                printf("%s\n", o->out);
                return 0;
        }
        TRY(mkdir_p(o->out), "%s", o->out);
        r = archive_open(f, o->out, &start, &h, t, &w, path, sizeof(path));
        if (r == 0)
                r = ls_archive_writer_append(w, &h, bytes, len);
        if (r == 0 && next) {
                /* the forger's "next epoch": more messages, then a STOP */
                f->stolen = f->key;
                f->key = next;
                ls_signer_from_keypair(&f->signer, next);
                r = forge_begin_next(f, h.archive_no);
                if (r == 0)
                        r = forge_messages(f, t + 700000000u, (unsigned) o->records, o->host,
                                           "forged", 0);
                if (r == 0)
                        r = forge_stop_record(f, t + 800000000u);
                if (r == 0)
                        r = forge_finish(f, &h, &bytes, &len);
                if (r == 0)
                        r = ls_archive_writer_append(w, &h, bytes, len);
        }
        if (r == 0)
                r = ls_archive_writer_seal(w, &f->signer, t + 1000000000u, &tr);
        ls_archive_writer_free(w);
        if (r < 0)
                return log_err(r, "%s", path);
        {
                LsKeyPair *ring[2] = {f->stolen ? f->stolen : f->key, f->key};
                TRY(check_archive(path, &start, ring, 2, prev_seal), "self-check");
        }
        printf("%s\n", path);
        return 0;
}
