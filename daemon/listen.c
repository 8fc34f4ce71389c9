/* SPDX-License-Identifier: Apache-2.0 */
/* listen.c: UDP, TCP, unix datagram and unix stream listeners, socket activation */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "framing.h"
#include "ingest.h"
#include "listen.h"
#include "logseald.h"
#include "sources.h"
#include "util.h"

#define READ_BUF (256 * 1024)
/* A connection's buffer pages are given back once a message that needed this much of them
 * is delivered, so that what idle connections hold stays within buffer_max_size. */
#define BUF_RELEASE (16 * 1024)
#define READS_PER_EVENT 16

typedef struct Conn {
        Listener *l;
        int fd;
        sd_event_source *src;
        LsFramer framer;
        uint8_t *buf;
        size_t buf_size;        /* mmap'ed: only touched pages are resident */
        LsRecord proto;
        struct Conn *next, *prev;
        /* [limits] (sources.c) */
        Source *sender;         /* the sender: per-source cap, rate, declarations */
        size_t touched;         /* buffer bytes written since the last release */
        size_t held;            /* of them, counted in the listeners' buffered bytes */
        uint64_t accepted_ns;   /* CLOCK_MONOTONIC */
        uint64_t frame_ns;      /* when the message being received began; 0: none */
        uint64_t frames;        /* messages delivered */
        uint64_t resume_ns;     /* throttled: not read before this; 0: not throttled */
        int sent_any;
} Conn;

static uint64_t now_mono_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static uint8_t *read_buf(Daemon *d)
{
        static uint8_t *buf;
        (void) d;
        if (!buf)
                buf = malloc(MAX((size_t) READ_BUF, LS_MAX_BODY + 1));
        return buf;
}

static const char *kind_name(ListenKind k)
{
        static const char *const n[] = {"udp", "tcp", "unix-dgram", "unix"};
        return n[k];
}

/* Fills the peer part of a record prototype from a socket address. */
static void proto_from_addr(LsRecord *r, const struct sockaddr_storage *ss)
{
        if (ss->ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) ss;
                r->family = LS_FAMILY_IPV4;
                memcpy(r->address, &in->sin_addr, 4);
                r->port = ntohs(in->sin_port);
        } else if (ss->ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) ss;
                static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
                const uint8_t *a = (const uint8_t *) &in6->sin6_addr;
                if (!memcmp(a, mapped, 12)) {
                        r->family = LS_FAMILY_IPV4;
                        memcpy(r->address, a + 12, 4);
                } else {
                        r->family = LS_FAMILY_IPV6;
                        memcpy(r->address, a, 16);
                }
                r->port = ntohs(in6->sin6_port);
        }
}

static int allowed(Listener *l, const struct sockaddr_storage *ss)
{
        if (l->conf->nallow == 0 || ss->ss_family == AF_UNIX)
                return 1;
        for (size_t i = 0; i < l->conf->nallow; i++)
                if (cidr_match(&l->conf->allow[i], (const struct sockaddr *) ss))
                        return 1;
        return 0;
}

static void after_input(Daemon *d)
{
        if (ingest_commit(d) < 0 || sealer_backlog(d->sealer) > d->cfg.queue_max_bytes)
                listeners_pause(d, 1);
}

/* ---- datagrams ---- */

/* The kernel's drop counter of a datagram socket, as seen by SO_RXQ_OVFL (the count when the
 * datagram was queued) or SO_MEMINFO (now): both only ever grow, modulo 2^32. */
static void note_drops(Listener *l, uint32_t drops)
{
        int32_t delta = (int32_t) (drops - l->ovfl_last);

        if (delta > 0) {
                l->dropped += (uint64_t) delta;
                l->ovfl_last = drops;
        }
}

void listener_poll_drops(Listener *l)
{
        uint32_t mem[SK_MEMINFO_VARS];
        socklen_t len = sizeof(mem);

        /* Drops after the last datagram read would otherwise wait for the next one (whose
         * SO_RXQ_OVFL carries them), and be lost with the socket at a stop. */
        if (l->conf->kind != LISTEN_UDP && l->conf->kind != LISTEN_UNIX_DGRAM)
                return;
        if (getsockopt(l->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
            len > SK_MEMINFO_DROPS * sizeof(uint32_t))
                note_drops(l, mem[SK_MEMINFO_DROPS]);
}

static int on_datagram(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        Listener *l = ud;
        Daemon *d = l->d;
        uint8_t *buf = read_buf(d);

        (void) s;
        (void) revents;
        for (int i = 0; i < 64 && !d->paused; i++) {
                struct sockaddr_storage ss = {};
                union {
                        struct cmsghdr h;
                        uint8_t b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(uint32_t))];
                } cm;
                struct iovec iov = {buf, d->cfg.max_message};
                struct msghdr mh = {.msg_name = &ss, .msg_namelen = sizeof(ss), .msg_iov = &iov,
                                    .msg_iovlen = 1, .msg_control = &cm,
                                    .msg_controllen = sizeof(cm)};
                ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
                LsRecord proto = {};

                if (n < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                fprintf(stderr, "logseald: %s: receive: %s\n", l->conf->name,
                                        strerror(errno));
                        break;
                }
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
                                uint32_t drops;
                                memcpy(&drops, CMSG_DATA(c), sizeof(drops));
                                note_drops(l, drops);
                        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                                struct ucred uc;
                                memcpy(&uc, CMSG_DATA(c), sizeof(uc));
                                ls_record_set_ucred(&proto, (uint32_t) uc.pid, uc.uid, uc.gid);
                        }
                }
                if (l->conf->kind == LISTEN_UDP) {
                        if (!allowed(l, &ss)) {
                                l->rejected++;
                                continue;
                        }
                        proto.transport = LS_TRANSPORT_UDP;
                        proto_from_addr(&proto, &ss);
                } else {
                        proto.transport = LS_TRANSPORT_UNIX_DGRAM;
                }
                /* Over its sender's rate: dropped here, declared per sender (sources.c). */
                if (!l->conf->sender_identity) {
                        Source *src = sources_by_addr(d->sources, &proto);
                        uint64_t t = now_realtime_ns();
                        if (d->cfg.rate_limit && !source_admit(d->sources, src, t))
                                continue;
                        source_seen(src, 1, t); /* for status */
                }
                size_t got = MIN((size_t) n, d->cfg.max_message);
                if (ingest_message(d, &proto, l->conf->sender_identity, buf, got, (size_t) n) < 0)
                        break;
        }
        after_input(d);
        return 0;
}

/* ---- streams ---- */

static void conn_free(Conn *c)
{
        Listener *l = c->l;

        sd_event_source_disable_unref(c->src);
        close(c->fd);
        if (c->prev)
                c->prev->next = c->next;
        else
                l->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        l->nconns--;
        if (c->sender)
                (*source_conns(c->sender))--;
        *sources_buffered(l->d->sources) -= c->held;
        if (c->buf)
                munmap(c->buf, c->buf_size);
        free(c);
}

/* Closes a connection for a limit: what it held of a message is sealed (TRUNCATED, SPEC
 * §3.2) and the close declared against its sender. */
static int on_frame(void *ud, const uint8_t *msg, size_t len, uint64_t orig_len, unsigned flags);
static void conn_close_for(Conn *c, SourceEvent why)
{
        Daemon *d = c->l->d;

        (void) ls_framer_finish(&c->framer, on_frame, c);
        after_input(d);
        source_count(c->sender, why, 1);
        conn_free(c);
}

/* After the framer took a read: the bytes its buffer holds (buffered_bytes), the message in
 * progress (frame_timeout), the buffer pages given back once a long message is out. */
static void conn_account(Conn *c, uint64_t frames_before, uint64_t now)
{
        size_t *total = sources_buffered(c->l->d->sources);
        size_t held = MAX(c->touched, c->framer.len);

        if (ls_framer_idle(&c->framer)) {
                c->frame_ns = 0;
                if (held >= BUF_RELEASE) {
                        (void) madvise(c->buf, c->buf_size, MADV_DONTNEED);
                        held = 0;
                }
                c->touched = held;
        } else {
                c->touched = held;
                if (!c->frame_ns || c->frames != frames_before)
                        c->frame_ns = now;
        }
        *total = *total - c->held + held;
        c->held = held;
}

static int on_frame(void *ud, const uint8_t *msg, size_t len, uint64_t orig_len, unsigned flags)
{
        Conn *c = ud;
        LsRecord proto = c->proto;

        c->frames++;
        if (msg >= c->buf && msg < c->buf + c->buf_size)
                c->touched = MAX(c->touched, len);

        /* A malformed octet count is sealed as received and flagged, never dropped. */
        if (flags & LS_FRAME_FRAMING_ERROR)
                proto.flags |= LS_RECF_PARSE_FAILED;
        return ingest_message(c->l->d, &proto, c->l->conf->sender_identity, msg, len,
                              (size_t) orig_len);
}

/* After a read: the memory budget for partial messages, and the sender's rate. <0: closed. */
static int conn_limits(Conn *c, uint64_t frames_before)
{
        Daemon *d = c->l->d;
        uint64_t now = now_mono_ns(), wait;

        conn_account(c, frames_before, now);
        /* Partial messages of all connections count against buffer_max_size: the connection
         * whose read went over it is closed (the attacker's, most likely; a legitimate sender
         * reconnects and sends again). */
        if (*sources_buffered(d->sources) > d->cfg.buffer_max_bytes) {
                conn_close_for(c, SRC_CLOSED_BUFFER);
                return -1;
        }
        /* Over its rate: not read until it is paid back (TCP back-pressure, nothing lost).
         * A trusted front end's connection carries many senders: limited per identity
         * instead (ingest.c). */
        if (c->frames != frames_before && !c->l->conf->sender_identity) {
                uint64_t t = now_realtime_ns();
                source_seen(c->sender, c->frames - frames_before, t); /* for status */
                wait = source_charge(d->sources, c->sender, c->frames - frames_before, t);
                if (wait) {
                        c->resume_ns = now + wait;
                        sd_event_source_set_enabled(c->src, SD_EVENT_OFF);
                }
        }
        return 0;
}

static int on_stream(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        Conn *c = ud;
        Daemon *d = c->l->d;
        uint8_t *buf = read_buf(d);

        (void) s;
        (void) revents;
        for (int i = 0; i < READS_PER_EVENT && !d->paused && !c->resume_ns; i++) {
                ssize_t n = read(fd, buf, READ_BUF);
                uint64_t frames = c->frames;
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        n = 0; /* reset by peer: deliver what we have, like EOF */
                }
                if (n == 0) {
                        (void) ls_framer_finish(&c->framer, on_frame, c);
                        after_input(d);
                        conn_free(c);
                        return 0;
                }
                c->sent_any = 1;
                if (ls_framer_feed(&c->framer, buf, (size_t) n, on_frame, c) < 0) {
                        after_input(d);
                        conn_free(c);
                        return 0;
                }
                /* Commit after every read: what was read is in the WAL before the next read. */
                after_input(d);
                if (conn_limits(c, frames) < 0)
                        return 0;
        }
        return 0;
}

/* The sender of a new connection may have it: the listener and the sender have room
 * ([limits] max_connections, max_connections_per_source). Else it is refused: closed before
 * any byte is read, and declared against the sender. */
static int admit_connection(Listener *l, Source *sender)
{
        const Config *cfg = &l->d->cfg;

        if (l->nconns >= cfg->max_connections) {
                source_count(sender, SRC_REFUSED_LISTENER_FULL, 1);
                return 0;
        }
        if (cfg->max_conns_per_source && *source_conns(sender) >= cfg->max_conns_per_source) {
                source_count(sender, SRC_REFUSED_PER_SOURCE, 1);
                return 0;
        }
        return 1;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        Listener *l = ud;
        Daemon *d = l->d;

        (void) s;
        (void) revents;
        for (int i = 0; i < 64; i++) {
                struct sockaddr_storage ss = {};
                socklen_t sl = sizeof(ss);
                int cfd = accept4(fd, (struct sockaddr *) &ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
                LsRecord proto = {};
                Source *sender;
                Conn *c;

                if (cfd < 0) {
                        /* Out of descriptors: the kernel keeps the rest in the backlog; try
                         * again at the next tick rather than spin on the listening socket. */
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                            errno == ENOMEM) {
                                sd_event_source_set_enabled(l->src, SD_EVENT_OFF);
                                l->accept_blocked = 1;
                        }
                        break;
                }
                if (!allowed(l, &ss)) {
                        l->rejected++;
                        close(cfd);
                        continue;
                }
                proto.conn_id = (uint32_t) (d->conn_serial + 1);
                if (l->conf->kind == LISTEN_TCP) {
                        proto.transport = LS_TRANSPORT_TCP;
                        proto_from_addr(&proto, &ss);
                } else {
                        struct ucred uc;
                        socklen_t ul = sizeof(uc);
                        proto.transport = LS_TRANSPORT_UNIX_STREAM;
                        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) == 0)
                                ls_record_set_ucred(&proto, (uint32_t) uc.pid, uc.uid, uc.gid);
                }
                sender = sources_by_addr(d->sources, &proto);
                if (!admit_connection(l, sender)) {
                        close(cfd);
                        continue;
                }
                c = calloc(1, sizeof(*c));
                if (c) {
                        c->buf_size = (d->cfg.max_message + 4095) & ~(size_t) 4095;
                        c->buf = mmap(NULL, c->buf_size, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
                        if (c->buf == MAP_FAILED)
                                c->buf = NULL;
                }
                if (!c || !c->buf) {
                        free(c);
                        close(cfd);
                        fprintf(stderr, "logseald: %s: out of memory for a connection\n",
                                l->conf->name);
                        continue;
                }
                c->l = l;
                c->fd = cfd;
                c->proto = proto;
                c->sender = sender;
                c->accepted_ns = now_mono_ns();
                ls_framer_init(&c->framer, c->buf, d->cfg.max_message);
                if (sd_event_add_io(d->event, &c->src, cfd, EPOLLIN, on_stream, c) < 0) {
                        close(cfd);
                        munmap(c->buf, c->buf_size);
                        free(c);
                        continue;
                }
                d->conn_serial++;
                (*source_conns(sender))++;
                if (d->paused)
                        sd_event_source_set_enabled(c->src, SD_EVENT_OFF);
                c->next = l->conns;
                if (l->conns)
                        l->conns->prev = c;
                l->conns = c;
                l->nconns++;
        }
        return 0;
}

/* Idle and slow connections closed, throttled ones read again, a listener that ran out of
 * descriptors accepting again. */
static void listener_tick(Listener *l, uint64_t now)
{
        const Config *cfg = &l->d->cfg;
        Conn *next;

        if (l->accept_blocked && !l->d->paused) {
                l->accept_blocked = 0;
                sd_event_source_set_enabled(l->src, SD_EVENT_ON);
        }
        /* Time the daemon does not read a connection (paused for back-pressure, or the
         * sender throttled) does not count against the sender's timeouts. */
        uint64_t dt = l->tick_ns ? now - l->tick_ns : 0;
        l->tick_ns = now;
        for (Conn *c = l->conns; c; c = next) {
                next = c->next;
                if (l->d->paused || c->resume_ns) {
                        c->accepted_ns = MIN(c->accepted_ns + dt, now);
                        if (c->frame_ns)
                                c->frame_ns = MIN(c->frame_ns + dt, now);
                }
                if (c->resume_ns && now >= c->resume_ns) {
                        c->resume_ns = 0;
                        if (!l->d->paused)
                                sd_event_source_set_enabled(c->src, SD_EVENT_ON);
                }
                if (cfg->idle_timeout_ns && !c->sent_any && now > c->accepted_ns &&
                    now - c->accepted_ns >= cfg->idle_timeout_ns)
                        conn_close_for(c, SRC_CLOSED_IDLE);
                else if (cfg->frame_timeout_ns && c->frame_ns && now > c->frame_ns &&
                         now - c->frame_ns >= cfg->frame_timeout_ns)
                        conn_close_for(c, SRC_CLOSED_FRAME);
        }
}

void listeners_tick(Daemon *d, uint64_t now_ns)
{
        (void) now_ns;
        uint64_t now = now_mono_ns();
        for (size_t i = 0; i < d->nlisteners; i++)
                listener_tick(d->listeners[i], now);
}

/* ---- opening ---- */

static int bind_ip(ListenConf *lc, int type)
{
        struct addrinfo hints = {.ai_socktype = type, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
        struct addrinfo *ai = NULL;
        char port[8];
        int fd, one = 1, r;

        snprintf(port, sizeof(port), "%u", lc->port);
        r = getaddrinfo(lc->address, port, &hints, &ai);
        if (r != 0) {
                fprintf(stderr, "logseald: %s: '%s' is not a numeric address\n", lc->name,
                        lc->address);
                return -EINVAL;
        }
        fd = socket(ai->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                r = -errno;
                freeaddrinfo(ai);
                return r;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
            (type == SOCK_STREAM && listen(fd, 1024) < 0)) {
                r = -errno;
                fprintf(stderr, "logseald: %s: cannot listen on %s:%u: %s\n", lc->name,
                        lc->address, lc->port, strerror(-r));
                close(fd);
                freeaddrinfo(ai);
                return r;
        }
        freeaddrinfo(ai);
        return fd;
}

static int bind_unix(ListenConf *lc, int type)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd, r;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", lc->address);
        fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(lc->address);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            (type == SOCK_STREAM && listen(fd, 1024) < 0)) {
                r = -errno;
                fprintf(stderr, "logseald: %s: cannot listen on %s: %s\n", lc->name, lc->address,
                        strerror(-r));
                close(fd);
                return r;
        }
        /* Local senders of any user may log, like /dev/log; but whoever can write to a
         * sender_identity socket can claim any identity: only the owner and group. */
        (void) chmod(lc->address, lc->sender_identity == SENDER_IDENTITY_NONE ? 0666 : 0660);
        return fd;
}

/* A socket passed by systemd that matches this listener, or -1. */
static int activated_fd(ListenConf *lc, int nfds, int *used)
{
        for (int i = 0; i < nfds; i++) {
                int fd = SD_LISTEN_FDS_START + i, match = 0;
                if (used[i])
                        continue;
                switch (lc->kind) {
                case LISTEN_UDP:
                        match = sd_is_socket_inet(fd, 0, SOCK_DGRAM, -1, lc->port) > 0;
                        break;
                case LISTEN_TCP:
                        match = sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, lc->port) > 0;
                        break;
                case LISTEN_UNIX_DGRAM:
                        match = sd_is_socket_unix(fd, SOCK_DGRAM, -1, lc->address, 0) > 0;
                        break;
                case LISTEN_UNIX_STREAM:
                        match = sd_is_socket_unix(fd, SOCK_STREAM, 1, lc->address, 0) > 0;
                        break;
                }
                if (match) {
                        used[i] = 1;
                        return fd;
                }
        }
        return -1;
}

/* Turns sockets systemd passed without a matching [listen] section into listeners. */
static int adopt_unmatched(Daemon *d, int nfds, int *used, char **names)
{
        for (int i = 0; i < nfds; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                char spec[160];
                if (used[i])
                        continue;
                struct sockaddr_storage ss = {};
                socklen_t sl = sizeof(ss);
                char host[INET6_ADDRSTRLEN] = "?";
                int stream = sd_is_socket(fd, 0, SOCK_STREAM, 1) > 0;
                if (getsockname(fd, (struct sockaddr *) &ss, &sl) < 0)
                        continue;
                if (ss.ss_family == AF_UNIX) {
                        const struct sockaddr_un *un = (const struct sockaddr_un *) &ss;
                        snprintf(spec, sizeof(spec), "%s:%.100s", stream ? "unix" : "unix-dgram",
                                 un->sun_path[0] ? un->sun_path : "(abstract)");
                } else if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
                        const void *a = ss.ss_family == AF_INET ?
                                                (const void *) &((struct sockaddr_in *) &ss)->sin_addr :
                                                (const void *) &((struct sockaddr_in6 *) &ss)->sin6_addr;
                        uint16_t port = ntohs(ss.ss_family == AF_INET ?
                                                      ((struct sockaddr_in *) &ss)->sin_port :
                                                      ((struct sockaddr_in6 *) &ss)->sin6_port);
                        inet_ntop(ss.ss_family, a, host, sizeof(host));
                        snprintf(spec, sizeof(spec), ss.ss_family == AF_INET ? "%s:%s:%u" : "%s:[%s]:%u",
                                 stream ? "tcp" : "udp", host, port);
                } else {
                        continue;
                }
                if (config_add_listen(&d->cfg, spec, names && names[i] ? names[i] : spec) < 0)
                        return -ENOMEM;
                used[i] = -1 - fd; /* opened below */
        }
        return 0;
}

/* Enough descriptors for max_connections on every stream listener, as far as the hard limit
 * allows (systemd's default soft limit, 1024, would refuse senders long before). */
static void raise_nofile(const Daemon *d)
{
        struct rlimit rl;
        rlim_t want = 256;

        for (size_t i = 0; i < d->cfg.nlistens; i++)
                if (d->cfg.listens[i].kind == LISTEN_TCP ||
                    d->cfg.listens[i].kind == LISTEN_UNIX_STREAM)
                        want += d->cfg.max_connections;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
                return;
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : MIN(want, rl.rlim_max);
        (void) setrlimit(RLIMIT_NOFILE, &rl);
}

int listeners_open(Daemon *d)
{
        char **names = NULL;
        int nfds = sd_listen_fds_with_names(1, &names), *used = NULL, r = 0;
        size_t configured;

        if (!d->sources) {
                r = sources_new(&d->sources, &d->cfg);
                if (r < 0)
                        return r;
        }

        if (nfds < 0)
                nfds = 0;
        used = calloc((size_t) nfds + 1, sizeof(int));
        if (!used)
                return -ENOMEM;
        configured = d->cfg.nlistens;
        /* Match configured listeners first, then adopt the rest. */
        int *fds = calloc(configured + (size_t) nfds + 1, sizeof(int));
        if (!fds) {
                free(used);
                return -ENOMEM;
        }
        for (size_t i = 0; i < configured; i++)
                fds[i] = activated_fd(&d->cfg.listens[i], nfds, used);
        r = adopt_unmatched(d, nfds, used, names);
        for (size_t i = configured, j = 0; r == 0 && i < d->cfg.nlistens; i++) {
                while (used[j] >= 0)
                        j++;
                fds[i] = -1 - used[j];
                used[j] = 1;
        }
        raise_nofile(d);
        d->listeners = calloc(d->cfg.nlistens + 1, sizeof(*d->listeners));
        if (!d->listeners)
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < d->cfg.nlistens; i++) {
                ListenConf *lc = &d->cfg.listens[i];
                Listener *l = calloc(1, sizeof(*l));
                int fd = fds[i], one = 1, stream;

                if (!l) {
                        r = -ENOMEM;
                        break;
                }
                stream = lc->kind == LISTEN_TCP || lc->kind == LISTEN_UNIX_STREAM;
                l->activated = fd >= 0;
                if (fd < 0) {
                        if (lc->kind == LISTEN_UDP || lc->kind == LISTEN_TCP)
                                fd = bind_ip(lc, stream ? SOCK_STREAM : SOCK_DGRAM);
                        else
                                fd = bind_unix(lc, stream ? SOCK_STREAM : SOCK_DGRAM);
                } else {
                        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
                        fcntl(fd, F_SETFD, FD_CLOEXEC);
                }
                if (fd < 0) {
                        free(l);
                        r = fd;
                        break;
                }
                if (lc->kind == LISTEN_UDP || lc->kind == LISTEN_UNIX_DGRAM) {
                        int rcv = 8 << 20;
                        setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
                        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
                }
                if (lc->kind == LISTEN_UNIX_DGRAM)
                        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
                l->d = d;
                l->conf = lc;
                l->fd = fd;
                r = sd_event_add_io(d->event, &l->src, fd, EPOLLIN, stream ? on_accept : on_datagram,
                                    l);
                if (r < 0) {
                        close(fd);
                        free(l);
                        break;
                }
                d->listeners[d->nlisteners++] = l;
                const char *si =
                        lc->sender_identity ? ", sender identity from structured data" : "";
                if (lc->port)
                        fprintf(stderr, "logseald: listening on %s %s port %u%s%s\n",
                                kind_name(lc->kind), lc->address, lc->port,
                                l->activated ? " (socket activation)" : "", si);
                else
                        fprintf(stderr, "logseald: listening on %s %s%s%s\n", kind_name(lc->kind),
                                lc->address, l->activated ? " (socket activation)" : "", si);
        }
        free(fds);
        free(used);
        if (names) {
                for (int i = 0; i < nfds; i++)
                        free(names[i]);
                free(names);
        }
        return r;
}

void listeners_pause(Daemon *d, int pause)
{
        if (d->paused == pause)
                return;
        d->paused = pause;
        for (size_t i = 0; i < d->nlisteners; i++) {
                Listener *l = d->listeners[i];
                if (!l->accept_blocked)
                        sd_event_source_set_enabled(l->src, pause ? SD_EVENT_OFF : SD_EVENT_ON);
                for (Conn *c = l->conns; c; c = c->next)
                        if (pause || !c->resume_ns) /* a throttled one waits for its tick */
                                sd_event_source_set_enabled(c->src,
                                                            pause ? SD_EVENT_OFF : SD_EVENT_ON);
        }
}

/* ---- stop: drain ---- */

static uint64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static int readable(int fd)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};

        return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* Bytes are waiting (not only the end of the stream, which poll also calls readable). */
static int unread(int fd)
{
        uint8_t b;

        return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Reads a connection after shutdown(SHUT_RD) until read() says there is no more: EOF once its
 * receive queue is empty, or an error. Never waits. */
static void drain_conn(Conn *c, uint64_t deadline)
{
        Daemon *d = c->l->d;
        uint8_t *buf = read_buf(d);

        while (mono_ns() < deadline) {
                ssize_t n = read(c->fd, buf, READ_BUF);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (ls_framer_feed(&c->framer, buf, (size_t) n, on_frame, c) < 0)
                        break;
                /* What was read is in the WAL before the next read, as always. */
                if (ingest_commit(d) < 0)
                        break;
        }
}

/*
 * At SIGTERM, before listeners_close(): stop accepting, and seal everything senders have
 * already handed to the kernel, so that a stop loses nothing a sender was told was written
 * (docs/forwarding.md, "What is guaranteed").
 *
 * - Listening stream sockets stop being watched. One systemd passed keeps its backlog of
 *   connections not yet accepted for the next start; one logseald bound itself dies with it,
 *   so its backlog is accepted and drained now.
 * - Every connection gets shutdown(SHUT_RD) first. A unix stream writer then gets EPIPE for
 *   anything it writes afterwards (its own error: syslog-ng keeps that message in its disk
 *   buffer), so reading to EOF seals exactly what it wrote before. TCP cannot refuse data:
 *   what arrives after the connection's last read is lost on close, and only a sender's
 *   sequence numbers can show it (sequence.c); a connection still sending when the drain
 *   ends is declared against its sender (SRC_CLOSED_STOP).
 * - Datagram sockets are read until they are empty (a unix one logseald bound itself after
 *   shutdown(SHUT_RD), so that later senders get an error; UDP has no way to refuse).
 * The backpressure pause does not apply: what is read here is bounded by the sockets'
 * buffers, and the whole drain by LISTEN_DRAIN_NS.
 */
void listeners_drain(Daemon *d)
{
        uint64_t deadline = mono_ns() + LISTEN_DRAIN_NS;

        for (size_t i = 0; i < d->nlisteners; i++)
                sd_event_source_set_enabled(d->listeners[i]->src, SD_EVENT_OFF);
        for (size_t i = 0; i < d->nlisteners; i++) {
                Listener *l = d->listeners[i];
                int stream = l->conf->kind == LISTEN_TCP || l->conf->kind == LISTEN_UNIX_STREAM;
                if (!stream || l->activated)
                        continue;
                while (l->nconns < d->cfg.max_connections && readable(l->fd) && mono_ns() < deadline) {
                        size_t before = l->nconns;
                        (void) on_accept(NULL, l->fd, 0, l);
                        if (l->nconns == before)
                                break;
                }
        }
        for (size_t i = 0; i < d->nlisteners; i++)
                for (Conn *c = d->listeners[i]->conns; c; c = c->next) {
                        sd_event_source_set_enabled(c->src, SD_EVENT_OFF);
                        (void) shutdown(c->fd, SHUT_RD);
                }
        for (size_t i = 0; i < d->nlisteners; i++) {
                Listener *l = d->listeners[i];
                if (l->conf->kind == LISTEN_UDP || l->conf->kind == LISTEN_UNIX_DGRAM) {
                        /* A unix datagram sender then gets an error instead of a queue that
                         * closes unread. Not on a socket systemd passed: that one is shared
                         * with the next start, which reads what arrives meanwhile. */
                        if (l->conf->kind == LISTEN_UNIX_DGRAM && !l->activated)
                                (void) shutdown(l->fd, SHUT_RD);
                        while (readable(l->fd) && mono_ns() < deadline) {
                                d->paused = 0; /* on_datagram stops reading while paused */
                                (void) on_datagram(NULL, l->fd, 0, l);
                        }
                        continue;
                }
                for (Conn *c = l->conns; c; c = c->next)
                        drain_conn(c, deadline);
        }
        d->paused = 1; /* nothing is watched any more */
        (void) ingest_commit(d);
        if (mono_ns() >= deadline) {
                /* What a connection still has unread is lost when it closes: declared against
                 * its sender (the count is of connections; the messages are unknown). */
                size_t cut = 0;
                for (size_t i = 0; i < d->nlisteners; i++)
                        for (Conn *c = d->listeners[i]->conns; c; c = c->next)
                                if (unread(c->fd)) {
                                        source_count(c->sender, SRC_CLOSED_STOP, 1);
                                        cut++;
                                }
                fprintf(stderr, "logseald: senders still had data after %llu s of reading at "
                                "the stop; %zu connection(s) closed with data unread (declared)\n",
                        LISTEN_DRAIN_NS / 1000000000ull, cut);
        }
}

void listeners_close(Daemon *d)
{
        for (size_t i = 0; i < d->nlisteners; i++) {
                Listener *l = d->listeners[i];
                /* Deliver what each connection still holds before closing it. */
                while (l->conns) {
                        Conn *c = l->conns;
                        (void) ls_framer_finish(&c->framer, on_frame, c);
                        conn_free(c);
                }
                sd_event_source_disable_unref(l->src);
                close(l->fd);
                if (!l->activated && (l->conf->kind == LISTEN_UNIX_DGRAM ||
                                      l->conf->kind == LISTEN_UNIX_STREAM))
                        (void) unlink(l->conf->address);
                free(l);
        }
        free(d->listeners);
        d->listeners = NULL;
        d->nlisteners = 0;
        (void) ingest_commit(d);
}
