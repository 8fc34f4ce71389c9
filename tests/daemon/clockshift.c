/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clockshift.so: an LD_PRELOAD wall-clock step for tests/daemon/test-clock.py.
 *
 *   LOGSEAL_CLOCK_SHIFT=PATH   a file holding a number of seconds (text, may be negative);
 *                              CLOCK_REALTIME reads that much ahead of the real clock from
 *                              the moment the file says so. CLOCK_MONOTONIC and
 *                              CLOCK_BOOTTIME are untouched: that is what a step looks like.
 *
 * The file is opened when the library is loaded and re-read (pread at offset 0) at most
 * every 50 ms: logseald confines itself after start-up (daemon/confine.c) and could not
 * open it later. The test rewrites it in place.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int shift_fd = -1;
static _Atomic int64_t shift_ns;
static _Atomic int64_t checked_at;

__attribute__((constructor)) static void clockshift_init(void)
{
        const char *p = getenv("LOGSEAL_CLOCK_SHIFT");

        real_clock_gettime = (int (*)(clockid_t, struct timespec *)) dlsym(RTLD_NEXT,
                                                                           "clock_gettime");
        if (p)
                shift_fd = open(p, O_RDONLY | O_CLOEXEC);
}

static void refresh(void)
{
        struct timespec now;
        char buf[32];
        ssize_t n;
        int64_t t;

        if (shift_fd < 0 || real_clock_gettime(CLOCK_MONOTONIC, &now) < 0)
                return;
        t = (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
        if (t - atomic_load(&checked_at) < 50000000)
                return;
        atomic_store(&checked_at, t);
        n = pread(shift_fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return;
        buf[n] = 0;
        atomic_store(&shift_ns, (int64_t) (strtod(buf, NULL) * 1e9));
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
        int r;
        int64_t s, t;

        if (!real_clock_gettime)
                clockshift_init();
        r = real_clock_gettime(id, ts);
        if (r != 0 || (id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE))
                return r;
        refresh();
        s = atomic_load(&shift_ns);
        if (s) {
                t = (int64_t) ts->tv_sec * 1000000000 + ts->tv_nsec + s;
                ts->tv_sec = (time_t) (t / 1000000000);
                ts->tv_nsec = (long) (t % 1000000000);
        }
        return r;
}
