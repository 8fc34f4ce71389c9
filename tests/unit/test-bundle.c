/* SPDX-License-Identifier: Apache-2.0 */
/* test-bundle: the golden evidence bundle verifies; every kind of tampering is caught by its check */
#include "test-bundle.h"

static Suite *suite(void)
{
        Suite *s = suite_create("bundle");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 600);
        suite_add_tamper(tc);
        suite_add_keys(tc);
        suite_add_bytes(tc);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        int failed;

        if (sodium_init() < 0)
                return 1;
        srunner_run_all(sr, CK_ENV);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
