/* SPDX-License-Identifier: Apache-2.0 */
/* config-check.c: --check-config, what one setting alone does not show (listeners sharing a
 * port or path, privileged ports, the state directory) */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

/* Where a listener is, for messages: "FILE:LINE: [listen NAME]" as the subject of one,
 * "[listen NAME] (line N)" as the other one; "--listen SPEC" for both when it came from the
 * command line. */
static const char *listener_at(const Config *c, const ListenConf *l, int other, char *buf, size_t n)
{
        if (!l->line || !c->path)
                snprintf(buf, n, "--listen %s", l->name);
        else if (other)
                snprintf(buf, n, "[listen %s] (line %d)", l->name, l->line);
        else
                snprintf(buf, n, "%s:%d: [listen %s]", c->path, l->line, l->name);
        return buf;
}

/* Does this process hold CAP_NET_BIND_SERVICE (bit 10 of CapEff)? */
static int can_bind_privileged(void)
{
        char line[256];
        FILE *f = fopen("/proc/self/status", "re");
        int r = geteuid() == 0;

        if (!f)
                return r;
        while (fgets(line, sizeof(line), f))
                if (!strncmp(line, "CapEff:", 7)) {
                        unsigned long long caps = strtoull(line + 7, NULL, 16);
                        r = (caps >> 10) & 1;
                        break;
                }
        fclose(f);
        return r;
}

static unsigned unprivileged_port_start(void)
{
        FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
        unsigned v = 1024;

        if (f) {
                if (fscanf(f, "%u", &v) != 1)
                        v = 1024;
                fclose(f);
        }
        return v;
}

/* Could two IP listeners' sockets collide? A wildcard covers everything of its family,
 * and :: covers IPv4 too (logseald does not set IPV6_V6ONLY). */
static int addresses_overlap(const char *a, const char *b)
{
        uint8_t x[16], y[16];
        int fa = inet_pton(AF_INET, a, x) == 1    ? AF_INET
                 : inet_pton(AF_INET6, a, x) == 1 ? AF_INET6
                                                  : 0;
        int fb = inet_pton(AF_INET, b, y) == 1    ? AF_INET
                 : inet_pton(AF_INET6, b, y) == 1 ? AF_INET6
                                                  : 0;
        int wa, wb;

        if (!fa || !fb)
                return !strcmp(a, b);
        wa = ls_all_zero(x, fa == AF_INET ? 4 : 16);
        wb = ls_all_zero(y, fb == AF_INET ? 4 : 16);
        if ((wa && fa == AF_INET6) || (wb && fb == AF_INET6))
                return 1;
        if (fa != fb)
                return 0;
        return wa || wb || !memcmp(x, y, fa == AF_INET ? 4 : 16);
}

int config_check(const Config *c, int socket_activated)
{
        char w[PATH_MAX + 32], w2[PATH_MAX + 32];
        int n = 0;
        struct stat st;

        if (!c->state_dir) {
                fprintf(stderr, "logseald: %s: no state_dir in [daemon], and no --state-dir\n",
                        c->path ? c->path : "(command line)");
                n++;
        } else {
                if (c->state_dir_line && c->path)
                        snprintf(w, sizeof(w), "%s:%d", c->path, c->state_dir_line);
                else
                        snprintf(w, sizeof(w), "--state-dir");
                if (stat(c->state_dir, &st) < 0) {
                        fprintf(stderr,
                                "logseald: %s: state_dir %s: %s; `logsealctl init "
                                "--state-dir %s` creates it (as root, with --user and "
                                "the user logseald runs as)\n",
                                w, c->state_dir, strerror(errno), c->state_dir);
                        n++;
                } else if (!S_ISDIR(st.st_mode)) {
                        fprintf(stderr, "logseald: %s: state_dir %s is not a directory\n", w,
                                c->state_dir);
                        n++;
                } else {
                        char id[PATH_MAX + 16];
                        snprintf(id, sizeof(id), "%s/chain.id", c->state_dir);
                        if (access(id, F_OK) < 0 && errno == ENOENT) {
                                fprintf(stderr,
                                        "logseald: %s: state_dir %s is not initialised "
                                        "(no chain.id); `logsealctl init --state-dir "
                                        "%s` does it (as root, with --user and the user "
                                        "logseald runs as)\n",
                                        w, c->state_dir, c->state_dir);
                                n++;
                        }
                }
        }

        for (size_t j = 0; j < c->nlistens; j++) {
                const ListenConf *b = &c->listens[j];
                int ipb = b->kind == LISTEN_UDP || b->kind == LISTEN_TCP;
                if ((int) b->kind == -1 || !b->address || (ipb && !b->port))
                        continue; /* reported by config_load */
                for (size_t i = 0; i < j; i++) {
                        const ListenConf *a = &c->listens[i];
                        int ipa = a->kind == LISTEN_UDP || a->kind == LISTEN_TCP;
                        if ((int) a->kind == -1 || !a->address)
                                continue;
                        if (ipa && ipb && a->kind == b->kind && a->port == b->port &&
                            addresses_overlap(a->address, b->address)) {
                                fprintf(stderr,
                                        "logseald: %s: %s port %u on %s is already taken by %s "
                                        "on %s: two listeners cannot share a port\n",
                                        listener_at(c, b, 0, w, sizeof(w)),
                                        b->kind == LISTEN_UDP ? "udp" : "tcp", b->port, b->address,
                                        listener_at(c, a, 1, w2, sizeof(w2)), a->address);
                                n++;
                                break;
                        }
                        if (!ipa && !ipb && !strcmp(a->address, b->address)) {
                                fprintf(stderr,
                                        "logseald: %s: path %s is already taken by %s: two "
                                        "listeners cannot share a socket\n",
                                        listener_at(c, b, 0, w, sizeof(w)), b->address,
                                        listener_at(c, a, 1, w2, sizeof(w2)));
                                n++;
                                break;
                        }
                }
        }

        /* Without socket activation the daemon binds its ports itself. The packaged unit
         * runs it as an unprivileged user with no capabilities: port 514 has to come from
         * logseald.socket. */
        if (!socket_activated && !can_bind_privileged()) {
                unsigned limit = unprivileged_port_start();
                for (size_t i = 0; i < c->nlistens; i++) {
                        const ListenConf *l = &c->listens[i];
                        if ((l->kind != LISTEN_UDP && l->kind != LISTEN_TCP) || !l->port ||
                            l->port >= limit)
                                continue;
                        fprintf(stderr,
                                "logseald: %s: %s port %u is privileged (below %u) and this "
                                "process (uid %u) has no CAP_NET_BIND_SERVICE: it cannot bind "
                                "it. Let systemd pass it (logseald.socket listens on 514/udp "
                                "and 514/tcp for the unprivileged logseald.service), or use a "
                                "port of %u or more\n",
                                listener_at(c, l, 0, w, sizeof(w)),
                                l->kind == LISTEN_UDP ? "udp" : "tcp", l->port, limit,
                                (unsigned) geteuid(), limit);
                        n++;
                }
        }
        return n;
}
