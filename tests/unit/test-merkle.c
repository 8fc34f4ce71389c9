/* SPDX-License-Identifier: Apache-2.0 */
/* test-merkle.c: RFC 9162 tree hashes, inclusion and consistency proofs, proof encodings */
#include "test-merkle.h"

static Suite *merkle_suite(void)
{
        Suite *s = suite_create("merkle");

        suite_add_tcase(s, tcase_tree());
        suite_add_tcase(s, tcase_inclusion());
        suite_add_tcase(s, tcase_consistency());
        suite_add_tcase(s, tcase_encoding());
        return s;
}

int main(void)
{
        SRunner *sr;
        int failed;

        if (sodium_init() < 0)
                return 99;

        sr = srunner_create(merkle_suite());
        srunner_run_all(sr, CK_ENV);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        free_all();
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
