/* SPDX-License-Identifier: Apache-2.0 */
/* export-bundle.c: `logsealctl export`: evidence bundles (SPEC §14) from the appliance's archives */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "archive.h"
#include "bundle-writer.h"
#include "chain-writer.h"
#include "chain-verify.h"
#include "checkpoint.h"
#include "control.h"
#include "export-bundle.h"
#include "export-tar.h"
#include "hash.h"
#include "keys.h"
#include "magic.h"
#include "merkle.h"
#include "record.h"
#include "rfc3339.h"
#include "state.h"
#include "text.h"
#include "util.h"

#define PROG "logsealctl"
#define CUSTODY_WAIT_NS (60ull * 1000000000u)
#define SELECTION_MAX_BYTES (512u << 20)


typedef struct Item {
        uint64_t seq;
        uint8_t salt[LS_SALT_LEN];
        uint8_t leaf[LS_HASH_LEN];
        uint8_t *rec;                  /* encoding */
        size_t rec_len;
        int seen;                      /* met again in the verified chain (pass B) */
} Item;

typedef struct Export {
        ExportOptions *o;
        Item *items;                   /* the disclosed records, by seq */
        size_t n;
        Item custody;
        uint64_t tree_size;            /* the checkpoint's */
        LsProofPlan *plan;
        uint64_t fed;
        uint64_t checkpoint_batch;
        uint8_t *scratch;              /* one record's encoding */
        int no_custody;                /* consistency proofs only (checkpoint --since) */
        unsigned bad;                  /* findings that make the chain unusable */
        char first_bad[320];
} Export;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, PROG ": export: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_FAILURE;
}

static int cmp_hit(const void *a, const void *b)
{
        uint64_t x = ((const IndexHit *) a)->seq, y = ((const IndexHit *) b)->seq;
        return x < y ? -1 : x > y;
}

static Item *find_item(Export *e, uint64_t seq)
{
        size_t lo = 0, hi = e->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (e->items[mid].seq < seq)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < e->n && e->items[lo].seq == seq ? &e->items[lo] : NULL;
}

static int item_set(Item *it, const LsRecord *rec, const uint8_t salt_seed[LS_HASH_LEN])
{
        size_t n = ls_record_size(rec);
        int r;

        it->seq = rec->seq;
        it->rec = malloc(n);
        if (!it->rec)
                return -ENOMEM;
        r = ls_record_encode(rec, it->rec, n, &it->rec_len);
        if (r < 0)
                return r;
        ls_salt(it->salt, salt_seed, rec->seq);
        ls_leaf_hash(it->leaf, it->salt, it->rec, it->rec_len);
        return 0;
}

/* Pass A: the selected records, re-read from the archives where the index says they are. */
static int read_selection(Export *e)
{
        ExportOptions *o = e->o;
        IndexBatchReader *br = NULL;
        uint64_t bytes = 0;
        int r;

        if (o->nhits)
                qsort(o->hits, o->nhits, sizeof(*o->hits), cmp_hit);
        e->items = calloc(o->nhits ? o->nhits : 1, sizeof(*e->items));
        if (!e->items)
                return fail("out of memory");
        r = index_batch_reader_new(&br, o->archfd, o->chain_id);
        if (r < 0)
                return fail("%s", strerror(-r));
        for (size_t i = 0; i < o->nhits; i++) {
                LsRecord rec;
                if (e->n && e->items[e->n - 1].seq == o->hits[i].seq)
                        continue;
                r = index_batch_reader_get(br, &o->hits[i], &rec);
                if (r < 0) {
                        r = fail("record %" PRIu64 ": %s (rebuild the index with 'logsealctl "
                                 "reindex --state-dir %s')",
                                 o->hits[i].seq, index_batch_reader_error(br), o->state_dir);
                        break;
                }
                r = item_set(&e->items[e->n], &rec, index_batch_reader_header(br)->salt_seed);
                if (r < 0) {
                        r = fail("record %" PRIu64 ": %s", o->hits[i].seq, strerror(-r));
                        break;
                }
                bytes += e->items[e->n].rec_len;
                e->n++;
                if (bytes > SELECTION_MAX_BYTES) {
                        r = fail("the selection holds more than %u MiB of records: narrow it",
                                 SELECTION_MAX_BYTES >> 20);
                        break;
                }
        }
        index_batch_reader_free(br);
        if (r == 0 && e->n > LS_BUNDLE_MAX_RECORDS)
                return fail("a bundle holds at most %u records", LS_BUNDLE_MAX_RECORDS);
        return r;
}

static json_t *ask(Export *e, const char *line)
{
        return e->o->request(e->o->state_dir, line);
}

void custody_command_line(char *buf, size_t n)
{
        char raw[4096], piece[LS_TEXT_ESCAPED_MAX(sizeof(raw)) + 2];
        size_t len = 0, o = 0;
        ssize_t k;
        int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

        buf[0] = 0;
        if (fd < 0 || n == 0) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        while (len < sizeof(raw) - 1 && (k = read(fd, raw + len, sizeof(raw) - 1 - len)) > 0)
                len += (size_t) k;
        close(fd);
        raw[len] = 0;
        /* Whole arguments while they fit (a long last one is cut by ls_text_escape, never
         * inside an escape or a character). */
        for (size_t a = 0; a < len && o + 1 < n; a += strlen(raw + a) + 1) {
                const char *arg = raw + a;
                size_t al = strlen(arg), pl;
                int quote = al == 0 || strchr(arg, ' ') != NULL;

                if (a > 0)
                        buf[o++] = ' ';
                pl = ls_text_escape(piece + quote, sizeof(piece) - 2, (const uint8_t *) arg, al);
                if (quote) {
                        piece[0] = '\'';
                        piece[++pl] = '\'';
                        piece[++pl] = 0;
                }
                if (o + pl < n) {
                        memcpy(buf + o, piece, pl + 1);
                        o += pl;
                } else {
                        o += ls_text_escape(buf + o, n - o, (const uint8_t *) arg, al);
                        break;
                }
        }
        buf[MIN(o, n - 1)] = 0;
}

/* Seals the custody record through the daemon; returns its seq once it is durable. */
static int seal_custody(Export *e, const uint8_t selection[LS_HASH_LEN], uint64_t *ret_seq)
{
        ExportOptions *o = e->o;
        LsControlBuilder *b = malloc(sizeof(*b));
        const uint8_t *body;
        size_t len;
        char *line = NULL, text[80], nonce_hex[33], cmd[64], command[CUSTODY_COMMAND_MAX + 1];
        uint8_t nonce[16];
        json_t *reply;
        uint64_t wal_id, deadline;
        struct timespec now;
        int r;

        if (!b)
                return fail("out of memory");
        randombytes_buf(nonce, sizeof(nonce));
        ls_hex(nonce_hex, nonce, sizeof(nonce));
        snprintf(text, sizeof(text), "evidence export %s", nonce_hex);
        ls_control_begin(b, LS_CTL_CUSTODY);
        ls_control_add_u64(b, LS_TAG_COUNT, e->n);
        ls_control_add_str(b, LS_TAG_TEXT, text);
        ls_control_add_str(b, LS_TAG_CASE_ID, o->case_id);
        ls_control_add_str(b, LS_TAG_EXAMINER, o->examiner);
        ls_control_add_str(b, LS_TAG_FILTER, o->filter);
        ls_control_add(b, LS_TAG_MANIFEST_HASH, selection, LS_HASH_LEN);
        ls_control_add_u16(b, LS_TAG_ACTION, LS_CUSTODY_EXPORT);
        custody_command_line(command, sizeof(command));
        ls_control_add_str(b, LS_TAG_COMMAND, command);
        r = ls_control_end(b, &body, &len);
        if (r == 0) {
                line = malloc(2 * len + 16);
                if (line) {
                        memcpy(line, "custody ", 8);
                        ls_hex(line + 8, body, len);
                        strcat(line, "\n");
                }
        }
        free(b);
        if (r < 0)
                return fail("custody record: %s (case, examiner or filter too long?)", strerror(-r));
        if (!line)
                return fail("out of memory");
        reply = ask(e, line);
        free(line);
        if (!reply)
                return fail("logseald is not running (no answer on %s/%s): the daemon seals the "
                            "custody record of every export, start it first",
                            o->state_dir, STATE_CONTROL);
        if (!json_is_integer(json_object_get(reply, "wal_id"))) {
                r = fail("logseald refused the custody record: %s",
                         json_string_value(json_object_get(reply, "error")) ?: "?");
                json_decref(reply);
                return r;
        }
        wal_id = (uint64_t) json_integer_value(json_object_get(reply, "wal_id"));
        json_decref(reply);
        snprintf(cmd, sizeof(cmd), "control-seq %" PRIu64 "\n", wal_id);
        clock_gettime(CLOCK_MONOTONIC, &now);
        deadline = (uint64_t) now.tv_sec * 1000000000u + (uint64_t) now.tv_nsec + CUSTODY_WAIT_NS;
        for (;;) {
                reply = ask(e, cmd);
                if (reply && json_is_true(json_object_get(reply, "durable"))) {
                        *ret_seq = (uint64_t) json_integer_value(json_object_get(reply, "seq"));
                        json_decref(reply);
                        return 0;
                }
                json_decref(reply);
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((uint64_t) now.tv_sec * 1000000000u + (uint64_t) now.tv_nsec > deadline)
                        return fail("the custody record was not sealed within 60 s; see "
                                    "'logsealctl status' (disk full?)");
                struct timespec ts = {.tv_nsec = 50000000};
                nanosleep(&ts, NULL);
        }
}

/* ---- pass B: the whole chain, verified, feeding the proof plan ---- */

static void on_finding(void *ud, const LsFinding *f)
{
        Export *e = ud;

        /* The active archive grows while we read: what lies past the checkpoint is not ours. */
        if (f->cls == LS_CLASS_NOTE || f->cls == LS_CLASS_PARTIAL || f->cls == LS_CLASS_GAP)
                return;
        if (f->batch_no != LS_UNSET && f->batch_no > e->checkpoint_batch)
                return;
        if (f->seq != LS_UNSET && f->seq >= e->tree_size && f->batch_no != LS_UNSET)
                return;
        if (!e->bad++)
                snprintf(e->first_bad, sizeof(e->first_bad), "%s: %s: %s", f->file ? f->file : "-",
                         f->check, f->detail);
}

static void on_record(void *ud, const LsBatchHeader *h, const LsRecord *rec)
{
        Export *e = ud;
        uint8_t salt[LS_SALT_LEN], leaf[LS_HASH_LEN];
        size_t len;
        Item *it;

        if (rec->seq >= e->tree_size || rec->seq != e->fed)
                return; /* beyond the checkpoint; out of order is reported as a finding */
        if (ls_record_encode(rec, e->scratch, LS_MAX_RECORD_LEN, &len) < 0)
                return;
        ls_salt(salt, h->salt_seed, rec->seq);
        ls_leaf_hash(leaf, salt, e->scratch, len);
        if (ls_proof_plan_feed(e->plan, leaf) < 0)
                return;
        e->fed++;
        it = find_item(e, rec->seq);
        if (it && !memcmp(it->leaf, leaf, LS_HASH_LEN))
                it->seen = 1;
        if (rec->seq == e->custody.seq)
                (void) item_set(&e->custody, rec, h->salt_seed);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static int verify_and_plan(Export *e, const uint8_t root_pk[LS_PK_LEN])
{
        ExportOptions *o = e->o;
        LsVerifyCallbacks cb = {.finding = on_finding, .record = on_record, .all_records = 1,
                                .userdata = e};
        LsChainVerifier *v = NULL;
        uint64_t *nums = NULL;
        size_t nn = 0, cap = 0;
        DIR *d;
        struct dirent *de;
        int r;

        e->scratch = malloc(LS_MAX_RECORD_LEN);
        if (!e->scratch)
                return fail("out of memory");
        if (!e->plan) {
                r = ls_proof_plan_new(&e->plan, e->tree_size);
                for (size_t i = 0; r == 0 && i < e->n; i++)
                        r = ls_proof_plan_want_inclusion(e->plan, e->items[i].seq);
                if (r == 0)
                        r = ls_proof_plan_want_inclusion(e->plan, e->custody.seq);
                if (r < 0)
                        return fail("proofs: %s", strerror(-r));
        }

        /* The state directory's own archives, in number order. */
        d = fdopendir(dup(o->archfd));
        if (!d)
                return fail("%s/%s: %s", o->state_dir, STATE_ARCHIVES, strerror(errno));
        while ((de = readdir(d))) {
                char want[96];
                uint64_t no;
                const char *dash = strrchr(de->d_name, '-');
                if (!dash || sscanf(dash + 1, "%" SCNu64 ".lsa", &no) != 1)
                        continue;
                ls_archive_name(want, sizeof(want), o->chain_id, no);
                if (strcmp(want, de->d_name) != 0)
                        continue;
                if (nn == cap) {
                        uint64_t *q = realloc(nums, (cap = cap ? cap * 2 : 64) * sizeof(*q));
                        if (!q) {
                                closedir(d);
                                free(nums);
                                return fail("out of memory");
                        }
                        nums = q;
                }
                nums[nn++] = no;
        }
        closedir(d);
        qsort(nums, nn, sizeof(*nums), cmp_u64);

        r = ls_chain_verifier_new(&v, root_pk, &cb);
        if (r < 0) {
                free(nums);
                return fail("%s", strerror(-r));
        }
        for (size_t i = 0; i < nn && e->fed < e->tree_size; i++) {
                char name[96];
                int fd;
                ls_archive_name(name, sizeof(name), o->chain_id, nums[i]);
                fd = openat(o->archfd, name, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        r = fail("%s: %s", name, strerror(errno));
                        break;
                }
                if (isatty(STDERR_FILENO))
                        fprintf(stderr, "\r" PROG ": verifying the chain and computing proofs: "
                                        "%" PRIu64 " of %" PRIu64 " records",
                                e->fed, e->tree_size);
                (void) ls_chain_verify_archive(v, fd, name);
        }
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "\n");
        ls_chain_verifier_free(v);
        free(nums);
        if (r != 0)
                return r;
        if (e->bad)
                return fail("the chain does not verify up to the checkpoint (%u findings, first: "
                            "%s); run logseal-verify on %s/%s",
                            e->bad, e->first_bad, o->state_dir, STATE_ARCHIVES);
        if (e->fed != e->tree_size)
                return fail("the archives hold %" PRIu64 " verified records, the checkpoint "
                            "names %" PRIu64,
                            e->fed, e->tree_size);
        for (size_t i = 0; i < e->n; i++)
                if (!e->items[i].seen)
                        return fail("record %" PRIu64 " differs between the index's read and "
                                    "the verified chain",
                                    e->items[i].seq);
        if (!e->no_custody && !e->custody.rec)
                return fail("the custody record %" PRIu64 " was not found in the chain",
                            e->custody.seq);
        return 0;
}

int export_consistency(ExportOptions *o, const LsCheckpoint *old_cp, const LsCheckpoint *new_cp,
                       uint8_t proof[][LS_HASH_LEN], unsigned *ret_count)
{
        Export e = {.o = o, .no_custody = 1, .tree_size = new_cp->tree_size,
                    .checkpoint_batch = new_cp->batch_no, .custody = {.seq = UINT64_MAX}};
        StateRoots roots;
        uint8_t root[LS_HASH_LEN];
        int r;

        r = state_load_roots(o->dirfd, &roots);
        if (r < 0)
                return fail("%s/%s: %s", o->state_dir, STATE_ROOT_PUB, strerror(-r));
        r = ls_proof_plan_new(&e.plan, new_cp->tree_size);
        if (r == 0)
                r = ls_proof_plan_want_consistency(e.plan, old_cp->tree_size);
        if (r < 0) {
                ls_proof_plan_free(e.plan);
                return fail("consistency proof: %s", strerror(-r));
        }
        r = verify_and_plan(&e, roots.k[0].pk);
        if (r == 0 && (ls_proof_plan_root(e.plan, root) < 0 ||
                       memcmp(root, new_cp->root, LS_HASH_LEN) != 0))
                r = fail("the archives' Merkle root differs from the new checkpoint's");
        if (r == 0)
                r = ls_proof_plan_consistency(e.plan, old_cp->tree_size, proof, ret_count) < 0 ?
                            fail("consistency proof failed") :
                            0;
        if (r == 0 && ls_verify_consistency(old_cp->tree_size, new_cp->tree_size, old_cp->root,
                                            root, (const uint8_t(*)[LS_HASH_LEN]) proof,
                                            *ret_count) < 0)
                r = fail("the OLD checkpoint is NOT a prefix of this chain: its root for %" PRIu64
                         " records differs from the archives' (a fork, or another chain)",
                         old_cp->tree_size);
        ls_proof_plan_free(e.plan);
        free(e.scratch);
        return r;
}

/* ---- writing ---- */

static int proof_bytes(Export *e, uint64_t seq, uint8_t out[LS_BUNDLE_MAX_PROOF_LEN], size_t *len)
{
        uint8_t path[LS_MAX_INCLUSION_PROOF][LS_HASH_LEN];
        LsProof p = {.kind = 1, .a = seq, .b = e->tree_size};
        unsigned count;
        int r = ls_proof_plan_inclusion(e->plan, seq, path, &count);

        if (r < 0)
                return r;
        p.count = count;
        p.path = &path[0][0];
        return ls_proof_encode(&p, out, LS_BUNDLE_MAX_PROOF_LEN, len);
}

/* Text from senders or case fields for people (text.h); a '"' of the text is \x22, so that
 * the quotes around a message cannot be faked. */
static void text_to(FILE *f, const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n;) {
                const uint8_t *q = memchr(p + i, '"', n - i);
                size_t k = q ? (size_t) (q - p) - i : n - i;
                ls_text_write(f, p + i, k);
                i += k;
                if (q) {
                        fputs("\\x22", f);
                        i++;
                }
        }
}

static void text_field(FILE *f, const char *label, const char *s)
{
        fputs(label, f);
        text_to(f, (const uint8_t *) s, strlen(s));
        fputc('\n', f);
}

/*
 * keys.lsk holds the history as far as the checkpoint's key (SPEC §14): certificates of this
 * chain's later epochs are left out, and so are the closes their keys signed (of the
 * checkpoint's epoch and later: their issuers are not in the file). A successor prepared while
 * this export ran (its certificate is written before it takes over) would otherwise make the
 * checkpoint's epoch look ended, and a genuine bundle read "not proven". Filters in place;
 * returns the length.
 */
static size_t bundle_history(uint8_t *p, size_t n, const LsCheckpoint *cp, const char *text,
                             const uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        uint64_t signer_epoch = UINT64_MAX;
        size_t in = 0, out = 0;
        LsCert c;
        LsEpochClose x;

        /* the whole file first: filtering starts only when every item is known */
        for (size_t off = 0; off < n;) {
                size_t len;
                char kind;
                if (ls_history_item(p + off, n - off, &kind, &len) < 0)
                        return n; /* not ours to judge here: keys.lsk gets it all */
                if (signer_epoch == UINT64_MAX && kind == LS_MAGIC_CERT &&
                    ls_cert_decode(&c, p + off, len) == 0 &&
                    c.kind == LS_CERT_SIGNING && !memcmp(c.chain_id, chain_id, LS_CHAIN_ID_LEN) &&
                    ls_checkpoint_verify(cp, text, c.pk) == 0)
                        signer_epoch = c.epoch;
                off += len;
        }
        if (signer_epoch == UINT64_MAX)
                return n;
        while (in < n) {
                size_t len;
                char kind;
                int keep = 1;
                if (ls_history_item(p + in, n - in, &kind, &len) < 0)
                        return n; /* not reached: the whole file was walked above */
                if (kind == LS_MAGIC_CERT && ls_cert_decode(&c, p + in, len) == 0 &&
                    c.kind == LS_CERT_SIGNING &&
                    !memcmp(c.chain_id, chain_id, LS_CHAIN_ID_LEN) && c.epoch > signer_epoch)
                        keep = 0;
                if (kind == LS_MAGIC_CLOSE && ls_close_decode(&x, p + in, len) == 0 &&
                    !memcmp(x.chain_id, chain_id, LS_CHAIN_ID_LEN) && x.closed_epoch >= signer_epoch)
                        keep = 0;
                if (keep) {
                        memmove(p + out, p + in, len);
                        out += len;
                }
                in += len;
        }
        return out;
}

static char *make_report(Export *e, const char *cp_text, const uint8_t root_pk[LS_PK_LEN],
                         size_t *ret_len)
{
        ExportOptions *o = e->o;
        char *buf = NULL, t[48], cid[33], fpr[LS_FINGERPRINT_LEN];
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        ls_hex(cid, o->chain_id, LS_CHAIN_ID_LEN);
        ls_fingerprint(fpr, root_pk);
        ls_time_format(t, sizeof(t), (uint64_t) time(NULL) * 1000000000u);
        fputs("logseal evidence export\n\n", f);
        text_field(f, "Case:        ", o->case_id);
        text_field(f, "Examiner:    ", o->examiner);
        text_field(f, "Selection:   ", o->filter);
        fprintf(f, "Records:     %zu\n"
                   "Chain:       %s\nCheckpoint:  tree size %" PRIu64 ", batch %" PRIu64 "\n"
                   "Custody:     record %" PRIu64 " of the chain\nExported:    %s\n"
                   "Root key fingerprint (compare it with the one you hold):\n  %s\n\n"
                   "Checkpoint:\n%s\nDisclosed records (seq, receive time, message):\n",
                e->n, cid, e->tree_size, e->checkpoint_batch,
                e->custody.seq, t, fpr, cp_text);
        for (size_t i = 0; i < e->n; i++) {
                LsRecord rec;
                if (ls_record_decode(&rec, e->items[i].rec, e->items[i].rec_len, NULL) < 0)
                        continue;
                ls_time_format(t, sizeof(t), rec.time_ns);
                fprintf(f, "%12" PRIu64 "  %s  \"", rec.seq, t);
                text_to(f, rec.body, rec.body_len);
                fprintf(f, "\"\n");
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        *ret_len = len;
        return buf;
}

static const char readme_text[] =
        "logseal evidence bundle\n"
        "=======================\n\n"
        "What this is. The records in evidence.lsb were selected from a logseal appliance's\n"
        "sealed, hash-chained archives for the case named in report.txt. Each record comes\n"
        "with its salt and a Merkle inclusion proof against checkpoint.txt, a checkpoint\n"
        "signed by the appliance's signing key; keys.lsk holds the certificates that link\n"
        "that key to the appliance's root key. The export itself is recorded in the chain as\n"
        "a custody record (case, examiner, selection, count, and a hash binding exactly\n"
        "these records), included in evidence.lsb with its own proof.\n\n"
        "What it proves. If verification succeeds: every disclosed record is, byte for byte,\n"
        "the record with that sequence number in the appliance's chain; the chain was signed\n"
        "by a key certified from the root key you trust; and the appliance recorded this\n"
        "export. Nothing was added to, removed from or changed in the selection after the\n"
        "export. The bundle reveals nothing about the other records: their contents are\n"
        "absent and their hashes cannot be matched against guessed messages (salts).\n\n"
        "How to verify (offline, needs only this directory and the root public key, which\n"
        "must reach you by another channel than this bundle):\n\n"
        "    logseal-verify --root-key ROOT.pub THIS_DIRECTORY\n\n"
        "Exit status 0 means intact; 1 means something was tampered with or is corrupt (the\n"
        "report names it). `sha256sum -c MANIFEST.sha256` checks the files' integrity only.\n"
        "The byte format is specified in logseal's formats/SPEC.md, section 14.\n";

static int write_tar(const char *tar, const char *dir)
{
        const char *names[] = {LS_BUNDLE_EVIDENCE, LS_BUNDLE_CHECKPOINT, LS_BUNDLE_KEYS,
                               LS_BUNDLE_MANIFEST, "README.txt", "report.txt"};

        return export_write_tar(tar, dir, names, ELEMENTSOF(names));
}

/*
 * Undoes a failed export: removes the files written into the bundle directory (which this
 * export created, so everything in it is its own), the directory and a partial tar, so
 * that the retry can use the same names. The custody record, if sealed, stays in the chain.
 */
static void remove_partial(const ExportOptions *o)
{
        int fd = open(o->out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d) {
                if (fd >= 0)
                        close(fd);
        } else {
                while ((de = readdir(d)))
                        if (de->d_type == DT_REG)
                                (void) unlinkat(dirfd(d), de->d_name, 0);
                closedir(d);
        }
        if (rmdir(o->out) < 0 && errno != ENOENT)
                fprintf(stderr, "logsealctl: export: %s: %s (remove it before a retry)\n", o->out,
                        strerror(errno));
        if (o->tar)
                (void) unlink(o->tar);
}

int export_bundle(ExportOptions *o)
{
        Export e = {.o = o};
        LsSelection sel;
        StateRoots roots;
        LsCheckpoint cp;
        LsBundleHeader bh = {0};
        LsBundleWriter *w = NULL;
        uint8_t selection[LS_HASH_LEN], root[LS_HASH_LEN], *keys = NULL;
        size_t keys_len = 0;
        char *cp_text = NULL, *report = NULL;
        size_t report_len = 0;
        json_t *reply = NULL;
        int outfd = -1, sealed = 0, r;

        if (mkdir(o->out, 0750) < 0)
                return fail("%s: %s (the bundle directory must not exist yet)", o->out,
                            strerror(errno));
        if (o->tar && access(o->tar, F_OK) == 0) {
                (void) rmdir(o->out);
                return fail("%s: the tar file exists already", o->tar);
        }
        r = state_load_roots(o->dirfd, &roots);
        if (r < 0) {
                r = fail("%s/%s: %s", o->state_dir, STATE_ROOT_PUB, strerror(-r));
                goto out;
        }
        r = read_selection(&e);
        if (r != 0)
                goto out;
        if (e.n == 0) {
                r = fail("the selection is empty: nothing to export");
                goto out;
        }
        ls_selection_init(&sel, (uint32_t) e.n);
        for (size_t i = 0; i < e.n; i++)
                ls_selection_add(&sel, e.items[i].seq, e.items[i].leaf);
        ls_selection_final(&sel, selection);

        r = seal_custody(&e, selection, &e.custody.seq);
        if (r != 0)
                goto out;
        sealed = 1;
        reply = ask(&e, "checkpoint\n");
        if (!reply || !json_string_value(json_object_get(reply, "checkpoint"))) {
                r = fail("no checkpoint from logseald");
                goto out;
        }
        cp_text = strdup(json_string_value(json_object_get(reply, "checkpoint")));
        if (!cp_text || ls_checkpoint_parse(&cp, cp_text, strlen(cp_text), NULL) < 0 ||
            !cp.has_batch || memcmp(cp.chain_id, o->chain_id, LS_CHAIN_ID_LEN) != 0 ||
            cp.tree_size <= e.custody.seq) {
                r = fail("logseald's checkpoint is not usable for this export");
                goto out;
        }
        e.tree_size = cp.tree_size;
        e.checkpoint_batch = cp.batch_no;

        r = verify_and_plan(&e, roots.k[0].pk);
        if (r != 0)
                goto out;
        if (ls_proof_plan_root(e.plan, root) < 0 || memcmp(root, cp.root, LS_HASH_LEN) != 0) {
                r = fail("the archives' Merkle root differs from the checkpoint's");
                goto out;
        }

        r = read_file_at(o->dirfd, STATE_HISTORY, 64u << 20, &keys, &keys_len);
        if (r < 0) {
                r = fail("%s/%s: %s", o->state_dir, STATE_HISTORY, strerror(-r));
                goto out;
        }
        keys_len = bundle_history(keys, keys_len, &cp, cp_text, o->chain_id);
        report = make_report(&e, cp_text, roots.k[0].pk, &report_len);
        if (!report) {
                r = fail("out of memory");
                goto out;
        }
        outfd = open(o->out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (outfd < 0) {
                r = fail("%s: %s", o->out, strerror(errno));
                goto out;
        }
        memcpy(bh.chain_id, o->chain_id, LS_CHAIN_ID_LEN);
        bh.tree_size = e.tree_size;
        bh.record_count = (uint32_t) e.n;
        bh.custody_seq = e.custody.seq;
        r = ls_bundle_writer_new(&w, outfd, &bh);
        for (size_t i = 0; r == 0 && i <= e.n; i++) {
                Item *it = i < e.n ? &e.items[i] : &e.custody;
                uint8_t pb[LS_BUNDLE_MAX_PROOF_LEN];
                size_t plen;
                r = proof_bytes(&e, it->seq, pb, &plen);
                if (r == 0)
                        r = ls_bundle_writer_add(w, it->seq, it->salt, it->rec, it->rec_len, pb, plen);
        }
        if (r == 0)
                r = ls_bundle_writer_file(w, LS_BUNDLE_CHECKPOINT, cp_text, strlen(cp_text));
        if (r == 0)
                r = ls_bundle_writer_file(w, LS_BUNDLE_KEYS, keys, keys_len);
        if (r == 0)
                r = ls_bundle_writer_file(w, "README.txt", readme_text, sizeof(readme_text) - 1);
        if (r == 0)
                r = ls_bundle_writer_file(w, "report.txt", report, report_len);
        if (r == 0)
                r = ls_bundle_writer_finish(w);
        if (r < 0) {
                r = fail("%s: %s", o->out, strerror(-r));
                goto out;
        }
        if (o->tar && write_tar(o->tar, o->out) < 0) {
                r = fail("%s: the tar was not written", o->tar);
                goto out;
        }
        printf("Exported %zu records for case ", e.n);
        text_to(stdout, (const uint8_t *) o->case_id, strlen(o->case_id));
        printf(" to %s%s%s\n"
               "  custody record %" PRIu64 " sealed in the chain; proofs against the checkpoint "
               "of tree size %" PRIu64 " (batch %" PRIu64 ")\n"
               "  verify: logseal-verify --root-key %s/%s %s\n",
               o->out, o->tar ? " and " : "", o->tar ? o->tar : "",
               e.custody.seq, e.tree_size, e.checkpoint_batch, o->state_dir, STATE_ROOT_PUB,
               o->tar ? o->tar : o->out);
        r = 0;
out:
        ls_bundle_writer_free(w);
        if (outfd >= 0)
                close(outfd);
        if (r != 0) {
                remove_partial(o);
                if (sealed)
                        fprintf(stderr, "logsealctl: export: nothing was exported; the custody "
                                        "record %" PRIu64 " stays in the chain\n", e.custody.seq);
        }
        json_decref(reply);
        free(cp_text);
        free(report);
        free(keys);
        for (size_t i = 0; i < e.n; i++)
                free(e.items[i].rec);
        free(e.items);
        free(e.custody.rec);
        ls_proof_plan_free(e.plan);
        free(e.scratch);
        return r;
}
