/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-encoding: every byte format of formats/SPEC.md round trips, and every
 * truncation, extension, bound and malformation is rejected with the error
 * class of SPEC §1. Expected values are computed from the SPEC text with
 * libsodium primitives, not with the library under test. The tests are in
 * test-encoding-*.c, one file per format (test-encoding.h).
 */
#include "test-encoding.h"
#include "tu-check.h"

static Suite *suite(void)
{
        Suite *s = suite_create("encoding");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60);
        suite_add_hash(tc);
        suite_add_record(tc);
        suite_add_control(tc);
        suite_add_batch_archive(tc);
        suite_add_keys(tc);
        suite_add_checkpoint(tc);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
