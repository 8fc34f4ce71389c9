/* SPDX-License-Identifier: Apache-2.0 */
/* senders.h: per-sender sequence numbers (RFC 5424 meta sequenceId), gaps and restarts */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "record.h"

/* The longest sender name: it is the SOURCE of the control records (SPEC §4.1). */
#define SENDER_KEY_MAX 256
/* The most senders tracked; a sender seen when the table is full is not tracked. */
#define SENDERS_MAX 65536

typedef struct Senders Senders;

typedef enum SenderEventKind {
        SENDER_NONE = 0,
        SENDER_GAP,      /* numbers skipped: messages lost on the way (LOSS, sequence-gap) */
        SENDER_RESTART,  /* the numbering began again at 1 (SEQUENCE_RESET) */
        SENDER_BACK,     /* the numbering went back, not to 1 (SEQUENCE_RESET) */
} SenderEventKind;

typedef struct SenderEvent {
        SenderEventKind kind;
        uint32_t expected, got;
        uint64_t count;          /* SENDER_GAP: how many numbers are missing */
        uint64_t prev_time_ns;   /* when the sender's previous message arrived */
} SenderEvent;

int senders_new(Senders **ret);
Senders *senders_free(Senders *s);

/*
 * Whose numbers a message carries. key: "tcp peer=ADDRESS host=HOSTNAME" for TCP;
 * "unix subject=S host=HOSTNAME" for a unix stream record with a sender identity (the TLS
 * front end's certificate subject); "unix host=HOSTNAME" for other unix stream records. A
 * syslog-ng numbers every message it writes to one destination, and a relay passes on each
 * origin's numbers with its HOSTNAME. Cut at SENDER_KEY_MAX.
 *
 * orphan: a front-end record without identity (it has a logseal-sender@32473 element but no
 * subject: syslog-ng 3.38 had not attached the certificate yet, docs/forwarding.md). Its
 * sender is unknown; it is remembered by HOSTNAME, so that the numbers it carries are not
 * counted missing from the sender with that HOSTNAME whose numbers skip them.
 */
typedef struct SenderName {
        char key[SENDER_KEY_MAX];
        size_t len;
        uint8_t host_hash[8];       /* of the HOSTNAME, for orphans */
        int orphan;
} SenderName;

/* 1 with *n, or 0 when the record's transport is not tracked (datagrams: their losses are
 * counted by the kernel, and they may arrive out of order). */
int senders_name(Senders *s, const LsRecord *r, const uint8_t *msg, const LsSyslogMsg *m,
                 SenderName *n);

/* Notes sequence number seq (1..LS_SYSLOG_SEQUENCE_MAX) from sender n at now_ns; what it
 * reveals in *ev. 0, or -ENOMEM. */
int senders_observe(Senders *s, const SenderName *n, uint32_t seq, uint64_t now_ns,
                    SenderEvent *ev);

/* Something was observed since the last save. */
int senders_dirty(const Senders *s);
size_t senders_count(const Senders *s);

/* STATE_SENDERS in the state directory, holding everything observed from records with WAL
 * ids up to wal_id. */
int senders_save(Senders *s, int state_dirfd, uint64_t wal_id);
/* 0 with *ret_wal_id (0 when there is no file), -EBADMSG for a damaged file (nothing loaded),
 * or -errno. */
int senders_load(Senders *s, int state_dirfd, uint64_t *ret_wal_id);
