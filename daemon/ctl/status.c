/* SPDX-License-Identifier: Apache-2.0 */
/* status.c: `logsealctl status`: the state directory and the running daemon */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
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

/*
 * What the state directory alone says, into o (the schema: docs/status.schema.json); errors
 * are printed. Returns the number of items that failed.
 */
static int status_local(int dirfd, const char *dir, json_t *o)
{
        _cleanup_keypair_ LsKeyPair *key = NULL;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        char hex[2 * LS_CHAIN_ID_LEN + 1];
        uint64_t archives = 0;
        struct statvfs vfs;
        LsCert cert;
        int failed = 0, r;

        json_object_set_new(o, "state_dir", json_string(dir));
        r = state_load_chain_id(dirfd, chain_id);
        if (r < 0) {
                log_errno(r, "%s/%s", dir, STATE_CHAIN_ID);
                json_object_set_new(o, "chain_id", json_null());
                failed++;
        } else {
                ls_hex(hex, chain_id, LS_CHAIN_ID_LEN);
                json_object_set_new(o, "chain_id", json_string(hex));
        }

        r = state_load_signing_key(dirfd, &key);
        if (r < 0) {
                log_errno(r, "%s/%s", dir, STATE_SIGNING_KEY);
                json_object_set_new(o, "signing_key", json_null());
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
                        json_object_set_new(o, "signing_key",
                                            json_pack("{s:s,s:b}", "key_id", hex, "certified", 0));
                        failed++;
                } else {
                        json_object_set_new(o, "signing_key",
                                            json_pack("{s:s,s:b,s:I,s:I}", "key_id", hex,
                                                      "certified", 1, "epoch",
                                                      (json_int_t) cert.epoch, "valid_from_batch",
                                                      (json_int_t) cert.valid_from_batch));
                }
        }

        r = count_archives(dirfd, &archives);
        if (r < 0) {
                log_errno(r, "%s/%s", dir, STATE_ARCHIVES);
                json_object_set_new(o, "archives", json_null());
                failed++;
        } else {
                json_object_set_new(o, "archives", json_integer((json_int_t) archives));
        }

        if (fstatvfs(dirfd, &vfs) < 0) {
                log_errno(-errno, "%s", dir);
                json_object_set_new(o, "disk", json_null());
                failed++;
        } else {
                json_object_set_new(o, "disk",
                                    json_pack("{s:I,s:I}", "free_bytes",
                                              (json_int_t) ((uint64_t) vfs.f_bavail * vfs.f_frsize),
                                              "total_bytes",
                                              (json_int_t) ((uint64_t) vfs.f_blocks * vfs.f_frsize)));
        }
        return failed;
}

static json_int_t geti(const json_t *o, const char *k)
{
        return json_integer_value(json_object_get(o, k));
}

static void print_time(const char *label, json_t *v)
{
        char t[64];

        if (!json_is_integer(v))
                return;
        ls_time_format(t, sizeof(t), (uint64_t) json_integer_value(v));
        printf("%s%s\n", label, t);
}

static void print_local(const json_t *o)
{
        const json_t *k = json_object_get(o, "signing_key"), *disk = json_object_get(o, "disk");

        printf("state directory: %s\n", json_string_value(json_object_get(o, "state_dir")));
        printf("chain id:        %s\n", json_is_string(json_object_get(o, "chain_id")) ?
                                                json_string_value(json_object_get(o, "chain_id")) :
                                                "unavailable");
        if (!k)
                printf("signing key:     unavailable\n");
        else if (!json_is_true(json_object_get(k, "certified")))
                printf("signing key:     %s (uncertified)\n",
                       json_string_value(json_object_get(k, "key_id")));
        else
                printf("signing key:     %s epoch %" JSON_INTEGER_FORMAT " (from batch %" JSON_INTEGER_FORMAT
                       ")\n",
                       json_string_value(json_object_get(k, "key_id")), geti(k, "epoch"),
                       geti(k, "valid_from_batch"));
        if (json_is_integer(json_object_get(o, "archives")))
                printf("archives:        %" JSON_INTEGER_FORMAT "\n", geti(o, "archives"));
        else
                printf("archives:        unavailable\n");
        if (json_is_object(disk)) {
                double fr = (double) geti(disk, "free_bytes"), tot = (double) geti(disk, "total_bytes");
                printf("disk:            %.1f GiB free of %.1f GiB (%.0f%%)\n", fr / 1073741824.0,
                       tot / 1073741824.0, tot > 0 ? 100.0 * fr / tot : 0.0);
        }
}

/* What the running daemon says (its `status` reply). */
static void print_daemon(json_t *o)
{
        json_t *cp, *e;
        size_t i;

        printf("daemon:          %s, pid %" JSON_INTEGER_FORMAT ", version %s\n",
               json_string_value(json_object_get(o, "state")), geti(o, "pid"),
               json_string_value(json_object_get(o, "version")));
        printf("received:        %" JSON_INTEGER_FORMAT " (truncated %" JSON_INTEGER_FORMAT
               ", parse failed %" JSON_INTEGER_FORMAT ")\n",
               geti(o, "received"), geti(o, "truncated"), geti(o, "parse_failed"));
        printf("sealed:          %" JSON_INTEGER_FORMAT " records in %" JSON_INTEGER_FORMAT
               " batches; %" JSON_INTEGER_FORMAT " archives sealed this run\n",
               geti(o, "sealed"), geti(o, "batches"), geti(o, "archives_sealed"));
        print_time("last seal:       ", json_object_get(o, "last_seal_ns"));
        if (json_object_get(o, "compression_level"))
                printf("compression:     zstd level %" JSON_INTEGER_FORMAT "%s\n",
                       geti(o, "compression_level"),
                       json_is_true(json_object_get(o, "compression_auto"))
                               ? " (auto: by batch size and backlog)"
                               : "");
        printf("declared lost:   %" JSON_INTEGER_FORMAT "\n", geti(o, "declared_lost"));
        json_array_foreach(json_object_get(o, "listeners"), i, e)
        {
                const char *path = json_string_value(json_object_get(e, "path"));
                printf("listener:        %s (%s", json_string_value(json_object_get(e, "name")),
                       json_string_value(json_object_get(e, "kind")));
                if (path)
                        printf(" %s", path);
                else
                        printf(" %s port %" JSON_INTEGER_FORMAT,
                               json_string_value(json_object_get(e, "address")), geti(e, "port"));
                printf("): %" JSON_INTEGER_FORMAT " connections\n", geti(e, "connections"));
        }
        /* Per sender: messages, the last one's time, and the limits that acted; the name is a
         * sender's (an identity comes from the network): escaped (text.h). */
        json_array_foreach(json_object_get(o, "sources"), i, e)
        {
                json_int_t ev[4] = {geti(e, "refused"), geti(e, "closed"), geti(e, "rate_limited"),
                                    geti(e, "throttled")};
                const char *name = json_string_value(json_object_get(e, "source"));
                char t[64] = "never";
                if (!name)
                        continue;
                if (json_is_integer(json_object_get(e, "last_message_ns")))
                        ls_time_format(t, sizeof(t), (uint64_t) geti(e, "last_message_ns"));
                fputs("sender:          ", stdout);
                ls_text_write(stdout, (const uint8_t *) name, strlen(name));
                printf(": %" JSON_INTEGER_FORMAT " messages, last %s, %" JSON_INTEGER_FORMAT
                       " connections\n",
                       geti(e, "messages"), t, geti(e, "connections"));
                if (!(ev[0] | ev[1] | ev[2] | ev[3]))
                        continue;
                fputs("sender limited:  ", stdout);
                ls_text_write(stdout, (const uint8_t *) name, strlen(name));
                printf(": %" JSON_INTEGER_FORMAT " connections refused, %" JSON_INTEGER_FORMAT
                       " closed, %" JSON_INTEGER_FORMAT " messages dropped (rate limit), held back "
                       "%" JSON_INTEGER_FORMAT " times\n",
                       ev[0], ev[1], ev[2], ev[3]);
        }
        printf("no identity:     %" JSON_INTEGER_FORMAT " messages on front-end listeners "
               "without a usable sender identity\n",
               geti(o, "identity_missing"));
        printf("backlog:         %" JSON_INTEGER_FORMAT " bytes\n", geti(o, "backlog_bytes"));
        cp = json_object_get(o, "last_checkpoint");
        if (cp)
                printf("last checkpoint: batch %" JSON_INTEGER_FORMAT ", tree size %" JSON_INTEGER_FORMAT
                       ", root %s\n                 key %s epoch %" JSON_INTEGER_FORMAT "\n",
                       geti(cp, "batch"), geti(cp, "tree_size"),
                       json_string_value(json_object_get(cp, "root")),
                       json_string_value(json_object_get(cp, "key_id")), geti(cp, "epoch"));
        cp = json_object_get(o, "next_epoch_change");
        if (cp) {
                char t[64];
                json_t *b = json_object_get(cp, "batch"), *tm = json_object_get(cp, "time_ns");
                if (!json_is_integer(b) && !json_is_integer(tm))
                        printf("next key change: never (epoch_interval and epoch_batches are 0)\n");
                else {
                        printf("next key change:");
                        if (json_is_integer(b))
                                printf(" at batch %" JSON_INTEGER_FORMAT, json_integer_value(b));
                        if (json_is_integer(tm)) {
                                ls_time_format(t, sizeof(t), (uint64_t) json_integer_value(tm));
                                printf("%s at %s", json_is_integer(b) ? " or" : "", t);
                        }
                        printf(", whichever comes first\n");
                }
        }
        cp = json_object_get(o, "confinement");
        if (cp) {
                json_int_t abi = geti(cp, "landlock_abi");
                printf("confinement:     %s%s (Landlock ABI %" JSON_INTEGER_FORMAT "%s); keys %s\n",
                       json_is_true(json_object_get(cp, "enforced")) ? "enforced" : "NOT enforced",
                       json_is_true(json_object_get(cp, "disabled")) ? ": confine = no" : "",
                       abi, abi ? "" : ": unavailable",
                       json_is_true(json_object_get(cp, "keys_readable")) ? "READABLE by the daemon" :
                                                                          "not readable by the daemon");
                if (json_object_get(cp, "uid"))
                        printf("privileges:      uid %" JSON_INTEGER_FORMAT ", %s\n", geti(cp, "uid"),
                               json_is_true(json_object_get(cp, "no_capabilities")) ?
                                       "no capabilities" : "CAPABILITIES HELD");
        }
}

/*
 * Exit status: 0 the daemon runs, 3 it does not (LSB: "program is not running"), 1 an
 * error (an item of the state directory unreadable, the control socket failing).
 */
int cmd_status(int argc, char **argv)
{
        const char *dir = NULL;
        int json = 0;
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {"json", 0, OPTION_FLAG, &json,
                 .help = "one JSON document (docs/status.schema.json)"},
                {}};
        _cleanup_close_ int dirfd = -1;
        json_t *o, *d = NULL;
        int failed, running = 0, r;

        r = parse_options("status", argc, argv, opts, 0, NULL);
        if (r != 0)
                return options_exit(r);
        if (!dir)
                return usage_error("status: --state-dir DIR is required");
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        o = json_object();
        if (!o)
                return log_errno(-ENOMEM, "status");

        failed = status_local(dirfd, dir, o);
        r = daemon_call(dir, "status\n", &d);
        if (r == -ENOENT || r == -ECONNREFUSED)
                d = NULL;
        else if (r < 0)
                failed += log_errno(r, "%s/%s", dir, STATE_CONTROL) != 0;
        else if (json_object_get(d, "error")) {
                failed += log_error("%s/%s: %s", dir, STATE_CONTROL,
                                    json_string_value(json_object_get(d, "error"))) != 0;
                json_decref(d);
                d = NULL;
        } else
                running = 1;
        if (json) {
                json_object_set_new(o, "daemon", d ? d : json_null());
                json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
        } else {
                print_local(o);
                if (d)
                        print_daemon(d);
                else if (r == -ENOENT || r == -ECONNREFUSED)
                        printf("daemon:          not running\n");
                json_decref(d);
        }
        json_decref(o);
        if (fflush(stdout) != 0)
                return EXIT_FAILURE;
        return failed ? EXIT_FAILURE : running ? 0 : 3;
}
