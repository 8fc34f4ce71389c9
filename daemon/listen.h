/* SPDX-License-Identifier: Apache-2.0 */
/* listen.h: the listeners (listen.c): sockets -> framing -> ingest_message(); their state is
 * private to listen.c and the status report */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

#include "conf.h"

typedef struct Daemon Daemon;
typedef struct Listener Listener;

struct Conn;

struct Listener {
        Daemon *d;
        ListenConf *conf;
        int fd;
        int activated;             /* passed by systemd */
        sd_event_source *src;
        struct Conn *conns;
        size_t nconns;
        uint32_t ovfl_last;        /* kernel drop counter (SO_RXQ_OVFL) as last seen */
        uint64_t dropped;          /* kernel drops not yet declared */
        uint64_t rejected;         /* rejected sources not yet declared */
        uint64_t loss_first_ns;    /* window of the undeclared losses */
        int accept_blocked;        /* out of descriptors: accept again at the next tick */
        uint64_t tick_ns;          /* CLOCK_MONOTONIC of the last listener tick */
};

/* Reads a datagram listener's kernel drop counter now (SO_MEMINFO) into `dropped`. */
void listener_poll_drops(struct Listener *l);

/* The listeners of cfg.listens (and those systemd passes), with their sockets. */
int listeners_open(Daemon *d);
/* Every tick: timeouts, throttled connections due again, a full listener accepting again. */
void listeners_tick(Daemon *d, uint64_t now_ns);
void listeners_pause(Daemon *d, int pause);
/* At a stop: accept and read what senders already sent, for at most LISTEN_DRAIN_NS; a
 * connection still sending then is declared (SRC_CLOSED_STOP). */
#define LISTEN_DRAIN_NS (5 * 1000000000ull) /* systemd waits 90 s */
void listeners_drain(Daemon *d);
void listeners_close(Daemon *d);
