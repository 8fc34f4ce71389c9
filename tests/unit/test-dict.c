/* SPDX-License-Identifier: Apache-2.0 */
/* test-dict.c: the per-archive zstd dictionary (SPEC §8.6): written, read, bounded, bound */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>
#include <zstd.h>

#include "archive-reader.h"
#include "archive.h"
#include "chain-writer.h"
#include "hash.h"
#include "keys.h"
#include "payload.h"
#include "testutil.h"
#include "util.h"
#include "tu-check.h"

static const char *const words[] = {
        "sshd", "Accepted", "publickey", "for", "alice", "from", "port", "session", "opened",
        "closed", "kernel:", "eth0:", "link", "up", "down", "CRON", "pam_unix(cron:session):",
        "user", "root", "by", "(uid=0)", "Failed", "password", "invalid", "bob",
};

/* A log-like line i (varied, repetitive like real logs). */
static void line(char *out, size_t cap, unsigned i)
{
        unsigned n = 6 + i % 9;
        size_t o = (size_t) snprintf(out, cap, "<%u>1 2026-01-01T00:00:%02u.%06uZ host%u app%u - - -",
                                     13 + i % 4, i % 60, (i * 7919) % 1000000, i % 5, i % 3);
        for (unsigned k = 0; k < n && o + 40 < cap; k++)
                o += (size_t) snprintf(out + o, cap - o, " %s", words[(i * 31 + k * 17) % 25]);
        snprintf(out + o, cap - o, " [%u]", i * 2654435761u % 100000);
}

typedef struct Fixture {
        char dir[64];
        int dirfd;
        LsKeyPair *key;
        LsSigner signer;
        LsChainWriter *w;
} Fixture;

static void fixture(Fixture *f, size_t dict_size)
{
        uint8_t seed[32];
        LsChainWriterConfig cfg = {
                .zstd_level = 3,
                .columns = 1,
                .max_batch_raw = 64 * 1024,
                .max_batch_records = 100000,
                .dict_size = dict_size,
                .dict_samples_min = 128 * 1024,
                .dict_samples_max = 1024 * 1024,
        };

        snprintf(f->dir, sizeof(f->dir), "/tmp/test-dict-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(f->dir));
        f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(f->dirfd, 0);
        tu_seed(seed, "dict-key");
        ck_assert_int_eq(ls_keypair_from_seed(&f->key, seed, 0), 0);
        ls_signer_from_keypair(&f->signer, f->key);
        tu_seed(seed, "dict-chain-id");
        memcpy(cfg.chain_id, seed, LS_CHAIN_ID_LEN);
        cfg.dirfd = f->dirfd;
        ck_assert_int_eq(ls_chain_writer_new(&f->w, &cfg, NULL), 0);
}

static void fixture_free(Fixture *f)
{
        char cmd[128];

        ls_chain_writer_free(f->w);
        ls_keypair_free(f->key);
        close(f->dirfd);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
        ck_assert_int_eq(system(cmd), 0);
}

/* Writes n records from line i0 on in batches of 500, then seals the archive. */
static void write_archive(Fixture *f, unsigned i0, unsigned n)
{
        char msg[512];
        uint64_t t = TU_T0 + (uint64_t) i0 * 1000;

        for (unsigned i = i0; i < i0 + n; i++) {
                LsRecord r;
                line(msg, sizeof(msg), i);
                r = tu_udp4(t + i * 1000ull, "192.0.2.10", 514, msg);
                if (ls_chain_writer_add(f->w, &r) == -ENOSPC) {
                        ck_assert_int_eq(ls_chain_writer_flush(f->w, &f->signer, t, NULL), 0);
                        ck_assert_int_eq(ls_chain_writer_add(f->w, &r), 0);
                }
                if ((i - i0) % 100 == 99) /* small batches, as on a quiet appliance */
                        ck_assert_int_eq(ls_chain_writer_flush(f->w, &f->signer, t, NULL), 0);
        }
        ck_assert_int_eq(ls_chain_writer_flush(f->w, &f->signer, t, NULL), 0);
        ck_assert_int_eq(ls_chain_writer_seal(f->w, &f->signer, t), 0);
}

static char *path_of(Fixture *f, uint64_t no, char *out, size_t cap)
{
        uint8_t cid[32];
        char name[96];

        tu_seed(cid, "dict-chain-id");
        ls_archive_name(name, sizeof(name), cid, no);
        snprintf(out, cap, "%s/%s", f->dir, name);
        return out;
}

/* Reads every item; returns batches whose payload opened with the item's dictionary. */
typedef struct Tally {
        int header_dict, dict_items, damage, torn, batches, opened, dict_batches, dict_error;
        uint32_t dict_id;
        size_t payload_bytes;
} Tally;

static Tally read_all(const char *path)
{
        LsArchiveReader *rd;
        LsPayload *pl;
        LsReadItem it;
        Tally t = {};
        int fd = open(path, O_RDONLY | O_CLOEXEC), k;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ls_archive_reader_new(&rd, fd), 0);
        ck_assert_int_eq(ls_payload_new(&pl), 0);
        while ((k = ls_archive_reader_next(rd, &it)) > 0) {
                switch (it.kind) {
                case LS_ITEM_HEADER:
                        t.header_dict = !!(it.header.incompat_flags & LS_ARCHIVE_INCOMPAT_DICT);
                        break;
                case LS_ITEM_DICT:
                        t.dict_items++;
                        t.dict_id = ls_dict_id(it.dict);
                        break;
                case LS_ITEM_DAMAGE:
                        t.damage++;
                        t.dict_error = it.error;
                        break;
                case LS_ITEM_TORN_TAIL:
                        t.torn++;
                        break;
                case LS_ITEM_LATER:
                        t.damage++;
                        t.dict_error = -EPROTONOSUPPORT;
                        break;
                case LS_ITEM_BATCH:
                        t.batches++;
                        t.payload_bytes += it.payload_len;
                        t.dict_batches += !!(it.batch.incompat_flags & LS_BATCH_INCOMPAT_DICT);
                        t.opened += ls_payload_open_dict(pl, &it.batch, it.dict, it.payload,
                                                         it.payload_len) == 0;
                        /* Without its dictionary a DICT batch never opens. */
                        if (it.batch.incompat_flags & LS_BATCH_INCOMPAT_DICT)
                                ck_assert_int_eq(ls_payload_open(pl, &it.batch, it.payload,
                                                                 it.payload_len),
                                                 -EBADMSG);
                        break;
                case LS_ITEM_TRAILER:
                        break;
                }
        }
        ck_assert_int_eq(k, 0);
        ls_payload_free(pl);
        ls_archive_reader_free(rd);
        return t;
}

static size_t file_size(const char *path)
{
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        return (size_t) st.st_size;
}

START_TEST(the_next_archive_gets_a_dictionary_trained_on_earlier_batches_and_compresses_better)
{
        Fixture f, g;
        char p0[160], p1[160], q1[160];
        Tally t0, t1;

        fixture(&f, 16 * 1024);
        ck_assert_int_eq(ls_chain_writer_dict_due(f.w), 0);
        write_archive(&f, 0, 6000);
        write_archive(&f, 6000, 3000);
        t0 = read_all(path_of(&f, 0, p0, sizeof(p0)));
        t1 = read_all(path_of(&f, 1, p1, sizeof(p1)));
        ck_assert_int_eq(t0.header_dict, 0);
        ck_assert_int_eq(t0.dict_items, 0);
        ck_assert_int_eq(t0.dict_batches, 0);
        ck_assert_int_eq(t0.opened, t0.batches);
        ck_assert_int_eq(t1.header_dict, 1);
        ck_assert_int_eq(t1.dict_items, 1);
        ck_assert_uint_ne(t1.dict_id, 0);
        ck_assert_int_eq(t1.damage, 0);
        ck_assert_int_gt(t1.batches, 2);
        ck_assert_int_eq(t1.dict_batches, t1.batches);
        ck_assert_int_eq(t1.opened, t1.batches);

        /* The same records without dictionaries: archive 1's payloads are larger. */
        fixture(&g, 0);
        write_archive(&g, 0, 6000);
        write_archive(&g, 6000, 3000);
        path_of(&g, 1, q1, sizeof(q1));
        t0 = read_all(q1);
        ck_assert_int_eq(t0.header_dict, 0);
        ck_assert_msg(t1.payload_bytes * 10 < t0.payload_bytes * 9,
                      "payloads with dictionary %zu, without %zu (files %zu, %zu)",
                      t1.payload_bytes, t0.payload_bytes, file_size(p1), file_size(q1));
        fixture_free(&f);
        fixture_free(&g);
}
END_TEST

/* Byte offset and length of archive 1's dictionary frame. */
static void dict_frame(const uint8_t *p, size_t n, size_t *off, size_t *len)
{
        size_t h = 8 + ls_get32(p + 4);
        ck_assert_uint_gt(n, h + 8);
        ck_assert_uint_eq(ls_get32(p + h), 0x184D2A5Bu);
        ck_assert_uint_eq(p[h + 8 + 3], 'D');
        *off = h;
        *len = 8 + ls_get32(p + h + 4);
}

START_TEST(a_changed_or_missing_dictionary_is_caught_and_its_batches_never_open)
{
        Fixture f;
        char p1[160], q[200];
        uint8_t *p;
        size_t n, off, len;
        Tally t;

        fixture(&f, 16 * 1024);
        write_archive(&f, 0, 6000);
        write_archive(&f, 6000, 2000);
        path_of(&f, 1, p1, sizeof(p1));
        ck_assert_int_eq(tu_read_file(p1, 64 << 20, &p, &n), 0);
        dict_frame(p, n, &off, &len);
        snprintf(q, sizeof(q), "%s/forged.lsa", f.dir);

        /* One bit of the dictionary's content: its hash is not the header's. */
        p[off + len - 50] ^= 1;
        ck_assert_int_eq(tu_write_file(q, p, n), 0);
        t = read_all(q);
        ck_assert_int_eq(t.dict_items, 0);
        ck_assert_int_eq(t.damage, 1);
        ck_assert_int_eq(t.dict_error, -EILSEQ);
        ck_assert_int_gt(t.batches, 0);
        ck_assert_int_eq(t.opened, 0);
        p[off + len - 50] ^= 1;

        /* The frame removed: reported, and the batches still read (and refused). */
        memmove(p + off, p + off + len, n - off - len);
        ck_assert_int_eq(tu_write_file(q, p, n - len), 0);
        t = read_all(q);
        ck_assert_int_eq(t.damage, 1);
        ck_assert_int_eq(t.dict_error, -EBADMSG);
        ck_assert_int_gt(t.batches, 0);
        ck_assert_int_eq(t.opened, 0);
        free(p);

        /* Torn while it was written: a torn tail, no batch. */
        ck_assert_int_eq(tu_read_file(p1, 64 << 20, &p, &n), 0);
        ck_assert_int_eq(tu_write_file(q, p, off + len / 2), 0);
        t = read_all(q);
        ck_assert_int_eq(t.torn, 1);
        ck_assert_int_eq(t.batches, 0);
        {
                LsDict *d = (LsDict *) 1;
                int fd = open(q, O_RDONLY | O_CLOEXEC);
                ck_assert_int_eq(ls_archive_read_dict(fd, &d, NULL), -EAGAIN);
                ck_assert_ptr_null(d);
                close(fd);
                fd = open(p1, O_RDONLY | O_CLOEXEC);
                uint64_t end = 0;
                ck_assert_int_eq(ls_archive_read_dict(fd, &d, &end), 1);
                ck_assert_ptr_nonnull(d);
                ck_assert_uint_eq(end, off + len);
                ls_dict_unref(d);
                close(fd);
        }
        free(p);
        fixture_free(&f);
}
END_TEST

START_TEST(the_dictionary_structure_is_bounded_before_allocation_and_strict)
{
        static uint8_t s[LS_DICT_FIXED_LEN + 4096];
        uint8_t dict[4096];
        const uint8_t *d;
        size_t len, off;
        uint32_t id;
        LsDict *x = NULL;

        memset(dict, 'a', sizeof(dict));
        ls_put32(dict, 0xEC30A437u);
        ls_put32(dict + 4, 77);
        ck_assert_uint_eq(ls_dict_encode(dict, sizeof(dict), s), sizeof(s));
        ck_assert_int_eq(ls_dict_decode(s, sizeof(s), &d, &len, &id, &off), 0);
        ck_assert_uint_eq(len, sizeof(dict));
        ck_assert_uint_eq(id, 77);
        /* A length above the limit is -E2BIG from the 24 fixed bytes alone. */
        ls_put32(s + 16, LS_MAX_DICT + 1);
        ck_assert_int_eq(ls_dict_decode(s, LS_DICT_FIXED_LEN, &d, &len, &id, &off), -E2BIG);
        ck_assert_uint_eq(off, 16);
        ls_put32(s + 16, 255);
        ck_assert_int_eq(ls_dict_decode(s, sizeof(s), &d, &len, &id, &off), -EBADMSG);
        ls_put32(s + 16, sizeof(dict));
        ck_assert_int_eq(ls_dict_decode(s, sizeof(s) - 1, &d, &len, &id, &off), -ENODATA);
        s[20] = 1;
        ck_assert_int_eq(ls_dict_decode(s, sizeof(s), &d, &len, &id, &off), -EBADMSG);
        ck_assert_uint_eq(off, 20);
        s[20] = 0;
        s[12] = 1;
        ck_assert_int_eq(ls_dict_decode(s, sizeof(s), &d, &len, &id, &off), -EPROTONOSUPPORT);
        s[12] = 0;
        ls_put32(s + LS_DICT_FIXED_LEN + 4, 0); /* dictionary id 0 */
        ck_assert_int_eq(ls_dict_decode(s, sizeof(s), &d, &len, &id, &off), -EBADMSG);
        ls_put32(s + LS_DICT_FIXED_LEN + 4, 77);
        s[LS_DICT_FIXED_LEN] ^= 1; /* not a zstd dictionary */
        ck_assert_int_eq(ls_dict_decode(s, sizeof(s), &d, &len, &id, &off), -EBADMSG);
        s[LS_DICT_FIXED_LEN] ^= 1;
        /* Well-formed but not loadable tables ('a' bytes): refused, nothing leaks. */
        ck_assert_int_lt(ls_dict_new(&x, s, sizeof(s), &off), 0);
        ck_assert_ptr_null(x);
}
END_TEST

START_TEST(the_archive_header_signature_covers_the_dictionary_hash)
{
        LsKeyPair *k;
        LsSigner sg;
        LsArchiveHeader h = {}, d;
        uint8_t seed[32], buf[LS_ARCHIVE_HEADER_MAX_LEN];
        size_t n, off;

        tu_seed(seed, "dict-key");
        ck_assert_int_eq(ls_keypair_from_seed(&k, seed, 0), 0);
        ls_signer_from_keypair(&sg, k);
        h.incompat_flags = LS_ARCHIVE_INCOMPAT_DICT;
        memset(h.dict_hash, 0xab, sizeof(h.dict_hash));
        ck_assert_int_eq(ls_archive_header_sign(&h, &sg), 0);
        n = ls_archive_header_encode(&h, buf);
        ck_assert_uint_eq(n, 184 + 32);
        ck_assert_int_eq(ls_archive_header_decode(&d, buf, n, &off), 0);
        ck_assert_mem_eq(d.dict_hash, h.dict_hash, 32);
        ck_assert_int_eq(ls_archive_header_verify(&d, sg.pk), 0);
        d.dict_hash[5] ^= 1;
        ck_assert_int_eq(ls_archive_header_verify(&d, sg.pk), -EKEYREJECTED);
        /* Without DICT the same bytes are a header of the wrong size. */
        ls_put16(buf + 12, 0);
        ck_assert_int_eq(ls_archive_header_decode(&d, buf, n, &off), -EBADMSG);
        ls_keypair_free(k);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("dict");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, the_next_archive_gets_a_dictionary_trained_on_earlier_batches_and_compresses_better);
        tcase_add_test(tc, a_changed_or_missing_dictionary_is_caught_and_its_batches_never_open);
        tcase_add_test(tc, the_dictionary_structure_is_bounded_before_allocation_and_strict);
        tcase_add_test(tc, the_archive_header_signature_covers_the_dictionary_hash);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
