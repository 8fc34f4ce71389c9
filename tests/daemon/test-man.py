#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The manual pages against the programs' own help (issue 13 item 7): every command that
# `logsealctl --help` lists has a line in logsealctl(8)'s SYNOPSIS and a section in its
# COMMANDS, and every long option that `logsealctl COMMAND --help` lists (help and parsing
# share the command's option table) is in that section; every long option that
# `logseal-verify --help` lists is in logseal-verify(1)'s OPTIONS.
# usage: test-man.py LOGSEALCTL LOGSEAL_VERIFY SOURCE_DIR
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from daemonlib import Tap  # noqa: E402

CTL, VERIFY, SRC = sys.argv[1:4]
t = Tap()


def run(*argv):
    p = subprocess.run(argv, capture_output=True, text=True)
    return p.returncode, p.stdout


def sections(text):
    """'# NAME' -> its lines."""
    out, cur = {}, None
    for line in text.splitlines():
        if line.startswith("# "):
            cur = line[2:].strip()
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return out


def long_options(help_text):
    """The long options of the lines of an Options list (not --help, --version)."""
    opts = []
    for line in help_text.splitlines():
        m = re.match(r"\s+(?:-\w, )?((?:--[a-z][a-z-]*(?:\[?=?\S*)?(?:, )?)+)", line)
        if m:
            opts += [o for o in re.findall(r"--([a-z][a-z-]*)", m.group(1))
                     if o not in ("help", "version")]
    return opts


def commands(help_text):
    """The commands of `logsealctl --help`: "init", "key list", ..."""
    verbs, inside = [], False
    for line in help_text.splitlines():
        if line.startswith("Commands:"):
            inside = True
        elif inside and line and not line.startswith(" "):
            break
        elif inside and re.match(r"  [a-z]", line):
            words = []
            for w in line.split():
                if not re.fullmatch(r"[a-z][a-z-]*", w):
                    break
                words.append(w)
            verbs.append(" ".join(words))
    return verbs


man = open(os.path.join(SRC, "docs", "man", "logsealctl.8.scd")).read()
sec = sections(man)
rc, top = run(CTL, "--help")
verbs = commands(top)
t.check("logsealctl --help lists its commands", rc == 0 and len(verbs) >= 14, verbs)

# COMMANDS: a section per command, opened by a line "*VERB* ..." at the start of a line
cmd_sections, cur = {}, None
for line in sec.get("COMMANDS", []):
    m = re.match(r"\*([a-z][a-z -]*)\*", line)
    if m:
        cur = m.group(1)
        cmd_sections[cur] = []
    elif line and not line[0].isspace():
        cur = None
    if cur:
        cmd_sections[cur].append(line)
synopsis = "\n".join(sec.get("SYNOPSIS", []))

for v in verbs:
    t.check(f"logsealctl(8) SYNOPSIS has a line for '{v}'",
            re.search(r"^\*logsealctl\* \*%s\*" % re.escape(v), synopsis, re.M), synopsis)
    body = "\n".join(cmd_sections.get(v, []))
    t.check(f"logsealctl(8) COMMANDS has a section for '{v}'", body, sorted(cmd_sections))
    rc, out = run(CTL, *v.split(), "--help")
    opts = long_options(out.split("Options:", 1)[-1])
    t.check(f"logsealctl {v} --help: exit 0, its own usage", rc == 0 and
            out.startswith(f"Usage: logsealctl {v}"), out)
    missing = [o for o in opts if f"*--{o}*" not in body]
    t.check(f"logsealctl(8) '{v}' documents every option of its --help ({len(opts)})",
            body and not missing, missing)
t.check("logsealctl(8) SYNOPSIS: nothing but command lines",
        all(not l or l.startswith("*logsealctl*") for l in sec.get("SYNOPSIS", [])),
        [l for l in sec.get("SYNOPSIS", []) if l and not l.startswith("*logsealctl*")])
t.check("logsealctl(8): no section for a command that does not exist",
        not set(cmd_sections) - set(verbs), set(cmd_sections) - set(verbs))

vman = sections(open(os.path.join(SRC, "docs", "man", "logseal-verify.1.scd")).read())
rc, out = run(VERIFY, "--help")
opts = long_options(out)
t.check("logseal-verify --help lists its options", rc == 0 and len(opts) >= 10, opts)
body = "\n".join(vman.get("OPTIONS", []))
missing = [o for o in opts if f"*--{o}*" not in body]
t.check(f"logseal-verify(1) OPTIONS documents every option of --help ({len(opts)})",
        not missing, missing)
sys.exit(t.done())
