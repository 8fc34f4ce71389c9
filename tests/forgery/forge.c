/* SPDX-License-Identifier: Apache-2.0 */
/* forge: byte-valid forgeries of logseal evidence from real appliance output and a stolen key */

/*
 * The attacker of issue 12 (tests/forgery/README.md): read/write access to the files handed to an
 * investigator and a signing key file of an epoch that has ended (STATE/keys/signing.key copied
 * from a backup while that epoch was current). No current key, no root key.
 *
 * Every forgery is built with the formats library and then read back and checked the way a
 * verifier checks structure and signatures (decode, signature under the stolen key, payload
 * hash, leaves, Merkle roots, proofs, seal content hash), so that only the trust rules can catch
 * it. A forgery that fails its own check is not written off as "caught": the tool exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "archive-reader.h"
#include "archive-writer.h"
#include "batch-builder.h"
#include "batch.h"
#include "bundle-writer.h"
#include "bundle.h"
#include "chain-writer.h"
#include "checkpoint.h"
#include "control.h"
#include "hash.h"
#include "magic.h"
#include "merkle.h"
#include "payload.h"
#include "record.h"
#include "testutil.h"
#include "util.h"

#define PROG "forge"
#define MAX_RECS 256
#define MAX_HEADERS 4096
#define MAX_ARCHIVE_BYTES (256u << 20)
#define MAX_HISTORY_BYTES (64u << 20)
#define DAY_NS (86400ull * 1000000000ull)

static int log_err(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int log_err(int r, const char *fmt, ...)
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

#define TRY(expr, ...)                                                                             \
        do {                                                                                       \
                int _r = (expr);                                                                   \
                if (_r < 0)                                                                        \
                        return log_err(_r, __VA_ARGS__);                                           \
        } while (0)

/* ---- what the attacker holds, and the chain state it rebuilt ---- */

typedef struct Rec {
        uint8_t *enc; /* the record's encoding (seq assigned) */
        size_t len;
        uint64_t seq;
        uint8_t salt[LS_SALT_LEN];
        uint8_t leaf[LS_HASH_LEN];
        int disclose;
} Rec;

typedef struct Forge {
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        int have_chain;
        /* genuine state, then forged batches appended */
        LsMerkle tree;
        uint8_t (*leaves)[LS_HASH_LEN];
        uint64_t nleaves, cap;
        LsBatchHeader last; /* the last batch (genuine or forged) */
        int have_last;
        LsBatchHeader *headers; /* every genuine batch header, by position */
        size_t nheaders;
        uint64_t last_archive_no;
        int have_archive, last_sealed;
        uint8_t last_seal_hash[LS_HASH_LEN];
        char version[65]; /* VERSION of the genuine START records */
        /* the key that signs now: the stolen one, or a key it handed over to */
        LsKeyPair *key;
        LsSigner signer;
        LsKeyPair *stolen; /* the stolen key once it handed over */
        /* the batch being forged */
        LsBatchBuilder *bb;
        uint8_t seed[LS_HASH_LEN];
        uint64_t first_seq;
        Rec recs[MAX_RECS];
        size_t nrecs;
        ssize_t custody; /* index in recs, -1 when none */
        LsControlBuilder *cb;
} Forge;

static void forge_clear_batch(Forge *f)
{
        for (size_t i = 0; i < f->nrecs; i++)
                free(f->recs[i].enc);
        f->nrecs = 0;
        f->custody = -1;
}

static void forge_done(Forge *f)
{
        forge_clear_batch(f);
        free(f->leaves);
        free(f->headers);
        free(f->cb);
        ls_batch_builder_free(f->bb);
        ls_keypair_free(f->key);
        ls_keypair_free(f->stolen);
}

static int forge_init(Forge *f)
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

static int push_leaf(Forge *f, const uint8_t leaf[LS_HASH_LEN])
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

static int leaf_fn(void *ud, uint64_t i, uint8_t out[LS_HASH_LEN])
{
        Forge *f = ud;

        if (i >= f->nleaves)
                return -EINVAL;
        memcpy(out, f->leaves[i], LS_HASH_LEN);
        return 0;
}

/* The tree of the first n leaves. */
static int tree_at(Forge *f, uint64_t n, LsMerkle *ret)
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

static int load_key(Forge *f, const char *path)
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

static int read_history(const char *path, uint8_t **ret, size_t *ret_len)
{
        TRY(tu_read_file(path, MAX_HISTORY_BYTES, ret, ret_len), "%s", path);
        return 0;
}

/* The certificate of key_id in a key history (SPEC §10.3). */
static int history_find_cert(const uint8_t *p, size_t n, const uint8_t key_id[LS_KEY_ID_LEN],
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

static int load_chain(Forge *f, char **paths, int n, int print_info)
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

/* ---- forging a batch ---- */

static int forge_begin(Forge *f, uint64_t archive_no, uint64_t batch_no,
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
static int forge_begin_next(Forge *f, uint64_t archive_no)
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

static int forge_add_control(Forge *f, uint64_t t)
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
static int forge_messages(Forge *f, uint64_t t, unsigned n, const char *host, const char *what,
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

static int forge_start_record(Forge *f, uint64_t t)
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
static int forge_custody(Forge *f, uint64_t t, const char *filter)
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

static int forge_stop_record(Forge *f, uint64_t t)
{
        ls_control_begin(f->cb, LS_CTL_STOP);
        ls_control_add_str(f->cb, LS_TAG_TEXT, "SIGTERM");
        return forge_add_control(f, t);
}

/*
 * Closes the batch, signed with the stolen key; appends its leaves to the rebuilt chain and
 * checks that they give the root the builder signed.
 */
static int forge_finish(Forge *f, LsBatchHeader *ret, const uint8_t **ret_bytes, size_t *ret_len)
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

static int check_archive(const char *path, const LsMerkle *start, LsKeyPair *const *keys,
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
static int check_checkpoint(const char *text, size_t n, const uint8_t pk[LS_PK_LEN], int want_batch,
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

static int create_file(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        return fd < 0 ? log_err(-errno, "%s", path) : fd;
}

/* Starts an archive after the chain's last one whose first batch is h (tree `start` at it). */
static int archive_open(Forge *f, const char *dir, const LsMerkle *start, const LsBatchHeader *h,
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

static int write_file(const char *path, const void *p, size_t n)
{
        TRY(tu_write_file(path, p, n), "%s", path);
        return 0;
}

static int mkdir_p(const char *dir)
{
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_err(-errno, "%s", dir);
        return 0;
}

/*
 * An evidence bundle of the records marked `disclose` in the batch just finished (h), with its
 * custody record, against h's checkpoint; keys.lsk holds `keys`.
 */
static int write_bundle(Forge *f, const char *dir, const LsBatchHeader *h, const uint8_t *keys,
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

/* ---- options ---- */

typedef struct Opts {
        const char *key, *keys, *out, *bundle, *old, *proof, *chain_id, *host;
        uint64_t batch, epoch, records, days, time_ns, grow;
        int have_batch, have_epoch, fork, handover;
} Opts;

static void usage(FILE *o)
{
        fputs("usage: forge COMMAND [OPTIONS] [ARCHIVE...]   (archives: genuine, from archive 0, "
              "in order)\n"
              "  info ARCHIVE...                         JSON per archive: batches, epochs, keys, "
              "control records\n"
              "  old-epoch-archive --key K --out DIR [--days N] [--records N] [--handover] "
              "ARCHIVE...\n"
              "        the next batch after the archives, dated N days (365) after their last "
              "record,\n"
              "        signed with K, as a sealed archive linked to the last one, written into "
              "DIR;\n"
              "        --handover: K certifies a new key of the forger's, which signs one more "
              "batch\n"
              "  old-epoch-bundle --key K --keys HISTORY --out DIR [--days N] [--records N] "
              "ARCHIVE...\n"
              "        the same forged batch as an evidence bundle; keys.lsk = HISTORY\n"
              "  foreign-chain --key K --keys HISTORY --chain-id HEX --out DIR [--bundle DIR2] "
              "[--time NS]\n"
              "        a chain with chain id HEX signed by K (another appliance's key, certified "
              "for\n"
              "        that appliance's chain in HISTORY); optionally a bundle of its batch 1\n"
              "  checkpoint-3line --key K [--old OLD] --out NEW [--proof P] [--records N] "
              "[--batch B] ARCHIVE...\n"
              "        NEW extends the genuine checkpoint OLD (default: the end of the archives) "
              "by N\n"
              "        fabricated leaves, signed with K,\n"
              "        without the logseal-batch-v1 line (with --batch B: a 4-line checkpoint "
              "of a\n"
              "        forged batch B); P (default NEW.proof): the consistency proof OLD -> NEW\n"
              "  checkpoint-wrong-key --key K --batch B --out FILE [--fork] ARCHIVE...\n"
              "        a 4-line checkpoint of genuine batch B signed with K (with --fork: of "
              "another\n"
              "        batch B of the same tree size)\n"
              "  unsigned-checkpoint --out FILE [--grow N] [--fork] ARCHIVE...\n"
              "        a checkpoint signed by a random key, N (1000) records beyond the last "
              "batch\n"
              "        (with --fork: at the last batch's size, another root)\n"
              "  emulate-close --key K1 --epoch 0 --out FILE ARCHIVE...   (not a forgery)\n"
              "        the epoch close of epoch 0 the appliance would write, signed with the "
              "genuine\n"
              "        epoch-1 key K1 (SPEC §9.4), for a key history\n"
              "  rogue-cert --key K --out FILE ARCHIVE...\n"
              "        a certificate of a key of the forger's for the epoch after K's, signed "
              "with K,\n"
              "        from where that epoch starts in the archives, for a key history\n",
              o);
}

static int parse_u64(const char *s, uint64_t *ret)
{
        char *end;

        errno = 0;
        *ret = strtoull(s, &end, 10);
        return errno || end == s || *end ? -EINVAL : 0;
}

static int parse_opts(int argc, char **argv, Opts *o)
{
        enum {
                O_KEYS = 256,
                O_BUNDLE,
                O_OLD,
                O_PROOF,
                O_BATCH,
                O_FORK,
                O_RECORDS,
                O_DAYS,
                O_CHAIN,
                O_HOST,
                O_TIME,
                O_GROW,
                O_HANDOVER,
                O_EPOCH
        };
        static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                             {"keys", required_argument, NULL, O_KEYS},
                                             {"out", required_argument, NULL, 'o'},
                                             {"bundle", required_argument, NULL, O_BUNDLE},
                                             {"old", required_argument, NULL, O_OLD},
                                             {"proof", required_argument, NULL, O_PROOF},
                                             {"batch", required_argument, NULL, O_BATCH},
                                             {"fork", no_argument, NULL, O_FORK},
                                             {"records", required_argument, NULL, O_RECORDS},
                                             {"days", required_argument, NULL, O_DAYS},
                                             {"chain-id", required_argument, NULL, O_CHAIN},
                                             {"host", required_argument, NULL, O_HOST},
                                             {"time", required_argument, NULL, O_TIME},
                                             {"grow", required_argument, NULL, O_GROW},
                                             {"handover", no_argument, NULL, O_HANDOVER},
                                             {"epoch", required_argument, NULL, O_EPOCH},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        int c;

        *o = (Opts){.records = 4, .days = 365, .grow = 1000, .host = "forgery-a"};
        optind = 1;
        while ((c = getopt_long(argc, argv, "k:o:h", opts, NULL)) != -1) {
                int r = 0;
                switch (c) {
                case 'k':
                        o->key = optarg;
                        break;
                case O_KEYS:
                        o->keys = optarg;
                        break;
                case 'o':
                        o->out = optarg;
                        break;
                case O_BUNDLE:
                        o->bundle = optarg;
                        break;
                case O_OLD:
                        o->old = optarg;
                        break;
                case O_PROOF:
                        o->proof = optarg;
                        break;
                case O_BATCH:
                        r = parse_u64(optarg, &o->batch);
                        o->have_batch = 1;
                        break;
                case O_FORK:
                        o->fork = 1;
                        break;
                case O_RECORDS:
                        r = parse_u64(optarg, &o->records);
                        if (r == 0 && (o->records == 0 || o->records > 64))
                                r = -ERANGE;
                        break;
                case O_DAYS:
                        r = parse_u64(optarg, &o->days);
                        break;
                case O_CHAIN:
                        o->chain_id = optarg;
                        break;
                case O_HOST:
                        o->host = optarg;
                        break;
                case O_TIME:
                        r = parse_u64(optarg, &o->time_ns);
                        break;
                case O_GROW:
                        r = parse_u64(optarg, &o->grow);
                        break;
                case O_HANDOVER:
                        o->handover = 1;
                        break;
                case O_EPOCH:
                        r = parse_u64(optarg, &o->epoch);
                        o->have_epoch = 1;
                        break;
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
                if (r < 0)
                        return log_err(r, "bad option value '%s'", optarg);
        }
        return 0;
}

static int need(const char *what, const char *v)
{
        if (!v)
                return log_err(0, "%s is required (forge --help)", what);
        return 0;
}

/* ---- commands ---- */

static int cmd_info(Forge *f, int n, char **paths)
{
        return load_chain(f, paths, n, 1);
}

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

static int cmd_old_epoch(Forge *f, const Opts *o, int n, char **paths, int bundle)
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

/*
 * Issue 12 item 2: appliance B (same root, its own chain) signs a chain that carries appliance
 * A's chain id: batch 0 holds B's genuine root-issued certificate (for B's chain), a START and
 * messages; batch 1 messages, a custody record and a STOP. Sealed archive 0.
 */
static int cmd_foreign_chain(Forge *f, const Opts *o)
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
static int cmd_checkpoint_3line(Forge *f, const Opts *o, int n, char **paths)
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
static int cmd_checkpoint_wrong_key(Forge *f, const Opts *o, int n, char **paths)
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
static int cmd_unsigned_checkpoint(Forge *f, const Opts *o, int n, char **paths)
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

/*
 * Not a forgery: the epoch close (SPEC §9.4) the appliance writes when epoch E ends, signed by
 * the key of epoch E+1 (a genuine key file copied while epoch E+1 was current). Lets the suite
 * check the verifier's close rules against the forgeries before the daemon writes closes.
 */
static int cmd_emulate_close(Forge *f, const Opts *o, int n, char **paths)
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
static int cmd_rogue_cert(Forge *f, const Opts *o, int n, char **paths)
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

int main(int argc, char **argv)
{
        Forge f;
        Opts o;
        const char *cmd;
        int r;

        if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
                usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        if (sodium_init() < 0)
                return 1;
        cmd = argv[1];
        if (parse_opts(argc - 1, argv + 1, &o) < 0)
                return 2;
        if (forge_init(&f) < 0)
                return 1;
        argc -= 1 + optind;
        argv += 1 + optind;
        if (!strcmp(cmd, "info"))
                r = cmd_info(&f, argc, argv);
        else if (!strcmp(cmd, "old-epoch-archive"))
                r = cmd_old_epoch(&f, &o, argc, argv, 0);
        else if (!strcmp(cmd, "old-epoch-bundle"))
                r = cmd_old_epoch(&f, &o, argc, argv, 1);
        else if (!strcmp(cmd, "foreign-chain"))
                r = cmd_foreign_chain(&f, &o);
        else if (!strcmp(cmd, "checkpoint-3line"))
                r = cmd_checkpoint_3line(&f, &o, argc, argv);
        else if (!strcmp(cmd, "checkpoint-wrong-key"))
                r = cmd_checkpoint_wrong_key(&f, &o, argc, argv);
        else if (!strcmp(cmd, "unsigned-checkpoint"))
                r = cmd_unsigned_checkpoint(&f, &o, argc, argv);
        else if (!strcmp(cmd, "emulate-close"))
                r = cmd_emulate_close(&f, &o, argc, argv);
        else if (!strcmp(cmd, "rogue-cert"))
                r = cmd_rogue_cert(&f, &o, argc, argv);
        else {
                usage(stderr);
                r = -EINVAL;
        }
        forge_done(&f);
        return r < 0 ? 1 : 0;
}
