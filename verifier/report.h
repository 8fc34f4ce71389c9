/* SPDX-License-Identifier: Apache-2.0 */
/* report.h: what logseal-verify found, as text for people and as versioned JSON */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "chain-verify.h"
#include "rfc3339.h"

#define REPORT_SCHEMA "logseal-verify-report/1"
#define REPORT_MAX_FINDINGS 10000
#define REPORT_MAX_EVENTS 100000

typedef struct Event {
        uint16_t type;
        uint64_t seq, batch_no, time_ns;
        char *file;
        uint8_t *body;         /* the control body, validated */
        size_t body_len;
} Event;

typedef enum CheckpointResult {
        CP_CONSISTENT,          /* the evidence contains this checkpoint's tree */
        CP_FORK,                /* same size, other root: history rewritten */
        CP_MISSING_TAIL,        /* the evidence ends before this checkpoint */
        CP_UNVERIFIED,          /* its signature could not be checked */
        CP_NOT_REACHED,         /* evidence starts after it: nothing to compare */
} CheckpointResult;

typedef struct CheckpointCheck {
        char *file;
        uint64_t tree_size, batch_no;
        CheckpointResult result;
        uint64_t missing_records;
        char detail[256];
} CheckpointCheck;

typedef struct Report {
        const char *case_id, *examiner, *root_key_file;
        char root_fingerprint[LS_FINGERPRINT_LEN];
        uint8_t root_key_id[LS_KEY_ID_LEN];
        uint64_t started_ns, finished_ns;
        int have_chain;
        uint8_t chain_id[LS_CHAIN_ID_LEN];

        LsArchiveSummary *archives;
        size_t narchives;
        LsFinding *findings;
        size_t nfindings;
        uint64_t findings_total;
        Event *events;
        size_t nevents;
        uint64_t events_total;
        uint64_t event_counts[LS_CTL_MAX + 2];   /* last slot: unknown types */
        CheckpointCheck *checkpoints;
        size_t ncheckpoints;
        LsKeyInfo *keys;
        size_t nkeys;
        LsVerifyStats stats;
        LsClass verdict;
        char limit[512];        /* what the verdict cannot exclude, given the inputs (SPEC §11.1) */
        int upto;               /* --upto: the verdict covers the evidence up to a checkpoint */
        uint64_t heartbeat_gaps;
} Report;

void report_init(Report *r);
void report_free(Report *r);
/* Forgets what was found, keeps what the command line set (case, examiner, anchor, start). */
void report_restart(Report *r);
int report_add_finding(Report *r, const LsFinding *f);
int report_add_archive(Report *r, const LsArchiveSummary *s);
int report_add_event(Report *r, const LsBatchHeader *h, const LsRecord *rec, const char *file);
int report_add_checkpoint(Report *r, const CheckpointCheck *c);
/* A copy of the keys the evidence taught (-ENOMEM: none). */
int report_set_keys(Report *r, const LsKeyInfo *keys, size_t n);
/* The verdict becomes the worst class among the findings, if that is worse. */
void report_raise_verdict(Report *r);

void report_write_text(const Report *r, FILE *f);
/* The opening lines of a text report: title, times, case, examiner, trust anchor. */
void report_write_text_head(const Report *r, FILE *f, const char *title);
/* The "Findings (N):" section of the text report (also used for bundles). */
void report_write_findings_text(const Report *r, FILE *f);
int report_write_json(const Report *r, FILE *f);

/* Shared helpers for the dump output (times: ls_time_format, rfc3339.h). */
/* Text of a sender or a case field, escaped (ls_text_write) for a quoted value: a '"' of
 * the text is \x22, so that the quotes around it cannot be faked. */
void text_write_quoted(FILE *f, const uint8_t *p, size_t n);
/* JSON values shared by the report writers: hex of at most 64 bytes; LS_UNSET as null. */
json_t *json_hex(const uint8_t *p, size_t n);
json_t *json_u64(uint64_t v);
