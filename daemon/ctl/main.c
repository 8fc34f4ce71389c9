/* SPDX-License-Identifier: Apache-2.0 */
/* logsealctl: set up and administer a logseal appliance; the verb table (the verbs are in
 * the other files of daemon/ctl/, see ctl.h) */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "ctl.h"

typedef struct Command {
        const char *name;
        int (*run)(int argc, char **argv);
} Command;

/* Each verb's synopsis (after "logsealctl ") and what it does; `logsealctl --help` lists
 * them, `logsealctl VERB --help` adds the options of the verb's table. */
typedef struct VerbDoc {
        const char *name;
        const char *synopsis;
        const char *summary;
} VerbDoc;

static const VerbDoc verbs[] = {
        {"init", "init --state-dir DIR [--root-key FILE] [--no-passphrase] [--user USER]",
         "create the state directory: chain id, root key (generated, or FILE: an\n"
         "existing root secret key), first signing key and its certificate; with\n"
         "--user (as root), read FILE as root and make DIR belong to USER, the user\n"
         "logseald runs as"},
        {"keygen", "keygen --root FILE [--no-passphrase]",
         "generate a root key offline: FILE (secret) and FILE.pub"},
        {"fingerprint", "fingerprint FILE.pub", "print a public key's id and fingerprint"},
        {"key list", "key list --state-dir DIR",
         "the key history: key ids, epochs, first batches, where each closed epoch\n"
         "ended (last batch, last record time), certifiers, status, revocations"},
        {"key export-history", "key export-history --state-dir DIR --out FILE",
         "copy the key history (certificates, revocations, epoch closes) for\n"
         "investigators' `logseal-verify --keys FILE`; FILE - is standard output"},
        {"key rotate", "key rotate --state-dir DIR --root-key FILE",
         "a new signing key certified by the root key, taken over by the running\n"
         "daemon at its next batch; the old key is erased"},
        {"key rotate-root", "key rotate-root --state-dir DIR --root-key FILE --new-root NEW.pub",
         "certify a new root key (generated offline with keygen) with the current\n"
         "one; sealed into the chain by the running daemon"},
        {"key revoke",
         "key revoke KEYID --state-dir DIR --root-key FILE --reason TEXT\n"
         "        (--from-batch N | --from-time TIME) [--out FILE]",
         "revoke a signing key with the root key; sealed into the chain by the\n"
         "running daemon and written to FILE for investigators"},
        {"status", "status --state-dir DIR",
         "the chain id, the signing key, the archives, and the running daemon's\n"
         "counters and latest checkpoint"},
        {"checkpoint", "checkpoint --state-dir DIR [--out FILE] [--since OLD [--proof FILE]]",
         "the latest signed checkpoint (C2SP signed note) from the daemon; with\n"
         "--since, a consistency proof from an older one"},
        {"reindex", "reindex --state-dir DIR [--fulltext]",
         "rebuild the search index (DIR/index/index.sqlite) from the archives"},
        {"query", "query --state-dir DIR [OPTIONS]",
         "print the messages the index selects, re-read from the archives; text\n"
         "from senders is escaped (--json keeps it exact, --raw prints it to a pipe)"},
        {"export",
         "export --state-dir DIR --case ID --examiner NAME --out DIR [OPTIONS]",
         "an evidence bundle of the selected records with their proofs and a\n"
         "custody record the daemon seals; logseal-verify checks it offline"},
        {"verify", "verify --state-dir DIR [--case ID --examiner NAME]",
         "run logseal-verify on the appliance's archives; the run is sealed into\n"
         "the chain as a custody record"},
};

/* s with each line after the first indented by `indent` spaces. */
static void print_indented(const char *s, int indent)
{
        for (; *s; s++) {
                putchar(*s);
                if (*s == '\n')
                        printf("%*s", indent, "");
        }
        putchar('\n');
}

void help(void)
{
        printf("Usage: logsealctl [--help] [--version] COMMAND [OPTIONS]\n"
               "\n"
               "Set up and administer a logseal appliance.\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                printf("  ");
                print_indented(verbs[i].synopsis, 2);
                printf("        ");
                print_indented(verbs[i].summary, 8);
        }
        printf("\n"
               "Options:\n"
               "  -h, --help               show this help\n"
               "  -V, --version            show the version\n"
               "\n"
               "'logsealctl COMMAND --help' lists the options of a command.\n"
               "Passphrases are read from the terminal, or from $" PASSPHRASE_ENV " when set.\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n"
               "See logsealctl(8).\n");
}

void verb_help(const char *cmd, const Option *opts)
{
        const VerbDoc *v = NULL;

        for (size_t i = 0; i < ELEMENTSOF(verbs) && !v; i++)
                if (!strcmp(verbs[i].name, cmd))
                        v = &verbs[i];
        if (!v) {
                help();
                return;
        }
        printf("Usage: logsealctl ");
        print_indented(v->synopsis, 0);
        printf("\n");
        print_indented(v->summary, 0);
        printf("\nOptions:\n");
        for (const Option *o = opts; o->name; o++) {
                char head[64];
                int n;

                if (o->hidden)
                        continue;
                n = snprintf(head, sizeof(head), "  %c%c%s--%s%s%s", o->short_name ? '-' : ' ',
                             o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ",
                             o->name, o->kind == OPTION_FLAG ? "" : " ",
                             o->kind == OPTION_FLAG ? "" : o->arg ? o->arg : "ARG");
                printf("%s", head);
                if (!o->help) {
                        putchar('\n');
                        continue;
                }
                if (n >= 27)
                        printf("\n%27s", "");
                else
                        printf("%*s", 27 - n, "");
                print_indented(o->help, 27);
        }
        printf("  -h, --help               show this help\n"
               "\nSee logsealctl(8).\n");
}

/* `logsealctl key --help`: the key commands. */
void key_help(void)
{
        printf("Usage: logsealctl key COMMAND [OPTIONS]\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (!strncmp(verbs[i].name, "key ", 4)) {
                        printf("  ");
                        print_indented(verbs[i].synopsis, 2);
                        printf("        ");
                        print_indented(verbs[i].summary, 8);
                }
        printf("\n'logsealctl key COMMAND --help' lists the options of a command.\n"
               "See logsealctl(8).\n");
}

static int version(void)
{
        printf("%s %s (format version %d)\n", PROG, LOGSEAL_VERSION, LS_FORMAT_VERSION);
        return 0;
}

static const Command commands[] = {
        {"init", cmd_init},
        {"keygen", cmd_keygen},
        {"key", cmd_key},
        {"fingerprint", cmd_fingerprint},
        {"status", cmd_status},
        {"reindex", cmd_reindex},
        {"query", cmd_query},
        {"export", cmd_export},
        {"verify", cmd_verify},
        {"checkpoint", cmd_checkpoint},
};

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {}};
        int opt;

        /* '+': options after the command belong to the command. */
        while ((opt = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case 'V':
                        return version();
                default:
                        return bad_option(NULL, opt, argv);
                }
        }
        if (optind >= argc)
                return usage_error("missing command");
        if (sodium_init() < 0)
                return log_error("cannot initialise libsodium");

        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (!strcmp(argv[optind], commands[i].name))
                        return commands[i].run(argc - optind, argv + optind);
        return usage_error("unknown command '%s'", argv[optind]);
}
