#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The attacker's side of issue 12 (tests/forgery/README.md). Real logseald appliances produce the
# evidence; a signing key file copied while its epoch was current plays the backup the attacker
# recovered; tests/forgery/forge (formats library) writes byte-valid forgeries from both; the real
# logseal-verify must give every forgery and every genuine control its class (exit code) and say
# why (a phrase of the finding).
#
# Cases that the verifier does not pass yet are in PENDING: they print "not ok ... # TODO XFAIL
# item N: why" and do not fail the run; a PENDING case that passes prints "ok ... # TODO XPASS"
# and fails the run (meson counts an unexpected pass as a failure): remove it from PENDING in the
# commit that fixes it.
#
# usage: test-forgery.py BUILD_DIR SRC_DIR [--keep DIR]   (also LOGSEAL_FORGERY_KEEP=DIR)
# The helpers are in forgerylib.py, the appliances and the cases in forgery_cases.py.
import os
import shutil
import signal
import sys

from forgerylib import APPS, JOBS_DIFF, JOBS_RUNS, KEEP, RESULTS, WORK, t, tmp
from forgery_cases import (appliance_a, appliance_b, appliance_c, appliance_d, cases_a,
                           cases_a_close, cases_b, cases_c, cases_d)

status = 1
try:
    a, stolen, key1, old, new, abundle, ahist = appliance_a()
    cases_a(a, stolen, old, new, abundle, ahist)
    cases_a_close(a, stolen, key1, old, new, abundle, ahist)
    b, bkey, bhist = appliance_b(a)
    cases_b(a, ahist, b, bkey, bhist)
    c, cstolen, crev, cold, cnew, cold_revoked, chist, ck0 = appliance_c()
    cases_c(c, cstolen, crev, cold, cnew, cold_revoked, chist, ck0)
    d, root2, dbundle = appliance_d()
    cases_d(d, root2, dbundle)
    t.check("jobs", f"--jobs 1, 4 and the default say the same in all {JOBS_RUNS[0]} verifications",
            JOBS_RUNS[0] > 0 and not JOBS_DIFF, "\n".join(JOBS_DIFF[:20]))
    t.diag("today's results (case: exit, first lines said):")
    for cid, rc, lines in RESULTS:
        t.diag(f"  {cid}: exit {rc}: " + " | ".join(lines)[:400])
    status = t.done()
except Exception as e:  # a harness failure is a failure, with the daemon logs
    import traceback
    t.check("harness", "the appliances and forgeries were made", False,
            traceback.format_exc() + "".join(f"\n--- {x.name} log:\n" + x.logtext()[-1500:]
                                            for x in APPS))
    status = t.done() or 1
finally:
    for x in APPS:
        if KEEP:
            if x.proc and x.proc.poll() is None:
                x.proc.send_signal(signal.SIGTERM)
                x.proc.wait(timeout=60)
            shutil.copytree(x.state, os.path.join(WORK, "state-" + x.name), dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.sock"))
        x.close()
    if tmp:
        tmp.cleanup()
sys.exit(status)
