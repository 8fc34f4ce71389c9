/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl.h: what logsealctl's verbs share. main.c holds the verb table; each verb group has
 * its file (init.c, keys.c, status.c, reindex.c, query.c, export.c, checkpoint.c);
 * util.c has the messages, option parsing, times, files and the control socket client;
 * secret.c the passphrases and root keys.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "defs.h"
#include "keys.h"
#include "util.h"
#include "rfc3339.h"

#define PROG "logsealctl"
#define PASSPHRASE_ENV "LOGSEAL_PASSPHRASE"
#define EXIT_USAGE 2

#define SECRET_MODE 0600
#define PUBLIC_MODE 0644

DEFINE_TRIVIAL_CLEANUP_FUNC(LsKeyPair *, ls_keypair_free)
#define _cleanup_keypair_ _cleanup_(ls_keypair_freep)

/* ---- the verbs: (argc, argv) from the verb's name on; an exit status ---- */

int cmd_init(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_fingerprint(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);

/* main.c: `logsealctl --help`, `logsealctl key --help` */
void help(void);
void key_help(void);

/* ---- util.c: messages; each returns the exit status it names ---- */

/* "logsealctl: <what>: <error>" on stderr; EXIT_FAILURE. */
int log_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "logsealctl: <what>" on stderr; EXIT_FAILURE. */
int log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "logsealctl: <what>" and a pointer to --help on stderr; EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A getopt_long failure ('?' or ':' from an optstring starting with ':'); EXIT_USAGE. */
int bad_option(const char *cmd, int opt, char **argv);

/* ---- util.c: options ---- */

typedef enum OptionKind {
        OPTION_STRING,  /* const char **target: the argument */
        OPTION_FLAG,    /* int *target: set to 1; takes no argument */
        OPTION_TIME,    /* uint64_t *target: RFC 3339 or @NANOSECONDS (ls_time_parse()) */
        OPTION_LIMIT,   /* uint64_t *target: a positive number */
        OPTION_CALL,    /* parse() checks and stores the argument */
} OptionKind;

typedef struct Option Option;
struct Option {
        const char *name;       /* --name */
        char short_name;        /* -c as well, or 0 */
        OptionKind kind;
        void *target;
        /* OPTION_CALL: 0, or the usage error's exit status */
        int (*parse)(const char *cmd, const Option *o, const char *arg);
        const char **text;      /* when set: also the argument as given */
        const char *word;       /* when set: " WORDARG" is appended to the OptionWords */
        const char *arg;        /* the argument's name in the help: "DIR" */
        const char *help;       /* what the option does, for `logsealctl VERB --help` */
        int hidden;             /* parsed but not shown (an option refused by name) */
};

/* The options given, in words, in their order (query's custody record); truncated at cap. */
typedef struct OptionWords {
        char *buf;              /* NUL-terminated */
        size_t cap;
} OptionWords;

/* Arguments may follow the options: the verb checks them (from optind on). */
#define OPTIONS_ARGS 1

/*
 * Parses the options of the verb `cmd` (--help and -h are implied) into their targets;
 * opts ends with an entry without a name. Without OPTIONS_ARGS in flags, an argument after
 * them is a usage error. `words` may be NULL. Returns 0 to go on, -1 when the help was
 * shown (exit status 0), or EXIT_USAGE after a usage error: options_exit() maps it to the
 * exit status.
 */
int parse_options(const char *cmd, int argc, char **argv, const Option *opts, unsigned flags,
                  OptionWords *words);
static inline int options_exit(int r)
{
        return r < 0 ? 0 : r;
}
/* main.c: `logsealctl VERB --help` ("key list" for a key command): its synopsis and
 * description from the verb table, then the options of its Option table, so that the help
 * and the parsing cannot drift (tests/daemon/test-man.py checks logsealctl(8) against it). */
void verb_help(const char *cmd, const Option *opts);
/* 0 when no argument follows the options, else EXIT_USAGE for the first one. */
int no_arguments(const char *cmd, int argc, char **argv);

/* ---- util.c: times ---- */

uint64_t now_ns(void);
uint64_t mono_ns(void);
/* @NANOSECONDS or RFC 3339 (what query prints); -EINVAL. */

/* ---- util.c: files and the state directory ---- */

/* 1, 0 or -errno; does not follow a symbolic link. */
int exists_at(int dirfd, const char *name);
/* A new file (never replaced), durable; -errno. */
int write_new_file(const char *path, const void *p, size_t n, mode_t mode);
/* Opens DIR; 0, or EXIT_FAILURE (printed). */
int open_state_dir(const char *dir, int *ret);
/* Opens DIR, DIR/archives and loads the chain id; 0, or EXIT_FAILURE (printed). */
int open_chain(const char *dir, int *ret_dirfd, int *ret_archfd,
               uint8_t chain_id[LS_CHAIN_ID_LEN]);

/* ---- util.c: output ---- */

/* A public key's fingerprint in two lines, the first after `label`. */
void print_fingerprint(const char *label, const uint8_t pk[LS_PK_LEN]);
/* A string member of a JSON object, "" when there is none. */
const char *json_str(json_t *o, const char *k);
/* The index's log lines on stderr. */
void index_log_stderr(void *ud, int level, const char *msg);

/* ---- util.c: the running daemon, over STATE/control.sock ---- */

/* Sends one command line; its JSON answer (json_decref() it) in *ret; -errno (-ENOENT or
 * -ECONNREFUSED: the daemon is not running; -EBADMSG: the answer is not JSON). */
int daemon_call(const char *dir, const char *line, json_t **ret);
/* The same; NULL for any failure. */
json_t *daemon_request(const char *dir, const char *line);
/* "VERB HEX\n" (malloc'd), HEX the bytes p..p+n; NULL when out of memory. */
char *hex_line(const char *verb, const void *p, size_t n);
/* daemon_request() of hex_line(); NULL for any failure. */
json_t *daemon_request_hex(const char *dir, const char *verb, const void *p, size_t n);
/*
 * Has the running daemon seal a custody record (SPEC §4.2) of an action; a warning when it
 * cannot (the action itself already happened). `count` UINT64_MAX and NULL strings are
 * left out.
 */
int seal_custody_note(const char *dir, uint16_t action, const char *case_id,
                      const char *examiner, const char *filter, uint64_t count,
                      const char *text);

/* ---- secret.c: passphrases and root keys ---- */

/* Guarded memory (sodium_malloc), wiped on free. */
void *secret_free(void *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(void *, secret_free)
#define _cleanup_secret_ _cleanup_(secret_freep)

/* The root public key file's text. */
int format_pubkey(char out[LS_PUBKEY_TEXT_MAX], const LsKeyPair *k);
/* A new root key and its secret key file (in guarded memory); 0 or EXIT_FAILURE. */
int make_root_key(int no_passphrase, LsKeyPair **ret_key, void **ret_secret,
                  char pub[LS_PUBKEY_TEXT_MAX]);
/* Loads a root secret key file, asking for its passphrase; 0 or EXIT_FAILURE. */
int load_root_key(const char *path, LsKeyPair **ret);
