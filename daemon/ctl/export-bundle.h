/* SPDX-License-Identifier: Apache-2.0 */
/* export-bundle.h: `logsealctl export`: evidence bundles (SPEC §14) from the appliance's archives */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "checkpoint.h"
#include "defs.h"
#include "index.h"

/* Sends one command line to the running daemon; its JSON answer or NULL. */
typedef json_t *(*ExportRequestFn)(const char *state_dir, const char *line);

typedef struct ExportOptions {
        const char *state_dir;
        int dirfd, archfd;
        uint8_t chain_id[LS_CHAIN_ID_LEN];
        const char *case_id, *examiner;
        const char *filter;            /* the selection in words, sealed in the custody record */
        IndexHit *hits;                /* the records to disclose (sorted here by seq) */
        size_t nhits;
        const char *out;               /* directory to create */
        const char *tar;               /* also write this tar file (NULL: no) */
        ExportRequestFn request;
} ExportOptions;

/*
 * This process's command line (/proc/self/cmdline) as a CUSTODY record's COMMAND (SPEC
 * §4.4): the arguments joined by spaces, each escaped for people (ls_text_escape, text.h:
 * controls, bidirectional and invisible formatting, invalid UTF-8 and backslashes made
 * visible), one that is empty or holds a space in single quotes; cut to at most n - 1
 * bytes, never inside an escape or a character. Always clean text (ls_text_is_clean).
 */
#define CUSTODY_COMMAND_MAX 1024
void custody_command_line(char *buf, size_t n);

/*
 * Re-reads the selected records from the archives, has the daemon seal a
 * CUSTODY record binding the selection, takes the checkpoint that covers it,
 * verifies the chain from the root key while computing every proof in one
 * pass, and writes the bundle. Prints progress and errors; returns 0 or 1.
 */
int export_bundle(ExportOptions *o);

/*
 * The consistency proof from old_cp's tree to new_cp's (RFC 9162), computed from the
 * archives verified from the root key, and checked against both roots. 0 or 1 (printed).
 */
int export_consistency(ExportOptions *o, const LsCheckpoint *old_cp, const LsCheckpoint *new_cp,
                       uint8_t proof[][LS_HASH_LEN], unsigned *ret_count);
