/* SPDX-License-Identifier: Apache-2.0 */
/* logseal-verify: prove chain of custody of logseal archives from a root public key, offline */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "archive.h"
#include "bundle-reader.h"
#include "chain-verify.h"
#include "checkpoint.h"
#include "merkle.h"
#include "config.h"
#include "control.h"
#include "hash.h"
#include "keys.h"
#include "magic.h"
#include "report.h"
#include "util.h"

#define MAX_FILES 1000000
#define MAX_DEPTH 8
#define MAX_KEYFILE (64u << 20)

typedef struct Input {
        char *path;
        int header_ok;
        uint64_t archive_no;
} Input;

typedef struct Checkpoint {
        char *file;
        char *text;
        size_t len;
        LsCheckpoint cp;
        int matched;
        int agrees;             /* the verified batch at its tree size is the one it names */
        uint64_t matched_batch;
        CheckpointCheck check;
} Checkpoint;

typedef enum DumpMode { DUMP_NONE, DUMP_RAW, DUMP_JSON } DumpMode;

typedef struct Ctx {
        Report report;
        LsChainVerifier *v;
        Input *inputs;
        size_t ninputs;
        Checkpoint *cps;
        size_t ncps;
        DumpMode dump;
        uint64_t dump_from, dump_to, dump_seq_from, dump_seq_to;
        int progress;
        const char *current_file;
        int oom;
        unsigned jobs; /* --jobs; 0: one per online CPU */
} Ctx;

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void help(void)
{
        printf("Usage: logseal-verify --root-key FILE [OPTIONS] PATH...\n"
               "       logseal-verify --root-key FILE [OPTIONS] BUNDLE\n"
               "       logseal-verify --root-key FILE --keys HISTORY --consistency OLD NEW\n"
               "                      [--proof FILE]\n"
               "\n"
               "Verify logseal archives (files, or directories searched for them) against the\n"
               "appliance's root public key, offline, and report chain of custody.\n"
               "\n"
               "BUNDLE is an evidence bundle exported for an investigation: a directory holding\n"
               "evidence.lsb (or MANIFEST.sha256), or a .tar file of one (extracted with tar into\n"
               "a private temporary directory). Its disclosed records, inclusion proofs,\n"
               "checkpoint, key history, custody record and manifest are verified; it is\n"
               "given on its own, without archives.\n"
               "\n"
               "  -k, --root-key FILE      root public key file (the only trust anchor)\n"
               "  -K, --keys FILE          key history / revocation file (certificates are\n"
               "                           checked against the root key; repeatable)\n"
               "      --revocations FILE   same as --keys\n"
               "  -c, --checkpoint FILE    a checkpoint obtained out of band: detects a missing\n"
               "                           tail and forks (repeatable); with a bundle, one of\n"
               "                           the same tree size must be the bundle's tree\n"
               "      --consistency OLD    with one NEW checkpoint: prove that NEW extends OLD\n"
               "                           (both signed by certified keys; RFC 9162 proof)\n"
               "      --proof FILE         the consistency proof (default NEW.proof, as\n"
               "                           written by logsealctl checkpoint --since OLD)\n"
               "  -j, --json               print the report as JSON (schema " REPORT_SCHEMA ")\n"
               "  -r, --report FILE        also write the report to FILE (text) and FILE.json\n"
               "      --case ID            case identifier to put in the report\n"
               "      --examiner NAME      examiner name to put in the report\n"
               "  -q, --quiet              print nothing; the exit code is the verdict\n"
               "      --dump[=raw|json]    print the records of verified batches (or a bundle's\n"
               "                           verified disclosed records) to stdout\n"
               "                           (the report then goes to stderr)\n"
               "      --from TIME, --to TIME   dump only records received in this range\n"
               "                           (RFC 3339 UTC like 2026-01-01T00:00:00Z, or @NANOSECONDS)\n"
               "      --seq A-B            dump only records with sequence numbers A..B\n"
               "      --jobs N             verify on N threads (default: one per online CPU);\n"
               "                           the results are the same for any N\n"
               "  -h, --help               show this help\n"
               "  -V, --version            show the version\n"
               "\n"
               "Exit status: 0 intact, 1 tampered or corrupt, 2 usage or I/O error, 3 gap\n"
               "(records or archives missing without a signed explanation), 4 partial (does\n"
               "not start at the chain start, or ends in an open archive). A bundle is 0, 1 or 2.\n");
}

static int parse_time(const char *s, uint64_t *ret)
{
        struct tm tm = {};
        char *end;
        time_t t;

        if (s[0] == '@') {
                errno = 0;
                unsigned long long v = strtoull(s + 1, &end, 10);
                if (errno || *end || end == s + 1)
                        return -EINVAL;
                *ret = v;
                return 0;
        }
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
                return -EINVAL;
        uint64_t frac = 0, scale = 1000000000u;
        if (*end == '.') {
                end++;
                while (*end >= '0' && *end <= '9') {
                        if (scale > 1) {
                                scale /= 10;
                                frac += (uint64_t) (*end - '0') * scale;
                        }
                        end++;
                }
        }
        if (strcmp(end, "Z") != 0)
                return -EINVAL;
        t = timegm(&tm);
        if (t < 0)
                return -EINVAL;
        *ret = (uint64_t) t * 1000000000u + frac;
        return 0;
}

static int read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        uint8_t *p;
        size_t got = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t) st.st_size > max)
                return -E2BIG;
        p = malloc((size_t) st.st_size + 1);
        if (!p)
                return -ENOMEM;
        while (got < (size_t) st.st_size) {
                ssize_t k = read(fd, p + got, (size_t) st.st_size - got);
                if (k <= 0) {
                        free(p);
                        return k < 0 ? -errno : -EIO;
                }
                got += (size_t) k;
        }
        p[got] = 0;
        *ret = p;
        *ret_len = got;
        return 0;
}

/* ---- inputs ---- */

static int add_input(Ctx *c, const char *path)
{
        uint8_t buf[LS_FRAME_HDR_LEN + LS_ARCHIVE_HEADER_MAX_LEN];
        LsArchiveHeader h;
        Input *in;
        ssize_t n;

        if (c->ninputs >= MAX_FILES)
                return -E2BIG;
        if ((c->ninputs & (c->ninputs - 1)) == 0) {
                Input *q = realloc(c->inputs, (c->ninputs ? 2 * c->ninputs : 16) * sizeof(*q));
                if (!q)
                        return -ENOMEM;
                c->inputs = q;
        }
        in = &c->inputs[c->ninputs];
        memset(in, 0, sizeof(*in));
        in->path = strdup(path);
        if (!in->path)
                return -ENOMEM;
        c->ninputs++;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0; /* reported when verified */
        n = pread(fd, buf, sizeof(buf), 0);
        if (n >= LS_FRAME_HDR_LEN + LS_ARCHIVE_HEADER_MIN_LEN && ls_get32(buf) == LS_SKIPPABLE_MAGIC) {
                uint32_t len = ls_get32(buf + 4);
                if (len <= (size_t) n - LS_FRAME_HDR_LEN &&
                    ls_archive_header_decode(&h, buf + LS_FRAME_HDR_LEN, len, NULL) == 0) {
                        in->header_ok = 1;
                        in->archive_no = h.archive_no;
                }
        }
        return 0;
}

/*
 * Is this file in a directory an archive candidate (SPEC §8.5)? 1 when it starts like an
 * archive (a skippable frame holding the archive magic), 2 when it only looks like one
 * (a skippable-frame or logseal magic at the start, or an .lsa name): then it is verified
 * and its damage reported; 0 when it is some other file.
 */
static int looks_like_archive(int dirfd, const char *name)
{
        uint8_t buf[LS_FRAME_HDR_LEN + LS_MAGIC_LEN] = {};
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        size_t len = strlen(name);
        ssize_t n;

        if (fd < 0)
                return 2; /* unreadable: verified, so the error is reported */
        n = pread(fd, buf, sizeof(buf), 0);
        if (n == (ssize_t) sizeof(buf) && ls_get32(buf) == LS_SKIPPABLE_MAGIC &&
            ls_magic_check(buf + 8, LS_MAGIC_ARCHIVE))
                return 1;
        if ((n >= 4 && ls_get32(buf) == LS_SKIPPABLE_MAGIC) ||
            (n >= 4 && buf[0] == 0x89 && buf[1] == 'L' && buf[2] == 'S') ||
            (n >= 12 && ls_magic_check(buf + 4, LS_MAGIC_ARCHIVE)) ||
            (len > 4 && !strcmp(name + len - 4, ".lsa")))
                return 2;
        return 0;
}

static void note_skipped(Ctx *c, const char *path, const char *why)
{
        LsFinding f = {.cls = LS_CLASS_NOTE, .check = "not an archive", .file = path,
                       .offset = LS_UNSET, .archive_no = LS_UNSET, .batch_no = LS_UNSET,
                       .seq = LS_UNSET};

        snprintf(f.detail, sizeof(f.detail), "%s: not verified", why);
        if (report_add_finding(&c->report, &f) < 0)
                c->oom = 1;
}

/*
 * Every entry of a directory is accounted for: archives are verified, anything that looks
 * like one (hidden names included) is verified and its damage reported, and every other
 * file is listed as not verified. Nothing is skipped silently.
 */
static int add_path(Ctx *c, const char *path, int depth)
{
        struct stat st;
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(errno));
                return -errno;
        }
        if (!S_ISDIR(st.st_mode))
                return add_input(c, path);
        if (depth >= MAX_DEPTH) {
                note_skipped(c, path, "a directory nested too deep");
                return 0;
        }
        d = opendir(path);
        if (!d) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(errno));
                return -errno;
        }
        while ((de = readdir(d)) && r >= 0) {
                char *sub;
                struct stat sst;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (asprintf(&sub, "%s/%s", path, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (stat(sub, &sst) < 0)
                        note_skipped(c, sub, strerror(errno));
                else if (S_ISDIR(sst.st_mode))
                        r = add_path(c, sub, depth + 1);
                else if (!S_ISREG(sst.st_mode))
                        note_skipped(c, sub, "not a regular file");
                else if (looks_like_archive(dirfd(d), de->d_name))
                        r = add_input(c, sub);
                else
                        note_skipped(c, sub, "a file that is not a logseal archive");
                free(sub);
        }
        closedir(d);
        return r;
}

/* Chain order comes from the signed headers, never from file names. */
static int input_cmp(const void *a, const void *b)
{
        const Input *x = a, *y = b;

        if (x->header_ok != y->header_ok)
                return x->header_ok ? -1 : 1;
        if (x->header_ok && x->archive_no != y->archive_no)
                return x->archive_no < y->archive_no ? -1 : 1;
        return strcmp(x->path, y->path);
}

/* ---- keys files ---- */

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
static int later_root_hint(LsTrust *t)
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

static int load_keys(Ctx *c, const char *path)
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

static int load_checkpoint(Ctx *c, const char *path)
{
        uint8_t *p;
        size_t n, off = 0;
        Checkpoint *cp;
        int r = read_file(path, LS_MAX_CHECKPOINT_TEXT, &p, &n);

        if (r < 0) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(-r));
                return r;
        }
        cp = realloc(c->cps, (c->ncps + 1) * sizeof(*cp));
        if (!cp) {
                free(p);
                return -ENOMEM;
        }
        c->cps = cp;
        cp = &c->cps[c->ncps];
        memset(cp, 0, sizeof(*cp));
        r = ls_checkpoint_parse(&cp->cp, (const char *) p, n, &off);
        if (r < 0) {
                fprintf(stderr, "logseal-verify: %s: byte %zu: not a valid logseal checkpoint\n",
                        path, off);
                free(p);
                return r;
        }
        cp->file = strdup(path);
        cp->text = (char *) p;
        cp->len = n;
        cp->check.file = cp->file;
        cp->check.tree_size = cp->cp.tree_size;
        cp->check.batch_no = cp->cp.has_batch ? cp->cp.batch_no : LS_UNSET;
        c->ncps++;
        return 0;
}

/*
 * SPEC §9.3 through the trust module: is this checkpoint evidence? 1 when a key that may
 * sign its batch signed it and nothing shows it was made after that key's epoch ended;
 * else 0 and *why.
 */
static int checkpoint_authentic(Ctx *c, Checkpoint *cp, const char **why, int *unbound_only)
{
        LsTrustDecision d;

        *unbound_only = 0;
        ls_trust_check_checkpoint(ls_chain_verifier_trust(c->v), &cp->cp, cp->text, &d);
        if (d.result != LS_TRUST_OK) {
                *why = d.why;
                return 0;
        }
        if (d.unbound) {
                /* It may agree with the evidence all the same: that is stated, not trusted. */
                *unbound_only = 1;
                *why = "it was signed with the key of an epoch that has ended, and nothing proves "
                       "it was made before the end (a holder of the erased key could have made it)";
                return 0;
        }
        return 1;
}

static void on_batch(void *ud, const char *file, uint64_t offset, const LsBatchHeader *h)
{
        Ctx *c = ud;

        (void) file;
        (void) offset;
        if (!c->report.have_chain) {
                memcpy(c->report.chain_id, h->chain_id, LS_CHAIN_ID_LEN);
                c->report.have_chain = 1;
        }
        /* Authenticity is decided at the end, with everything the chain taught (closes). */
        for (size_t i = 0; i < c->ncps; i++) {
                Checkpoint *cp = &c->cps[i];
                uint8_t hh[LS_HASH_LEN];
                /* at the batch it names, or at the batch whose records its tree size ends in */
                if (cp->matched || memcmp(cp->cp.chain_id, h->chain_id, LS_CHAIN_ID_LEN) != 0 ||
                    !((cp->cp.has_batch && cp->cp.batch_no == h->batch_no) ||
                      (cp->cp.tree_size <= h->tree_size && cp->cp.tree_size > h->first_seq)))
                        continue;
                cp->matched = 1;
                cp->matched_batch = h->batch_no;
                ls_batch_header_hash(h, hh);
                cp->agrees = !memcmp(cp->cp.chain_id, h->chain_id, LS_CHAIN_ID_LEN) &&
                             cp->cp.tree_size == h->tree_size &&
                             ls_hash_equal(cp->cp.root, h->tree_root) && cp->cp.has_batch &&
                             cp->cp.batch_no == h->batch_no && ls_hash_equal(cp->cp.header_hash, hh);
        }
}

static void finish_checkpoints(Ctx *c)
{
        const LsVerifyStats *st = &c->report.stats;
        uint64_t have = st->last_seq == LS_UNSET ? 0 : st->last_seq + 1;

        for (size_t i = 0; i < c->ncps; i++) {
                Checkpoint *cp = &c->cps[i];
                LsFinding f = {.offset = LS_UNSET, .archive_no = LS_UNSET, .file = cp->file};
                const char *why = NULL;
                CheckpointCheck *k = &cp->check;

                f.batch_no = k->batch_no;
                f.seq = LS_UNSET;
                /*
                 * SPEC §7.3: a checkpoint that is not evidence (no trusted key may have signed
                 * it) is reported as such and changes no verdict; only an authentic one can
                 * show a fork or a missing tail.
                 */
                int unbound_only = 0;
                if (c->report.have_chain &&
                    memcmp(cp->cp.chain_id, c->report.chain_id, LS_CHAIN_ID_LEN) != 0) {
                        k->result = CP_UNVERIFIED;
                        snprintf(k->detail, sizeof(k->detail),
                                 "a checkpoint of another chain than this evidence: not compared "
                                 "(it changes no verdict)");
                } else if (!checkpoint_authentic(c, cp, &why, &unbound_only) &&
                    !(unbound_only && cp->matched && cp->agrees)) {
                        k->result = CP_UNVERIFIED;
                        snprintf(k->detail, sizeof(k->detail),
                                 "not authentic, ignored (it changes no verdict): %s", why);
                } else if (cp->matched) {
                        k->result = cp->agrees ? CP_CONSISTENT : CP_FORK;
                        if (cp->agrees)
                                snprintf(k->detail, sizeof(k->detail),
                                         "the evidence contains exactly this tree (batch %" PRIu64
                                         ")%s",
                                         cp->matched_batch,
                                         unbound_only ? "; its key's epoch has ended, so it "
                                                        "proves nothing beyond the evidence" :
                                                        "");
                        else
                                snprintf(k->detail, sizeof(k->detail),
                                         "the chain's tree at this size differs from the signed "
                                         "checkpoint: history was rewritten (fork)");
                } else if (st->first_seq != LS_UNSET && cp->cp.tree_size <= st->first_seq) {
                        k->result = CP_NOT_REACHED;
                        snprintf(k->detail, sizeof(k->detail),
                                 "the evidence starts after this checkpoint");
                } else if (cp->cp.tree_size > have) {
                        k->result = CP_MISSING_TAIL;
                        k->missing_records = cp->cp.tree_size - have;
                        snprintf(k->detail, sizeof(k->detail),
                                 "the evidence ends at %" PRIu64 " records; %" PRIu64
                                 " records up to this checkpoint are missing",
                                 have, k->missing_records);
                } else {
                        k->result = CP_UNVERIFIED;
                        snprintf(k->detail, sizeof(k->detail),
                                 "its tree size falls on no verified batch boundary (the batch "
                                 "it names did not verify)");
                }
                switch (k->result) {
                case CP_FORK:
                        f.cls = LS_CLASS_TAMPERED;
                        f.code = -EILSEQ;
                        f.check = "checkpoint fork";
                        break;
                case CP_MISSING_TAIL:
                        f.cls = LS_CLASS_GAP;
                        f.code = -ENODATA;
                        f.check = "missing tail";
                        break;
                case CP_UNVERIFIED:
                        f.cls = LS_CLASS_NOTE;
                        f.code = -EKEYREJECTED;
                        f.check = "checkpoint not authentic";
                        break;
                default:
                        f.cls = LS_CLASS_NOTE;
                        f.check = "checkpoint";
                        break;
                }
                snprintf(f.detail, sizeof(f.detail), "%s", k->detail);
                if (f.cls != LS_CLASS_NOTE || k->result == CP_UNVERIFIED)
                        report_add_finding(&c->report, &f);
                report_add_checkpoint(&c->report, k);
        }
}

/* ---- callbacks ---- */

static void on_finding(void *ud, const LsFinding *f)
{
        Ctx *c = ud;
        if (report_add_finding(&c->report, f) < 0)
                c->oom = 1;
}

/* A record as JSON: the --dump=json line, and a disclosed record of a bundle report. */
static json_t *record_json(const LsRecord *rec)
{
        json_t *o = json_object();
        char t[64];
        format_time(t, sizeof(t), rec->time_ns);
        json_object_set_new(o, "seq", json_integer((json_int_t) rec->seq));
        json_object_set_new(o, "time", json_string(t));
        json_object_set_new(o, "type", json_string(rec->type == LS_REC_SYSLOG ? "syslog" :
                                                                               "control"));
        json_object_set_new(o, "transport", json_string(ls_transport_name(rec->transport)));
        if (rec->family == LS_FAMILY_IPV4 || rec->family == LS_FAMILY_IPV6) {
                char a[64];
                inet_ntop(rec->family == LS_FAMILY_IPV4 ? AF_INET : AF_INET6, rec->address, a,
                          sizeof(a));
                json_object_set_new(o, "peer", json_string(a));
                json_object_set_new(o, "port", json_integer(rec->port));
        } else if (rec->family == LS_FAMILY_UNIX) {
                uint32_t pid, uid, gid;
                ls_record_get_ucred(rec, &pid, &uid, &gid);
                json_object_set_new(o, "pid", json_integer(pid));
                json_object_set_new(o, "uid", json_integer(uid));
                json_object_set_new(o, "gid", json_integer(gid));
        }
        if (rec->conn_id)
                json_object_set_new(o, "connection", json_integer(rec->conn_id));
        if (rec->identity_len)
                json_object_set_new(o, "sender_identity",
                                    json_stringn((const char *) rec->identity, rec->identity_len) ?:
                                            json_string("(not UTF-8)"));
        json_t *flags = json_array();
        if (rec->flags & LS_RECF_PARSE_FAILED)
                json_array_append_new(flags, json_string("parse-failed"));
        if (rec->flags & LS_RECF_TRUNCATED)
                json_array_append_new(flags, json_string("truncated"));
        if (rec->flags & LS_RECF_RECOVERED)
                json_array_append_new(flags, json_string("recovered"));
        json_object_set_new(o, "flags", flags);
        if (rec->flags & LS_RECF_TRUNCATED)
                json_object_set_new(o, "original_length", json_integer(rec->orig_len));
        if (rec->type == LS_REC_SYSLOG) {
                json_t *s = json_stringn((const char *) rec->body, rec->body_len);
                if (s && !memchr(rec->body, 0, rec->body_len)) {
                        json_object_set_new(o, "message", s);
                } else {
                        char *b64 = malloc(ls_base64_len(rec->body_len));
                        json_decref(s);
                        if (b64) {
                                ls_base64(b64, rec->body, rec->body_len);
                                json_object_set_new(o, "message_base64", json_string(b64));
                                free(b64);
                        }
                }
        } else {
                json_object_set_new(o, "control",
                                    json_string(ls_control_type_name(
                                            rec->body_len >= 2 ? ls_get16(rec->body) : 0)));
        }
        return o;
}

static void dump_record(Ctx *c, const LsRecord *rec)
{
        if (rec->time_ns < c->dump_from || rec->time_ns > c->dump_to || rec->seq < c->dump_seq_from ||
            rec->seq > c->dump_seq_to)
                return;
        if (c->dump == DUMP_RAW) {
                if (rec->type != LS_REC_SYSLOG)
                        return;
                fwrite(rec->body, 1, rec->body_len, stdout);
                fputc('\n', stdout);
                return;
        }
        json_t *o = record_json(rec);
        json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(o);
}

static void on_record(void *ud, const LsBatchHeader *h, const LsRecord *rec)
{
        Ctx *c = ud;

        if (rec->type == LS_REC_CONTROL && report_add_event(&c->report, h, rec, c->current_file) < 0)
                c->oom = 1;
        if (c->dump != DUMP_NONE)
                dump_record(c, rec);
}

static void on_archive(void *ud, const LsArchiveSummary *s)
{
        Ctx *c = ud;
        if (report_add_archive(&c->report, s) < 0)
                c->oom = 1;
}

/* ---- evidence bundles (SPEC §14) ---- */

enum { NOT_BUNDLE, BUNDLE_DIR, BUNDLE_TAR };

#define BUNDLE_LIST_MAX_RECORDS 100000
#define BUNDLE_LIST_MAX_BYTES (64u << 20)

typedef struct BundleRec {
        uint8_t *bytes;                 /* the record's encoding, decoded again to print */
        size_t len;
} BundleRec;

typedef struct BundleFileRow {
        char *name;
        LsBundleFileStatus status;
        uint64_t size;
        int have_hash;
        uint8_t sha256[LS_HASH_LEN];
        int authenticated;              /* an evidence file (LsBundleFile) */
} BundleFileRow;

typedef struct BundleCp {
        const Checkpoint *cp;
        const char *result;
        char detail[256];
} BundleCp;

typedef struct Bundle {
        Ctx *c;
        const char *path;
        int kind;
        LsBundleReader *reader;
        LsBundleSummary sum;
        BundleRec *recs;
        size_t nrecs, rec_bytes;
        uint64_t recs_not_listed;
        BundleFileRow *files;
        size_t nfiles;
        BundleCp *cps;
        size_t ncps;
} Bundle;

/* A directory holding evidence.lsb or MANIFEST.sha256, or a tar file. */
static int bundle_kind(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return NOT_BUNDLE;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct stat es;
                if (dfd >= 0 && (fstatat(dfd, LS_BUNDLE_EVIDENCE, &es, AT_SYMLINK_NOFOLLOW) == 0 ||
                                 fstatat(dfd, LS_BUNDLE_MANIFEST, &es, AT_SYMLINK_NOFOLLOW) == 0))
                        return BUNDLE_DIR;
                return NOT_BUNDLE;
        }
        if (S_ISREG(st.st_mode)) {
                size_t n = strlen(path);
                char block[512];
                _cleanup_close_ int fd = -1;
                if (n >= 4 && strcmp(path + n - 4, ".tar") == 0)
                        return BUNDLE_TAR;
                /* POSIX ustar and GNU tar headers: "ustar" at offset 257 of the first block */
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd >= 0 && pread(fd, block, sizeof(block), 0) == (ssize_t) sizeof(block) &&
                    memcmp(block + 257, "ustar", 5) == 0)
                        return BUNDLE_TAR;
        }
        return NOT_BUNDLE;
}

/* Removes a directory tree made by tar, never following symlinks; bounded depth. */
static int remove_tree_at(int dfd, int depth)
{
        DIR *d;
        struct dirent *de;
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

        if (fd < 0 || !(d = fdopendir(fd))) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                const char *name = de->d_name;
                if (!strcmp(name, ".") || !strcmp(name, ".."))
                        continue;
                if (unlinkat(dirfd(d), name, 0) == 0)
                        continue;
                if (errno != EISDIR && errno != EPERM) {
                        r = -errno;
                        continue;
                }
                int sub = openat(dirfd(d), name,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0 || depth >= 64) {
                        r = sub < 0 ? -errno : -ELOOP;
                        if (sub >= 0)
                                close(sub);
                        continue;
                }
                (void) fchmod(sub, 0700);
                int k = remove_tree_at(sub, depth + 1);
                close(sub);
                if (k < 0)
                        r = k;
                if (unlinkat(dirfd(d), name, AT_REMOVEDIR) < 0)
                        r = -errno;
        }
        closedir(d);
        return r;
}

static void remove_tree(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0 || remove_tree_at(fd, 0) < 0 || rmdir(dir) < 0)
                fprintf(stderr, "logseal-verify: could not remove the temporary directory %s\n",
                        dir);
}

/*
 * Extracts a bundle tar into a new private directory with the system tar: no owners or
 * modes from the archive, no remote archives, files at most as large as the tar itself.
 * What it extracted is checked by the bundle reader like any directory (a subdirectory,
 * symlink or device is a finding, never followed).
 */
static int extract_tar(const char *tar, char **ret_dir)
{
        const char *tmp = getenv("TMPDIR");
        _cleanup_free_ char *arg = NULL;
        char *dir = NULL;
        struct stat st;
        pid_t pid;
        int status;

        if (stat(tar, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if (asprintf(&dir, "%s/logseal-verify-bundle.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                return -ENOMEM;
        /* Never "-" (stdin) or an option: a relative path goes in as ./PATH. */
        if (asprintf(&arg, "%s%s", tar[0] == '/' ? "" : "./", tar) < 0) {
                free(dir);
                return -ENOMEM;
        }
        if (!mkdtemp(dir)) {
                int r = -errno;
                free(dir);
                return r;
        }
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                rmdir(dir);
                free(dir);
                return r;
        }
        if (pid == 0) {
                struct rlimit rl = {.rlim_cur = (rlim_t) st.st_size + 1,
                                    .rlim_max = (rlim_t) st.st_size + 1};
                int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (nul >= 0)
                        (void) dup2(nul, STDIN_FILENO);
                if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                        _exit(126);
                (void) setrlimit(RLIMIT_FSIZE, &rl);
                execlp("tar", "tar", "--extract", "--force-local", "--no-same-owner",
                       "--no-same-permissions", "--file", arg, "--directory", dir, (char *) NULL);
                fprintf(stderr, "logseal-verify: cannot run tar: %s\n", strerror(errno));
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = -1;
                        break;
                }
        if (status != 0) {
                if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ)
                        fprintf(stderr, "logseal-verify: %s: not extracted: a member would be "
                                        "larger than the tar file itself (sparse file?)\n",
                                tar);
                else
                        fprintf(stderr, "logseal-verify: %s: tar could not extract it (%s %d)\n",
                                tar, WIFSIGNALED(status) ? "signal" : "exit status",
                                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                remove_tree(dir);
                free(dir);
                return -EBADMSG;
        }
        *ret_dir = dir;
        return 0;
}

static void on_bundle_finding(void *ud, const LsFinding *f)
{
        Bundle *b = ud;
        if (report_add_finding(&b->c->report, f) < 0)
                b->c->oom = 1;
}

static void on_bundle_file(void *ud, const LsBundleFile *fi)
{
        Bundle *b = ud;
        BundleFileRow *row;

        if (b->nfiles >= 2 * LS_BUNDLE_MAX_FILES + 2)
                return;
        if ((b->nfiles & (b->nfiles - 1)) == 0) {
                BundleFileRow *q = realloc(b->files, (b->nfiles ? 2 * b->nfiles : 8) * sizeof(*q));
                if (!q) {
                        b->c->oom = 1;
                        return;
                }
                b->files = q;
        }
        row = &b->files[b->nfiles];
        row->name = strdup(fi->name);
        if (!row->name) {
                b->c->oom = 1;
                return;
        }
        row->status = fi->status;
        row->size = fi->size;
        row->have_hash = fi->have_hash;
        memcpy(row->sha256, fi->sha256, LS_HASH_LEN);
        row->authenticated = fi->authenticated;
        b->nfiles++;
}

/* Disclosed records: printed with --dump and listed in the report once verified. */
static void on_bundle_record(void *ud, const LsRecord *rec, const uint8_t *bytes, size_t len,
                             int verified)
{
        Bundle *b = ud;
        BundleRec *q;

        if (!verified)
                return;
        if (b->c->dump != DUMP_NONE)
                dump_record(b->c, rec);
        if (b->nrecs >= BUNDLE_LIST_MAX_RECORDS || len > BUNDLE_LIST_MAX_BYTES - b->rec_bytes) {
                b->recs_not_listed++;
                return;
        }
        if ((b->nrecs & (b->nrecs - 1)) == 0) {
                q = realloc(b->recs, (b->nrecs ? 2 * b->nrecs : 8) * sizeof(*q));
                if (!q) {
                        b->c->oom = 1;
                        return;
                }
                b->recs = q;
        }
        q = &b->recs[b->nrecs];
        q->bytes = malloc(len);
        if (!q->bytes) {
                b->c->oom = 1;
                return;
        }
        memcpy(q->bytes, bytes, len);
        q->len = len;
        b->rec_bytes += len;
        b->nrecs++;
}

static const char *file_status_name(LsBundleFileStatus s)
{
        switch (s) {
        case LS_BUNDLE_FILE_OK:
                return "ok";
        case LS_BUNDLE_FILE_MISMATCH:
                return "mismatch";
        case LS_BUNDLE_FILE_MISSING:
                return "missing";
        case LS_BUNDLE_FILE_UNLISTED:
                return "unlisted";
        case LS_BUNDLE_FILE_NOT_REGULAR:
                return "not-regular";
        case LS_BUNDLE_FILE_UNREADABLE:
                return "unreadable";
        case LS_BUNDLE_FILE_MANIFEST:
                return "manifest";
        }
        return "unknown";
}

/* Bytes as printable ASCII with \xHH escapes (like the text report), into a buffer. */
static void escape_into(char *out, size_t cap, const uint8_t *p, size_t n)
{
        size_t o = 0;

        for (size_t i = 0; i < n && o + 5 < cap; i++) {
                if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '"')
                        out[o++] = (char) p[i];
                else
                        o += (size_t) snprintf(out + o, cap - o, "\\x%02x", p[i]);
        }
        out[MIN(o, cap - 1)] = 0;
}

/* JSON text of arbitrary bytes: valid UTF-8 as is, otherwise \xHH escapes. */
static json_t *json_text(const uint8_t *p, size_t n)
{
        json_t *s = json_stringn((const char *) p, n);
        _cleanup_free_ char *buf = NULL;

        if (s && !memchr(p, 0, n))
                return s;
        json_decref(s);
        buf = malloc(4 * n + 1);
        if (!buf)
                return json_null();
        escape_into(buf, 4 * n + 1, p, n);
        return json_string(buf);
}

static json_t *json_opt_text(const LsBundleText *t)
{
        return t->present ? json_text(t->p, t->len) : json_null();
}

static json_t *json_hexn(const uint8_t *p, size_t n)
{
        char hex[2 * LS_HASH_LEN + 1];

        ls_hex(hex, p, MIN(n, (size_t) LS_HASH_LEN));
        return json_string(hex);
}

static json_t *json_count(uint64_t v)
{
        return v == LS_UNSET ? json_null() : json_integer((json_int_t) v);
}

/* Root first: the keys from the trust anchor down to the checkpoint's signing key. */
static size_t cert_path(Bundle *b, const LsKeyInfo *path[], size_t max)
{
        const LsKeyInfo *keys;
        size_t nkeys = ls_bundle_reader_keys(b->reader, &keys), n = 0;
        const uint8_t *want;

        if (!b->sum.have_signer)
                return 0;
        want = b->sum.signer.key_id;
        while (n < max) {
                const LsKeyInfo *k = NULL;
                for (size_t i = 0; i < nkeys; i++)
                        if (memcmp(keys[i].key_id, want, LS_KEY_ID_LEN) == 0)
                                k = &keys[i];
                if (!k)
                        break;
                path[n++] = k;
                if (k == &keys[0])
                        break; /* the trust anchor */
                want = k->issuer_key_id;
        }
        for (size_t i = 0; i < n / 2; i++) {
                const LsKeyInfo *t = path[i];
                path[i] = path[n - 1 - i];
                path[n - 1 - i] = t;
        }
        return n;
}

/* "2, 5 and 7" (at most the first 8, then "…") */
static void seq_list(Bundle *b, char *out, size_t cap)
{
        size_t o = 0;
        LsRecord rec;

        out[0] = 0;
        for (size_t i = 0; i < b->nrecs && o < cap; i++) {
                if (ls_record_decode(&rec, b->recs[i].bytes, b->recs[i].len, NULL) < 0)
                        continue;
                if (i == 8) {
                        o += (size_t) snprintf(out + o, cap - o, ", …");
                        break;
                }
                o += (size_t) snprintf(out + o, cap - o, "%s%" PRIu64,
                                       i == 0 ? "" : i + 1 == b->nrecs ? " and " : ", ", rec.seq);
        }
}

/* "README.txt, report.txt and x.txt" (at most the first 6, then how many more) */
static void unauthenticated_list(Bundle *b, char *out, size_t cap)
{
        size_t o = 0, n = 0, total = 0;
        char name[65];                  /* long names are cut: the file list has them whole */

        out[0] = 0;
        for (size_t i = 0; i < b->nfiles; i++)
                total += !b->files[i].authenticated;
        for (size_t i = 0; i < b->nfiles && o < cap; i++) {
                if (b->files[i].authenticated)
                        continue;
                if (n == 6) {
                        o += (size_t) snprintf(out + o, cap - o, " and %zu more", total - n);
                        break;
                }
                escape_into(name, sizeof(name), (const uint8_t *) b->files[i].name,
                            strlen(b->files[i].name));
                o += (size_t) snprintf(out + o, cap - o, "%s%s",
                                       n == 0 ? "" : n + 1 == total ? " and " : ", ", name);
                n++;
        }
}

/* The sentence that says which files of the bundle prove nothing ("" when none). */
static void bundle_unauthenticated(Bundle *b, char *out, size_t cap)
{
        char names[512];

        out[0] = 0;
        if (!b->sum.files_not_authenticated)
                return;
        unauthenticated_list(b, names, sizeof(names));
        snprintf(out, cap,
                 " %s %s %s NOT AUTHENTICATED: not evidence, covered by no signature; %s may "
                 "have been rewritten or added along with the manifest, and %s nothing.",
                 b->sum.files_not_authenticated == 1 ? "The file" : "The files", names,
                 b->sum.files_not_authenticated == 1 ? "is" : "are",
                 b->sum.files_not_authenticated == 1 ? "it" : "they",
                 b->sum.files_not_authenticated == 1 ? "proves" : "prove");
}

/* What the bundle proves, in plain words (or why it proves nothing). */
static void bundle_proves(Bundle *b, LsClass verdict, char *out, size_t cap)
{
        const LsBundleSummary *s = &b->sum;
        char chain[2 * LS_CHAIN_ID_LEN + 1], key[2 * LS_KEY_ID_LEN + 1],
                root[2 * LS_KEY_ID_LEN + 1], seqs[256], cs[600], ex[600], fl[600], other[1024];

        bundle_unauthenticated(b, other, sizeof(other));
        if (verdict != LS_CLASS_INTACT) {
                snprintf(out, cap, "%s%s",
                         verdict == LS_CLASS_IO ?
                                 "Nothing: the bundle could not be verified (see the findings)." :
                                 "Nothing as a whole: the bundle failed verification (see the "
                                 "findings). Records listed below verified one by one against an "
                                 "authenticated checkpoint; the export they belong to did not.",
                         other);
                return;
        }
        ls_hex(chain, s->checkpoint.chain_id, LS_CHAIN_ID_LEN);
        ls_hex(key, s->signer.key_id, LS_KEY_ID_LEN);
        ls_hex(root, b->c->report.root_key_id, LS_KEY_ID_LEN);
        seq_list(b, seqs, sizeof(seqs));
        escape_into(cs, sizeof(cs), s->case_id.p, s->case_id.len);
        escape_into(ex, sizeof(ex), s->examiner.p, s->examiner.len);
        escape_into(fl, sizeof(fl), s->filter.p, s->filter.len);
        snprintf(out, cap,
                 "The %" PRIu32 " disclosed record%s %s, byte for byte, record%s %s of log chain %s. "
                 "The appliance key %s (epoch %" PRIu64 "), certified from the root key %s, "
                 "signed the chain's tree of %" PRIu64 " records at batch %" PRIu64
                 ", and each disclosed record is in that tree. The chain also recorded this "
                 "export as record %" PRIu64 " (case \"%s\", examiner \"%s\", filter \"%s\", %" PRIu64
                 " record%s), and the disclosed set is exactly the exported one. The bundle shows "
                 "none of the chain's other %" PRIu64 " records, and nothing after this "
                 "checkpoint.%s",
                 s->header.record_count, s->header.record_count == 1 ? "" : "s",
                 s->header.record_count == 1 ? "is" : "are",
                 s->header.record_count == 1 ? "" : "s", seqs, chain, key, s->signer.epoch, root,
                 s->checkpoint.tree_size, s->checkpoint.batch_no, s->custody_seq,
                 s->case_id.present ? cs : "-", s->examiner.present ? ex : "-",
                 s->filter.present ? fl : "-", s->count, s->count == 1 ? "" : "s",
                 s->checkpoint.tree_size - s->header.record_count - 1, other);
}

static const char *bundle_verdict_sentence(LsClass c)
{
        switch (c) {
        case LS_CLASS_INTACT:
                return "INTACT: every disclosed record, the checkpoint and the custody record "
                       "verified from the given root key";
        case LS_CLASS_TAMPERED:
                return "TAMPERED OR CORRUPT: the bundle failed verification (see findings)";
        case LS_CLASS_PARTIAL:
                return "NOT PROVEN: every check passed, but nothing proves the checkpoint was "
                       "signed before its key's epoch ended (see findings)";
        case LS_CLASS_REVOKED:
                return "REVOKED: the bundle verifies, but its checkpoint is signed by a key a root "
                       "revocation covers (see findings)";
        default:
                return "NOT VERIFIED: usage or input/output error";
        }
}

/* The --checkpoint files against the bundle's checkpoint: same size, same tree. */
/* A bundle's unbound checkpoint was proven a prefix of a bound tree: its finding is void. */
static void bundle_unbound_proven(Bundle *b, const char *by)
{
        for (size_t i = 0; i < b->c->report.nfindings; i++) {
                LsFinding *f = &b->c->report.findings[i];
                if (f->cls == LS_CLASS_PARTIAL && f->check && !strcmp(f->check, "epoch close")) {
                        f->cls = LS_CLASS_NOTE;
                        snprintf(f->detail, sizeof(f->detail),
                                 "the checkpoint's epoch has ended, and the consistency proof of "
                                 "%s shows its tree is a prefix of that checkpoint's: proven",
                                 by);
                }
        }
        b->sum.checkpoint_unbound = 0;
}

/*
 * The --checkpoint files against the bundle's checkpoint (SPEC §7.3): only an authentic one
 * counts. Same size: the same tree, or a fork. Larger, with FILE.proof (a consistency proof
 * from the bundle's tree, as `logsealctl checkpoint --since` writes): the later tree extends
 * the bundle's, which also proves a checkpoint of an ended epoch (SPEC §9.4).
 */
static void bundle_checkpoints(Bundle *b)
{
        const LsBundleSummary *s = &b->sum;

        b->cps = calloc(b->c->ncps ? b->c->ncps : 1, sizeof(*b->cps));
        if (!b->cps) {
                b->c->oom = 1;
                return;
        }
        for (size_t i = 0; i < b->c->ncps; i++) {
                Checkpoint *cp = &b->c->cps[i];
                BundleCp *r = &b->cps[b->ncps++];
                LsFinding f = {.cls = LS_CLASS_NOTE, .check = "checkpoint", .file = cp->file,
                               .offset = LS_UNSET, .archive_no = LS_UNSET,
                               .batch_no = cp->cp.has_batch ? cp->cp.batch_no : LS_UNSET,
                               .seq = LS_UNSET};
                LsTrustDecision d;
                char ppath[PATH_MAX];
                uint8_t *p = NULL;
                size_t n = 0;
                LsProof pr;

                r->cp = cp;
                ls_trust_check_checkpoint(ls_bundle_reader_trust(b->reader), &cp->cp, cp->text, &d);
                if (!s->checkpoint_parsed) {
                        r->result = "no-checkpoint";
                        snprintf(r->detail, sizeof(r->detail),
                                 "the bundle has no valid checkpoint to compare it with");
                } else if (d.result != LS_TRUST_OK || d.unbound) {
                        r->result = "unverified";
                        f.code = -EKEYREJECTED;
                        snprintf(r->detail, sizeof(r->detail),
                                 "not authentic, ignored (it changes no verdict): %s",
                                 d.result != LS_TRUST_OK ? d.why :
                                                           "signed with the key of an epoch that "
                                                           "has ended, not proven made before");
                } else if (memcmp(cp->cp.chain_id, s->checkpoint.chain_id, LS_CHAIN_ID_LEN) != 0) {
                        r->result = "other-chain";
                        snprintf(r->detail, sizeof(r->detail),
                                 "names another chain than the bundle's checkpoint");
                } else if (cp->cp.tree_size == s->checkpoint.tree_size) {
                        if (ls_hash_equal(cp->cp.root, s->checkpoint.root) &&
                            cp->cp.batch_no == s->checkpoint.batch_no &&
                            ls_hash_equal(cp->cp.header_hash, s->checkpoint.header_hash)) {
                                r->result = "consistent";
                                snprintf(r->detail, sizeof(r->detail),
                                         "the same tree of %" PRIu64
                                         " records as the bundle's checkpoint",
                                         cp->cp.tree_size);
                                if (s->checkpoint_unbound)
                                        bundle_unbound_proven(b, cp->file);
                        } else {
                                r->result = "fork";
                                f.cls = LS_CLASS_TAMPERED;
                                f.code = -EILSEQ;
                                f.check = "checkpoint fork";
                                snprintf(r->detail, sizeof(r->detail),
                                         "an authentic checkpoint of another tree of the same "
                                         "size: history was rewritten (fork)");
                        }
                } else if (cp->cp.tree_size > s->checkpoint.tree_size &&
                           snprintf(ppath, sizeof(ppath), "%s.proof", cp->file) < (int) sizeof(ppath) &&
                           read_file(ppath, 20 + 32 * LS_MAX_CONSISTENCY_PROOF + 1, &p, &n) == 0) {
                        if (ls_proof_decode(&pr, p, n) < 0 || pr.kind != 2 ||
                            pr.a != s->checkpoint.tree_size || pr.b != cp->cp.tree_size) {
                                r->result = "not-comparable";
                                snprintf(r->detail, sizeof(r->detail),
                                         "its .proof file is not a consistency proof from the "
                                         "bundle's tree size to this one");
                        } else if (ls_verify_consistency(s->checkpoint.tree_size, cp->cp.tree_size,
                                                         s->checkpoint.root, cp->cp.root,
                                                         (const uint8_t(*)[LS_HASH_LEN]) pr.path,
                                                         pr.count) < 0) {
                                r->result = "fork";
                                f.cls = LS_CLASS_TAMPERED;
                                f.code = -EILSEQ;
                                f.check = "checkpoint fork";
                                snprintf(r->detail, sizeof(r->detail),
                                         "the authentic later checkpoint does not extend the "
                                         "bundle's tree: one of them is a rewritten history");
                        } else {
                                r->result = "consistent";
                                snprintf(r->detail, sizeof(r->detail),
                                         "a later tree of %" PRIu64
                                         " records that extends the bundle's (by its .proof file)",
                                         cp->cp.tree_size);
                                if (s->checkpoint_unbound)
                                        bundle_unbound_proven(b, cp->file);
                        }
                        free(p);
                } else {
                        r->result = "not-comparable";
                        snprintf(r->detail, sizeof(r->detail),
                                 "tree size %" PRIu64 ", the bundle's %" PRIu64
                                 ": consistency cannot be checked without a consistency proof "
                                 "(FILE.proof)",
                                 cp->cp.tree_size, s->checkpoint.tree_size);
                }
                snprintf(f.detail, sizeof(f.detail), "%s", r->detail);
                if (report_add_finding(&b->c->report, &f) < 0)
                        b->c->oom = 1;
        }
}

static void text_record(FILE *f, const LsRecord *rec)
{
        char t[64], a[64];

        format_time(t, sizeof(t), rec->time_ns);
        fprintf(f, "  record %" PRIu64 "  %s  %s", rec->seq, t, ls_transport_name(rec->transport));
        if (rec->family == LS_FAMILY_IPV4 || rec->family == LS_FAMILY_IPV6) {
                inet_ntop(rec->family == LS_FAMILY_IPV4 ? AF_INET : AF_INET6, rec->address, a,
                          sizeof(a));
                fprintf(f, rec->family == LS_FAMILY_IPV6 ? " from [%s]:%u" : " from %s:%u", a,
                        rec->port);
        } else if (rec->family == LS_FAMILY_UNIX) {
                uint32_t pid, uid, gid;
                ls_record_get_ucred(rec, &pid, &uid, &gid);
                fprintf(f, " from pid %" PRIu32 " uid %" PRIu32 " gid %" PRIu32, pid, uid, gid);
        }
        if (rec->conn_id)
                fprintf(f, " connection %" PRIu32, rec->conn_id);
        if (rec->flags & LS_RECF_PARSE_FAILED)
                fputs(", parse failed", f);
        if (rec->flags & LS_RECF_TRUNCATED)
                fprintf(f, ", TRUNCATED (received %" PRIu32 " bytes)", rec->orig_len);
        if (rec->flags & LS_RECF_RECOVERED)
                fputs(", recovered", f);
        fputc('\n', f);
        if (rec->identity_len) {
                fputs("    sender: ", f);
                write_escaped(f, rec->identity, rec->identity_len);
                fputc('\n', f);
        }
        if (rec->type == LS_REC_SYSLOG) {
                fputs("    ", f);
                write_escaped(f, rec->body, rec->body_len);
                fputc('\n', f);
        } else {
                fprintf(f, "    (control record: %s)\n",
                        ls_control_type_name(rec->body_len >= 2 ? ls_get16(rec->body) : 0));
        }
}

/* Word-wrapped paragraph, indented. */
static void text_paragraph(FILE *f, const char *s, size_t indent, size_t width)
{
        size_t col = 0;

        while (*s) {
                size_t w = strcspn(s, " ");
                if (col && col + 1 + w > width) {
                        fputc('\n', f);
                        col = 0;
                }
                if (!col) {
                        fprintf(f, "%*s", (int) indent, "");
                        col = indent;
                } else {
                        fputc(' ', f);
                        col++;
                }
                fwrite(s, 1, w, f);
                col += w;
                s += w;
                while (*s == ' ')
                        s++;
        }
        if (col)
                fputc('\n', f);
}

static void text_bundle_text(FILE *f, const char *label, const LsBundleText *t)
{
        if (!t->present)
                return;
        fprintf(f, "  %-10s ", label);
        write_escaped(f, t->p, t->len);
        fputc('\n', f);
}

static void bundle_write_text(Bundle *b, FILE *f)
{
        const Report *r = &b->c->report;
        const LsBundleSummary *s = &b->sum;
        char hex[2 * LS_HASH_LEN + 1], t1[64], t2[64], proves[4096];
        const LsKeyInfo *path[64];
        size_t npath;

        fprintf(f, "logseal-verify %s — evidence bundle verification report\n", LOGSEAL_VERSION);
        format_time(t1, sizeof(t1), r->started_ns);
        format_time(t2, sizeof(t2), r->finished_ns);
        fprintf(f, "Started:      %s\nFinished:     %s\n", t1, t2);
        if (r->case_id)
                fprintf(f, "Case:         %s\n", r->case_id);
        if (r->examiner)
                fprintf(f, "Examiner:     %s\n", r->examiner);
        ls_hex(hex, r->root_key_id, LS_KEY_ID_LEN);
        fprintf(f, "Trust anchor: root key %s (%s)\n              fingerprint %s\n", hex,
                r->root_key_file ? r->root_key_file : "-", r->root_fingerprint);
        fputs("Bundle:       ", f);
        write_escaped(f, (const uint8_t *) b->path, strlen(b->path));
        fprintf(f, " (%s)\n", b->kind == BUNDLE_TAR ? "tar archive" : "directory");
        if (r->have_chain) {
                ls_hex(hex, r->chain_id, LS_CHAIN_ID_LEN);
                fprintf(f, "Chain:        %s\n", hex);
        }

        fprintf(f, "\nVERDICT: %s (exit %d)\n", bundle_verdict_sentence(r->verdict),
                (int) r->verdict);
        if (r->limit[0])
                fprintf(f, "  LIMIT: %s\n", r->limit);
        fprintf(f, "  disclosed records verified %" PRIu64 " of %" PRIu32
                   "; custody record %s; checkpoint %s\n",
                s->records_verified, s->header.record_count,
                s->custody_ok ? "verified" : "NOT verified",
                s->checkpoint_verified ? "verified" : "NOT verified");
        fputs("\nWhat this bundle proves:\n", f);
        bundle_proves(b, r->verdict, proves, sizeof(proves));
        text_paragraph(f, proves, 2, 78);

        fputs("\nCheckpoint (checkpoint.txt):\n", f);
        if (s->checkpoint_parsed) {
                ls_hex(hex, s->checkpoint.chain_id, LS_CHAIN_ID_LEN);
                fprintf(f, "  chain %s, tree size %" PRIu64 ", batch %" PRIu64 "\n", hex,
                        s->checkpoint.tree_size, s->checkpoint.batch_no);
                ls_hex(hex, s->checkpoint.root, LS_HASH_LEN);
                fprintf(f, "  root %s\n", hex);
                if (s->have_signer) {
                        ls_hex(hex, s->signer.key_id, LS_KEY_ID_LEN);
                        fprintf(f, "  signed by key %s (epoch %" PRIu64 ", from batch %" PRIu64
                                   "): %s\n",
                                hex, s->signer.epoch, s->signer.valid_from_batch,
                                s->checkpoint_verified ? "signature verified, key may sign this "
                                                         "batch" :
                                                         "NOT allowed to sign this batch");
                } else {
                        fputs("  signed by no key certified from the root key\n", f);
                }
                npath = cert_path(b, path, ELEMENTSOF(path));
                if (npath) {
                        fputs("  certification path:", f);
                        for (size_t i = 0; i < npath; i++) {
                                ls_hex(hex, path[i]->key_id, LS_KEY_ID_LEN);
                                if (path[i]->is_root)
                                        fprintf(f, "%s root %s%s", i ? " ->" : "", hex,
                                                i == 0 ? " (trust anchor)" : "");
                                else
                                        fprintf(f, "%s key %s (epoch %" PRIu64 ")", i ? " ->" : "",
                                                hex, path[i]->epoch);
                        }
                        fputc('\n', f);
                }
        } else {
                fputs("  not readable (see findings)\n", f);
        }

        fputs("\nCustody record", f);
        if (s->have_custody) {
                format_time(t1, sizeof(t1), s->custody_time_ns);
                fprintf(f, " (record %" PRIu64 ", %s): %s\n", s->custody_seq, t1,
                        s->custody_ok ? "verified" : "NOT verified");
                fprintf(f, "  %-10s %s\n", "action",
                        s->have_action ? ls_custody_action_name(s->action) : "-");
                text_bundle_text(f, "case", &s->case_id);
                text_bundle_text(f, "examiner", &s->examiner);
                text_bundle_text(f, "filter", &s->filter);
                text_bundle_text(f, "text", &s->text);
                if (s->have_count)
                        fprintf(f, "  %-10s %" PRIu64 " (the bundle discloses %" PRIu32 ")\n",
                                "count", s->count, s->header.record_count);
                if (s->have_manifest_hash) {
                        ls_hex(hex, s->manifest_hash, LS_HASH_LEN);
                        fprintf(f, "  %-10s %s: %s\n", "selection", hex,
                                s->selection_ok ? "matches the disclosed records" :
                                                  "does NOT match the disclosed records");
                }
        } else {
                fputs(": not readable (see findings)\n", f);
        }

        fprintf(f, "\nDisclosed records (%zu verified%s):\n", b->nrecs,
                b->recs_not_listed ? ", first ones listed" : "");
        for (size_t i = 0; i < b->nrecs; i++) {
                LsRecord rec;
                if (ls_record_decode(&rec, b->recs[i].bytes, b->recs[i].len, NULL) == 0)
                        text_record(f, &rec);
        }
        if (s->records_failed)
                fprintf(f, "  %" PRIu64 " disclosed record(s) did NOT verify and are not shown "
                           "(see findings)\n",
                        s->records_failed);
        if (!b->nrecs && !s->records_failed)
                fputs("  none\n", f);

        fprintf(f, "\nFiles (%zu; only the evidence files are verified, the others are NOT "
                   "AUTHENTICATED):\n",
                b->nfiles);
        for (size_t i = 0; i < b->nfiles; i++) {
                const BundleFileRow *x = &b->files[i];
                fputs("  ", f);
                write_escaped(f, (const uint8_t *) x->name, strlen(x->name));
                if (x->have_hash) {
                        ls_hex(hex, x->sha256, LS_HASH_LEN);
                        fprintf(f, "\n    sha256 %s, %" PRIu64 " bytes", hex, x->size);
                }
                if (x->authenticated)
                        fprintf(f, "%s%s\n", x->have_hash ? ", " : ": ",
                                file_status_name(x->status));
                else
                        /* Never "ok": matching a manifest anyone can rewrite proves nothing. */
                        fprintf(f, "%s%s; NOT AUTHENTICATED (not evidence: no signature covers "
                                   "it)\n",
                                x->have_hash ? ", " : ": ",
                                x->status == LS_BUNDLE_FILE_OK ? "matches its manifest line" :
                                                                 file_status_name(x->status));
        }

        if (b->ncps) {
                fprintf(f, "\nCheckpoints compared (%zu):\n", b->ncps);
                for (size_t i = 0; i < b->ncps; i++)
                        fprintf(f, "  %s: tree size %" PRIu64 ": %s. %s\n", b->cps[i].cp->file,
                                b->cps[i].cp->cp.tree_size, b->cps[i].result, b->cps[i].detail);
        }

        /* Bundle findings name no archive: the same lines as for archives. */
        report_write_findings_text(r, f);
}

static json_t *bundle_json(Bundle *b)
{
        const LsBundleSummary *s = &b->sum;
        json_t *o = json_object(), *a;
        const LsKeyInfo *path[64];
        char proves[4096];
        size_t npath;

        json_object_set_new(o, "path", json_text((const uint8_t *) b->path, strlen(b->path)));
        json_object_set_new(o, "format", json_string(b->kind == BUNDLE_TAR ? "tar" : "directory"));
        a = json_array();
        for (size_t i = 0; i < b->nfiles; i++) {
                const BundleFileRow *x = &b->files[i];
                json_array_append_new(
                        a, json_pack("{s:o,s:s,s:o,s:o,s:b}", "name",
                                     json_text((const uint8_t *) x->name, strlen(x->name)), "status",
                                     file_status_name(x->status), "size", json_count(x->size),
                                     "sha256",
                                     x->have_hash ? json_hexn(x->sha256, LS_HASH_LEN) : json_null(),
                                     "authenticated", x->authenticated));
        }
        json_object_set_new(o, "files", a);
        json_object_set_new(o, "manifest_ok", json_boolean(s->manifest_ok));
        json_object_set_new(o, "record_count",
                            s->header_ok ? json_integer(s->header.record_count) : json_null());
        json_object_set_new(o, "records_verified", json_integer((json_int_t) s->records_verified));
        json_object_set_new(o, "records_failed", json_integer((json_int_t) s->records_failed));

        if (s->checkpoint_parsed) {
                json_t *cp = json_object();
                json_object_set_new(cp, "chain_id", json_hexn(s->checkpoint.chain_id, LS_CHAIN_ID_LEN));
                json_object_set_new(cp, "tree_size", json_integer((json_int_t) s->checkpoint.tree_size));
                json_object_set_new(cp, "batch", json_integer((json_int_t) s->checkpoint.batch_no));
                json_object_set_new(cp, "root", json_hexn(s->checkpoint.root, LS_HASH_LEN));
                json_object_set_new(cp, "signed_by", s->have_signer ?
                                                             json_hexn(s->signer.key_id, LS_KEY_ID_LEN) :
                                                             json_null());
                json_object_set_new(cp, "epoch", s->have_signer ?
                                                         json_integer((json_int_t) s->signer.epoch) :
                                                         json_null());
                json_object_set_new(cp, "verified", json_boolean(s->checkpoint_verified));
                a = json_array();
                npath = cert_path(b, path, ELEMENTSOF(path));
                for (size_t i = 0; i < npath; i++)
                        json_array_append_new(a, json_hexn(path[i]->key_id, LS_KEY_ID_LEN));
                json_object_set_new(cp, "certification_path", a);
                json_object_set_new(o, "checkpoint", cp);
        } else {
                json_object_set_new(o, "checkpoint", json_null());
        }

        if (s->have_custody) {
                json_t *cu = json_object();
                char t[64];
                format_time(t, sizeof(t), s->custody_time_ns);
                json_object_set_new(cu, "seq", json_integer((json_int_t) s->custody_seq));
                json_object_set_new(cu, "time", json_string(t));
                json_object_set_new(cu, "verified", json_boolean(s->custody_ok));
                json_object_set_new(cu, "action", s->have_action ?
                                                          json_string(ls_custody_action_name(s->action)) :
                                                          json_null());
                json_object_set_new(cu, "case", json_opt_text(&s->case_id));
                json_object_set_new(cu, "examiner", json_opt_text(&s->examiner));
                json_object_set_new(cu, "filter", json_opt_text(&s->filter));
                json_object_set_new(cu, "text", json_opt_text(&s->text));
                json_object_set_new(cu, "count", s->have_count ? json_integer((json_int_t) s->count) :
                                                                 json_null());
                json_object_set_new(cu, "selection_hash",
                                    s->have_manifest_hash ? json_hexn(s->manifest_hash, LS_HASH_LEN) :
                                                            json_null());
                json_object_set_new(cu, "selection_matches", json_boolean(s->selection_ok));
                json_object_set_new(o, "custody", cu);
        } else {
                json_object_set_new(o, "custody", json_null());
        }

        a = json_array();
        for (size_t i = 0; i < b->nrecs; i++) {
                LsRecord rec;
                if (ls_record_decode(&rec, b->recs[i].bytes, b->recs[i].len, NULL) == 0)
                        json_array_append_new(a, record_json(&rec));
        }
        json_object_set_new(o, "records", a);
        json_object_set_new(o, "records_listed_all", json_boolean(b->recs_not_listed == 0));

        a = json_array();
        for (size_t i = 0; i < b->ncps; i++)
                json_array_append_new(
                        a, json_pack("{s:s,s:o,s:o,s:s,s:s}", "file", b->cps[i].cp->file,
                                     "tree_size", json_count(b->cps[i].cp->cp.tree_size), "batch",
                                     json_count(b->cps[i].cp->cp.has_batch ?
                                                        b->cps[i].cp->cp.batch_no :
                                                        LS_UNSET),
                                     "result", b->cps[i].result, "detail", b->cps[i].detail));
        json_object_set_new(o, "checkpoints", a);
        bundle_proves(b, b->c->report.verdict, proves, sizeof(proves));
        json_object_set_new(o, "proves", json_string(proves));
        return o;
}

/* The archive report's JSON (schema logseal-verify-report/1) with a "bundle" object. */
static int bundle_write_json(Bundle *b, FILE *f)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        json_t *doc, *verdict;
        int k;

        if (!m)
                return -ENOMEM;
        k = report_write_json(&b->c->report, m);
        if (fclose(m) != 0 || k < 0)
                return -ENOMEM;
        doc = json_loadb(buf, len, 0, NULL);
        if (!doc)
                return -EBADMSG;
        verdict = json_object_get(doc, "verdict");
        if (verdict)
                json_object_set_new(verdict, "summary",
                                    json_string(bundle_verdict_sentence(b->c->report.verdict)));
        json_object_set_new(doc, "bundle", bundle_json(b));
        k = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', f);
        json_decref(doc);
        return k < 0 ? -EIO : 0;
}

/* The verified custody record as an event of the report (its batch is not known). */
static void add_custody_event(Ctx *c, const LsBundleSummary *s, const char *path)
{
        _cleanup_free_ LsControlBuilder *cb = malloc(sizeof(*cb));
        LsBatchHeader h = {.batch_no = LS_UNSET};
        LsRecord rec = {.type = LS_REC_CONTROL, .seq = s->custody_seq,
                        .time_ns = s->custody_time_ns};
        const LsBundleText *texts[] = {&s->text, &s->case_id, &s->examiner, &s->filter};
        static const uint16_t tags[] = {LS_TAG_TEXT, LS_TAG_CASE_ID, LS_TAG_EXAMINER,
                                        LS_TAG_FILTER};
        size_t n;

        if (!cb) {
                c->oom = 1;
                return;
        }
        ls_control_begin(cb, LS_CTL_CUSTODY);
        if (s->have_count)
                ls_control_add_u64(cb, LS_TAG_COUNT, s->count);
        for (size_t i = 0; i < ELEMENTSOF(tags); i++)
                if (texts[i]->present)
                        ls_control_add(cb, tags[i], texts[i]->p, texts[i]->len);
        if (s->have_manifest_hash)
                ls_control_add(cb, LS_TAG_MANIFEST_HASH, s->manifest_hash, LS_HASH_LEN);
        if (s->have_action)
                ls_control_add_u16(cb, LS_TAG_ACTION, s->action);
        if (ls_control_end(cb, &rec.body, &n) < 0)
                return;
        rec.body_len = rec.orig_len = (uint32_t) n;
        if (report_add_event(&c->report, &h, &rec, path) < 0)
                c->oom = 1;
}

/* Verifies one bundle (directory or tar) and prints its report; returns the exit status. */
static int run_bundle(Ctx *c, const char *path, int kind, const uint8_t root_pk[LS_PK_LEN],
                      const char *const *keyfiles, size_t nkeyfiles, int json, int quiet,
                      const char *report_file)
{
        Bundle b = {.c = c, .path = path, .kind = kind};
        LsBundleCallbacks cb = {.finding = on_bundle_finding,
                                .file = on_bundle_file,
                                .record = on_bundle_record,
                                .userdata = &b};
        _cleanup_free_ char *tmpdir = NULL;
        _cleanup_close_ int dfd = -1;
        int r, ret = 2;

        r = ls_bundle_reader_new(&b.reader, root_pk, &cb);
        if (r >= 0)
                r = ls_bundle_reader_set_jobs(b.reader, c->jobs);
        if (r < 0) {
                fprintf(stderr, "logseal-verify: %s\n", strerror(-r));
                return 2;
        }
        for (size_t i = 0; i < nkeyfiles; i++) {
                uint8_t *p;
                size_t n;
                r = read_file(keyfiles[i], LS_BUNDLE_KEYS_MAX, &p, &n);
                if (r == 0) {
                        r = ls_bundle_reader_add_keys(b.reader, p, n, keyfiles[i]);
                        free(p);
                }
                if (r < 0) {
                        fprintf(stderr, "logseal-verify: %s: %s\n", keyfiles[i], strerror(-r));
                        goto out;
                }
        }
        if (kind == BUNDLE_TAR) {
                r = extract_tar(path, &tmpdir);
                if (r < 0) {
                        if (r != -EBADMSG)
                                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(-r));
                        goto out;
                }
        }
        dfd = open(tmpdir ? tmpdir : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(errno));
                goto out;
        }

        c->report.verdict = ls_bundle_reader_verify(b.reader, dfd, path, &b.sum);

        if (b.sum.checkpoint_parsed || b.sum.header_ok) {
                memcpy(c->report.chain_id,
                       b.sum.checkpoint_parsed ? b.sum.checkpoint.chain_id : b.sum.header.chain_id,
                       LS_CHAIN_ID_LEN);
                c->report.have_chain = 1;
        }
        bundle_checkpoints(&b);
        /* The only partial finding of a bundle is its unbound checkpoint, now maybe proven. */
        if (c->report.verdict == LS_CLASS_PARTIAL && !b.sum.checkpoint_unbound)
                c->report.verdict = LS_CLASS_INTACT;
        {
                const LsKeyInfo *keys;
                size_t n = ls_bundle_reader_keys(b.reader, &keys);
                c->report.keys = malloc(n * sizeof(*keys));
                if (c->report.keys) {
                        memcpy(c->report.keys, keys, n * sizeof(*keys));
                        c->report.nkeys = n;
                } else {
                        c->oom = 1;
                }
        }
        /* The custody record is an event of the chain, once authenticated. */
        if (b.sum.custody_ok)
                add_custody_event(c, &b.sum, path);
        c->report.stats.records = b.sum.records_verified;
        c->report.stats.first_batch = c->report.stats.last_batch = LS_UNSET;
        c->report.stats.first_seq = c->report.stats.last_seq = LS_UNSET;
        c->report.stats.tree_checked_all = 0;
        for (size_t i = 0; i < c->report.nfindings; i++) {
                LsClass k = c->report.findings[i].cls;
                if (ls_class_rank(k) > ls_class_rank(c->report.verdict))
                        c->report.verdict = k;
        }
        if (c->oom) {
                fprintf(stderr, "logseal-verify: out of memory while building the report\n");
                c->report.verdict = LS_CLASS_IO;
        }
        /* A later root as the trust anchor: a usage error, not tampering (exit 2). */
        if (!b.sum.checkpoint_verified && later_root_hint(ls_bundle_reader_trust(b.reader)))
                c->report.verdict = LS_CLASS_IO;
        /* SPEC §11.1: what an INTACT bundle cannot exclude, given what was supplied. */
        if (b.sum.checkpoint_verified && b.sum.have_signer && !b.sum.signer_epoch_ended &&
            !b.sum.signer.in_history)
                snprintf(c->report.limit, sizeof(c->report.limit),
                         "Nothing you supplied comes from after this bundle was made: if a copy "
                         "of the key of epoch %" PRIu64 " that signed its checkpoint (or of a key "
                         "that handed over to it) survived the appliance's erasure, a bundle made "
                         "with it cannot be excluded. Verify with the agency's current key "
                         "history (--keys, from logsealctl key export-history) to exclude it.",
                         b.sum.signer.epoch);
        c->report.finished_ns = now_ns();

        FILE *out = c->dump != DUMP_NONE ? stderr : stdout;
        if (!quiet) {
                if (json)
                        (void) bundle_write_json(&b, out);
                else
                        bundle_write_text(&b, out);
        }
        if (report_file) {
                _cleanup_free_ char *jpath = NULL;
                FILE *f = fopen(report_file, "we");
                int bad;
                if (!f || asprintf(&jpath, "%s.json", report_file) < 0) {
                        fprintf(stderr, "logseal-verify: %s: %s\n", report_file, strerror(errno));
                        if (f)
                                fclose(f);
                        goto out;
                }
                bundle_write_text(&b, f);
                bad = fclose(f) != 0;
                f = bad ? NULL : fopen(jpath, "we");
                if (!f) {
                        fprintf(stderr, "logseal-verify: %s: %s\n", jpath, strerror(errno));
                        goto out;
                }
                bad = bundle_write_json(&b, f) < 0;
                bad |= fclose(f) != 0;
                if (bad)
                        goto out;
        }
        ret = fflush(stdout) != 0 ? 2 : (int) c->report.verdict;
out:
        if (tmpdir)
                remove_tree(tmpdir);
        ls_bundle_reader_free(b.reader);
        for (size_t i = 0; i < b.nrecs; i++)
                free(b.recs[i].bytes);
        free(b.recs);
        for (size_t i = 0; i < b.nfiles; i++)
                free(b.files[i].name);
        free(b.files);
        free(b.cps);
        return ret;
}

/* ---- --consistency OLD NEW: a newer checkpoint extends an older one ---- */

/*
 * Parses a checkpoint file and asks the trust module whether it is evidence (SPEC §9.3):
 * 0 yes, 1 no (*why), 2 unreadable, 4 authentic but not proven made before its key's epoch
 * ended (*why), 5 signed by a key a revocation covers.
 */
static int consistency_checkpoint(Ctx *c, const char *path, char **ret_text, LsCheckpoint *cp,
                                  const char **why)
{
        LsTrustDecision d;
        size_t n, off = 0;
        uint8_t *p;
        int r = read_file(path, LS_MAX_CHECKPOINT_TEXT + 1, &p, &n);

        if (r < 0) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(-r));
                return 2;
        }
        r = ls_checkpoint_parse(cp, (const char *) p, n, &off);
        if (r < 0) {
                fprintf(stderr, "logseal-verify: %s: byte %zu: not a valid logseal checkpoint\n",
                        path, off);
                free(p);
                return 2;
        }
        *ret_text = (char *) p;
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

static int run_consistency(Ctx *c, const uint8_t root_pk[LS_PK_LEN], const char *const *keyfiles,
                           size_t nkeyfiles, const char *old_path, const char *new_path,
                           const char *proof_path, int json)
{
        LsVerifyCallbacks cb = {.userdata = c};
        LsCheckpoint a, b;
        LsProof pr;
        char *ta = NULL, *tb = NULL, ppath[PATH_MAX];
        const char *why = NULL, *verdict = NULL;
        uint8_t *p = NULL;
        size_t n = 0;
        int r;

        if (ls_chain_verifier_new(&c->v, root_pk, &cb) < 0)
                return 2;
        for (size_t i = 0; i < nkeyfiles; i++)
                if (load_keys(c, keyfiles[i]) < 0)
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
        if (json) {
                json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s?}", "format",
                                      "logseal-consistency/1", "old", old_path, "new", new_path,
                                      "result",
                                      r == 0 ? "consistent" : r == 1 ? "inconsistent" :
                                      r == 4 ? "not proven" : r == 5 ? "revoked" : "error",
                                      "old_tree_size", (json_int_t) (ta ? a.tree_size : 0),
                                      "new_tree_size", (json_int_t) (tb ? b.tree_size : 0),
                                      "detail", why);
                json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                fputc('\n', stdout);
                json_decref(o);
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

/* ---- main ---- */

int main(int argc, char **argv)
{
        enum { OPT_CASE = 256, OPT_EXAMINER, OPT_DUMP, OPT_FROM, OPT_TO, OPT_SEQ, OPT_REVOCATIONS,
               OPT_CONSISTENCY, OPT_PROOF, OPT_JOBS };
        static const struct option opts[] = {
                {"root-key", required_argument, NULL, 'k'},
                {"keys", required_argument, NULL, 'K'},
                {"revocations", required_argument, NULL, OPT_REVOCATIONS},
                {"checkpoint", required_argument, NULL, 'c'},
                {"json", no_argument, NULL, 'j'},
                {"report", required_argument, NULL, 'r'},
                {"case", required_argument, NULL, OPT_CASE},
                {"examiner", required_argument, NULL, OPT_EXAMINER},
                {"quiet", no_argument, NULL, 'q'},
                {"dump", optional_argument, NULL, OPT_DUMP},
                {"from", required_argument, NULL, OPT_FROM},
                {"to", required_argument, NULL, OPT_TO},
                {"seq", required_argument, NULL, OPT_SEQ},
                {"consistency", required_argument, NULL, OPT_CONSISTENCY},
                {"proof", required_argument, NULL, OPT_PROOF},
                {"jobs", required_argument, NULL, OPT_JOBS},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {}};
        const char *root_file = NULL, *report_file = NULL, *consistency = NULL, *proof = NULL;
        const char *keyfiles[64], *cpfiles[64];
        size_t nkeyfiles = 0, ncpfiles = 0;
        int json = 0, quiet = 0, opt, r;
        unsigned jobs = 0; /* one per online CPU */
        uint8_t root_pk[LS_PK_LEN];
        Ctx c = {.dump_to = UINT64_MAX, .dump_seq_to = UINT64_MAX};
        LsVerifyCallbacks cb = {.finding = on_finding,
                                .record = on_record,
                                .batch = on_batch,
                                .archive = on_archive,
                                .userdata = &c};

        report_init(&c.report);
        while ((opt = getopt_long(argc, argv, "k:K:c:jr:qhV", opts, NULL)) != -1) {
                switch (opt) {
                case 'k':
                        root_file = optarg;
                        break;
                case 'K':
                case OPT_REVOCATIONS:
                        if (nkeyfiles == ELEMENTSOF(keyfiles)) {
                                fprintf(stderr, "logseal-verify: too many --keys files\n");
                                return 2;
                        }
                        keyfiles[nkeyfiles++] = optarg;
                        break;
                case 'c':
                        if (ncpfiles == ELEMENTSOF(cpfiles)) {
                                fprintf(stderr, "logseal-verify: too many --checkpoint files\n");
                                return 2;
                        }
                        cpfiles[ncpfiles++] = optarg;
                        break;
                case 'j':
                        json = 1;
                        break;
                case 'r':
                        report_file = optarg;
                        break;
                case OPT_CASE:
                        c.report.case_id = optarg;
                        break;
                case OPT_EXAMINER:
                        c.report.examiner = optarg;
                        break;
                case 'q':
                        quiet = 1;
                        break;
                case OPT_DUMP:
                        if (!optarg || !strcmp(optarg, "raw"))
                                c.dump = DUMP_RAW;
                        else if (!strcmp(optarg, "json"))
                                c.dump = DUMP_JSON;
                        else {
                                fprintf(stderr, "logseal-verify: --dump takes raw or json\n");
                                return 2;
                        }
                        break;
                case OPT_FROM:
                case OPT_TO:
                        if (parse_time(optarg, opt == OPT_FROM ? &c.dump_from : &c.dump_to) < 0) {
                                fprintf(stderr, "logseal-verify: bad time '%s' (use "
                                                "2026-01-01T00:00:00Z or @NANOSECONDS)\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case OPT_SEQ: {
                        unsigned long long a, b;
                        char tail;
                        if (sscanf(optarg, "%llu-%llu%c", &a, &b, &tail) != 2 || a > b) {
                                fprintf(stderr, "logseal-verify: --seq takes A-B\n");
                                return 2;
                        }
                        c.dump_seq_from = a;
                        c.dump_seq_to = b;
                        break;
                }
                case OPT_CONSISTENCY:
                        consistency = optarg;
                        break;
                case OPT_PROOF:
                        proof = optarg;
                        break;
                case OPT_JOBS: {
                        char *end;
                        unsigned long n;
                        errno = 0;
                        n = strtoul(optarg, &end, 10);
                        if (errno || *end || end == optarg || n < 1 || n > 256) {
                                fprintf(stderr, "logseal-verify: --jobs takes 1..256\n");
                                return 2;
                        }
                        jobs = (unsigned) n;
                        c.jobs = jobs;
                        break;
                }
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("logseal-verify %s (format version %d)\n", LOGSEAL_VERSION,
                               LS_FORMAT_VERSION);
                        return 0;
                default:
                        fprintf(stderr, "Try 'logseal-verify --help'.\n");
                        return 2;
                }
        }
        if (!root_file || optind >= argc) {
                fprintf(stderr, "logseal-verify: %s\nTry 'logseal-verify --help'.\n",
                        !root_file ? "--root-key FILE is required (the trust anchor comes only "
                                     "from the command line)" :
                                     "no archives given");
                return 2;
        }
        if (sodium_init() < 0) {
                fprintf(stderr, "logseal-verify: libsodium failed to initialise\n");
                return 2;
        }

        {
                uint8_t *text;
                size_t n;
                r = read_file(root_file, LS_PUBKEY_TEXT_MAX, &text, &n);
                if (r == 0) {
                        r = ls_pubkey_parse((const char *) text, n, root_pk, c.report.root_key_id);
                        free(text);
                }
                if (r < 0) {
                        fprintf(stderr, "logseal-verify: %s: not a logseal public key file (%s)\n",
                                root_file, strerror(-r));
                        return 2;
                }
                ls_fingerprint(c.report.root_fingerprint, root_pk);
                c.report.root_key_file = root_file;
        }
        c.report.started_ns = now_ns();

        if (consistency) {
                if (argc - optind != 1) {
                        fprintf(stderr, "logseal-verify: --consistency OLD takes exactly one NEW "
                                        "checkpoint\n");
                        r = 2;
                        goto out;
                }
                r = run_consistency(&c, root_pk, keyfiles, nkeyfiles, consistency, argv[optind],
                                    proof, json);
                goto out;
        }

        /* An evidence bundle (a directory with evidence.lsb, or a tar of one) goes alone. */
        {
                int kind = NOT_BUNDLE, bundles = 0;
                for (int i = optind; i < argc; i++) {
                        int k = bundle_kind(argv[i]);
                        if (k != NOT_BUNDLE) {
                                bundles++;
                                kind = k;
                        }
                }
                if (bundles) {
                        if (argc - optind != 1) {
                                fprintf(stderr, "logseal-verify: an evidence bundle is verified "
                                                "on its own: give one bundle and no archives\n");
                                r = 2;
                                goto out;
                        }
                        for (size_t i = 0; i < ncpfiles; i++)
                                if (load_checkpoint(&c, cpfiles[i]) < 0) {
                                        r = 2;
                                        goto out;
                                }
                        r = run_bundle(&c, argv[optind], kind, root_pk, keyfiles, nkeyfiles, json,
                                       quiet, report_file);
                        goto out;
                }
        }

        cb.all_records = c.dump != DUMP_NONE;
        r = ls_chain_verifier_new(&c.v, root_pk, &cb);
        if (r < 0 || ls_chain_verifier_set_jobs(c.v, jobs, 0) < 0) {
                r = 2;
                goto out;
        }
        for (size_t i = 0; i < nkeyfiles; i++)
                if (load_keys(&c, keyfiles[i]) < 0) {
                        r = 2;
                        goto out;
                }
        for (size_t i = 0; i < ncpfiles; i++)
                if (load_checkpoint(&c, cpfiles[i]) < 0) {
                        r = 2;
                        goto out;
                }
        for (int i = optind; i < argc; i++)
                if (add_path(&c, argv[i], 0) < 0) {
                        r = 2;
                        goto out;
                }
        if (c.ninputs == 0) {
                fprintf(stderr, "logseal-verify: no archive files found\n");
                r = 2;
                goto out;
        }
        qsort(c.inputs, c.ninputs, sizeof(*c.inputs), input_cmp);

        c.progress = !quiet && isatty(STDERR_FILENO);
        for (size_t i = 0; i < c.ninputs; i++) {
                int fd = open(c.inputs[i].path, O_RDONLY | O_CLOEXEC);
                c.current_file = c.inputs[i].path;
                if (c.progress)
                        fprintf(stderr, "\r\033[Kverifying %zu/%zu %s", i + 1, c.ninputs,
                                c.inputs[i].path);
                if (fd < 0) {
                        LsFinding f = {.cls = LS_CLASS_IO, .code = -errno, .check = "open",
                                       .file = c.inputs[i].path, .offset = LS_UNSET,
                                       .archive_no = LS_UNSET, .batch_no = LS_UNSET,
                                       .seq = LS_UNSET};
                        snprintf(f.detail, sizeof(f.detail), "%s", strerror(errno));
                        report_add_finding(&c.report, &f);
                        continue;
                }
                ls_chain_verify_archive(c.v, fd, c.inputs[i].path);
        }
        if (c.progress)
                fprintf(stderr, "\r\033[K");
        c.report.verdict = ls_chain_verifier_finish(c.v, &c.report.stats);
        finish_checkpoints(&c);
        snprintf(c.report.limit, sizeof(c.report.limit), "%s", ls_chain_verifier_guarantee(c.v));

        {
                const LsKeyInfo *keys;
                size_t n = ls_chain_verifier_keys(c.v, &keys);
                c.report.keys = malloc(n * sizeof(*keys));
                if (c.report.keys) {
                        memcpy(c.report.keys, keys, n * sizeof(*keys));
                        c.report.nkeys = n;
                }
        }
        /* Checkpoint findings may change the verdict. */
        for (size_t i = 0; i < c.report.nfindings; i++) {
                LsClass k = c.report.findings[i].cls;
                if (ls_class_rank(k) > ls_class_rank(c.report.verdict))
                        c.report.verdict = k;
        }
        /* A later root as the trust anchor: a usage error, not tampering (exit 2). */
        if (c.report.stats.batches_ok == 0 && later_root_hint(ls_chain_verifier_trust(c.v)))
                c.report.verdict = LS_CLASS_IO;
        if (c.oom) {
                fprintf(stderr, "logseal-verify: out of memory while building the report\n");
                c.report.verdict = LS_CLASS_IO;
        }
        c.report.finished_ns = now_ns();

        FILE *out = c.dump != DUMP_NONE ? stderr : stdout;
        if (!quiet) {
                if (json)
                        report_write_json(&c.report, out);
                else
                        report_write_text(&c.report, out);
        }
        if (report_file) {
                char *jpath;
                FILE *f = fopen(report_file, "we");
                if (!f || asprintf(&jpath, "%s.json", report_file) < 0) {
                        fprintf(stderr, "logseal-verify: %s: %s\n", report_file, strerror(errno));
                        if (f)
                                fclose(f);
                        r = 2;
                        goto out;
                }
                report_write_text(&c.report, f);
                int bad = fclose(f) != 0;
                f = bad ? NULL : fopen(jpath, "we");
                if (!f) {
                        fprintf(stderr, "logseal-verify: %s: %s\n", jpath, strerror(errno));
                        free(jpath);
                        r = 2;
                        goto out;
                }
                report_write_json(&c.report, f);
                bad = fclose(f) != 0;
                free(jpath);
                if (bad) {
                        r = 2;
                        goto out;
                }
        }
        r = fflush(stdout) != 0 ? 2 : (int) c.report.verdict;
out:
        ls_chain_verifier_free(c.v);
        for (size_t i = 0; i < c.ninputs; i++)
                free(c.inputs[i].path);
        free(c.inputs);
        for (size_t i = 0; i < c.ncps; i++) {
                free(c.cps[i].file);
                free(c.cps[i].text);
        }
        free(c.cps);
        report_free(&c.report);
        return r;
}
