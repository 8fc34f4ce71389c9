/* SPDX-License-Identifier: Apache-2.0 */
/* chain-verify.h: verify archives of one chain from a root public key (SPEC §6.3, §9.3, §11) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "batch.h"
#include "keys.h"
#include "record.h"
#include "trust.h"

/* Result classes; the numbers are logseal-verify's exit codes. */
typedef enum LsClass {
        LS_CLASS_INTACT = 0,
        LS_CLASS_TAMPERED = 1,
        LS_CLASS_IO = 2,
        LS_CLASS_GAP = 3,
        LS_CLASS_PARTIAL = 4,
        LS_CLASS_REVOKED = 5,  /* signed by a key a root revocation covers; nothing else wrong */
        LS_CLASS_NOTE = 6,     /* informational finding, no effect on the verdict */
} LsClass;

/* Verdict precedence (SPEC §11): tampered > error > revoked > gap > partial > intact; note -1. */
int ls_class_rank(LsClass c);

typedef struct LsFinding {
        LsClass cls;
        int code;              /* -EBADMSG, -EILSEQ, -EKEYREJECTED, … */
        const char *check;     /* the failed check, a static string */
        const char *file;
        uint64_t offset;       /* file offset; LS_UNSET when not applicable */
        uint64_t archive_no;   /* LS_UNSET when unknown */
        uint64_t batch_no;     /* LS_UNSET when unknown */
        uint64_t seq;          /* LS_UNSET when unknown */
        char detail[256];
} LsFinding;

typedef struct LsArchiveSummary {
        const char *file;
        uint64_t file_size;
        uint8_t file_hash[LS_HASH_LEN];   /* SHA-256 of the whole file (exhibit hash) */
        int header_ok;
        uint64_t archive_no;
        int sealed;                       /* a valid trailer was found */
        uint64_t batches_ok, batches_bad;
        uint64_t first_seq, last_seq;     /* of verified batches; LS_UNSET when none */
        uint64_t records;
        uint64_t min_time_ns, max_time_ns;
        uint64_t bytes_unverified;        /* bytes in damaged or unverifiable frames */
        uint32_t dict_id;                 /* zstd id of the archive's dictionary, 0: none */
} LsArchiveSummary;

typedef struct LsVerifyCallbacks {
        void (*finding)(void *ud, const LsFinding *f);
        /* Called for each record of a batch only after the whole batch verified:
         * control records always, syslog records only when all_records is set. */
        void (*record)(void *ud, const LsBatchHeader *h, const LsRecord *rec);
        int all_records;
        void (*batch)(void *ud, const char *file, uint64_t offset, const LsBatchHeader *h);
        /* A batch read by its envelope only (SPEC §1.1: authentic of a later format, or not
         * judged), with the hash of its header as written: what a checkpoint naming it must
         * agree with (a fork there is tampered all the same). Its content is not verified. */
        void (*envelope)(void *ud, const LsBatchHeader *h, const uint8_t header_hash[32]);
        void (*archive)(void *ud, const LsArchiveSummary *s);
        void *userdata;
} LsVerifyCallbacks;

typedef struct LsVerifyStats {
        uint64_t archives, archives_sealed;
        uint64_t batches_ok, batches_bad;
        uint64_t records;
        uint64_t first_batch, last_batch;   /* LS_UNSET when none verified */
        uint64_t first_seq, last_seq;
        uint64_t keys;                      /* keys trusted (roots included) */
        unsigned findings[LS_CLASS_NOTE + 1];
        int tree_checked_all;               /* every root recomputed from leaves */
        uint64_t batches_later;             /* authentic batches of a later format (SPEC §1.1):
                                             * their links and keys checked, content not */
        uint64_t later_last_batch;          /* the last of them; LS_UNSET when none */
        uint64_t later_unjudged;            /* batches and seals of a later-format archive
                                             * signed by keys not known: not judged */
} LsVerifyStats;

typedef struct LsChainVerifier LsChainVerifier;

int ls_chain_verifier_new(LsChainVerifier **ret, const uint8_t root_pk[LS_PK_LEN],
                          const LsVerifyCallbacks *cb);
LsChainVerifier *ls_chain_verifier_free(LsChainVerifier *v);

/*
 * Verify with `jobs` threads (0: one per online CPU; 1, the default: no threads):
 * payloads, records, salts and leaves of up to `budget` bytes of batches
 * (0: 256 MiB; at least one batch) are worked on in parallel, and every decision
 * is still made on the caller's thread in file order, so findings, callbacks and
 * the verdict are the same for any number of jobs. Callbacks run on the caller's
 * thread. 0, -EBUSY while batches are in flight, or <0 when threads cannot start.
 */
int ls_chain_verifier_set_jobs(LsChainVerifier *v, unsigned jobs, size_t budget);

/* Offers a certificate from outside the chain (key file, bundle): 0, or <0 if rejected. */
int ls_chain_verifier_add_cert(LsChainVerifier *v, const LsCert *c, const char *source);
int ls_chain_verifier_add_revocation(LsChainVerifier *v, const LsRevocation *r,
                                     const char *source);

/*
 * Verifies one archive file, in chain order after the ones before it.
 * Findings go to the callback. Takes ownership of fd. Returns 0, or <0 for
 * an I/O error (also reported as a finding).
 */
int ls_chain_verify_archive(LsChainVerifier *v, int fd, const char *file);

/* Ends verification: reports partial/gap findings and returns the verdict class. */
LsClass ls_chain_verifier_finish(LsChainVerifier *v, LsVerifyStats *ret_stats);

/* Key history for reports. */
size_t ls_chain_verifier_keys(const LsChainVerifier *v, const LsKeyInfo **ret);

/* The trust authority of this verification (SPEC §9.3), for checkpoints and reports. */
LsTrust *ls_chain_verifier_trust(LsChainVerifier *v);

/* Offers an epoch close from outside the chain (key file, bundle). */
int ls_chain_verifier_add_close(LsChainVerifier *v, const LsEpochClose *c, const char *source);

/*
 * What the verdict guarantees, given what the investigator supplied (SPEC §11.1):
 * one plain sentence, or "" when nothing limits it. Valid after finish.
 */
const char *ls_chain_verifier_guarantee(const LsChainVerifier *v);
/* The investigator supplied a key history (out of band): it changes what the verdict says. */
void ls_chain_verifier_set_history(LsChainVerifier *v);

const char *ls_class_name(LsClass c);

/*
 * Examine the evidence up to batch batch_no only (logseal-verify --upto, a checkpoint): no
 * item after that batch is read (that archive's trailer excepted), later archives are skipped,
 * and the tail (an open archive, a known later batch) is not judged once it was reached.
 */
void ls_chain_verifier_set_upto(LsChainVerifier *v, uint64_t batch_no);
/* 1 once the batch of set_upto was taken. */
int ls_chain_verifier_upto_reached(const LsChainVerifier *v);
