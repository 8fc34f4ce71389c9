/* SPDX-License-Identifier: Apache-2.0 */
/* logseal-verify: prove chain of custody of logseal archives from a root public key, offline */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "archive.h"
#include "chain-verify.h"
#include "checkpoint.h"
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
               "\n"
               "Verify logseal archives (files, or directories searched for them) against the\n"
               "appliance's root public key, offline, and report chain of custody.\n"
               "\n"
               "  -k, --root-key FILE      root public key file (the only trust anchor)\n"
               "  -K, --keys FILE          key history / revocation file (certificates are\n"
               "                           checked against the root key; repeatable)\n"
               "      --revocations FILE   same as --keys\n"
               "  -c, --checkpoint FILE    a checkpoint obtained out of band: detects a missing\n"
               "                           tail and forks (repeatable)\n"
               "  -j, --json               print the report as JSON (schema " REPORT_SCHEMA ")\n"
               "  -r, --report FILE        also write the report to FILE (text) and FILE.json\n"
               "      --case ID            case identifier to put in the report\n"
               "      --examiner NAME      examiner name to put in the report\n"
               "  -q, --quiet              print nothing; the exit code is the verdict\n"
               "      --dump[=raw|json]    print the records of verified batches to stdout\n"
               "                           (the report then goes to stderr)\n"
               "      --from TIME, --to TIME   dump only records received in this range\n"
               "                           (RFC 3339 UTC like 2026-01-01T00:00:00Z, or @NANOSECONDS)\n"
               "      --seq A-B            dump only records with sequence numbers A..B\n"
               "  -h, --help               show this help\n"
               "  -V, --version            show the version\n"
               "\n"
               "Exit status: 0 intact, 1 tampered or corrupt, 2 usage or I/O error, 3 gap\n"
               "(records or archives missing without a signed explanation), 4 partial (does\n"
               "not start at the chain start, or ends in an open archive).\n");
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

/* Is this file in a directory an archive? Only the first frame is looked at. */
static int looks_like_archive(int dirfd, const char *name)
{
        uint8_t buf[LS_FRAME_HDR_LEN + LS_MAGIC_LEN];
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return 0;
        if (pread(fd, buf, sizeof(buf), 0) != (ssize_t) sizeof(buf))
                return 0;
        return ls_get32(buf) == LS_SKIPPABLE_MAGIC && ls_magic_check(buf + 8, LS_MAGIC_ARCHIVE);
}

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
        if (depth >= MAX_DEPTH)
                return 0;
        d = opendir(path);
        if (!d) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(errno));
                return -errno;
        }
        while ((de = readdir(d)) && r >= 0) {
                char *sub;
                struct stat sst;
                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&sub, "%s/%s", path, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (stat(sub, &sst) == 0) {
                        if (S_ISDIR(sst.st_mode))
                                r = add_path(c, sub, depth + 1);
                        else if (S_ISREG(sst.st_mode) && looks_like_archive(dirfd(d), de->d_name))
                                r = add_input(c, sub);
                }
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

static int load_keys(Ctx *c, const char *path)
{
        uint8_t *p;
        size_t n, off = 0;
        int r = read_file(path, MAX_KEYFILE, &p, &n), accepted = 0, rejected = 0;

        if (r < 0) {
                fprintf(stderr, "logseal-verify: %s: %s\n", path, strerror(-r));
                return r;
        }
        /* Certificates first may depend on each other in any order: retry until stable. */
        for (int round = 0; round < 64; round++) {
                int progress = 0;
                accepted = rejected = 0;
                for (off = 0; off + LS_MAGIC_LEN + 4 <= n;) {
                        if (ls_magic_check(p + off, LS_MAGIC_CERT)) {
                                LsCert cert;
                                if (n - off < LS_CERT_LEN ||
                                    ls_cert_decode(&cert, p + off, LS_CERT_LEN) < 0)
                                        goto bad;
                                int k = ls_chain_verifier_add_cert(c->v, &cert, path);
                                if (k == 0)
                                        accepted++;
                                else
                                        rejected++;
                                off += LS_CERT_LEN;
                        } else if (ls_magic_check(p + off, LS_MAGIC_REVOCATION)) {
                                LsRevocation rv;
                                size_t len = LS_REVOCATION_FIXED_LEN + ls_get16(p + off + 10);
                                if (len > n - off || ls_revocation_decode(&rv, p + off, len) < 0)
                                        goto bad;
                                if (ls_chain_verifier_add_revocation(c->v, &rv, path) == 0)
                                        accepted++;
                                else
                                        rejected++;
                                off += len;
                        } else {
                                goto bad;
                        }
                }
                if (off != n)
                        goto bad;
                progress = accepted > 0 && rejected > 0;
                if (!progress)
                        break;
        }
        free(p);
        if (rejected) {
                /* Never ignore quietly what an investigator was handed as trust material. */
                fprintf(stderr,
                        "logseal-verify: %s: %d certificate(s) or revocation(s) do not verify "
                        "from the root key\n",
                        path, rejected);
                return -EKEYREJECTED;
        }
        return 0;
bad:
        fprintf(stderr, "logseal-verify: %s: offset %zu: not a certificate or revocation\n", path,
                off);
        free(p);
        return -EBADMSG;
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

/* The checkpoint's signature under any signing key the chain certified. */
static int checkpoint_signature_ok(Ctx *c, Checkpoint *cp)
{
        const LsKeyInfo *keys;
        size_t n = ls_chain_verifier_keys(c->v, &keys);

        for (size_t i = 0; i < n; i++)
                if (!keys[i].is_root && ls_checkpoint_verify(&cp->cp, cp->text, keys[i].pk) == 0)
                        return 1;
        return 0;
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
        for (size_t i = 0; i < c->ncps; i++) {
                Checkpoint *cp = &c->cps[i];
                uint8_t hh[LS_HASH_LEN];
                if (cp->matched || cp->cp.tree_size > h->tree_size ||
                    cp->cp.tree_size <= h->first_seq)
                        continue;
                cp->matched = 1;
                if (memcmp(cp->cp.chain_id, h->chain_id, LS_CHAIN_ID_LEN) != 0) {
                        cp->check.result = CP_UNVERIFIED;
                        snprintf(cp->check.detail, sizeof(cp->check.detail),
                                 "checkpoint names another chain");
                        continue;
                }
                ls_batch_header_hash(h, hh);
                if (cp->cp.tree_size != h->tree_size || !ls_hash_equal(cp->cp.root, h->tree_root) ||
                    (cp->cp.has_batch && (cp->cp.batch_no != h->batch_no ||
                                          !ls_hash_equal(cp->cp.header_hash, hh)))) {
                        cp->check.result = checkpoint_signature_ok(c, cp) ? CP_FORK : CP_UNVERIFIED;
                        snprintf(cp->check.detail, sizeof(cp->check.detail),
                                 cp->check.result == CP_FORK ?
                                         "the chain's tree at this size differs from the signed "
                                         "checkpoint: history was rewritten (fork)" :
                                         "checkpoint differs from the chain and its signature "
                                         "does not verify under the chain's keys");
                        continue;
                }
                if (!checkpoint_signature_ok(c, cp)) {
                        cp->check.result = CP_UNVERIFIED;
                        snprintf(cp->check.detail, sizeof(cp->check.detail),
                                 "matches the chain, but its signature does not verify");
                        continue;
                }
                cp->check.result = CP_CONSISTENT;
                snprintf(cp->check.detail, sizeof(cp->check.detail),
                         "the evidence contains exactly this tree (batch %" PRIu64 ")",
                         h->batch_no);
        }
}

static void finish_checkpoints(Ctx *c)
{
        const LsVerifyStats *st = &c->report.stats;
        uint64_t have = st->last_seq == LS_UNSET ? 0 : st->last_seq + 1;

        for (size_t i = 0; i < c->ncps; i++) {
                Checkpoint *cp = &c->cps[i];
                LsFinding f = {.offset = LS_UNSET, .archive_no = LS_UNSET, .file = cp->file};

                f.batch_no = cp->check.batch_no;
                f.seq = LS_UNSET;
                if (!cp->matched) {
                        if (st->first_seq != LS_UNSET && cp->cp.tree_size <= st->first_seq) {
                                cp->check.result = CP_NOT_REACHED;
                                snprintf(cp->check.detail, sizeof(cp->check.detail),
                                         "the evidence starts after this checkpoint");
                        } else if (cp->cp.tree_size > have) {
                                cp->check.result = checkpoint_signature_ok(c, cp) ?
                                                           CP_MISSING_TAIL :
                                                           CP_UNVERIFIED;
                                cp->check.missing_records = cp->cp.tree_size - have;
                                snprintf(cp->check.detail, sizeof(cp->check.detail),
                                         "the evidence ends at %" PRIu64
                                         " records; %" PRIu64 " records up to this checkpoint "
                                         "are missing%s",
                                         have, cp->check.missing_records,
                                         cp->check.result == CP_UNVERIFIED ?
                                                 " (its signing key is not in the evidence: pass "
                                                 "the key history with --keys to authenticate it)" :
                                                 "");
                        } else {
                                cp->check.result = CP_UNVERIFIED;
                                snprintf(cp->check.detail, sizeof(cp->check.detail),
                                         "its tree size falls on no verified batch boundary");
                        }
                }
                switch (cp->check.result) {
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
                        f.cls = cp->check.missing_records ? LS_CLASS_GAP : LS_CLASS_TAMPERED;
                        f.code = -EKEYREJECTED;
                        f.check = "checkpoint";
                        break;
                default:
                        f.cls = LS_CLASS_NOTE;
                        f.check = "checkpoint";
                        break;
                }
                snprintf(f.detail, sizeof(f.detail), "%s", cp->check.detail);
                if (f.cls != LS_CLASS_NOTE)
                        report_add_finding(&c->report, &f);
                report_add_checkpoint(&c->report, &cp->check);
        }
}

/* ---- callbacks ---- */

static void on_finding(void *ud, const LsFinding *f)
{
        Ctx *c = ud;
        if (report_add_finding(&c->report, f) < 0)
                c->oom = 1;
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

/* ---- main ---- */

int main(int argc, char **argv)
{
        enum { OPT_CASE = 256, OPT_EXAMINER, OPT_DUMP, OPT_FROM, OPT_TO, OPT_SEQ, OPT_REVOCATIONS };
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
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {}};
        const char *root_file = NULL, *report_file = NULL;
        const char *keyfiles[64], *cpfiles[64];
        size_t nkeyfiles = 0, ncpfiles = 0;
        int json = 0, quiet = 0, opt, r;
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
        cb.all_records = c.dump != DUMP_NONE;
        r = ls_chain_verifier_new(&c.v, root_pk, &cb);
        if (r < 0) {
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
                static const int rank[] = {[LS_CLASS_INTACT] = 0, [LS_CLASS_PARTIAL] = 1,
                                           [LS_CLASS_GAP] = 2, [LS_CLASS_IO] = 3,
                                           [LS_CLASS_TAMPERED] = 4, [LS_CLASS_NOTE] = -1};
                if (rank[k] > rank[c.report.verdict])
                        c.report.verdict = k;
        }
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
