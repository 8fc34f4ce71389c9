/* SPDX-License-Identifier: Apache-2.0 */
/* forge, item 2: a second appliance signs the first one's chain (main is in forge.c) */
#include "forge.h"

/*
 * Issue 12 item 2: appliance B (same root, its own chain) signs a chain that carries appliance
 * A's chain id: batch 0 holds B's genuine root-issued certificate (for B's chain), a START and
 * messages; batch 1 messages, a custody record and a STOP. Sealed archive 0.
 */
int cmd_foreign_chain(Forge *f, const Opts *o)
{
        _cleanup_free_ uint8_t *hist = NULL;
        size_t hist_len, len;
        LsCert cert;
        LsBatchHeader h0, h1;
        LsMerkle start;
        LsArchiveHeader ah = {0};
        LsArchiveWriter *w = NULL;
        LsTrailer tr;
        const uint8_t *bytes;
        uint8_t enc[LS_CERT_LEN], zero[LS_HASH_LEN] = {0};
        uint64_t t = o->time_ns;
        char name[96], path[4096], filter[300];
        int fd, r;

        TRY(need("--key", o->key) | need("--keys", o->keys) | need("--chain-id", o->chain_id) |
                    need("--out", o->out),
            "options");
        TRY(ls_unhex(f->chain_id, LS_CHAIN_ID_LEN, o->chain_id, strlen(o->chain_id)),
            "--chain-id %s", o->chain_id);
        f->have_chain = 1;
        TRY(load_key(f, o->key), "key");
        TRY(read_history(o->keys, &hist, &hist_len), "history");
        TRY(history_find_cert(hist, hist_len, f->key->key_id, &cert),
            "%s: no certificate of the key", o->keys);
        if (!memcmp(cert.chain_id, f->chain_id, LS_CHAIN_ID_LEN))
                return log_err(0, "the key is certified for chain %s itself: not a foreign key",
                               o->chain_id);
        if (!t) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                t = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
        }
        ls_cert_encode(&cert, enc);
        f->signer.epoch = cert.epoch; /* the certificate is authoritative (SPEC §10.2) */

        TRY(forge_begin(f, 0, 0, zero), "batch 0");
        ls_control_begin(f->cb, LS_CTL_KEY_TRANSITION);
        ls_control_add_str(f->cb, LS_TAG_TEXT, "signing key certified by the root key");
        ls_control_add(f->cb, LS_TAG_CERT, enc, LS_CERT_LEN);
        TRY(forge_add_control(f, t), "KEY_TRANSITION");
        TRY(forge_start_record(f, t + 1000u), "START");
        TRY(forge_messages(f, t + 100000000u, 3, o->host, "foreign", 0), "messages");
        TRY(forge_finish(f, &h0, &bytes, &len), "batch 0");

        ls_archive_name(name, sizeof(name), f->chain_id, 0);
        TRY(mkdir_p(o->out), "%s", o->out);
        snprintf(path, sizeof(path), "%s/%s", o->out, name);
        fd = create_file(path);
        if (fd < 0)
                return fd;
        memcpy(ah.chain_id, f->chain_id, LS_CHAIN_ID_LEN);
        ah.created_ns = t;
        ls_merkle_init(&start);
        r = ls_archive_writer_new(&w, fd, &ah, &start, &f->signer);
        if (r < 0) {
                close(fd);
                return log_err(r, "%s", path);
        }
        r = ls_archive_writer_append(w, &h0, bytes, len);
        if (r == 0)
                r = forge_begin_next(f, 0);
        if (r == 0)
                r = forge_messages(f, t + 300000000u, (unsigned) o->records, o->host, "foreign", 1);
        snprintf(filter, sizeof(filter), "host=%s", o->host);
        if (r == 0)
                r = forge_custody(f, t + 400000000u, filter);
        if (r == 0)
                r = forge_stop_record(f, t + 500000000u);
        if (r == 0)
                r = forge_finish(f, &h1, &bytes, &len);
        if (r == 0)
                r = ls_archive_writer_append(w, &h1, bytes, len);
        if (r == 0)
                r = ls_archive_writer_seal(w, &f->signer, t + 600000000u, &tr);
        ls_archive_writer_free(w);
        if (r < 0)
                return log_err(r, "%s", path);
        TRY(check_archive(path, &start, &f->key, 1, zero), "self-check");
        printf("%s\n", path);
        if (o->bundle) {
                TRY(write_bundle(f, o->bundle, &h1, hist, hist_len), "bundle");
                printf("%s\n", o->bundle);
        }
        return 0;
}
