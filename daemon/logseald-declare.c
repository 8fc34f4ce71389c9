/* SPDX-License-Identifier: Apache-2.0 */
/* logseald-declare.c: control records the main thread writes into the chain: START, STOP and
 * the losses it counted (SPEC §4) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "hash.h"
#include "ingest.h"
#include "listen.h"
#include "sources.h"
#include "logseald-internal.h"
#include "logseald.h"
#include "util.h"

/* ---- control records from the main thread ---- */

void emit_control(Daemon *d, LsControlBuilder *b)
{
        const uint8_t *body;
        size_t len;
        uint16_t type = ls_get16(b->buf);
        int r = ls_control_end(b, &body, &len);

        if (r == 0)
                r = ingest_control(d, type, body, len);
        if (r < 0)
                fprintf(stderr, "logseald: cannot record a %s event: %s\n",
                        ls_control_type_name(type), strerror(-r));
}

void declare_losses(Daemon *d, int force)
{
        LsControlBuilder *b = malloc(sizeof(*b));
        uint64_t now = now_realtime_ns();

        if (!b)
                return;
        for (size_t i = 0; i < d->nlisteners; i++) {
                Listener *l = d->listeners[i];
                struct {
                        uint64_t *count;
                        uint16_t cause;
                } kinds[] = {{&l->dropped, LS_LOSS_UDP_OVERFLOW},
                             {&l->rejected, LS_LOSS_REJECTED_SOURCE}};
                listener_poll_drops(l);
                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        if (!*kinds[k].count)
                                continue;
                        if (!l->loss_first_ns)
                                l->loss_first_ns = now;
                        if (!force && now - l->loss_first_ns < 1000000000ull)
                                continue;
                        ls_control_begin(b, LS_CTL_LOSS);
                        ls_control_add_u64(b, LS_TAG_COUNT, *kinds[k].count);
                        ls_control_add_u64(b, LS_TAG_FIRST_TIME, l->loss_first_ns);
                        ls_control_add_u64(b, LS_TAG_LAST_TIME, now);
                        ls_control_add_u16(b, LS_TAG_CAUSE, kinds[k].cause);
                        ls_control_add_str(b, LS_TAG_SOURCE, l->conf->name);
                        emit_control(d, b);
                        d->declared_lost += *kinds[k].count;
                        *kinds[k].count = 0;
                }
                if (!l->dropped && !l->rejected)
                        l->loss_first_ns = 0;
        }
        free(b);
        d->declared_lost += sources_declare(d, d->sources, force);
}

void emit_start(Daemon *d)
{
        LsControlBuilder *b = malloc(sizeof(*b));
        uint32_t cf;

        if (!b)
                return;
        /* How this run is confined (SPEC §4.5): said in the chain, not only in a log. */
        cf = confine_flags(&d->confinement, signer_confined(d->signer) > 0);
        ls_control_begin(b, LS_CTL_START);
        if (cf & LS_CONFINE_DISABLED)
                ls_control_add_str(b, LS_TAG_TEXT, "file-system confinement disabled by the "
                                                   "configuration (confine = no)");
        ls_control_add(b, LS_TAG_BOOT_ID, d->boot_id, sizeof(d->boot_id));
        if (d->cfg.path)
                ls_control_add(b, LS_TAG_CONFIG_HASH, d->cfg.hash, LS_HASH_LEN);
        ls_control_add_str(b, LS_TAG_VERSION, LOGSEAL_VERSION);
        ls_control_add_u32(b, LS_TAG_PID, (uint32_t) getpid());
        ls_control_add_u64(b, LS_TAG_HEARTBEAT_INTERVAL, d->cfg.heartbeat_ns);
        ls_control_add_u32(b, LS_TAG_CONFINEMENT, cf);
        ls_control_add_u32(b, LS_TAG_UID, d->confinement.uid);
        emit_control(d, b);
        free(b);
}

void emit_stop(Daemon *d, const char *why)
{
        LsControlBuilder *b = malloc(sizeof(*b));

        if (!b)
                return;
        ls_control_begin(b, LS_CTL_STOP);
        ls_control_add_str(b, LS_TAG_TEXT, why);
        ls_control_add_u64(b, LS_TAG_RECEIVED, d->received);
        emit_control(d, b);
        free(b);
}
