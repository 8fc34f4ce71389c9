/* SPDX-License-Identifier: Apache-2.0 */
/* export.c: `logsealctl export`: the selection for an evidence bundle (written by
 * export-bundle.c) */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "ctl.h"
#include "export-bundle.h"
#include "index.h"
#include "state.h"

typedef struct Hits {
        IndexHit *v;
        size_t n, cap;
} Hits;

static int collect_hit(void *ud, const IndexHit *hit)
{
        Hits *h = ud;

        if (h->n == h->cap) {
                size_t cap = h->cap ? h->cap * 2 : 256;
                IndexHit *q;
                if (cap > (size_t) LS_BUNDLE_MAX_RECORDS * 2)
                        return -E2BIG;
                q = realloc(h->v, cap * sizeof(*q));
                if (!q)
                        return -ENOMEM;
                h->v = q;
                h->cap = cap;
        }
        h->v[h->n++] = *hit;
        return 0;
}

int cmd_export(int argc, char **argv)
{
        enum { OPT_HOST = 256, OPT_APP, OPT_FROM, OPT_TO, OPT_CASE, OPT_EXAMINER, OPT_TAR };
        static const struct option opts[] = {
                {"state-dir", required_argument, NULL, 'd'},
                {"case", required_argument, NULL, OPT_CASE},
                {"examiner", required_argument, NULL, OPT_EXAMINER},
                {"host", required_argument, NULL, OPT_HOST},
                {"app", required_argument, NULL, OPT_APP},
                {"from", required_argument, NULL, OPT_FROM},
                {"to", required_argument, NULL, OPT_TO},
                {"limit", required_argument, NULL, 'n'},
                {"out", required_argument, NULL, 'o'},
                {"tar", required_argument, NULL, OPT_TAR},
                {"help", no_argument, NULL, 'h'},
                {}};
        const char *dir = NULL, *from_s = NULL, *to_s = NULL;
        _cleanup_close_ int dirfd = -1, archfd = -1;
        ExportOptions eo = {.request = daemon_request};
        IndexFilter f = {.to_ns = UINT64_MAX, .syslog_only = 1};
        Hits hits = {0};
        Index *ix = NULL;
        uint64_t added = 0;
        char filter[1024];
        int opt, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, ":d:n:o:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'd':
                        dir = optarg;
                        break;
                case OPT_CASE:
                        eo.case_id = optarg;
                        break;
                case OPT_EXAMINER:
                        eo.examiner = optarg;
                        break;
                case OPT_HOST:
                        f.host = optarg;
                        break;
                case OPT_APP:
                        f.app = optarg;
                        break;
                case OPT_FROM:
                case OPT_TO:
                        r = time_option("export", opt == OPT_FROM ? "from" : "to", optarg,
                                        opt == OPT_FROM ? &f.from_ns : &f.to_ns);
                        if (r)
                                return r;
                        if (opt == OPT_FROM)
                                from_s = optarg;
                        else
                                to_s = optarg;
                        break;
                case 'n':
                        r = limit_option("export", optarg, &f.limit);
                        if (r)
                                return r;
                        break;
                case 'o':
                        eo.out = optarg;
                        break;
                case OPT_TAR:
                        eo.tar = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return bad_option("export", opt, argv);
                }
        }
        if (optind < argc)
                return usage_error("export: unexpected argument '%s'", argv[optind]);
        if (!dir || !eo.case_id || !eo.examiner || !eo.out)
                return usage_error("export: --state-dir, --case, --examiner and --out are "
                                   "required");
        if (strlen(eo.case_id) > 256 || strlen(eo.examiner) > 256)
                return usage_error("export: --case and --examiner take at most 256 bytes");
        if (!f.host && !f.app && !from_s && !to_s)
                return usage_error("export: give a selection (--host, --app, --from, --to): "
                                   "a bundle discloses only what a case needs");
        if (f.to_ns <= f.from_ns)
                return usage_error("export: --to must be later than --from");
        snprintf(filter, sizeof(filter), "%s%s%s%s%s%s%s%s%s%s", f.host ? "host=" : "",
                 f.host ? f.host : "", f.app ? " app=" : "", f.app ? f.app : "",
                 from_s ? " from=" : "", from_s ? from_s : "", to_s ? " to=" : "",
                 to_s ? to_s : "", f.limit ? " limit=" : "", "");
        if (f.limit)
                snprintf(filter + strlen(filter), sizeof(filter) - strlen(filter), "%" PRIu64,
                         f.limit);
        eo.filter = filter[0] == ' ' ? filter + 1 : filter;

        r = open_chain(dir, &dirfd, &archfd, eo.chain_id);
        if (r != 0)
                return r;
        r = index_open(&ix, dirfd, eo.chain_id);
        if (r < 0)
                return log_error("%s: %s (rebuild it with 'logsealctl reindex --state-dir %s')",
                                 dir, index_last_error(NULL), dir);
        index_set_log(ix, index_log_stderr, NULL);
        if (index_catch_up(ix, archfd, &added) < 0)
                fprintf(stderr, PROG ": warning: %s: the index may lack recent records: %s\n", dir,
                        index_last_error(ix));
        r = index_query(ix, &f, collect_hit, &hits);
        index_free(ix);
        if (r < 0) {
                free(hits.v);
                return log_errno(r, "%s: query", dir);
        }
        eo.state_dir = dir;
        eo.dirfd = dirfd;
        eo.archfd = archfd;
        eo.hits = hits.v;
        eo.nhits = hits.n;
        r = export_bundle(&eo);
        free(hits.v);
        return r;
}
