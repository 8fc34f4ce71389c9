#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# docs/HACKING.md's map of the tree against the tree (issue 15 item 5): every path the map
# names exists (a directory when it ends in "/"), every directory holding sources (C, headers,
# Python, shell, meson.build) is in the map, and so is every daemon/*.c and daemon/*.h (the
# pipeline the map walks through). The map is the fenced block after "## The map"; its unindented
# lines start with a path from the top of the tree, indented lines continue a description.
# usage: check-hacking-map.py SOURCE_DIR
import os
import sys

src = sys.argv[1]
n = 0
failed = 0


def check(ok, what):
    global n, failed
    n += 1
    print(("ok %d - " if ok else "not ok %d - ") % n + what)
    if not ok:
        failed += 1


def map_paths():
    path = os.path.join(src, "docs", "HACKING.md")
    try:
        text = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        return None, str(e)
    paths, inmap, fenced = [], False, False
    for line in text:
        if line.startswith("## "):
            inmap = line.strip() == "## The map"
            continue
        if inmap and line.startswith("```"):
            if fenced:
                break
            fenced = True
            continue
        if inmap and fenced and line and not line[0].isspace():
            paths.append(line.split()[0])
    return paths, None


SOURCE_EXT = (".c", ".h", ".py", ".sh")


def source_dirs():
    dirs = []
    for root, subdirs, files in os.walk(src):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and not d.startswith("build")
                            and d != "subprojects" and d != "__pycache__")
        rel = os.path.relpath(root, src)
        if rel == ".":
            continue
        if any(f.endswith(SOURCE_EXT) or f == "meson.build" for f in files):
            dirs.append(rel + "/")
    return dirs


paths, err = map_paths()
check(paths is not None and len(paths) > 0,
      "docs/HACKING.md has a map (a fenced block after '## The map')" + (": " + err if err else ""))
paths = paths or []
for p in paths:
    full = os.path.join(src, p)
    if p.endswith("/"):
        check(os.path.isdir(full), "the map's directory %s exists" % p)
    else:
        check(os.path.isfile(full), "the map's file %s exists" % p)
named = set(paths)
for d in source_dirs():
    check(d in named, "source directory %s is in the map" % d)
for f in sorted(os.listdir(os.path.join(src, "daemon"))):
    if f.endswith((".c", ".h")):
        check("daemon/" + f in named, "daemon/%s is in the map" % f)
print("1..%d" % n)
sys.exit(1 if failed else 0)
