/* SPDX-License-Identifier: Apache-2.0 */
/* status.c: `logsealctl status`: the state directory and the running daemon */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "text.h"
#include "hash.h"
#include "keys.h"
#include "state.h"

static int count_archives(int dirfd, uint64_t *ret)
{
        int fd = openat(dirfd, STATE_ARCHIVES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        uint64_t count = 0;
        DIR *d;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        errno = 0;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                struct stat st;

                if (len < 5 || strcmp(de->d_name + len - 4, ".lsa") != 0)
                        continue;
                if (de->d_type == DT_REG ||
                    (de->d_type == DT_UNKNOWN &&
                     fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                     S_ISREG(st.st_mode)))
                        count++;
        }
        closedir(d);
        *ret = count;
        return 0;
}

/* What the state directory alone says; returns the number of items that failed. */
static int status_local(int dirfd, const char *dir)
{
        _cleanup_keypair_ LsKeyPair *key = NULL;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        char hex[2 * LS_CHAIN_ID_LEN + 1];
        uint64_t archives = 0;
        LsCert cert;
        int failed = 0, r;

        printf("state directory: %s\n", dir);
        r = state_load_chain_id(dirfd, chain_id);
        if (r < 0) {
                log_errno(r, "%s/%s", dir, STATE_CHAIN_ID);
                printf("chain id:        unavailable\n");
                failed++;
        } else {
                ls_hex(hex, chain_id, LS_CHAIN_ID_LEN);
                printf("chain id:        %s\n", hex);
        }

        r = state_load_signing_key(dirfd, &key);
        if (r < 0) {
                log_errno(r, "%s/%s", dir, STATE_SIGNING_KEY);
                printf("signing key:     unavailable\n");
                failed++;
        } else {
                ls_hex(hex, key->key_id, LS_KEY_ID_LEN);
                r = state_find_cert(dirfd, key->key_id, &cert);
                key = ls_keypair_free(key);
                if (r == -ENOKEY)
                        log_error("%s/%s: no certificate for signing key %s", dir, STATE_HISTORY,
                                  hex);
                else if (r < 0)
                        log_errno(r, "%s/%s", dir, STATE_HISTORY);
                if (r < 0) {
                        printf("signing key:     %s (uncertified)\n", hex);
                        failed++;
                } else {
                        printf("signing key:     %s epoch %" PRIu64 " (from batch %" PRIu64
                               ")\n",
                               hex, cert.epoch, cert.valid_from_batch);
                }
        }

        r = count_archives(dirfd, &archives);
        if (r < 0) {
                log_errno(r, "%s/%s", dir, STATE_ARCHIVES);
                printf("archives:        unavailable\n");
                failed++;
        } else {
                printf("archives:        %" PRIu64 "\n", archives);
        }
        return failed;
}

/* What the running daemon says; -ECONNREFUSED/-ENOENT when it is not running. */
static int status_daemon(const char *dir)
{
        json_t *o, *cp;
        int r = daemon_call(dir, "status\n", &o);

        if (r < 0)
                return r;
        printf("daemon:          %s, pid %" JSON_INTEGER_FORMAT ", version %s\n",
               json_string_value(json_object_get(o, "state")),
               json_integer_value(json_object_get(o, "pid")),
               json_string_value(json_object_get(o, "version")));
        printf("received:        %" JSON_INTEGER_FORMAT " (truncated %" JSON_INTEGER_FORMAT
               ", parse failed %" JSON_INTEGER_FORMAT ")\n",
               json_integer_value(json_object_get(o, "received")),
               json_integer_value(json_object_get(o, "truncated")),
               json_integer_value(json_object_get(o, "parse_failed")));
        printf("sealed:          %" JSON_INTEGER_FORMAT " records in %" JSON_INTEGER_FORMAT
               " batches; %" JSON_INTEGER_FORMAT " archives sealed this run\n",
               json_integer_value(json_object_get(o, "sealed")),
               json_integer_value(json_object_get(o, "batches")),
               json_integer_value(json_object_get(o, "archives_sealed")));
        printf("declared lost:   %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(json_object_get(o, "declared_lost")));
        /* [limits]: the senders with refusals, closes, rate-limit drops or throttling; the
         * name is a sender's (an identity comes from the network): escaped (text.h). */
        json_t *e;
        size_t i;
        json_array_foreach(json_object_get(o, "sources"), i, e)
        {
                json_int_t ev[4] = {json_integer_value(json_object_get(e, "refused")),
                                    json_integer_value(json_object_get(e, "closed")),
                                    json_integer_value(json_object_get(e, "rate_limited")),
                                    json_integer_value(json_object_get(e, "throttled"))};
                const char *name = json_string_value(json_object_get(e, "source"));
                if (!(ev[0] | ev[1] | ev[2] | ev[3]) || !name)
                        continue;
                fputs("sender limited:  ", stdout);
                ls_text_write(stdout, (const uint8_t *) name, strlen(name));
                printf(": %" JSON_INTEGER_FORMAT " connections refused, %" JSON_INTEGER_FORMAT
                       " closed, %" JSON_INTEGER_FORMAT " messages dropped (rate limit), held back "
                       "%" JSON_INTEGER_FORMAT " times\n",
                       ev[0], ev[1], ev[2], ev[3]);
        }
        if (json_integer_value(json_object_get(o, "identity_missing")))
                printf("no identity:     %" JSON_INTEGER_FORMAT " messages on front-end listeners "
                       "without a usable sender identity\n",
                       json_integer_value(json_object_get(o, "identity_missing")));
        printf("backlog:         %" JSON_INTEGER_FORMAT " bytes\n",
               json_integer_value(json_object_get(o, "backlog_bytes")));
        cp = json_object_get(o, "last_checkpoint");
        if (cp)
                printf("last checkpoint: batch %" JSON_INTEGER_FORMAT ", tree size %" JSON_INTEGER_FORMAT
                       ", root %s\n                 key %s epoch %" JSON_INTEGER_FORMAT "\n",
                       json_integer_value(json_object_get(cp, "batch")),
                       json_integer_value(json_object_get(cp, "tree_size")),
                       json_string_value(json_object_get(cp, "root")),
                       json_string_value(json_object_get(cp, "key_id")),
                       json_integer_value(json_object_get(cp, "epoch")));
        cp = json_object_get(o, "confinement");
        if (cp) {
                json_int_t abi = json_integer_value(json_object_get(cp, "landlock_abi"));
                printf("confinement:     %s%s (Landlock ABI %" JSON_INTEGER_FORMAT "%s); keys %s\n",
                       json_is_true(json_object_get(cp, "enforced")) ? "enforced" : "NOT enforced",
                       json_is_true(json_object_get(cp, "disabled")) ? ": confine = no" : "",
                       abi, abi ? "" : ": unavailable",
                       json_is_true(json_object_get(cp, "keys_readable")) ? "READABLE by the daemon" :
                                                                          "not readable by the daemon");
                if (json_object_get(cp, "uid"))
                        printf("privileges:      uid %" JSON_INTEGER_FORMAT ", %s\n",
                               json_integer_value(json_object_get(cp, "uid")),
                               json_is_true(json_object_get(cp, "no_capabilities")) ?
                                       "no capabilities" : "CAPABILITIES HELD");
        }
        json_decref(o);
        return 0;
}

int cmd_status(int argc, char **argv)
{
        const char *dir = NULL;
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {}};
        _cleanup_close_ int dirfd = -1;
        int failed, r;

        r = parse_options("status", argc, argv, opts, 0, NULL);
        if (r != 0)
                return options_exit(r);
        if (!dir)
                return usage_error("status: --state-dir DIR is required");
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;

        failed = status_local(dirfd, dir);
        r = status_daemon(dir);
        if (r == -ENOENT || r == -ECONNREFUSED)
                printf("daemon:          not running\n");
        else if (r < 0)
                failed += log_errno(r, "%s/%s", dir, STATE_CONTROL);
        return failed ? EXIT_FAILURE : 0;
}
