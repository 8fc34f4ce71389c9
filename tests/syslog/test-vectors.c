/* SPDX-License-Identifier: Apache-2.0 */
/* test-vectors: runs the syslog framer and parser on third-party peer cases and reports agreement
 */
#include "test-vectors.h"

/*
 * Reads every case of $SHARED_DATA/vectors/ *.jsonl and $SHARED_DATA/rfc/rfc_examples.jsonl
 * (SHARED_DATA defaults to ../shared/data, i.e. run from the source root), runs the framer
 * or the parser as the case's peer did, and compares validity and fields with the peer's
 * expectations. Prints per source file: cases, agreed, disagreed, not comparable, then each
 * disagreement (case id, field, expected, got). VECTORS.md explains every class of
 * deliberate difference. Exit 0, 1 when an agreement count falls below its floor (a
 * regression), 77 when the data is absent.
 */

/* ---- driver ---------------------------------------------------------------------------- */

typedef enum Schema {
        SCHEMA_GO5424,
        SCHEMA_GO3164,
        SCHEMA_STREAM,
        SCHEMA_LOOSE,
        SCHEMA_NG_MSGPARSE,
        SCHEMA_NG_FORMAT,
        SCHEMA_RFC,
        SCHEMA_UNKNOWN,
} Schema;

static Schema schema_of(const char *name)
{
        if (strstr(name, "octetcounting") || strstr(name, "nontransparent"))
                return SCHEMA_STREAM;
        if (strstr(name, "go-syslog_rfc5424"))
                return SCHEMA_GO5424;
        if (strstr(name, "go-syslog_rfc3164"))
                return SCHEMA_GO3164;
        if (strstr(name, "syslog-loose"))
                return SCHEMA_LOOSE;
        if (strstr(name, "test_msgparse"))
                return SCHEMA_NG_MSGPARSE;
        if (strstr(name, "test_syslog_format"))
                return SCHEMA_NG_FORMAT;
        if (strstr(name, "rfc_examples"))
                return SCHEMA_RFC;
        return SCHEMA_UNKNOWN;
}

/* Agreement floors: the counts reached when VECTORS.md was written. Raise them when the
 * parser improves; a drop below is a regression. */
static const struct {
        const char *file;
        int min_agreed;
} floors[] = {
        {"influxdata-go-syslog_nontransparent.jsonl", 10},
        {"influxdata-go-syslog_octetcounting.jsonl", 17},
        {"influxdata-go-syslog_rfc3164.jsonl", 8},
        {"influxdata-go-syslog_rfc5424.jsonl", 664},
        {"leodido-go-syslog_rfc5424.jsonl", 634},
        {"syslog-loose.jsonl", 27},
        {"syslog-ng_test_msgparse.jsonl", 53},
        {"syslog-ng_test_syslog_format.jsonl", 37},
        {"rfc_examples.jsonl", 23},
};

static int floor_of(const char *base)
{
        for (size_t i = 0; i < sizeof(floors) / sizeof(floors[0]); i++)
                if (!strcmp(floors[i].file, base))
                        return floors[i].min_agreed;
        return -1;
}

static char *case_id(json_t *c, int line)
{
        char *id;
        const char *t = jstr(c, "test"), *d = jstr(c, "descr"), *set = jstr(c, "set");
        const char *trailer = jstr(c, "trailer");
        json_t *idx = json_object_get(c, "idx"), *rid = json_object_get(c, "id");
        int r;

        if (json_is_integer(rid))
                r = asprintf(&id, "line %d (id %lld)", line, json_integer_value(rid));
        else if (t)
                r = asprintf(&id, "line %d (%s #%lld)", line, t, json_integer_value(idx));
        else if (d)
                r = asprintf(&id, "line %d (%s%s%s)", line, d, trailer ? ", " : "",
                             trailer ? trailer : "");
        else
                r = asprintf(&id, "line %d (%s #%lld)", line, set ? set : "case",
                             json_integer_value(idx));
        if (r < 0)
                abort();
        return id;
}

static int run_file(const char *path, int *failed)
{
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        Schema sch = schema_of(base);
        FILE *f = fopen(path, "re");
        char *line = NULL;
        size_t cap = 0;
        int lineno = 0, cases = 0, agreed = 0, disagreed = 0, na = 0;
        size_t na_start;

        if (!f) {
                fprintf(stderr, "%s: %m\n", path);
                return -errno;
        }
        R.len = 0;
        if (R.text)
                R.text[0] = 0;
        char *na_text = NULL;
        size_t na_len = 0;
        FILE *na_f = open_memstream(&na_text, &na_len);
        while (getline(&line, &cap, f) > 0) {
                json_error_t err;
                json_t *c;
                uint8_t *p;
                size_t n;

                lineno++;
                c = json_loads(line, 0, &err);
                if (!c) {
                        fprintf(stderr, "%s:%d: %s\n", path, lineno, err.text);
                        (*failed)++;
                        continue;
                }
                cases++;
                n = unhex(jstr(c, "input_hex") ? jstr(c, "input_hex") : "", &p);
                char *id = case_id(c, lineno);
                R.case_id = id;
                R.ndis = 0;
                R.na = NULL;
                na_start = R.len;
                switch (sch) {
                case SCHEMA_GO5424:
                        go_rfc5424(c, p, n);
                        break;
                case SCHEMA_GO3164:
                        go_rfc3164(c, p, n);
                        break;
                case SCHEMA_STREAM:
                        stream_case(c, p, n);
                        break;
                case SCHEMA_LOOSE:
                        loose_case(c, p, n);
                        break;
                case SCHEMA_NG_MSGPARSE:
                        ng_msgparse(c, p, n);
                        break;
                case SCHEMA_NG_FORMAT:
                        ng_format(c, p, n);
                        break;
                case SCHEMA_RFC:
                        rfc_case(c, p, n);
                        break;
                default:
                        R.na = "unknown file schema";
                        break;
                }
                if (R.na) {
                        na++;
                        R.len = na_start;
                        fprintf(na_f, "    %s: %s\n", id, R.na);
                } else if (R.ndis) {
                        disagreed++;
                } else {
                        agreed++;
                }
                free(id);
                free(p);
                json_decref(c);
        }
        fclose(na_f);
        free(line);
        fclose(f);
        int fl = floor_of(base);
        printf("%s: cases %d, agreed %d, disagreed %d, not comparable %d (agreement %.1f%% of "
               "comparable)%s\n",
               base, cases, agreed, disagreed, na,
               cases - na ? 100.0 * agreed / (cases - na) : 100.0,
               fl >= 0 && agreed < fl ? " BELOW FLOOR" : "");
        if (R.len)
                printf("  disagreements:\n%s", R.text);
        if (na_len)
                printf("  not comparable:\n%s", na_text);
        free(na_text);
        if (fl >= 0 && agreed < fl) {
                printf("  FAIL: agreed %d < floor %d\n", agreed, fl);
                (*failed)++;
        }
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Raw inputs without expectations: they must frame and parse without harm. */
static void run_corpus(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int files = 0, msgs = 0;
        if (!d)
                return;
        while ((e = readdir(d))) {
                char *path;
                FILE *f;
                uint8_t buf[1 << 16];
                size_t n;
                if (e->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
                        abort();
                f = fopen(path, "re");
                free(path);
                if (!f)
                        continue;
                n = fread(buf, 1, sizeof(buf), f);
                fclose(f);
                Frames fs = frame_all(buf, n, LS_FRAMER_DEFAULT_MAX_MSG, 7);
                for (size_t i = 0; i < fs.n; i++) {
                        LsSyslogMsg m;
                        ls_syslog_parse(fs.v[i].p, fs.v[i].len, NULL, &m);
                        msgs++;
                }
                frames_free(&fs);
                files++;
        }
        closedir(d);
        printf("rsyslog_fuzz_corpus: %d raw inputs, %d messages framed and parsed\n", files, msgs);
}

/* loghub BSD logs sent as "<13>" + line over a delimiter-framed connection. */
static int run_loghub(const char *dir, int *failed)
{
        static const char *const names[] = {"Linux", "OpenSSH", "Mac"};
        for (size_t k = 0; k < 3; k++) {
                char *path;
                FILE *f;
                char *line = NULL;
                size_t cap = 0;
                ssize_t len;
                int lines = 0, bsd = 0, timed = 0, host = 0, app = 0;
                if (asprintf(&path, "%s/loghub/%s_2k.log", dir, names[k]) < 0)
                        abort();
                f = fopen(path, "re");
                free(path);
                if (!f)
                        continue;
                /* The whole file, each line prefixed, framed in 1000-byte chunks. */
                char *stream = NULL;
                size_t slen = 0;
                FILE *s = open_memstream(&stream, &slen);
                while ((len = getline(&line, &cap, f)) > 0) {
                        fputs("<13>", s);
                        fwrite(line, 1, (size_t) len, s);
                }
                fclose(s);
                fclose(f);
                free(line);
                Frames fs =
                        frame_all((const uint8_t *) stream, slen, LS_FRAMER_DEFAULT_MAX_MSG, 1000);
                LsSyslogParseOpts o = {.now = 1500000000};
                for (size_t i = 0; i < fs.n; i++) {
                        LsSyslogMsg m;
                        ls_syslog_parse(fs.v[i].p, fs.v[i].len, &o, &m);
                        lines++;
                        bsd += m.format == LS_SYSLOG_RFC3164 && m.status == LS_SYSLOG_OK;
                        timed += !!(m.flags & LS_SYSLOG_HAVE_TIME);
                        host += m.hostname.len > 0;
                        app += m.app_name.len > 0;
                        if (fs.v[i].len && fs.v[i].p[fs.v[i].len - 1] == '\r')
                                (*failed)++, printf("  %s message %zu kept its CR\n", names[k], i);
                }
                frames_free(&fs);
                free(stream);
                printf("loghub %s: %d lines framed, %d RFC 3164 OK, %d with time, %d with host, "
                       "%d with app_name\n",
                       names[k], lines, bsd, timed, host, app);
                if (lines != 2000 || bsd != lines || timed != lines || host != lines) {
                        printf("  FAIL: every line must frame and parse as BSD with time and "
                               "host\n");
                        (*failed)++;
                }
        }
        return 0;
}

int main(void)
{
        const char *dir = getenv("SHARED_DATA");
        char *vdir, *rfc, *corpus;
        struct stat st;
        DIR *d;
        struct dirent *e;
        char **files = NULL;
        size_t nfiles = 0;
        int failed = 0;

        if (!dir || !*dir)
                dir = "../shared/data";
        if (asprintf(&vdir, "%s/vectors", dir) < 0 ||
            asprintf(&rfc, "%s/rfc/rfc_examples.jsonl", dir) < 0 ||
            asprintf(&corpus, "%s/vectors/rsyslog_fuzz_corpus", dir) < 0)
                return 1;
        if (stat(vdir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                printf("skipped: %s not found (set SHARED_DATA)\n", vdir);
                free(vdir);
                free(rfc);
                free(corpus);
                return 77;
        }
        /* syslog-ng's tests run in this zone. */
        setenv("TZ", "MET-1METDST", 1);
        tzset();
        d = opendir(vdir);
        if (!d)
                return 1;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l > 6 && !strcmp(e->d_name + l - 6, ".jsonl")) {
                        files = realloc(files, (nfiles + 1) * sizeof(*files));
                        if (!files || asprintf(&files[nfiles++], "%s/%s", vdir, e->d_name) < 0)
                                return 1;
                }
        }
        closedir(d);
        qsort(files, nfiles, sizeof(*files), cmp_str);
        for (size_t i = 0; i < nfiles; i++) {
                run_file(files[i], &failed);
                free(files[i]);
        }
        if (stat(rfc, &st) == 0)
                run_file(rfc, &failed);
        if (stat_col_checked)
                printf("go-syslog error columns: %d of %d invalid cases report the same offset\n",
                       stat_col_equal, stat_col_checked);
        run_corpus(corpus);
        run_loghub(dir, &failed);
        free(files);
        free(vdir);
        free(rfc);
        free(corpus);
        free(R.text);
        printf("%s\n", failed ? "FAILED" : "ok");
        return failed ? 1 : 0;
}
