/* SPDX-License-Identifier: Apache-2.0 */
/* export.c: `logsealctl export`: the selection for an evidence bundle (written by
 * export-bundle.c) */

#include <errno.h>
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
        const char *dir = NULL, *from_s = NULL, *to_s = NULL;
        _cleanup_close_ int dirfd = -1, archfd = -1;
        ExportOptions eo = {.request = daemon_request};
        IndexFilter f = {.to_ns = UINT64_MAX, .syslog_only = 1};
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {"case", 0, OPTION_STRING, &eo.case_id, .arg = "ID",
                 .help = "the case identifier (sealed in the custody record)"},
                {"examiner", 0, OPTION_STRING, &eo.examiner, .arg = "NAME",
                 .help = "who exports (sealed in the custody record)"},
                {"host", 0, OPTION_STRING, &f.host, .arg = "H",
                 .help = "records whose host name is H"},
                {"app", 0, OPTION_STRING, &f.app, .arg = "A",
                 .help = "records whose app name is A"},
                {"from", 0, OPTION_TIME, &f.from_ns, .text = &from_s, .arg = "TIME",
                 .help = "received at or after TIME"},
                {"to", 0, OPTION_TIME, &f.to_ns, .text = &to_s, .arg = "TIME",
                 .help = "received before TIME"},
                {"limit", 'n', OPTION_LIMIT, &f.limit, .arg = "N",
                 .help = "at most N records"},
                {"out", 'o', OPTION_STRING, &eo.out, .arg = "DIR",
                 .help = "the bundle directory to create"},
                {"tar", 0, OPTION_STRING, &eo.tar, .arg = "FILE",
                 .help = "also write the bundle as an uncompressed tar"},
                {}};
        Hits hits = {0};
        Index *ix = NULL;
        IndexBatchReader *br = NULL;
        uint64_t added = 0;
        char filter[1024];
        int r;

        r = parse_options("export", argc, argv, opts, 0, NULL);
        if (r != 0)
                return options_exit(r);
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
        r = index_batch_reader_new(&br, archfd, eo.chain_id);
        if (r == 0) {
                r = index_query(ix, br, &f, collect_hit, &hits);
                if (r == 0 && index_query_mismatches(ix))
                        fprintf(stderr, PROG ": warning: %s: %" PRIu64 " batches the index "
                                        "selected do not match in the archives: the index is "
                                        "out of step; rebuild it with 'logsealctl reindex'\n",
                                dir, index_query_mismatches(ix));
        }
        index_batch_reader_free(br);
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
