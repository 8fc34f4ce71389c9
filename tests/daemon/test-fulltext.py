#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Full-text search: with [index] fulltext = yes the daemon's index holds the message words
# (SQLite FTS5); `logsealctl query --match` finds exactly the messages holding the text, checked
# against the archive's bytes; without it, --match says how to enable it; --grep scans.
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Appliance, Tap  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
t = Tap()
app = Appliance(BUILD, extra_conf="[index]\nfulltext = yes\n")
plain = Appliance(BUILD)


def send(a, msgs):
    s = socket.create_connection(("127.0.0.1", a.port))
    s.sendall(b"".join(b"%d %s" % (len(m), m) for m in msgs))
    s.close()


def query(a, *args):
    return subprocess.run([a.ctl(), "query", "--state-dir", a.state, *args], capture_output=True)


msgs = [b"<13>1 - web01 nginx - - - GET /index.html 200 client=10.0.0.%d" % i for i in range(200)]
msgs += [b"<86>1 - db02 sshd - - - Failed password for root from 203.0.113.9 port 4242",
         b"<86>1 - db02 sshd - - - FAILED PASSWORD for admin from 203.0.113.9 port 4243",
         b"<86>1 - db03 sshd - - - Accepted password for deploy from 198.51.100.4"]
try:
    app.start()
    plain.start()
    send(app, msgs)
    send(plain, msgs)
    deadline = time.time() + 30
    while time.time() < deadline and not query(app, "--match", "Accepted").stdout:
        time.sleep(0.2)
    p = query(app, "--match", "failed password")
    got = p.stdout.splitlines()
    t.check("--match finds the messages holding the words, case-insensitively",
            p.returncode == 0 and got == [msgs[200], msgs[201]], got)
    p = query(app, "--match", "203.0.113.9 port 4243")
    t.check("a text with several tokens narrows to the exact text",
            p.stdout.splitlines() == [msgs[201]], p.stdout)
    p = query(app, "--match", "password", "--host", "db03")
    t.check("combined with other filters", p.stdout.splitlines() == [msgs[202]], p.stdout)
    p = query(app, "--match", 'x" OR "GET')
    t.check("FTS5 syntax in the text means nothing", p.returncode == 0 and p.stdout == b"",
            (p.returncode, p.stdout[:200], p.stderr))
    p = query(app, "--match", "nothinglikethis")
    t.check("no match, no output", p.returncode == 0 and p.stdout == b"", p.stderr)
    p = query(plain, "--match", "password")
    t.check("without the full-text index --match says how to enable it",
            p.returncode != 0 and b"fulltext" in p.stderr, p.stderr)
    p = query(plain, "--grep", "FAILED PASSWORD")
    t.check("--grep scans the archives (exact bytes)", p.stdout.splitlines() == [msgs[201]],
            p.stdout)
    rc = app.stop()
    t.check("clean stop", rc == 0)
    p = subprocess.run([app.ctl(), "reindex", "--state-dir", app.state], capture_output=True)
    p = query(app, "--match", "failed password")
    t.check("reindex rebuilds the full-text index too",
            p.stdout.splitlines() == [msgs[200], msgs[201]], (p.stdout, p.stderr))
finally:
    if t.failed:
        print("# logseald log:\n# " + app.logtext()[-2000:].replace("\n", "\n# "))
    app.close()
    plain.close()
sys.exit(t.done())
