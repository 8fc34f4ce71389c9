/* SPDX-License-Identifier: Apache-2.0 */
/* forge, what the attacker holds and the genuine chain it reads (main is in forge.c) */
#include "forge.h"

int log_err(int r, const char *fmt, ...)
{
        va_list ap;

        fputs(PROG ": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        if (r < 0)
                fprintf(stderr, ": %s", strerror(-r));
        fputc('\n', stderr);
        return r < 0 ? r : -EINVAL;
}

/* ---- what the attacker holds, and the chain state it rebuilt ---- */

void forge_clear_batch(Forge *f)
{
        for (size_t i = 0; i < f->nrecs; i++)
                free(f->recs[i].enc);
        f->nrecs = 0;
        f->custody = -1;
}

void forge_done(Forge *f)
{
        forge_clear_batch(f);
        free(f->leaves);
        free(f->headers);
        free(f->cb);
        ls_batch_builder_free(f->bb);
        ls_keypair_free(f->key);
        ls_keypair_free(f->stolen);
}

int forge_init(Forge *f)
{
        memset(f, 0, sizeof(*f));
        ls_merkle_init(&f->tree);
        f->custody = -1;
        f->cb = malloc(sizeof(*f->cb));
        if (!f->cb)
                return -ENOMEM;
        snprintf(f->version, sizeof(f->version), "%s", "0.1.0");
        return 0;
}

int push_leaf(Forge *f, const uint8_t leaf[LS_HASH_LEN])
{
        if (f->nleaves == f->cap) {
                uint64_t cap = f->cap ? 2 * f->cap : 1024;
                void *q = realloc(f->leaves, cap * LS_HASH_LEN);
                if (!q)
                        return -ENOMEM;
                f->leaves = q;
                f->cap = cap;
        }
        memcpy(f->leaves[f->nleaves++], leaf, LS_HASH_LEN);
        return 0;
}

int leaf_fn(void *ud, uint64_t i, uint8_t out[LS_HASH_LEN])
{
        Forge *f = ud;

        if (i >= f->nleaves)
                return -EINVAL;
        memcpy(out, f->leaves[i], LS_HASH_LEN);
        return 0;
}

/* The tree of the first n leaves. */
int tree_at(Forge *f, uint64_t n, LsMerkle *ret)
{
        if (n > f->nleaves)
                return -ERANGE;
        ls_merkle_init(ret);
        for (uint64_t i = 0; i < n; i++) {
                int r = ls_merkle_append(ret, f->leaves[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int load_key(Forge *f, const char *path)
{
        _cleanup_free_ uint8_t *p = NULL;
        size_t n;
        char hex[2 * LS_KEY_ID_LEN + 1];

        TRY(tu_read_file(path, 4096, &p, &n), "%s", path);
        TRY(ls_seckey_decode(&f->key, p, n, NULL), "%s: not a passphrase-less secret key file",
            path);
        sodium_memzero(p, n);
        ls_signer_from_keypair(&f->signer, f->key);
        ls_hex(hex, f->key->key_id, LS_KEY_ID_LEN);
        fprintf(stderr, PROG ": stolen key %s (epoch %" PRIu64 " by its file)\n", hex,
                f->key->epoch);
        return 0;
}

int read_history(const char *path, uint8_t **ret, size_t *ret_len)
{
        TRY(tu_read_file(path, MAX_HISTORY_BYTES, ret, ret_len), "%s", path);
        return 0;
}

/* The certificate of key_id in a key history (SPEC §10.3). */
int history_find_cert(const uint8_t *p, size_t n, const uint8_t key_id[LS_KEY_ID_LEN],
                      LsCert *ret)
{
        size_t off = 0;

        while (off + LS_MAGIC_LEN + 4 <= n) {
                if (ls_magic_check(p + off, LS_MAGIC_CERT)) {
                        LsCert c;
                        if (n - off < LS_CERT_LEN || ls_cert_decode(&c, p + off, LS_CERT_LEN) < 0)
                                return -EBADMSG;
                        if (c.kind == LS_CERT_SIGNING && !memcmp(c.key_id, key_id, LS_KEY_ID_LEN)) {
                                *ret = c;
                                return 0;
                        }
                        off += LS_CERT_LEN;
                } else if (ls_magic_check(p + off, LS_MAGIC_REVOCATION)) {
                        off += LS_REVOCATION_FIXED_LEN + ls_get16(p + off + 10);
                } else if (!memcmp(p + off, "\x89LS", 3) && !memcmp(p + off + 4, "\r\n\x1a\n", 4) &&
                           ls_get16(p + off + 10) >= 12 && ls_get16(p + off + 10) <= n - off) {
                        /* an item of a later format version (an epoch close): its size field */
                        off += ls_get16(p + off + 10);
                } else {
                        return -EBADMSG;
                }
        }
        return -ENOENT;
}

/* ---- reading the genuine archives ---- */

static void note_start_version(Forge *f, const LsRecord *rec)
{
        LsControl c;
        const uint8_t *v;
        uint16_t vl;

        if (rec->type != LS_REC_CONTROL ||
            ls_control_decode(&c, rec->body, rec->body_len, NULL) < 0)
                return;
        if (c.type == LS_CTL_START && ls_control_get(&c, LS_TAG_VERSION, &v, &vl) &&
            vl < sizeof(f->version)) {
                memcpy(f->version, v, vl);
                f->version[vl] = 0;
        }
}

/*
 * Reads one genuine archive, in chain order after the ones before it: appends its leaves,
 * checks every batch's root against the leaves (so what we extend really is that tree).
 */
static int load_archive(Forge *f, const char *path, int print_info)
{
        LsArchiveReader *rd = NULL;
        LsPayload *pl = NULL;
        LsReadItem it;
        int fd = open(path, O_RDONLY | O_CLOEXEC), r, first_batch = 1, sealed = 0;
        char hex[2 * LS_HASH_LEN + 1];

        if (fd < 0)
                return log_err(-errno, "%s", path);
        r = ls_archive_reader_new(&rd, fd);
        if (r < 0) {
                close(fd);
                return log_err(r, "%s", path);
        }
        r = ls_payload_new(&pl);
        if (r < 0)
                goto out;
        while ((r = ls_archive_reader_next(rd, &it)) > 0) {
                if (it.kind == LS_ITEM_HEADER) {
                        const LsArchiveHeader *h = &it.header;
                        if (f->have_chain && memcmp(h->chain_id, f->chain_id, LS_CHAIN_ID_LEN)) {
                                r = log_err(0, "%s: another chain", path);
                                goto out;
                        }
                        if (h->first_seq != f->nleaves ||
                            (f->have_archive && h->archive_no != f->last_archive_no + 1)) {
                                r = log_err(0,
                                            "%s: archive %" PRIu64 " does not follow (give the "
                                            "archives from archive 0 on, in order)",
                                            path, h->archive_no);
                                goto out;
                        }
                        if (f->have_archive && f->last_sealed &&
                            !ls_hash_equal(h->prev_seal_hash, f->last_seal_hash)) {
                                r = log_err(0, "%s: prev_seal_hash does not link", path);
                                goto out;
                        }
                        memcpy(f->chain_id, h->chain_id, LS_CHAIN_ID_LEN);
                        f->have_chain = 1;
                        f->have_archive = 1;
                        f->last_archive_no = h->archive_no;
                        f->last_sealed = 0;
                        if (print_info) {
                                ls_hex(hex, h->chain_id, LS_CHAIN_ID_LEN);
                                printf("{\"file\": \"%s\", \"chain_id\": \"%s\", \"archive_no\": "
                                       "%" PRIu64 ", \"batches\": [",
                                       path, hex, h->archive_no);
                        }
                } else if (it.kind == LS_ITEM_BATCH) {
                        const LsBatchHeader *h = &it.batch;
                        LsPayloadIter pi;
                        LsRecord rec;
                        const uint8_t *raw, *bytes;
                        size_t rawlen, len, off;
                        uint8_t leaf[LS_HASH_LEN], root[LS_HASH_LEN];
                        int first_ctl = 1;

                        if (!f->have_archive || h->first_seq != f->nleaves) {
                                r = log_err(0, "%s: batch %" PRIu64 " out of order", path,
                                            h->batch_no);
                                goto out;
                        }
                        r = ls_payload_open(pl, h, it.payload, it.payload_len);
                        if (r < 0) {
                                log_err(r, "%s: batch %" PRIu64 " payload", path, h->batch_no);
                                goto out;
                        }
                        if (print_info) {
                                ls_hex(hex, h->key_id, LS_KEY_ID_LEN);
                                printf("%s{\"batch\": %" PRIu64 ", \"epoch\": %" PRIu64
                                       ", \"key_id\": \"%s\", \"first_seq\": %" PRIu64
                                       ", \"tree_size\": %" PRIu64 ", \"min_time_ns\": %" PRIu64
                                       ", \"max_time_ns\": %" PRIu64 ", \"controls\": [",
                                       first_batch ? "" : ", ", h->batch_no, h->epoch, hex,
                                       h->first_seq, h->tree_size, h->min_time_ns, h->max_time_ns);
                        }
                        first_batch = 0;
                        raw = ls_payload_raw(pl, &rawlen);
                        ls_payload_iter_init(&pi, h, raw, rawlen);
                        while ((r = ls_payload_next(&pi, &rec, &bytes, &len, leaf, &off)) > 0) {
                                note_start_version(f, &rec);
                                if (print_info && rec.type == LS_REC_CONTROL && rec.body_len >= 2) {
                                        printf("%s\"%s\"", first_ctl ? "" : ", ",
                                               ls_control_type_name(ls_get16(rec.body)));
                                        first_ctl = 0;
                                }
                                r = ls_merkle_append(&f->tree, leaf);
                                if (r == 0)
                                        r = push_leaf(f, leaf);
                                if (r < 0)
                                        goto out;
                        }
                        if (print_info)
                                printf("]}");
                        if (r < 0) {
                                log_err(r, "%s: batch %" PRIu64 " offset %zu", path, h->batch_no,
                                        off);
                                goto out;
                        }
                        ls_merkle_root(&f->tree, root);
                        if (f->tree.size != h->tree_size || !ls_hash_equal(root, h->tree_root)) {
                                r = log_err(0, "%s: batch %" PRIu64 ": Merkle root differs", path,
                                            h->batch_no);
                                goto out;
                        }
                        if (f->nheaders == MAX_HEADERS) {
                                r = log_err(0, "too many batches");
                                goto out;
                        }
                        f->headers[f->nheaders++] = *h;
                        f->last = *h;
                        f->have_last = 1;
                } else if (it.kind == LS_ITEM_TRAILER) {
                        ls_trailer_hash(&it.trailer, f->last_seal_hash);
                        f->last_sealed = 1;
                        sealed = 1;
                } else {
                        r = log_err(it.error,
                                    "%s: offset %" PRIu64 ": %s (give undamaged genuine "
                                    "archives)",
                                    path, it.error_offset, it.what ? it.what : "damage");
                        goto out;
                }
        }
        if (r < 0)
                log_err(r, "%s", path);
        if (print_info && r == 0)
                printf("], \"sealed\": %s}\n", sealed ? "true" : "false");
out:
        ls_payload_free(pl);
        ls_archive_reader_free(rd);
        return r < 0 ? r : 0;
}

int load_chain(Forge *f, char **paths, int n, int print_info)
{
        f->headers = calloc(MAX_HEADERS, sizeof(*f->headers));
        if (!f->headers)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                int r = load_archive(f, paths[i], print_info);
                if (r < 0)
                        return r;
        }
        if (!f->have_last && !print_info)
                return log_err(0, "no batch in the archives given");
        return 0;
}
