/* SPDX-License-Identifier: Apache-2.0 */
/* util.c: what logsealctl's verbs share: messages, options, times, files, output and the
 * client of the daemon's control socket */

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "control.h"
#include "ctl.h"
#include "export-bundle.h"
#include "hash.h"
#include "index.h"
#include "keys.h"
#include "state.h"

/* strerror() of the library's format error classes reads badly; say what they mean here. */
static const char *errmsg(int r)
{
        switch (-r) {
        case EBADMSG:
                return "malformed file";
        case ENODATA:
                return "truncated file";
        case E2BIG:
                return "file too large";
        case EPROTONOSUPPORT:
                return "unsupported format version";
        case EKEYREJECTED:
                return "wrong passphrase or damaged key file";
        case ENOKEY:
                /* From ls_seckey_decode(); callers of state_find_cert() say their own. */
                return "the key needs a passphrase";
        default:
                return strerror(-r);
        }
}

/* "logsealctl: " and the message, without its end. */
static void log_begin(const char *fmt, va_list ap)
{
        fputs(PROG ": ", stderr);
        vfprintf(stderr, fmt, ap);
}

int log_errno(int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_begin(fmt, ap);
        va_end(ap);
        fprintf(stderr, ": %s\n", errmsg(r));
        return EXIT_FAILURE;
}

int log_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_begin(fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_FAILURE;
}

/* The verb whose options are being parsed or checked ("key revoke"): its --help is the one a
 * usage error points to. */
static const char *usage_verb;

int usage_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_begin(fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry '" PROG "%s%s --help'.\n", usage_verb ? " " : "",
                usage_verb ? usage_verb : "");
        return EXIT_USAGE;
}

/* Reports a getopt_long failure ('?' or ':' from an optstring starting with ':'). */
int bad_option(const char *cmd, int opt, char **argv)
{
        const char *arg = argv[optind - 1], *sep = cmd ? ": " : "";

        cmd = cmd ? cmd : "";
        if (opt == ':')
                return usage_error("%s%soption %s needs an argument", cmd, sep, arg);
        if (optopt > 0 && optopt < 128 && isalnum(optopt))
                return usage_error("%s%sunknown option -%c", cmd, sep, optopt);
        return usage_error("%s%sunknown option %s", cmd, sep, arg);
}

/* OPTION_TIME and OPTION_LIMIT (--from/--to and --limit): 0, or the usage error's exit status. */
static int time_option(const char *cmd, const char *name, const char *arg, uint64_t *ret)
{
        if (ls_time_parse(arg, ret) < 0)
                return usage_error("%s: --%s: '%s' is not a time (RFC 3339 such as "
                                   "2026-01-01T00:00:00Z, or @NANOSECONDS)",
                                   cmd, name, arg);
        return 0;
}

static int limit_option(const char *cmd, const char *arg, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(arg, &end, 10);
        if (errno || *end || arg[0] < '0' || arg[0] > '9' || v == 0)
                return usage_error("%s: --limit: '%s' is not a positive number", cmd, arg);
        *ret = v;
        return 0;
}

/* What getopt_long() returns for the option: its letter, or 256 + its index. */
static int option_val(const Option *opts, size_t i)
{
        return opts[i].short_name ? opts[i].short_name : 256 + (int) i;
}

static int option_set(const char *cmd, const Option *o, const char *arg)
{
        switch (o->kind) {
        case OPTION_STRING:
                *(const char **) o->target = arg;
                return 0;
        case OPTION_FLAG:
                *(int *) o->target = 1;
                return 0;
        case OPTION_TIME:
                return time_option(cmd, o->name, arg, o->target);
        case OPTION_LIMIT:
                return limit_option(cmd, arg, o->target);
        case OPTION_CALL:
                return o->parse(cmd, o, arg);
        }
        abort(); /* not an OptionKind */
}

#define OPTIONS_MAX 24

int parse_options(const char *cmd, int argc, char **argv, const Option *opts, unsigned flags,
                  OptionWords *words)
{
        struct option lo[OPTIONS_MAX + 2];
        char optstring[2 * OPTIONS_MAX + 3] = ":";
        size_t n, k = 1;
        int opt, r;

        for (n = 0; opts[n].name; n++) {
                int arg = opts[n].kind == OPTION_FLAG ? no_argument : required_argument;

                assert(n < OPTIONS_MAX);
                lo[n] = (struct option){opts[n].name, arg, NULL, option_val(opts, n)};
                if (opts[n].short_name) {
                        optstring[k++] = opts[n].short_name;
                        if (arg == required_argument)
                                optstring[k++] = ':';
                }
        }
        lo[n] = (struct option){"help", no_argument, NULL, 'h'};
        lo[n + 1] = (struct option){};
        optstring[k++] = 'h';
        optstring[k] = 0;

        usage_verb = cmd;
        optind = 0;
        while ((opt = getopt_long(argc, argv, optstring, lo, NULL)) != -1) {
                size_t i = 0;

                if (opt == 'h') {
                        verb_help(cmd, opts);
                        return -1;
                }
                while (i < n && option_val(opts, i) != opt)
                        i++;
                if (i == n)
                        return bad_option(cmd, opt, argv);
                r = option_set(cmd, &opts[i], optarg);
                if (r != 0)
                        return r;
                if (opts[i].text)
                        *opts[i].text = optarg;
                if (opts[i].word && words) {
                        size_t len = strlen(words->buf);
                        snprintf(words->buf + len, words->cap - len, " %s%s", opts[i].word,
                                 optarg);
                }
        }
        return flags & OPTIONS_ARGS ? 0 : no_arguments(cmd, argc, argv);
}

int no_arguments(const char *cmd, int argc, char **argv)
{
        if (optind < argc)
                return usage_error("%s: unexpected argument '%s'", cmd, argv[optind]);
        return 0;
}

uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

uint64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

int exists_at(int dirfd, const char *name)
{
        struct stat st;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return 1;
        return errno == ENOENT ? 0 : -errno;
}

/*
 * Creates a file that must not exist yet (O_EXCL): a key is never replaced
 * by accident. Durable: file and directory are fsync'd.
 */
int write_new_file(const char *path, const void *p, size_t n, mode_t mode)
{
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int dfd = -1, fd = -1;
        int r;

        if (!copy)
                return -ENOMEM;
        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, p, n);
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(path);
                return r;
        }
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

int open_state_dir(const char *dir, int *ret)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return log_errno(-errno, "%s", dir);
        *ret = fd;
        return 0;
}

/* Opens DIR, DIR/archives and loads the chain id. */
int open_chain(const char *dir, int *ret_dirfd, int *ret_archfd,
                      uint8_t chain_id[LS_CHAIN_ID_LEN])
{
        _cleanup_close_ int dirfd = -1, archfd = -1;
        int r;

        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        r = state_load_chain_id(dirfd, chain_id);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_CHAIN_ID);
        archfd = openat(dirfd, STATE_ARCHIVES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (archfd < 0)
                return log_errno(-errno, "%s/%s", dir, STATE_ARCHIVES);
        *ret_dirfd = TAKE_FD(dirfd);
        *ret_archfd = TAKE_FD(archfd);
        return 0;
}

void print_fingerprint(const char *label, const uint8_t pk[LS_PK_LEN])
{
        char fp[LS_FINGERPRINT_LEN];
        int w = (int) strlen(label);

        /* 16 groups of four: two lines of eight, to read out over the phone. */
        ls_fingerprint(fp, pk);
        printf("%s%.39s\n%*s%s\n", label, fp, w, "", fp + 40);
}

const char *json_str(json_t *o, const char *k)
{
        const char *v = json_string_value(json_object_get(o, k));
        return v ? v : "";
}

void index_log_stderr(void *ud, int level, const char *msg)
{
        (void) ud;
        fprintf(stderr, PROG ": %s%s\n", level <= INDEX_LOG_WARNING ? "warning: " : "", msg);
}

int daemon_call(const char *dir, const char *line, json_t **ret)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        static char buf[65536];
        size_t len = 0;
        int fd, r;

        *ret = NULL;
        r = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, STATE_CONTROL);
        if (r < 0 || (size_t) r >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                r = -errno;
        else
                r = write_all(fd, line, strlen(line));
        if (r < 0) {
                close(fd);
                return r;
        }
        for (;;) {
                ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
                if (k <= 0 || (len += (size_t) k) == sizeof(buf) - 1)
                        break;
        }
        close(fd);
        buf[len] = 0;
        *ret = json_loads(buf, 0, NULL);
        return *ret ? 0 : -EBADMSG;
}

json_t *daemon_request(const char *dir, const char *line)
{
        json_t *reply;

        (void) daemon_call(dir, line, &reply);
        return reply;
}

char *hex_line(const char *verb, const void *p, size_t n)
{
        size_t k = strlen(verb);
        char *line = malloc(k + 2 * n + 3);

        if (!line)
                return NULL;
        memcpy(line, verb, k);
        line[k] = ' ';
        ls_hex(line + k + 1, p, n);
        strcpy(line + k + 1 + 2 * n, "\n");
        return line;
}

json_t *daemon_request_hex(const char *dir, const char *verb, const void *p, size_t n)
{
        _cleanup_free_ char *line = hex_line(verb, p, n);

        return line ? daemon_request(dir, line) : NULL;
}

/*
 * A custody record (SPEC §4.2) of an action on the appliance, sealed by the running daemon.
 * Without a daemon it cannot be sealed: say so (the action itself already happened).
 */
int seal_custody_note(const char *dir, uint16_t action, const char *case_id,
                             const char *examiner, const char *filter, uint64_t count,
                             const char *text)
{
        LsControlBuilder *b = malloc(sizeof(*b));
        const uint8_t *body;
        size_t len;
        char *line, command[CUSTODY_COMMAND_MAX + 1];
        json_t *reply;
        int r;

        if (!b)
                return -ENOMEM;
        ls_control_begin(b, LS_CTL_CUSTODY);
        if (count != UINT64_MAX)
                ls_control_add_u64(b, LS_TAG_COUNT, count);
        if (text)
                ls_control_add_str(b, LS_TAG_TEXT, text);
        if (case_id)
                ls_control_add_str(b, LS_TAG_CASE_ID, case_id);
        if (examiner)
                ls_control_add_str(b, LS_TAG_EXAMINER, examiner);
        if (filter)
                ls_control_add_str(b, LS_TAG_FILTER, filter);
        ls_control_add_u16(b, LS_TAG_ACTION, action);
        custody_command_line(command, sizeof(command)); /* SPEC §4.4: COMMAND */
        ls_control_add_str(b, LS_TAG_COMMAND, command);
        r = ls_control_end(b, &body, &len);
        line = r == 0 ? hex_line("custody", body, len) : NULL;
        free(b);
        if (!line) {
                fprintf(stderr, PROG ": warning: custody record not sealed: %s\n",
                        strerror(r < 0 ? -r : ENOMEM));
                return r < 0 ? r : -ENOMEM;
        }
        reply = daemon_request(dir, line);
        free(line);
        if (!reply || !json_is_true(json_object_get(reply, "ok"))) {
                fprintf(stderr, PROG ": warning: the custody record (%s) was NOT sealed "
                                "(logseald %s)\n",
                        ls_custody_action_name(action),
                        reply ? json_string_value(json_object_get(reply, "error")) ?: "refused"
                              : "is not running");
                json_decref(reply);
                return -ENOTCONN;
        }
        json_decref(reply);
        fprintf(stderr, PROG ": custody record (%s) sealed into the chain\n",
                ls_custody_action_name(action));
        return 0;
}
