/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-bundle.c: the bundle reader (SPEC §14.3) over an evidence.lsb, and the manifest parser */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle-reader.h"
#include "hash.h"

#include "fuzz.h"

/*
 * The input is written as evidence.lsb into a scratch bundle directory beside the golden
 * bundle's checkpoint.txt and keys.lsk (tests/vectors/bundle/, copied below), with a
 * MANIFEST.sha256 recomputed for every input so that the reader gets past step 1 to the
 * entries. The root key is the test-vector root (SPEC §13): the golden evidence.lsb, the
 * first seed, verifies intact. The input is also parsed as a manifest text.
 */

static const uint8_t golden_keys[] = {
        0x89, 0x4c, 0x53, 0x43, 0x0d, 0x0a, 0x1a, 0x0a, 0x01, 0x00, 0xa8, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x49, 0xae, 0x9f, 0x07, 0x6d, 0x7b, 0xde, 0x91,
        0x4b, 0x5f, 0xe7, 0xdd, 0x1d, 0x92, 0xf7, 0x43, 0x9f, 0x3b, 0x97, 0x7f,
        0x1d, 0xd2, 0x61, 0xb5, 0xf5, 0xb8, 0x30, 0xb4, 0xed, 0x7d, 0x87, 0xc4,
        0x88, 0x8d, 0xe9, 0xde, 0xb5, 0x00, 0x47, 0x56, 0xcd, 0xcd, 0xee, 0xc8,
        0xee, 0x61, 0x68, 0xf1, 0x7f, 0xf2, 0x25, 0x3d, 0x03, 0xb7, 0xad, 0xe2,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfa, 0xed, 0x51, 0x72, 0x86, 0x18,
        0x15, 0x13, 0x92, 0xe4, 0xae, 0xce, 0xe5, 0xc4, 0x51, 0x49, 0xee, 0x07,
        0xac, 0x81, 0xcb, 0xbd, 0x79, 0xf6, 0xef, 0x1f, 0xb5, 0xc6, 0x08, 0xb9,
        0x6c, 0x3f, 0xe0, 0x4e, 0x26, 0xac, 0x35, 0xb4, 0x68, 0xec, 0x06, 0x61,
        0x4a, 0x78, 0x87, 0xdb, 0x94, 0xa2, 0xd9, 0x31, 0xf1, 0x49, 0x01, 0xb8,
        0x30, 0xb1, 0x55, 0xd2, 0xd8, 0x60, 0xa0, 0x06, 0xed, 0x89, 0x2a, 0x7f,
        0x8f, 0xb6, 0xf9, 0x91, 0x23, 0x36, 0xa8, 0xd0, 0x79, 0xae, 0xff, 0x08,
};

static const char golden_checkpoint[] =
        "logseal/49ae9f076d7bde914b5fe7dd1d92f743\n"
        "10\n"
        "QRAZVaydgoPTiwDfSC5tE5VLTU2np57UlMpR2GW2GDg=\n"
        "logseal-batch-v1 0 cwCur4DXx7mq+Y3MB7jnctp6apLc1oEdtuD/NtR77XY=\n"
        "\n"
        "\xe2\x80\x94 logseal/49ae9f076d7bde914b5fe7dd1d92f743 wferR1J+yZihraaGlS+3l3okkceiIdor0/qULBCpGgcNK8xIPHHgXkNKXGtW7rbGMcpSd24axBbpVboxf2p7wpxOaw4=\n";

/* SHA-256 of the golden evidence.lsb with its compat_flags (bytes 14-15) zeroed. */
static const char golden_evidence_hash[] =
        "3e763d83150222f157ce051613d7684f66dabdaddf50cd286d1890a7e47484f7";

static char dir[512];
static int dfd = -1;
static uint8_t root_pk[LS_PK_LEN];
static char cp_hex[2 * LS_HASH_LEN + 1], keys_hex[2 * LS_HASH_LEN + 1];

typedef struct Ctx {
        size_t size;
        unsigned long touched;
        unsigned records;
} Ctx;

static void write_file(const char *name, const void *p, size_t n)
{
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        size_t done = 0;

        FUZZ_CHECK(fd >= 0);
        while (done < n) {
                ssize_t k = write(fd, (const uint8_t *) p + done, n - done);
                if (k < 0 && errno == EINTR)
                        continue;
                FUZZ_CHECK(k > 0);
                done += (size_t) k;
        }
        FUZZ_CHECK(close(fd) == 0);
}

static void cleanup(void)
{
        static const char *const names[] = {"MANIFEST.sha256", "checkpoint.txt", "evidence.lsb",
                                            "keys.lsk"};

        if (dfd < 0)
                return;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                (void) unlinkat(dfd, names[i], 0);
        close(dfd);
        (void) rmdir(dir);
}

static void setup(void)
{
        const char *tmp = getenv("TMPDIR");
        uint8_t h[LS_HASH_LEN];
        struct stat st;

        if (!tmp || !*tmp)
                tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
                                      access("/dev/shm", W_OK) == 0 ?
                              "/dev/shm" :
                              "/tmp";
        snprintf(dir, sizeof(dir), "%s/fuzz-bundle.XXXXXX", tmp);
        FUZZ_CHECK(mkdtemp(dir));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_CHECK(dfd >= 0);
        atexit(cleanup);
        write_file("checkpoint.txt", golden_checkpoint, sizeof(golden_checkpoint) - 1);
        write_file("keys.lsk", golden_keys, sizeof(golden_keys));
        ls_sha256(h, golden_checkpoint, sizeof(golden_checkpoint) - 1);
        ls_hex(cp_hex, h, LS_HASH_LEN);
        ls_sha256(h, golden_keys, sizeof(golden_keys));
        ls_hex(keys_hex, h, LS_HASH_LEN);
        fuzz_vector_pk(root_pk, "root-key");
}

static void on_finding(void *ud, const LsFinding *f)
{
        Ctx *c = ud;

        FUZZ_CHECK(f->cls <= LS_CLASS_NOTE);
        FUZZ_CHECK(f->code <= 0);
        FUZZ_CHECK(f->check && f->check[0] && memchr(f->detail, 0, sizeof(f->detail)));
        if (f->file && strstr(f->file, "evidence.lsb") && f->offset != LS_UNSET)
                FUZZ_CHECK(f->offset <= c->size);
        c->touched += strlen(f->check) + strlen(f->detail) + (f->file ? strlen(f->file) : 0);
}

static void on_record(void *ud, const LsRecord *rec, const uint8_t *bytes, size_t len,
                      int verified)
{
        Ctx *c = ud;

        FUZZ_CHECK(len >= LS_RECORD_FIXED_LEN && len <= LS_MAX_RECORD_LEN && len <= c->size);
        FUZZ_CHECK(ls_record_size(rec) == len);
        /* Pointers into the record buffer must be readable for their whole length (ASan). */
        for (size_t i = 0; i < len; i++)
                c->touched += bytes[i];
        for (size_t i = 0; i < rec->identity_len; i++)
                c->touched += rec->identity[i];
        for (size_t i = 0; i < rec->body_len; i++)
                c->touched += rec->body[i];
        c->touched += (unsigned) verified;
        c->records++;
}

static void on_file(void *ud, const LsBundleFile *fi)
{
        Ctx *c = ud;

        /* Only the four files written here exist, and the manifest lists them exactly. */
        FUZZ_CHECK(fi->status == LS_BUNDLE_FILE_OK || fi->status == LS_BUNDLE_FILE_MANIFEST);
        c->touched += strlen(fi->name);
}

static void verify(const uint8_t *data, size_t size)
{
        Ctx c = {.size = size};
        LsBundleCallbacks cb = {.finding = on_finding, .record = on_record, .file = on_file,
                                .userdata = &c};
        LsBundleSummary *s = malloc(sizeof(*s));
        LsBundleReader *b = NULL;
        char text[3 * (2 * LS_HASH_LEN + 2 + 16)], hex[2 * LS_HASH_LEN + 1];
        uint8_t h[LS_HASH_LEN];
        LsClass cls;
        int n;

        FUZZ_CHECK(s);
        write_file("evidence.lsb", data, size);
        ls_sha256(h, data, size);
        ls_hex(hex, h, LS_HASH_LEN);
        n = snprintf(text, sizeof(text), "%s  checkpoint.txt\n%s  evidence.lsb\n%s  keys.lsk\n",
                     cp_hex, hex, keys_hex);
        FUZZ_CHECK(n > 0 && (size_t) n < sizeof(text));
        write_file("MANIFEST.sha256", text, (size_t) n);

        FUZZ_CHECK(ls_bundle_reader_new(&b, root_pk, &cb) == 0);
        cls = ls_bundle_reader_verify(b, dfd, "fuzz", s);
        FUZZ_CHECK(cls == s->verdict);
        FUZZ_CHECK(cls == LS_CLASS_INTACT || cls == LS_CLASS_TAMPERED);
        FUZZ_CHECK(s->findings[LS_CLASS_IO] == 0);
        FUZZ_CHECK(s->manifest_ok && s->files_ok == 3);
        FUZZ_CHECK(s->checkpoint_verified);
        FUZZ_CHECK(!s->header_ok || s->entries <= (uint64_t) s->header.record_count + 1);
        FUZZ_CHECK(s->records_verified + s->records_failed <= s->entries);
        FUZZ_CHECK(c.records <= s->entries);
        if (cls == LS_CLASS_INTACT) {
                /* Intact means: the golden evidence, but for the ignored compat_flags. */
                uint8_t *copy = malloc(size);
                FUZZ_CHECK(copy && size >= 16);
                memcpy(copy, data, size);
                copy[14] = copy[15] = 0;
                ls_sha256(h, copy, size);
                ls_hex(hex, h, LS_HASH_LEN);
                FUZZ_CHECK(strcmp(hex, golden_evidence_hash) == 0);
                FUZZ_CHECK(s->records_verified == s->header.record_count);
                FUZZ_CHECK(s->custody_ok && s->selection_ok);
                free(copy);
        }
        ls_bundle_reader_free(b);
        free(s);
}

typedef struct ManCtx {
        size_t size;
        int lines;
} ManCtx;

static void man_line(void *ud, const char *name, size_t name_len, const uint8_t hash[LS_HASH_LEN],
                     size_t offset)
{
        ManCtx *m = ud;

        FUZZ_CHECK(offset < m->size && name_len <= m->size);
        FUZZ_CHECK(ls_bundle_name_ok(name, name_len));
        m->lines++;
        (void) hash;
}

static void man_bad(void *ud, size_t offset, unsigned line, const char *what)
{
        ManCtx *m = ud;

        FUZZ_CHECK(offset <= m->size && line >= 1 && what && *what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int init;
        ManCtx m = {.size = size};
        int r;

        fuzz_init();
        if (!init) {
                setup();
                init = 1;
        }
        verify(data, size);
        r = ls_bundle_manifest_parse((const char *) data, size, man_line, man_bad, &m);
        FUZZ_CHECK(r == -E2BIG || r == m.lines);
        return 0;
}
