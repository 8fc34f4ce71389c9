// SPDX-License-Identifier: Apache-2.0
/*
 * blast: the sending side of bench/ingest-real.sh, built to never be the bottleneck.
 *
 *   blast send HOST PORT CONNS SECONDS FILE
 *       FILE holds pre-framed messages (RFC 6587 octet counting: "LEN SP MSG" ...), made once
 *       by bench/realsend.py --frame. CONNS threads each open one TCP connection and write
 *       the whole file in a loop, in 1 MiB write()s of the mapped buffer (no per-message work
 *       at all), until SECONDS have passed at the end of a pass. Each then shuts down its
 *       sending side and waits for the receiver to close the connection, i.e. until the
 *       receiver has read every byte. Prints "messages bytes seconds" (seconds: from the
 *       first write to the last connection drained).
 *   blast sink PORT CONNS
 *       A receiver that only reads: accepts CONNS connections on 127.0.0.1:PORT, reads each
 *       in 1 MiB read()s until EOF and closes it. Prints "bytes". Proves the sender's rate.
 *   blast rusage OUT -- PROGRAM ARGS...
 *       Runs PROGRAM, forwards SIGTERM/SIGINT to it, and when it exits writes to OUT the CPU
 *       seconds of it and of every descendant it reaped ("user system maxrss_kib"); exits
 *       with its status.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void die(const char *what) {
        perror(what);
        exit(2);
}

struct sender {
        pthread_t thread;
        const char *host;
        int port;
        const uint8_t *buf;
        size_t len;
        double until;
        uint64_t passes;
};

static void *send_main(void *arg) {
        struct sender *s = arg;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) s->port)};
        if (inet_pton(AF_INET, s->host, &a.sin_addr) != 1) {
                fprintf(stderr, "blast: bad address %s\n", s->host);
                exit(2);
        }
        int fd = -1;
        for (int tries = 0;; tries++) { /* the receiver may still be starting: up to 5 s */
                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        die("blast: socket");
                if (connect(fd, (struct sockaddr *) &a, sizeof a) == 0)
                        break;
                if (errno != ECONNREFUSED || tries == 100)
                        die("blast: connect");
                close(fd);
                usleep(50000);
        }
        do {
                for (size_t off = 0; off < s->len;) {
                        size_t n = s->len - off < CHUNK ? s->len - off : CHUNK;
                        ssize_t w = write(fd, s->buf + off, n);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                die("blast: write");
                        off += (size_t) w;
                }
                s->passes++;
        } while (now() < s->until);
        if (shutdown(fd, SHUT_WR) < 0)
                die("blast: shutdown");
        char tmp[4096];
        struct timeval tv = {.tv_sec = 120};
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        for (;;) { /* the receiver closes once it has read everything */
                ssize_t r = read(fd, tmp, sizeof tmp);
                if (r == 0 || (r < 0 && errno == ECONNRESET))
                        break;
                if (r < 0 && errno != EINTR)
                        die("blast: waiting for the receiver to close");
        }
        close(fd);
        return NULL;
}

static int cmd_send(int argc, char **argv) {
        if (argc != 7) {
                fprintf(stderr, "usage: blast send HOST PORT CONNS SECONDS FILE\n");
                return 2;
        }
        int conns = atoi(argv[4]);
        double secs = atof(argv[5]);
        int fd = open(argv[6], O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                die(argv[6]);
        size_t len = (size_t) st.st_size;
        const uint8_t *buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (buf == MAP_FAILED)
                die("blast: mmap");
        uint64_t msgs = 0; /* messages per pass: walk the octet counts once */
        for (size_t off = 0; off < len;) {
                size_t n = 0;
                while (off < len && buf[off] >= '0' && buf[off] <= '9' && n < 1000000)
                        n = n * 10 + (size_t) (buf[off++] - '0');
                if (off >= len || buf[off] != ' ' || n == 0 || n > len - off - 1) {
                        fprintf(stderr, "blast: %s: bad frame at byte %zu\n", argv[6], off);
                        return 2;
                }
                off += 1 + n;
                msgs++;
        }
        if (conns < 1 || conns > 64 || !(secs > 0)) {
                fprintf(stderr, "blast: bad CONNS or SECONDS\n");
                return 2;
        }
        struct sender s[64];
        double t0 = now();
        for (int i = 0; i < conns; i++) {
                s[i] = (struct sender){.host = argv[2], .port = atoi(argv[3]), .buf = buf,
                                       .len = len, .until = t0 + secs};
                if (pthread_create(&s[i].thread, NULL, send_main, &s[i]) != 0)
                        die("blast: pthread_create");
        }
        uint64_t passes = 0;
        for (int i = 0; i < conns; i++) {
                pthread_join(s[i].thread, NULL);
                passes += s[i].passes;
        }
        double t1 = now();
        printf("%llu %llu %.3f\n", (unsigned long long) (passes * msgs),
               (unsigned long long) (passes * len), t1 - t0);
        return 0;
}

static void *sink_main(void *arg) {
        int fd = (int) (intptr_t) arg;
        uint8_t *buf = malloc(CHUNK);
        uint64_t total = 0;
        if (!buf)
                die("blast: malloc");
        for (;;) {
                ssize_t r = read(fd, buf, CHUNK);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                total += (uint64_t) r;
        }
        close(fd);
        free(buf);
        return (void *) (uintptr_t) total;
}

static int cmd_sink(int argc, char **argv) {
        if (argc != 4) {
                fprintf(stderr, "usage: blast sink PORT CONNS\n");
                return 2;
        }
        int conns = atoi(argv[3]);
        if (conns < 1 || conns > 64)
                return 2;
        int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(argv[2])),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        (void) setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (lfd < 0 || bind(lfd, (struct sockaddr *) &a, sizeof a) < 0 || listen(lfd, 64) < 0)
                die("blast: listen");
        pthread_t t[64];
        for (int i = 0; i < conns; i++) {
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        die("blast: accept");
                if (pthread_create(&t[i], NULL, sink_main, (void *) (intptr_t) fd) != 0)
                        die("blast: pthread_create");
        }
        uint64_t total = 0;
        for (int i = 0; i < conns; i++) {
                void *r;
                pthread_join(t[i], &r);
                total += (uint64_t) (uintptr_t) r;
        }
        printf("%llu\n", (unsigned long long) total);
        return 0;
}

static pid_t child;

static void forward(int sig) {
        if (child > 0)
                kill(child, sig);
}

static int cmd_rusage(int argc, char **argv) {
        if (argc < 5 || strcmp(argv[3], "--") != 0) {
                fprintf(stderr, "usage: blast rusage OUT -- PROGRAM ARGS...\n");
                return 2;
        }
        struct sigaction sa = {.sa_handler = forward};
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        child = fork();
        if (child < 0)
                die("blast: fork");
        if (child == 0) {
                execvp(argv[4], argv + 4);
                die(argv[4]);
        }
        int status;
        struct rusage ru;
        while (wait4(child, &status, 0, &ru) < 0)
                if (errno != EINTR)
                        die("blast: wait4");
        FILE *f = fopen(argv[2], "we");
        if (!f)
                die(argv[2]);
        fprintf(f, "%.6f %.6f %ld\n", (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6,
                (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
        fclose(f);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
        signal(SIGPIPE, SIG_IGN);
        if (argc >= 2 && strcmp(argv[1], "send") == 0)
                return cmd_send(argc, argv);
        if (argc >= 2 && strcmp(argv[1], "sink") == 0)
                return cmd_sink(argc, argv);
        if (argc >= 2 && strcmp(argv[1], "rusage") == 0)
                return cmd_rusage(argc, argv);
        fprintf(stderr, "usage: blast send|sink|rusage ...\n");
        return 2;
}
