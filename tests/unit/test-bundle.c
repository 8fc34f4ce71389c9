/* SPDX-License-Identifier: Apache-2.0 */
/* test-bundle: the golden evidence bundle verifies; every kind of tampering is caught by its check */
#include "test-bundle.h"
#include "tu-check.h"

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
        return tu_run_suite(suite());
}
