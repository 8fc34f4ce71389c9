#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# logseal-verify end to end: exit classes, localized findings, reports, JSON schema, key files.
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import jsonschema

VERIFY, SRC = sys.argv[1], sys.argv[2]
VEC = os.path.join(SRC, "tests", "vectors")
SCHEMA = json.load(open(os.path.join(SRC, "docs", "verify-report.schema.json")))
ROOT = os.path.join(VEC, "root.pub")
A = sorted(os.path.join(VEC, f) for f in os.listdir(VEC) if f.startswith("chain-"))
EXPECTED = dict(l.split(" ", 1) for l in open(os.path.join(VEC, "expected.txt")).read().splitlines()
                if l and not l.startswith("#"))
failures = 0
count = 0


def check(name, cond, detail=""):
    global failures, count
    count += 1
    print(("ok" if cond else "not ok") + f" {count} - {name}" + ("" if cond else f": {detail}"))
    if not cond:
        failures += 1


def run(*args, stdin=None):
    p = subprocess.run([VERIFY, *args], capture_output=True, input=stdin)
    return p.returncode, p.stdout, p.stderr


def run_json(*args):
    rc, out, err = run("--json", *args)
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    return rc, doc


jsonschema.Draft202012Validator.check_schema(SCHEMA)

# 1. genuine chain: intact, exhibit hashes equal sha256sum, full key history
rc, doc = run_json("--root-key", ROOT, "--case", "CASE-7", "--examiner", "Ana Ruiz", *A)
check("genuine chain exits 0", rc == 0, rc)
check("genuine chain has no findings", doc["findings"] == [], doc["findings"])
check("report names case and examiner", doc["case"] == "CASE-7" and doc["examiner"] == "Ana Ruiz")
for a in doc["archives"]:
    h = hashlib.sha256(open(a["file"], "rb").read()).hexdigest()
    check(f"archive {a['archive_no']} sha256 matches sha256sum", a["sha256"] == h)
check("three keys: root and two epochs", [k["role"] for k in doc["keys"]] == ["root", "signing", "signing"])
check("root key id matches the vectors", doc["trust_anchor"]["key_id"] == EXPECTED["root_key_id"])
check("epoch 1 certified by epoch 0", doc["keys"][2]["certified_by"] == EXPECTED["epoch0_key_id"])
check("events counted", doc["events"]["counts"]["key-transition"] == 2 and doc["events"]["counts"]["loss"] == 1)
check("14 records verified", doc["chain"]["records_verified"] == 14)

# 2. archives passed in any order, or as a directory copy with other names: same verdict
with tempfile.TemporaryDirectory() as d:
    for i, a in enumerate(reversed(A)):
        with open(os.path.join(d, f"exhibit-{i}.bin"), "wb") as f:
            f.write(open(a, "rb").read())
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not an archive\n")
    rc, doc = run_json("-k", ROOT, d)
    check("renamed copies in a directory verify (identity, not location)", rc == 0, doc["findings"])

# 3. every committed forgery: class and first finding
CLASS_RC = {"intact": 0, "tampered": 1, "error": 2, "gap": 3, "partial": 4, "revoked": 5}
# Lines of forgeries.txt where logseal-verify is known to deviate from SPEC: name -> (the checks
# of that line that fail, reason). They are reported as TAP TODO (an expected failure until
# fixed; meson then reports the unexpected pass, and the entry goes).
KNOWN_BUGS = {}


def limit_covers(limit, first_forged_batch):
    """The LIMIT sentence (SPEC §11.1) admits a rewrite from before the first forged batch."""
    m = re.search(r"after batch (\d+)", limit) or re.search(r"batches (\d+) and later", limit)
    return "cannot be excluded" in limit and m is not None and \
        (int(m.group(1)) < first_forged_batch if "after batch" in m.group(0)
         else int(m.group(1)) <= first_forged_batch)


# the first batch each forgery made with the erased epoch-0 key replaces
FIRST_FORGED = {"format2-after-close-no-history": 2, "format2-rogue-successor-no-history": 2,
                "format2-dated-after-close-no-history": 1}


def todo_check(name, cond, detail, reason):
    global failures, count
    count += 1
    print(("ok" if cond else "not ok") + f" {count} - {name} # TODO {reason}"
          + ("" if cond else f": {detail}"))


def run_json_or_error(*args):
    """Like run_json, but an early exit 2 (no report, a message on stderr) is allowed."""
    rc, out, err = run("--json", *args)
    if rc == 2 and not out.strip():
        return rc, {"findings": [], "stderr": err.decode(errors="replace")}
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    return rc, doc


with tempfile.TemporaryDirectory() as d:
    keys = os.path.join(d, "keys.bin")
    with open(keys, "wb") as f:
        f.write(bytes.fromhex(EXPECTED["cert_epoch0"]) + bytes.fromhex(EXPECTED["cert_epoch1"]))
    for line in open(os.path.join(VEC, "forgeries.txt")):
        if line.startswith("#"):
            continue
        name, files, extra, cls, first = line.rstrip("\n").split("|")
        args = ["-k", ROOT] + (["--keys", keys] if extra == "cert1" else []) + \
            (["--revocations", os.path.join(VEC, extra)] if extra.endswith(".lsk") else [])
        rc, doc = run_json_or_error(*args, *[os.path.join(VEC, f) for f in files.split(",")])
        def chk(n, cond, detail=""):
            bug = KNOWN_BUGS.get(name)
            if bug and any(w in n for w in bug[0]):
                todo_check(n, cond, detail, bug[1])
            else:
                check(n, cond, detail)
        chk(f"forgery {name}: exit {CLASS_RC[cls]}", rc == CLASS_RC[cls],
            (rc, doc["findings"][:2], doc.get("stderr", "")[:200]))
        if name.endswith("-no-history"):
            # made with the erased epoch-0 key, verified from the root key alone: intact says
            # only what SPEC §11.1 allows, and the LIMIT sentence admits a rewrite from before
            # the first batch the forgery replaced
            limit = (doc.get("verdict") or {}).get("limit") or ""
            chk(f"forgery {name}: the LIMIT sentence admits a rewrite from batch "
                f"{FIRST_FORGED[name]} on", limit_covers(limit, FIRST_FORGED[name]), limit)
        if cls == "error" and extra.endswith(".lsk") and first != "later format":
            chk(f"forgery {name}: the rejected item is named on stderr",
                "not accepted" in doc.get("stderr", ""), doc.get("stderr"))
        if first == "later format":
            # SPEC §1.1: authentic but of a later format: the file, where, what is unknown,
            # and that nothing from there on was judged; what precedes it verified
            fs = [f for f in doc["findings"] if f["check"] == "later format"]
            chk(f"forgery {name}: the later format is named with its file and offset",
                fs and any(fs[0]["file"].endswith(x)
                           for x in files.split(",")[1:] or files.split(",")) and
                fs[0]["offset"] is not None and "upgrade logseal-verify" in fs[0]["detail"] and
                "written by a later format of logseal" in fs[0]["detail"] and
                ("nothing from here on was judged" in fs[0]["detail"] or fs[0]["seq"] is not None),
                fs[:1])
            chk(f"forgery {name}: what precedes it verified",
                doc["chain"]["batches_verified"] >= 2 and
                not [f for f in doc["findings"] if f["class"] == "tampered"], doc["findings"])
        if first != "-":
            fs = [f for f in doc["findings"] if f["class"] == cls]
            chk(f"forgery {name}: first finding is '{first}'", fs and fs[0]["check"] == first,
                fs[:1])
            chk(f"forgery {name}: finding is localized", fs and
                (fs[0]["offset"] is not None or fs[0]["batch"] is not None), fs[:1])

    # 3b. evidence bundles of a later format (SPEC §1.1, §14.1): authentic → error (not
    # judged), a header its custody record does not commit to → tampered
    for line in open(os.path.join(VEC, "later", "bundles.txt")):
        if line.startswith("#"):
            continue
        name, bdir, cls, first = line.rstrip("\n").split("|")
        rc, doc = run_json("-k", ROOT, os.path.join(VEC, bdir))
        check(f"bundle {name}: exit {CLASS_RC[cls]}", rc == CLASS_RC[cls], doc["findings"][:2])
        fs = [f for f in doc["findings"] if f["class"] == cls]
        check(f"bundle {name}: first finding is '{first}', naming evidence.lsb",
              fs and fs[0]["check"] == first and fs[0]["file"].endswith("evidence.lsb") and
              (cls != "error" or "upgrade logseal-verify" in fs[0]["detail"]), fs[:1])

    # 3c. an authentic checkpoint compared with a batch read by its envelope (SPEC §1.1, §7.3):
    # a fork is tampered whatever the batch's format (later/checkpoints.txt)
    for line in open(os.path.join(VEC, "later", "checkpoints.txt")):
        if line.startswith("#"):
            continue
        name, files, extra, opt, cpf, cls, first = line.rstrip("\n").split("|")
        rc, doc = run_json("-k", ROOT, opt, os.path.join(VEC, cpf),
                           *[os.path.join(VEC, f) for f in files.split(",")])
        def chk(n, cond, detail=""):
            bug = KNOWN_BUGS.get(name)
            if bug and any(w in n for w in bug[0]):
                todo_check(n, cond, detail, bug[1])
            else:
                check(n, cond, detail)
        chk(f"checkpoint {name}: exit {CLASS_RC[cls]}", rc == CLASS_RC[cls], doc["findings"][:3])
        fs = [f for f in doc["findings"] if f["class"] == cls]
        chk(f"checkpoint {name}: first finding is '{first}'", fs and fs[0]["check"] == first,
            fs[:1])
        if cls == "error":
            chk(f"checkpoint {name}: consistent with the later batch it names",
                [c for c in doc["checkpoints"] if c["result"] == "consistent"], doc["checkpoints"])

    # 4. checkpoints: missing tail is a gap with the count; consistent checkpoint
    rc, doc = run_json("-k", ROOT, "--keys", keys, "-c", os.path.join(VEC, "golden.checkpoint"), A[0])
    check("tail missing against a later checkpoint exits 3", rc == 3, doc["findings"])
    cps = doc["checkpoints"]
    check("missing tail counted (4 records)", cps and cps[0]["result"] == "missing-tail"
          and cps[0]["missing_records"] == 4, cps)
    rc, doc = run_json("-k", ROOT, "-c", os.path.join(VEC, "golden-old.checkpoint"),
                       "-c", os.path.join(VEC, "golden.checkpoint"), *A)
    check("both checkpoints consistent with the full chain", rc == 0 and
          [c["result"] for c in doc["checkpoints"]] == ["consistent", "consistent"], doc["checkpoints"])
    rc, doc = run_json("-k", ROOT, "-c", os.path.join(VEC, "fork.checkpoint"), *A)
    check("a validly signed checkpoint of another history at the same size: fork, tampered",
          rc == 1 and doc["checkpoints"][0]["result"] == "fork", doc["checkpoints"])
    rc, doc = run_json("-k", ROOT, "-c", os.path.join(VEC, "forged.checkpoint"), *A)
    check("a checkpoint that does not verify is not accepted and changes no verdict (SPEC §7.3)",
          rc == 0 and doc["checkpoints"][0]["result"] == "unverified"
          and "not authentic" in doc["checkpoints"][0]["detail"], doc["checkpoints"])

    # 5. partial evidence is never 0
    rc, doc = run_json("-k", ROOT, "--keys", keys, A[1])
    check("second archive alone is partial (4)", rc == 4, doc["findings"])
    rc, doc = run_json("-k", ROOT, A[1])
    check("second archive alone without the key history is not intact", rc != 0)

# 6. usage and I/O errors exit 2
check("no root key: exit 2", run(A[0])[0] == 2)
check("no archives: exit 2", run("-k", ROOT)[0] == 2)
check("bad root key file: exit 2", run("-k", A[0], A[0])[0] == 2)
check("missing archive file: exit 2", run("-k", ROOT, "/nonexistent/x.lsa")[0] == 2)
check("--help exits 0", run("--help")[0] == 0)

# 7. another root key: nothing verifies
with tempfile.TemporaryDirectory() as d:
    other = os.path.join(d, "other.pub")
    import base64
    pk = hashlib.sha256(b"some other root").digest()
    kid = hashlib.sha256(b"logseal-key-id-v1\n" + pk).digest()[:8]
    with open(other, "w") as f:
        f.write("untrusted comment: another key\n" + base64.b64encode(b"LSK1" + kid + pk).decode() + "\n")
    rc, doc = run_json("-k", other, *A)
    check("a different root key: tampered (keys not certified)", rc == 1 and
          doc["findings"][0]["check"] == "signing key", doc["findings"][:1])

# 8. dump prints verified records only; text report escapes binary
rc, out, err = run("-k", ROOT, "--dump=json", *A)
lines = [json.loads(l) for l in out.decode().splitlines()]
check("dump prints all 14 records", rc == 0 and len(lines) == 14, len(lines))
# a later format (SPEC §1.1): dump prints what was verified before it, never its records,
# and exits 2 (not judged), the finding on stderr
rc, out, err = run("-k", ROOT, "--dump=json", A[0], os.path.join(VEC, "later", "batch-flag.lsa"))
seqs = [json.loads(l)["seq"] for l in out.decode().splitlines()]
check("dump with a later-format batch: records 0..11 (batch 4 not judged), exit 2",
      rc == 2 and seqs == list(range(12)) and b"later format" in err, (rc, seqs, err[-300:]))
check("dump flags the truncated record", any("truncated" in l["flags"] and l["original_length"] == 70000 for l in lines))
check("dump shows the TLS identity", any(l.get("sender_identity", "").startswith("CN=agency-host") for l in lines))
rc, out, err = run("-k", ROOT, "--dump=json", "--seq", "5-6", *A)
check("dump --seq filters", [json.loads(l)["seq"] for l in out.decode().splitlines()] == [5, 6])
# --from/--to read RFC 3339 as logsealctl does (formats/common/rfc3339.c): a numeric offset
# is the same instant as its UTC form; a time that is not RFC 3339 is a usage error.
rc, out, err = run("-k", ROOT, "--dump=json", "--from", "2026-01-01T02:00:01+02:00", "--to",
                   "2026-01-01T00:00:02.5Z", *A)
check("dump --from with an offset and --to in UTC select the same instants",
      rc == 0 and [json.loads(l)["seq"] for l in out.decode().splitlines()] == [5, 6, 7, 8, 9],
      out.decode()[-300:])
rc, out, err = run("-k", ROOT, "--dump=json", "--from", "2026-01-01 00:00:01", *A)
check("a time without a zone is refused (exit 2)", rc == 2 and b"bad time" in err, err[-200:])
rc, out, err = run("-k", ROOT, "--dump", os.path.join(VEC, "forged-payload-byte.lsa"), A[1])
check("records of a failed batch are never dumped", b"truncat" not in out and rc == 1)
rc, out, err = run("-k", ROOT, *A)
check("text report is printable ASCII/UTF-8", all(c >= 0x20 or c in (9, 10) for c in out))

# 9. evidence bundles (SPEC §14): directory, tar, tampered copies, another root key
BUNDLE = os.path.join(VEC, "bundle")
rc, doc = run_json("-k", ROOT, BUNDLE)
check("golden bundle exits 0", rc == 0, (rc, doc["findings"]))
check("golden bundle has no findings", doc["findings"] == [], doc["findings"])
b = doc.get("bundle") or {}
check("bundle report lists the 3 disclosed records",
      [r["seq"] for r in b.get("records", [])] == [2, 5, 7], b.get("records"))
check("bundle report: custody record verified with its case",
      (b.get("custody") or {}).get("verified") and b["custody"]["case"] == "CASE-2026-0001"
      and b["custody"]["count"] == 3 and b["custody"]["selection_matches"], b.get("custody"))
check("bundle report: checkpoint signed by a key certified from the root",
      (b.get("checkpoint") or {}).get("verified") and b["checkpoint"]["tree_size"] == 10
      and b["checkpoint"]["certification_path"][0] == EXPECTED["root_key_id"], b.get("checkpoint"))
check("bundle report: file hashes equal sha256sum", all(
    f["sha256"] == hashlib.sha256(open(os.path.join(BUNDLE, f["name"]), "rb").read()).hexdigest()
    for f in b.get("files", [])) and len(b.get("files", [])) == 5, b.get("files"))
check("archive reports have no bundle object", "bundle" not in run_json("-k", ROOT, *A)[1])
rc, out, err = run("-k", ROOT, BUNDLE)
check("bundle text report: verdict, custody and records",
      rc == 0 and b"VERDICT: INTACT" in out and b"CASE-2026-0001" in out
      and b"disclosed: sudo by user 1001" in out and b"certification path: root" in out, out[:200])
rc, out, err = run("-k", ROOT, "--dump=json", BUNDLE)
check("bundle --dump=json prints the 3 records",
      rc == 0 and [json.loads(l)["seq"] for l in out.decode().splitlines()] == [2, 5, 7], out)
check("a bundle together with archives is a usage error", run("-k", ROOT, BUNDLE, A[0])[0] == 2)


def copy_bundle(d):
    os.makedirs(d)
    for n in os.listdir(BUNDLE):
        with open(os.path.join(d, n), "wb") as f:
            f.write(open(os.path.join(BUNDLE, n), "rb").read())
    return d


def rehash(d):
    names = sorted(n for n in os.listdir(d) if n != "MANIFEST.sha256")
    with open(os.path.join(d, "MANIFEST.sha256"), "w") as f:
        for n in names:
            f.write(hashlib.sha256(open(os.path.join(d, n), "rb").read()).hexdigest() + "  " + n + "\n")


with tempfile.TemporaryDirectory() as d:
    import base64
    import tarfile
    tar = os.path.join(d, "bundle.tar")
    with tarfile.open(tar, "w", format=tarfile.USTAR_FORMAT) as t:
        for n in sorted(os.listdir(BUNDLE)):
            t.add(os.path.join(BUNDLE, n), arcname=n)
    rc, doc = run_json("-k", ROOT, tar)
    check("a tar of the golden bundle exits 0", rc == 0, (rc, doc["findings"]))
    check("tar bundle report says tar", doc.get("bundle", {}).get("format") == "tar"
          and len(doc["bundle"]["records"]) == 3)
    tmp = os.path.join(d, "tmp")
    os.mkdir(tmp)
    p = subprocess.run([VERIFY, "-q", "-k", ROOT, tar], env=dict(os.environ, TMPDIR=tmp))
    check("the tar is extracted under TMPDIR and removed afterwards", p.returncode == 0 and
          os.listdir(tmp) == [], os.listdir(tmp))
    nested = os.path.join(d, "nested.tar")
    with tarfile.open(nested, "w") as t:
        t.add(BUNDLE, arcname="bundle")
    rc, doc = run_json("-k", ROOT, nested)
    check("a tar with a subdirectory is not a bundle: tampered", rc == 1 and any(
        f["check"] == "bundle file type" for f in doc["findings"]), doc["findings"][:3])

    # Tar bombs and odd tars (issue 14 item 9): read in-process, never decompressed,
    # member count and data bounded; nothing is left in TMPDIR.
    import gzip
    import io
    def tar_bytes(members, fmt=tarfile.USTAR_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
            for m, data in members:
                t.addfile(m, io.BytesIO(data) if data is not None else None)
        return buf.getvalue()
    def member(name, size=0, type=tarfile.REGTYPE, link=""):
        m = tarfile.TarInfo(name)
        m.size, m.type, m.linkname = size, type, link
        return m
    def verify_tar(name, blob):
        path = os.path.join(d, name)
        open(path, "wb").write(blob)
        for x in os.listdir(tmp):
            shutil.rmtree(os.path.join(tmp, x), ignore_errors=True)
        p = subprocess.run([VERIFY, "-k", ROOT, path], capture_output=True, text=True,
                           env=dict(os.environ, TMPDIR=tmp), timeout=60)
        return p.returncode, p.stdout + p.stderr, os.listdir(tmp)
    # 3,000 members of 40 KB of zeros, gzipped: a small file that expands to 120 MB
    big = tar_bytes([(member(f"f{i:04}", 40000), bytes(40000)) for i in range(3000)])
    rc, out, left = verify_tar("bomb.tar", gzip.compress(big, 9))
    check("a gzipped tar bomb is refused unexpanded: exit 2, nothing left in TMPDIR",
          rc == 2 and "not read as a bundle" in out and left == [], (rc, out[-300:], left))
    rc, out, left = verify_tar("many.tar", tar_bytes([(member(f"e{i}"), b"") for i in range(300)]))
    check("a tar of 300 members is refused (cap 256): exit 2",
          rc == 2 and "more than 256 members" in out and left == [], (rc, out[-300:], left))
    genuine = [(member(n, os.path.getsize(os.path.join(BUNDLE, n))),
                open(os.path.join(BUNDLE, n), "rb").read()) for n in sorted(os.listdir(BUNDLE))]
    rc, out, left = verify_tar("hardlink.tar", tar_bytes(
        genuine + [(member("link", type=tarfile.LNKTYPE, link=genuine[0][0].name), None)]))
    check("a tar with a hard link is refused: exit 2",
          rc == 2 and "hard link" in out and left == [], (rc, out[-300:], left))
    rc, out, left = verify_tar("fifo.tar", tar_bytes(genuine + [(member("p", type=tarfile.FIFOTYPE), None)]))
    check("a tar with a FIFO is refused: exit 2",
          rc == 2 and "special file" in out and left == [], (rc, out[-300:], left))
    rc, out, left = verify_tar("abs.tar", tar_bytes(genuine + [(member("/etc/evil", 1), b"x")]))
    check("a tar with an absolute member name is refused: exit 2",
          rc == 2 and "not a plain relative file name" in out and left == [], (rc, out[-300:], left))
    rc, out, left = verify_tar("dotdot.tar", tar_bytes(genuine + [(member("../evil", 1), b"x")]))
    check("a tar with a member climbing out is refused: exit 2",
          rc == 2 and "not a plain relative file name" in out and left == [], (rc, out[-300:], left))
    whole = tar_bytes(genuine)
    rc, out, left = verify_tar("cut.tar", whole[:len(whole) // 2 + 100])
    check("a cut tar is an input error, not a verdict: exit 2", rc == 2 and left == [], (rc, out[-300:], left))
    # what investigators make themselves: GNU tar's default format, with a ./ top entry
    gnu = os.path.join(d, "gnu.tar")
    subprocess.run(["tar", "-cf", gnu, "-C", BUNDLE, "."], check=True)
    rc, out, left = verify_tar("gnu-copy.tar", open(gnu, "rb").read())
    check("a GNU-format tar of the bundle made with `tar -cf B.tar -C DIR .`: exit 0",
          rc == 0 and left == [], (rc, out[-300:], left))
    rc, out, left = verify_tar("pax.tar", tar_bytes(genuine, fmt=tarfile.PAX_FORMAT))
    check("a pax tar of the bundle: exit 0", rc == 0 and left == [], (rc, out[-300:], left))

    t1 = copy_bundle(os.path.join(d, "t1"))
    ev = bytearray(open(os.path.join(t1, "evidence.lsb"), "rb").read())
    i = ev.index(b"sudo by user")
    ev[i] ^= 0x20
    open(os.path.join(t1, "evidence.lsb"), "wb").write(ev)
    rc, doc = run_json("-k", ROOT, t1)
    check("tampered bundle copy exits 1 (manifest)", rc == 1 and doc["findings"][0]["check"] == "manifest hash",
          doc["findings"][:2])
    rehash(t1)
    rc, doc = run_json("-k", ROOT, t1)
    fs = [f for f in doc["findings"] if f["class"] == "tampered"]
    check("tampered bundle copy with a rewritten manifest exits 1 (proof of record 5)",
          rc == 1 and fs and fs[0]["check"] == "inclusion proof" and fs[0]["seq"] == 5
          and fs[0]["offset"] is not None, fs[:2])
    check("the altered record is not listed, the others are",
          [r["seq"] for r in doc["bundle"]["records"]] == [2, 7], doc["bundle"]["records"])
    rc, out, err = run("-k", ROOT, "--dump", t1)
    check("the altered record is never dumped", b"sudo" not in out and b"Sudo" not in out and rc == 1)

    # --checkpoint with a bundle: equal size must be the same tree; other sizes are a note
    cp = open(os.path.join(BUNDLE, "checkpoint.txt"), "rb").read().split(b"\n")
    other_size = os.path.join(d, "other-size.checkpoint")
    open(other_size, "wb").write(b"\n".join([cp[0], b"12"] + cp[2:]))
    rc, doc = run_json("-k", ROOT, "-c", other_size, BUNDLE)
    check("a doctored checkpoint of another size: not authentic, a note (exit 0)",
          rc == 0 and doc["bundle"]["checkpoints"][0]["result"] == "unverified"
          and doc["findings"][0]["class"] == "note", doc["bundle"]["checkpoints"])
    other_root = os.path.join(d, "other-root.checkpoint")
    open(other_root, "wb").write(b"\n".join(cp[:2] + [b"A" * 43 + b"="] + cp[3:]))
    rc, doc = run_json("-k", ROOT, "-c", other_root, BUNDLE)
    check("an unauthenticated checkpoint of another tree at the same size changes no verdict "
          "(SPEC §7.3): exit 0", rc == 0 and doc["bundle"]["checkpoints"][0]["result"] == "unverified"
          and "not authentic" in doc["bundle"]["checkpoints"][0]["detail"], doc["bundle"]["checkpoints"])
    rc, doc = run_json("-k", ROOT, "-c", os.path.join(BUNDLE, "checkpoint.txt"), BUNDLE)
    check("the bundle's own checkpoint is consistent", rc == 0 and
          doc["bundle"]["checkpoints"][0]["result"] == "consistent", doc["bundle"]["checkpoints"])
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    except ImportError:
        Ed25519PrivateKey = None
    if Ed25519PrivateKey:
        # a validly signed checkpoint of another tree of the same size: a fork
        sk = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"logseal-test-vector-epoch-key-0").digest())
        pk = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        body = b"\n".join(cp[:2] + [base64.b64encode(b"\x01" * 32)] + cp[3:4]) + b"\n"
        name = cp[0]
        kh = hashlib.sha256(name + b"\n\x01" + pk).digest()[:4]
        sig = base64.b64encode(kh + sk.sign(body))
        fork = os.path.join(d, "fork.checkpoint")
        open(fork, "wb").write(body + b"\n\xe2\x80\x94 " + name + b" " + sig + b"\n")
        rc, doc = run_json("-k", ROOT, "-c", fork, BUNDLE)
        check("a validly signed checkpoint of another tree at the same size: fork, exit 1",
              rc == 1 and doc["bundle"]["checkpoints"][0]["result"] == "fork"
              and doc["findings"][0]["check"] == "checkpoint fork", doc["bundle"]["checkpoints"])

# 10. a bundle checked with another root key: the checkpoint key is not certified (tampered)
with tempfile.TemporaryDirectory() as d:
    other = os.path.join(d, "other.pub")
    pk = hashlib.sha256(b"some other root").digest()
    kid = hashlib.sha256(b"logseal-key-id-v1\n" + pk).digest()[:8]
    with open(other, "w") as f:
        f.write("untrusted comment: another key\n" + base64.b64encode(b"LSK1" + kid + pk).decode() + "\n")
    rc, doc = run_json("-k", other, BUNDLE)
    check("a bundle against another root key: tampered (keys not certified)", rc == 1 and
          doc["findings"][0]["check"] == "key certificate" and
          any(f["check"] == "checkpoint key" for f in doc["findings"]), doc["findings"][:2])
    check("nothing of it is listed as verified", doc["bundle"]["records"] == [] and
          doc["bundle"]["custody"]["verified"] is False)

# 11. --consistency OLD NEW: the golden checkpoints of sizes 10 and 14 with their committed proof
with tempfile.TemporaryDirectory() as d:
    certs = {}
    for line in open(os.path.join(VEC, "expected.txt")):
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("cert_epoch"):
            certs[parts[0]] = bytes.fromhex(parts[1])
    hist = os.path.join(d, "history.lsk")
    with open(hist, "wb") as f:
        f.write(certs["cert_epoch0"] + certs["cert_epoch1"])
    old = os.path.join(VEC, "golden-old.checkpoint")
    new = os.path.join(VEC, "golden.checkpoint")
    proof = os.path.join(VEC, "consistency.proof")
    rc, out, err = run("-k", ROOT, "--keys", hist, "--consistency", old, new, "--proof", proof)
    check("--consistency: the newer golden checkpoint extends the older one (exit 0)",
          rc == 0 and b"CONSISTENT" in out, (rc, out, err))
    rc, out, err = run("-k", ROOT, "--keys", hist, "--consistency", old,
                       os.path.join(VEC, "fork.checkpoint"), "--proof", proof)
    check("--consistency against the forked checkpoint: exit 1", rc == 1 and b"fork" in out,
          (rc, out, err))
    rc, out, err = run("-k", ROOT, "--consistency", old, new, "--proof", proof)
    check("--consistency without the key history: the signatures cannot be trusted (exit 1)",
          rc == 1 and b"signature" in out, (rc, out, err))
    bad = bytearray(open(proof, "rb").read())
    bad[-1] ^= 1
    with open(os.path.join(d, "bad.proof"), "wb") as f:
        f.write(bytes(bad))
    rc, out, err = run("-k", ROOT, "--keys", hist, "--consistency", old, new, "--proof",
                       os.path.join(d, "bad.proof"))
    check("--consistency with an altered proof: exit 1", rc == 1, (rc, out, err))
    rc, out, err = run("-k", ROOT, "--keys", hist, "--consistency", new, old, "--proof", proof)
    check("--consistency with OLD and NEW swapped: exit 1", rc == 1, (rc, out, err))

# 12. format 2 (SPEC §7.3, §9.4): checkpoints against a chain whose epochs end with closes
F2 = os.path.join(VEC, "format2")
A2 = sorted(os.path.join(F2, f) for f in os.listdir(F2) if f.startswith("chain-"))
HIST2 = os.path.join(F2, "history.lsk")


def cp2(name):
    return os.path.join(F2, name + ".checkpoint")


for keys in ([], ["--keys", HIST2]):
    how = "with the key history" if keys else "from the root key alone"
    rc, doc = run_json("-k", ROOT, *keys, "-c", cp2("close-head"), "-c", cp2("current"), *A2)
    check(f"format 2, {how}: the close's head and the current checkpoint are consistent",
          rc == 0 and [c["result"] for c in doc["checkpoints"]] == ["consistent", "consistent"],
          doc["checkpoints"])
    rc, doc = run_json("-k", ROOT, *keys, "-c", cp2("inside-closed-epoch"), *A2)
    check(f"format 2, {how}: a checkpoint inside a closed epoch is not proven (its epoch ended) "
          "and changes no verdict", rc == 0 and doc["checkpoints"][0]["result"] in
          ("consistent", "unverified") and "ended" in doc["checkpoints"][0]["detail"],
          doc["checkpoints"])
    # what the holder of the erased epoch-0 key can sign: never evidence against the chain
    for forged in ("forged-rewrite", "forged-after-close"):
        rc, doc = run_json("-k", ROOT, *keys, "-c", cp2(forged), *A2)
        check(f"format 2, {how}: {forged}.checkpoint (erased epoch-0 key) is reported not "
              "authentic, the genuine archives stay intact (not a fork)",
              rc == 0 and doc["checkpoints"][0]["result"] == "unverified"
              and not any(f["class"] == "tampered" for f in doc["findings"]),
              (rc, doc["checkpoints"], doc["findings"][:2]))
# the archives end before an authentic later checkpoint: a missing tail
rc, doc = run_json("-k", ROOT, "--keys", HIST2, "-c", cp2("current"), A2[0], A2[1])
check("format 2: archives ending before the current checkpoint are a gap (missing tail)",
      rc == 3 and doc["checkpoints"][0]["result"] == "missing-tail", (rc, doc["checkpoints"]))
# with the forged archive: the history exposes it and its checkpoint alike
rc, doc = run_json("-k", ROOT, "--keys", HIST2, "-c", cp2("forged-after-close"), A2[0],
                   os.path.join(F2, "forged-after-close.lsa"))
check("format 2: the forged archive and its checkpoint with the key history: tampered, the "
      "checkpoint not authentic", rc == 1 and doc["checkpoints"][0]["result"] == "unverified",
      (rc, doc["checkpoints"]))
rc, doc = run_json("-k", ROOT, "-c", cp2("forged-after-close"), A2[0],
                   os.path.join(F2, "forged-after-close.lsa"))
check("format 2: the same from the root key alone: intact only with the LIMIT sentence (SPEC "
      "§11.1)", rc == 0 and limit_covers(doc["verdict"].get("limit") or "", 2),
      (rc, doc["verdict"], doc["checkpoints"]))

print(f"1..{count}")
sys.exit(1 if failures else 0)
