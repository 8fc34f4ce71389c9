/* SPDX-License-Identifier: Apache-2.0 */
/* config.c: logseald.conf (INI, parsed by libinih) and --listen specifications */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <ini.h>

#include "hash.h"
#include "logseald.h"
#include "util.h"

void config_defaults(Config *c)
{
        memset(c, 0, sizeof(*c));
        c->max_message = 64 * 1024;
        c->batch_max_records = 10000;
        c->batch_max_bytes = 1024 * 1024;
        c->batch_latency_ns = 1000000000ull;
        c->archive_max_bytes = 256ull << 20;
        c->archive_max_age_ns = 86400ull * 1000000000ull;
        c->heartbeat_ns = 60ull * 1000000000ull;
        c->zstd_level = 3;
        c->queue_max_bytes = 64u << 20;
        c->epoch_interval_ns = 3600ull * 1000000000ull;
        c->publish_interval_ns = 3600ull * 1000000000ull;
        c->confine = 1;
}

static void listen_free(ListenConf *l)
{
        free(l->name);
        free(l->address);
        free(l->allow);
}

void config_free(Config *c)
{
        for (size_t i = 0; i < c->nlistens; i++)
                listen_free(&c->listens[i]);
        free(c->listens);
        free(c->state_dir);
        free(c->publish_dir);
        free(c->publish_command);
        free(c->path);
        memset(c, 0, sizeof(*c));
}

int config_parse_cidr(const char *s, Cidr *ret)
{
        char buf[80], *slash;
        Cidr c = {};
        unsigned long p;
        char *end;

        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        slash = strchr(buf, '/');
        if (slash)
                *slash = 0;
        if (inet_pton(AF_INET, buf, c.addr) == 1) {
                c.family = AF_INET;
                c.prefix = 32;
        } else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
                c.family = AF_INET6;
                c.prefix = 128;
        } else {
                return -EINVAL;
        }
        if (slash) {
                errno = 0;
                p = strtoul(slash + 1, &end, 10);
                if (errno || *end || end == slash + 1 || p > c.prefix)
                        return -EINVAL;
                c.prefix = (unsigned) p;
        }
        *ret = c;
        return 0;
}

static int prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
        unsigned full = bits / 8, rest = bits % 8;

        if (memcmp(a, b, full) != 0)
                return 0;
        if (rest) {
                uint8_t mask = (uint8_t) (0xff << (8 - rest));
                return (a[full] & mask) == (b[full] & mask);
        }
        return 1;
}

int cidr_match(const Cidr *c, const struct sockaddr *sa)
{
        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
                if (c->family == AF_INET)
                        return prefix_equal(c->addr, (const uint8_t *) &in->sin_addr, c->prefix);
                return 0;
        }
        if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
                const uint8_t *a = (const uint8_t *) &in6->sin6_addr;
                if (c->family == AF_INET6)
                        return prefix_equal(c->addr, a, c->prefix);
                /* An IPv4 rule also matches v4-mapped peers of a dual-stack socket. */
                static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
                return memcmp(a, mapped, 12) == 0 && prefix_equal(c->addr, a + 12, c->prefix);
        }
        return 0;
}

static ListenConf *listen_new(Config *c)
{
        ListenConf *q = realloc(c->listens, (c->nlistens + 1) * sizeof(*q));

        if (!q)
                return NULL;
        c->listens = q;
        memset(&q[c->nlistens], 0, sizeof(*q));
        return &q[c->nlistens++];
}

/* HOST:PORT or [V6]:PORT */
static int parse_hostport(const char *s, char **host, uint16_t *port)
{
        const char *colon;
        char *end;
        unsigned long p;

        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || close[1] != ':')
                        return -EINVAL;
                *host = strndup(s + 1, (size_t) (close - s - 1));
                colon = close + 1;
        } else {
                colon = strrchr(s, ':');
                if (!colon)
                        return -EINVAL;
                *host = strndup(s, (size_t) (colon - s));
        }
        if (!*host)
                return -ENOMEM;
        errno = 0;
        p = strtoul(colon + 1, &end, 10);
        if (errno || *end || end == colon + 1 || p == 0 || p > 65535) {
                free(*host);
                *host = NULL;
                return -EINVAL;
        }
        *port = (uint16_t) p;
        return 0;
}

int config_add_listen(Config *c, const char *spec, const char *origin)
{
        ListenConf *l;
        const char *rest;
        int r = 0;

        l = listen_new(c);
        if (!l)
                return -ENOMEM;
        l->name = strdup(origin ? origin : spec);
        if (!strncmp(spec, "udp:", 4) || !strncmp(spec, "tcp:", 4)) {
                l->kind = spec[0] == 'u' ? LISTEN_UDP : LISTEN_TCP;
                r = parse_hostport(spec + 4, &l->address, &l->port);
        } else if (!strncmp(spec, "unix-dgram:", 11)) {
                l->kind = LISTEN_UNIX_DGRAM;
                rest = spec + 11;
                l->address = strdup(rest);
        } else if (!strncmp(spec, "unix:", 5)) {
                l->kind = LISTEN_UNIX_STREAM;
                rest = spec + 5;
                l->address = strdup(rest);
        } else {
                r = -EINVAL;
        }
        if (r == 0 && (!l->address || !l->address[0]))
                r = l->address ? -EINVAL : -ENOMEM;
        if (r == 0 && (l->kind == LISTEN_UNIX_DGRAM || l->kind == LISTEN_UNIX_STREAM) &&
            strlen(l->address) >= sizeof(((struct sockaddr_un *) 0)->sun_path))
                r = -ENAMETOOLONG;
        if (r < 0) {
                listen_free(l);
                c->nlistens--;
        }
        return r;
}

typedef struct ParseCtx {
        Config *c;
        FILE *f;
        int lines;                /* lines read so far: libinih's line number */
        char err[256];            /* the first error the handler found ... */
        int err_line;             /* ... and its line (libinih reports the first error's) */
        ListenConf *cur;          /* the [listen NAME] section being read */
        char cur_section[128];
} ParseCtx;

static int parse_size(const char *v, uint64_t *ret)
{
        char *end;
        uint64_t mult = 1;

        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || end == v)
                return -EINVAL;
        if (*end == 'K' || *end == 'k')
                mult = 1024, end++;
        else if (*end == 'M')
                mult = 1024 * 1024, end++;
        else if (*end == 'G')
                mult = 1024ull * 1024 * 1024, end++;
        if (*end)
                return -EINVAL;
        if (x > UINT64_MAX / mult)
                return -ERANGE;
        *ret = x * mult;
        return 0;
}

/* Durations: plain seconds, or with ms/s/min/h/d. Returns nanoseconds. */
static int parse_duration(const char *v, uint64_t *ret)
{
        char *end;
        uint64_t mult = 1000000000ull;

        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || end == v)
                return -EINVAL;
        if (!strcmp(end, "ms"))
                mult = 1000000ull;
        else if (!strcmp(end, "") || !strcmp(end, "s"))
                mult = 1000000000ull;
        else if (!strcmp(end, "min"))
                mult = 60ull * 1000000000ull;
        else if (!strcmp(end, "h"))
                mult = 3600ull * 1000000000ull;
        else if (!strcmp(end, "d"))
                mult = 86400ull * 1000000000ull;
        else
                return -EINVAL;
        if (x > UINT64_MAX / mult)
                return -ERANGE;
        *ret = x * mult;
        return 0;
}

/* libinih goes on after an error and returns the first error's line: keep the first message. */
static void seterr(ParseCtx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(ParseCtx *p, const char *fmt, ...)
{
        va_list ap;

        if (p->err_line)
                return;
        va_start(ap, fmt);
        vsnprintf(p->err, sizeof(p->err), fmt, ap);
        va_end(ap);
        p->err_line = p->lines;
}

#define SETERR(...)                                                                                \
        do {                                                                                       \
                seterr(p, __VA_ARGS__);                                                            \
                return 0;                                                                          \
        } while (0)

static char *read_line(char *str, int num, void *stream)
{
        ParseCtx *p = stream;
        char *r = fgets(str, num, p->f);

        if (r)
                p->lines++;
        return r;
}

static int handler(void *ud, const char *section, const char *name, const char *value)
{
        ParseCtx *p = ud;
        Config *c = p->c;
        uint64_t x;

        if (!strcmp(section, "daemon")) {
                if (!strcmp(name, "state_dir")) {
                        free(c->state_dir);
                        c->state_dir = strdup(value);
                } else if (!strcmp(name, "max_message_size")) {
                        if (parse_size(value, &x) < 0 || x < 480 || x > LS_MAX_BODY)
                                SETERR("max_message_size must be between 480 and %d bytes",
                                       LS_MAX_BODY);
                        c->max_message = (size_t) x;
                } else if (!strcmp(name, "heartbeat_interval")) {
                        if (parse_duration(value, &x) < 0 || x < 1000000000ull)
                                SETERR("heartbeat_interval must be a duration of at least 1s");
                        c->heartbeat_ns = x;
                } else if (!strcmp(name, "queue_max_size")) {
                        if (parse_size(value, &x) < 0 || x < (1u << 20))
                                SETERR("queue_max_size must be at least 1M");
                        c->queue_max_bytes = (size_t) x;
                } else if (!strcmp(name, "confine")) {
                        if (!strcmp(value, "yes") || !strcmp(value, "true"))
                                c->confine = 1;
                        else if (!strcmp(value, "no") || !strcmp(value, "false"))
                                c->confine = 0;
                        else
                                SETERR("confine must be yes or no");
                } else {
                        SETERR("unknown setting '%s' in [daemon]", name);
                }
        } else if (!strcmp(section, "batch")) {
                if (!strcmp(name, "max_records")) {
                        if (parse_size(value, &x) < 0 || x < 1 || x > LS_MAX_BATCH_RECORDS)
                                SETERR("max_records must be between 1 and %u", LS_MAX_BATCH_RECORDS);
                        c->batch_max_records = (uint32_t) x;
                } else if (!strcmp(name, "max_size")) {
                        if (parse_size(value, &x) < 0 || x < 4096 || x > LS_MAX_BATCH_RAW)
                                SETERR("max_size must be between 4K and 32M");
                        c->batch_max_bytes = (size_t) x;
                } else if (!strcmp(name, "max_latency")) {
                        if (parse_duration(value, &x) < 0 || x < 1000000ull || x > 60000000000ull)
                                SETERR("max_latency must be between 1ms and 60s");
                        c->batch_latency_ns = x;
                } else if (!strcmp(name, "compression_level")) {
                        if (parse_size(value, &x) < 0 || x < 1 || x > 19)
                                SETERR("compression_level must be between 1 and 19");
                        c->zstd_level = (int) x;
                } else {
                        SETERR("unknown setting '%s' in [batch]", name);
                }
        } else if (!strcmp(section, "keys")) {
                if (!strcmp(name, "epoch_interval")) {
                        if (parse_duration(value, &x) < 0 || (x && x < 1000000000ull))
                                SETERR("epoch_interval must be 0 (never) or at least 1s");
                        c->epoch_interval_ns = x;
                } else if (!strcmp(name, "epoch_batches")) {
                        if (parse_size(value, &x) < 0 || x > UINT32_MAX)
                                SETERR("epoch_batches must be a number of batches (0: no limit)");
                        c->epoch_batches = (uint32_t) x;
                } else {
                        SETERR("unknown setting '%s' in [keys]", name);
                }
        } else if (!strcmp(section, "index")) {
                if (!strcmp(name, "fulltext")) {
                        if (!strcmp(value, "yes") || !strcmp(value, "true"))
                                c->index_fulltext = 1;
                        else if (!strcmp(value, "no") || !strcmp(value, "false"))
                                c->index_fulltext = 0;
                        else
                                SETERR("fulltext must be yes or no");
                } else {
                        SETERR("unknown setting '%s' in [index]", name);
                }
        } else if (!strcmp(section, "checkpoint")) {
                if (!strcmp(name, "publish_dir") || !strcmp(name, "publish_command")) {
                        if (value[0] != '/')
                                SETERR("%s must be an absolute path", name);
                        if (!strcmp(name, "publish_dir")) {
                                free(c->publish_dir);
                                c->publish_dir = strdup(value);
                        } else {
                                free(c->publish_command);
                                c->publish_command = strdup(value);
                        }
                } else if (!strcmp(name, "publish_interval")) {
                        if (parse_duration(value, &x) < 0 || x < 1000000000ull)
                                SETERR("publish_interval must be at least 1s");
                        c->publish_interval_ns = x;
                } else {
                        SETERR("unknown setting '%s' in [checkpoint]", name);
                }
        } else if (!strcmp(section, "archive")) {
                if (!strcmp(name, "max_size")) {
                        if (parse_size(value, &x) < 0 || x < (1u << 20))
                                SETERR("archive max_size must be at least 1M");
                        c->archive_max_bytes = x;
                } else if (!strcmp(name, "max_age")) {
                        if (parse_duration(value, &x) < 0 || x < 1000000000ull)
                                SETERR("archive max_age must be at least 1s");
                        c->archive_max_age_ns = x;
                } else {
                        SETERR("unknown setting '%s' in [archive]", name);
                }
        } else if (!strncmp(section, "listen ", 7)) {
                if (!p->cur || strcmp(p->cur_section, section) != 0) {
                        p->cur = listen_new(c);
                        if (!p->cur)
                                SETERR("out of memory");
                        p->cur->name = strdup(section + 7);
                        p->cur->kind = (ListenKind) -1;
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
                                SETERR("type must be udp, tcp, unix-dgram or unix");
                        if (l->kind == LISTEN_UDP && l->sender_identity != SENDER_IDENTITY_NONE)
                                SETERR("sender_identity is not allowed on udp listeners");
                } else if (!strcmp(name, "address") || !strcmp(name, "path")) {
                        free(l->address);
                        l->address = strdup(value);
                } else if (!strcmp(name, "port")) {
                        if (parse_size(value, &x) < 0 || x < 1 || x > 65535)
                                SETERR("port must be between 1 and 65535");
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
                                        seterr(p, "'%s' is not an address or CIDR network", tok);
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
                                SETERR("sender_identity must be none or structured-data");
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

int config_load(Config *c, const char *path)
{
        ParseCtx p = {.c = c};
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
        p.f = f;
        line = ini_parse_stream(read_line, &p, handler, &p);
        fclose(f);
        if (line != 0) {
                fprintf(stderr, "logseald: %s:%d: %s\n", path, line,
                        p.err_line == line ? p.err : "syntax error");
                return -EINVAL;
        }
        for (size_t i = 0; i < c->nlistens; i++) {
                ListenConf *l = &c->listens[i];
                if ((int) l->kind == -1 || !l->address ||
                    ((l->kind == LISTEN_UDP || l->kind == LISTEN_TCP) && !l->port)) {
                        fprintf(stderr,
                                "logseald: %s: [listen %s] needs type and address (and port for "
                                "udp/tcp)\n",
                                path, l->name);
                        return -EINVAL;
                }
        }
        free(c->path);
        c->path = strdup(path);
        return 0;
}
