/* SPDX-License-Identifier: Apache-2.0 */
/* keys.c: `logsealctl key list|rotate|rotate-root|revoke|export-history` and `fingerprint` */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"
#include "hash.h"
#include "keys.h"
#include "magic.h"
#include "state.h"
#include "text.h"

#define HISTORY_EXPORT_MAX (64u << 20)

static int cmd_key_export_history(int argc, char **argv)
{
        static const uint8_t no_such_key[LS_KEY_ID_LEN];
        const char *dir = NULL, *out = NULL;
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {"out", 'o', OPTION_STRING, &out, .arg = "FILE",
                 .help = "where to write the history; - is standard output"},
                {}};
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ uint8_t *p = NULL;
        LsCert unused;
        size_t n = 0;
        int r;

        r = parse_options("key export-history", argc, argv, opts, 0, NULL);
        if (r != 0)
                return options_exit(r);
        if (!dir || !out)
                return usage_error("key export-history: --state-dir DIR and --out FILE are "
                                   "required");
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;

        r = read_file_at(dirfd, STATE_HISTORY, HISTORY_EXPORT_MAX, &p, &n);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_HISTORY);
        /*
         * Hand investigators nothing the verifier would reject as a whole:
         * looking up a key id that is in no history walks and checks every
         * item (state.h has no validate-only call).
         */
        r = state_find_cert(dirfd, no_such_key, &unused);
        if (r < 0 && r != -ENOKEY)
                return log_errno(r, "%s/%s", dir, STATE_HISTORY);
        if (n == 0)
                return log_error("%s/%s is empty", dir, STATE_HISTORY);

        if (!strcmp(out, "-")) {
                r = write_all(STDOUT_FILENO, p, n);
                if (r < 0)
                        return log_errno(r, "standard output");
                return 0;
        }
        r = write_file_atomic(AT_FDCWD, out, p, n, PUBLIC_MODE);
        if (r < 0)
                return log_errno(r, "%s", out);
        printf("Exported %s/%s (%zu bytes) to %s.\n"
               "Investigators pass it to: logseal-verify --root-key ROOT.pub --keys %s ...\n",
               dir, STATE_HISTORY, n, out, out);
        return 0;
}

/* Walks keys/history.lsk: certificates, revocations and epoch closes (SPEC §10.3). */
typedef struct HistoryItem {
        char kind;                      /* LS_MAGIC_CERT, LS_MAGIC_REVOCATION or LS_MAGIC_CLOSE */
        LsCert cert;
        LsRevocation rev;
        LsEpochClose close;
} HistoryItem;

static int read_history(int dirfd, uint8_t **ret, size_t *ret_len)
{
        return read_file_at(dirfd, STATE_HISTORY, 64u << 20, ret, ret_len);
}

static int history_next(const uint8_t *p, size_t n, size_t *off, HistoryItem *it)
{
        if (*off == n)
                return 0;
        if (n - *off >= LS_MAGIC_LEN && ls_magic_check(p + *off, LS_MAGIC_CERT)) {
                if (ls_cert_decode(&it->cert, p + *off, MIN(n - *off, (size_t) LS_CERT_LEN)) < 0)
                        return -EBADMSG;
                it->kind = LS_MAGIC_CERT;
                *off += LS_CERT_LEN;
                return 1;
        }
        if (n - *off >= LS_MAGIC_LEN && ls_magic_check(p + *off, LS_MAGIC_CLOSE)) {
                if (ls_close_decode(&it->close, p + *off, MIN(n - *off, (size_t) LS_CLOSE_LEN)) < 0)
                        return -EBADMSG;
                it->kind = LS_MAGIC_CLOSE;
                *off += LS_CLOSE_LEN;
                return 1;
        }
        if (n - *off >= LS_REVOCATION_FIXED_LEN && ls_magic_check(p + *off, LS_MAGIC_REVOCATION)) {
                size_t len = LS_REVOCATION_FIXED_LEN + ls_get16(p + *off + 10);
                if (len > n - *off || ls_revocation_decode(&it->rev, p + *off, len) < 0)
                        return -EBADMSG;
                it->kind = LS_MAGIC_REVOCATION;
                *off += len;
                return 1;
        }
        return -EBADMSG;
}

static int close_cmp(const void *a, const void *b)
{
        return memcmp(((const LsEpochClose *) a)->closed_key_id,
                      ((const LsEpochClose *) b)->closed_key_id, LS_KEY_ID_LEN);
}

static int close_key_cmp(const void *key, const void *elem)
{
        return memcmp(key, ((const LsEpochClose *) elem)->closed_key_id, LS_KEY_ID_LEN);
}

static int cmd_key_list(int argc, char **argv)
{
        const char *dir = NULL;
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {}};
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ uint8_t *p = NULL;
        LsKeyPair *cur = NULL;
        size_t n = 0, off = 0;
        HistoryItem it;
        int r;

        /* Arguments after the options are not looked at. */
        r = parse_options("key list", argc, argv, opts, OPTIONS_ARGS, NULL);
        if (r != 0)
                return options_exit(r);
        if (!dir)
                return usage_error("key list: --state-dir DIR is required");
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        r = read_history(dirfd, &p, &n);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_HISTORY);
        (void) state_load_signing_key(dirfd, &cur);
        /* Revocations and closes first, so each key's line can say so. */
        LsRevocation revs[256];
        size_t nrev = 0, nclose = 0;
        _cleanup_free_ LsEpochClose *closes = NULL;
        while ((r = history_next(p, n, &off, &it)) > 0)
                if (it.kind == LS_MAGIC_REVOCATION && nrev < ELEMENTSOF(revs))
                        revs[nrev++] = it.rev;
                else if (it.kind == LS_MAGIC_CLOSE)
                        nclose++;
        if (r < 0) {
                ls_keypair_free(cur);
                return log_errno(r, "%s/%s: offset %zu", dir, STATE_HISTORY, off);
        }
        closes = calloc(MAX(nclose, (size_t) 1), sizeof(*closes));
        if (!closes) {
                ls_keypair_free(cur);
                return log_errno(-ENOMEM, "%s/%s", dir, STATE_HISTORY);
        }
        nclose = 0;
        off = 0;
        while (history_next(p, n, &off, &it) > 0)
                if (it.kind == LS_MAGIC_CLOSE)
                        closes[nclose++] = it.close;
        /* By the key they close: one lookup per key, whatever the length of the history. */
        qsort(closes, nclose, sizeof(*closes), close_cmp);
        printf("%-16s  %-7s  %5s  %10s  %10s  %-30s  %-16s  %s\n", "KEY ID", "ROLE", "EPOCH",
               "FROM BATCH", "LAST BATCH", "ENDED (LAST RECORD, UTC)", "CERTIFIED BY", "STATUS");
        off = 0;
        while (history_next(p, n, &off, &it) > 0) {
                char id[17], iss[17], last[24] = "-", ended[48] = "-";
                const char *status;
                const LsEpochClose *x;
                if (it.kind != LS_MAGIC_CERT)
                        continue;
                ls_hex(id, it.cert.key_id, LS_KEY_ID_LEN);
                ls_hex(iss, it.cert.issuer_key_id, LS_KEY_ID_LEN);
                status = it.cert.kind == LS_CERT_ROOT ? "trusted root (secret offline)" :
                         cur && !memcmp(cur->key_id, it.cert.key_id, LS_KEY_ID_LEN) ?
                                                        "active" :
                                                        "retired, secret erased";
                for (size_t i = 0; i < nrev; i++)
                        if (!memcmp(revs[i].revoked_key_id, it.cert.key_id, LS_KEY_ID_LEN))
                                status = "REVOKED";
                /* The close its successor signed (SPEC §9.4): where the epoch ended. */
                x = it.cert.kind == LS_CERT_SIGNING ?
                            bsearch(it.cert.key_id, closes, nclose, sizeof(*closes), close_key_cmp) :
                            NULL;
                if (x && x->closed_epoch == it.cert.epoch &&
                    !memcmp(x->chain_id, it.cert.chain_id, LS_CHAIN_ID_LEN)) {
                        snprintf(last, sizeof(last), "%" PRIu64, x->last_batch_no);
                        ls_time_format(ended, sizeof(ended), x->max_time_ns);
                }
                printf("%-16s  %-7s  %5" PRIu64 "  %10" PRIu64 "  %10s  %-30s  %-16s  %s\n", id,
                       it.cert.kind == LS_CERT_ROOT ? "root" : "signing", it.cert.epoch,
                       it.cert.valid_from_batch, last, ended, iss, status);
        }
        for (size_t i = 0; i < nrev; i++) {
                char id[17], t[64];
                ls_hex(id, revs[i].revoked_key_id, LS_KEY_ID_LEN);
                if (revs[i].from_batch != LS_UNSET)
                        printf("revocation: %s from batch %" PRIu64 ": ", id, revs[i].from_batch);
                else {
                        ls_time_format(t, sizeof(t), revs[i].from_time_ns);
                        printf("revocation: %s from time %s: ", id, t);
                }
                /* The reason is the revoker's text: escaped like log text (text.h). */
                ls_text_write(stdout, (const uint8_t *) revs[i].reason, revs[i].reason_len);
                putchar('\n');
        }
        ls_keypair_free(cur);
        return 0;
}

static int from_batch_option(const char *cmd, const Option *o, const char *arg)
{
        if (sscanf(arg, "%" SCNu64, (uint64_t *) o->target) != 1)
                return usage_error("%s: --from-batch takes a number", cmd);
        return 0;
}

static int from_time_option(const char *cmd, const Option *o, const char *arg)
{
        if (ls_time_parse(arg, o->target) < 0)
                return usage_error("%s: bad --from-time '%s'", cmd, arg);
        return 0;
}

static int cmd_key_revoke(int argc, char **argv)
{
        const char *dir = NULL, *reason = NULL, *root_file = NULL, *out = NULL, *keyid;
        _cleanup_close_ int dirfd = -1;
        LsRevocation rv = {.from_batch = LS_UNSET, .from_time_ns = LS_UNSET};
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {"from-batch", 0, OPTION_CALL, &rv.from_batch, from_batch_option, .arg = "N",
                 .help = "untrusted from batch N on"},
                {"from-time", 0, OPTION_CALL, &rv.from_time_ns, from_time_option,
                 .arg = "TIME",
                 .help = "untrusted for batches sealed from TIME on (RFC 3339\n"
                         "or @NANOSECONDS)"},
                {"reason", 0, OPTION_STRING, &reason, .arg = "TEXT",
                 .help = "why, in words (sealed with the revocation)"},
                {"root-key", 0, OPTION_STRING, &root_file, .arg = "FILE",
                 .help = "the root secret key that signs the revocation"},
                {"out", 0, OPTION_STRING, &out, .arg = "FILE",
                 .help = "also write the revocation here, for investigators"},
                {}};
        LsKeyPair *root = NULL;
        LsSigner s;
        uint8_t enc[LS_REVOCATION_MAX_LEN];
        size_t len;
        int r;

        r = parse_options("key revoke", argc, argv, opts, OPTIONS_ARGS, NULL);
        if (r != 0)
                return options_exit(r);
        if (optind + 1 != argc)
                return usage_error("key revoke: give exactly one KEYID");
        keyid = argv[optind];
        if (!dir || !root_file || !reason)
                return usage_error("key revoke: --state-dir, --root-key and --reason are required");
        if (rv.from_batch == LS_UNSET && rv.from_time_ns == LS_UNSET)
                return usage_error("key revoke: give --from-batch N or --from-time TIME");
        if (strlen(reason) > LS_MAX_REASON)
                return usage_error("key revoke: the reason is longer than %d bytes", LS_MAX_REASON);
        if (ls_unhex(rv.revoked_key_id, LS_KEY_ID_LEN, keyid, strlen(keyid)) < 0)
                return usage_error("key revoke: KEYID must be 16 hex digits (see `logsealctl key list`)");
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        r = state_load_chain_id(dirfd, rv.chain_id);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_CHAIN_ID);
        if (load_root_key(root_file, &root) != 0)
                return EXIT_FAILURE;
        rv.issued_ns = now_ns();
        rv.reason = reason;
        rv.reason_len = (uint16_t) strlen(reason);
        ls_signer_from_keypair(&s, root);
        r = ls_revocation_sign(&rv, &s);
        root = ls_keypair_free(root);
        if (r == 0)
                r = ls_revocation_encode(&rv, enc, sizeof(enc), &len);
        if (r < 0)
                return log_errno(r, "signing the revocation");
        {
                /* The running daemon first: when the revocation names the key it signs with,
                 * it moves to a new key before sealing it, or refuses (the revocation already
                 * covers what that key signs next). Refused: nothing is written. */
                char *line = hex_line("revoke", enc, len);
                json_t *reply, *nk;
                if (!line)
                        return log_errno(-ENOMEM, "revocation");
                reply = daemon_request(dir, line);
                free(line);
                if (reply && !json_is_true(json_object_get(reply, "ok"))) {
                        const char *e = json_string_value(json_object_get(reply, "error"));
                        r = log_error("key revoke: logseald refused the revocation: %s. Nothing "
                                      "was written.",
                                      e ? e : "no reason given");
                        json_decref(reply);
                        return r;
                }
                r = state_append_history(dirfd, enc, len);
                if (r < 0) {
                        json_decref(reply);
                        return log_errno(r, "%s/%s", dir, STATE_HISTORY);
                }
                if (out && write_new_file(out, enc, len, 0644) != 0) {
                        json_decref(reply);
                        return EXIT_FAILURE;
                }
                nk = reply ? json_object_get(reply, "new_key") : NULL;
                if (nk)
                        printf("Key %s was the signing key in use: the daemon moved to a new key "
                               "first (%s, epoch %" JSON_INTEGER_FORMAT ", signing from batch %"
                               JSON_INTEGER_FORMAT "); the revoked key is erased.\n",
                               keyid, json_string_value(json_object_get(nk, "key_id")),
                               json_integer_value(json_object_get(nk, "epoch")),
                               json_integer_value(json_object_get(nk, "valid_from_batch")));
                if (reply)
                        printf("The daemon sealed the revocation into the chain (record %" JSON_INTEGER_FORMAT
                               " or later).\n",
                               json_integer_value(json_object_get(reply, "next_seq")));
                else
                        printf("WARNING: the daemon is not running (no answer): the revocation "
                               "is in %s/%s and%s%s must be handed to investigators.\n",
                               dir, STATE_HISTORY, out ? " " : "", out ? out : "");
                json_decref(reply);
        }
        printf("Key %s revoked; investigators pass the key history or %s to logseal-verify "
               "--revocations.\n",
               keyid, out ? out : "the exported history");
        return 0;
}

/* Loads a root secret key and checks that this state directory trusts it. */
static int load_trusted_root(int dirfd, const char *dir, const char *path, StateRoots *roots,
                             LsKeyPair **ret)
{
        int r = state_load_roots(dirfd, roots);

        if (r < 0)
                return log_errno(r, "%s: cannot load the root keys (%s, %s)", dir, STATE_ROOT_PUB,
                                 STATE_HISTORY);
        if (load_root_key(path, ret) != 0)
                return EXIT_FAILURE;
        if (!state_root_find(roots, (*ret)->key_id)) {
                *ret = ls_keypair_free(*ret);
                return log_error("%s: this is not a root key of %s (see `logsealctl key list`)",
                                 path, dir);
        }
        return 0;
}

/* `key rotate` knows --new-root only to refuse it by name (an abbreviation such as --new
 * names it too). */
static int refuse_option(const char *cmd, const Option *o, const char *arg)
{
        return usage_error("%s: unknown option --%s", cmd, o->name);
}

static int parse_rotate_opts(const char *cmd, int argc, char **argv, const char **dir,
                             const char **root_file, const char **new_root)
{
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {"root-key", 0, OPTION_STRING, root_file, .arg = "FILE",
                 .help = "the root secret key that certifies"},
                {"new-root", 0, new_root ? OPTION_STRING : OPTION_CALL, new_root, refuse_option,
                 .arg = "NEW.pub", .help = "the new root public key (made with keygen --root)",
                 .hidden = !new_root},
                {}};
        int r = parse_options(cmd, argc, argv, opts, 0, NULL);

        if (r != 0)
                return r;
        if (!*dir || !*root_file || (new_root && !*new_root))
                return usage_error("%s: --state-dir and --root-key%s are required", cmd,
                                   new_root ? " and --new-root" : "");
        return 0;
}

/* Signs a certificate with the root key, which is erased right after, and encodes it;
 * 0 or EXIT_FAILURE. */
static int root_sign_cert(LsCert *c, LsKeyPair **root, uint8_t enc[LS_CERT_LEN],
                          const char *what)
{
        LsSigner s;
        int r;

        c->issued_ns = now_ns();
        ls_signer_from_keypair(&s, *root);
        r = ls_cert_sign(c, &s);
        *root = ls_keypair_free(*root);
        if (r < 0)
                return log_errno(r, "signing the %s", what);
        ls_cert_encode(c, enc);
        return 0;
}

/*
 * Admin rotation: the running daemon generates the new signing key and
 * reserves the batch it will start at; the root key certifies it here; the
 * daemon takes it over at that batch and erases the old key. The root key is
 * loaded (passphrase asked) before the reservation, so records wait for
 * milliseconds only.
 */
static int cmd_key_rotate(int argc, char **argv)
{
        const char *dir = NULL, *root_file = NULL;
        _cleanup_close_ int dirfd = -1;
        _cleanup_keypair_ LsKeyPair *root = NULL;
        StateRoots roots;
        /* The daemon closes the key's epoch when it hands over (SPEC §9.4). */
        LsCert c = {.kind = LS_CERT_SIGNING, .flags = LS_CERT_F_CLOSED};
        json_t *reply;
        uint8_t enc[LS_CERT_LEN];
        char id[2 * LS_KEY_ID_LEN + 1];
        uint64_t deadline;
        int r;

        r = parse_rotate_opts("key rotate", argc, argv, &dir, &root_file, NULL);
        if (r != 0)
                return options_exit(r);
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        r = state_load_chain_id(dirfd, c.chain_id);
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_CHAIN_ID);
        if (load_trusted_root(dirfd, dir, root_file, &roots, &root) != 0)
                return EXIT_FAILURE;

        reply = daemon_request(dir, "rotate-begin\n");
        if (!reply)
                return log_error("%s: logseald is not running (no answer on %s/%s); the rotation "
                                 "is done by the running daemon, start it first",
                                 dir, dir, STATE_CONTROL);
        if (json_object_get(reply, "error")) {
                r = log_error("logseald refused the rotation: %s", json_str(reply, "error"));
                json_decref(reply);
                return r;
        }
        {
                uint8_t cid[LS_CHAIN_ID_LEN];
                const char *pk = json_str(reply, "public_key"), *chain = json_str(reply, "chain_id");
                if (ls_unhex(c.pk, LS_PK_LEN, pk, strlen(pk)) < 0 ||
                    ls_unhex(cid, LS_CHAIN_ID_LEN, chain, strlen(chain)) < 0 ||
                    memcmp(cid, c.chain_id, LS_CHAIN_ID_LEN) != 0 ||
                    !json_is_integer(json_object_get(reply, "epoch")) ||
                    !json_is_integer(json_object_get(reply, "valid_from_batch"))) {
                        json_decref(reply);
                        return log_error("logseald answered an unusable reservation (another "
                                         "chain, or a daemon of another version?)");
                }
                c.epoch = (uint64_t) json_integer_value(json_object_get(reply, "epoch"));
                c.valid_from_batch =
                        (uint64_t) json_integer_value(json_object_get(reply, "valid_from_batch"));
                json_decref(reply);
        }
        if (root_sign_cert(&c, &root, enc, "certificate") != 0)
                return EXIT_FAILURE;
        reply = daemon_request_hex(dir, "rotate-commit", enc, LS_CERT_LEN);
        if (!reply || json_object_get(reply, "error")) {
                r = log_error("logseald did not take the certificate: %s",
                              reply ? json_str(reply, "error") : "no answer");
                json_decref(reply);
                return r;
        }
        json_decref(reply);

        /* Wait for the first batch signed by the new key to be durable. */
        ls_hex(id, c.key_id, LS_KEY_ID_LEN);
        deadline = now_ns() + 30ull * 1000000000u;
        for (;;) {
                json_t *st = daemon_request(dir, "status\n");
                json_t *cp = st ? json_object_get(st, "last_checkpoint") : NULL;
                int done = cp && !strcmp(json_str(cp, "key_id"), id);
                json_decref(st);
                if (done)
                        break;
                if (now_ns() > deadline)
                        return log_error("the daemon accepted key %s but no batch signed by it "
                                         "was durable within 30 s; check `logsealctl status` and "
                                         "the daemon's log",
                                         id);
                struct timespec ts = {.tv_nsec = 100000000};
                nanosleep(&ts, NULL);
        }
        printf("Signing key %s (epoch %" PRIu64 ", certified by the root key) took over at batch "
               "%" PRIu64 ";\nthe previous signing key is erased. The rotation is recorded in "
               "the chain.\n",
               id, c.epoch, c.valid_from_batch);
        return 0;
}

/*
 * Root rotation: the current root certifies a new root (kind-2 certificate);
 * the daemon seals it into the chain, so a verifier holding the first root
 * follows it. The new root's secret key never comes near the appliance: only
 * its public key file is needed.
 */
static int cmd_key_rotate_root(int argc, char **argv)
{
        const char *dir = NULL, *root_file = NULL, *new_root = NULL;
        _cleanup_close_ int dirfd = -1;
        _cleanup_keypair_ LsKeyPair *root = NULL;
        _cleanup_free_ uint8_t *text = NULL;
        StateRoots roots;
        LsCert c = {.kind = LS_CERT_ROOT};
        json_t *reply;
        uint8_t enc[LS_CERT_LEN], new_id[LS_KEY_ID_LEN];
        char id[2 * LS_KEY_ID_LEN + 1];
        size_t n;
        int r;

        r = parse_rotate_opts("key rotate-root", argc, argv, &dir, &root_file, &new_root);
        if (r != 0)
                return options_exit(r);
        r = read_file_at(AT_FDCWD, new_root, LS_PUBKEY_TEXT_MAX, &text, &n);
        if (r < 0)
                return log_errno(r, "%s", new_root);
        r = ls_pubkey_parse((const char *) text, n, c.pk, new_id);
        if (r < 0)
                return log_errno(r, "%s: not a logseal public key file (give the NEW root's "
                                    ".pub file; its secret key stays offline)",
                                 new_root);
        if (open_state_dir(dir, &dirfd) != 0)
                return EXIT_FAILURE;
        if (load_trusted_root(dirfd, dir, root_file, &roots, &root) != 0)
                return EXIT_FAILURE;
        if (state_root_find(&roots, new_id))
                return log_error("%s: this root key is already trusted by %s", new_root, dir);
        /* Generations count up from the newest root. */
        for (size_t i = 0; i < roots.n; i++)
                if (roots.k[i].generation + 1 > c.epoch)
                        c.epoch = roots.k[i].generation + 1;
        if (root_sign_cert(&c, &root, enc, "root certificate") != 0)
                return EXIT_FAILURE;
        /* The daemon must seal it: otherwise investigators could not follow the new root. */
        {
                json_t *st = daemon_request(dir, "status\n");
                if (!st)
                        return log_error("%s: logseald is not running; start it first, the root "
                                         "rotation is sealed into the chain by the daemon",
                                         dir);
                json_decref(st);
        }
        r = state_append_history(dirfd, enc, sizeof(enc));
        if (r < 0)
                return log_errno(r, "%s/%s", dir, STATE_HISTORY);
        reply = daemon_request_hex(dir, "root-cert", enc, sizeof(enc));
        if (!reply || json_object_get(reply, "error")) {
                r = log_error("logseald did not seal the root rotation: %s (the certificate is "
                              "in %s/%s; run the command again once the daemon runs)",
                              reply ? json_str(reply, "error") : "no answer", dir, STATE_HISTORY);
                json_decref(reply);
                return r;
        }
        json_decref(reply);
        ls_hex(id, new_id, LS_KEY_ID_LEN);
        printf("Root key %s (generation %" PRIu64 ") is certified by the previous root and "
               "sealed into the chain.\n",
               id, c.epoch);
        print_fingerprint("  fingerprint:      ", c.pk);
        printf("Use its secret key for `key rotate` and `key revoke` from now on. Investigators "
               "keep\nthe ORIGINAL %s/%s: trust carries forward through the chain.\n",
               dir, STATE_ROOT_PUB);
        return 0;
}

int cmd_key(int argc, char **argv)
{
        if (argc < 2)
                return usage_error("key: missing command (list, rotate, rotate-root, revoke, "
                                   "export-history)");
        if (!strcmp(argv[1], "export-history"))
                return cmd_key_export_history(argc - 1, argv + 1);
        if (!strcmp(argv[1], "list"))
                return cmd_key_list(argc - 1, argv + 1);
        if (!strcmp(argv[1], "revoke"))
                return cmd_key_revoke(argc - 1, argv + 1);
        if (!strcmp(argv[1], "rotate"))
                return cmd_key_rotate(argc - 1, argv + 1);
        if (!strcmp(argv[1], "rotate-root"))
                return cmd_key_rotate_root(argc - 1, argv + 1);
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
                key_help();
                return 0;
        }
        return usage_error("key: unknown command '%s'", argv[1]);
}

int cmd_fingerprint(int argc, char **argv)
{
        static const Option opts[] = {{}};
        _cleanup_free_ uint8_t *p = NULL;
        uint8_t pk[LS_PK_LEN], id[LS_KEY_ID_LEN];
        char hex[2 * LS_KEY_ID_LEN + 1];
        const char *path;
        size_t n = 0;
        int r;

        r = parse_options("fingerprint", argc, argv, opts, OPTIONS_ARGS, NULL);
        if (r != 0)
                return options_exit(r);
        if (argc - optind != 1)
                return usage_error("fingerprint: expected one public key file");
        path = argv[optind];

        r = read_file_at(AT_FDCWD, path, LS_PUBKEY_TEXT_MAX, &p, &n);
        if (r == -E2BIG)
                return log_error("%s: not a logseal public key file (too large)", path);
        if (r < 0)
                return log_errno(r, "%s", path);
        if (n >= LS_MAGIC_LEN && ls_magic_check(p, LS_MAGIC_SECRET)) {
                sodium_memzero(p, n);
                return log_error("%s: this is a secret key file; give its public key (.pub)",
                                 path);
        }
        r = ls_pubkey_parse((const char *) p, n, pk, id);
        if (r < 0)
                return log_errno(r, "%s: not a logseal public key file", path);
        ls_hex(hex, id, LS_KEY_ID_LEN);
        printf("key id:      %s\n", hex);
        print_fingerprint("fingerprint: ", pk);
        return 0;
}
