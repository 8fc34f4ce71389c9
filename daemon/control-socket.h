/* SPDX-License-Identifier: Apache-2.0 */
/* control-socket.h: the control socket logsealctl talks to (control.c; not control.h: that is
 * formats/common's control records) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sealer.h"

typedef struct Daemon Daemon;

int control_open(Daemon *d);
void control_close(Daemon *d);
/* A root revocation (its encoding) for this appliance: checked (chain, trusted root), the key
 * in use moved off first when it names it (sealer_revoke_key), then a REVOCATION record queued
 * for the next ingest_commit(). 0 or 1 as sealer_revoke_key(); -EBADMSG, -EXDEV (another
 * chain), -EKEYREJECTED (no trusted root signed it), or its errors: nothing queued. */
int revocation_apply(Daemon *d, const uint8_t *enc, size_t n, RevokeOutcome *out);
