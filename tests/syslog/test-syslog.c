/* SPDX-License-Identifier: Apache-2.0 */
/* test-syslog: RFC 6587 framing at every split point, and RFC 5424 / 3164 parsing by hand */
#include "test-syslog.h"
#include "tu-check.h"

static Suite *suite(void)
{
        Suite *s = suite_create("syslog");
        TCase *tf = tcase_create("framing"), *tp = tcase_create("parsing");

        tcase_set_timeout(tf, 300);
        suite_add_framing(tf);
        suite_add_tcase(s, tf);

        suite_add_rfc5424(tp);
        suite_add_rfc3164(tp);
        suite_add_tcase(s, tp);
        return s;
}

int main(void)
{
        return tu_run_suite(suite());
}
