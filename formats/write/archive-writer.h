/* SPDX-License-Identifier: Apache-2.0 */
/* archive-writer.h: append signed batches to an archive file, seal it (SPEC §8) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "batch.h"
#include "keys.h"
#include "merkle.h"

typedef struct LsArchiveWriter LsArchiveWriter;

/*
 * Takes ownership of fd (an empty file opened for writing). Fills the
 * header's peaks from `tree` (which must be at hdr->first_seq), signs the
 * header, writes it and makes it durable (fdatasync).
 */
int ls_archive_writer_new(LsArchiveWriter **ret, int fd, LsArchiveHeader *hdr,
                          const LsMerkle *tree, const LsSigner *s);
/*
 * The same with a zstd dictionary (dict_len LS_DICT_MIN..LS_MAX_DICT, NULL: none): the header
 * gets DICT and the dictionary's hash, and the dictionary frame follows it (SPEC §8.6).
 * Batches of this archive are then compressed with it (ls_batch_builder_set_dict).
 */
int ls_archive_writer_new_dict(LsArchiveWriter **ret, int fd, LsArchiveHeader *hdr,
                               const LsMerkle *tree, const LsSigner *s, const uint8_t *dict,
                               size_t dict_len);
/* Closes without sealing (the archive stays open); accepts NULL, returns NULL. */
LsArchiveWriter *ls_archive_writer_free(LsArchiveWriter *w);

/*
 * Appends a batch produced by ls_batch_builder_finish. On any write error
 * the file is cut back to the end of the previous batch, so a failed append
 * never leaves a partial frame behind; the error is returned (-ENOSPC, -EIO…).
 * Not durable until ls_archive_writer_sync().
 */
int ls_archive_writer_append(LsArchiveWriter *w, const LsBatchHeader *h, const uint8_t *bytes,
                             size_t n);
/* fdatasync: the group commit point. */
int ls_archive_writer_sync(LsArchiveWriter *w);

/*
 * Writes the signed seal trailer, fsyncs, makes the file read-only (0440) and
 * closes it. -ENODATA when the archive holds no batch. *ret (optional)
 * receives the trailer; its ls_trailer_hash() is the next archive's
 * prev_seal_hash.
 */
int ls_archive_writer_seal(LsArchiveWriter *w, const LsSigner *s, uint64_t sealed_ns,
                           LsTrailer *ret);

/*
 * Takes over an existing open archive (crash recovery): cuts the file to
 * `size` bytes (the end of its last complete batch), re-hashes them, and
 * continues with the given counts. `last` is the last batch (NULL when none).
 */
typedef struct LsArchiveTally {
        uint64_t batches, records, min_time_ns, max_time_ns;
        LsBatchHeader last;
} LsArchiveTally;
int ls_archive_writer_adopt(LsArchiveWriter **ret, int fd, uint64_t size,
                            const LsArchiveHeader *hdr, const LsArchiveTally *tally);

uint64_t ls_archive_writer_size(const LsArchiveWriter *w);
uint64_t ls_archive_writer_batches(const LsArchiveWriter *w);

/*
 * Test seam for fault injection: every write of the writer goes through this
 * function (default: pwrite). It may return short counts or -1 with errno.
 */
typedef ssize_t (*LsPwriteFn)(int fd, const void *buf, size_t n, off_t off);
void ls_archive_writer_set_pwrite(LsPwriteFn fn);
