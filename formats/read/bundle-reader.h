/* SPDX-License-Identifier: Apache-2.0 */
/* bundle-reader.h: verify an evidence bundle directory from a root public key (SPEC §14.3) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "chain-verify.h"
#include "checkpoint.h"
#include "record.h"

/*
 * keys.lsk (and each out-of-band key history) is read whole, up to this size: the limit of
 * the appliance's key history (logsealctl export copies it whole) and of --keys.
 */
#define LS_BUNDLE_KEYS_MAX (64u << 20)

/* What step 1 found for one file of the bundle directory. */
typedef enum LsBundleFileStatus {
        LS_BUNDLE_FILE_OK,          /* listed, present, hash matches */
        LS_BUNDLE_FILE_MISMATCH,    /* listed, present, another hash */
        LS_BUNDLE_FILE_MISSING,     /* listed, absent */
        LS_BUNDLE_FILE_UNLISTED,    /* present, not in the manifest */
        LS_BUNDLE_FILE_NOT_REGULAR, /* a symlink, directory, device…: never followed */
        LS_BUNDLE_FILE_UNREADABLE,  /* open or read failed */
        LS_BUNDLE_FILE_MANIFEST,    /* MANIFEST.sha256 itself (its hash names the bundle) */
} LsBundleFileStatus;

typedef struct LsBundleFile {
        const char *name;           /* valid during the callback; may be escaped by the caller */
        LsBundleFileStatus status;
        uint64_t size;              /* LS_UNSET when not read */
        int have_hash;
        uint8_t sha256[LS_HASH_LEN];
        /*
         * 1: an evidence file: evidence.lsb, checkpoint.txt or keys.lsk, whose content steps 2-6
         * authenticate, or MANIFEST.sha256, which step 1 checks against every file (nothing
         * signs it): the verdict speaks for it. 0: any other file
         * (README.txt, report.txt, …): NOT AUTHENTICATED whatever its status; nothing signed
         * covers it, and whoever rewrites it can rewrite its manifest line too (SPEC §14).
         */
        int authenticated;
} LsBundleFile;

typedef struct LsBundleCallbacks {
        void (*finding)(void *ud, const LsFinding *f);
        /* The manifest, every manifest line (sorted by name), then every file the manifest
         * does not list (directory order); each once. */
        void (*file)(void *ud, const LsBundleFile *file);
        /*
         * Every disclosed entry whose record decodes, in file order: rec points into
         * bytes (the record's encoding, len bytes), valid during the call only.
         * verified: the record's seq and proof check out against a checkpoint that is
         * signed by a key certified from the root and allowed to sign its batch.
         */
        void (*record)(void *ud, const LsRecord *rec, const uint8_t *bytes, size_t len,
                       int verified);
        void *userdata;
} LsBundleCallbacks;

#define LS_BUNDLE_TEXT_MAX 4096

typedef struct LsBundleText {
        int present;
        uint16_t len;
        uint8_t p[LS_BUNDLE_TEXT_MAX];   /* not NUL-terminated; UTF-8 intended */
} LsBundleText;

typedef struct LsBundleSummary {
        /* step 1 */
        int manifest_ok;                  /* parsed, every file listed and matching */
        uint32_t files_listed, files_ok;  /* files_ok: evidence files and others alike */
        uint32_t files_not_authenticated; /* files reported with authenticated 0 */

        /* step 2 */
        int header_ok;                    /* evidence.lsb header decoded */
        LsBundleHeader header;
        int checkpoint_parsed;
        LsCheckpoint checkpoint;          /* when parsed */
        int chain_agrees;                 /* header and checkpoint: same chain id, tree size */

        /* steps 3 and 4 */
        uint32_t keys_accepted, keys_rejected;
        int checkpoint_verified;          /* signed by a trusted key that may sign its batch */
        int checkpoint_unbound;           /* ...whose epoch ended, and nothing proves it was
                                             made before the end (SPEC §9.4) */
        int signer_epoch_ended;           /* the trust material shows the signer's epoch ended */
        int have_signer;
        LsKeyInfo signer;                 /* the key whose signature verified */

        /* step 5 */
        uint64_t entries;                 /* entries read (disclosed + custody) */
        uint64_t records_verified, records_failed;

        /* step 6 */
        int have_custody;                 /* the custody entry's record decoded */
        int custody_proof_ok;             /* its inclusion proof verified (authenticated root) */
        int custody_ok;                   /* and every field of step 6 checks out */
        uint64_t custody_seq, custody_time_ns;
        int have_action;
        uint16_t action;
        int have_count;
        uint64_t count;
        int have_manifest_hash;
        uint8_t manifest_hash[LS_HASH_LEN]; /* the custody record's MANIFEST_HASH */
        LsBundleText case_id, examiner, filter, text;
        int selection_complete;           /* every disclosed entry was read */
        uint8_t selection[LS_HASH_LEN];   /* computed over the entries read */
        int selection_ok;

        unsigned findings[LS_CLASS_NOTE + 1];
        LsClass verdict;                  /* intact, tampered or error (I/O) */
} LsBundleSummary;

typedef struct LsBundleReader LsBundleReader;

int ls_bundle_reader_new(LsBundleReader **ret, const uint8_t root_pk[LS_PK_LEN],
                         const LsBundleCallbacks *cb);
LsBundleReader *ls_bundle_reader_free(LsBundleReader *b);
/*
 * Leaves and inclusion proofs of the entries on `jobs` threads (0: one per online CPU;
 * 1, the default: none), a window of at most 4 MiB of entries ahead of the in-order
 * checks; the findings are the same for any number. 0 or <0.
 */
int ls_bundle_reader_set_jobs(LsBundleReader *b, unsigned jobs);

/*
 * A key history obtained out of band (SPEC §10.3, e.g. logseal-verify --keys): applied
 * before keys.lsk, under the same rules; its revocations cover every batch. The bytes
 * are copied (at most LS_BUNDLE_KEYS_MAX). Problems in it are reported as LS_CLASS_IO
 * findings naming source when the bundle is verified. Call before ls_bundle_reader_verify.
 */
int ls_bundle_reader_add_keys(LsBundleReader *b, const uint8_t *p, size_t n, const char *source);

/*
 * Verifies the bundle in directory dirfd (not taken over; nothing in it is written or
 * followed) in the order of SPEC §14.3 and returns the verdict class: intact, tampered,
 * or error (I/O). label prefixes file names in findings ("LABEL/evidence.lsb"). One
 * verification per reader.
 */
LsClass ls_bundle_reader_verify(LsBundleReader *b, int dirfd, const char *label,
                                LsBundleSummary *ret);

/* The trust authority of this bundle's verification (SPEC §9.3). */
LsTrust *ls_bundle_reader_trust(LsBundleReader *b);

/* Keys trusted after verification: the root first, then as certified (for reports). */
size_t ls_bundle_reader_keys(const LsBundleReader *b, const LsKeyInfo **ret);

/*
 * Strict parse of a MANIFEST.sha256 text (SPEC §14.2), for tests and fuzzing: calls fn for
 * each well-formed line and reports each problem to bad (offset in the text, message).
 * Returns the number of well-formed lines, or -E2BIG above the size or line limits.
 */
typedef void (*LsManifestLineFn)(void *ud, const char *name, size_t name_len,
                                 const uint8_t hash[LS_HASH_LEN], size_t offset);
typedef void (*LsManifestBadFn)(void *ud, size_t offset, unsigned line, const char *what);
int ls_bundle_manifest_parse(const char *text, size_t n, LsManifestLineFn fn,
                             LsManifestBadFn bad, void *ud);

/* 1 when name matches [A-Za-z0-9._-]+, is at most 255 bytes and is not "." or "..". */
int ls_bundle_name_ok(const char *name, size_t n);
