/* SPDX-License-Identifier: Apache-2.0 */
/* signer.h: the signer process, the only part of logseald that holds secret keys */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "batch.h"
#include "chain-writer.h"
#include "defs.h"
#include "keys.h"

/*
 * logseald forks the signer before it loads a key, starts a thread or opens a
 * socket. The signer keeps keys/ (the current epoch key, the next one while a
 * change is pending) in libsodium guarded memory, does every key-file write and
 * erasure, and signs what the ingest process asks — but only what the sealer
 * signs: archive headers, seal trailers, and batch headers (whose signatures
 * are the chain's checkpoints) that extend the last one it signed. Certificates
 * it issues itself (an epoch change), and epoch closes only for the genuine last
 * batch of the epoch before (checked against the history), so a compromised
 * ingest process can have records signed while it runs, but can neither carry a
 * key away, nor certify one of its own to outlive the epoch's erasure, nor
 * stockpile checkpoints for tree sizes or batches the chain has not reached.
 *
 * The two talk over a SOCK_SEQPACKET socket pair, one request and one reply at
 * a time; every message's size is checked against its operation. The signer
 * ignores SIGTERM and SIGINT (the ingest process still needs signatures while
 * it seals what is pending), exits when the socket closes, and is killed by
 * the kernel when the ingest process dies. It is not dumpable, so the ingest
 * process cannot read its memory either. If it disappears, the ingest process
 * exits at once: what it read is in the WAL, and the next start recovers it.
 */

typedef struct Signer Signer;

/* The public half of a key the signer holds. */
typedef struct SignerKey {
        uint8_t pk[LS_PK_LEN];
        uint8_t key_id[LS_KEY_ID_LEN];
        uint64_t epoch;
} SignerKey;

/* Forks the signer. state_dirfd is the state directory (the signer uses keys/ only). */
int signer_spawn(Signer **ret, int state_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN]);
pid_t signer_pid(const Signer *s);
/* Whether the signer confined itself to keys/ (Landlock); known after signer_load(). */
int signer_confined(const Signer *s);

/*
 * Loads keys/signing.key, first finishing an epoch change a crash interrupted
 * between erasing the old key and renaming the new one, and keys/signing.next.key
 * if present (*has_next). Epochs are 0: the caller knows them from the certificates.
 */
int signer_load(Signer *s, SignerKey *cur, SignerKey *next, int *has_next);

/* An LsSigner that has the signer process sign with key k (k->epoch goes into headers): archive
 * headers and seal trailers. Batch headers go through signer_sign_batch(). */
void signer_bind(Signer *s, const SignerKey *k, LsSigner *ret);

/* Where the chain continues (recovery's position): set once, before the first batch. Until
 * then no batch header is signed (-ESTALE); a second call is refused (-EALREADY). */
int signer_set_position(Signer *s, const LsChainPosition *pos);
/*
 * An LsBatchSignFn (batch-builder.h; ud is the Signer): signs h (key_id and epoch set) with the
 * key it names, only if it extends the last header signed (next batch number, first_seq at
 * the tree size reached, prev_header_hash of that header) and is of this chain: else -EPERM.
 * The signer makes the checkpoint note body from the header itself (SPEC §7.1).
 */
int signer_sign_batch(void *ud, LsBatchHeader *h);

/* Scheduled epoch change: a new key for `epoch`, certified by the current key from batch
 * valid_from_batch, made durable (keys/signing.next.key, history) before the reply. */
int signer_prepare_next(Signer *s, uint64_t epoch, uint64_t valid_from_batch, LsCert *ret_cert);
/* Admin rotation, step 1: a new key in memory only; its public half goes to the root. */
int signer_generate(Signer *s, uint64_t epoch, SignerKey *ret);
/* Step 2: the root-signed certificate of that key: key and certificate made durable as the
 * next key. -EINVAL when the certificate is not for the generated key. */
int signer_install(Signer *s, const LsCert *cert);
/* The next key takes over: the current key's file is overwritten, synced and removed, the
 * next key renamed into its place, the old key's memory wiped. */
int signer_finish(Signer *s);
/* Forgets the next (or generated) key, erasing its file if it has one. */
int signer_discard(Signer *s);
/*
 * The epoch close (SPEC §9.4) of the epoch whose last batch is `last`, signed by issuer_key_id
 * (the current or the next key), which keys/history.lsk must certify for the following epoch
 * from batch last->batch_no + 1; `last` must be signed by the key it certifies for that epoch.
 * max_time_ns: the largest max_time_ns of the epoch's batches. The close is in the history,
 * durably, when this returns; asked again, the signer returns the same one. -EPERM when the
 * history does not make `last` the end of the issuer's previous epoch or `last` is not the
 * last batch the signer signed (or was given with signer_set_position(); -ESTALE before),
 * -EEXIST when another close of that epoch is there.
 */
int signer_close(Signer *s, const uint8_t issuer_key_id[LS_KEY_ID_LEN], const LsBatchHeader *last,
                 uint64_t max_time_ns, LsEpochClose *ret);

/* Closes the socket: the signer wipes its keys and exits. Accepts NULL. */
void signer_free(Signer *s);
