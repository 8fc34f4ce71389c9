/* SPDX-License-Identifier: Apache-2.0 */
/* test-bundle, verifying, scratch copies and evidence.lsb surgery (the suite is in test-bundle.c) */
#include "test-bundle.h"

const char *vdir(void)
{
        const char *d = getenv("VECTORS_DIR");
        return d ? d : "tests/vectors";
}

static const char *const bundle_files[] = {"MANIFEST.sha256", "README.txt", "checkpoint.txt",
                                           "evidence.lsb", "keys.lsk"};


static void on_finding(void *ud, const LsFinding *f)
{
        Res *r = ud;

        ck_assert(f->check && f->check[0]);
        ck_assert(memchr(f->detail, 0, sizeof(f->detail)));
        if (r->n == MAX_FINDINGS)
                return;
        r->classes[r->n] = f->cls;
        snprintf(r->checks[r->n], sizeof(r->checks[0]), "%s", f->check);
        snprintf(r->files[r->n], sizeof(r->files[0]), "%s", f->file ? f->file : "");
        r->seqs[r->n] = f->seq;
        r->offsets[r->n] = f->offset;
        if (getenv("TEST_BUNDLE_VERBOSE"))
                fprintf(stderr, "#   [%s] %s %s @%" PRIu64 ": %s\n", ls_class_name(f->cls),
                        f->file ? f->file : "-", f->check, f->offset, f->detail);
        r->n++;
}

static void on_record(void *ud, const LsRecord *rec, const uint8_t *bytes, size_t len,
                      int verified)
{
        Res *r = ud;

        ck_assert_uint_eq(ls_record_size(rec), len);
        ck_assert(rec->body >= bytes && rec->body + rec->body_len <= bytes + len);
        if (r->nrec == MAX_RECS)
                return;
        r->rec_seq[r->nrec] = rec->seq;
        r->rec_verified[r->nrec] = verified;
        r->nrec++;
}

static void on_file(void *ud, const LsBundleFile *fi)
{
        Res *r = ud;

        if (r->nfiles == 16)
                return;
        r->file_status[r->nfiles] = fi->status;
        snprintf(r->file_names[r->nfiles], sizeof(r->file_names[0]), "%s", fi->name);
        r->nfiles++;
}

void root_key(uint8_t pk[LS_PK_LEN])
{
        char path[1024];
        uint8_t *text, id[LS_KEY_ID_LEN];
        size_t n;

        snprintf(path, sizeof(path), "%s/root.pub", vdir());
        ck_assert_int_eq(tu_read_file(path, 4096, &text, &n), 0);
        ck_assert_int_eq(ls_pubkey_parse((const char *) text, n, pk, id), 0);
        free(text);
}

/* Verifies the bundle in dir; extra (optional) is an out-of-band key history. */
Res *verify_with(const char *dir, const uint8_t root[LS_PK_LEN], const uint8_t *extra,
                 size_t extra_len)
{
        Res *r = calloc(1, sizeof(*r));
        LsBundleCallbacks cb = {.finding = on_finding, .record = on_record, .file = on_file,
                                .userdata = r};
        LsBundleReader *b;
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        ck_assert_ptr_nonnull(r);
        ck_assert_int_ge(dirfd, 0);
        ck_assert_int_eq(ls_bundle_reader_new(&b, root, &cb), 0);
        if (extra)
                ck_assert_int_eq(ls_bundle_reader_add_keys(b, extra, extra_len, "extra.lsk"), 0);
        r->cls = ls_bundle_reader_verify(b, dirfd, "bundle", &r->sum);
        ck_assert_int_eq(r->cls, r->sum.verdict);
        ls_bundle_reader_free(b);
        close(dirfd);
        return r;
}

Res *verify(const char *dir)
{
        uint8_t root[LS_PK_LEN];

        root_key(root);
        return verify_with(dir, root, NULL, 0);
}

int has_check(const Res *r, const char *check)
{
        for (unsigned i = 0; i < r->n; i++)
                if (r->classes[i] != LS_CLASS_NOTE && !strcmp(r->checks[i], check))
                        return 1;
        return 0;
}

const char *first_tampered(const Res *r)
{
        for (unsigned i = 0; i < r->n; i++)
                if (r->classes[i] == LS_CLASS_TAMPERED)
                        return r->checks[i];
        return "(none)";
}

unsigned count_class(const Res *r, LsClass c)
{
        unsigned k = 0;
        for (unsigned i = 0; i < r->n; i++)
                k += r->classes[i] == c;
        return k;
}


/* ---- scratch copies ---- */

char *path_in(const char *dir, const char *name)
{
        char *p;
        ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
        return p;
}

void put(const char *dir, const char *name, const void *p, size_t n)
{
        char *f = path_in(dir, name);
        unlink(f);
        ck_assert_int_eq(tu_write_file(f, p, n), 0);
        free(f);
}

uint8_t *get(const char *dir, const char *name, size_t *n)
{
        char *f = path_in(dir, name);
        uint8_t *p;
        ck_assert_int_eq(tu_read_file(f, 1 << 24, &p, n), 0);
        free(f);
        return p;
}

char *scratch_copy(void)
{
        char *dir = strdup("/tmp/logseal-bundle-XXXXXX"), *src;

        ck_assert_ptr_nonnull(mkdtemp(dir));
        src = path_in(vdir(), "bundle");
        for (size_t i = 0; i < ELEMENTSOF(bundle_files); i++) {
                size_t n;
                uint8_t *p = get(src, bundle_files[i], &n);
                put(dir, bundle_files[i], p, n);
                free(p);
        }
        free(src);
        return dir;
}

void remove_dir(char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                        ck_assert_int_eq(unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR), 0);
        }
        closedir(d);
        ck_assert_int_eq(rmdir(dir), 0);
        free(dir);
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Rewrites MANIFEST.sha256 over the regular files present, as an attacker would. */
void rehash(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        char *names[32], hex[2 * LS_HASH_LEN + 1], text[4096];
        size_t n = 0, len = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d))) {
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode) || !strcmp(de->d_name, "MANIFEST.sha256"))
                        continue;
                ck_assert_uint_lt(n, ELEMENTSOF(names));
                names[n++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof(*names), name_cmp);
        for (size_t i = 0; i < n; i++) {
                uint8_t h[LS_HASH_LEN], *p;
                size_t pl;
                p = get(dir, names[i], &pl);
                ls_sha256(h, p, pl);
                ls_hex(hex, h, LS_HASH_LEN);
                len += (size_t) snprintf(text + len, sizeof(text) - len, "%s  %s\n", hex, names[i]);
                free(p);
                free(names[i]);
        }
        put(dir, "MANIFEST.sha256", text, len);
}

/* ---- evidence.lsb surgery ---- */


size_t entries(const uint8_t *p, size_t n, Entry *e, size_t max)
{
        size_t off = LS_BUNDLE_HEADER_LEN, k = 0;

        while (off < n && k < max) {
                LsBundleEntry be;
                ck_assert_int_eq(ls_bundle_entry_decode(&be, p + off, n - off), 0);
                e[k] = (Entry){.off = off,
                               .len = LS_BUNDLE_ENTRY_FIXED_LEN + be.record_len + be.proof_len,
                               .seq = be.seq,
                               .rec_off = off + LS_BUNDLE_ENTRY_FIXED_LEN,
                               .rec_len = be.record_len,
                               .proof_off = off + LS_BUNDLE_ENTRY_FIXED_LEN + be.record_len,
                               .proof_len = be.proof_len};
                off += e[k].len;
                k++;
        }
        ck_assert_uint_eq(off, n);
        return k;
}

/* Builds evidence.lsb from the golden header (record_count set) and the given entries. */
void write_evidence(const char *dir, const uint8_t *hdr, uint32_t record_count,
                    const uint8_t *const *ents, const size_t *lens, size_t n)
{
        size_t total = LS_BUNDLE_HEADER_LEN, off;
        uint8_t *p;

        for (size_t i = 0; i < n; i++)
                total += lens[i];
        p = malloc(total);
        memcpy(p, hdr, LS_BUNDLE_HEADER_LEN);
        ls_put32(p + 40, record_count);
        off = LS_BUNDLE_HEADER_LEN;
        for (size_t i = 0; i < n; i++) {
                memcpy(p + off, ents[i], lens[i]);
                off += lens[i];
        }
        put(dir, "evidence.lsb", p, total);
        free(p);
}
