/* SPDX-License-Identifier: Apache-2.0 */
/* test-vectors.h: what the parts of test-vectors share: the report, comparisons, peer cases */
#pragma once

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "framing.h"
#include "parse.h"

#define SYSLOG_NG_NOW 1549615069 /* the "now" of syslog-ng's test_msgparse.c */

typedef enum Verdict { AGREE, DISAGREE, NA } Verdict;

typedef struct Report {
        char *text; /* disagreement lines */
        size_t len, cap;
        const char *case_id;
        int ndis;       /* disagreements in the current case */
        const char *na; /* reason the current case is not comparable */
} Report;

/* test-vectors-compare.c: the report of the current file and its disagreements */
extern Report R;
void report_add(const char *fmt, ...);
/* README escaping: 0x20-0x7e literal except '\', \t \n \r, else \xHH. */
char *escape(const uint8_t *p, size_t n, size_t max);
void dis(const char *field, const char *expected, const char *got);
void dis_int(const char *field, long long expected, long long got);
size_t unhex(const char *h, uint8_t **ret);
char *span_str(const uint8_t *p, LsSpan s);
/* expected: NULL or "" = absent. */
void cmp_span(const char *field, const char *expected, const uint8_t *p, LsSpan s);
void cmp_json_span(const char *field, json_t *v, const uint8_t *p, LsSpan s);
/* MSG as peers keep it: go-syslog and the RFC file keep a BOM in it. */
void cmp_msg_with_bom(const char *field, const char *expected, const uint8_t *p,
                      const LsSyslogMsg *m);
void fmt_time(char *buf, size_t cap, const LsSyslogMsg *m);
/* Wall clock of the message (local to its offset) and its fraction. */
bool our_wall(const LsSyslogMsg *m, struct tm *tm, uint32_t *frac);
void cmp_time_rfc3339(const char *field, const char *expected, const LsSyslogMsg *m);
/* Month, day and time only (peers without a year, or BSD timestamps). */
void cmp_wall(const char *field, const char *expected, int mon, int day, int h, int mi, int s,
              const LsSyslogMsg *m);

/* test-vectors-compare.c: STRUCTURED-DATA as peers describe it */
typedef struct SdPair {
        char *name; /* ".SDATA.id.param" (syslog-ng naming); ".SDATA.id" for no params */
        char *id, *param, *value;
} SdPair;

typedef struct SdList {
        SdPair *v;
        size_t n;
        int nelems;
        bool ok;
} SdList;

SdList sd_collect(const uint8_t *p, size_t n, LsSpan sd);
void sd_free(SdList *l);
const SdPair *sd_find(const SdList *l, const char *id, const char *param);
const SdPair *sd_find_name(const SdList *l, const char *name);
/* {"id": {"param": "value"}} (go-syslog, RFC file); elements without params appear as {}. */
void cmp_sd_object(const char *field, json_t *exp, const uint8_t *p, size_t n,
                   const LsSyslogMsg *m);
const char *jstr(json_t *o, const char *k);
bool jhas(json_t *o, const char *k);

/* test-vectors-go.c: go-syslog cases and framing streams */
/* Invalid go-syslog cases whose error column was compared, and those where it was the same. */
extern int stat_col_checked, stat_col_equal;
typedef struct Frame {
        uint8_t *p;
        size_t len;
        uint64_t orig;
        unsigned flags;
} Frame;

typedef struct Frames {
        Frame *v;
        size_t n;
} Frames;

void go_rfc5424(json_t *c, const uint8_t *p, size_t n);
int month_num(const char *s);
void go_rfc3164(json_t *c, const uint8_t *p, size_t n);
Frames frame_all(const uint8_t *p, size_t n, size_t max, size_t chunk);
void frames_free(Frames *fs);
void stream_case(json_t *c, const uint8_t *p, size_t n);

/* test-vectors-loose.c, test-vectors-ng.c, test-vectors-rfc.c: one case of each peer */
void loose_case(json_t *c, const uint8_t *p, size_t n);
/* Parses as syslog-ng in TZ=MET-1METDST would date zoneless stamps. */
void parse_met(const uint8_t *p, size_t n, LsSyslogMsg *m);
void ng_msgparse(json_t *c, const uint8_t *p, size_t n);
void ng_format(json_t *c, const uint8_t *p, size_t n);
void rfc_case(json_t *c, const uint8_t *p, size_t n);
