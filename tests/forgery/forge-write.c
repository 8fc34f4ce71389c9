/* SPDX-License-Identifier: Apache-2.0 */
/* forge, forging a batch, checking and writing what was forged (main is in forge.c) */
#include "forge.h"

/* ---- forging a batch ---- */

int forge_begin(Forge *f, uint64_t archive_no, uint64_t batch_no,
                const uint8_t prev_header_hash[LS_HASH_LEN])
{
        if (!f->bb)
                TRY(ls_batch_builder_new(&f->bb, f->chain_id, 3, 1 << 20, MAX_RECS), "builder");
        forge_clear_batch(f);
        randombytes_buf(f->seed, sizeof(f->seed));
        f->first_seq = f->tree.size;
        ls_batch_builder_begin(f->bb, archive_no, batch_no, f->first_seq, prev_header_hash,
                               f->seed);
        return 0;
}

/* The next batch of the rebuilt chain: links to the last one. */
int forge_begin_next(Forge *f, uint64_t archive_no)
{
        uint8_t prev[LS_HASH_LEN] = {0};

        if (f->have_last)
                ls_batch_header_hash(&f->last, prev);
        return forge_begin(f, archive_no, f->have_last ? f->last.batch_no + 1 : 0, prev);
}

static int forge_add(Forge *f, LsRecord *r, int disclose)
{
        Rec *x;
        size_t n = ls_record_size(r);

        if (f->nrecs == MAX_RECS)
                return log_err(0, "too many records");
        TRY(ls_batch_builder_add(f->bb, r), "record");
        x = &f->recs[f->nrecs];
        x->enc = malloc(n);
        if (!x->enc)
                return -ENOMEM;
        f->nrecs++;
        TRY(ls_record_encode(r, x->enc, n, &x->len), "record");
        x->seq = r->seq;
        x->disclose = disclose;
        ls_salt(x->salt, f->seed, x->seq);
        ls_leaf_hash(x->leaf, x->salt, x->enc, x->len);
        return 0;
}

int forge_add_control(Forge *f, uint64_t t)
{
        LsRecord r;

        TRY(tu_control(&r, t, f->cb), "control record");
        return forge_add(f, &r, 0);
}

static void iso_time(char *out, size_t cap, uint64_t t)
{
        time_t s = (time_t) (t / 1000000000u);
        struct tm tm;

        gmtime_r(&s, &tm);
        strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out + strlen(out), cap - strlen(out), ".%06" PRIu64 "Z", (t % 1000000000u) / 1000);
}

/* n fabricated syslog messages, at t, t+1ms, … (RFC 5424, sender's time = receive time). */
int forge_messages(Forge *f, uint64_t t, unsigned n, const char *host, const char *what,
                   int disclose)
{
        static const char *const lines[] = {
                "transfer of 250000 approved by user 1001",
                "login of user 1001 from 203.0.113.9",
                "firewall rule 17 disabled by user 1001",
                "audit log rotated by user 1001",
        };

        for (unsigned i = 0; i < n; i++) {
                char ts[64], msg[512];
                LsRecord r;
                uint64_t ti = t + (uint64_t) i * 1000000u;

                iso_time(ts, sizeof(ts), ti);
                snprintf(msg, sizeof(msg), "<13>1 %s %s app - - - %s: %s (%u)", ts, host, what,
                         lines[i % ELEMENTSOF(lines)], i);
                r = tu_udp4(ti, "127.0.0.1", (uint16_t) (40000 + i), msg);
                TRY(forge_add(f, &r, disclose), "message");
        }
        return 0;
}

int forge_start_record(Forge *f, uint64_t t)
{
        uint8_t boot[16];

        randombytes_buf(boot, sizeof(boot));
        ls_control_begin(f->cb, LS_CTL_START);
        ls_control_add(f->cb, LS_TAG_BOOT_ID, boot, sizeof(boot));
        ls_control_add_str(f->cb, LS_TAG_VERSION, f->version);
        ls_control_add_u32(f->cb, LS_TAG_PID, 4242);
        ls_control_add_u64(f->cb, LS_TAG_HEARTBEAT_INTERVAL, 60ull * 1000000000u);
        return forge_add_control(f, t);
}

/* The custody record of an export of the records marked `disclose` in this batch (SPEC §14.1). */
int forge_custody(Forge *f, uint64_t t, const char *filter)
{
        LsSelection sel;
        uint8_t h[LS_HASH_LEN];
        uint32_t n = 0;

        for (size_t i = 0; i < f->nrecs; i++)
                n += f->recs[i].disclose ? 1 : 0;
        ls_selection_init(&sel, n);
        for (size_t i = 0; i < f->nrecs; i++)
                if (f->recs[i].disclose)
                        ls_selection_add(&sel, f->recs[i].seq, f->recs[i].leaf);
        ls_selection_final(&sel, h);
        ls_control_begin(f->cb, LS_CTL_CUSTODY);
        ls_control_add_u64(f->cb, LS_TAG_COUNT, n);
        ls_control_add_str(f->cb, LS_TAG_CASE_ID, "CASE-FORGED-1");
        ls_control_add_str(f->cb, LS_TAG_EXAMINER, "Examiner F");
        ls_control_add_str(f->cb, LS_TAG_FILTER, filter);
        ls_control_add(f->cb, LS_TAG_MANIFEST_HASH, h, LS_HASH_LEN);
        ls_control_add_u16(f->cb, LS_TAG_ACTION, LS_CUSTODY_EXPORT);
        f->custody = (ssize_t) f->nrecs;
        return forge_add_control(f, t);
}

int forge_stop_record(Forge *f, uint64_t t)
{
        ls_control_begin(f->cb, LS_CTL_STOP);
        ls_control_add_str(f->cb, LS_TAG_TEXT, "SIGTERM");
        return forge_add_control(f, t);
}

/*
 * Closes the batch, signed with the stolen key; appends its leaves to the rebuilt chain and
 * checks that they give the root the builder signed.
 */
int forge_finish(Forge *f, LsBatchHeader *ret, const uint8_t **ret_bytes, size_t *ret_len)
{
        LsMerkle t = f->tree;
        uint8_t root[LS_HASH_LEN];

        TRY(ls_batch_builder_finish(f->bb, &t, &f->signer, ret, ret_bytes, ret_len), "batch");
        for (size_t i = 0; i < f->nrecs; i++) {
                TRY(ls_merkle_append(&f->tree, f->recs[i].leaf), "tree");
                TRY(push_leaf(f, f->recs[i].leaf), "leaves");
        }
        ls_merkle_root(&f->tree, root);
        if (!ls_hash_equal(root, ret->tree_root) || f->tree.size != ret->tree_size)
                return log_err(0, "self-check: the forged batch's root is not its leaves' root");
        TRY(ls_batch_header_verify(ret, f->key->pk), "self-check: batch signature");
        f->last = *ret;
        f->have_last = 1;
        return 0;
}

/* ---- self-checks of what was written ---- */

/*
 * Reads an archive back: every frame decodes, the header, every batch and the trailer verify
 * under pk, payload hashes and leaves give the signed roots from the tree state `start`, the
 * seal covers the content, and the header links to prev_seal.
 */
static const uint8_t *pk_for(LsKeyPair *const *keys, size_t n, const uint8_t key_id[LS_KEY_ID_LEN])
{
        for (size_t i = 0; i < n; i++)
                if (keys[i] && !memcmp(keys[i]->key_id, key_id, LS_KEY_ID_LEN))
                        return keys[i]->pk;
        return NULL;
}

int check_archive(const char *path, const LsMerkle *start, LsKeyPair *const *keys,
                  size_t nkeys, const uint8_t prev_seal[LS_HASH_LEN])
{
        LsArchiveReader *rd = NULL;
        LsPayload *pl = NULL;
        LsReadItem it;
        LsMerkle t = *start;
        uint64_t batches = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC), r, sealed = 0, header = 0;
        const char *why = NULL;

        if (fd < 0)
                return log_err(-errno, "%s", path);
        r = ls_archive_reader_new(&rd, fd);
        if (r < 0) {
                close(fd);
                return log_err(r, "%s", path);
        }
        r = ls_payload_new(&pl);
        while (r == 0 && !why && (r = ls_archive_reader_next(rd, &it)) > 0) {
                r = 0;
                if (it.kind == LS_ITEM_HEADER) {
                        LsMerkle hs = {.size = it.header.first_seq, .n = it.header.peak_count};
                        memcpy(hs.peaks, it.header.peaks, (size_t) hs.n * LS_HASH_LEN);
                        const uint8_t *pk = pk_for(keys, nkeys, it.header.key_id);
                        if (!pk || ls_archive_header_verify(&it.header, pk) < 0)
                                why = "archive header signature";
                        else if (!ls_hash_equal(it.header.prev_seal_hash, prev_seal))
                                why = "prev_seal_hash";
                        else if (hs.size != t.size || hs.n != t.n ||
                                 memcmp(hs.peaks, t.peaks, (size_t) t.n * LS_HASH_LEN))
                                why = "archive header peaks";
                        header = 1;
                } else if (it.kind == LS_ITEM_BATCH) {
                        LsPayloadIter pi;
                        LsRecord rec;
                        const uint8_t *raw, *bytes;
                        size_t rawlen, len, off;
                        uint8_t leaf[LS_HASH_LEN], root[LS_HASH_LEN];

                        const uint8_t *pk = pk_for(keys, nkeys, it.batch.key_id);
                        if (!header || !pk || ls_batch_header_verify(&it.batch, pk) < 0) {
                                why = "batch signature";
                                break;
                        }
                        if (ls_payload_open(pl, &it.batch, it.payload, it.payload_len) < 0) {
                                why = "payload";
                                break;
                        }
                        raw = ls_payload_raw(pl, &rawlen);
                        ls_payload_iter_init(&pi, &it.batch, raw, rawlen);
                        while ((r = ls_payload_next(&pi, &rec, &bytes, &len, leaf, &off)) > 0) {
                                if (rec.type == LS_REC_CONTROL) {
                                        LsControl c;
                                        if (ls_control_decode(&c, rec.body, rec.body_len, NULL) < 0)
                                                why = "control record";
                                }
                                r = ls_merkle_append(&t, leaf);
                                if (r < 0)
                                        break;
                        }
                        if (r < 0) {
                                why = "records";
                                break;
                        }
                        ls_merkle_root(&t, root);
                        if (t.size != it.batch.tree_size ||
                            !ls_hash_equal(root, it.batch.tree_root))
                                why = "Merkle root";
                        batches++;
                } else if (it.kind == LS_ITEM_TRAILER) {
                        const uint8_t *pk = pk_for(keys, nkeys, it.trailer.key_id);
                        if (!pk || ls_trailer_verify(&it.trailer, pk) < 0)
                                why = "seal signature";
                        else if (!ls_hash_equal(it.trailer.content_hash, it.content_hash))
                                why = "seal content hash";
                        else if (it.trailer.batch_count != batches ||
                                 it.trailer.tree_size != t.size)
                                why = "seal counts";
                        sealed = 1;
                } else {
                        why = it.what ? it.what : "damage";
                }
        }
        ls_payload_free(pl);
        ls_archive_reader_free(rd);
        if (r < 0)
                return log_err(r, "self-check: %s", path);
        if (!why && (!header || !sealed || !batches))
                why = "not a complete sealed archive";
        if (why)
                return log_err(0, "self-check: %s: %s does not verify", path, why);
        return 0;
}

/* A checkpoint text parses and the signature line verifies under pk. */
int check_checkpoint(const char *text, size_t n, const uint8_t pk[LS_PK_LEN], int want_batch,
                     LsCheckpoint *ret)
{
        LsCheckpoint cp;
        size_t off = 0;
        int r = ls_checkpoint_parse(&cp, text, n, &off);

        if (r < 0)
                return log_err(r, "self-check: checkpoint byte %zu", off);
        if (cp.has_batch != want_batch)
                return log_err(0, "self-check: checkpoint has %d lines", cp.has_batch ? 4 : 3);
        TRY(ls_checkpoint_verify(&cp, text, pk), "self-check: checkpoint signature");
        if (ret)
                *ret = cp;
        return 0;
}

/*
 * Reads a bundle back (SPEC §14.3 steps 2, 5, 6): the checkpoint verifies under pk, every
 * entry's record decodes and its proof leads to the checkpoint's root, the custody record
 * commits to the selection.
 */
static int check_bundle(const char *dir, const uint8_t pk[LS_PK_LEN])
{
        _cleanup_free_ uint8_t *ev = NULL, *cpt = NULL;
        _cleanup_free_ char *evp = NULL, *cpp = NULL;
        LsBundleHeader bh;
        LsCheckpoint cp;
        LsSelection sel;
        uint8_t sel_hash[LS_HASH_LEN];
        size_t evn, cpn, off = LS_BUNDLE_HEADER_LEN;

        if (asprintf(&evp, "%s/%s", dir, LS_BUNDLE_EVIDENCE) < 0 ||
            asprintf(&cpp, "%s/%s", dir, LS_BUNDLE_CHECKPOINT) < 0)
                return -ENOMEM;
        TRY(tu_read_file(evp, 64u << 20, &ev, &evn), "%s", evp);
        TRY(tu_read_file(cpp, LS_MAX_CHECKPOINT_TEXT, &cpt, &cpn), "%s", cpp);
        TRY(check_checkpoint((const char *) cpt, cpn, pk, 1, &cp), "%s", cpp);
        TRY(ls_bundle_header_decode(&bh, ev, MIN(evn, (size_t) LS_BUNDLE_HEADER_LEN)),
            "self-check: %s header", evp);
        if (bh.tree_size != cp.tree_size || memcmp(bh.chain_id, cp.chain_id, LS_CHAIN_ID_LEN))
                return log_err(0, "self-check: evidence.lsb does not match the checkpoint");
        ls_selection_init(&sel, bh.record_count);
        for (uint32_t i = 0; i <= bh.record_count; i++) {
                LsBundleEntry e;
                LsRecord rec;
                LsProof pr;
                uint8_t leaf[LS_HASH_LEN];

                TRY(ls_bundle_entry_decode(&e, ev + off, evn - off), "self-check: entry %u", i);
                if (evn - off < LS_BUNDLE_ENTRY_FIXED_LEN + (size_t) e.record_len + e.proof_len)
                        return log_err(0, "self-check: entry %u truncated", i);
                off += LS_BUNDLE_ENTRY_FIXED_LEN;
                TRY(ls_record_decode(&rec, ev + off, e.record_len, NULL), "self-check: record %u",
                    i);
                ls_leaf_hash(leaf, e.salt, ev + off, e.record_len);
                TRY(ls_proof_decode(&pr, ev + off + e.record_len, e.proof_len),
                    "self-check: proof %u", i);
                if (rec.seq != e.seq || pr.kind != LS_PROOF_INCLUSION || pr.a != e.seq ||
                    pr.b != bh.tree_size)
                        return log_err(0, "self-check: entry %u: seq or proof header", i);
                TRY(ls_verify_inclusion(pr.a, pr.b, leaf, (const uint8_t(*)[LS_HASH_LEN]) pr.path,
                                        pr.count, cp.root),
                    "self-check: inclusion proof of seq %" PRIu64, e.seq);
                if (i < bh.record_count) {
                        ls_selection_add(&sel, e.seq, leaf);
                } else {
                        LsControl c;
                        const uint8_t *v;
                        uint16_t vl;
                        ls_selection_final(&sel, sel_hash);
                        if (rec.type != LS_REC_CONTROL ||
                            ls_control_decode(&c, rec.body, rec.body_len, NULL) < 0 ||
                            c.type != LS_CTL_CUSTODY ||
                            !ls_control_get(&c, LS_TAG_MANIFEST_HASH, &v, &vl) ||
                            vl != LS_HASH_LEN || !ls_hash_equal(v, sel_hash) ||
                            e.seq != bh.custody_seq)
                                return log_err(0, "self-check: custody record");
                }
                off += e.record_len + e.proof_len;
        }
        if (off != evn)
                return log_err(0, "self-check: bytes after the custody entry");
        return 0;
}

/* ---- writing ---- */

int create_file(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        return fd < 0 ? log_err(-errno, "%s", path) : fd;
}

/* Starts an archive after the chain's last one whose first batch is h (tree `start` at it). */
int archive_open(Forge *f, const char *dir, const LsMerkle *start, const LsBatchHeader *h,
                 uint64_t t, LsArchiveWriter **ret, char *ret_path, size_t cap)
{
        LsArchiveHeader ah = {0};
        char name[96];
        int fd, r;

        ls_archive_name(name, sizeof(name), f->chain_id, h->archive_no);
        snprintf(ret_path, cap, "%s/%s", dir, name);
        fd = create_file(ret_path);
        if (fd < 0)
                return fd;
        memcpy(ah.chain_id, f->chain_id, LS_CHAIN_ID_LEN);
        ah.archive_no = h->archive_no;
        ah.first_batch_no = h->batch_no;
        ah.first_seq = h->first_seq;
        ah.created_ns = t;
        if (f->have_archive)
                memcpy(ah.prev_seal_hash, f->last_seal_hash, LS_HASH_LEN);
        r = ls_archive_writer_new(ret, fd, &ah, start, &f->signer);
        if (r < 0) {
                close(fd);
                return log_err(r, "%s", ret_path);
        }
        return 0;
}

int write_file(const char *path, const void *p, size_t n)
{
        TRY(tu_write_file(path, p, n), "%s", path);
        return 0;
}

int mkdir_p(const char *dir)
{
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_err(-errno, "%s", dir);
        return 0;
}

/*
 * An evidence bundle of the records marked `disclose` in the batch just finished (h), with its
 * custody record, against h's checkpoint; keys.lsk holds `keys`.
 */
int write_bundle(Forge *f, const char *dir, const LsBatchHeader *h, const uint8_t *keys,
                 size_t keys_len)
{
        LsBundleHeader bh = {.tree_size = h->tree_size};
        LsBundleWriter *w = NULL;
        char text[LS_MAX_CHECKPOINT_TEXT];
        _cleanup_close_ int dirfd = -1;
        int n, r = 0;

        if (f->custody < 0)
                return log_err(0, "no custody record in the batch");
        TRY(mkdir_p(dir), "%s", dir);
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return log_err(-errno, "%s", dir);
        memcpy(bh.chain_id, f->chain_id, LS_CHAIN_ID_LEN);
        for (size_t i = 0; i < f->nrecs; i++)
                bh.record_count += f->recs[i].disclose ? 1 : 0;
        bh.custody_seq = f->recs[f->custody].seq;
        TRY(ls_bundle_writer_new(&w, dirfd, &bh), "%s: bundle (must be empty)", dir);
        for (size_t k = 0; k <= f->nrecs && r == 0; k++) {
                /* the disclosed records in seq order, then the custody record */
                const Rec *x = k < f->nrecs ? &f->recs[k] : &f->recs[f->custody];
                uint8_t path[LS_MAX_INCLUSION_PROOF][LS_HASH_LEN], pe[LS_BUNDLE_MAX_PROOF_LEN];
                unsigned count;
                size_t plen;
                LsProof pr = {.kind = LS_PROOF_INCLUSION, .b = h->tree_size};

                if (k < f->nrecs && !x->disclose)
                        continue;
                pr.a = x->seq;
                r = ls_inclusion_proof(leaf_fn, f, x->seq, h->tree_size, path, &count);
                if (r == 0) {
                        pr.count = count;
                        pr.path = &path[0][0];
                        r = ls_proof_encode(&pr, pe, sizeof(pe), &plen);
                }
                if (r == 0)
                        r = ls_bundle_writer_add(w, x->seq, x->salt, x->enc, x->len, pe, plen);
        }
        n = ls_batch_checkpoint(h, f->key->pk, text, sizeof(text));
        if (r == 0)
                r = n < 0 ? n : ls_bundle_writer_file(w, LS_BUNDLE_CHECKPOINT, text, (size_t) n);
        if (r == 0)
                r = ls_bundle_writer_file(w, LS_BUNDLE_KEYS, keys, keys_len);
        if (r == 0)
                r = ls_bundle_writer_finish(w);
        ls_bundle_writer_free(w);
        if (r < 0)
                return log_err(r, "%s: writing the bundle", dir);
        return check_bundle(dir, f->key->pk);
}
