/* SPDX-License-Identifier: Apache-2.0 */
/* rfc3339.h: times as people type and read them (RFC 3339 UTC, nanoseconds since the epoch) */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * TIME: "@NANOSECONDS", or RFC 3339 "YYYY-MM-DDTHH:MM:SS[.F]Z" with 1-9 fractional digits,
 * "t"/"z"/" " accepted as RFC 3339 allows, or a numeric offset "+HH:MM"/"-HH:MM" instead of
 * "Z"; from 1970 on. A leap second (:60) reads as :59 (SPEC §1: not counted). 0 or -EINVAL.
 */
int ls_time_parse(const char *s, uint64_t *ret);

/* "YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ" (what ls_time_parse reads back); "-" for UINT64_MAX (not
 * set). cap of LS_TIME_MAX bytes always suffices. */
#define LS_TIME_MAX 40
void ls_time_format(char *out, size_t cap, uint64_t ns);
