/* SPDX-License-Identifier: Apache-2.0 */
/* test-trust: the key trust rules of SPEC §9.3 and §9.4, one by one, through the ls_trust_* API */
#include "test-trust.h"
#include "tu-check.h"

/*
 * Every rule is tested with the forgery and with the genuine case next to it, so that a test
 * passes neither because the module accepts everything nor because it refuses everything.
 *
 * The fixture: one root (generation 0) and two later root generations; chain A with epochs
 * 0, 1, 2 (keys a0, a1, a2; a1 valid from batch 3, a2 from batch 6, each handed over by its
 * predecessor, all with the CLOSED flag), chain B with epochs 0 and 1 (b0, b1; b1 valid from
 * batch 3), a rogue key x nobody certified. Batch b of chain A holds records 2b and 2b+1 and is
 * dated TU_T0 + b seconds; batches 0-2 are signed by a0, 3-5 by a1, 6-8 by a2. close0 (signed
 * by a1) and close1 (signed by a2) close epochs 0 and 1.
 *
 * The tests under "found by this suite" (test-trust-history.c) were deviations of the module
 * from SPEC §9.3/§9.4 that this suite found (registered then only with LOGSEAL_KNOWN_BUGS=1);
 * the module is fixed. The fixture and helpers are in test-trust-fixture.c, the tests in
 * test-trust-chains.c, test-trust-closes.c and test-trust-history.c (test-trust.h).
 */

static Suite *suite(void)
{
        Suite *s = suite_create("trust");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 300);
        suite_add_chains(tc);
        suite_add_closes(tc);
        suite_add_history(tc);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        int r;

        if (sodium_init() < 0)
                return 1;
        fixture_init();
        r = tu_run_suite(suite());
        fixture_free();
        return r;
}
