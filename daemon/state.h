/* SPDX-License-Identifier: Apache-2.0 */
/* state.h: the state directory shared by logseald and logsealctl */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "defs.h"
#include "keys.h"

/*
 * STATE_DIR/
 *   chain.id              the chain id, 32 lower-case hex digits and LF
 *   root.pub              root public key file (SPEC §10.1): what investigators get
 *   root.key              root secret key (SPEC §10.2, mode 0600) — only when created by
 *                         `logsealctl init` without --root-key; move it offline
 *   keys/signing.key      the current epoch's secret key (mode 0600, no passphrase: the
 *                         daemon starts unattended)
 *   keys/history.lsk      key history file (SPEC §10.3): every certificate, revocation and
 *                         epoch close
 *   archives/             chain-<id>-<n>.lsa (SPEC §8)
 *   wal/                  write-ahead log segments (daemon/wal.c)
 *   wal/sealed.state      last durable position (daemon/sealer-archive.c; older versions kept it
 *                         in STATE_DIR, still read when the new one is missing)
 *   index/index.sqlite    derived search index, rebuilt by `logsealctl reindex` (with its
 *                         -wal and -shm files; a STATE_DIR/index.sqlite of older versions is
 *                         removed by logseald at start)
 *   wal/checkpoint.publish the latest checkpoint handed to [checkpoint] publish_command
 *                         when no publish_dir is configured
 *   control.sock          logsealctl <-> logseald (mode 0600)
 *
 * Once started, logseald's ingest side (network input, control socket, checkpoint
 * publication) touches archives/, wal/ and index/ only, never the directory itself nor
 * keys/: daemon/confine.c holds it to that.
 */
#define STATE_CHAIN_ID "chain.id"
#define STATE_ROOT_PUB "root.pub"
#define STATE_ROOT_KEY "root.key"
#define STATE_KEYS_DIR "keys"
#define STATE_SIGNING_KEY "keys/signing.key"
#define STATE_NEXT_KEY "keys/signing.next.key"
#define STATE_HISTORY "keys/history.lsk"
#define STATE_ARCHIVES "archives"
#define STATE_WAL "wal"
#define STATE_SEALED "wal/sealed.state"
#define STATE_SEALED_LEGACY "sealed.state"
#define STATE_INDEX_DIR "index"
#define STATE_INDEX_DIR_MODE 0750 /* index.sqlite itself is 0640 */
#define STATE_INDEX "index/index.sqlite"
#define STATE_INDEX_LEGACY "index.sqlite"
#define STATE_CONTROL "control.sock"
#define STATE_PUBLISH_COPY "wal/checkpoint.publish"
#define STATE_SENDERS "wal/senders.state" /* sequence.c: last sequence number per sender */

/* keyfile.c: all of p..p+n to fd (retried after EINTR); -errno. */
int write_all(int fd, const void *p, size_t n);
/* keyfile.c: small files written atomically (temp file, fsync, rename, fsync dir). */
int write_file_atomic(int dirfd, const char *name, const void *p, size_t n, int mode);
/* Reads a whole file of at most max bytes (not NUL-terminated unless room: *ret has n+1 bytes, p[n]=0). */
int read_file_at(int dirfd, const char *name, size_t max, uint8_t **ret, size_t *ret_len);
/* Loads the chain id. */
int state_load_chain_id(int dirfd, uint8_t chain_id[LS_CHAIN_ID_LEN]);
/* Loads keys/signing.key (kdf 0) into guarded memory. */
int state_load_signing_key(int dirfd, LsKeyPair **ret);
/* The certificate of `key_id` from keys/history.lsk (-ENOKEY: none). */
int state_find_cert(int dirfd, const uint8_t key_id[LS_KEY_ID_LEN], LsCert *ret);
/* The epoch close of (chain, epoch) from keys/history.lsk (SPEC §9.4): -ENOKEY when there is
 * none, -EILSEQ when there are two different ones. */
int state_find_close(int dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t epoch,
                     LsEpochClose *ret);
/* The first `max` revocations of `key_id` in keys/history.lsk, signatures NOT checked: each
 * decoded (without its reason) and in its encoding; 0 with none (or no history). */
typedef struct StateRevocation {
        LsRevocation rv;
        uint8_t enc[LS_REVOCATION_MAX_LEN];
        size_t len;
} StateRevocation;
int state_find_revocations(int dirfd, const uint8_t key_id[LS_KEY_ID_LEN], StateRevocation *ret,
                           size_t max, size_t *ret_n);
/* The root keys this state directory trusts: root.pub (generation 0) and every root
 * certified from it by a root-rotation certificate (kind 2) in keys/history.lsk. */
#define STATE_MAX_ROOTS 16
typedef struct StateRoot {
        uint8_t pk[LS_PK_LEN];
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t generation;
} StateRoot;
typedef struct StateRoots {
        StateRoot k[STATE_MAX_ROOTS];
        size_t n;
} StateRoots;
int state_load_roots(int dirfd, StateRoots *ret);
const StateRoot *state_root_find(const StateRoots *roots, const uint8_t key_id[LS_KEY_ID_LEN]);
/* Adds the subject of a root-rotation certificate signed by a known root: 1 added, 0 known. */
int state_roots_add(StateRoots *roots, const LsCert *c);
/* A crash or power cut while an item was appended to keys/history.lsk leaves it torn, and a
 * torn history is refused as a whole: cut the incomplete last item (1, *ret_cut bytes), or
 * 0 when there is none; other damage is left alone (-EBADMSG). */
int state_repair_history(int dirfd, size_t *ret_cut);
/* Appends a certificate, revocation or epoch close (its encoding) to keys/history.lsk,
 * durably. */
int state_append_history(int dirfd, const uint8_t *p, size_t n);
/* Overwrites a file with zeros, fsyncs, unlinks it and fsyncs the directory. */
int wipe_file(int dirfd, const char *name);
