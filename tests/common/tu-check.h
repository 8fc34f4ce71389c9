/* SPDX-License-Identifier: Apache-2.0 */
/* tu-check.h: the main() of a Check unit test (header only: testutil itself needs no Check) */
#pragma once

#include <check.h>
#include <sodium.h>

/* Initialises libsodium, runs every test of s (output as CK_ENV says: TAP under meson) and
 * frees it: the process's exit status, 0 when every test passed. */
static inline int tu_run_suite(Suite *s)
{
        SRunner *sr;
        int failed;

        if (sodium_init() < 0)
                return 99;
        sr = srunner_create(s);
        srunner_run_all(sr, CK_ENV);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
