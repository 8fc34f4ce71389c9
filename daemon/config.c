/* SPDX-License-Identifier: Apache-2.0 */
/* config.c: the daemon's configuration: defaults, --listen specifications, CIDR lists
 * (config-file.c reads logseald.conf, config-check.c is --check-config) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "batch-builder.h"
#include "conf.h"

void config_defaults(Config *c)
{
        memset(c, 0, sizeof(*c));
        c->max_message = 64 * 1024;
        c->batch_max_records = 10000;
        c->batch_max_bytes = 1024 * 1024;
        c->batch_latency_ns = 1000000000ull;
        c->archive_max_bytes = 256ull << 20;
        c->archive_max_age_ns = 86400ull * 1000000000ull;
        c->dict_size = 512u << 10;
        c->dict_after = 256u << 10;
        c->heartbeat_ns = 60ull * 1000000000ull;
        c->zstd_level = LS_ZSTD_LEVEL_AUTO;
        c->queue_max_bytes = 64u << 20;
        c->epoch_interval_ns = 3600ull * 1000000000ull;
        c->publish_interval_ns = 3600ull * 1000000000ull;
        c->confine = 1;
        c->idle_timeout_ns = 60ull * 1000000000ull;
        c->frame_timeout_ns = 30ull * 1000000000ull;
        c->max_connections = 4096;
        c->max_conns_per_source = 64;
        c->buffer_max_bytes = 32u << 20;
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
        free(c->user);
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

ListenConf *config_listen_new(Config *c)
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

        l = config_listen_new(c);
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
