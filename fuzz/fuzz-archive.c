/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-archive.c: the whole verifier path, and the raw archive reader, over one archive file */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "archive-reader.h"
#include "chain-verify.h"
#include "control.h"
#include "hash.h"
#include "payload.h"

#include "fuzz.h"

/*
 * The root key is the test-vector root (seed H("logseal-test-vector-root-key"), SPEC §13):
 * the seed corpus holds the vector archives, which then verify all the way through.
 */
static uint8_t root_pk[LS_PK_LEN];

typedef struct Ctx {
        const uint8_t *data;
        size_t size;
        uint8_t hash[LS_HASH_LEN]; /* SHA-256 of the input */
        int io_error;
        unsigned long touched; /* keeps the reads of callback data from being optimised out */
} Ctx;

static int memfd_of(const uint8_t *data, size_t size)
{
        size_t done = 0;
        int fd = memfd_create("fuzz-archive", MFD_CLOEXEC);

        /* Failing here after many inputs would mean the library leaks descriptors. */
        FUZZ_CHECK(fd >= 0);
        while (done < size) {
                ssize_t k = write(fd, data + done, size - done);
                if (k < 0 && errno == EINTR)
                        continue;
                FUZZ_CHECK(k > 0);
                done += (size_t) k;
        }
        return fd;
}

/* The library took ownership of fd: it must have been closed. */
static void check_closed(int fd)
{
        FUZZ_CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
}

static void on_finding(void *ud, const LsFinding *f)
{
        Ctx *c = ud;

        FUZZ_CHECK(f->cls <= LS_CLASS_NOTE);
        FUZZ_CHECK(f->code <= 0);
        FUZZ_CHECK(f->check && memchr(f->detail, 0, sizeof(f->detail)));
        c->touched += strlen(f->check) + strlen(f->detail) + strlen(ls_class_name(f->cls));
        if (f->cls == LS_CLASS_IO)
                c->io_error = 1;
}

static void on_record(void *ud, const LsBatchHeader *h, const LsRecord *rec)
{
        Ctx *c = ud;

        FUZZ_CHECK(rec->seq >= h->first_seq && rec->seq < h->tree_size);
        /* Pointers into the payload must be readable for their whole length (ASan). */
        for (size_t i = 0; i < rec->identity_len; i++)
                c->touched += rec->identity[i];
        for (size_t i = 0; i < rec->body_len; i++)
                c->touched += rec->body[i];
}

static void on_batch(void *ud, const char *file, uint64_t offset, const LsBatchHeader *h)
{
        Ctx *c = ud;

        FUZZ_CHECK(offset < c->size);
        c->touched += strlen(file) + h->record_count;
}

static void on_archive(void *ud, const LsArchiveSummary *s)
{
        Ctx *c = ud;

        FUZZ_CHECK(s->file_size == c->size);
        FUZZ_CHECK(s->batches_ok + s->batches_bad <= c->size);
        if (!c->io_error)
                FUZZ_CHECK(memcmp(s->file_hash, c->hash, LS_HASH_LEN) == 0);
}

static void verify(Ctx *c)
{
        LsVerifyCallbacks cb = {
                .finding = on_finding,
                .record = on_record,
                .batch = on_batch,
                .archive = on_archive,
                .userdata = c,
        };
        LsChainVerifier *v = NULL;
        LsVerifyStats st;
        const LsKeyInfo *keys;
        LsClass cls;
        size_t nkeys;
        int fd, r;

        FUZZ_CHECK(ls_chain_verifier_new(&v, root_pk, &cb) == 0);
        fd = memfd_of(c->data, c->size);
        r = ls_chain_verify_archive(v, fd, "fuzz");
        check_closed(fd);
        FUZZ_CHECK(r == 0 || c->io_error);
        cls = ls_chain_verifier_finish(v, &st);
        FUZZ_CHECK(cls < LS_CLASS_NOTE);
        FUZZ_CHECK(st.archives == 1);
        FUZZ_CHECK(st.archives_sealed <= 1);
        nkeys = ls_chain_verifier_keys(v, &keys);
        FUZZ_CHECK(nkeys >= 1 && nkeys == st.keys && keys[0].is_root);
        ls_chain_verifier_free(v);
}

/* Reads the archive item by item; the items must tile the file and match its bytes. */
static void read_raw(Ctx *c)
{
        LsArchiveReader *rd = NULL;
        LsPayload *pl = NULL;
        LsReadItem *it;
        uint8_t hash[LS_HASH_LEN], *buf;
        uint64_t expect = 0;
        int fd, r;

        it = malloc(sizeof(*it));
        buf = malloc(LS_ARCHIVE_HEADER_MAX_LEN);
        FUZZ_CHECK(it && buf);
        FUZZ_CHECK(ls_payload_new(&pl) == 0);
        fd = memfd_of(c->data, c->size);
        FUZZ_CHECK(ls_archive_reader_new(&rd, fd) == 0);
        FUZZ_CHECK(ls_archive_reader_file_size(rd) == c->size);

        while ((r = ls_archive_reader_next(rd, it)) > 0) {
                const uint8_t *frame = c->data + it->offset + LS_FRAME_HDR_LEN;

                FUZZ_CHECK(it->offset == expect);
                /* The one empty item: a DICT header's missing dictionary frame (SPEC §8.6). */
                FUZZ_CHECK((it->length > 0 || (it->kind == LS_ITEM_DAMAGE && it->error == -EBADMSG)) &&
                           it->length <= c->size - it->offset);
                expect = it->offset + it->length;
                FUZZ_CHECK(ls_archive_reader_position(rd) == expect);

                switch (it->kind) {
                case LS_ITEM_HEADER:
                        FUZZ_CHECK(it->length ==
                                   LS_FRAME_HDR_LEN + ls_archive_header_size(&it->header));
                        ls_archive_header_encode(&it->header, buf);
                        FUZZ_CHECK(memcmp(buf, frame, it->length - LS_FRAME_HDR_LEN) == 0);
                        break;
                case LS_ITEM_BATCH: {
                        LsPayloadIter pi;
                        LsRecord rec;
                        const uint8_t *raw, *bytes;
                        size_t rawlen, len, off = 0;
                        uint8_t leaf[LS_HASH_LEN];

                        FUZZ_CHECK(it->length == LS_FRAME_HDR_LEN + LS_BATCH_HEADER_LEN +
                                                         (uint64_t) it->payload_len);
                        ls_batch_header_encode(&it->batch, buf);
                        FUZZ_CHECK(memcmp(buf, frame, LS_BATCH_HEADER_LEN) == 0);
                        FUZZ_CHECK(memcmp(it->payload, frame + LS_BATCH_HEADER_LEN,
                                          it->payload_len) == 0);
                        if (ls_payload_open_dict(pl, &it->batch, it->dict, it->payload,
                                                 it->payload_len) < 0)
                                break;
                        raw = ls_payload_raw(pl, &rawlen);
                        FUZZ_CHECK(rawlen == it->batch.payload_raw_len);
                        ls_payload_iter_init(&pi, &it->batch, raw, rawlen);
                        while (ls_payload_next(&pi, &rec, &bytes, &len, leaf, &off) > 0)
                                FUZZ_CHECK(bytes >= raw && len <= rawlen &&
                                           (size_t) (bytes - raw) <= rawlen - len);
                        FUZZ_CHECK(off <= rawlen);
                        break;
                }
                case LS_ITEM_TRAILER:
                        FUZZ_CHECK(it->length == LS_FRAME_HDR_LEN + LS_TRAILER_LEN);
                        ls_trailer_encode(&it->trailer, buf);
                        FUZZ_CHECK(memcmp(buf, frame, LS_TRAILER_LEN) == 0);
                        ls_sha256(hash, c->data, it->offset);
                        FUZZ_CHECK(memcmp(hash, it->content_hash, LS_HASH_LEN) == 0);
                        break;
                case LS_ITEM_DICT:
                        /* Accepted only with the hash the header names. */
                        FUZZ_CHECK(it->dict && it->length > LS_FRAME_HDR_LEN + LS_DICT_FIXED_LEN);
                        ls_sha256(hash, frame, it->length - LS_FRAME_HDR_LEN);
                        FUZZ_CHECK(memcmp(hash, ls_dict_hash(it->dict), LS_HASH_LEN) == 0);
                        break;
                case LS_ITEM_LATER:
                        /* A later format (SPEC §1.1): its bytes as written, the last item. */
                        FUZZ_CHECK(it->raw && it->raw_len <= it->length - LS_FRAME_HDR_LEN);
                        FUZZ_CHECK(memcmp(it->raw, frame, it->raw_len) == 0);
                        break;
                case LS_ITEM_DAMAGE:
                case LS_ITEM_TORN_TAIL:
                        FUZZ_CHECK(it->error < 0 && it->what);
                        FUZZ_CHECK(it->kind == LS_ITEM_DAMAGE || expect == c->size);
                        break;
                default:
                        FUZZ_CHECK(!"unknown item kind");
                }
        }
        FUZZ_CHECK(r == 0);
        /* At the end every byte was consumed, and hashed. */
        FUZZ_CHECK(expect == c->size);
        FUZZ_CHECK(ls_archive_reader_file_hash(rd, hash) == 0);
        FUZZ_CHECK(memcmp(hash, c->hash, LS_HASH_LEN) == 0);
        ls_archive_reader_free(rd);
        check_closed(fd);
        ls_payload_free(pl);
        free(buf);
        free(it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int init;
        Ctx c = {.data = data, .size = size};

        fuzz_init();
        if (!init) {
                fuzz_vector_pk(root_pk, "root-key");
                init = 1;
        }
        ls_sha256(c.hash, data, size);
        verify(&c);
        read_raw(&c);
        return 0;
}
