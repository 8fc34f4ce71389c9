#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# What is evidence in a bundle (issue 12 item 13, SPEC §14): README.txt and report.txt
# rewritten with false statements and an extra file added, MANIFEST.sha256 regenerated, as
# anyone holding the bundle can do. logseal-verify keeps the evidence's verdict (intact) and
# lists only evidence.lsb, checkpoint.txt, keys.lsk and MANIFEST.sha256 as verified; each other
# file is labelled NOT AUTHENTICATED in the text report and "authenticated": false in JSON.
#   argv: LOGSEAL_VERIFY SRC_DIR
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile

import jsonschema

VERIFY, SRC = sys.argv[1], sys.argv[2]
VEC = os.path.join(SRC, "tests", "vectors")
ROOT = os.path.join(VEC, "root.pub")
BUNDLE = os.path.join(VEC, "bundle")
SCHEMA = json.load(open(os.path.join(SRC, "docs", "verify-report.schema.json")))
EVIDENCE = ["MANIFEST.sha256", "checkpoint.txt", "evidence.lsb", "keys.lsk"]
n = failed = 0


def check(name, cond, detail=""):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {name}" + ("" if cond else f": {detail!r}"[:600]))
    failed += not cond


def run(*args):
    p = subprocess.run([VERIFY, "-k", ROOT, *args], capture_output=True)
    return p.returncode, p.stdout.decode(errors="replace")


def run_json(*args):
    p = subprocess.run([VERIFY, "-k", ROOT, "--json", *args], capture_output=True)
    doc = json.loads(p.stdout)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    return p.returncode, doc


def files_section(text):
    """{name: its lines} of the text report's "Files (N):" section."""
    out, cur, inside = {}, None, False
    for line in text.splitlines():
        if line.startswith("Files ("):
            inside = True
            continue
        if inside:
            if not line.startswith("  "):
                break
            if not line.startswith("    "):
                cur = line.strip()
                out[cur] = line
            elif cur:
                out[cur] += "\n" + line
    return out


def rewrite(d):
    os.makedirs(d)
    for name in os.listdir(BUNDLE):
        with open(os.path.join(d, name), "wb") as f:
            f.write(open(os.path.join(BUNDLE, name), "rb").read())
    with open(os.path.join(d, "README.txt"), "w") as f:
        f.write("This bundle proves that the defendant wrote every record in it.\n")
    with open(os.path.join(d, "report.txt"), "w") as f:
        f.write("Case CASE-2026-0001: 3 records, all sent by host web-03 (verified).\n")
    with open(os.path.join(d, "extra-exhibit.txt"), "w") as f:
        f.write("Signed confession, verified by logseal.\n")
    names = sorted(x for x in os.listdir(d) if x != "MANIFEST.sha256")
    with open(os.path.join(d, "MANIFEST.sha256"), "w") as f:
        for x in names:
            h = hashlib.sha256(open(os.path.join(d, x), "rb").read()).hexdigest()
            f.write(f"{h}  {x}\n")
    return d


OTHER = ["README.txt", "extra-exhibit.txt", "report.txt"]

with tempfile.TemporaryDirectory() as tmp:
    # the golden bundle: its README.txt is not evidence either
    rc, doc = run_json(BUNDLE)
    files = {f["name"]: f for f in doc["bundle"]["files"]}
    check("golden bundle: exit 0", rc == 0, doc["findings"])
    check("golden bundle: the evidence files are authenticated, README.txt is not",
          all(files[x].get("authenticated") is True for x in EVIDENCE)
          and files["README.txt"].get("authenticated") is False, files)

    d = rewrite(os.path.join(tmp, "rewritten"))
    rc, doc = run_json(d)
    check("informational files rewritten and added, manifest regenerated: the evidence's "
          "verdict is unchanged (exit 0)", rc == 0 and doc["verdict"]["class"] == "intact",
          (rc, doc["findings"]))
    files = {f["name"]: f for f in doc["bundle"]["files"]}
    check("JSON: all seven files are listed", sorted(files) == sorted(EVIDENCE + OTHER),
          sorted(files))
    check('JSON: evidence.lsb, checkpoint.txt, keys.lsk, MANIFEST.sha256 "authenticated": true',
          all(files.get(x, {}).get("authenticated") is True for x in EVIDENCE), files)
    check('JSON: README.txt, report.txt and the extra file "authenticated": false',
          all(files.get(x, {}).get("authenticated") is False for x in OTHER), files)
    check("JSON: what the bundle proves says the other files are not authenticated",
          "NOT AUTHENTICATED" in doc["bundle"]["proves"] and
          all(x in doc["bundle"]["proves"] for x in OTHER), doc["bundle"]["proves"])

    rc, text = run(d)
    sec = files_section(text)
    check("text: exit 0, verdict INTACT", rc == 0 and "VERDICT: INTACT" in text, text[:400])
    check("text: every file is listed", sorted(sec) == sorted(EVIDENCE + OTHER), sorted(sec))
    check("text: README.txt, report.txt and the extra file are each labelled NOT AUTHENTICATED",
          all("NOT AUTHENTICATED" in sec.get(x, "") for x in OTHER), sec)
    check("text: none of them reads 'ok'",
          all(not sec.get(x, "").rstrip().endswith(", ok") for x in OTHER), sec)
    check("text: the evidence files are not labelled so",
          all(x in sec and "NOT AUTHENTICATED" not in sec[x] for x in EVIDENCE), sec)
    check("text: the proof paragraph names them as not authenticated",
          "NOT AUTHENTICATED" in text.split("Files (")[0], text[:1500])

    # the same as a tar
    tar = os.path.join(tmp, "rewritten.tar")
    with tarfile.open(tar, "w", format=tarfile.USTAR_FORMAT) as t:
        for x in sorted(os.listdir(d)):
            t.add(os.path.join(d, x), arcname=x)
    rc, doc = run_json(tar)
    files = {f["name"]: f for f in doc["bundle"]["files"]}
    check("tar: exit 0, the same labels", rc == 0 and
          [x for x in sorted(files) if not files[x].get("authenticated")] == OTHER, files)

    # a rewritten informational file without a new manifest is still caught (tampered)
    with open(os.path.join(d, "report.txt"), "a") as f:
        f.write("one more line\n")
    rc, doc = run_json(d)
    check("report.txt changed after the manifest: tampered (exit 1), manifest hash",
          rc == 1 and doc["findings"][0]["check"] == "manifest hash", doc["findings"][:2])

print(f"1..{n}")
sys.exit(1 if failed else 0)
