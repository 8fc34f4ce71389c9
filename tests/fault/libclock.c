/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libclock.so: an LD_PRELOAD wall clock that can be stepped from outside.
 *
 *   LOGSEAL_CLOCK_SHIFT=PATH   the wall clock (CLOCK_REALTIME, its coarse variant,
 *                              gettimeofday, time) runs ahead by the signed number of
 *                              seconds written in PATH (decimal; a missing or empty file is 0),
 *                              re-read at most every 50 ms. CLOCK_MONOTONIC is untouched, so
 *                              a change of PATH is a wall-clock step as NTP or an admin makes.
 *
 * PATH is opened when the library is loaded: logseald confines itself after start-up
 * (daemon/confine.c) and could not open it later; the descriptor is read with pread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int shift_fd = -1;
static _Atomic int64_t shift_ns;
static _Atomic int64_t next_read_ns;

static int (*real_clock_gettime)(clockid_t, struct timespec *);

__attribute__((constructor)) static void init(void)
{
        const char *p = getenv("LOGSEAL_CLOCK_SHIFT");

        real_clock_gettime =
                (int (*)(clockid_t, struct timespec *)) dlsym(RTLD_NEXT, "clock_gettime");
        if (p)
                shift_fd = open(p, O_RDONLY | O_CLOEXEC);
}

static int64_t current_shift(void)
{
        struct timespec m;
        int64_t now;
        char buf[32];
        ssize_t n;

        if (shift_fd < 0 || real_clock_gettime(CLOCK_MONOTONIC, &m) < 0)
                return atomic_load(&shift_ns);
        now = (int64_t) m.tv_sec * 1000000000 + m.tv_nsec;
        if (now < atomic_load(&next_read_ns))
                return atomic_load(&shift_ns);
        atomic_store(&next_read_ns, now + 50000000);
        n = pread(shift_fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = 0;
        atomic_store(&shift_ns, strtoll(buf, NULL, 10) * 1000000000);
        return atomic_load(&shift_ns);
}

static void shift(struct timespec *ts)
{
        int64_t t = (int64_t) ts->tv_sec * 1000000000 + ts->tv_nsec + current_shift();

        ts->tv_sec = (time_t) (t / 1000000000);
        ts->tv_nsec = (long) (t % 1000000000);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
        int r;

        if (!real_clock_gettime)
                init();
        r = real_clock_gettime(id, ts);
        if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
                shift(ts);
        return r;
}

int gettimeofday(struct timeval *tv, void *tz)
{
        struct timespec ts;

        (void) tz;
        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return -1;
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
        return 0;
}

time_t time(time_t *t)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return (time_t) -1;
        if (t)
                *t = ts.tv_sec;
        return ts.tv_sec;
}
