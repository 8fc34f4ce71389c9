/* SPDX-License-Identifier: Apache-2.0 */
/* config-file.c: logseald.conf (INI, parsed by libinih): every setting, its bounds, every
 * problem reported as FILE:LINE */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>

#include "batch-builder.h"
#include "conf.h"
#include "hash.h"
#include "util.h"

#define MAX_ERRORS 100

typedef struct ConfError {
        int line, seq;
        char msg[400];
} ConfError;

typedef struct ParseCtx {
        Config *c;
        FILE *f;
        const char *path;
        ConfError *errors;        /* printed in line order once the file is read */
        int lines;                /* lines read so far: libinih's line number */
        int nerrors;              /* problems reported (every one, not only the first) */
        int last_err_line;        /* the line of the last one (one message per line) */
        int prev_name;            /* libinih: an indented line continues the last value */
        int section_line;         /* where the [section] being read begins */
        ListenConf *cur;          /* the [listen NAME] section being read */
        char cur_section[128];
} ParseCtx;

/* Records one problem at the current line: every one is reported, the parse goes on. */
static void seterr(ParseCtx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(ParseCtx *p, const char *fmt, ...)
{
        va_list ap;

        p->nerrors++;
        p->last_err_line = p->lines;
        if (!p->errors || p->nerrors > MAX_ERRORS)
                return; /* counted; print_errors says how many more */
        p->errors[p->nerrors - 1].line = p->lines;
        p->errors[p->nerrors - 1].seq = p->nerrors;
        va_start(ap, fmt);
        vsnprintf(p->errors[p->nerrors - 1].msg, sizeof(p->errors[0].msg), fmt, ap);
        va_end(ap);
}

static int error_cmp(const void *a, const void *b)
{
        const ConfError *x = a, *y = b;

        if (x->line != y->line)
                return (x->line > y->line) - (x->line < y->line);
        return (x->seq > y->seq) - (x->seq < y->seq);
}

static void print_errors(ParseCtx *p)
{
        size_t n = (size_t) MIN(p->nerrors, MAX_ERRORS);

        if (!p->errors) {
                fprintf(stderr, "logseald: %s: %d errors (out of memory to say which)\n", p->path,
                        p->nerrors);
                return;
        }
        /* In line order; one line's messages in the order they were found. */
        qsort(p->errors, n, sizeof(*p->errors), error_cmp);
        for (size_t i = 0; i < n; i++)
                fprintf(stderr, "logseald: %s:%d: %s\n", p->path, p->errors[i].line,
                        p->errors[i].msg);
        if (p->nerrors > MAX_ERRORS)
                fprintf(stderr, "logseald: %s: %d more errors not shown\n", p->path,
                        p->nerrors - MAX_ERRORS);
}

#define SETERR(...)                                                                                \
        do {                                                                                       \
                seterr(p, __VA_ARGS__);                                                            \
                return 0;                                                                          \
        } while (0)

static const char *skip_space(const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* Sizes: a number, optional blanks, a unit: B, K, M, G, T, or KB/KiB, MB/MiB... (all
 * binary: 1K = 1024 bytes), any case. *bad gets the unit when it is not one of them. */
static int parse_size(const char *v, uint64_t *ret, const char **bad)
{
        static const struct {
                const char *unit;
                unsigned shift;
        } units[] = {{"", 0},     {"b", 0},   {"k", 10},   {"kb", 10}, {"kib", 10},
                     {"m", 20},   {"mb", 20}, {"mib", 20}, {"g", 30},  {"gb", 30},
                     {"gib", 30}, {"t", 40},  {"tb", 40},  {"tib", 40}};
        char *end;
        const char *u;
        unsigned long long x;

        *bad = NULL;
        if (*v < '0' || *v > '9')
                return -EINVAL;
        errno = 0;
        x = strtoull(v, &end, 10);
        if (errno)
                return -ERANGE;
        u = skip_space(end);
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (!strcasecmp(u, units[i].unit)) {
                        if (units[i].shift && x > (UINT64_MAX >> units[i].shift))
                                return -ERANGE;
                        *ret = (uint64_t) x << units[i].shift;
                        return 0;
                }
        *bad = u;
        return -EINVAL;
}

#define NS_US UINT64_C(1000)
#define NS_MS UINT64_C(1000000)
#define NS_S UINT64_C(1000000000)
#define NS_MIN (60 * NS_S)
#define NS_H (3600 * NS_S)
#define NS_D (86400 * NS_S)

#define NS_W (7 * NS_D)

/* Durations, as systemd writes them: "1s", "1 sec", "500ms", "2 min", "1h 30min", "1.5s";
 * a plain number is seconds. Nanoseconds in *ret; *bad gets an unknown unit. */
static int parse_duration(const char *v, uint64_t *ret, const char **bad)
{
        static const struct {
                const char *unit;
                uint64_t ns;
        } units[] = {{"us", NS_US},      {"usec", NS_US},     {"ms", NS_MS},   {"msec", NS_MS},
                     {"s", NS_S},        {"sec", NS_S},       {"secs", NS_S},  {"second", NS_S},
                     {"seconds", NS_S},  {"m", NS_MIN},       {"min", NS_MIN}, {"mins", NS_MIN},
                     {"minute", NS_MIN}, {"minutes", NS_MIN}, {"h", NS_H},     {"hr", NS_H},
                     {"hour", NS_H},     {"hours", NS_H},     {"d", NS_D},     {"day", NS_D},
                     {"days", NS_D},     {"w", NS_W},         {"week", NS_W},  {"weeks", NS_W}};
        uint64_t total = 0;
        const char *s = skip_space(v);

        *bad = NULL;
        if (!*s)
                return -EINVAL;
        while (*s) {
                unsigned long long whole, frac = 0, scale = 1;
                uint64_t mult = 0, part;
                char unit[16];
                size_t ul = 0;
                char *end;

                if (*s < '0' || *s > '9')
                        return -EINVAL;
                errno = 0;
                whole = strtoull(s, &end, 10);
                if (errno)
                        return -ERANGE;
                s = end;
                if (*s == '.') {
                        s++;
                        if (*s < '0' || *s > '9')
                                return -EINVAL;
                        while (*s >= '0' && *s <= '9') {
                                if (scale < 1000000000ull) {
                                        frac = frac * 10 + (unsigned) (*s - '0');
                                        scale *= 10;
                                }
                                s++;
                        }
                }
                s = skip_space(s);
                while ((s[ul] >= 'a' && s[ul] <= 'z') || (s[ul] >= 'A' && s[ul] <= 'Z'))
                        ul++;
                if (ul == 0) {
                        /* A bare number: seconds, and only as the whole value. */
                        if (total || *s)
                                return -EINVAL;
                        mult = 1000000000ull;
                } else {
                        if (ul >= sizeof(unit)) {
                                *bad = s;
                                return -EINVAL;
                        }
                        for (size_t i = 0; i < ul; i++)
                                unit[i] = (char) (s[i] | 0x20);
                        unit[ul] = 0;
                        for (size_t i = 0; i < ELEMENTSOF(units) && !mult; i++)
                                if (!strcmp(unit, units[i].unit))
                                        mult = units[i].ns;
                        if (!mult) {
                                *bad = s;
                                return -EINVAL;
                        }
                        s = skip_space(s + ul);
                }
                if (whole > UINT64_MAX / mult)
                        return -ERANGE;
                part = (uint64_t) whole * mult +
                       (uint64_t) ((double) frac * (double) mult / (double) scale);
                if (part > UINT64_MAX - total)
                        return -ERANGE;
                total += part;
        }
        *ret = total;
        return 0;
}

/* Plain whole numbers (counts, levels, ports): digits only. */
static int parse_number(const char *v, uint64_t *ret)
{
        char *end;
        unsigned long long x;

        if (*v < '0' || *v > '9')
                return -EINVAL;
        errno = 0;
        x = strtoull(v, &end, 10);
        if (errno)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = x;
        return 0;
}

/* 1048576 -> "1M": the way sizes are written in the file. */
static const char *fmt_size(char *buf, size_t n, uint64_t x)
{
        static const char units[] = "BKMGT";
        unsigned u = 0;

        while (u < 4 && x && x % 1024 == 0) {
                x /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, n, "%" PRIu64 " bytes", x);
        else
                snprintf(buf, n, "%" PRIu64 "%c", x, units[u]);
        return buf;
}

static const char *fmt_duration(char *buf, size_t n, uint64_t ns)
{
        if (ns % NS_D == 0 && ns)
                snprintf(buf, n, "%" PRIu64 "d", ns / NS_D);
        else if (ns % NS_H == 0 && ns)
                snprintf(buf, n, "%" PRIu64 "h", ns / NS_H);
        else if (ns % NS_MIN == 0 && ns)
                snprintf(buf, n, "%" PRIu64 "min", ns / NS_MIN);
        else if (ns % NS_S == 0)
                snprintf(buf, n, "%" PRIu64 "s", ns / NS_S);
        else
                snprintf(buf, n, "%" PRIu64 "ms", ns / NS_MS);
        return buf;
}

/* The value of a size setting, or 0 after reporting what is wrong with it. */
static int size_setting(ParseCtx *p, const char *name, const char *value, uint64_t min,
                        uint64_t max, uint64_t *ret)
{
        char a[32], b[32];
        const char *bad;
        uint64_t x;
        int r = parse_size(value, &x, &bad);

        if (r == -EINVAL && bad)
                SETERR("%s = %s: unknown size unit '%s' (use B, K, M, G or T, e.g. 256M or "
                       "256MB; all are powers of 1024)",
                       name, value, bad);
        if (r == -EINVAL)
                SETERR("%s = %s: not a size (a number and a unit, e.g. 64K or 256M)", name, value);
        if (r < 0 || x < min || x > max) {
                if (max == UINT64_MAX)
                        SETERR("%s = %s is too %s: it must be at least %s", name, value,
                               r < 0 ? "large" : "small", fmt_size(a, sizeof(a), min));
                SETERR("%s = %s is out of range: it must be between %s and %s", name, value,
                       fmt_size(a, sizeof(a), min), fmt_size(b, sizeof(b), max));
        }
        *ret = x;
        return 1;
}

/* A duration setting; zero_ok: 0 (never) is allowed besides [min, max]. */
static int duration_setting(ParseCtx *p, const char *name, const char *value, uint64_t min,
                            uint64_t max, int zero_ok, uint64_t *ret)
{
        char a[32], b[32];
        const char *bad;
        uint64_t x;
        int r = parse_duration(value, &x, &bad);

        if (r == -EINVAL && bad)
                SETERR("%s = %s: unknown time unit '%s' (use ms, s, min, h or d, e.g. 500ms, "
                       "1 sec, 2 min)",
                       name, value, bad);
        if (r == -EINVAL)
                SETERR("%s = %s: not a duration (e.g. 500ms, 1s, 1 sec, 2 min, 1h 30min)", name,
                       value);
        if (r == 0 && x == 0 && zero_ok) {
                *ret = 0;
                return 1;
        }
        if (r < 0 || x < min || x > max) {
                if (max == UINT64_MAX)
                        SETERR("%s = %s is too %s: it must be %sat least %s", name, value,
                               r < 0 ? "long" : "short", zero_ok ? "0 (never) or " : "",
                               fmt_duration(a, sizeof(a), min));
                SETERR("%s = %s is out of range: it must be between %s and %s", name, value,
                       fmt_duration(a, sizeof(a), min), fmt_duration(b, sizeof(b), max));
        }
        *ret = x;
        return 1;
}

static int number_setting(ParseCtx *p, const char *name, const char *value, uint64_t min,
                          uint64_t max, uint64_t *ret)
{
        uint64_t x;
        int r = parse_number(value, &x);

        if (r == -EINVAL)
                SETERR("%s = %s: not a whole number", name, value);
        if (r < 0 || x < min || x > max)
                SETERR("%s = %s is out of range: it must be between %" PRIu64 " and %" PRIu64, name,
                       value, min, max);
        *ret = x;
        return 1;
}

static int bool_setting(ParseCtx *p, const char *name, const char *value, int *ret)
{
        if (!strcmp(value, "yes") || !strcmp(value, "true")) {
                *ret = 1;
                return 1;
        }
        if (!strcmp(value, "no") || !strcmp(value, "false")) {
                *ret = 0;
                return 1;
        }
        SETERR("%s must be yes or no, not '%s'", name, value);
}

static int string_setting(ParseCtx *p, char **field, const char *value)
{
        char *v = strdup(value);

        if (!v)
                SETERR("out of memory");
        free(*field);
        *field = v;
        return 1;
}

/*
 * libinih's own syntax rules (r55: comments start with ; or #, an indented line continues
 * the previous value, a section line needs its ']', a setting needs '=' or ':'), checked
 * here so that every syntax error gets its line, not only the first one libinih returns.
 */
static void check_syntax(ParseCtx *p, const char *line)
{
        const char *s = skip_space(line), *e;
        int prev_name = p->prev_name;

        if (p->lines == 1 && !memcmp(s, "\xEF\xBB\xBF", 3))
                s += 3;
        if (!*s || *s == '\n' || *s == '\r' || *s == ';' || *s == '#')
                return;
        if (prev_name && s > line)
                return; /* a continuation line: the handler sees it */
        /* Up to an inline comment (';' after a blank), as libinih cuts it. */
        for (e = s; *e && *e != '\n'; e++)
                if (*e == ';' && e > s && (e[-1] == ' ' || e[-1] == '\t'))
                        break;
        if (*s == '[') {
                p->section_line = p->lines;
                p->prev_name = 0;
                if (!memchr(s, ']', (size_t) (e - s)))
                        seterr(p, "syntax error: a section line needs its closing ']'");
                return;
        }
        if (!memchr(s, '=', (size_t) (e - s)) && !memchr(s, ':', (size_t) (e - s))) {
                seterr(p, "syntax error: expected [section], name = value, or a comment");
                return;
        }
        p->prev_name = 1;
}

static char *read_line(char *str, int num, void *stream)
{
        ParseCtx *p = stream;
        char *r = fgets(str, num, p->f);
        size_t n;

        if (!r)
                return NULL;
        p->lines++;
        n = strlen(str);
        if (n == (size_t) num - 1 && str[n - 1] != '\n') {
                /* libinih reads at most INI_MAX_LINE - 1 bytes: the rest of a longer line
                 * would come back as a line of its own. Drop it, and say so. */
                int ch = fgetc(p->f);
                if (ch != EOF && ch != '\n') {
                        while ((ch = fgetc(p->f)) != EOF && ch != '\n')
                                ;
                        seterr(p, "line longer than %d characters", num - 1);
                }
        }
        check_syntax(p, str);
        return r;
}

/* [limits] (logseald.conf(5)); 0 when the setting is wrong (reported) or unknown. */
static int limits_setting(ParseCtx *p, const char *name, const char *value)
{
        Config *c = p->c;
        uint64_t x;

        if (!strcmp(name, "idle_timeout") || !strcmp(name, "frame_timeout")) {
                if (!duration_setting(p, name, value, 1000000000ull, 86400ull * 1000000000ull, 1,
                                      &x))
                        return 0;
                *(name[0] == 'i' ? &c->idle_timeout_ns : &c->frame_timeout_ns) = x;
        } else if (!strcmp(name, "max_connections")) {
                if (!number_setting(p, name, value, 1, 65536, &x))
                        return 0;
                c->max_connections = (uint32_t) x;
        } else if (!strcmp(name, "max_connections_per_source")) {
                if (!number_setting(p, name, value, 0, 65536, &x))
                        return 0;
                c->max_conns_per_source = (uint32_t) x;
        } else if (!strcmp(name, "buffer_max_size")) {
                if (!size_setting(p, name, value, 1u << 20, SIZE_MAX, &x))
                        return 0;
                c->buffer_max_bytes = (size_t) x;
        } else if (!strcmp(name, "rate_limit") || !strcmp(name, "rate_burst")) {
                if (!number_setting(p, name, value, 0, 10000000, &x))
                        return 0;
                *(name[5] == 'l' ? &c->rate_limit : &c->rate_burst) = (uint32_t) x;
        } else {
                SETERR("unknown setting '%s' in [limits]", name);
        }
        return 1;
}

static int handler(void *ud, const char *section, const char *name, const char *value)
{
        ParseCtx *p = ud;
        Config *c = p->c;
        uint64_t x;

        if (!strcmp(section, "daemon")) {
                if (!strcmp(name, "state_dir")) {
                        if (!value[0])
                                SETERR("state_dir is empty");
                        c->state_dir_line = p->lines;
                        return string_setting(p, &c->state_dir, value);
                } else if (!strcmp(name, "max_message_size")) {
                        if (!size_setting(p, name, value, 480, LS_MAX_BODY, &x))
                                return 0;
                        c->max_message = (size_t) x;
                } else if (!strcmp(name, "heartbeat_interval")) {
                        if (!duration_setting(p, name, value, 1000000000ull, UINT64_MAX, 0, &x))
                                return 0;
                        c->heartbeat_ns = x;
                } else if (!strcmp(name, "queue_max_size")) {
                        if (!size_setting(p, name, value, 1u << 20, SIZE_MAX, &x))
                                return 0;
                        c->queue_max_bytes = (size_t) x;
                } else if (!strcmp(name, "confine")) {
                        return bool_setting(p, name, value, &c->confine);
                } else if (!strcmp(name, "user")) {
                        if (!value[0])
                                SETERR("user is empty");
                        return string_setting(p, &c->user, value);
                } else {
                        SETERR("unknown setting '%s' in [daemon]", name);
                }
        } else if (!strcmp(section, "batch")) {
                if (!strcmp(name, "max_records")) {
                        if (!number_setting(p, name, value, 1, LS_MAX_BATCH_RECORDS, &x))
                                return 0;
                        c->batch_max_records = (uint32_t) x;
                } else if (!strcmp(name, "max_size")) {
                        if (!size_setting(p, "[batch] max_size", value, 4096, LS_MAX_BATCH_RAW, &x))
                                return 0;
                        c->batch_max_bytes = (size_t) x;
                } else if (!strcmp(name, "max_latency")) {
                        if (!duration_setting(p, name, value, 1000000ull, 60000000000ull, 0, &x))
                                return 0;
                        c->batch_latency_ns = x;
                } else if (!strcmp(name, "compression_level")) {
                        if (!strcmp(value, "auto"))
                                x = LS_ZSTD_LEVEL_AUTO;
                        else if (!number_setting(p, name, value, 1, 19, &x))
                                return 0;
                        c->zstd_level = (int) x;
                } else {
                        SETERR("unknown setting '%s' in [batch]", name);
                }
        } else if (!strcmp(section, "keys")) {
                if (!strcmp(name, "epoch_interval")) {
                        if (!duration_setting(p, name, value, 1000000000ull, UINT64_MAX, 1, &x))
                                return 0;
                        c->epoch_interval_ns = x;
                } else if (!strcmp(name, "epoch_batches")) {
                        if (!number_setting(p, name, value, 0, UINT32_MAX, &x))
                                return 0;
                        c->epoch_batches = (uint32_t) x;
                } else {
                        SETERR("unknown setting '%s' in [keys]", name);
                }
        } else if (!strcmp(section, "index")) {
                if (!strcmp(name, "fulltext"))
                        return bool_setting(p, name, value, &c->index_fulltext);
                SETERR("unknown setting '%s' in [index]", name);
        } else if (!strcmp(section, "checkpoint")) {
                if (!strcmp(name, "publish_dir") || !strcmp(name, "publish_command")) {
                        if (value[0] != '/')
                                SETERR("%s = %s: must be an absolute path", name, value);
                        return string_setting(p,
                                              !strcmp(name, "publish_dir") ? &c->publish_dir
                                                                           : &c->publish_command,
                                              value);
                } else if (!strcmp(name, "publish_interval")) {
                        if (!duration_setting(p, name, value, 1000000000ull, UINT64_MAX, 0, &x))
                                return 0;
                        c->publish_interval_ns = x;
                } else {
                        SETERR("unknown setting '%s' in [checkpoint]", name);
                }
        } else if (!strcmp(section, "archive")) {
                if (!strcmp(name, "max_size")) {
                        if (!size_setting(p, "[archive] max_size", value, 1u << 20, UINT64_MAX, &x))
                                return 0;
                        c->archive_max_bytes = x;
                } else if (!strcmp(name, "max_age")) {
                        if (!duration_setting(p, "[archive] max_age", value, 1000000000ull,
                                              UINT64_MAX, 0, &x))
                                return 0;
                        c->archive_max_age_ns = x;
                } else if (!strcmp(name, "dictionary_size")) {
                        if (!size_setting(p, "[archive] dictionary_size", value, 0, LS_MAX_DICT,
                                          &x))
                                return 0;
                        if (x > 0 && x < 4096)
                                SETERR("[archive] dictionary_size = %s: 0 or at least 4K", value);
                        c->dict_size = (size_t) x;
                } else if (!strcmp(name, "dictionary_after")) {
                        if (!size_setting(p, "[archive] dictionary_after", value, 0,
                                          DICT_SAMPLES_MAX, &x))
                                return 0;
                        c->dict_after = x;
                } else {
                        SETERR("unknown setting '%s' in [archive]", name);
                }
        } else if (!strcmp(section, "limits")) {
                return limits_setting(p, name, value);
        } else if (!strncmp(section, "listen ", 7)) {
                if (!p->cur || strcmp(p->cur_section, section) != 0) {
                        int dup = 0;
                        for (size_t i = 0; i < c->nlistens && !dup; i++)
                                if (c->listens[i].line && !strcmp(c->listens[i].name, section + 7))
                                        dup = c->listens[i].line;
                        if (dup) {
                                int save = p->lines;
                                p->lines = p->section_line ? p->section_line : p->lines;
                                seterr(p,
                                       "[%s] again: it is already at line %d (one section "
                                       "per listener)",
                                       section, dup);
                                p->lines = save;
                        }
                        p->cur = config_listen_new(c);
                        if (!p->cur)
                                SETERR("out of memory");
                        p->cur->name = strdup(section + 7);
                        if (!p->cur->name)
                                SETERR("out of memory");
                        p->cur->kind = (ListenKind) -1;
                        p->cur->line = p->section_line ? p->section_line : p->lines;
                        snprintf(p->cur_section, sizeof(p->cur_section), "%s", section);
                }
                ListenConf *l = p->cur;
                if (!strcmp(name, "type")) {
                        if (!strcmp(value, "udp"))
                                l->kind = LISTEN_UDP;
                        else if (!strcmp(value, "tcp"))
                                l->kind = LISTEN_TCP;
                        else if (!strcmp(value, "unix-dgram"))
                                l->kind = LISTEN_UNIX_DGRAM;
                        else if (!strcmp(value, "unix") || !strcmp(value, "unix-stream"))
                                l->kind = LISTEN_UNIX_STREAM;
                        else
                                SETERR("type must be udp, tcp, unix or unix-dgram, not '%s'",
                                       value);
                        if (l->kind == LISTEN_UDP && l->sender_identity != SENDER_IDENTITY_NONE)
                                SETERR("sender_identity is not allowed on udp listeners");
                } else if (!strcmp(name, "address") || !strcmp(name, "path")) {
                        if (!value[0])
                                SETERR("%s is empty", name);
                        return string_setting(p, &l->address, value);
                } else if (!strcmp(name, "port")) {
                        if (!number_setting(p, name, value, 1, 65535, &x))
                                return 0;
                        l->port = (uint16_t) x;
                } else if (!strcmp(name, "allow")) {
                        char *dup = strdup(value), *save = NULL;
                        if (!dup)
                                SETERR("out of memory");
                        for (char *tok = strtok_r(dup, ", ", &save); tok;
                             tok = strtok_r(NULL, ", ", &save)) {
                                Cidr cidr, *q;
                                if (config_parse_cidr(tok, &cidr) < 0) {
                                        /* tok points into dup: the message first. */
                                        seterr(p, "allow: '%s' is not an address or CIDR network",
                                               tok);
                                        free(dup);
                                        return 0;
                                }
                                q = realloc(l->allow, (l->nallow + 1) * sizeof(*q));
                                if (!q) {
                                        free(dup);
                                        SETERR("out of memory");
                                }
                                l->allow = q;
                                l->allow[l->nallow++] = cidr;
                        }
                        free(dup);
                } else if (!strcmp(name, "sender_identity")) {
                        /* Whoever can write to the socket is trusted to name the sender: a
                         * UDP source address can be forged by anyone. */
                        if (!strcmp(value, "none"))
                                l->sender_identity = SENDER_IDENTITY_NONE;
                        else if (!strcmp(value, "structured-data"))
                                l->sender_identity = SENDER_IDENTITY_STRUCTURED_DATA;
                        else
                                SETERR("sender_identity must be none or structured-data, not '%s'",
                                       value);
                        if (l->kind == LISTEN_UDP && l->sender_identity != SENDER_IDENTITY_NONE)
                                SETERR("sender_identity is not allowed on udp listeners");
                } else {
                        SETERR("unknown setting '%s' in [%s]", name, section);
                }
        } else {
                SETERR("unknown section [%s]", section);
        }
        return 1;
}

static const char *kind_word(ListenKind k)
{
        switch (k) {
        case LISTEN_UDP:
                return "udp";
        case LISTEN_TCP:
                return "tcp";
        case LISTEN_UNIX_DGRAM:
                return "unix-dgram";
        case LISTEN_UNIX_STREAM:
                return "unix";
        }
        return "?";
}

/* A [listen] section as a whole, once read; reports at its [listen NAME] line. */
static void check_listener(ParseCtx *p, ListenConf *l)
{
        int ip, save = p->lines;

        p->lines = l->line;
        if ((int) l->kind == -1) {
                seterr(p, "[listen %s] has no type (type = udp, tcp, unix or unix-dgram)", l->name);
        } else {
                ip = l->kind == LISTEN_UDP || l->kind == LISTEN_TCP;
                if (!l->address)
                        seterr(p, "[listen %s] (%s) has no %s", l->name, kind_word(l->kind),
                               ip ? "address (address = 0.0.0.0, ::, or one address)"
                                  : "path (path = /run/logseal/NAME.sock)");
                if (ip && !l->port)
                        seterr(p, "[listen %s] (%s) has no port (port = 514)", l->name,
                               kind_word(l->kind));
                if (!ip && l->port)
                        seterr(p,
                               "[listen %s] (%s) has a port: only udp and tcp listeners "
                               "have one",
                               l->name, kind_word(l->kind));
                if (!ip && l->nallow)
                        seterr(p,
                               "[listen %s] (%s): allow applies to udp and tcp listeners "
                               "only (a unix socket's access is its file mode)",
                               l->name, kind_word(l->kind));
                if (!ip && l->address &&
                    strlen(l->address) >= sizeof(((struct sockaddr_un *) 0)->sun_path))
                        seterr(p, "[listen %s]: path is longer than %zu bytes", l->name,
                               sizeof(((struct sockaddr_un *) 0)->sun_path) - 1);
        }
        p->lines = save;
}

int config_load(Config *c, const char *path)
{
        ParseCtx p = {.c = c, .path = path};
        uint8_t buf[65536];
        FILE *f;
        size_t n;
        int line;

        f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "logseald: %s: %s\n", path, strerror(errno));
                return -errno;
        }
        n = fread(buf, 1, sizeof(buf), f);
        if (n == sizeof(buf)) {
                fprintf(stderr, "logseald: %s: configuration file too large\n", path);
                fclose(f);
                return -E2BIG;
        }
        ls_sha256(c->hash, buf, n);
        rewind(f);
        free(c->path);
        c->path = strdup(path);
        p.f = f;
        p.errors = calloc(MAX_ERRORS, sizeof(*p.errors));
        line = ini_parse_stream(read_line, &p, handler, &p);
        fclose(f);
        if (line > 0 && p.nerrors == 0) {
                /* libinih found what check_syntax did not: still say where. */
                p.lines = line;
                seterr(&p, "syntax error");
        }
        for (size_t i = 0; i < c->nlistens; i++)
                if (c->listens[i].line)
                        check_listener(&p, &c->listens[i]);
        if (p.nerrors)
                print_errors(&p);
        free(p.errors);
        if (p.nerrors)
                return -EINVAL;
        return c->path ? 0 : -ENOMEM;
}
