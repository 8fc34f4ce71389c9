/* SPDX-License-Identifier: Apache-2.0 */
/* test-merkle.c: RFC 9162 tree hashes, inclusion and consistency proofs, proof encodings */
#include "test-merkle.h"
#include "tu-check.h"

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
        int r = tu_run_suite(merkle_suite());

        free_all();
        return r;
}
