/* SPDX-License-Identifier: Apache-2.0 */
/* logseald-start.c: start-up: the state directory, recovery and WAL replay, the keys in
 * charge, listeners and confinement, the sealing thread */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "control.h"
#include "control-socket.h"
#include "index.h"
#include "ingest.h"
#include "listen.h"
#include "logseald-internal.h"
#include "logseald.h"
#include "owner.h"
#include "recover.h"
#include "sequence.h"
#include "state.h"
#include "util.h"

/* ---- start-up ---- */

static int senders_replay_entry(void *ud, uint64_t id, const uint8_t *rec, size_t n)
{
        LsRecord r;

        (void) id;
        if (ls_record_decode(&r, rec, n, NULL) == 0)
                ingest_replayed_sequence(ud, &r);
        return 0;
}

/* The sequence numbers seen per sender (sequence.c): as saved, then brought up to date with
 * the records the WAL holds beyond what the saved state covers (on_durable keeps those). */
int senders_start(Daemon *d)
{
        uint64_t last_id, damaged;
        int r = senders_new(&d->senders);

        if (r < 0)
                return r;
        r = senders_load(d->senders, d->state_dirfd, &d->senders_wal_id);
        if (r < 0) {
                fprintf(stderr, "logseald: %s/%s: %s; the sequence numbers of senders are "
                                "tracked afresh\n",
                        d->cfg.state_dir, STATE_SENDERS,
                        r == -EBADMSG ? "damaged" : strerror(-r));
                d->senders = senders_free(d->senders);
                d->senders_wal_id = 0;
                r = senders_new(&d->senders);
                if (r < 0)
                        return r;
        }
        r = wal_replay(d->wal, d->senders_wal_id, senders_replay_entry, d, &last_id, &damaged);
        if (r < 0)
                fprintf(stderr, "logseald: cannot read the WAL for sender sequence numbers: %s\n",
                        strerror(-r));
        return 0;
}

typedef struct Replay {
        Daemon *d;                      /* NULL: count only */
        uint64_t next_id;   /* the first WAL id not in the archives */
        uint64_t missing;   /* ids between that and the first one the WAL still has */
        uint64_t count;
        Chunk *chunk;
        uint64_t chunk_next_id;         /* the id the chunk's next record must have */
} Replay;

static int replay_entry(void *ud, uint64_t id, const uint8_t *rec, size_t n)
{
        Replay *rp = ud;
        LsRecord r;

        /* The WAL only drops what sealed.state covers (sealer.c), so this cannot happen
         * unless files were removed by hand: declare it rather than guess. */
        if (id > rp->next_id)
                rp->missing += id - rp->next_id;
        rp->next_id = id + 1;
        if (ls_record_decode(&r, rec, n, NULL) < 0)
                return 0; /* counted as WAL damage by the caller? it passed the check: skip */
        rp->count++;
        if (!rp->d)
                return 0;
        r.flags |= LS_RECF_RECOVERED;
        /* A chunk's records have consecutive WAL ids (the sealer reports the newest one
         * sealed): after a skipped id, a new chunk. */
        if (rp->chunk && (id != rp->chunk_next_id || chunk_add(rp->chunk, &r) == -ENOBUFS)) {
                sealer_push(rp->d->sealer, rp->chunk);
                rp->chunk = NULL;
        } else if (rp->chunk) {
                rp->chunk_next_id = id + 1;
                return 0;
        }
        rp->chunk = chunk_new(MAX((size_t) 1 << 20, n + 4));
        if (!rp->chunk)
                return -ENOMEM;
        rp->chunk->first_wal_id = id;
        rp->chunk_next_id = id + 1;
        return chunk_add(rp->chunk, &r);
}

/*
 * The UNCLEAN_SHUTDOWN declarations this start owes (SPEC §4.2): one per run that ended
 * without a clean stop and is not declared in the chain yet - more than one when a run died
 * before it could seal the declaration of the one before it (each of those has COUNT 0) -,
 * the last one counting the records about to be re-sealed from the WAL. Sealed first, before
 * those records (sealer.c), not through the WAL. NULL with -errno in *ret_err on failure.
 */
#define MAX_DECLARATIONS 64
static Chunk *declarations(uint32_t n, uint64_t recovered, const Recovery *rc, int *ret_err)
{
        LsControlBuilder *b = malloc(sizeof(*b));
        Chunk *c = chunk_new((size_t) (MAX_DECLARATIONS + 1) * 512);
        uint64_t now = now_realtime_ns();
        uint32_t first = n > MAX_DECLARATIONS ? n - MAX_DECLARATIONS : 0;
        int r = b && c ? 0 : -ENOMEM;

        for (uint32_t i = first; r == 0 && i < n; i++) {
                LsRecord rec = {.type = LS_REC_CONTROL, .time_ns = now};
                char text[192];
                const uint8_t *body;
                size_t len;

                ls_control_begin(b, LS_CTL_UNCLEAN_SHUTDOWN);
                if (i + 1 < n) {
                        if (i == first && first > 0)
                                snprintf(text, sizeof(text), "%" PRIu32 " earlier runs ended "
                                         "without a clean stop, each before it declared the one "
                                         "before it",
                                         first + 1);
                        else
                                snprintf(text, sizeof(text), "an earlier run ended without a "
                                         "clean stop; the run after it ended before it could "
                                         "declare it");
                        ls_control_add_u64(b, LS_TAG_COUNT, 0);
                        ls_control_add_str(b, LS_TAG_TEXT, text);
                } else {
                        ls_control_add_u64(b, LS_TAG_COUNT, recovered);
                        ls_control_add_str(b, LS_TAG_TEXT,
                                           "previous run ended without a clean stop");
                        if (rc->pos.tree.size)
                                ls_control_add_u64(b, LS_TAG_LAST_SEQ, rc->pos.tree.size - 1);
                }
                r = ls_control_end(b, &body, &len);
                if (r == 0) {
                        rec.body = body;
                        rec.body_len = rec.orig_len = (uint32_t) len;
                        r = chunk_add(c, &rec);
                }
        }
        free(b);
        if (r < 0) {
                free(c);
                *ret_err = r;
                return NULL;
        }
        return c;
}

/* The state directory is there but not this user's: the fix is a chown, not an init. */
static void state_owner_hint(const char *dir, const char *name, const char *problem)
{
        char me[64], group[64];

        user_name(geteuid(), me, sizeof(me));
        group_name(getegid(), group, sizeof(group));
        fprintf(stderr,
                "logseald: %s%s%s: %s; logseald runs as %s, and the state directory and "
                "everything in it must belong to that user.\n"
                "Fix (as root): chown -R %s:%s %s  (`logsealctl init --user %s` creates it "
                "that way)\n",
                dir, strcmp(name, ".") ? "/" : "", strcmp(name, ".") ? name : "", problem, me, me,
                group, dir, me);
}

static int open_state(Daemon *d, SignerKey *key, SignerKey *next, int *has_next, LsCert *cert)
{
        int r;

        d->state_dirfd = open(d->cfg.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d->state_dirfd < 0) {
                r = -errno;
                if (r == -ENOENT)
                        fprintf(stderr,
                                "logseald: %s: %s\nRun `logsealctl init --state-dir %s` "
                                "to create it.\n",
                                d->cfg.state_dir, strerror(-r), d->cfg.state_dir);
                else
                        state_owner_hint(d->cfg.state_dir, ".", strerror(-r));
                return r;
        }
        /* One daemon per state directory: two would interleave their chains. The lock
         * goes with the process (and its fd), so a crash never leaves it behind. */
        if (flock(d->state_dirfd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                fprintf(stderr, "logseald: %s: %s\n", d->cfg.state_dir,
                        r == -EWOULDBLOCK ? "another logseald is running on this state directory" :
                                            strerror(-r));
                return r;
        }
        /* Started as root: what root made here becomes the user's, and so does this process
         * (before the signer is forked: it runs as that user too; confine.c). */
        r = confine_resolve_user(d->cfg.user, &d->run_as);
        if (r < 0)
                return r;
        if (d->run_as.change) {
                uint64_t n;
                r = state_adopt(d->state_dirfd, d->run_as.uid, d->run_as.gid, &n);
                if (r < 0) {
                        fprintf(stderr, "logseald: %s: cannot make it %s's: %s\n",
                                d->cfg.state_dir, d->run_as.name, strerror(-r));
                        return r;
                }
                if (n)
                        fprintf(stderr, "logseald: %s: %" PRIu64 " entries of root's are now "
                                        "%s's (logseald runs as %s)\n",
                                d->cfg.state_dir, n, d->run_as.name, d->run_as.name);
                r = confine_lower(&d->run_as);
                if (r < 0)
                        return r;
                /* By name too (the search index, the sockets): every directory above it must
                 * let the user through. access(2) asks as the real user, without capabilities. */
                if (access(d->cfg.state_dir, R_OK | X_OK) < 0) {
                        r = -errno;
                        fprintf(stderr, "logseald: %s: %s for %s: a directory above it is closed "
                                        "to that user; use a state directory it can reach (e.g. "
                                        "/var/lib/logseal)\n",
                                d->cfg.state_dir, strerror(-r), d->run_as.name);
                        return r;
                }
        }
        /* Made by root, run as another user: say so now, not at the first EACCES. */
        if (geteuid() != 0) {
                char name[PATH_MAX];
                uid_t owner;
                r = state_find_foreign(d->state_dirfd, geteuid(), name, sizeof(name), &owner);
                if (r > 0) {
                        char who[64], why[128];
                        snprintf(why, sizeof(why), "belongs to %s",
                                 user_name(owner, who, sizeof(who)));
                        state_owner_hint(d->cfg.state_dir, name, why);
                        return -EACCES;
                }
        }
        r = state_load_chain_id(d->state_dirfd, d->chain_id);
        if (r < 0) {
                fprintf(stderr,
                        "logseald: %s/%s: %s\nRun `logsealctl init --state-dir %s` first.\n",
                        d->cfg.state_dir, STATE_CHAIN_ID, strerror(-r), d->cfg.state_dir);
                return r;
        }
        /* The signer process holds the keys from here on; this process never sees them.
         * Forked now: before any key is loaded, any thread started, any socket opened. */
        r = signer_spawn(&d->signer, d->state_dirfd, d->chain_id);
        if (r < 0) {
                fprintf(stderr, "logseald: cannot start the signer process: %s\n", strerror(-r));
                return r;
        }
        /* Fail closed: no signing key, no sealing, no ingest. */
        r = signer_load(d->signer, key, next, has_next);
        if (r < 0) {
                fprintf(stderr,
                        "logseald: %s/%s: cannot load the signing key (%s); refusing to run "
                        "without one.\nRun `logsealctl init --state-dir %s` (or restore the key).\n",
                        d->cfg.state_dir, STATE_SIGNING_KEY, strerror(-r), d->cfg.state_dir);
                return r;
        }
        r = state_find_cert(d->state_dirfd, key->key_id, cert);
        if (r < 0) {
                fprintf(stderr, "logseald: %s/%s: no certificate for the signing key (%s)\n",
                        d->cfg.state_dir, STATE_HISTORY, strerror(-r));
                return r;
        }
        /* The key must be certified for this chain, by the root key of this state dir
         * (an epoch key's certificate chain is checked by the verifier from the chain). */
        if (cert->kind != LS_CERT_SIGNING ||
            memcmp(cert->chain_id, d->chain_id, LS_CHAIN_ID_LEN) != 0) {
                fprintf(stderr, "logseald: %s/%s: the signing key's certificate is not for "
                                "chain %s\n",
                        d->cfg.state_dir, STATE_HISTORY, STATE_CHAIN_ID);
                return -EKEYREJECTED;
        }
        r = state_load_roots(d->state_dirfd, &d->roots);
        if (r < 0) {
                fprintf(stderr, "logseald: %s/%s: cannot load the root key (%s)\n", d->cfg.state_dir,
                        STATE_ROOT_PUB, strerror(-r));
                return r;
        }
        {
                /* Root-issued (the first key, admin rotations): check it here. A key handed
                 * over by the previous epoch is checked along the chain by the verifier. */
                const StateRoot *root = state_root_find(&d->roots, cert->issuer_key_id);
                if (root)
                        r = ls_cert_verify(cert, root->pk);
                if (r < 0) {
                        fprintf(stderr, "logseald: %s: the signing key's certificate does not "
                                        "verify under the root key (%s)\n",
                                d->cfg.state_dir, strerror(-r));
                        return r;
                }
        }
        key->epoch = cert->epoch;
        d->archive_dirfd = openat(d->state_dirfd, STATE_ARCHIVES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d->archive_dirfd < 0) {
                fprintf(stderr, "logseald: %s/%s: %s\n", d->cfg.state_dir, STATE_ARCHIVES,
                        strerror(errno));
                return -errno;
        }
        return 0;
}

/* An epoch change interrupted by a crash: finish it, or re-emit its transition (sealer-archive.c). */
static int resolve_next_key(Daemon *d, SignerKey *key, SignerKey *next, LsCert *cert,
                            const Recovery *rc, SealerInit *si)
{
        LsCert nc;
        int r;

        r = state_find_cert(d->state_dirfd, next->key_id, &nc);
        if (r < 0 || nc.epoch != key->epoch + 1) {
                fprintf(stderr, "logseald: discarding an unusable %s (%s)\n", STATE_NEXT_KEY,
                        r < 0 ? strerror(-r) : "wrong epoch");
                return signer_discard(d->signer);
        }
        next->epoch = nc.epoch;
        if (rc->pos.batch_no >= nc.valid_from_batch) {
                /* The transition batch is durable: erase the old key now. */
                r = signer_finish(d->signer);
                if (r < 0)
                        return r;
                *key = *next;
                *cert = nc;
                fprintf(stderr, "logseald: finished the change to signing epoch %" PRIu64 "\n",
                        nc.epoch);
                return 0;
        }
        if (rc->pos.batch_no + 1 == nc.valid_from_batch) {
                si->next_key = *next;
                si->has_next = 1;
                si->next_cert = nc;
                return 0;
        }
        fprintf(stderr, "logseald: %s does not fit the chain position; discarding it\n",
                STATE_NEXT_KEY);
        return signer_discard(d->signer);
}

/*
 * The last step of start-up with a single thread: bind every input, then confine the
 * process (confine.c). Landlock applies to the calling thread and what it starts later, so
 * this runs before the sealing and index threads exist: all of logseald but the signer
 * (forked earlier) is confined. What the confined process still needs in the state
 * directory root is done here first.
 */
static int open_inputs_and_confine(Daemon *d)
{
        int r = listeners_open(d);

        if (r < 0) {
                fprintf(stderr, "logseald: cannot open the listeners: %s\n", strerror(-r));
                return r;
        }
        r = control_open(d);
        if (r < 0)
                fprintf(stderr, "logseald: control socket unavailable (%s): logsealctl status "
                                "will not reach the daemon\n",
                        strerror(-r));
        /* Started as root: the unix sockets it made are root's, as they were before it ran
         * as its own user (who may connect to a sender_identity socket is root's choice). */
        for (size_t i = 0; d->run_as.change && i < d->cfg.nlistens; i++) {
                const ListenConf *lc = &d->cfg.listens[i];
                struct stat st;
                if ((lc->kind == LISTEN_UNIX_STREAM || lc->kind == LISTEN_UNIX_DGRAM) &&
                    lstat(lc->address, &st) == 0 && S_ISSOCK(st.st_mode) &&
                    st.st_uid == d->run_as.uid && lchown(lc->address, 0, 0) < 0)
                        fprintf(stderr, "logseald: %s: cannot give it to root: %s\n",
                                lc->address, strerror(errno));
        }
        /* Every socket is bound: no capability is needed from here on (confine.c). */
        r = confine_drop_capabilities();
        if (r < 0)
                return r;
        /* STATE/index/ (older state directories lack it) and the index of older versions. */
        if (mkdirat(d->state_dirfd, STATE_INDEX_DIR, STATE_INDEX_DIR_MODE) < 0 && errno != EEXIST)
                fprintf(stderr, "logseald: %s/%s: %s\n", d->cfg.state_dir, STATE_INDEX_DIR,
                        strerror(errno));
        if (index_remove_legacy(d->state_dirfd) > 0)
                fprintf(stderr, "logseald: removed the search index of an older version (%s/"
                                STATE_INDEX_LEGACY ", derived data); " STATE_INDEX
                                " is built in its place\n",
                        d->cfg.state_dir);
        /* Fail closed: without the confinement only an explicit confine = no runs. */
        r = confine_ingest(&(const ConfinePaths){.state_dirfd = d->state_dirfd,
                                                 .state_dir = d->cfg.state_dir,
                                                 .publish_dir = d->cfg.publish_dir,
                                                 .publish_command = d->cfg.publish_command,
                                                 .enable = d->cfg.confine},
                           &d->confinement);
        confine_privileges(&d->confinement);
        return r;
}

/*
 * `logsealctl key revoke` while logseald was not running appends the revocation to the key
 * history only. One naming a key this start signs with is applied once the sealer runs, as
 * the control socket would have: the sealer moves to a new key before the revocation takes
 * effect, and the revocation is sealed. One that already covers the next batch cannot be
 * helped here: said loudly (`logsealctl key rotate` puts a root-certified key in charge).
 * Read before the process confines itself (keys/ is out of its reach afterwards).
 */
#define MAX_START_REVOCATIONS 8
typedef struct StartRevocations {
        StateRevocation r[MAX_START_REVOCATIONS];
        size_t n;
} StartRevocations;

static void find_revocations_of(Daemon *d, const SignerKey *k, StartRevocations *rs)
{
        size_t n = 0;
        int r = state_find_revocations(d->state_dirfd, k->key_id, rs->r + rs->n,
                                       MAX_START_REVOCATIONS - rs->n, &n);

        if (r < 0)
                fprintf(stderr, "logseald: %s/%s: cannot read revocations: %s\n",
                        d->cfg.state_dir, STATE_HISTORY, strerror(-r));
        rs->n += n;
}

static void apply_start_revocations(Daemon *d, const StartRevocations *rs)
{
        RevokeOutcome out;

        for (size_t i = 0; i < rs->n; i++) {
                int r = revocation_apply(d, rs->r[i].enc, rs->r[i].len, &out);
                if (r == -EKEYREVOKED) {
                        sd_notify(0, "STATUS=signing with a REVOKED key: run `logsealctl key "
                                     "rotate`");
                        fprintf(stderr, "logseald: WARNING: every batch from now on is signed by "
                                        "a revoked key until `logsealctl key rotate` puts a "
                                        "root-certified key in charge\n");
                } else if (r < 0 && r != -EXDEV && r != -EKEYREJECTED) {
                        fprintf(stderr, "logseald: cannot apply a revocation of the signing key "
                                        "in use: %s\n",
                                strerror(-r));
                }
        }
}

int start_daemon(Daemon *d)
{
        SignerKey key, next;
        LsSigner signer;
        int has_next = 0;
        SealerInit si = {.cfg = &d->cfg};
        Recovery rc = {};
        Replay rp = {.d = d}, count = {};
        _cleanup_free_ StartRevocations *revs = NULL;
        uint64_t last_id = 0, damaged = 0;
        int r;

        r = open_state(d, &key, &next, &has_next, &si.cert);
        if (r < 0)
                goto fail;
        signer_bind(d->signer, &key, &signer);
        r = recover_archives(d->state_dirfd, d->archive_dirfd, d->chain_id, &signer, &rc);
        if (r < 0) {
                fprintf(stderr, "logseald: cannot recover the archive state: %s\n", strerror(-r));
                goto fail;
        }
        r = has_next ? resolve_next_key(d, &key, &next, &si.cert, &rc, &si) : 0;
        if (r < 0) {
                fprintf(stderr, "logseald: cannot resolve an interrupted epoch change: %s\n",
                        strerror(-r));
                goto fail;
        }
        /* Where the last batch's epoch stands: its close is due when another key signs next. */
        r = recover_epoch_tail(d->archive_dirfd, d->chain_id, &si.last_batch, &si.have_last_batch,
                               &si.epoch_max_time_ns);
        if (r < 0) {
                fprintf(stderr, "logseald: cannot read the last batch of the archives: %s\n",
                        strerror(-r));
                goto fail;
        }
        r = wal_open(&d->wal, d->state_dirfd);
        if (r < 0) {
                fprintf(stderr, "logseald: %s/%s: %s\n", d->cfg.state_dir, STATE_WAL, strerror(-r));
                goto fail;
        }
        r = senders_start(d);
        if (r < 0)
                goto fail;
        /* What the WAL holds beyond the archives, counted before anything is sealed: the
         * declaration of an unclean stop says how many records follow it. By id: the records
         * sealed since sealed.state was written took the WAL ids right after its wal_id, in
         * order (recover.c counted them). */
        si.wal_id_base = rc.wal_id_sealed + rc.wal_skip;
        count.next_id = rp.next_id = si.wal_id_base + 1;
        r = wal_replay(d->wal, si.wal_id_base, replay_entry, &count, &last_id, &damaged);
        if (r < 0) {
                fprintf(stderr, "logseald: cannot read the WAL: %s\n", strerror(-r));
                goto fail;
        }
        si.undeclared = rc.undeclared;
        if (!si.undeclared && (count.count || damaged || count.missing))
                si.undeclared = 1;
        /* Record at once what recovery established, so a second crash starts from here. The
         * previous run's unclean end, if any, is now in `undeclared`: a start that fails
         * before it seals anything (a listener port taken) leaves the state so, and the next
         * start declares exactly the stops that happened (signed records state facts). */
        {
                SealedState st = {.tree_size = rc.pos.tree.size,
                                  .wal_id = si.wal_id_base,
                                  .clean = 1,
                                  .undeclared = si.undeclared};
                r = sealed_state_write(d->state_dirfd, &st);
                if (r < 0)
                        goto fail;
        }

        d->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (d->notify_fd < 0) {
                r = -errno;
                goto fail;
        }
        si.state_dirfd = d->state_dirfd;
        si.archive_dirfd = d->archive_dirfd;
        memcpy(si.chain_id, d->chain_id, LS_CHAIN_ID_LEN);
        si.pos = rc.pos;
        si.signer = d->signer;
        si.key = key;
        /* A root-issued key opens its first batch with its certificate: the chain's first
         * key, and an admin rotation whose first batch is not durable yet (sealer-keys.c). */
        si.emit_cert = rc.chain_empty ||
                       (state_root_find(&d->roots, si.cert.issuer_key_id) &&
                        rc.pos.batch_no == si.cert.valid_from_batch);
        revs = calloc(1, sizeof(*revs));
        if (!revs) {
                r = -ENOMEM;
                goto fail;
        }
        find_revocations_of(d, &key, revs);
        if (si.has_next)
                find_revocations_of(d, &si.next_key, revs);
        r = open_inputs_and_confine(d);
        if (r < 0)
                goto fail;
        if (si.undeclared) {
                fprintf(stderr,
                        "logseald: the previous run did not stop cleanly: %" PRIu64
                        " records recovered from the WAL, %" PRIu64 " damaged WAL bytes, %" PRIu64
                        " torn archive bytes cut\n",
                        count.count, damaged, rc.torn_bytes);
                if (si.undeclared > 1)
                        fprintf(stderr, "logseald: %" PRIu32 " runs in a row ended without a "
                                        "clean stop before they declared the one before them\n",
                                si.undeclared);
                si.first = declarations(si.undeclared, count.count, &rc, &r);
                if (!si.first)
                        goto fail;
        }
        /* The signer signs batch headers only where the chain continues: from here. */
        r = signer_set_position(d->signer, &rc.pos);
        if (r < 0) {
                fprintf(stderr, "logseald: the signer refused the chain position: %s\n",
                        strerror(-r));
                free(si.first);
                goto fail;
        }
        /* From here on this run seals: an end without a clean stop is one. */
        {
                SealedState st = {.tree_size = rc.pos.tree.size,
                                  .wal_id = si.wal_id_base,
                                  .undeclared = si.undeclared};
                r = sealed_state_write(d->state_dirfd, &st);
                if (r < 0) {
                        free(si.first);
                        goto fail;
                }
        }
        si.samples = &rc.samples;
        si.carried = d->carried;
        r = sealer_start(&d->sealer, &si, d->notify_fd);
        ls_samples_free(&rc.samples); /* the sealer took a copy */
        if (r < 0)
                goto fail;
        if (revs)
                apply_start_revocations(d, revs);

        /* Replay what the WAL holds beyond the archives, flagged as recovered: after the
         * declarations (the sealer seals those first). */
        r = wal_replay(d->wal, si.wal_id_base, replay_entry, &rp, &last_id, &damaged);
        if (r < 0) {
                fprintf(stderr, "logseald: cannot replay the WAL: %s\n", strerror(-r));
                goto fail;
        }
        if (rp.chunk)
                sealer_push(d->sealer, rp.chunk);
        if (rp.count != count.count)
                /* Nothing writes the WAL before wal_start(): a bug, not a condition. */
                fprintf(stderr, "logseald: internal error: the WAL replayed %" PRIu64
                                " records after counting %" PRIu64 "\n",
                        rp.count, count.count);
        r = wal_start(d->wal, MAX(last_id, si.wal_id_base) + 1);
        if (r < 0) {
                fprintf(stderr, "logseald: cannot start the WAL: %s\n", strerror(-r));
                goto fail;
        }
        if (damaged || rp.missing) {
                LsControlBuilder *b = malloc(sizeof(*b));
                if (!b) {
                        r = -ENOMEM;
                        goto fail;
                }
                if (damaged) {
                        ls_control_begin(b, LS_CTL_LOSS);
                        ls_control_add_u64(b, LS_TAG_COUNT, 0);
                        ls_control_add_u16(b, LS_TAG_CAUSE, LS_LOSS_WAL_DAMAGE);
                        ls_control_add_str(b, LS_TAG_TEXT,
                                           "unreadable write-ahead-log tail after an unclean stop "
                                           "(record count unknown)");
                        emit_control(d, b);
                }
                if (rp.missing) {
                        fprintf(stderr, "logseald: %" PRIu64 " write-ahead-log entries are "
                                        "missing before the ones recovered\n", rp.missing);
                        ls_control_begin(b, LS_CTL_LOSS);
                        ls_control_add_u64(b, LS_TAG_COUNT, rp.missing);
                        ls_control_add_u16(b, LS_TAG_CAUSE, LS_LOSS_WAL_DAMAGE);
                        ls_control_add_str(b, LS_TAG_TEXT,
                                           "write-ahead-log entries missing after an unclean "
                                           "stop");
                        emit_control(d, b);
                }
                free(b);
        }
        emit_start(d);
        d->last_ingest_ns = now_realtime_ns();
        r = ingest_commit(d);
        if (r < 0)
                goto fail;
        return 0;
fail:
        ls_samples_free(&rc.samples);
        return r;
}
