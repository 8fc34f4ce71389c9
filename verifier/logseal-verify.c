/* SPDX-License-Identifier: Apache-2.0 */
/* logseal-verify: prove chain of custody of logseal archives from a root public key, offline.
 * This file is the command line; the modes are archives.c, bundle.c and consistency.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "keys.h"
#include "util.h"
#include "verify.h"
#include "rfc3339.h"

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
               "evidence.lsb (or MANIFEST.sha256), or an uncompressed .tar file of one (read\n"
               "in-process and unpacked into a private temporary directory). Its disclosed\n"
               "records, inclusion proofs, checkpoint, key history, custody record and\n"
               "manifest are verified; it is given on its own, without archives.\n"
               "\n"
               "  -k, --root-key FILE      root public key file (the only trust anchor)\n"
               "  -K, --keys FILE          key history / revocation file (certificates are\n"
               "                           checked against the root key; repeatable)\n"
               "      --revocations FILE   same as --keys\n"
               "  -c, --checkpoint FILE    a checkpoint obtained out of band: detects a missing\n"
               "                           tail and forks (repeatable); with a bundle, one of\n"
               "                           the same tree size must be the bundle's tree\n"
               "      --upto FILE          archives: examine the evidence up to this checkpoint's\n"
               "                           batch only (e.g. a running appliance's latest one):\n"
               "                           intact when everything up to it verifies and it is\n"
               "                           authentic and consistent; later batches and an open\n"
               "                           archive after it are not judged\n"
               "      --consistency OLD    with one NEW checkpoint: prove that NEW extends OLD\n"
               "                           (both signed by certified keys; RFC 9162 proof)\n"
               "      --proof FILE         the consistency proof (default NEW.proof, as\n"
               "                           written by logsealctl checkpoint --since OLD)\n"
               "  -j, --json               print the report as JSON (schema " REPORT_SCHEMA ")\n"
               "  -r, --report FILE        also write the report to FILE (text) and FILE.json\n"
               "      --case ID            case identifier to put in the report\n"
               "      --examiner NAME      examiner name to put in the report\n"
               "  -q, --quiet              print nothing; the exit code is the verdict\n"
               "      --dump[=text|raw|json]  print the records of verified batches (or a\n"
               "                           bundle's verified disclosed records) to stdout\n"
               "                           (the report then goes to stderr): text escapes\n"
               "                           control and bidi characters (the default), raw\n"
               "                           prints the bytes as received (not to a terminal)\n"
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

int emit_report(const ReportWriter *w, const Options *o, FILE *out)
{
        _cleanup_free_ char *jpath = NULL;
        FILE *f;
        int bad;

        if (!o->quiet) {
                if (o->json)
                        (void) w->json(w->userdata, out);
                else
                        w->text(w->userdata, out);
        }
        if (!o->report_file)
                return 0;
        f = fopen(o->report_file, "we");
        if (!f || asprintf(&jpath, "%s.json", o->report_file) < 0) {
                fprintf(stderr, "logseal-verify: %s: %s\n", o->report_file, strerror(errno));
                if (f)
                        fclose(f);
                return 2;
        }
        w->text(w->userdata, f);
        bad = fclose(f) != 0;
        f = bad ? NULL : fopen(jpath, "we");
        if (!f) {
                fprintf(stderr, "logseal-verify: %s: %s\n", jpath, strerror(errno));
                return 2;
        }
        bad = w->json(w->userdata, f) < 0;
        bad |= fclose(f) != 0;
        return bad ? 2 : 0;
}

/* optarg into a repeatable FILE option (--keys, --checkpoint): at most max of them. */
static int add_file(const char **v, size_t *n, size_t max, const char *option)
{
        if (*n == max) {
                fprintf(stderr, "logseal-verify: too many --%s files\n", option);
                return -E2BIG;
        }
        v[(*n)++] = optarg;
        return 0;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
        enum { OPT_CASE = 256, OPT_EXAMINER, OPT_DUMP, OPT_FROM, OPT_TO, OPT_SEQ, OPT_REVOCATIONS,
               OPT_CONSISTENCY, OPT_PROOF, OPT_JOBS, OPT_UPTO };
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
                {"upto", required_argument, NULL, OPT_UPTO},
                {"proof", required_argument, NULL, OPT_PROOF},
                {"jobs", required_argument, NULL, OPT_JOBS},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {}};
        Options o = {};
        int opt, r;
        Ctx c = {.dump_to = UINT64_MAX, .dump_seq_to = UINT64_MAX};

        report_init(&c.report);
        while ((opt = getopt_long(argc, argv, "k:K:c:jr:qhV", opts, NULL)) != -1) {
                switch (opt) {
                case 'k':
                        o.root_file = optarg;
                        break;
                case 'K':
                case OPT_REVOCATIONS:
                        if (add_file(o.keyfiles, &o.nkeyfiles, ELEMENTSOF(o.keyfiles), "keys") < 0)
                                return 2;
                        break;
                case 'c':
                        if (add_file(o.cpfiles, &o.ncpfiles, ELEMENTSOF(o.cpfiles), "checkpoint") < 0)
                                return 2;
                        break;
                case 'j':
                        o.json = 1;
                        break;
                case 'r':
                        o.report_file = optarg;
                        break;
                case OPT_CASE:
                        c.report.case_id = optarg;
                        break;
                case OPT_EXAMINER:
                        c.report.examiner = optarg;
                        break;
                case 'q':
                        o.quiet = 1;
                        break;
                case OPT_DUMP:
                        if (!optarg || !strcmp(optarg, "text"))
                                c.dump = DUMP_TEXT;
                        else if (!strcmp(optarg, "raw"))
                                c.dump = DUMP_RAW;
                        else if (!strcmp(optarg, "json"))
                                c.dump = DUMP_JSON;
                        else {
                                fprintf(stderr, "logseal-verify: --dump takes text, raw or json\n");
                                return 2;
                        }
                        if (c.dump == DUMP_RAW && isatty(STDOUT_FILENO)) {
                                fprintf(stderr, "logseal-verify: --dump=raw prints the bytes "
                                                "senders sent, escape sequences included: not "
                                                "to a terminal (pipe or redirect it, or use "
                                                "--dump=text)\n");
                                return 2;
                        }
                        break;
                case OPT_FROM:
                case OPT_TO:
                        if (ls_time_parse(optarg, opt == OPT_FROM ? &c.dump_from : &c.dump_to) < 0) {
                                fprintf(stderr, "logseal-verify: bad time '%s' (use RFC 3339 "
                                                "such as 2026-01-01T00:00:00Z or "
                                                "2026-01-01T02:00:00+02:00, or @NANOSECONDS)\n",
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
                        o.consistency = optarg;
                        break;
                case OPT_UPTO:
                        o.upto = optarg;
                        break;
                case OPT_PROOF:
                        o.proof = optarg;
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
                        o.jobs = (unsigned) n;
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
        if (!o.root_file || optind >= argc) {
                fprintf(stderr, "logseal-verify: %s\nTry 'logseal-verify --help'.\n",
                        !o.root_file ? "--root-key FILE is required (the trust anchor comes only "
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
                r = read_file(o.root_file, LS_PUBKEY_TEXT_MAX, &text, &n);
                if (r == 0) {
                        r = ls_pubkey_parse((const char *) text, n, o.root_pk,
                                            c.report.root_key_id);
                        free(text);
                }
                if (r < 0) {
                        fprintf(stderr, "logseal-verify: %s: not a logseal public key file (%s)\n",
                                o.root_file, strerror(-r));
                        return 2;
                }
                ls_fingerprint(c.report.root_fingerprint, o.root_pk);
                c.report.root_key_file = o.root_file;
        }
        c.report.started_ns = now_ns();

        if (o.upto && o.consistency) {
                fprintf(stderr, "logseal-verify: --upto is for archives, not --consistency\n");
                r = 2;
                goto out;
        }
        if (o.consistency) {
                if (argc - optind != 1) {
                        fprintf(stderr, "logseal-verify: --consistency OLD takes exactly one NEW "
                                        "checkpoint\n");
                        r = 2;
                        goto out;
                }
                r = run_consistency(&c, &o, o.consistency, argv[optind]);
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
                        if (o.upto) {
                                fprintf(stderr, "logseal-verify: --upto is for archives, not "
                                                "an evidence bundle\n");
                                r = 2;
                                goto out;
                        }
                        for (size_t i = 0; i < o.ncpfiles; i++)
                                if (load_checkpoint(&c, o.cpfiles[i]) < 0) {
                                        r = 2;
                                        goto out;
                                }
                        r = run_bundle(&c, &o, argv[optind], kind);
                        goto out;
                }
        }

        r = run_archives(&c, &o, argv + optind, (size_t) (argc - optind));
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

