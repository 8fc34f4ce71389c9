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
import base64
import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SRC, "tests", "daemon"))
from daemonlib import Appliance  # noqa: E402

KEEP = os.environ.get("LOGSEAL_FORGERY_KEEP")
if "--keep" in sys.argv:
    KEEP = sys.argv[sys.argv.index("--keep") + 1]
VERIFY = os.path.join(BUILD, "verifier", "logseal-verify")
CTL = os.path.join(BUILD, "daemon", "logsealctl")
# LOGSEAL_FORGE: another build of the forge tool (e.g. with -Db_sanitize=address,undefined)
FORGE = os.environ.get("LOGSEAL_FORGE") or os.path.join(BUILD, "tests", "forgery", "forge")

# Cases the current main does not pass: id -> why (what it does instead). Remove an entry with
# the fix that makes the case pass (an unexpected pass fails the run).
PENDING = {
    # (none: item 1's cases pass since the daemon writes epoch closes; item 5's gap comes from
    # the close of the epoch that certifies the next key)
}

# Phrases a finding must contain: case-insensitive regular expressions, matched against what
# logseal-verify prints and its text report (not the JSON) with runs of white space collapsed to
# one space (so that wrapped sentences match). They name what must be said, not the exact
# words: adjust the wording here with the fix if needed, never the meaning.
CLOSE_MAGIC = b"\x89LSX\r\n\x1a\n"
EPOCH_END = r"epoch.{0,60}(clos|ended|\bend\b)|(clos|ended|\bend\b).{0,60}epoch"
NOT_EXCLUDED = r"cannot be excluded"
NOT_AUTHENTIC = r"not authentic|unauthentic|not authenticated"
OTHER_CHAIN = (r"(another|other|foreign|different) chain|chain id|not this (bundle's )?chain|"
               r"for chain [0-9a-f]{32}")
REVOKED = r"revo(ked|cation)"
FORK = r"fork"
NOT_EVIDENCE = NOT_AUTHENTIC + r"|logseal-batch-v1|not evidence|batch line"
TRUNCATION = r"truncat.{0,200}cannot be excluded|cannot be excluded.{0,200}truncat"

sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
sodium.sodium_init()


# ---------------------------------------------------------------- TAP

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.xfail = []
        self.xpass = []
        self.results = []

    def diag(self, s):
        for line in str(s).splitlines() or [""]:
            print("# " + line, flush=True)

    def check(self, cid, desc, ok, detail=""):
        self.n += 1
        name = f"{cid}: {desc}"
        if cid in PENDING:
            if ok:
                print(f"ok {self.n} - {name} # TODO XPASS: remove '{cid}' from PENDING", flush=True)
                self.xpass.append(cid)
                self.failed += 1
            else:
                print(f"not ok {self.n} - {name} # TODO XFAIL {PENDING[cid]}", flush=True)
                self.xfail.append(cid)
        else:
            print(("ok" if ok else "not ok") + f" {self.n} - {name}", flush=True)
            if not ok:
                self.failed += 1
        if detail and (not ok or cid in PENDING):
            self.diag(detail)
        self.results.append((cid, ok))

    def done(self):
        print(f"1..{self.n}", flush=True)
        self.diag(f"{self.n} checks, {self.failed} failed, {len(self.xfail)} expected failures "
                  f"(PENDING), {len(self.xpass)} unexpected passes")
        return 1 if self.failed else 0


t = Tap()


# ---------------------------------------------------------------- helpers

def run(*args, check=True):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, errors="replace")
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}\n"
                           f"{p.stderr}")
    return p


def forge(*args):
    return run(FORGE, *args).stdout.split()


def ctl(*args, check=True):
    return run(CTL, *args, check=check)


def parse_history(path):
    """Items of a key history (SPEC §10.3): certificates, revocations; items of later format
    versions (an epoch close) are skipped by their size field."""
    data = open(path, "rb").read()
    items, off = [], 0
    while off + 12 <= len(data):
        magic = data[off:off + 8]
        if magic[:3] != b"\x89LS" or magic[4:] != b"\r\n\x1a\n":
            raise ValueError(f"{path}: offset {off}: not a history item")
        kind = chr(magic[3])
        if kind == "C":
            size = 168
            c = data[off:off + size]
            items.append({"type": "cert", "kind": c[12], "chain_id": c[16:32], "pk": c[32:64],
                          "key_id": c[64:72], "epoch": struct.unpack_from("<Q", c, 72)[0],
                          "valid_from": struct.unpack_from("<Q", c, 80)[0],
                          "issuer": c[96:104], "raw": c})
        elif kind == "R":
            size = 136 + struct.unpack_from("<H", data, off + 10)[0]
            items.append({"type": "revocation", "key_id": data[off + 32:off + 40],
                          "raw": data[off:off + size]})
        else:
            size = struct.unpack_from("<H", data, off + 10)[0]
            items.append({"type": kind, "raw": data[off:off + size]})
        if size <= 0:
            raise ValueError(f"{path}: offset {off}: bad size")
        off += size
    return items


def signing_certs(items, chain_id=None):
    return sorted([i for i in items if i["type"] == "cert" and i["kind"] == 1 and
                   (chain_id is None or i["chain_id"] == chain_id)], key=lambda c: c["epoch"])


def pubkey_file(path):
    """(key_id, pk) of a public key file (SPEC §10.1)."""
    b = base64.b64decode(open(path).read().splitlines()[1])
    assert b[:4] == b"LSK1"
    return b[4:12], b[12:44]


def checkpoint_signed_right(text, certs):
    """Is a genuine checkpoint signed, with the right note key hash, by the key of its batch's
    epoch? Issue 12 item 6 (not this suite's subject) makes the daemon hand out checkpoints of an
    epoch's last batch with the next key's key hash: such captures are taken again."""
    body, _, sigs = text.partition("\n\n")
    body += "\n"
    lines = body.split("\n")
    if len(lines) < 5 or not lines[3].startswith("logseal-batch-v1 "):
        return False
    batch = int(lines[3].split()[1])
    key = None
    for c in certs:
        if c["valid_from"] <= batch:
            key = c
    if key is None:
        return False
    name = lines[0]
    for line in sigs.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[1] != name:
            continue
        blob = base64.b64decode(parts[2])
        if len(blob) != 68:
            continue
        if blob[:4] != hashlib.sha256(name.encode() + b"\n\x01" + key["pk"]).digest()[:4]:
            continue
        return sodium.crypto_sign_verify_detached(blob[4:], body.encode(),
                                                  ctypes.c_ulonglong(len(body.encode())),
                                                  key["pk"]) == 0
    return False


class App(Appliance):
    """A logseald appliance (tests/daemon/daemonlib.py) with a chosen `logsealctl init`."""

    def __init__(self, build, extra_conf="", init_args=("--no-passphrase",), name="app"):
        # Appliance.__init__ runs a plain init; this one may certify with a given root key.
        import daemonlib
        self.build = build
        self.tmp = tempfile.TemporaryDirectory(prefix=f"logseal-forgery-{name}-")
        self.dir = self.tmp.name
        self.state = os.path.join(self.dir, "state")
        self.port = daemonlib.free_port()
        self.sock = os.path.join(self.dir, "log.sock")
        self.dsock = os.path.join(self.dir, "dgram.sock")
        self.conf = os.path.join(self.dir, "logseald.conf")
        with open(self.conf, "w") as f:
            f.write("[batch]\nmax_latency = 200ms\n" + extra_conf)
        self.proc = None
        self.user = daemonlib.service_user()   # daemonlib.Appliance's: the service user
        self.run_as = ""
        self.name = name
        self.sent = 0
        self.init(init_args)
        self.chain_hex = open(os.path.join(self.state, "chain.id")).read().strip()
        self.chain_id = bytes.fromhex(self.chain_hex)
        self.root_pub = os.path.join(self.state, "root.pub")
        self.root_key = os.path.join(self.state, "root.key")

    def start(self, env=None):
        # A fresh port for every start: between a stop and the next start another test could
        # take the old one (and a sender of that test would then feed this daemon).
        import daemonlib
        self.port = daemonlib.free_port()
        super().start(env)

    def status(self):
        try:
            return self.control("status")
        except (OSError, ValueError):
            return {}

    def last(self):
        return self.status().get("last_checkpoint") or {}

    def wait(self, cond, timeout=30, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: timeout waiting for {what}: {self.status()}\n" +
                           self.logtext()[-2000:])

    def settle(self, quiet=0.7, timeout=120):
        """Until no batch was sealed for `quiet` seconds (an epoch change seals its transition
        batch on its own right after the epoch's last one)."""
        last, since, seen = None, time.time(), []
        deadline = time.time() + timeout
        while time.time() < deadline:
            b = self.last().get("batch")
            if b != last:
                last, since = b, time.time()
                seen.append((round(time.time() - deadline + timeout, 2), b))
            elif b is not None and time.time() - since >= quiet:
                return b
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: never settles: (seconds, last batch) {seen[-20:]}; "
                           f"status {self.status()}")

    def start_and_settle(self):
        self.start()
        self.wait(lambda: self.last().get("batch") is not None, what="the first batch")
        return self.settle()

    def send_batch(self, n=2):
        """n messages in (at least) one new batch."""
        before = self.last().get("batch", -1)
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            for _ in range(n):
                m = b"<13>1 - %s app - - - genuine message %d" % (self.name.encode(), self.sent)
                s.sendall(b"%d %s" % (len(m), m))
                self.sent += 1
        self.wait(lambda: self.last().get("batch", -1) > before, what="a new batch")
        return self.settle()

    def epoch(self):
        return self.last().get("epoch", -1)

    def history(self):
        return parse_history(os.path.join(self.state, "keys", "history.lsk"))

    def certs(self):
        return signing_certs(self.history(), self.chain_id)

    def checkpoint(self, out, since=None):
        """A genuine checkpoint (logsealctl checkpoint), taken again after one more batch when
        it falls on issue 12 item 6's epoch-boundary bug."""
        for _ in range(8):
            for p in (out, out + ".proof"):
                if os.path.exists(p):
                    os.unlink(p)
            args = ["checkpoint", "--state-dir", self.state, "--out", out]
            if since:
                args += ["--since", since]
            ctl(*args)
            if checkpoint_signed_right(open(out).read(), self.certs()):
                return out
            t.diag(f"{self.name}: checkpoint at an epoch boundary (issue 12 item 6), again")
            self.send_batch()
        raise RuntimeError("no well-signed checkpoint")

    def early_in_epoch(self, most=2):
        """Sends batches until the current epoch has sealed at most `most` batches and no epoch
        change is pending, so that what follows (an export: one custody batch) stays inside the
        epoch. Only for epochs begun in this run of the daemon (it counts batches per run)."""
        for _ in range(40):
            last = self.last().get("batch", -1)
            certs = self.certs()
            cur = [c for c in certs if c["valid_from"] <= last]
            pending = [c for c in certs if c["valid_from"] > last]
            if cur and not pending and last - cur[-1]["valid_from"] + 1 <= most:
                return
            self.send_batch()
        raise RuntimeError("never early in an epoch")

    def export(self, out, host=None):
        """A genuine evidence bundle (logsealctl export), made again in a fresh directory when
        its checkpoint falls on issue 12 item 6's bug."""
        for i in range(8):
            d = f"{out}.{i}"
            ctl("export", "--state-dir", self.state, "--case", "CASE-GENUINE-1", "--examiner",
                "Examiner G", "--host", host or self.name, "--out", d)
            if checkpoint_signed_right(open(os.path.join(d, "checkpoint.txt")).read(),
                                       self.certs()):
                os.rename(d, out)
                return out
            t.diag(f"{self.name}: export at an epoch boundary (issue 12 item 6), again")
            self.send_batch()
        raise RuntimeError("no well-signed export")

    def archives(self):
        d = os.path.join(self.state, "archives")
        return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".lsa"))

    def export_history(self, out):
        ctl("key", "export-history", "--state-dir", self.state, "--out", out)
        return out


def info(paths):
    """forge info: per archive, its batches (number, epoch, key, tree size, control records)."""
    return [json.loads(l) for l in run(FORGE, "info", *paths).stdout.splitlines()]


def case_dir(name, files=()):
    d = os.path.join(WORK, name)
    os.makedirs(d)
    for f in files:
        shutil.copy(f, d)
    return d


def flip(path, offset):
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


report_no = [0]


# Every verification runs with --jobs 1 and --jobs 4 too: all it says (exit code, stdout, stderr,
# text and JSON reports, the clock readings masked) must be byte-identical (issue 16 item 2).
JOBS_DIFF = []
JOBS_RUNS = [0]
CLOCK = re.compile(r'^(Started|Finished):\s+\S+$|"(started|finished)": "[^"]*"', re.M)


def verify_once(args, root, rep, jobs=None):
    cmd = [VERIFY, "--root-key", root]
    if jobs:
        cmd += ["--jobs", jobs]
    if rep:
        cmd += ["--report", rep]
    p = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                       errors="replace", timeout=300)
    text = p.stdout + "\n" + p.stderr
    if rep and os.path.exists(rep):
        text += "\n" + open(rep, errors="replace").read()
    js = open(rep + ".json", errors="replace").read() if rep and os.path.exists(rep + ".json") else ""
    return p.returncode, text, js


def verify(*args, root, report=True):
    """Runs logseal-verify; returns its exit code, what it said in text (stdout, stderr, the text
    report) and its JSON report (when it wrote one)."""
    report_no[0] += 1
    rep = os.path.join(WORK, "reports", f"report-{report_no[0]}")
    rc, text, js = verify_once(args, root, rep if report else None)
    said = {}
    for jobs in ("1", "4"):
        r = verify_once(args, root, f"{rep}-jobs{jobs}" if report else None, jobs)
        said[jobs] = CLOCK.sub("CLOCK", f"exit {r[0]}\n{r[1]}\n=====\n{r[2]}")
    JOBS_RUNS[0] += 1
    if said["1"] != said["4"] or CLOCK.sub("CLOCK", f"exit {rc}\n{text}\n=====\n{js}") != said["1"]:
        JOBS_DIFF.append(f"report-{report_no[0]}: {' '.join(map(str, args))[:300]}")
    return rc, text, js


def summary(out):
    """The lines of a report that say why: the verdict and the findings."""
    keep = []
    for line in out.splitlines():
        s = line.strip()
        if not s:
            continue
        if re.search(r"VERDICT|TAMPERED|INCONSISTENT|CONSISTENT|missing|fork|revo|excluded|"
                     r"authentic|logseal-verify:|error|cannot|^\[", s, re.I):
            keep.append(s[:300])
        if len(keep) >= 12:
            break
    return "\n".join(keep)


def limit_covers(batch):
    """The sentence on what cannot be excluded must not claim more than it may: when it names
    "batches N and later", N must not be after `batch` (the first forged or missing batch)."""
    def check(rc, flat):
        nums = [int(n) for n in re.findall(r"batch(?:es)? (\d+) and later cannot be excluded",
                                           flat, re.I)]
        return not nums or min(nums) <= batch
    return check


def expect(cid, desc, args, root, codes, phrases=(), report=True, also=None):
    """One case: exit code in `codes`, every phrase found in what the verifier said, and
    also(rc, text) when given."""
    rc, text, _ = verify(*args, root=root, report=report)
    flat = " ".join(text.split())
    missing = [p for p in phrases if not re.search(p, flat, re.I)]
    ok = rc in codes and not missing
    if ok and also:
        ok = bool(also(rc, flat))
    detail = (f"exit {rc} (expected {'/'.join(map(str, sorted(codes)))})" +
              (f"; phrase(s) not found: {missing}" if missing else "") + "\n" + summary(text))
    t.check(cid, desc, ok, detail)
    RESULTS.append((cid, rc, summary(text).splitlines()[:3]))
    return rc, text


RESULTS = []


# ---------------------------------------------------------------- the appliances

def appliance_a():
    """Appliance A: 3 runs, epochs of 5 batches. Run 1 leaves archive 0 with batches 0..2 (or
    0..3) while epoch 0 signs up to batch 5 or later; the epoch-0 key file is copied at init
    (the 'backup'). Run 2 crosses into epochs 1 and 2 (checkpoints and an export are taken
    there); run 3 changes epoch once more (so the key history proves a batch beyond run 2)."""
    a = App(BUILD, extra_conf="[keys]\nepoch_batches = 5\n", name="forgery-a")
    APPS.append(a)
    stolen = os.path.join(WORK, "stolen-a-epoch0.key")
    shutil.copy(os.path.join(a.state, "keys", "signing.key"), stolen)
    a.start_and_settle()
    a.send_batch()
    assert a.stop() == 0, a.logtext()
    a.start_and_settle()
    while a.epoch() < 1:
        a.send_batch()
    # the genuine epoch-1 key, only to write the epoch close the appliance would (emulate-close)
    key1 = os.path.join(WORK, "a-epoch1.key")
    shutil.copy(os.path.join(a.state, "keys", "signing.key"), key1)
    assert open(key1, "rb").read()[72:80] == a.certs()[1]["key_id"], "not the epoch-1 key"
    a.send_batch()
    old = a.checkpoint(os.path.join(WORK, "a-old.checkpoint"))
    a.send_batch()
    a.send_batch()
    new = a.checkpoint(os.path.join(WORK, "a-new.checkpoint"), since=old)
    # the export's keys.lsk then holds no certificate of the next epoch: its epoch is open
    a.early_in_epoch()
    bundle = a.export(os.path.join(WORK, "a-bundle"))
    while a.epoch() < 2:
        a.send_batch()
    a.send_batch()
    assert a.stop() == 0, a.logtext()
    a.start_and_settle()
    e = a.epoch()
    while a.epoch() <= e:
        a.send_batch()
    a.send_batch()
    assert a.stop() == 0, a.logtext()
    hist = a.export_history(os.path.join(WORK, "a-history.lsk"))
    return a, stolen, key1, old, new, bundle, hist


def appliance_b(a):
    """Appliance B: initialised with A's root key (another appliance of the same agency); its
    genuine epoch-0 key is the one the forger of item 2 holds."""
    b = App(BUILD, init_args=("--root-key", a.root_key), name="forgery-b")
    APPS.append(b)
    key = os.path.join(WORK, "b-epoch0.key")
    shutil.copy(os.path.join(b.state, "keys", "signing.key"), key)
    b.start_and_settle()
    b.send_batch()
    assert b.stop() == 0, b.logtext()
    hist = b.export_history(os.path.join(WORK, "b-history.lsk"))
    return b, key, hist


def appliance_c():
    """Appliance C: epochs of 3 batches; after epoch 0 ended the root revokes the epoch-0 key
    from batch 1 (logsealctl key revoke): the revocation is sealed in the chain."""
    c = App(BUILD, extra_conf="[keys]\nepoch_batches = 3\n", name="forgery-c")
    APPS.append(c)
    stolen = os.path.join(WORK, "stolen-c-epoch0.key")
    shutil.copy(os.path.join(c.state, "keys", "signing.key"), stolen)
    c.start_and_settle()
    while c.epoch() < 1:
        c.send_batch()
    c.send_batch()
    k0 = c.certs()[0]["key_id"].hex()
    rev = os.path.join(WORK, "c-revocation.lsk")
    p = ctl("key", "revoke", k0, "--state-dir", c.state, "--root-key", c.root_key, "--reason",
            "backup of the epoch-0 key stolen", "--from-batch", "1", "--out", rev)
    t.diag("c: " + (p.stdout + p.stderr).strip().replace("\n", " | ")[:300])
    c.send_batch()
    # signed by a key the epoch-0 key handed over to after batch 1: covered too (SPEC §9.3)
    old_revoked = c.checkpoint(os.path.join(WORK, "c-old-revoked.checkpoint"))
    # docs/keys.md "After a suspected compromise": revoke, then rotate
    p = ctl("key", "rotate", "--state-dir", c.state, "--root-key", c.root_key)
    t.diag("c: " + (p.stdout + p.stderr).strip().replace("\n", " | ")[:300])
    c.send_batch()
    old = c.checkpoint(os.path.join(WORK, "c-old.checkpoint"))
    c.send_batch()
    new = c.checkpoint(os.path.join(WORK, "c-new.checkpoint"), since=old)
    c.send_batch()
    assert c.stop() == 0, c.logtext()
    hist = c.export_history(os.path.join(WORK, "c-history.lsk"))
    return c, stolen, rev, old, new, old_revoked, hist, k0


def appliance_d():
    """Appliance D: a root rotation (logsealctl key rotate-root) certifies a second root."""
    d = App(BUILD, name="forgery-d")
    APPS.append(d)
    root2 = os.path.join(d.dir, "root2.key")
    ctl("keygen", "--root", root2, "--no-passphrase")
    d.start_and_settle()
    d.send_batch()
    ctl("key", "rotate-root", "--state-dir", d.state, "--root-key", d.root_key, "--new-root",
        root2 + ".pub")
    d.send_batch()
    bundle = d.export(os.path.join(WORK, "d-bundle"))
    d.send_batch()
    assert d.stop() == 0, d.logtext()
    return d, root2 + ".pub", bundle


# ---------------------------------------------------------------- the cases

def cases_a(a, stolen, old, new, bundle, hist):
    arch = a.archives()
    lay = info(arch)
    certs = signing_certs(parse_history(hist), a.chain_id)
    epoch0_last = certs[1]["valid_from"] - 1
    t.diag(f"a: {len(arch)} archives; " + "; ".join(
        f"archive {x['archive_no']}: batches {x['batches'][0]['batch']}.."
        f"{x['batches'][-1]['batch']}"
        f" epochs {sorted(set(b['epoch'] for b in x['batches']))}" for x in lay) +
        f"; epoch 0 signs batches 0..{epoch0_last}; key history: "
        f"{', '.join('epoch %d from batch %d' % (c['epoch'], c['valid_from']) for c in certs)}")
    assert lay[0]["batches"][-1]["batch"] + 1 <= epoch0_last, "archive 0 reaches epoch 0's end"
    root = a.root_pub

    # genuine controls
    full = case_dir("a-genuine", arch)
    expect("0-a-genuine", "genuine archives of A, root key only: intact", [full], root, {0})
    expect("0-a-genuine-history", "genuine archives of A with the complete key history: intact",
           ["--keys", hist, full], root, {0})
    expect("0-a-bundle", "genuine bundle of A (logsealctl export): intact", [bundle], root, {0})
    expect("0-a-bundle-history", "genuine bundle with the complete later history: never "
           "tampered (partial allowed: not the head of its epoch's close)",
           ["--keys", hist, bundle], root, {0, 4})
    expect("0-a-consistency", "genuine OLD -> NEW checkpoints (logsealctl checkpoint --since): "
           "consistent (or not proven: neither is the head of its epoch's close), never "
           "inconsistent", ["--keys", hist, "--consistency", old, new], root, {0, 4},
           report=False)
    expect("0-a-checkpoint", "genuine archives with a genuine published checkpoint: intact",
           ["--checkpoint", new, "--keys", hist, full], root, {0})

    # item 1: the stolen key of epoch 0 forges a batch after archive 0, dated a year later
    d1 = case_dir("1a-forged", arch[:1])
    forged = forge("old-epoch-archive", "--key", stolen, "--out", d1, arch[0])[0]
    fbatches = info([arch[0], forged])[1]["batches"]
    t.diag("1a: forged " + os.path.basename(forged) + ": " + json.dumps(
        [(b["batch"], b["epoch"], b["controls"]) for b in fbatches]))
    expect("1a-history", "forged archive after archive 0, with the real key history: tampered, "
           "dated after / inconsistent with epoch 0's close",
           ["--keys", hist, d1], root, {1}, [EPOCH_END])
    expect("1a-alone", "the same without the history: the report says a forgery by an ended "
           "epoch's key cannot be excluded (for the forged batch)", [d1], root, {0, 4},
           [NOT_EXCLUDED], also=limit_covers(fbatches[0]["batch"]))
    # An empty or unrelated key history says nothing about what came after: the LIMIT line must
    # not claim the tail is covered (an adversarial review found it did).
    empty = os.path.join(WORK, "empty.lsk")
    open(empty, "wb").close()
    expect("1a-empty-history", "the same with an empty --keys file: the same LIMIT, covering the "
           "forged batch", ["--keys", empty, d1], root, {0, 4}, [NOT_EXCLUDED],
           also=limit_covers(fbatches[0]["batch"]))
    fb = os.path.join(WORK, "1b-bundle")
    forge("old-epoch-bundle", "--key", stolen, "--keys", hist, "--out", fb, arch[0])
    expect("1b-bundle", "forged bundle of that batch, keys.lsk = the real complete history: "
           "tampered", [fb], root, {1}, [EPOCH_END])
    expect("1b-bundle-keys", "the same, the history also given with --keys: tampered",
           ["--keys", hist, fb], root, {1}, [EPOCH_END])
    short = os.path.join(WORK, "a-history-epoch0.lsk")
    with open(short, "wb") as f:
        f.write(certs[0]["raw"])
    fc = os.path.join(WORK, "1c-bundle")
    forge("old-epoch-bundle", "--key", stolen, "--keys", short, "--out", fc, arch[0])
    expect("1c-bundle-short-keys", "forged bundle whose keys.lsk stops at epoch 0: the report "
           "says a forgery by an ended epoch's key cannot be excluded", [fc], root, {0, 4},
           [NOT_EXCLUDED])
    expect("1c-bundle-short-keys+history", "the same with the investigator's complete history "
           "(--keys): tampered", ["--keys", hist, fc], root, {1}, [EPOCH_END])
    n4 = os.path.join(WORK, "1d-new4.checkpoint")
    forge("checkpoint-3line", "--key", stolen, "--old", old, "--out", n4, "--batch",
          str(epoch0_last), *arch)
    expect("1d-consistency-4line", f"4-line checkpoint of batch {epoch0_last} (epoch 0's last) "
           "by the epoch-0 key extending a later genuine checkpoint: not consistent",
           ["--keys", hist, "--consistency", old, n4], root, {1}, report=False)

    b4 = os.path.join(WORK, "1e-beyond4.checkpoint")
    forge("checkpoint-3line", "--key", stolen, "--out", b4, "--batch", str(epoch0_last), *arch)
    expect("1e-checkpoint-beyond-close", f"4-line checkpoint of batch {epoch0_last} by the "
           "epoch-0 key, 4 records beyond the archives: no gap on genuine archives; the "
           "checkpoint is reported (not authentic / beyond epoch 0's close)",
           ["--keys", hist, "--checkpoint", b4, full], root, {0, 1},
           [EPOCH_END + "|" + NOT_AUTHENTIC + "|" + FORK])
    d1f = case_dir("1f-handover", arch[:1])
    forged = forge("old-epoch-archive", "--key", stolen, "--handover", "--out", d1f, arch[0])[0]
    fbatches = info([arch[0], forged])[1]["batches"]
    t.diag("1f: forged " + os.path.basename(forged) + ": " + json.dumps(
        [(b["batch"], b["epoch"], b["key_id"], b["controls"]) for b in fbatches]))
    expect("1f-handover-history", "forged archive whose epoch-0 batch hands over to a key of "
           "the forger's, with the real key history: tampered", ["--keys", hist, d1f], root, {1})
    expect("1f-handover-alone", "the same without the history: the report says a forgery by "
           "an ended epoch's key cannot be excluded, for the forged epoch-0 batch too", [d1f],
           root, {0, 4}, [NOT_EXCLUDED], also=limit_covers(fbatches[0]["batch"]))

    # F3 of the review: a key history handed over with a certificate of the forger's for
    # epoch 1 (made with the stolen epoch-0 key) in place of the genuine one. The genuine
    # archives carry their own certificate of epoch 1: the inputs conflict. The archives must
    # not read tampered (nor intact): an input error naming both keys, verified again
    # without that history, saying what the history would have made of them.
    rogue = os.path.join(WORK, "f3-rogue-epoch1.cert")
    forge("rogue-cert", "--key", stolen, "--out", rogue, *arch)
    items = parse_history(hist)
    rogue_hist = os.path.join(WORK, "f3-rogue-history.lsk")
    with open(rogue_hist, "wb") as f:
        for i in items:
            if i["type"] == "cert" and (i["kind"] == 2 or i["epoch"] == 0):
                f.write(i["raw"])
        f.write(open(rogue, "rb").read())
    expect("12-F3-rogue-history", "genuine archives with a handed-over history whose epoch-1 "
           "certificate is the forger's: input error (exit 2) naming the conflict, never "
           "tampered; the report says what the history alone would have concluded",
           ["--keys", rogue_hist, full], root, {2},
           [r"certify epoch 1 differently", r"verdict with that history", r"tampered"],
           also=lambda rc, flat: "VERDICT: TAMPERED" not in flat)
    expect("12-F3-genuine-history", "control: the same archives with the genuine history: 0",
           ["--keys", hist, full], root, {0, 4})

    # item 3: checkpoints
    n3 = os.path.join(WORK, "3-new3.checkpoint")
    forge("checkpoint-3line", "--key", stolen, "--old", old, "--out", n3, *arch)
    expect("3-consistency-3line", "3-line NEW (no logseal-batch-v1 line) by the superseded "
           "epoch-0 key, extending genuine OLD by fabricated leaves: not consistent",
           ["--keys", hist, "--consistency", old, n3], root, {1}, report=False)
    expect("3-checkpoint-3line-archive", "that 3-line checkpoint given with --checkpoint: "
           "archives intact, the checkpoint is no evidence (not a fork)",
           ["--keys", hist, "--checkpoint", n3, full], root, {0}, [NOT_EVIDENCE],
           also=lambda rc, out: not re.search(r"history was rewritten", out))
    b3 = os.path.join(WORK, "3-beyond3.checkpoint")
    forge("checkpoint-3line", "--key", stolen, "--out", b3, *arch)
    expect("3-checkpoint-3line-beyond", "3-line checkpoint by the epoch-0 key, 4 records "
           "beyond the archives: archives intact, the checkpoint is no evidence (no gap)",
           ["--keys", hist, "--checkpoint", b3, full], root, {0}, [NOT_EVIDENCE])
    later = [b for x in lay for b in x["batches"] if b["epoch"] >= 1]
    target = later[len(later) // 2]["batch"]
    cw = os.path.join(WORK, "3-wrong-key.checkpoint")
    forge("checkpoint-wrong-key", "--key", stolen, "--batch", str(target), "--out", cw, *arch)
    expect("3-checkpoint-wrong-key", f"checkpoint of genuine batch {target} signed by the "
           "epoch-0 key (may not sign it): archives intact, checkpoint not authentic",
           ["--keys", hist, "--checkpoint", cw, full], root, {0}, [NOT_AUTHENTIC])
    cf = os.path.join(WORK, "3-wrong-key-fork.checkpoint")
    forge("checkpoint-wrong-key", "--key", stolen, "--batch", str(target), "--fork", "--out", cf,
          *arch)
    expect("3-checkpoint-wrong-key-fork", f"checkpoint of another batch {target} (same tree "
           "size) signed by the epoch-0 key: archives intact, checkpoint not authentic (no fork)",
           ["--keys", hist, "--checkpoint", cf, full], root, {0}, [NOT_AUTHENTIC],
           also=lambda rc, out: not re.search(r"history was rewritten", out))

    # item 5: truncation and damage the verifier could see
    g = case_dir("5-gap", arch[:-1])
    expect("5-truncated-alone", "last archive removed, no later knowledge: intact as far as it "
           "goes, and the report says a truncation cannot be excluded (from the first missing "
           "batch or earlier)", [g], root, {0}, [TRUNCATION],
           also=limit_covers(lay[-1]["batches"][0]["batch"]))
    expect("5-gap-from-history", "the key history proves a batch beyond the archives (last "
           "archive removed): gap", ["--keys", hist, g], root, {3})
    fl = case_dir("5-flip", arch)
    last = os.path.join(fl, os.path.basename(arch[-1]))
    flip(last, 2)
    expect("5-byte2-flipped", "byte 2 of the last archive flipped: tampered, the file named",
           [fl], root, {1}, [re.escape(os.path.basename(last))])
    hd = case_dir("5-hidden", arch)
    hidden = os.path.join(hd, ".x.lsa")
    shutil.copy(arch[1], hidden)
    flip(hidden, 2)
    expect("5-hidden-damaged", "a hidden damaged copy .x.lsa in the directory: reported",
           [hd], root, {1}, [re.escape(".x.lsa")])

    # item 13: what is evidence in a bundle
    eb = os.path.join(WORK, "13-bundle")
    shutil.copytree(bundle, eb)
    extra = "report.txt" if os.path.exists(os.path.join(eb, "report.txt")) else "README.txt"
    with open(os.path.join(eb, extra), "a") as f:
        f.write("\nExaminer's conclusion: the records prove that user 1001 did nothing wrong.\n")
    names = sorted((n for n in os.listdir(eb) if n != "MANIFEST.sha256"), key=os.fsencode)
    with open(os.path.join(eb, "MANIFEST.sha256"), "w") as f:
        for n in names:
            f.write(hashlib.sha256(open(os.path.join(eb, n), "rb").read()).hexdigest() +
                    "  " + n + "\n")
    expect("13-bundle-extra-file", f"genuine bundle with {extra} rewritten and the manifest "
           f"regenerated: {extra} rejected or labelled NOT AUTHENTICATED", [eb], root, {0, 1},
           also=lambda rc, out: rc == 1 or re.search(
               re.escape(extra) + r".{0,120}not authenticated|not authenticated.{0,120}" +
               re.escape(extra), out, re.I) is not None)

    # item 12: a checkpoint nobody signed
    u = os.path.join(WORK, "12-unsigned.checkpoint")
    forge("unsigned-checkpoint", "--out", u, *arch)
    expect("12-unsigned-larger", "checkpoint signed by an unknown key claiming 1000 more "
           "records: archives intact, checkpoint not authentic",
           ["--checkpoint", u, "--keys", hist, full], root, {0}, [NOT_AUTHENTIC])
    uf = os.path.join(WORK, "12-unsigned-fork.checkpoint")
    forge("unsigned-checkpoint", "--fork", "--out", uf, *arch)
    expect("12-unsigned-fork", "checkpoint signed by an unknown key of another tree at the "
           "last batch: archives intact, checkpoint not authentic",
           ["--checkpoint", uf, "--keys", hist, full], root, {0}, [NOT_AUTHENTIC])
    return full


def cases_a_close(a, stolen, key1, old, new, bundle, hist):
    """Item 1 with the epoch close of epoch 0 the appliance wrote (format 2, in its key history):
    the verifier's close rules against the same forgeries, and the genuine controls with the
    close known. (Before the daemon wrote closes, `forge emulate-close` made it here with the
    genuine epoch-1 key; appended to the real history now, it would be a second, different
    close of epoch 0: tampered.)"""
    arch = a.archives()
    root = a.root_pub
    hc = hist
    t.check("0-a-history-has-close", "the appliance's key history holds the close of epoch 0",
            CLOSE_MAGIC in open(hc, "rb").read(), "no epoch close in " + hc)
    full = os.path.join(WORK, "a-genuine")
    expect("0-a-genuine-close", "genuine archives of A, history with epoch 0's close: intact",
           ["--keys", hc, full], root, {0})
    expect("0-a-bundle-close", "genuine bundle with that history: never tampered",
           ["--keys", hc, bundle], root, {0, 4})
    expect("0-a-consistency-close", "genuine OLD -> NEW with that history: never inconsistent",
           ["--keys", hc, "--consistency", old, new], root, {0, 4}, report=False)
    expect("1a-close-history", "forged archive after archive 0, history with epoch 0's close: "
           "tampered, inconsistent with / dated after epoch 0's close",
           ["--keys", hc, os.path.join(WORK, "1a-forged")], root, {1}, [EPOCH_END])
    fb = os.path.join(WORK, "1b-bundle-close")
    forge("old-epoch-bundle", "--key", stolen, "--keys", hc, "--out", fb, arch[0])
    expect("1b-close-bundle", "forged bundle, keys.lsk = the history with epoch 0's close: "
           "tampered", [fb], root, {1}, [EPOCH_END])
    expect("1c-close-bundle-short-keys+history", "forged bundle whose keys.lsk stops at epoch "
           "0, with the history and close given with --keys: tampered",
           ["--keys", hc, os.path.join(WORK, "1c-bundle")], root, {1}, [EPOCH_END])
    expect("1d-close-consistency-4line", "4-line checkpoint of epoch 0's last batch number "
           "beyond epoch 0's close, extending a later genuine one: not consistent",
           ["--keys", hc, "--consistency", old, os.path.join(WORK, "1d-new4.checkpoint")], root,
           {1}, report=False)
    first = info(arch[:1])[0]["batches"][-1]["batch"]
    cw = os.path.join(WORK, "1g-fork-in-window.checkpoint")
    forge("checkpoint-wrong-key", "--key", stolen, "--batch", str(first), "--fork", "--out", cw,
          *arch)
    expect("1g-close-checkpoint-fork-in-window", f"checkpoint of another batch {first} (inside "
           "epoch 0's window) by the epoch-0 key, close known: archives intact, the checkpoint "
           "not authentic (not 'history was rewritten')",
           ["--keys", hc, "--checkpoint", cw, full], root, {0}, [NOT_AUTHENTIC],
           also=lambda rc, out: not re.search(r"history was rewritten", out))
    expect("1e-close-checkpoint-beyond", "4-line checkpoint of epoch 0's last batch beyond the "
           "archives, close known: no gap; the checkpoint reported",
           ["--keys", hc, "--checkpoint", os.path.join(WORK, "1e-beyond4.checkpoint"), full],
           root, {0, 1}, [EPOCH_END + "|" + NOT_AUTHENTIC + "|" + FORK])


def cases_b(a, ahist, b, bkey, bhist):
    root = a.root_pub
    gb = case_dir("b-genuine", b.archives())
    expect("0-b-genuine", "genuine archives of B with B's history: intact", ["--keys", bhist, gb],
           root, {0})
    fd = os.path.join(WORK, "2-foreign")
    fbd = os.path.join(WORK, "2-foreign-bundle")
    forge("foreign-chain", "--key", bkey, "--keys", bhist, "--chain-id", a.chain_hex, "--out", fd,
          "--bundle", fbd, "--host", "forgery-a")
    expect("2-keys-B", "chain with A's chain id signed by B's genuine key, --keys = B's history: "
           "tampered", ["--keys", bhist, fd], root, {1}, [OTHER_CHAIN])
    expect("2-keys-B-after-path", "the same, --keys after the archive path", [fd, "--keys", bhist],
           root, {1}, [OTHER_CHAIN])
    expect("2-keys-A-then-B", "the same, A's genuine history then B's", ["--keys", ahist,
           "--keys", bhist, fd], root, {1}, [OTHER_CHAIN])
    expect("2-keys-B-then-A", "the same, B's history then A's", ["--keys", bhist, "--keys", ahist,
           fd], root, {1}, [OTHER_CHAIN])
    expect("2-in-chain-cert", "the same without --keys (B's certificate only in the chain's "
           "KEY_TRANSITION record): tampered", [fd], root, {1}, [OTHER_CHAIN + "|not certified"])
    expect("2-bundle", "bundle of the foreign chain, keys.lsk = B's history: tampered", [fbd],
           root, {1}, [OTHER_CHAIN])
    expect("2-bundle-keys-A", "the same with A's history given with --keys: tampered",
           ["--keys", ahist, fbd], root, {1}, [OTHER_CHAIN])
    # A checkpoint of B's own chain (signed by B's key for one of B's batches) given with A's
    # genuine archives and both histories: not A's evidence, a note (an adversarial review found
    # it read as a fork of A).
    bcp = os.path.join(WORK, "2-b-checkpoint.checkpoint")
    bl = info(b.archives())
    forge("checkpoint-wrong-key", "--key", bkey, "--batch", str(bl[0]["batches"][-1]["batch"]),
          "--out", bcp, *b.archives())
    ga = case_dir("a-genuine-for-b", a.archives())
    expect("2-other-chain-checkpoint", "A's genuine archives with a checkpoint of B's chain: "
           "intact, the checkpoint a note", ["--keys", ahist, "--keys", bhist, "--checkpoint", bcp,
                                             ga], root, {0}, [OTHER_CHAIN],
           also=lambda rc, out: not re.search(r"history was rewritten|fork\b", out))


def cases_c(c, stolen, rev, old, new, old_revoked, hist, k0):
    root = c.root_pub
    arch = c.archives()
    lay = info(arch)
    t.diag(f"c: revoked epoch-0 key {k0} from batch 1; " + "; ".join(
        f"archive {x['archive_no']}: " + " ".join(
            f"{b['batch']}/e{b['epoch']}" +
            ("(revocation)" if "revocation" in b["controls"] else "")
            for b in x["batches"]) for x in lay))
    d = case_dir("7-revoked", arch)
    rc1, _ = expect("7-revocation-in-chain", "revocation sealed in the chain, no --keys: revoked "
                    "(exit 5), the finding names the revocation", [d], root, {5}, [REVOKED])
    rc2, _ = expect("7-revocation-file", "the same with the revocation file (--keys): the same "
                    "verdict, revoked (exit 5)", ["--keys", rev, d], root, {5}, [REVOKED])
    expect("7-revocation-history", "the same with the complete history: revoked (exit 5)",
           ["--keys", hist, d], root, {5}, [REVOKED])
    t.diag(f"7: exit without the revocation file {rc1}, with it {rc2}")
    n3 = os.path.join(WORK, "3-new3-revoked.checkpoint")
    forge("checkpoint-3line", "--key", stolen, "--old", old, "--out", n3, *arch)
    expect("0-c-consistency", "genuine OLD -> NEW after the revocation and the admin rotation "
           "(root-certified keys): consistent", ["--keys", hist, "--consistency", old, new], root,
           {0, 4}, report=False)
    expect("3-consistency-3line-revoked", "3-line NEW by the revoked epoch-0 key extending "
           "genuine OLD: not consistent", ["--keys", hist, "--consistency", old, n3], root, {1},
           report=False)
    n3r = os.path.join(WORK, "3-new3-old-revoked.checkpoint")
    forge("checkpoint-3line", "--key", stolen, "--old", old_revoked, "--out", n3r, *arch)
    expect("3-consistency-3line-old-revoked", "the same from a genuine OLD whose key inherits "
           "the revocation: not consistent (tampered wins over revoked)",
           ["--keys", hist, "--consistency", old_revoked, n3r], root, {1}, report=False)


def cases_d(d, root2, bundle):
    root = d.root_pub
    rid = pubkey_file(root)[0].hex()
    arch = case_dir("8-archives", d.archives())
    expect("0-d-genuine", "archives with a root rotation, original root: intact", [arch], root,
           {0})
    expect("0-d-bundle", "bundle after a root rotation, original root: intact", [bundle], root,
           {0})
    expect("8-later-root-archives", "the same archives with the post-rotation root as trust "
           "anchor: usage error (exit 2) naming the original root's key id", [arch], root2, {2},
           [rid])
    expect("8-later-root-bundle", "the bundle with the post-rotation root: usage error (exit 2) "
           "naming the original root's key id", [bundle], root2, {2}, [rid])


# ---------------------------------------------------------------- main

APPS = []
tmp = None
if KEEP:
    WORK = os.path.abspath(KEEP)
    shutil.rmtree(WORK, ignore_errors=True)
else:
    tmp = tempfile.TemporaryDirectory(prefix="logseal-forgery-")
    WORK = tmp.name
os.makedirs(os.path.join(WORK, "reports"))
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
