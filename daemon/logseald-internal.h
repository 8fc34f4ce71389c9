/* SPDX-License-Identifier: Apache-2.0 */
/* logseald-internal.h: the parts of the main program (logseald.c: options and main;
 * logseald-start.c: start-up; logseald-events.c: the event loop's timers and signals;
 * logseald-declare.c: START, STOP and loss declarations) */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

#include "control.h"
#include "index.h"
#include "logseald.h"

#define TICK_NS 100000000ull /* 100 ms */

/* logseald.c */
extern IndexWorker *indexer;

/* logseald-declare.c: control records from the main thread */
void emit_control(Daemon *d, LsControlBuilder *b);
void declare_losses(Daemon *d, int force);
void emit_start(Daemon *d);
void emit_stop(Daemon *d, const char *why);

/* logseald-events.c */
int on_tick(sd_event_source *s, uint64_t usec, void *ud);
void index_log(void *ud, int level, const char *msg);
int on_durable(sd_event_source *s, int fd, uint32_t revents, void *ud);
int on_hangup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud);
int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud);

/* logseald-start.c */
int senders_start(Daemon *d);
int start_daemon(Daemon *d);
