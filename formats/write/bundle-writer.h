/* SPDX-License-Identifier: Apache-2.0 */
/* bundle-writer.h: writes an evidence bundle directory (SPEC §14) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"

typedef struct LsBundleWriter LsBundleWriter;

/*
 * Starts a bundle in the directory dirfd (which should be empty): evidence.lsb
 * is created at once with header h. Then the disclosed records go in with
 * ls_bundle_writer_add() in increasing seq, the custody record last; other
 * files with ls_bundle_writer_file(); ls_bundle_writer_finish() writes
 * MANIFEST.sha256 and syncs everything.
 */
int ls_bundle_writer_new(LsBundleWriter **ret, int dirfd, const LsBundleHeader *h);
/* An entry: the encoded record, its salt and its encoded inclusion proof (SPEC §5.1). */
int ls_bundle_writer_add(LsBundleWriter *w, uint64_t seq, const uint8_t salt[LS_SALT_LEN],
                         const uint8_t *record, size_t record_len, const uint8_t *proof,
                         size_t proof_len);
/* A whole file; name matches [A-Za-z0-9._-]+ and is not a bundle file already written. */
int ls_bundle_writer_file(LsBundleWriter *w, const char *name, const void *p, size_t n);
int ls_bundle_writer_finish(LsBundleWriter *w);
LsBundleWriter *ls_bundle_writer_free(LsBundleWriter *w);
