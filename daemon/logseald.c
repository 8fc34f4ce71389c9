/* SPDX-License-Identifier: Apache-2.0 */
/* logseald: receive syslog, seal it into signed, chained archives */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "batchkeys.h"
#include "hash.h"
#include "control-socket.h"
#include "index.h"
#include "listen.h"
#include "sources.h"
#include "logseald-internal.h"
#include "logseald.h"
#include "sequence.h"
#include "util.h"
static void help(void)
{
        printf("Usage: logseald [OPTIONS]\n"
               "\n"
               "Receive syslog over UDP, TCP and unix sockets and seal every message into\n"
               "signed, hash-chained, compressed archives.\n"
               "\n"
               "  -c, --config FILE        configuration file (INI, see logseald.conf(5))\n"
               "  -d, --state-dir DIR      state directory made by `logsealctl init`\n"
               "  -l, --listen SPEC        udp:HOST:PORT, tcp:HOST:PORT ([V6]:PORT), unix:PATH\n"
               "                           (stream) or unix-dgram:PATH; repeatable, adds to the\n"
               "                           configuration file's listeners\n"
               "      --check-config       check the configuration and exit\n"
               "      --foreground         accepted for clarity: logseald never forks\n"
               "  -h, --help               show this help\n"
               "  -V, --version            show the version\n"
               "\n"
               "Logs go to standard error. Under systemd it uses Type=notify, the watchdog and\n"
               "socket activation. SIGTERM or SIGINT seal everything pending and stop.\n");
}

/* The search index follows the archives in its own thread (derived data, off the critical path). */
IndexWorker *indexer;

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"state-dir", required_argument, NULL, 'd'},
                {"listen", required_argument, NULL, 'l'},
                {"check-config", no_argument, NULL, 'C'},
                {"foreground", no_argument, NULL, 'F'},
                {"quickstart-hints", no_argument, NULL, 'Q'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {}};
        const char *config_path = NULL, *state_dir = NULL, *listens[64];
        size_t nlistens = 0;
        int check = 0, opt, r;
        Daemon d = {.state_dirfd = -1, .archive_dirfd = -1, .notify_fd = -1};
        sd_event_source *tick = NULL;
        sigset_t mask;

        /* Chunks (1 MiB) go from the ingest thread to the sealer and back to malloc many times
         * a second: keep them in the heap instead of a fresh mmap (and page faults) each. */
        mallopt(M_MMAP_THRESHOLD, 16 << 20);
        mallopt(M_TRIM_THRESHOLD, 64 << 20);

        while ((opt = getopt_long(argc, argv, "c:d:l:hV", opts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        config_path = optarg;
                        break;
                case 'd':
                        state_dir = optarg;
                        break;
                case 'l':
                        if (nlistens == ELEMENTSOF(listens)) {
                                fprintf(stderr, "logseald: too many --listen options\n");
                                return 2;
                        }
                        listens[nlistens++] = optarg;
                        break;
                case 'C':
                        check = 1;
                        break;
                case 'F':
                        break;
                case 'Q':
                        d.quickstart_hints = 1;
                        break;
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("logseald %s (format version %d)\n", LOGSEAL_VERSION,
                               LS_FORMAT_VERSION);
                        return 0;
                default:
                        fprintf(stderr, "Try 'logseald --help'.\n");
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "logseald: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        config_defaults(&d.cfg);
        if (config_path && config_load(&d.cfg, config_path) < 0) {
                /* --check-config goes on: every problem is reported, not only the first. */
                if (!check) {
                        config_free(&d.cfg);
                        return 2;
                }
                check = 2;
        }
        if (state_dir) {
                free(d.cfg.state_dir);
                d.cfg.state_dir = strdup(state_dir);
                d.cfg.state_dir_line = 0;
        }
        for (size_t i = 0; i < nlistens; i++) {
                r = config_add_listen(&d.cfg, listens[i], NULL);
                if (r < 0) {
                        fprintf(stderr,
                                "logseald: --listen %s: %s (use udp:HOST:PORT, tcp:HOST:PORT, "
                                "unix:PATH or unix-dgram:PATH)\n",
                                listens[i], strerror(-r));
                        config_free(&d.cfg);
                        return 2;
                }
        }
        if (check) {
                r = config_check(&d.cfg, sd_listen_fds(0) > 0);
                if (r == 0 && check == 1)
                        printf("%s: configuration OK (%zu listeners, state directory %s)\n",
                               config_path ? config_path : "(command line)", d.cfg.nlistens,
                               d.cfg.state_dir);
                config_free(&d.cfg);
                return r == 0 && check == 1 ? 0 : 2;
        }
        if (!d.cfg.state_dir) {
                fprintf(stderr, "logseald: no state directory (--state-dir, or state_dir in "
                                "[daemon])\n");
                config_free(&d.cfg);
                return 2;
        }
        if (d.cfg.nlistens == 0 && sd_listen_fds(0) <= 0) {
                fprintf(stderr, "logseald: no listeners configured (--listen, or [listen NAME] "
                                "sections)\n");
                config_free(&d.cfg);
                return 2;
        }
        if (sodium_init() < 0) {
                fprintf(stderr, "logseald: libsodium failed to initialise\n");
                return 1;
        }
        randombytes_buf(d.boot_id, sizeof(d.boot_id));
        umask(0027);

        r = sd_event_default(&d.event);
        if (r < 0)
                return 1;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGCHLD, SIG_IGN); /* publish_command children are reaped by the kernel */

        /* The index keys ingest finds, for the indexing thread (batchkeys.h); without the
         * queue, the index reads every batch back from the archives. */
        if (bk_queue_new(&d.carried) < 0)
                d.carried = NULL;
        r = start_daemon(&d);
        if (r < 0) {
                sd_notifyf(0, "STATUS=failed to start: %s\nERRNO=%d", strerror(-r), -r);
                if (!d.sealer) {
                        /* Nothing runs yet: give back what start_daemon() made (a sealing thread
                         * would still use it; then the exit does). */
                        d.pending = chunk_free(d.pending);
                        d.carried = bk_queue_free(d.carried);
                        listeners_close(&d);
                        if (d.control_src) /* else the socket may be another daemon's */
                                control_close(&d);
                        signer_free(d.signer);
                        wal_free(d.wal);
                        d.senders = senders_free(d.senders);
                        d.sources = sources_free(d.sources);
                        if (d.notify_fd >= 0)
                                close(d.notify_fd);
                        if (d.archive_dirfd >= 0)
                                close(d.archive_dirfd);
                        if (d.state_dirfd >= 0)
                                close(d.state_dirfd);
                }
                sd_event_unref(d.event);
                config_free(&d.cfg);
                return 1;
        }
        sd_event_add_signal(d.event, NULL, SIGTERM, on_signal, &d);
        sd_event_add_signal(d.event, NULL, SIGINT, on_signal, &d);
        sd_event_add_signal(d.event, NULL, SIGHUP, on_hangup, &d);
        sd_event_add_io(d.event, NULL, d.notify_fd, EPOLLIN, on_durable, &d);
        r = index_worker_start(&indexer, d.state_dirfd, d.archive_dirfd, d.chain_id,
                               d.cfg.index_fulltext, index_log, NULL);
        if (r < 0)
                fprintf(stderr, "logseald: %s; running without the search index ('logsealctl "
                                "reindex' rebuilds it)\n",
                        index_last_error(NULL));
        if (indexer)
                index_worker_carry(indexer, d.carried);
        else
                bk_queue_close(d.carried);
        {
                uint64_t now;
                sd_event_now(d.event, CLOCK_MONOTONIC, &now);
                sd_event_add_time(d.event, &tick, CLOCK_MONOTONIC, now + TICK_NS / 1000, 0,
                                  on_tick, &d);
                sd_event_source_set_enabled(tick, SD_EVENT_ON);
        }
        sd_event_set_watchdog(d.event, 1);
        sd_notify(0, "READY=1\nSTATUS=running");
        if (d.quickstart_hints) {
                char hex[2 * LS_CHAIN_ID_LEN + 1];
                ls_hex(hex, d.chain_id, LS_CHAIN_ID_LEN);
                fprintf(stderr,
                        "\nlogseald is running (chain %s). Try, in another terminal:\n"
                        "  logger -n 127.0.0.1 -P 5514 -d 'hello over UDP'\n"
                        "  logger -n 127.0.0.1 -P 5514 -T --octet-count 'hello over TCP'\n"
                        "  logger -u %s/log.sock 'hello over the unix socket'\n"
                        "Stop it with Ctrl-C (everything pending is sealed), then verify:\n"
                        "  build/quickstart/verifier/logseal-verify --root-key %s/root.pub %s/archives\n\n",
                        hex, d.cfg.state_dir, d.cfg.state_dir, d.cfg.state_dir);
        }

        r = sd_event_loop(d.event);

        /* Stopping: the sealer seals everything queued and the active archive. */
        r = sealer_stop(d.sealer);
        signer_free(d.signer); /* the signer wipes its keys and exits */
        if (indexer) {
                uint64_t carried = 0, read = 0;
                indexer = index_worker_stop(indexer, &carried, &read);
                fprintf(stderr, "logseald: indexing thread: %" PRIu64 " batches indexed with "
                                "the keys carried from ingest, %" PRIu64 " read from the archives\n",
                        carried, read);
        }
        d.carried = bk_queue_free(d.carried);
        if (r == 0) {
                (void) wal_remove_all(d.wal);
                fprintf(stderr, "logseald: stopped cleanly (%" PRIu64 " messages received)\n",
                        d.received);
        } else {
                fprintf(stderr, "logseald: stopped with unsealed records left in the WAL: the "
                                "next start recovers them\n");
        }
        wal_free(d.wal);
        d.senders = senders_free(d.senders);
        sd_event_source_unref(tick);
        sd_event_unref(d.event);
        chunk_free(d.pending);
        d.sources = sources_free(d.sources);
        config_free(&d.cfg);
        close(d.notify_fd);
        close(d.archive_dirfd);
        close(d.state_dirfd);
        return r == 0 ? 0 : 1;
}
