/* SPDX-License-Identifier: Apache-2.0 */
/* sequence.h: per-sender sequence numbers (RFC 5424 meta sequenceId), gaps and restarts */
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

/* A number skipped is declared lost only when it has not arrived this long after the gap
 * was seen: a syslog-ng sends its own messages (internal()) a little out of order with the
 * others around a reconnection. */
#define SENDERS_WINDOW_NS (5 * 1000000000ull)
/* Gaps of one sender awaiting their window; one more declares the oldest at once. */
#define SENDER_MAX_PENDING 4

typedef enum SenderEventKind {
        SENDER_NONE = 0,
        SENDER_GAP,      /* numbers expected..got-1 never arrived (LOSS, sequence-gap) */
        SENDER_RESTART,  /* the numbering began again at 1 (SEQUENCE_RESET) */
        SENDER_BACK,     /* the numbering went back, not to 1 (SEQUENCE_RESET) */
} SenderEventKind;

typedef struct SenderEvent {
        SenderEventKind kind;
        uint32_t expected, got;  /* GAP: the numbers from expected up to got (excluded) */
        uint64_t count;          /* GAP: how many numbers that is */
        uint64_t first_ns;       /* GAP: when it was seen; else when the previous message came */
} SenderEvent;

/* Called with each declaration due: key/keylen name the sender. */
typedef void (*SenderDeclareFn)(void *ud, const char *key, size_t keylen, const SenderEvent *ev);

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

/* Notes sequence number seq (1..LS_SYSLOG_SEQUENCE_MAX) from sender n at now_ns; fn (may be
 * NULL: nothing declared) gets what is due now. 0, or -ENOMEM. */
int senders_observe(Senders *s, const SenderName *n, uint32_t seq, uint64_t now_ns,
                    SenderDeclareFn fn, void *ud);

/* Declares, through fn, every gap seen before now_ns - window_ns that is still open. */
void senders_expire(Senders *s, uint64_t now_ns, uint64_t window_ns, SenderDeclareFn fn, void *ud);

/* A gap declaration found in the WAL at start-up: it is no longer pending. */
void senders_declared(Senders *s, const char *key, size_t keylen, uint32_t expected, uint32_t got);

/* Something was observed since the last save. */
int senders_dirty(const Senders *s);
size_t senders_count(const Senders *s);

/* STATE_SENDERS in the state directory, holding everything observed from records with WAL
 * ids up to wal_id. */
int senders_save(Senders *s, int state_dirfd, uint64_t wal_id);
/* 0 with *ret_wal_id (0 when there is no file), -EBADMSG for a damaged file (nothing loaded),
 * or -errno. */
int senders_load(Senders *s, int state_dirfd, uint64_t *ret_wal_id);
