/* SPDX-License-Identifier: Apache-2.0 */
/* trust.h: the one authority for key trust — which key may sign what, for which chain (SPEC §9.3) */
#pragma once

/*
 * Every mode of the verifier (archives, bundles, checkpoints, consistency) and
 * logsealctl ask this module, and only this module, whether a signature is
 * evidence: chain binding, epoch windows, epoch closes, revocations, root
 * generations and checkpoint signers. SPEC §9.3 is the normative description
 * of exactly what it does; change both together.
 *
 * It starts from one root public key given out of band and learns further keys
 * only from certificates that verify under a key it already trusts. Learning is
 * order-independent: a verdict does not depend on whether keys, closes and
 * revocations arrive from a key history file, a bundle or the chain itself, nor
 * in which order.
 */

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "checkpoint.h"
#include "keys.h"

typedef struct LsKeyInfo {
        uint8_t key_id[LS_KEY_ID_LEN];
        uint8_t pk[LS_PK_LEN];
        int is_root;
        uint64_t epoch;                   /* signing key: epoch; root: generation (given root: 0) */
        uint64_t valid_from_batch;
        uint8_t issuer_key_id[LS_KEY_ID_LEN];
        uint8_t chain_id[LS_CHAIN_ID_LEN]; /* signing key: the only chain it may sign for */
        uint16_t cert_flags;              /* LS_CERT_F_*: CLOSED = format 2 epoch */
        int root_issued;                  /* certified by a root key (not handed over in-chain) */
        int revoked;                      /* some revocation names it */
        /* what this key was seen to sign (filled by ls_trust_note_signed) */
        uint64_t batches_signed;
        uint64_t first_signed, last_signed;   /* batch numbers; LS_UNSET when none */
        uint64_t last_tree_size;
        uint8_t last_tree_root[LS_HASH_LEN];
        uint8_t last_header_hash[LS_HASH_LEN];
        uint64_t max_time_signed;
        uint64_t max_time_batch;
        uint64_t max_size_over_batch;     /* largest tree_size − batch_no it signed */
        int reviewed;                     /* a problem of the summary was reported already */
        int in_history;                   /* certified in a key history the investigator gave */
        int in_evidence;                  /* certified in the evidence (chain, bundle) */
        /* caches (trust.c), valid while their generation matches */
        uint64_t succ_gen, hv_gen;
        size_t succ_idx, hv_idx;
} LsKeyInfo;

typedef struct LsTrust LsTrust;

int ls_trust_new(LsTrust **ret, const uint8_t root_pk[LS_PK_LEN]);
LsTrust *ls_trust_free(LsTrust *t);

/*
 * Adds a certificate. 0 when accepted (or already known), -ENOKEY when its issuer
 * is not trusted (yet), -EXDEV when it names another chain than the one set with
 * ls_trust_set_chain(), -EKEYREJECTED when it is forged, breaks a rule of §9.3 or
 * conflicts with a known key (*ret_why, optional, says which; a static string).
 */
int ls_trust_add_cert(LsTrust *t, const LsCert *c, const char **ret_why);
/* A revocation: 0, -ENOKEY (issuer not a trusted root), -EXDEV, -EKEYREJECTED. */
int ls_trust_add_revocation(LsTrust *t, const LsRevocation *r, const char **ret_why);
/*
 * An epoch close (§9.4): 0, -ENOKEY (issuer not trusted yet), -EXDEV, -EKEYREJECTED
 * (forged, or not the issuer's to make), -EILSEQ when it contradicts a close already
 * known (two closes of one epoch, or a broken prev_close_hash link): the histories
 * disagree, which only a forger makes happen.
 */
int ls_trust_add_close(LsTrust *t, const LsEpochClose *c, const char **ret_why);

/*
 * Loads a key history (§10.3): certificates, revocations and closes in any order.
 * For each item that is not accepted, item_cb (optional) gets its offset, kind
 * ('C', 'R' or 'X') and the result above. Returns 0, or -EBADMSG with *ret_offset
 * at bytes that are no item (the file is then invalid as a whole).
 */
int ls_trust_load_history(LsTrust *t, const uint8_t *p, size_t n,
                          void (*item_cb)(void *ud, size_t offset, char kind, int result,
                                          const char *why),
                          void *ud, size_t *ret_offset);

/* Marks a key as certified in a key history the investigator supplied (bundle readers). */
void ls_trust_mark_in_history(LsTrust *t, const uint8_t key_id[LS_KEY_ID_LEN]);

/*
 * Items added between ls_trust_from_history(t, 1) and (t, 0) come from a key history the
 * investigator supplied (ls_trust_load_history() does this itself); others are evidence.
 */
void ls_trust_from_history(LsTrust *t, int on);

/*
 * A conflict between the investigator's key history and the evidence: two keys certified
 * for one epoch of the chain (or closes that disagree), one learnt only from the history,
 * the other from the evidence. Both are validly signed by the key of the epoch before, so
 * one of them was made with a copy of that key — which one, the inputs cannot tell: what
 * the history decided before the evidence's item arrived is not a verdict on the evidence
 * (SPEC §9.3). Verifiers verify again without that history and report the conflict as an
 * input error.
 */
typedef struct LsTrustConflict {
        char kind;                                /* 'C' certificates, 'X' closes */
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        uint64_t epoch;                           /* the epoch certified or closed */
        uint8_t history_key_id[LS_KEY_ID_LEN];    /* the key the history certified / closed */
        uint8_t evidence_key_id[LS_KEY_ID_LEN];   /* the key the evidence certified / closed */
} LsTrustConflict;

/* 1 and *ret (optional) filled when such a conflict was met (the first one), else 0. */
int ls_trust_conflict(const LsTrust *t, LsTrustConflict *ret);

/* The chain under verification. Trust material of other chains never vouches for it. */
void ls_trust_set_chain(LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN]);

typedef enum LsTrustResult {
        LS_TRUST_OK = 0,
        LS_TRUST_UNKNOWN_KEY,     /* no trusted key of this chain made the signature */
        LS_TRUST_BAD_SIGNATURE,   /* a trusted key's signature does not verify */
        LS_TRUST_DENIED,          /* the key may not sign this (window, chain, epoch, root) */
        LS_TRUST_AFTER_CLOSE,     /* contradicts its epoch's signed close */
        LS_TRUST_REVOKED,         /* a root revocation covers it */
        LS_TRUST_NOT_EVIDENCE,    /* a checkpoint without the logseal-batch-v1 line */
} LsTrustResult;

typedef struct LsTrustDecision {
        LsTrustResult result;
        const LsKeyInfo *key;     /* the key concerned, when known */
        const char *why;          /* a static sentence, NULL when OK */
        /*
         * OK, but nothing proves the object was made while its key was current: the key's
         * epoch has ended (a successor is known) and either its close is not known (unbound)
         * or the object is not the close's own tree head (unproven). A holder of the erased
         * key could have made it. 0 = bound.
         */
        int unbound;
} LsTrustDecision;

/* May key_id sign batch batch_no (max_time_ns, or LS_UNSET when unknown)? */
void ls_trust_may_sign(LsTrust *t, const uint8_t key_id[LS_KEY_ID_LEN],
                       const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t batch_no,
                       uint64_t time_ns, LsTrustDecision *d);
/* A batch header: its signature, its key's window, epoch and close, revocations. */
void ls_trust_check_batch(LsTrust *t, const LsBatchHeader *h, LsTrustDecision *d);
/* The same for a header whose hash is given: one of a later format (SPEC §1.1), read as written. */
void ls_trust_check_batch_hash(LsTrust *t, const LsBatchHeader *h,
                               const uint8_t header_hash[LS_HASH_LEN], LsTrustDecision *d);
/* Records that h verified: its key's summary, reviewed again by ls_trust_review(). */
void ls_trust_note_signed(LsTrust *t, const LsBatchHeader *h);
void ls_trust_note_signed_hash(LsTrust *t, const LsBatchHeader *h,
                               const uint8_t header_hash[LS_HASH_LEN]);
/*
 * A checkpoint (§7): the signature of a trusted key of its chain on a 4-line note that
 * the key may sign, consistent with the key's epoch close. A checkpoint without the
 * batch line is LS_TRUST_NOT_EVIDENCE whoever signed it.
 */
void ls_trust_check_checkpoint(LsTrust *t, const LsCheckpoint *cp, const char *text,
                               LsTrustDecision *d);

/*
 * Reviews what each key was seen to sign against everything learnt since (closes and
 * revocations found later in the chain or in a history apply with the scope they
 * state). Calls cb once per problem not reported before; returns the number found.
 */
size_t ls_trust_review(LsTrust *t,
                       void (*cb)(void *ud, const LsKeyInfo *k, LsTrustResult result,
                                  const char *detail),
                       void *ud);

/*
 * The highest batch number the trust material proves the chain reached, or LS_UNSET: the
 * batch after a known close's last batch (the successor seals the close there, SPEC §9.4).
 */
uint64_t ls_trust_known_last_batch(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN]);
/* The close of (chain, epoch) when known, else NULL. */
const LsEpochClose *ls_trust_close(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                                   uint64_t epoch);
/*
 * The known signing key of the chain whose window holds batch b (the greatest
 * valid_from_batch ≤ b), or NULL. *open: 1 when nothing known ends that window (no successor,
 * no close): a key certified where this verifier cannot read may have taken over after it
 * (SPEC §1.1); 0 when its successor or its close bounds it, so no other key may sign b.
 */
const LsKeyInfo *ls_trust_batch_owner(const LsTrust *t, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                                      uint64_t b, int *open);
/* Has the epoch of key k ended, as far as the trust material shows? */
int ls_trust_epoch_ended(const LsTrust *t, const LsKeyInfo *k);

/*
 * The anchor given is not the original root: a root certificate seen (not trusted,
 * its issuer unknown) names it as a later root generation. 1 and the certificate's
 * issuer and generation, else 0.
 */
int ls_trust_anchor_is_later_root(const LsTrust *t, uint8_t issuer_key_id[LS_KEY_ID_LEN],
                                  uint64_t *generation);

size_t ls_trust_keys(const LsTrust *t, const LsKeyInfo **ret);
LsKeyInfo *ls_trust_key(LsTrust *t, const uint8_t key_id[LS_KEY_ID_LEN]);
const char *ls_trust_result_name(LsTrustResult r);
