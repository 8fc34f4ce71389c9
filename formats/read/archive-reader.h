/* SPDX-License-Identifier: Apache-2.0 */
/* archive-reader.h: streaming, damage-tolerant reading of archive files (SPEC §8) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "batch.h"
#include "payload.h"

typedef enum LsItemKind {
        LS_ITEM_HEADER = 1,     /* the archive header */
        LS_ITEM_BATCH,          /* a structurally valid batch header and its payload bytes */
        LS_ITEM_TRAILER,        /* the seal trailer */
        LS_ITEM_DAMAGE,         /* bytes that are not a valid frame; reading resumed after them */
        LS_ITEM_TORN_TAIL,      /* an incomplete last frame (open archive) */
        LS_ITEM_DICT,           /* the archive's dictionary (§8.6), its hash the header's */
        LS_ITEM_LATER,          /* a structure of a later format (§1.1); nothing after it is read */
} LsItemKind;

typedef struct LsReadItem {
        LsItemKind kind;
        uint64_t offset;          /* file offset where the item starts (its frame header) */
        uint64_t length;          /* bytes the item spans */
        /* DAMAGE / TORN_TAIL */
        int error;                /* -EBADMSG, -ENODATA, -EPROTONOSUPPORT, -E2BIG */
        uint64_t error_offset;    /* file offset of the offending byte or field */
        const char *what;         /* the failed check, a static string */
        /* HEADER */
        LsArchiveHeader header;
        /* BATCH: payload valid until the next call */
        LsBatchHeader batch;
        const uint8_t *payload;
        size_t payload_len;
        /* BATCH and DICT: the archive's dictionary when it has one whose hash matched the
         * header's dict_hash, else NULL; owned by the reader (ls_dict_ref to keep it). */
        const LsDict *dict;
        /* TRAILER: H(all bytes before the trailer's frame), as read */
        LsTrailer trailer;
        uint8_t content_hash[LS_HASH_LEN];
        /*
         * LATER: a structure whose version or incompatible flags this reader does not know,
         * with a sound envelope (SPEC §1.1): later_magic says which ('A' archive header in
         * header, 'B' batch header in batch with later_hash its header hash and its payload
         * skipped, 'T' seal trailer in trailer with content_hash, 'D' dictionary whose hash
         * is the header's dict_hash, '?' another frame in an archive whose header or
         * dictionary is of a later format); raw (valid until the next call) holds its bytes
         * as written. The caller authenticates it. After an 'A' or 'D' every batch is a
         * LATER item too (its meaning may depend on what the reader does not know).
         */
        char later_magic;
        uint16_t later_version;
        uint16_t later_flags;     /* the incompatible flags this reader does not know */
        uint8_t later_hash[LS_HASH_LEN];
        uint8_t later_payload_hash[LS_HASH_LEN]; /* 'B': H(its payload bytes), which its
                                                  * payload_hash must be (SPEC §1.1) */
        const uint8_t *raw;
        size_t raw_len;
} LsReadItem;

typedef struct LsArchiveReader LsArchiveReader;

/* Takes ownership of fd. */
int ls_archive_reader_new(LsArchiveReader **ret, int fd);
LsArchiveReader *ls_archive_reader_free(LsArchiveReader *r);

/*
 * Next item: 1 with *it filled, 0 at the end of the file, <0 on I/O errors.
 * The reader never trusts a length: structure lengths are fixed or bounded,
 * payloads must fit in the file, and after any defect it resumes at the next
 * batch or trailer frame (a DAMAGE item spans what was skipped).
 */
int ls_archive_reader_next(LsArchiveReader *r, LsReadItem *it);

uint64_t ls_archive_reader_file_size(const LsArchiveReader *r);
/* After the last item: SHA-256 of every byte of the file. -EAGAIN before the end. */
int ls_archive_reader_file_hash(LsArchiveReader *r, uint8_t out[LS_HASH_LEN]);
/* Total bytes consumed so far (the position of the next item). */
uint64_t ls_archive_reader_position(const LsArchiveReader *r);

/*
 * The dictionary of the archive open at fd (SPEC §8.6), for readers that go to a batch by its
 * offset: 1 with *ret (a reference) and *ret_end (the offset after the dictionary frame), 0
 * when the archive has none (*ret NULL, *ret_end after the header), -EAGAIN when the file
 * ends before the header or dictionary does, the reader's error class when they are damaged
 * or the dictionary's hash is not the header's (-EILSEQ). fd is not moved or closed.
 */
int ls_archive_read_dict(int fd, LsDict **ret, uint64_t *ret_end);
