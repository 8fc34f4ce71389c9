/* SPDX-License-Identifier: Apache-2.0 */
/* forge: byte-valid forgeries of logseal evidence from real appliance output and a stolen key */

/*
 * The attacker of issue 12 (tests/forgery/README.md): read/write access to the files handed to an
 * investigator and a signing key file of an epoch that has ended (STATE/keys/signing.key copied
 * from a backup while that epoch was current). No current key, no root key.
 *
 * Every forgery is built with the formats library and then read back and checked the way a
 * verifier checks structure and signatures (decode, signature under the stolen key, payload
 * hash, leaves, Merkle roots, proofs, seal content hash), so that only the trust rules can catch
 * it. A forgery that fails its own check is not written off as "caught": the tool exits 1.
 */
#include "forge.h"

/* ---- options ---- */

static void usage(FILE *o)
{
        fputs("usage: forge COMMAND [OPTIONS] [ARCHIVE...]   (archives: genuine, from archive 0, "
              "in order)\n"
              "  info ARCHIVE...                         JSON per archive: batches, epochs, keys, "
              "control records\n"
              "  old-epoch-archive --key K --out DIR [--days N] [--records N] [--handover] "
              "ARCHIVE...\n"
              "        the next batch after the archives, dated N days (365) after their last "
              "record,\n"
              "        signed with K, as a sealed archive linked to the last one, written into "
              "DIR;\n"
              "        --handover: K certifies a new key of the forger's, which signs one more "
              "batch\n"
              "  old-epoch-bundle --key K --keys HISTORY --out DIR [--days N] [--records N] "
              "ARCHIVE...\n"
              "        the same forged batch as an evidence bundle; keys.lsk = HISTORY\n"
              "  foreign-chain --key K --keys HISTORY --chain-id HEX --out DIR [--bundle DIR2] "
              "[--time NS]\n"
              "        a chain with chain id HEX signed by K (another appliance's key, certified "
              "for\n"
              "        that appliance's chain in HISTORY); optionally a bundle of its batch 1\n"
              "  checkpoint-3line --key K [--old OLD] --out NEW [--proof P] [--records N] "
              "[--batch B] ARCHIVE...\n"
              "        NEW extends the genuine checkpoint OLD (default: the end of the archives) "
              "by N\n"
              "        fabricated leaves, signed with K,\n"
              "        without the logseal-batch-v1 line (with --batch B: a 4-line checkpoint "
              "of a\n"
              "        forged batch B); P (default NEW.proof): the consistency proof OLD -> NEW\n"
              "  checkpoint-wrong-key --key K --batch B --out FILE [--fork] ARCHIVE...\n"
              "        a 4-line checkpoint of genuine batch B signed with K (with --fork: of "
              "another\n"
              "        batch B of the same tree size)\n"
              "  unsigned-checkpoint --out FILE [--grow N] [--fork] ARCHIVE...\n"
              "        a checkpoint signed by a random key, N (1000) records beyond the last "
              "batch\n"
              "        (with --fork: at the last batch's size, another root)\n"
              "  emulate-close --key K1 --epoch 0 --out FILE ARCHIVE...   (not a forgery)\n"
              "        the epoch close of epoch 0 the appliance would write, signed with the "
              "genuine\n"
              "        epoch-1 key K1 (SPEC §9.4), for a key history\n"
              "  rogue-cert --key K --out FILE ARCHIVE...\n"
              "        a certificate of a key of the forger's for the epoch after K's, signed "
              "with K,\n"
              "        from where that epoch starts in the archives, for a key history\n",
              o);
}

static int parse_u64(const char *s, uint64_t *ret)
{
        char *end;

        errno = 0;
        *ret = strtoull(s, &end, 10);
        return errno || end == s || *end ? -EINVAL : 0;
}

static int parse_opts(int argc, char **argv, Opts *o)
{
        enum {
                O_KEYS = 256,
                O_BUNDLE,
                O_OLD,
                O_PROOF,
                O_BATCH,
                O_FORK,
                O_RECORDS,
                O_DAYS,
                O_CHAIN,
                O_HOST,
                O_TIME,
                O_GROW,
                O_HANDOVER,
                O_EPOCH
        };
        static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                             {"keys", required_argument, NULL, O_KEYS},
                                             {"out", required_argument, NULL, 'o'},
                                             {"bundle", required_argument, NULL, O_BUNDLE},
                                             {"old", required_argument, NULL, O_OLD},
                                             {"proof", required_argument, NULL, O_PROOF},
                                             {"batch", required_argument, NULL, O_BATCH},
                                             {"fork", no_argument, NULL, O_FORK},
                                             {"records", required_argument, NULL, O_RECORDS},
                                             {"days", required_argument, NULL, O_DAYS},
                                             {"chain-id", required_argument, NULL, O_CHAIN},
                                             {"host", required_argument, NULL, O_HOST},
                                             {"time", required_argument, NULL, O_TIME},
                                             {"grow", required_argument, NULL, O_GROW},
                                             {"handover", no_argument, NULL, O_HANDOVER},
                                             {"epoch", required_argument, NULL, O_EPOCH},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        int c;

        *o = (Opts){.records = 4, .days = 365, .grow = 1000, .host = "forgery-a"};
        optind = 1;
        while ((c = getopt_long(argc, argv, "k:o:h", opts, NULL)) != -1) {
                int r = 0;
                switch (c) {
                case 'k':
                        o->key = optarg;
                        break;
                case O_KEYS:
                        o->keys = optarg;
                        break;
                case 'o':
                        o->out = optarg;
                        break;
                case O_BUNDLE:
                        o->bundle = optarg;
                        break;
                case O_OLD:
                        o->old = optarg;
                        break;
                case O_PROOF:
                        o->proof = optarg;
                        break;
                case O_BATCH:
                        r = parse_u64(optarg, &o->batch);
                        o->have_batch = 1;
                        break;
                case O_FORK:
                        o->fork = 1;
                        break;
                case O_RECORDS:
                        r = parse_u64(optarg, &o->records);
                        if (r == 0 && (o->records == 0 || o->records > 64))
                                r = -ERANGE;
                        break;
                case O_DAYS:
                        r = parse_u64(optarg, &o->days);
                        break;
                case O_CHAIN:
                        o->chain_id = optarg;
                        break;
                case O_HOST:
                        o->host = optarg;
                        break;
                case O_TIME:
                        r = parse_u64(optarg, &o->time_ns);
                        break;
                case O_GROW:
                        r = parse_u64(optarg, &o->grow);
                        break;
                case O_HANDOVER:
                        o->handover = 1;
                        break;
                case O_EPOCH:
                        r = parse_u64(optarg, &o->epoch);
                        o->have_epoch = 1;
                        break;
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
                if (r < 0)
                        return log_err(r, "bad option value '%s'", optarg);
        }
        return 0;
}

int need(const char *what, const char *v)
{
        if (!v)
                return log_err(0, "%s is required (forge --help)", what);
        return 0;
}

/* ---- commands ---- */

static int cmd_info(Forge *f, int n, char **paths)
{
        return load_chain(f, paths, n, 1);
}

int main(int argc, char **argv)
{
        Forge f;
        Opts o;
        const char *cmd;
        int r;

        if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
                usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        if (sodium_init() < 0)
                return 1;
        cmd = argv[1];
        if (parse_opts(argc - 1, argv + 1, &o) < 0)
                return 2;
        if (forge_init(&f) < 0)
                return 1;
        argc -= 1 + optind;
        argv += 1 + optind;
        if (!strcmp(cmd, "info"))
                r = cmd_info(&f, argc, argv);
        else if (!strcmp(cmd, "old-epoch-archive"))
                r = cmd_old_epoch(&f, &o, argc, argv, 0);
        else if (!strcmp(cmd, "old-epoch-bundle"))
                r = cmd_old_epoch(&f, &o, argc, argv, 1);
        else if (!strcmp(cmd, "foreign-chain"))
                r = cmd_foreign_chain(&f, &o);
        else if (!strcmp(cmd, "checkpoint-3line"))
                r = cmd_checkpoint_3line(&f, &o, argc, argv);
        else if (!strcmp(cmd, "checkpoint-wrong-key"))
                r = cmd_checkpoint_wrong_key(&f, &o, argc, argv);
        else if (!strcmp(cmd, "unsigned-checkpoint"))
                r = cmd_unsigned_checkpoint(&f, &o, argc, argv);
        else if (!strcmp(cmd, "emulate-close"))
                r = cmd_emulate_close(&f, &o, argc, argv);
        else if (!strcmp(cmd, "rogue-cert"))
                r = cmd_rogue_cert(&f, &o, argc, argv);
        else {
                usage(stderr);
                r = -EINVAL;
        }
        forge_done(&f);
        return r < 0 ? 1 : 0;
}