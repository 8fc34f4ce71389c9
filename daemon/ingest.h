/* SPDX-License-Identifier: Apache-2.0 */
/* ingest.h: received messages and control records -> pending chunk -> WAL -> sealer (ingest.c) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "record.h"

typedef struct Daemon Daemon;

/* Takes one received message: builds its record, appends it to the pending chunk. With
 * SENDER_IDENTITY_STRUCTURED_DATA the record's identity comes from the message's SD. */
int ingest_message(Daemon *d, const LsRecord *proto, SenderIdentity si, const uint8_t *msg,
                   size_t len, size_t orig_len);
int ingest_control(Daemon *d, uint16_t type, const uint8_t *body, size_t len);
/* A record re-sealed from the WAL at start-up: its sequence number updates the sender's,
 * without declarations (those of the run that received it are in the WAL too, and a gap
 * declaration there closes the gap it declares). */
void ingest_replayed_sequence(Daemon *d, const LsRecord *r);
/* Declares the sequence gaps whose window has passed (sequence.c). */
void ingest_expire_sequences(Daemon *d);
/* Writes the pending chunk to the WAL and hands it to the sealer: call before the next read. */
int ingest_commit(Daemon *d);
