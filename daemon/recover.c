/* SPDX-License-Identifier: Apache-2.0 */
/* recover.c: at start, find where the chain continues; repair a torn archive tail */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive-reader.h"
#include "archive-writer.h"
#include "conf.h"
#include "control.h"
#include "hash.h"
#include "recover.h"
#include "merkle.h"
#include "payload.h"
#include "sealer.h"
#include "state.h"
#include "util.h"

/* The newest archive of this chain in the directory: its number, or -ENOENT. */
static int find_last_archive(int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                             uint64_t *ret)
{
        char prefix[64], hex[2 * LS_CHAIN_ID_LEN + 1];
        int fd = dup(archive_dirfd), found = 0;
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        rewinddir(d);
        ls_hex(hex, chain_id, LS_CHAIN_ID_LEN);
        snprintf(prefix, sizeof(prefix), "chain-%s-", hex);
        while ((de = readdir(d))) {
                size_t pl = strlen(prefix);
                uint64_t n;
                char tail[8];
                if (strncmp(de->d_name, prefix, pl) != 0)
                        continue;
                if (sscanf(de->d_name + pl, "%8" SCNu64 ".ls%1s", &n, tail) != 2 ||
                    strlen(de->d_name) != pl + 12)
                        continue;
                if (!found || n > *ret)
                        *ret = n;
                found = 1;
        }
        closedir(d);
        return found ? 0 : -ENOENT;
}

/* Reads the trailer of a sealed archive (the previous one). */
static int read_trailer(int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t n,
                        LsTrailer *ret)
{
        uint8_t buf[LS_FRAME_HDR_LEN + LS_TRAILER_LEN];
        char name[96];
        _cleanup_close_ int fd = -1;
        off_t end;

        ls_archive_name(name, sizeof(name), chain_id, n);
        fd = openat(archive_dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        end = lseek(fd, 0, SEEK_END);
        if (end < (off_t) sizeof(buf))
                return -EBADMSG;
        if (pread(fd, buf, sizeof(buf), end - (off_t) sizeof(buf)) != (ssize_t) sizeof(buf))
                return -EIO;
        if (ls_get32(buf) != LS_SKIPPABLE_MAGIC || ls_get32(buf + 4) != LS_TRAILER_LEN)
                return -EBADMSG;
        return ls_trailer_decode(ret, buf + LS_FRAME_HDR_LEN, LS_TRAILER_LEN, NULL);
}

typedef struct Scan {
        LsArchiveHeader hdr;
        int have_header;
        LsTrailer trailer;
        int sealed;
        LsArchiveTally tally;
        LsMerkle tree;
        uint64_t good_end;           /* end of the last complete, consistent structure */
        uint64_t wal_records_after;  /* WAL-originated records beyond the sealed state */
        uint64_t unclean_after;      /* UNCLEAN_SHUTDOWN records beyond the sealed state */
        int dict_torn;               /* DICT header, its dictionary frame incomplete */
        LsSamples samples;           /* the latest payload content (Recovery.samples) */
} Scan;

/*
 * The sealer writes KEY_TRANSITION records of signing keys (epoch changes, admin rotations)
 * and EPOCH_CLOSE records itself; a root rotation's KEY_TRANSITION went through the WAL
 * (control.c). (UNCLEAN_SHUTDOWN records, the sealer's too, are counted apart.)
 */
static int sealer_made(const LsControl *c)
{
        const uint8_t *val;
        uint16_t vlen;

        if (c->type == LS_CTL_EPOCH_CLOSE)
                return 1;
        return c->type == LS_CTL_KEY_TRANSITION && ls_control_get(c, LS_TAG_CERT, &val, &vlen) &&
               vlen == LS_CERT_LEN && val[12] == LS_CERT_SIGNING;
}

/* Checks one batch against itself and the running tree; counts WAL-originated records. */
static int scan_batch(Scan *sc, LsPayload *pl, const LsReadItem *it, uint64_t state_tree_size)
{
        const LsBatchHeader *h = &it->batch;
        LsPayloadIter pi;
        LsMerkle t = sc->tree;
        LsRecord rec;
        const uint8_t *raw, *bytes;
        size_t rawlen, len, off;
        uint8_t leaf[LS_HASH_LEN], root[LS_HASH_LEN];
        uint64_t wal_records = 0, unclean = 0;
        int r;

        if (h->first_seq != t.size || h->archive_no != sc->hdr.archive_no)
                return -EBADMSG;
        r = ls_payload_open_dict(pl, h, it->dict, it->payload, it->payload_len);
        if (r < 0)
                return r;
        raw = ls_payload_content(pl, &rawlen);
        (void) ls_samples_add(&sc->samples, raw, rawlen); /* best effort */
        raw = ls_payload_raw(pl, &rawlen);
        ls_payload_iter_init(&pi, h, raw, rawlen);
        while ((r = ls_payload_next(&pi, &rec, &bytes, &len, leaf, &off)) > 0) {
                LsControl c;
                int ctl = rec.type == LS_REC_CONTROL &&
                          ls_control_decode(&c, rec.body, rec.body_len, NULL) == 0;
                ls_merkle_append(&t, leaf);
                /* UNCLEAN_SHUTDOWN, EPOCH_CLOSE and a signing key's KEY_TRANSITION come from
                 * the sealer (sealer.c), everything else from the WAL. */
                if (ctl && c.type == LS_CTL_UNCLEAN_SHUTDOWN)
                        unclean++;
                else if (!(ctl && sealer_made(&c)))
                        wal_records++;
        }
        if (r < 0)
                return r;
        ls_merkle_root(&t, root);
        if (!ls_hash_equal(root, h->tree_root))
                return -EILSEQ;
        sc->tree = t;
        if (h->tree_size > state_tree_size) {
                sc->wal_records_after += wal_records;
                sc->unclean_after += unclean;
        }
        if (sc->tally.batches == 0)
                sc->tally.min_time_ns = h->min_time_ns;
        sc->tally.batches++;
        sc->tally.records += h->record_count;
        sc->tally.min_time_ns = MIN(sc->tally.min_time_ns, h->min_time_ns);
        sc->tally.max_time_ns = MAX(sc->tally.max_time_ns, h->max_time_ns);
        sc->tally.last = *h;
        return 0;
}

static int scan_archive(int fd, const char *name, uint64_t state_tree_size, Scan *sc)
{
        LsArchiveReader *rd = NULL;
        LsPayload *pl = NULL;
        LsReadItem *it = calloc(1, sizeof(*it));
        int r, dupfd = dup(fd), k;

        if (!it || dupfd < 0) {
                free(it);
                return -ENOMEM;
        }
        r = ls_archive_reader_new(&rd, dupfd);
        if (r < 0) {
                close(dupfd);
                free(it);
                return r;
        }
        r = ls_payload_new(&pl);
        while (r == 0 && (k = ls_archive_reader_next(rd, it)) > 0) {
                switch (it->kind) {
                case LS_ITEM_HEADER:
                        sc->hdr = it->header;
                        sc->have_header = 1;
                        sc->tree.size = it->header.first_seq;
                        sc->tree.n = it->header.peak_count;
                        memcpy(sc->tree.peaks, it->header.peaks,
                               (size_t) it->header.peak_count * LS_HASH_LEN);
                        /* With DICT the archive is usable only once its dictionary is. */
                        if (!(it->header.incompat_flags & LS_ARCHIVE_INCOMPAT_DICT))
                                sc->good_end = it->offset + it->length;
                        break;
                case LS_ITEM_DICT:
                        sc->good_end = it->offset + it->length;
                        break;
                case LS_ITEM_BATCH:
                        if (!sc->have_header || sc->sealed) {
                                r = -EBADMSG;
                                break;
                        }
                        k = scan_batch(sc, pl, it, state_tree_size);
                        if (k < 0) {
                                /* Only the very last frame may be incomplete after a crash. */
                                if (it->offset + it->length == ls_archive_reader_file_size(rd))
                                        goto out;
                                fprintf(stderr,
                                        "logseald: %s: offset %" PRIu64 ": batch %" PRIu64
                                        " is damaged and not the last one (%s); move the file "
                                        "aside after checking it with logseal-verify\n",
                                        name, it->offset, it->batch.batch_no, strerror(-k));
                                r = -EBADMSG;
                                break;
                        }
                        sc->good_end = it->offset + it->length;
                        break;
                case LS_ITEM_TRAILER:
                        sc->trailer = it->trailer;
                        sc->sealed = 1;
                        sc->good_end = it->offset + it->length;
                        break;
                case LS_ITEM_TORN_TAIL:
                        /* A crash while the archive was created: header, part of its
                         * dictionary, no record (the caller removes it as a torn header). */
                        if (sc->have_header && sc->good_end == 0)
                                sc->dict_torn = 1;
                        goto out;
                case LS_ITEM_LATER:
                        /* Written by a later logseald (SPEC §1.1): never cut, append to or seal
                         * what this version cannot read; a downgrade needs a human. */
                        fprintf(stderr,
                                "logseald: %s: offset %" PRIu64 ": the %s has %s %u (0x%04x), "
                                "which this logseald does not know: the archive was written by "
                                "a later version of logseal; refusing to recover or append to "
                                "it (nothing was changed): run that version, or move the chain "
                                "aside\n",
                                name, it->offset,
                                it->later_magic == 'A'   ? "archive header"
                                : it->later_magic == 'B' ? "batch header"
                                : it->later_magic == 'T' ? "seal trailer"
                                                         : "dictionary",
                                it->later_version != LS_FORMAT_VERSION ? "version"
                                                                       : "incompat_flags",
                                it->later_version != LS_FORMAT_VERSION ? it->later_version
                                                                       : it->later_flags,
                                it->later_version != LS_FORMAT_VERSION ? it->later_version
                                                                       : it->later_flags);
                        r = -EPROTONOSUPPORT;
                        break;
                case LS_ITEM_DAMAGE:
                        if (it->offset + it->length == ls_archive_reader_file_size(rd) &&
                            sc->have_header && !sc->sealed)
                                goto out;
                        fprintf(stderr,
                                "logseald: %s: offset %" PRIu64 ": damaged archive (%s); move "
                                "the file aside after checking it with logseal-verify\n",
                                name, it->offset, it->what);
                        r = -EBADMSG;
                        break;
                }
        }
        if (r == 0 && k < 0)
                r = k;
        /* A DICT header and no complete dictionary frame after it (the file ends there). */
        if (r == 0 && sc->have_header && sc->good_end == 0)
                sc->dict_torn = 1;
out:
        ls_payload_free(pl);
        ls_archive_reader_free(rd);
        free(it);
        if (r == 0 && (!sc->have_header || sc->dict_torn))
                r = -ENODATA; /* the caller decides: torn while created, or damage */
        return r;
}

/* Below this much content from the last archive, the one before it is sampled too. */
#define RECOVERY_SAMPLES_MIN ((size_t) 1 << 20)

/* Adds the payload content of archive n to s (for the next dictionary); errors ignored. */
static void sample_archive(int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                           uint64_t n, LsSamples *s)
{
        LsArchiveReader *rd = NULL;
        LsPayload *pl = NULL;
        LsReadItem *it = calloc(1, sizeof(*it));
        char name[96];
        const uint8_t *raw;
        size_t rawlen;
        int fd;

        ls_archive_name(name, sizeof(name), chain_id, n);
        fd = openat(archive_dirfd, name, O_RDONLY | O_CLOEXEC);
        if (!it || fd < 0 || ls_archive_reader_new(&rd, fd) < 0 || ls_payload_new(&pl) < 0) {
                if (fd >= 0 && !rd)
                        close(fd);
                goto out;
        }
        while (ls_archive_reader_next(rd, it) > 0)
                if (it->kind == LS_ITEM_BATCH &&
                    ls_payload_open_dict(pl, &it->batch, it->dict, it->payload,
                                         it->payload_len) == 0) {
                        raw = ls_payload_content(pl, &rawlen);
                        (void) ls_samples_add(s, raw, rawlen);
                }
out:
        ls_payload_free(pl);
        ls_archive_reader_free(rd);
        free(it);
}

int recover_archives(int state_dirfd, int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                     const LsSigner *signer, Recovery *ret)
{
        SealedState st = {};
        Recovery rc = {};
        Scan *sc;
        char name[96];
        uint64_t last = 0;
        int r, fd, have_state;

        have_state = sealed_state_read(state_dirfd, &st) == 0;
        ls_merkle_init(&rc.pos.tree);
        r = find_last_archive(archive_dirfd, chain_id, &last);
        if (r == -ENOENT) {
                rc.chain_empty = 1;
                rc.unclean = have_state && !st.clean;
                rc.undeclared = st.undeclared + (rc.unclean ? 1u : 0u);
                rc.wal_id_sealed = st.wal_id;
                *ret = rc;
                return 0;
        }
        if (r < 0)
                return r;
        ls_archive_name(name, sizeof(name), chain_id, last);
        /* Read-only: a sealed archive is 0440 and stays so. Only an open one is reopened
         * for writing, below, to be cut and sealed. */
        fd = openat(archive_dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                fprintf(stderr, "logseald: %s: %s\n", name, strerror(-r));
                return r;
        }
        sc = calloc(1, sizeof(*sc));
        if (!sc) {
                close(fd);
                return -ENOMEM;
        }
        sc->samples.max = DICT_SAMPLES_MAX;
        r = scan_archive(fd, name, st.tree_size, sc);
        if (r == -ENODATA) {
                /* No complete header. A new archive's header goes to disk with its first
                 * batch, so a crash or power cut while it was written leaves a file too
                 * short to hold any record: remove it and continue after the previous
                 * archive. Anything longer is damage, for a human to look at. */
                off_t size = lseek(fd, 0, SEEK_END);
                off_t max = LS_FRAME_HDR_LEN + LS_ARCHIVE_HEADER_MAX_LEN;
                if (sc->dict_torn) /* a header and an incomplete dictionary frame */
                        max += LS_FRAME_HDR_LEN + LS_DICT_FIXED_LEN + LS_MAX_DICT;
                close(fd);
                ls_samples_free(&sc->samples);
                free(sc);
                if (size < 0 || size >= max) {
                        fprintf(stderr, "logseald: %s: no valid archive header; move the file "
                                        "aside after checking it with logseal-verify\n",
                                name);
                        return -EBADMSG;
                }
                if (unlinkat(archive_dirfd, name, 0) < 0 || fsync(archive_dirfd) < 0)
                        return -errno;
                fprintf(stderr, "logseald: %s: removed a torn archive header (%lld bytes, no "
                                "record): the previous run died while creating it\n",
                        name, (long long) size);
                r = recover_archives(state_dirfd, archive_dirfd, chain_id, signer, ret);
                if (r == 0)
                        ret->torn_bytes += (uint64_t) size;
                return r;
        }
        if (r < 0)
                goto fail;

        rc.wal_id_sealed = st.wal_id;
        rc.wal_skip = sc->wal_records_after;
        rc.unclean = !have_state || !st.clean || !sc->sealed;
        /* Declarations owed when the state was written, less those sealed since (a run that
         * sealed them and died before it wrote the state again), plus this stop. */
        rc.undeclared = (st.undeclared > sc->unclean_after ?
                                 st.undeclared - (uint32_t) sc->unclean_after : 0) +
                        (rc.unclean ? 1u : 0u);
        rc.pos.tree = sc->tree;
        if (sc->sealed) {
                close(fd);
                rc.pos.archive_no = sc->hdr.archive_no + 1;
                rc.pos.batch_no = sc->trailer.first_batch_no + sc->trailer.batch_count;
                memcpy(rc.pos.prev_header_hash, sc->trailer.last_header_hash, LS_HASH_LEN);
                ls_trailer_hash(&sc->trailer, rc.pos.prev_seal_hash);
        } else if (sc->tally.batches == 0) {
                /* Created, then the process died before its first batch: start it again. */
                close(fd);
                if (unlinkat(archive_dirfd, name, 0) < 0) {
                        r = -errno;
                        goto fail;
                }
                rc.pos.archive_no = sc->hdr.archive_no;
                rc.pos.batch_no = sc->hdr.first_batch_no;
                memcpy(rc.pos.prev_seal_hash, sc->hdr.prev_seal_hash, LS_HASH_LEN);
                if (sc->hdr.archive_no == 0) {
                        rc.chain_empty = 1;
                } else {
                        LsTrailer prev;
                        r = read_trailer(archive_dirfd, chain_id, sc->hdr.archive_no - 1, &prev);
                        if (r < 0) {
                                fprintf(stderr, "logseald: archive %" PRIu64
                                                " has no readable seal trailer\n",
                                        sc->hdr.archive_no - 1);
                                goto fail;
                        }
                        memcpy(rc.pos.prev_header_hash, prev.last_header_hash, LS_HASH_LEN);
                }
        } else {
                /* An open archive: cut a torn tail, then seal it so the next run starts clean. */
                LsArchiveWriter *w = NULL;
                LsTrailer t;
                uint64_t size = lseek(fd, 0, SEEK_END) < 0 ? 0 : (uint64_t) lseek(fd, 0, SEEK_END);
                int wfd = openat(archive_dirfd, name, O_RDWR | O_CLOEXEC);

                r = wfd < 0 ? -errno : 0;
                close(fd);
                fd = wfd;
                if (r < 0) {
                        fprintf(stderr, "logseald: %s: cannot reopen the open archive for "
                                        "writing: %s\n",
                                name, strerror(-r));
                        goto fail;
                }
                rc.torn_bytes = size - sc->good_end;
                r = ls_archive_writer_adopt(&w, fd, sc->good_end, &sc->hdr, &sc->tally);
                if (r < 0) {
                        close(fd);
                        goto fail;
                }
                r = ls_archive_writer_seal(w, signer, now_realtime_ns(), &t);
                ls_archive_writer_free(w);
                if (r < 0) {
                        fprintf(stderr, "logseald: %s: cannot seal the recovered archive: %s\n",
                                name, strerror(-r));
                        goto fail;
                }
                rc.pos.archive_no = sc->hdr.archive_no + 1;
                rc.pos.batch_no = t.first_batch_no + t.batch_count;
                memcpy(rc.pos.prev_header_hash, t.last_header_hash, LS_HASH_LEN);
                ls_trailer_hash(&t, rc.pos.prev_seal_hash);
        }
        /* A last archive begun just before the stop holds little to learn from: add the
         * archive before it (best effort; its batches verified when they were written). */
        if (sc->samples.len < RECOVERY_SAMPLES_MIN && last > 0)
                sample_archive(archive_dirfd, chain_id, last - 1, &sc->samples);
        rc.samples = sc->samples;
        free(sc);
        *ret = rc;
        return 0;
fail:
        ls_samples_free(&sc->samples);
        free(sc);
        return r < 0 ? r : -EBADMSG;
}

/* ---- where the signing epoch stands (its close, SPEC §9.4) ---- */

typedef struct EpochTail {
        LsBatchHeader last;          /* the chain's last batch */
        int have;
        uint64_t max_time_ns;        /* the largest max_time_ns of last.key_id's batches seen */
        int complete;                /* a batch of an earlier key was seen: nothing before counts */
} EpochTail;

/*
 * Walks the batch headers of archive n. The newest archive (et->have 0) sets et->last; every
 * batch counts for the run of the last key, which restarts when the key changes.
 */
static int tail_scan(int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t n,
                     EpochTail *et)
{
        LsArchiveReader *rd = NULL;
        LsReadItem *it = calloc(1, sizeof(*it));
        char name[96];
        int fd, k, newest = !et->have;

        if (!it)
                return -ENOMEM;
        ls_archive_name(name, sizeof(name), chain_id, n);
        fd = openat(archive_dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                free(it);
                return -errno;
        }
        k = ls_archive_reader_new(&rd, fd);
        if (k < 0) {
                close(fd);
                free(it);
                return k;
        }
        while ((k = ls_archive_reader_next(rd, it)) > 0) {
                const LsBatchHeader *h = &it->batch;
                int same;

                if (it->kind != LS_ITEM_BATCH)
                        continue;
                same = et->have && memcmp(h->key_id, et->last.key_id, LS_KEY_ID_LEN) == 0;
                if (newest) {
                        if (!same) {
                                et->complete = et->have;
                                et->max_time_ns = h->max_time_ns;
                        }
                        et->last = *h;
                        et->have = 1;
                }
                if (same)
                        et->max_time_ns = MAX(et->max_time_ns, h->max_time_ns);
                else if (!newest)
                        et->complete = 1;
        }
        ls_archive_reader_free(rd);
        free(it);
        return k;
}

/* The header of archive n, and its trailer when it is sealed (*ret_sealed). */
static int tail_ends(int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN], uint64_t n,
                     LsArchiveHeader *ret_hdr, LsTrailer *ret_trailer, int *ret_sealed)
{
        LsArchiveReader *rd = NULL;
        LsReadItem *it = calloc(1, sizeof(*it));
        char name[96];
        int fd, k;

        if (!it)
                return -ENOMEM;
        ls_archive_name(name, sizeof(name), chain_id, n);
        fd = openat(archive_dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                free(it);
                return -errno;
        }
        k = ls_archive_reader_new(&rd, fd);
        if (k < 0) {
                close(fd);
                free(it);
                return k;
        }
        k = ls_archive_reader_next(rd, it);
        if (k > 0 && it->kind == LS_ITEM_HEADER)
                *ret_hdr = it->header;
        else if (k >= 0)
                k = -EBADMSG;
        ls_archive_reader_free(rd);
        free(it);
        if (k < 0)
                return k;
        *ret_sealed = read_trailer(archive_dirfd, chain_id, n, ret_trailer) == 0;
        return 0;
}

int recover_epoch_tail(int archive_dirfd, const uint8_t chain_id[LS_CHAIN_ID_LEN],
                       LsBatchHeader *ret_last, int *ret_have, uint64_t *ret_max_time_ns)
{
        EpochTail et = {};
        uint64_t n = 0;
        int r;

        *ret_have = 0;
        r = find_last_archive(archive_dirfd, chain_id, &n);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* Recovery sealed or removed an open archive: the newest one is complete. */
        r = tail_scan(archive_dirfd, chain_id, n, &et);
        if (r < 0)
                return r;
        if (!et.have)
                return -EBADMSG; /* recovery leaves no archive without a batch */
        /*
         * Back through the archives while the key's batches continue. An archive whose
         * header the key signed holds only its batches (a chain never returns to a key), so
         * its seal trailer has their largest time; only the archive where the epoch began
         * is read batch by batch.
         */
        while (!et.complete && n > 0) {
                LsArchiveHeader hdr;
                LsTrailer tr;
                int sealed = 0;

                n--;
                r = tail_ends(archive_dirfd, chain_id, n, &hdr, &tr, &sealed);
                if (r == 0 && sealed && memcmp(hdr.key_id, et.last.key_id, LS_KEY_ID_LEN) == 0) {
                        et.max_time_ns = MAX(et.max_time_ns, tr.max_time_ns);
                        continue;
                }
                if (r == 0)
                        r = tail_scan(archive_dirfd, chain_id, n, &et);
                if (r < 0) {
                        /* Archives moved away or damaged: the close states what is here. */
                        char name[96];
                        ls_archive_name(name, sizeof(name), chain_id, n);
                        fprintf(stderr, "logseald: %s: %s; the current signing epoch's latest "
                                        "record time is taken from the later archives only\n",
                                name, strerror(-r));
                        break;
                }
        }
        *ret_last = et.last;
        *ret_have = 1;
        *ret_max_time_ns = et.max_time_ns;
        return 0;
}
