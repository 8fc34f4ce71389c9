/* SPDX-License-Identifier: Apache-2.0 */
/* reindex.c: `logsealctl reindex`: the search index rebuilt from the archives */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "control.h"
#include "ctl.h"
#include "index.h"
#include "state.h"

typedef struct Progress {
        uint64_t last;
        int shown;
} Progress;

static void reindex_progress(void *ud, const IndexProgress *p)
{
        Progress *pg = ud;
        uint64_t now = mono_ns();

        if (now - pg->last < 200000000u)
                return;
        pg->last = now;
        pg->shown = 1;
        fprintf(stderr, "\r\033[Kindexing archive %" PRIu64 ": %" PRIu64 " records, %" PRIu64
                        "/%" PRIu64 " MiB (%u%%)",
                p->archive_no, p->records_added, p->bytes_done >> 20, p->bytes_total >> 20,
                p->bytes_total ? (unsigned) (p->bytes_done * 100 / p->bytes_total) : 100u);
        fflush(stderr);
}

static int unlink_index(int dirfd, const char *dir)
{
        static const char *const names[] = {STATE_INDEX, STATE_INDEX "-wal", STATE_INDEX "-shm"};

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (unlinkat(dirfd, names[i], 0) < 0 && errno != ENOENT)
                        return log_errno(-errno, "%s/%s", dir, names[i]);
        return 0;
}

int cmd_reindex(int argc, char **argv)
{
        const char *dir = NULL;
        int fulltext = 0;
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {"fulltext", 0, OPTION_FLAG, &fulltext,
                 .help = "also build the full-text index (query --match)"},
                {}};
        _cleanup_close_ int dirfd = -1, archfd = -1;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        Index *ix = NULL;
        IndexAuth *auth = NULL;
        Progress pg = {};
        uint64_t added = 0, total = 0, t0, t1;
        double secs;
        int r;

        r = parse_options("reindex", argc, argv, opts, 0, NULL);
        if (r != 0)
                return options_exit(r);
        if (!dir)
                return usage_error("reindex: --state-dir DIR is required");
        r = open_chain(dir, &dirfd, &archfd, chain_id);
        if (r != 0)
                return r;
        r = index_remove_legacy(dirfd);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_INDEX_LEGACY);
        if (r > 0)
                fprintf(stderr, PROG ": removed %s/%s of an older version (derived data)\n", dir,
                        STATE_INDEX_LEGACY);
        /* Only batches the root key and the key history vouch for are indexed. */
        r = index_auth_new(&auth, dirfd, chain_id);
        if (r < 0)
                return log_error("%s/%s: batch signatures cannot be checked without it; nothing "
                                 "indexed",
                                 dir, index_auth_error(NULL));

        r = index_open(&ix, dirfd, chain_id);
        if (r == -EUCLEAN || r == -EPROTONOSUPPORT) {
                /* Derived data: a damaged or outdated index is simply made again. */
                fprintf(stderr, PROG ": %s: %s; recreating it\n", dir, index_last_error(NULL));
                if (unlink_index(dirfd, dir) != 0) {
                        index_auth_free(auth);
                        return EXIT_FAILURE;
                }
                r = index_open(&ix, dirfd, chain_id);
        }
        if (r < 0) {
                index_auth_free(auth);
                if (r == -EXDEV)
                        return log_error("%s: %s: move it away, then reindex", dir,
                                         index_last_error(NULL));
                return log_error("%s: %s", dir, index_last_error(NULL));
        }
        index_set_log(ix, index_log_stderr, NULL);
        index_set_auth(ix, auth);
        if (fulltext && index_enable_fulltext(ix) < 0) {
                log_error("%s: %s", dir, index_last_error(ix));
                index_free(ix);
                index_auth_free(auth);
                return EXIT_FAILURE;
        }
        if (isatty(STDERR_FILENO))
                index_set_progress(ix, reindex_progress, &pg);

        t0 = mono_ns();
        pg.last = t0;
        r = index_rebuild(ix, archfd, &added);
        t1 = mono_ns();
        if (pg.shown)
                fputs("\r\033[K", stderr);
        if (r < 0) {
                log_error("%s/%s: %s", dir, STATE_ARCHIVES, index_last_error(ix));
                fprintf(stderr, PROG ": %" PRIu64 " records indexed before the error; nothing "
                                "after it is in the index%s\n",
                        added,
                        r == -EKEYREJECTED ? "; 'logsealctl verify' reports on the whole chain" :
                                             "");
                index_free(ix);
                index_auth_free(auth);
                return EXIT_FAILURE;
        }
        /* With logseald running, its indexer shares the work: say what the index holds. */
        if (index_record_count(ix, &total) < 0)
                total = added;
        index_free(ix);
        index_auth_free(auth);
        secs = (double) (t1 - t0) / 1e9;
        printf("Indexed %" PRIu64 " records in %.2f s (%.0f records/s) into %s/%s\n", added, secs,
               secs > 0 ? (double) added / secs : 0.0, dir, STATE_INDEX);
        if (total != added)
                printf("The index holds %" PRIu64 " records: logseald indexed the others "
                       "meanwhile.\n",
                       total);
        (void) seal_custody_note(dir, LS_CUSTODY_REINDEX, NULL, NULL, NULL, total,
                                 "search index rebuilt from the archives");
        return 0;
}
