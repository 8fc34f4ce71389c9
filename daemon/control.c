/* SPDX-License-Identifier: Apache-2.0 */
/* control.c: the control socket (STATE/control.sock, 0600): `logsealctl status` and friends */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "control.h"
#include "control-socket.h"
#include "hash.h"
#include "ingest.h"
#include "listen.h"
#include "logseald.h"
#include "sources.h"
#include "state.h"
#include "text.h"
#include "util.h"

/*
 * Protocol: the client sends one command line; the daemon answers with one
 * JSON object and closes. Requests are at most 32 KiB; anything else gets
 * {"error": ...}. Only the daemon's user can connect (mode 0600), and only root and that
 * user are served (SO_PEERCRED): another uid gets {"error": "permission denied ..."}.
 *   status                  counters and the latest checkpoint
 *   checkpoint              the latest signed checkpoint (SPEC §7.2) as {"checkpoint": TEXT}
 *   revoke HEX              seal a root-signed revocation (SPEC §9.2) into the chain; of the
 *                           key in use: first move to a new key (sealer_revoke_key), or refuse
 *   rotate-begin            admin rotation: reserve the next batch for a new signing key;
 *                           answers its public key, epoch and batch (sealer.c)
 *   rotate-commit HEX       the root-signed certificate (SPEC §9.1) for that key
 *   root-cert HEX           root rotation: a new root certified by a trusted root (kind 2),
 *                           sealed into the chain in a KEY_TRANSITION record
 *   custody HEX             seal a CUSTODY control record body (SPEC §4.4), checked field by
 *                           field and sealed with the peer's PID and UID; answers its WAL id
 *   control-seq WALID       where that record went: {"seq", "durable"} once sealed
 */
#define REQUEST_MAX 32768

typedef struct Client {
        Daemon *d;
        int fd;
        struct ucred peer;             /* SO_PEERCRED at accept */
        int refused;                   /* not root, not the daemon's user */
        sd_event_source *src;
        char buf[REQUEST_MAX];
        size_t len;
} Client;

/*
 * When the signing key changes next ([keys] epoch_interval, epoch_batches): the batch and
 * the wall-clock time at which the sealer starts the change (whichever comes first does it;
 * the new key signs from the batch after the one that carries its certificate). null for
 * a limit that is not set.
 */
static json_t *next_epoch_json(Daemon *d, const LsBatchHeader *last, int have_last)
{
        uint64_t done, age, next = have_last ? last->batch_no + 1 : 0;
        json_t *o = json_object();

        sealer_epoch_progress(d->sealer, &done, &age);
        if (d->cfg.epoch_batches)
                json_object_set_new(o, "batch",
                                    json_integer((json_int_t) (next + (done < d->cfg.epoch_batches ?
                                                                       d->cfg.epoch_batches - done :
                                                                       0))));
        else
                json_object_set_new(o, "batch", json_null());
        if (d->cfg.epoch_interval_ns)
                json_object_set_new(o, "time_ns",
                                    json_integer((json_int_t) (now_realtime_ns() +
                                                               (age < d->cfg.epoch_interval_ns ?
                                                                        d->cfg.epoch_interval_ns - age :
                                                                        0))));
        else
                json_object_set_new(o, "time_ns", json_null());
        json_object_set_new(o, "epoch_batches", json_integer(d->cfg.epoch_batches));
        json_object_set_new(o, "epoch_interval_ns", json_integer((json_int_t) d->cfg.epoch_interval_ns));
        return o;
}

static json_t *status_json(Daemon *d)
{
        SealerStats *st = sealer_stats(d->sealer);
        LsBatchHeader h;
        char hex[2 * LS_HASH_LEN + 1], t[64];
        json_t *o = json_object(), *ls = json_array();
        int have_last;

        ls_hex(hex, d->chain_id, LS_CHAIN_ID_LEN);
        json_object_set_new(o, "version", json_string(LOGSEAL_VERSION));
        json_object_set_new(o, "pid", json_integer(getpid()));
        json_object_set_new(o, "chain_id", json_string(hex));
        json_object_set_new(o, "state", json_string(atomic_load(&st->degraded) ? "degraded" :
                                                    d->paused                  ? "paused" :
                                                                                 "running"));
        json_object_set_new(o, "received", json_integer((json_int_t) d->received));
        json_object_set_new(o, "truncated", json_integer((json_int_t) d->truncated));
        json_object_set_new(o, "parse_failed", json_integer((json_int_t) d->parse_failed));
        json_object_set_new(o, "identity_missing",
                            json_integer((json_int_t) d->identity_missing));
        json_object_set_new(o, "sealed", json_integer((json_int_t) atomic_load(&st->records_sealed)));
        json_object_set_new(o, "batches", json_integer((json_int_t) atomic_load(&st->batches)));
        json_object_set_new(o, "archives_sealed",
                            json_integer((json_int_t) atomic_load(&st->archives_sealed)));
        json_object_set_new(o, "backlog_bytes", json_integer((json_int_t) sealer_backlog(d->sealer)));
        if (atomic_load(&st->zstd_level))
                json_object_set_new(o, "compression_level",
                                    json_integer(atomic_load(&st->zstd_level)));
        json_object_set_new(o, "compression_auto",
                            json_boolean(d->cfg.zstd_level == LS_ZSTD_LEVEL_AUTO));
        json_object_set_new(o, "declared_lost", json_integer((json_int_t) d->declared_lost));
        if (atomic_load(&st->last_seal_ns))
                json_object_set_new(o, "last_seal_ns",
                                    json_integer((json_int_t) atomic_load(&st->last_seal_ns)));
        have_last = sealer_last_batch(d->sealer, &h, NULL) == 0;
        if (have_last) {
                json_t *cp = json_object();
                json_object_set_new(cp, "batch", json_integer((json_int_t) h.batch_no));
                json_object_set_new(cp, "archive", json_integer((json_int_t) h.archive_no));
                json_object_set_new(cp, "tree_size", json_integer((json_int_t) h.tree_size));
                ls_hex(hex, h.tree_root, LS_HASH_LEN);
                json_object_set_new(cp, "root", json_string(hex));
                ls_hex(hex, h.key_id, LS_KEY_ID_LEN);
                json_object_set_new(cp, "key_id", json_string(hex));
                json_object_set_new(cp, "epoch", json_integer((json_int_t) h.epoch));
                snprintf(t, sizeof(t), "%" PRIu64, h.max_time_ns);
                json_object_set_new(cp, "time_ns", json_string(t));
                json_object_set_new(o, "last_checkpoint", cp);
        }
        for (size_t i = 0; i < d->nlisteners; i++) {
                static const char *const kinds[] = {"udp", "tcp", "unix-dgram", "unix-stream"};
                Listener *l = d->listeners[i];
                int ip = l->conf->kind == LISTEN_UDP || l->conf->kind == LISTEN_TCP;
                json_t *e = json_pack("{s:s,s:s,s:s?,s:I}", "name", l->conf->name, "kind",
                                      kinds[l->conf->kind], "sender_identity",
                                      l->conf->sender_identity ? "structured-data" : NULL,
                                      "connections", (json_int_t) l->nconns);
                if (ip) {
                        json_object_set_new(e, "address", json_string(l->conf->address));
                        json_object_set_new(e, "port", json_integer(l->conf->port));
                } else {
                        json_object_set_new(e, "path", json_string(l->conf->address));
                }
                json_array_append_new(ls, e);
        }
        json_object_set_new(o, "listeners", ls);
        json_object_set_new(o, "next_epoch_change", next_epoch_json(d, &h, have_last));
        /* [limits]: per sender, the refusals, closes, rate-limit drops and throttling. */
        json_object_set_new(o, "buffered_bytes",
                            json_integer((json_int_t) (d->sources ? *sources_buffered(d->sources) : 0)));
        json_object_set_new(o, "sources", sources_json(d->sources, 20)); /* fits logsealctl's 64 KiB */
        json_object_set_new(o, "confinement",
                            json_pack("{s:i,s:b,s:b,s:b,s:b,s:b,s:I,s:b,s:I,s:b,s:b}",
                                      "landlock_abi", d->confinement.landlock_abi, "enforced",
                                      d->confinement.enforced, "no_new_privs",
                                      d->confinement.no_new_privs, "keys_readable",
                                      d->confinement.keys_readable, "sealer_keys_readable",
                                      atomic_load(&sealer_stats(d->sealer)->keys_readable),
                                      "signer_confined", signer_confined(d->signer) > 0,
                                      "signer_pid", (json_int_t) signer_pid(d->signer),
                                      "disabled", d->confinement.disabled, "uid",
                                      (json_int_t) d->confinement.uid, "no_capabilities",
                                      d->confinement.no_capabilities, "bounding_set_empty",
                                      d->confinement.bounding_empty));
        return o;
}

static json_t *cmd_checkpoint(Daemon *d)
{
        char text[LS_MAX_CHECKPOINT_TEXT];
        uint8_t pk[LS_PK_LEN];
        LsBatchHeader h;
        int n;

        if (sealer_last_batch(d->sealer, &h, pk) < 0)
                return json_pack("{s:s}", "error", "no batch sealed yet");
        n = ls_batch_checkpoint(&h, pk, text, sizeof(text));
        if (n < 0)
                return json_pack("{s:s}", "error", strerror(-n));
        return json_pack("{s:s%}", "checkpoint", text, (size_t) n);
}

static json_t *error_json(const char *what, int r)
{
        return json_pack("{s:s++}", "error", what, ": ", strerror(-r));
}

int revocation_apply(Daemon *d, const uint8_t *enc, size_t n, RevokeOutcome *out)
{
        char id[2 * LS_KEY_ID_LEN + 1], nid[2 * LS_KEY_ID_LEN + 1];
        LsControlBuilder *b;
        const uint8_t *body;
        LsRevocation rv;
        const StateRoot *root;
        size_t len;
        int r, changed;

        if (ls_revocation_decode(&rv, enc, n) < 0)
                return -EBADMSG;
        if (memcmp(rv.chain_id, d->chain_id, LS_CHAIN_ID_LEN) != 0)
                return -EXDEV;
        root = state_root_find(&d->roots, rv.issuer_key_id);
        if (!root || ls_revocation_verify(&rv, root->pk) < 0)
                return -EKEYREJECTED;
        ls_hex(id, rv.revoked_key_id, LS_KEY_ID_LEN);
        changed = sealer_revoke_key(d->sealer, &rv, out);
        if (changed == -EKEYREVOKED)
                fprintf(stderr, "logseald: signing key %s is in use and revoked from a batch or "
                                "time that already covers the next batch: only a root-certified "
                                "key can take over (`logsealctl key rotate`)\n",
                        id);
        if (changed < 0)
                return changed;
        if (changed > 0) {
                ls_hex(nid, out->key_id, LS_KEY_ID_LEN);
                fprintf(stderr, "logseald: signing key %s is revoked: epoch %" PRIu64 " (key %s) "
                                "signs from batch %" PRIu64 "; key %s is erased\n",
                        id, out->epoch, nid, out->valid_from_batch, id);
        }
        b = malloc(sizeof(*b));
        if (!b)
                return -ENOMEM;
        ls_control_begin(b, LS_CTL_REVOCATION);
        ls_control_add_str(b, LS_TAG_TEXT, "revocation signed by the root key");
        ls_control_add(b, LS_TAG_REVOCATION, enc, n);
        r = ls_control_end(b, &body, &len);
        if (r == 0)
                r = ingest_control(d, LS_CTL_REVOCATION, body, len);
        free(b);
        return r < 0 ? r : changed;
}

/* A revocation is accepted only if the root key of this state directory signed it for this chain.
 * When it names the key in use, the sealer first moves to a new key (sealer.c); a revocation
 * that already covers what that key signs next is refused, and nothing is sealed. */
static json_t *cmd_revoke(Daemon *d, const char *hex)
{
        uint8_t enc[LS_REVOCATION_MAX_LEN];
        char id[2 * LS_KEY_ID_LEN + 1];
        RevokeOutcome out;
        size_t n = strlen(hex) / 2;
        int r, changed;

        if (n > sizeof(enc) || ls_unhex(enc, n, hex, strlen(hex)) < 0)
                return json_pack("{s:s}", "error", "not a revocation");
        changed = revocation_apply(d, enc, n, &out);
        switch (changed) {
        case -EBADMSG:
                return json_pack("{s:s}", "error", "not a revocation");
        case -EXDEV:
                return json_pack("{s:s}", "error", "revocation for another chain");
        case -EKEYREJECTED:
                return json_pack("{s:s}", "error", "not signed by this appliance's root key");
        case -EKEYREVOKED:
                ls_hex(id, enc + 32, LS_KEY_ID_LEN); /* revoked_key_id (SPEC §9.2) */
                return json_pack("{s:s+,s:b}", "error", id,
                                 " is the signing key in use and this revocation already covers "
                                 "the next batch it signs (from that batch or time on); the "
                                 "appliance cannot hand over to a new key in time by itself. Put a "
                                 "root-certified key in charge with `logsealctl key rotate`, then "
                                 "revoke this key again",
                                 "key_in_use", 1);
        case -EBUSY:
                return json_pack("{s:s}", "error", "a key rotation or revocation is in progress; "
                                                   "try again");
        default:
                break;
        }
        if (changed < 0)
                return error_json("cannot seal the revocation", changed);
        r = ingest_commit(d);
        if (r < 0)
                return error_json("cannot seal the revocation", r);
        fprintf(stderr, "logseald: a key revocation was sealed into the chain\n");
        if (changed > 0) {
                ls_hex(id, out.key_id, LS_KEY_ID_LEN);
                return json_pack("{s:b,s:I,s:{s:s,s:I,s:I}}", "ok", 1, "next_seq",
                                 (json_int_t) atomic_load(&sealer_stats(d->sealer)->last_tree_size),
                                 "new_key", "key_id", id, "epoch", (json_int_t) out.epoch,
                                 "valid_from_batch", (json_int_t) out.valid_from_batch);
        }
        return json_pack("{s:b,s:I}", "ok", 1, "next_seq",
                         (json_int_t) atomic_load(&sealer_stats(d->sealer)->last_tree_size));
}

static json_t *cmd_rotate_begin(Daemon *d)
{
        RotateOffer o;
        char pk[2 * LS_PK_LEN + 1], cid[2 * LS_CHAIN_ID_LEN + 1];
        int r = sealer_rotate_begin(d->sealer, &o);

        if (r == -EBUSY)
                return json_pack("{s:s}", "error", "a key rotation is already in progress");
        if (r < 0)
                return error_json("cannot reserve a batch for the new key", r);
        ls_hex(pk, o.pk, LS_PK_LEN);
        ls_hex(cid, d->chain_id, LS_CHAIN_ID_LEN);
        return json_pack("{s:s,s:s,s:I,s:I}", "chain_id", cid, "public_key", pk, "epoch",
                         (json_int_t) o.epoch, "valid_from_batch", (json_int_t) o.batch);
}

/* Decodes a certificate in hex and checks it was signed by a trusted root key. */
static int root_signed_cert(Daemon *d, const char *hex, LsCert *c)
{
        uint8_t enc[LS_CERT_LEN];
        const StateRoot *root;

        if (strlen(hex) != 2 * LS_CERT_LEN || ls_unhex(enc, LS_CERT_LEN, hex, strlen(hex)) < 0 ||
            ls_cert_decode(c, enc, LS_CERT_LEN) < 0)
                return -EBADMSG;
        root = state_root_find(&d->roots, c->issuer_key_id);
        if (!root)
                return -ENOKEY;
        return ls_cert_verify(c, root->pk);
}

static json_t *cmd_rotate_commit(Daemon *d, const char *hex)
{
        char id[2 * LS_KEY_ID_LEN + 1];
        LsCert c;
        int r = root_signed_cert(d, hex, &c);

        if (r < 0)
                return json_pack("{s:s}", "error", r == -EBADMSG ? "not a key certificate" :
                                                   "not signed by a root key of this appliance");
        if (c.kind != LS_CERT_SIGNING || memcmp(c.chain_id, d->chain_id, LS_CHAIN_ID_LEN) != 0)
                return json_pack("{s:s}", "error", "not a signing-key certificate for this chain");
        r = sealer_rotate_commit(d->sealer, &c);
        if (r == -ESTALE)
                return json_pack("{s:s}", "error", "the reservation expired; run the rotation again");
        if (r < 0)
                return json_pack("{s:s}", "error", "the certificate does not match the reservation");
        ls_hex(id, c.key_id, LS_KEY_ID_LEN);
        fprintf(stderr, "logseald: admin rotation: root-certified key %s takes over at batch %" PRIu64
                        "\n",
                id, c.valid_from_batch);
        return json_pack("{s:b,s:s,s:I,s:I}", "ok", 1, "key_id", id, "epoch", (json_int_t) c.epoch,
                         "valid_from_batch", (json_int_t) c.valid_from_batch);
}

static json_t *cmd_root_cert(Daemon *d, const char *hex)
{
        char id[2 * LS_KEY_ID_LEN + 1];
        uint8_t enc[LS_CERT_LEN];
        LsControlBuilder *b;
        const uint8_t *body;
        size_t len;
        LsCert c;
        int r = root_signed_cert(d, hex, &c);

        if (r < 0)
                return json_pack("{s:s}", "error", r == -EBADMSG ? "not a key certificate" :
                                                   "not signed by a root key of this appliance");
        if (c.kind != LS_CERT_ROOT)
                return json_pack("{s:s}", "error", "not a root-rotation certificate");
        r = state_roots_add(&d->roots, &c);
        if (r < 0)
                return error_json("cannot add the new root key", r);
        b = malloc(sizeof(*b));
        if (!b)
                return json_pack("{s:s}", "error", "out of memory");
        ls_cert_encode(&c, enc);
        ls_control_begin(b, LS_CTL_KEY_TRANSITION);
        ls_control_add_str(b, LS_TAG_TEXT, "root rotation: new root key certified by the previous root");
        ls_control_add(b, LS_TAG_CERT, enc, sizeof(enc));
        r = ls_control_end(b, &body, &len);
        if (r == 0)
                r = ingest_control(d, LS_CTL_KEY_TRANSITION, body, len);
        if (r == 0)
                r = ingest_commit(d);
        free(b);
        if (r < 0)
                return error_json("cannot seal the root rotation", r);
        ls_hex(id, c.key_id, LS_KEY_ID_LEN);
        fprintf(stderr, "logseald: root rotation: root key %s (generation %" PRIu64
                        ") certified and sealed into the chain\n",
                id, c.epoch);
        return json_pack("{s:b,s:s,s:I}", "ok", 1, "key_id", id, "next_seq",
                         (json_int_t) atomic_load(&sealer_stats(d->sealer)->last_tree_size));
}

/*
 * Custody records come from logsealctl (export, query by case, verification runs): what it
 * states is checked, field by field (SPEC §4.4): only the fields a client may state, each
 * within its size, text that a person can read without being misled (ls_text_is_clean,
 * text.h), an
 * action a client performs (a checkpoint publication is the daemon's own). The record sealed
 * is rebuilt from those fields with the client's PID and UID as the kernel gives them
 * (SO_PEERCRED), which no client can state.
 */
static const char *custody_rebuild(const uint8_t *in, size_t n, const struct ucred *peer,
                                   LsControlBuilder *b)
{
        int pid_done = 0, uid_done = 0;
        size_t pos = LS_CONTROL_HDR_LEN;

        ls_control_begin(b, LS_CTL_CUSTODY);
        /* ls_control_decode checked the layout: whole fields, increasing tags, sizes. */
        while (pos + 4 <= n) {
                uint16_t tag = ls_get16(in + pos), len = ls_get16(in + pos + 2);
                const uint8_t *v = in + pos + 4;
                pos += 4 + (size_t) len;
                switch (tag) {
                case LS_TAG_TEXT:
                case LS_TAG_CASE_ID:
                case LS_TAG_EXAMINER:
                case LS_TAG_FILTER:
                case LS_TAG_COMMAND:
                        if (!ls_text_is_clean(v, len))
                                return "a text field holds control characters, bidirectional or "
                                       "invisible formatting, or invalid UTF-8";
                        break;
                case LS_TAG_ACTION:
                        if (ls_get16(v) < LS_CUSTODY_EXPORT || ls_get16(v) > LS_CUSTODY_VERIFY)
                                return "not an action a client performs";
                        break;
                case LS_TAG_COUNT:
                case LS_TAG_MANIFEST_HASH:
                        break;
                default:
                        return "a field a client may not state (PID and UID are the daemon's)";
                }
                if (!pid_done && tag > LS_TAG_PID) {
                        ls_control_add_u32(b, LS_TAG_PID, (uint32_t) peer->pid);
                        pid_done = 1;
                }
                if (!uid_done && tag > LS_TAG_UID) {
                        ls_control_add_u32(b, LS_TAG_UID, (uint32_t) peer->uid);
                        uid_done = 1;
                }
                ls_control_add(b, tag, v, len);
        }
        if (!pid_done)
                ls_control_add_u32(b, LS_TAG_PID, (uint32_t) peer->pid);
        if (!uid_done)
                ls_control_add_u32(b, LS_TAG_UID, (uint32_t) peer->uid);
        return NULL;
}

static json_t *cmd_custody(Daemon *d, const char *hex, const struct ucred *peer)
{
        uint8_t body[LS_MAX_CONTROL_BODY];
        size_t n = strlen(hex) / 2, len;
        LsControlBuilder *b;
        const uint8_t *out;
        const char *why;
        LsControl c;
        const uint8_t *v;
        uint16_t vlen;
        int r;

        if (strlen(hex) % 2 || n > sizeof(body) || ls_unhex(body, n, hex, strlen(hex)) < 0 ||
            ls_control_decode(&c, body, n, NULL) < 0 || c.type != LS_CTL_CUSTODY ||
            !ls_control_get(&c, LS_TAG_ACTION, &v, &vlen))
                return json_pack("{s:s}", "error", "not a custody record");
        b = malloc(sizeof(*b));
        if (!b)
                return json_pack("{s:s}", "error", "out of memory");
        why = custody_rebuild(body, n, peer, b);
        r = why ? -EINVAL : ls_control_end(b, &out, &len);
        if (why || r < 0) {
                fprintf(stderr, "logseald: refused a custody record from uid %u pid %d: %s\n",
                        (unsigned) peer->uid, (int) peer->pid, why ? why : strerror(-r));
                free(b);
                return json_pack("{s:s+}", "error", "custody record refused: ",
                                 why ? why : "too long");
        }
        r = ingest_control(d, LS_CTL_CUSTODY, out, len);
        free(b);
        if (r == 0)
                r = ingest_commit(d);
        if (r < 0)
                return error_json("cannot seal the custody record", r);
        return json_pack("{s:b,s:I}", "ok", 1, "wal_id", (json_int_t) d->last_wal_id);
}

static json_t *cmd_control_seq(Daemon *d, const char *arg)
{
        char *end;
        uint64_t seq, wal_id;

        errno = 0;
        wal_id = strtoull(arg, &end, 10);
        if (errno || *end || end == arg)
                return json_pack("{s:s}", "error", "control-seq takes a WAL id");
        if (sealer_seq_of_wal(d->sealer, wal_id, &seq) < 0)
                return json_pack("{s:b}", "pending", 1);
        return json_pack("{s:I,s:b}", "seq", (json_int_t) seq, "durable",
                         seq < atomic_load(&sealer_stats(d->sealer)->last_tree_size));
}

static void client_free(Client *c)
{
        sd_event_source_disable_unref(c->src);
        close(c->fd);
        free(c);
}

static void reply(Client *c, json_t *o)
{
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (s) {
                size_t n = strlen(s);
                /* Small replies to a local socket: a short write is the client's problem. */
                (void) !write(c->fd, s, n);
                (void) !write(c->fd, "\n", 1);
                free(s);
        }
        client_free(c);
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        Client *c = ud;
        ssize_t n;
        char *nl;

        (void) s;
        (void) revents;
        n = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
        if (n <= 0) {
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                client_free(c);
                return 0;
        }
        c->len += (size_t) n;
        c->buf[c->len] = 0;
        nl = strchr(c->buf, '\n');
        if (!nl) {
                if (c->len == sizeof(c->buf) - 1)
                        reply(c, json_pack("{s:s}", "error", "request too long"));
                return 0;
        }
        *nl = 0;
        if (c->refused)
                reply(c, json_pack("{s:s}", "error", "permission denied: the control socket "
                                                    "serves root and the daemon's user only"));
        else if (!strcmp(c->buf, "status"))
                reply(c, status_json(c->d));
        else if (!strcmp(c->buf, "checkpoint"))
                reply(c, cmd_checkpoint(c->d));
        else if (!strncmp(c->buf, "revoke ", 7))
                reply(c, cmd_revoke(c->d, c->buf + 7));
        else if (!strcmp(c->buf, "rotate-begin"))
                reply(c, cmd_rotate_begin(c->d));
        else if (!strncmp(c->buf, "rotate-commit ", 14))
                reply(c, cmd_rotate_commit(c->d, c->buf + 14));
        else if (!strncmp(c->buf, "root-cert ", 10))
                reply(c, cmd_root_cert(c->d, c->buf + 10));
        else if (!strncmp(c->buf, "custody ", 8))
                reply(c, cmd_custody(c->d, c->buf + 8, &c->peer));
        else if (!strncmp(c->buf, "control-seq ", 12))
                reply(c, cmd_control_seq(c->d, c->buf + 12));
        else
                reply(c, json_pack("{s:s}", "error", "unknown command"));
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        Daemon *d = ud;
        int cfd;

        (void) s;
        (void) revents;
        while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                Client *c = calloc(1, sizeof(*c));
                socklen_t sl = sizeof(c->peer);
                if (!c) {
                        close(cfd);
                        continue;
                }
                c->d = d;
                c->fd = cfd;
                /* The socket is 0600, the daemon user's; this holds whatever its mode
                 * becomes (a chmod, a descriptor passed on): root and that user only. */
                if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->peer, &sl) < 0 ||
                    (c->peer.uid != 0 && c->peer.uid != geteuid())) {
                        static uint64_t refused;
                        if (refused++ < 16)
                                fprintf(stderr, "logseald: control socket: refused uid %u pid "
                                                "%d (root and uid %u only)\n",
                                        (unsigned) c->peer.uid, (int) c->peer.pid,
                                        (unsigned) geteuid());
                        c->refused = 1; /* answered once its request is read */
                }
                if (sd_event_add_io(d->event, &c->src, cfd, EPOLLIN, on_client, c) < 0) {
                        close(cfd);
                        free(c);
                }
        }
        return 0;
}

int control_open(Daemon *d)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd, r;
        mode_t old;

        r = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", d->cfg.state_dir, STATE_CONTROL);
        if (r < 0 || (size_t) r >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) unlinkat(d->state_dirfd, STATE_CONTROL, 0);
        old = umask(0177);
        r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
        umask(old);
        if (r < 0 || listen(fd, 16) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        r = sd_event_add_io(d->event, &d->control_src, fd, EPOLLIN, on_accept, d);
        if (r < 0) {
                close(fd);
                return r;
        }
        sd_event_source_set_io_fd_own(d->control_src, 1);
        return 0;
}

void control_close(Daemon *d)
{
        d->control_src = sd_event_source_disable_unref(d->control_src);
        (void) unlinkat(d->state_dirfd, STATE_CONTROL, 0);
}
