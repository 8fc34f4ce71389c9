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

void help(void)
{
        printf("Usage: logsealctl [--help] [--version] COMMAND [OPTIONS]\n"
               "\n"
               "Set up and administer a logseal appliance.\n"
               "\n"
               "Commands:\n"
               "  init --state-dir DIR [--root-key FILE] [--no-passphrase] [--user USER]\n"
               "        create the state directory: chain id, root key (generated, or FILE:\n"
               "        an existing root secret key), first signing key and its certificate;\n"
               "        with --user (as root), read FILE as root and make DIR belong to USER,\n"
               "        the user logseald runs as\n"
               "  keygen --root FILE [--no-passphrase]\n"
               "        generate a root key offline: FILE (secret) and FILE.pub\n"
               "  key export-history --state-dir DIR --out FILE\n"
               "        copy the key history (certificates, revocations, epoch closes) for\n"
               "        investigators' `logseal-verify --keys FILE`; FILE - is standard output\n"
               "  fingerprint FILE.pub\n"
               "        print a public key's id and fingerprint\n"
               "  key list --state-dir DIR\n"
               "        the key history: key ids, epochs, first batches, where each closed\n"
               "        epoch ended (last batch, last record time), certifiers, status\n"
               "  key rotate --state-dir DIR --root-key FILE\n"
               "        a new signing key certified by the root key, taken over by the\n"
               "        running daemon at its next batch; the old key is erased\n"
               "  key rotate-root --state-dir DIR --root-key FILE --new-root NEW.pub\n"
               "        certify a new root key (generated offline with keygen) with the\n"
               "        current one; sealed into the chain by the running daemon\n"
               "  key revoke KEYID --state-dir DIR --root-key FILE --reason TEXT\n"
               "        (--from-batch N | --from-time TIME) [--out FILE]\n"
               "        revoke a signing key with the root key; sealed into the chain by\n"
               "        the running daemon and written to FILE for investigators\n"
               "  status --state-dir DIR\n"
               "        the chain id, the signing key, the archives, and the running\n"
               "        daemon's counters and latest checkpoint\n"
               "  checkpoint --state-dir DIR [--out FILE] [--since OLD [--proof FILE]]\n"
               "        the latest signed checkpoint (C2SP signed note) from the daemon\n"
               "  reindex --state-dir DIR [--fulltext]\n"
               "        rebuild the search index (DIR/index/index.sqlite) from the archives\n"
               "  export --state-dir DIR --case ID --examiner NAME --out DIR [--tar FILE]\n"
               "        [--host H] [--app A] [--from TIME] [--to TIME] [--limit N]\n"
               "        an evidence bundle of the selected records with their proofs and\n"
               "        a custody record the daemon seals; logseal-verify checks it offline\n"
               "  verify --state-dir DIR [--case ID --examiner NAME]\n"
               "        run logseal-verify on the appliance's archives; the run is sealed\n"
               "        into the chain as a custody record\n"
               "  query --state-dir DIR [--host H] [--app A] [--from TIME] [--to TIME]\n"
               "        [--facility F] [--severity S] [--seq A-B] [--grep TEXT]\n"
               "        [--match WORDS] [--text|--json] [--case ID --examiner NAME]\n"
               "        [--limit N] [--json]\n"
               "        print the messages the index selects, re-read from the archives\n"
               "\n"
               "Options:\n"
               "  -d, --state-dir DIR      the appliance's state directory\n"
               "  -r, --root-key FILE      (init) use this root secret key instead of\n"
               "                           generating one in DIR/root.key\n"
               "      --root FILE          (keygen) where to write the new root secret key\n"
               "  -o, --out FILE           (key export-history) output file\n"
               "      --no-passphrase      do not protect a new root key with a passphrase\n"
               "      --host H, --app A    (query) messages of this host name / app name\n"
               "      --from TIME          (query) received at or after TIME: RFC 3339\n"
               "                           (2026-01-01T00:00:00Z) or @NANOSECONDS\n"
               "      --to TIME            (query) received before TIME\n"
               "  -n, --limit N            (query) at most N messages\n"
               "      --json               (query) JSON lines instead of raw messages\n"
               "  -h, --help               show this help\n"
               "  -V, --version            show the version\n"
               "\n"
               "Passphrases are read from the terminal, or from $" PASSPHRASE_ENV " when set.\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n"
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
