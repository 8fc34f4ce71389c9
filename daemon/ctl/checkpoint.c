/* SPDX-License-Identifier: Apache-2.0 */
/* checkpoint.c: `logsealctl checkpoint` (the daemon's latest checkpoint, a consistency proof)
 * and `verify` (logseal-verify on the appliance, sealed as a custody record) */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.h"
#include "control.h"
#include "ctl.h"
#include "hash.h"
#include "export-bundle.h"
#include "merkle.h"
#include "state.h"

extern char **environ;

static int read_checkpoint_file(const char *path, char **ret_text, LsCheckpoint *cp)
{
        uint8_t *p = NULL;
        size_t n, off = 0;
        int r = read_file_at(AT_FDCWD, path, LS_MAX_CHECKPOINT_TEXT + 1, &p, &n);

        if (r < 0)
                return log_errno(r, "%s", path);
        r = ls_checkpoint_parse(cp, (const char *) p, n, &off);
        if (r < 0) {
                free(p);
                return log_error("%s: byte %zu: not a valid logseal checkpoint", path, off);
        }
        *ret_text = (char *) p;
        return 0;
}

int cmd_checkpoint(int argc, char **argv)
{
        const char *dir = NULL, *out = NULL, *since = NULL, *proof_out = NULL, *text;
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {"out", 'o', OPTION_STRING, &out, .arg = "FILE",
                 .help = "write the checkpoint to FILE instead of standard output"},
                {"since", 0, OPTION_STRING, &since, .arg = "OLD",
                 .help = "also prove that it extends the older checkpoint OLD"},
                {"proof", 0, OPTION_STRING, &proof_out, .arg = "FILE",
                 .help = "(with --since) where the consistency proof goes\n"
                         "(default: next to --out, FILE.proof)"},
                {}};
        _cleanup_free_ char *old_text = NULL, *proof_path = NULL;
        json_t *reply;
        int r;

        /* Arguments after the options are not looked at. */
        r = parse_options("checkpoint", argc, argv, opts, OPTIONS_ARGS, NULL);
        if (r != 0)
                return options_exit(r);
        if (!dir)
                return usage_error("checkpoint: --state-dir DIR is required");
        if (since && !out && !proof_out)
                return usage_error("checkpoint: --since needs --out NEW (the proof goes to "
                                   "NEW.proof) or --proof FILE");
        if (proof_out && !since)
                return usage_error("checkpoint: --proof needs --since OLD");
        reply = daemon_request(dir, "checkpoint\n");
        text = reply ? json_string_value(json_object_get(reply, "checkpoint")) : NULL;
        if (!text) {
                r = log_error("%s/%s: %s", dir, STATE_CONTROL,
                              reply ? json_string_value(json_object_get(reply, "error")) :
                                      "the daemon is not running");
                json_decref(reply);
                return r;
        }
        if (since) {
                /* NEW extends OLD: the consistency proof between them, from the archives. */
                LsCheckpoint old_cp, new_cp;
                ExportOptions eo = {.state_dir = dir, .request = daemon_request};
                _cleanup_close_ int dirfd = -1, archfd = -1;
                uint8_t proof[LS_MAX_CONSISTENCY_PROOF][LS_HASH_LEN], enc[20 + 32 * LS_MAX_CONSISTENCY_PROOF];
                unsigned count = 0;
                size_t len;

                r = read_checkpoint_file(since, &old_text, &old_cp);
                if (r == 0 && ls_checkpoint_parse(&new_cp, text, strlen(text), NULL) < 0)
                        r = log_error("the daemon's checkpoint does not parse");
                if (r == 0)
                        r = open_chain(dir, &dirfd, &archfd, eo.chain_id);
                if (r == 0 && memcmp(old_cp.chain_id, eo.chain_id, LS_CHAIN_ID_LEN) != 0)
                        r = log_error("%s: a checkpoint of another chain", since);
                if (r == 0 && (old_cp.tree_size == 0 || old_cp.tree_size > new_cp.tree_size))
                        r = log_error("%s: tree size %" PRIu64 " is not within the chain's %" PRIu64
                                      " records (a fork or another appliance?)",
                                      since, old_cp.tree_size, new_cp.tree_size);
                if (r == 0) {
                        eo.dirfd = dirfd;
                        eo.archfd = archfd;
                        r = export_consistency(&eo, &old_cp, &new_cp, proof, &count);
                }
                if (r == 0) {
                        LsProof p = {.kind = 2, .count = count, .a = old_cp.tree_size,
                                     .b = new_cp.tree_size, .path = &proof[0][0]};
                        r = ls_proof_encode(&p, enc, sizeof(enc), &len) < 0 ?
                                    log_error("encoding the proof") :
                                    0;
                }
                if (r == 0 && !proof_out) {
                        proof_path = malloc(strlen(out) + 8);
                        if (!proof_path) {
                                json_decref(reply);
                                return log_errno(-ENOMEM, "proof");
                        }
                        sprintf(proof_path, "%s.proof", out);
                        proof_out = proof_path;
                }
                if (r == 0)
                        r = write_new_file(proof_out, enc, len, 0644);
                if (r == 0)
                        fprintf(stderr, PROG ": checkpoint of %" PRIu64 " records extends %s (%" PRIu64
                                        " records); consistency proof in %s\n",
                                new_cp.tree_size, since, old_cp.tree_size, proof_out);
        }
        if (r == 0 && out)
                r = write_new_file(out, text, strlen(text), 0644);
        else if (r == 0)
                fputs(text, stdout);
        json_decref(reply);
        return r;
}

/*
 * The running daemon's latest checkpoint into a new file from template path (mkstemp): its
 * descriptor, or -1 when there is none (the daemon does not run, or sealed nothing yet), which
 * is said on stderr.
 */
static int upto_checkpoint(const char *dir, char *path, LsCheckpoint *cp)
{
        json_t *reply = daemon_request(dir, "checkpoint\n");
        const char *text = reply ? json_string_value(json_object_get(reply, "checkpoint")) : NULL;
        int fd = -1;

        if (!text) {
                fprintf(stderr, PROG ": %s: verifying the whole chain, up to its last batch (an "
                                "open last archive makes it partial, exit 4)\n",
                        reply ? json_string_value(json_object_get(reply, "error")) :
                                "the daemon is not running");
                json_decref(reply);
                return -1;
        }
        /* what the verdict covers, for the custody record (logseal-verify checks it) */
        if (ls_checkpoint_parse(cp, text, strlen(text), NULL) < 0)
                cp->has_batch = 0;
        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text)) {
                log_errno(-errno, "%s", path);
                if (fd >= 0) {
                        (void) unlink(path);
                        close(fd);
                }
                fd = -1;
        } else {
                fprintf(stderr, PROG ": the daemon runs: verifying up to the checkpoint it signed "
                                "(logseal-verify --upto)\n");
        }
        json_decref(reply);
        return fd;
}

#define UPTO_TRIES 3

int cmd_verify(int argc, char **argv)
{
        const char *dir = NULL, *case_id = NULL, *examiner = NULL;
        const Option opts[] = {
                {"state-dir", 'd', OPTION_STRING, &dir, .arg = "DIR",
                 .help = "the appliance's state directory"},
                {"case", 0, OPTION_STRING, &case_id, .arg = "ID",
                 .help = "the case the verification is for (with --examiner)"},
                {"examiner", 0, OPTION_STRING, &examiner, .arg = "NAME",
                 .help = "who verifies (sealed in the custody record)"},
                {}};
        char self[PATH_MAX], bin[PATH_MAX + 64], root[PATH_MAX + 32], keys[PATH_MAX + 32],
                arch[PATH_MAX + 32], text[256];
        static const char *const verdicts[] = {"intact", "tampered or corrupt", "usage or I/O error",
                                               "gap", "partial"};
        LsCheckpoint cp = {0};
        ssize_t n;
        pid_t pid;
        int r, st, cpfd, upto = 0;

        r = parse_options("verify", argc, argv, opts, OPTIONS_ARGS, NULL);
        if (r != 0)
                return options_exit(r);
        if (optind < argc || !dir)
                return usage_error("verify: --state-dir DIR is required (and nothing else)");
        /* logseal-verify next to this program (build tree or /usr/bin), else from PATH. */
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        self[n > 0 ? n : 0] = 0;
        snprintf(bin, sizeof(bin), "%s/../verifier/logseal-verify", dirname(self));
        if (access(bin, X_OK) < 0)
                snprintf(bin, sizeof(bin), "%s/../bin/logseal-verify", self);
        if (access(bin, X_OK) < 0)
                snprintf(bin, sizeof(bin), "logseal-verify");
        snprintf(root, sizeof(root), "%s/%s", dir, STATE_ROOT_PUB);
        snprintf(keys, sizeof(keys), "%s/%s", dir, STATE_HISTORY);
        snprintf(arch, sizeof(arch), "%s/%s", dir, STATE_ARCHIVES);
        /*
         * A running appliance's last archive is open: verified up to a checkpoint it signs
         * now (logseal-verify --upto), else the whole chain, where an open tail is partial.
         * A checkpoint made just before a key change is partial (its epoch's close comes
         * after it): then again, up to a later one (at most UPTO_TRIES times).
         */
        for (int attempt = 1;; attempt++) {
                char cpfile[] = "/tmp/logsealctl-verify-XXXXXX";
                cpfd = upto_checkpoint(dir, cpfile, &cp);
                char *args[] = {bin, "--root-key", root, "--keys", keys, arch, NULL, NULL, NULL};
                if (cpfd >= 0) {
                        args[6] = "--upto";
                        args[7] = cpfile;
                }
                r = posix_spawnp(&pid, bin, NULL, NULL, args, environ);
                if (r == 0 && waitpid(pid, &st, 0) < 0)
                        r = errno;
                if (cpfd >= 0) {
                        (void) unlink(cpfile);
                        close(cpfd);
                }
                upto = cpfd >= 0;
                if (r != 0)
                        return log_errno(-r, "%s", bin);
                if (!WIFEXITED(st))
                        return log_error("logseal-verify did not finish");
                st = WEXITSTATUS(st);
                if (cpfd < 0 || st != 4 || attempt == UPTO_TRIES)
                        break;
                fprintf(stderr, PROG ": partial up to that checkpoint (a key change right after "
                                "it?): verifying again up to a later one\n");
                (void) fflush(stdout);
                sleep(1);
        }
        if (upto && cp.has_batch)
                snprintf(text, sizeof(text),
                         "verification run on the appliance: logseal-verify exit %d (%s) up to "
                         "the checkpoint of batch %" PRIu64 ", tree size %" PRIu64,
                         st, st < 5 ? verdicts[st] : "?", cp.batch_no, cp.tree_size);
        else
                snprintf(text, sizeof(text),
                         "verification run on the appliance: logseal-verify exit %d (%s) of the "
                         "whole chain",
                         st, st < 5 ? verdicts[st] : "?");
        (void) seal_custody_note(dir, LS_CUSTODY_VERIFY, case_id, examiner, NULL, UINT64_MAX,
                                 text);
        return st;
}
