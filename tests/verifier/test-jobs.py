#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# logseal-verify --jobs N says byte for byte what --jobs 1 says: exit code, stdout, stderr, the
# text report and the JSON report (only the Started/Finished clock readings may differ), over the
# vectors' forgery table (tests/vectors/forgeries.txt: intact, tampered, gap, partial, revoked,
# forged), byte flips and truncations of real archives, --dump and the evidence bundle.
#
# usage: test-jobs.py LOGSEAL_VERIFY SRC_DIR
import os
import re
import shutil
import subprocess
import sys
import tempfile

VERIFY, SRC = sys.argv[1], sys.argv[2]
VEC = os.path.join(SRC, "tests", "vectors")
ROOT = os.path.join(VEC, "root.pub")
JOBS = ("2", "4", "7")
CLOCK = re.compile(r'^(Started|Finished):\s+\S+$|"(started|finished)": "[^"]*"', re.M)
count = failures = 0
tmp = tempfile.mkdtemp(prefix="logseal-jobs-")


def check(name, cond, detail=""):
    global failures, count
    count += 1
    print(("ok" if cond else "not ok") + f" {count} - {name}")
    if not cond:
        failures += 1
        for line in str(detail).splitlines()[:40]:
            print("# " + line)


def run(jobs, args):
    """Everything the verifier says with --jobs jobs, clock readings masked."""
    rep = os.path.join(tmp, f"report-{jobs}")
    for f in (rep, rep + ".json"):
        if os.path.exists(f):
            os.unlink(f)
    p = subprocess.run([VERIFY, "--jobs", jobs, "--report", rep, *args], capture_output=True,
                       timeout=300)
    out = [f"exit {p.returncode}", p.stdout.decode(errors="replace"),
           p.stderr.decode(errors="replace")]
    for f in (rep, rep + ".json"):
        out.append(open(f, errors="replace").read() if os.path.exists(f) else "(none)")
    return p.returncode, CLOCK.sub("CLOCK", "\n=====\n".join(out))


def first_diff(a, b):
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}:\n1 job: {x}\nN jobs: {y}"
    return f"lengths differ: {len(la)} vs {len(lb)} lines"


def same(name, args, want_rc=None):
    rc, seq = run("1", args)
    if want_rc is not None and rc not in want_rc:
        check(f"{name}: exit {rc} as expected", False, seq[:2000])
        return
    for j in JOBS:
        _, par = run(j, args)
        check(f"{name}: --jobs {j} says what --jobs 1 says", par == seq, first_diff(seq, par))


CLASSES = {"intact": 0, "tampered": 1, "error": 2, "gap": 3, "partial": 4, "revoked": 5}

# 1. every case of the vectors' forgery table, with the key file it names
for line in open(os.path.join(VEC, "forgeries.txt")):
    if not line.strip() or line.startswith("#"):
        continue
    name, files, extra, cls, _ = line.rstrip("\n").split("|")
    args = ["--root-key", ROOT]
    if extra != "-" and extra.endswith(".lsk"):
        args += ["--keys", os.path.join(VEC, extra)]
    elif extra != "-":
        continue  # a bare certificate: only the library takes it (test-archive)
    args += [os.path.join(VEC, f) for f in files.split(",")]
    same(f"vectors {name} ({cls})", args, {CLASSES[cls]})
    same(f"vectors {name} (--json)", ["--json", *args])

A = sorted(os.path.join(VEC, f) for f in os.listdir(VEC) if f.startswith("chain-"))
F2 = os.path.join(VEC, "format2")
F2A = sorted(os.path.join(F2, f) for f in os.listdir(F2) if f.startswith("chain-"))

# 2. --dump, with and without a range, and -q
same("dump raw", ["--root-key", ROOT, "--dump", *A], {0})
same("dump json", ["--root-key", ROOT, "--dump=json", *A], {0})
same("dump json, sequence range", ["--root-key", ROOT, "--dump=json", "--seq", "3-11", *A], {0})
same("quiet", ["--root-key", ROOT, "-q", *F2A], {0})
same("format 2 with checkpoints", ["--root-key", ROOT, "--keys", os.path.join(F2, "history.lsk"),
                                   "--checkpoint", os.path.join(F2, "current.checkpoint"), *F2A])

# 3. tampered, truncated and damaged copies of real archives: flips across every structure
work = os.path.join(tmp, "flip")
os.makedirs(work)
for src in (A[0], F2A[1]):
    data = open(src, "rb").read()
    base = os.path.basename(src)
    others = [f for f in (A if src in A else F2A) if f != src]
    step = max(1, len(data) // 23)
    for pos in list(range(0, len(data), step)) + [len(data) - 1]:
        mutant = bytearray(data)
        mutant[pos] ^= 0x5A
        dst = os.path.join(work, base)
        open(dst, "wb").write(mutant)
        files = sorted(others + [dst], key=os.path.basename)
        same(f"{base} byte {pos} flipped", ["--root-key", ROOT, *files])
    for cut in (len(data) // 3, len(data) - 7):
        dst = os.path.join(work, base)
        open(dst, "wb").write(data[:cut])
        files = sorted(others + [dst], key=os.path.basename)
        same(f"{base} truncated to {cut} bytes", ["--root-key", ROOT, "--json", *files])

# 4. a gap: the middle archive of three missing; the evidence bundle
same("format 2, archive 1 missing (gap)", ["--root-key", ROOT, F2A[0], F2A[2]])
same("bundle", ["--root-key", ROOT, os.path.join(VEC, "bundle")], {0})
same("bundle, dump", ["--root-key", ROOT, "--dump=json", os.path.join(VEC, "bundle")], {0})

# 5. tampered and truncated copies of the bundle's evidence (entries, records, proofs)
bdir = os.path.join(tmp, "bundle")
shutil.copytree(os.path.join(VEC, "bundle"), bdir)
ev = os.path.join(bdir, "evidence.lsb")
data = open(ev, "rb").read()
step = max(1, len(data) // 29)
for pos in list(range(0, len(data), step)) + [len(data) - 1]:
    mutant = bytearray(data)
    mutant[pos] ^= 0x21
    open(ev, "wb").write(mutant)
    same(f"bundle evidence byte {pos} flipped", ["--root-key", ROOT, "--dump=json", bdir])
for cut in (len(data) // 2, len(data) - 3):
    open(ev, "wb").write(data[:cut])
    same(f"bundle evidence truncated to {cut} bytes", ["--root-key", ROOT, "--json", bdir])

shutil.rmtree(tmp)
print(f"1..{count}")
sys.exit(1 if failures else 0)
