#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# inside.py: the parts of tests/appliance/test-appliance.sh that run inside the booted
# appliance (with the installed packages, as root):
#   loadgen STATE_FILE RATE SOCKET=STREAM...   numbered messages to each forwarder's input
#                                               socket, RATE per second each, until SIGTERM;
#                                               the phase comes from /run/appliance/phase
#   logger STATE_FILE COUNT                    COUNT numbered messages with logger(1) over
#                                               TCP to 127.0.0.1:514, one connection each
#   check STATE_FILE,... ROOT_PUB ARCHIVES     logseal-verify --json --dump=json the archives
#                                               and compare with what was sent: JSON summary
#                                               (and counts of "appliance-marker-NAME");
#                                               each run of missing messages is "declared"
#                                               when the chain holds, between the sealed
#                                               messages around it, a sequence-gap LOSS (or a
#                                               SEQUENCE_RESET) of the stream's sender (SPEC
#                                               §4.5: the forwarders' meta sequenceId)
# A message is "appliance-load stream=S seq=N phase=P"; STATE_FILE (JSON) keeps, per stream,
# the last seq sent and the phase of every seq range, across reboots.
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

PHASE_FILE = "/run/appliance/phase"
MSG = re.compile(rb"appliance-load stream=(\w+) seq=(\d+) phase=([\w.-]+)")
MARKER = re.compile(rb"appliance-marker-([\w-]+)")
SEQID = re.compile(rb'\[meta sequenceId="(\d+)"')
# The sender names (SOURCE) of the forwarders: plain TCP by address, TLS by certificate.
SENDER_PREFIX = {"tcp": "tcp peer=", "tls": "unix subject=CN=host1"}


def load_state(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"streams": {}}


def save_state(path, st):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def phase():
    try:
        with open(PHASE_FILE) as f:
            return f.read().strip() or "none"
    except OSError:
        return "none"


def note_sent(st, stream, seq, ph):
    s = st["streams"].setdefault(stream, {"last": 0, "phases": []})
    s["last"] = seq
    # phases: [[first_seq, phase], ...] in order
    if not s["phases"] or s["phases"][-1][1] != ph:
        s["phases"].append([seq, ph])


def loadgen(state_file, rate, targets):
    st = load_state(state_file)
    socks = []
    for t in targets:
        path, stream = t.split("=", 1)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        socks.append((s, path, stream))
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    interval = 1.0 / rate
    nxt = time.monotonic()
    last_save = 0.0
    while not stop:
        ph = phase()
        for s, path, stream in socks:
            seq = st["streams"].get(stream, {"last": 0})["last"] + 1
            # "<PRI>PROGRAM: TEXT": the forwarder parses it as a BSD syslog message.
            msg = b"<14>appliance: appliance-load stream=%s seq=%d phase=%s" % (
                stream.encode(), seq, ph.encode())
            # A unix datagram socket blocks while the forwarder's queue is full: nothing is
            # dropped here. A forwarder that is not running is an error of the harness.
            while not stop:
                try:
                    s.sendto(msg, path)
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                break
            note_sent(st, stream, seq, ph)
        now = time.monotonic()
        if now - last_save > 0.5:
            save_state(state_file, st)
            last_save = now
        nxt += interval
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            nxt = time.monotonic()
    save_state(state_file, st)


def logger(state_file, count):
    st = load_state(state_file)
    failed = 0
    for _ in range(count):
        seq = st["streams"].get("logger", {"last": 0})["last"] + 1
        ph = phase()
        p = subprocess.run(["logger", "-n", "127.0.0.1", "-P", "514", "-T", "--octet-count",
                            "-t", "appliance-test",
                            "appliance-load stream=logger seq=%d phase=%s" % (seq, ph)],
                           capture_output=True)
        if p.returncode != 0:
            failed += 1
            continue
        note_sent(st, "logger", seq, ph)
    save_state(state_file, st)
    print(json.dumps({"sent": count - failed, "failed": failed}))


def phase_of(ranges, seq):
    ph = "?"
    for first, p in ranges:
        if first <= seq:
            ph = p
        else:
            break
    return ph


def check(state_files, root_pub, archives):
    st = {"streams": {}}
    for f in state_files.split(","):
        st["streams"].update(load_state(f)["streams"])
    p = subprocess.run(["logseal-verify", "--root-key", root_pub, "--json", "--dump=json",
                        archives], capture_output=True)
    try:
        report = json.loads(p.stderr)
    except ValueError:
        report = {"raw": p.stderr.decode(errors="replace")[-2000:]}
    got = {}
    at = {}             # stream -> {seq: chain seq of its record}
    markers = {}
    events = {}
    identities = {}
    fields = {e.get("seq"): e.get("fields", {})
              for e in (report.get("events", {}).get("list", []) if isinstance(report, dict) else [])}
    declared = []       # (chain seq, "gap"/"reset", source, count)
    detail = {}         # stream -> [(seq, chain seq, time, flags, port)] in chain order
    sid = {}            # stream -> {seq: the forwarder's sequence number}
    without_seqid = {}
    for line in p.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("type") == "syslog" and declared and len(declared[-1]) == 6 and \
                declared[-1][0] + 1 == r.get("seq"):
            declared[-1] = declared[-1] + ((r.get("message") or "")[:160],)
        if r.get("type") != "syslog":
            t = r.get("control") or r.get("event") or r.get("type")
            events[str(t)] = events.get(str(t), 0) + 1
            f = fields.get(r.get("seq"), {})
            if t == "loss" and f.get("cause") == "sequence-gap":
                declared.append((r["seq"], "gap", f.get("source", ""), f.get("seq_expected", 0),
                                 f.get("seq_got", 0), f.get("count", 0)))
            elif t == "sequence-reset":
                declared.append((r["seq"], "reset", f.get("source", ""), f.get("seq_expected", 0),
                                 f.get("seq_got", 0), 0))
            continue
        body = (r.get("message") or "").encode()
        for mk in MARKER.findall(body):
            markers[mk.decode()] = markers.get(mk.decode(), 0) + 1
        m = MSG.search(body)
        if not m:
            continue
        stream = m.group(1).decode()
        got.setdefault(stream, []).append(int(m.group(2)))
        at.setdefault(stream, {})[int(m.group(2))] = r.get("seq", 0)
        sq = SEQID.search(body)
        if sq:
            sid.setdefault(stream, {})[int(m.group(2))] = int(sq.group(1))
        detail.setdefault(stream, []).append((int(m.group(2)), r.get("seq", 0), r.get("time"),
                                              r.get("flags", []), r.get("port")))
        if stream in SENDER_PREFIX and not SEQID.search(body):
            without_seqid[stream] = without_seqid.get(stream, 0) + 1
        if r.get("sender_identity"):
            identities[stream] = identities.get(stream, 0) + 1
    verdict = report.get("verdict") if isinstance(report, dict) else None
    out = {"verify_exit": p.returncode,
           "verdict": verdict.get("class") if isinstance(verdict, dict) else verdict,
           "events": events, "markers": markers, "streams": {}}
    for stream, s in st["streams"].items():
        seqs = got.get(stream, [])
        seen = set()
        dups = 0
        for q in seqs:
            if q in seen:
                dups += 1
            seen.add(q)
        out_of_order = sum(1 for a, b in zip(seqs, seqs[1:]) if b <= a)
        dl = detail.get(stream, [])
        disorder = [[a, b, phase_of(s["phases"], a[0]), phase_of(s["phases"], b[0])]
                    for a, b in zip(dl, dl[1:]) if b[0] <= a[0]][:5]
        missing = [q for q in range(1, s["last"] + 1) if q not in seen]
        by_phase = {}
        for q in missing:
            ph = phase_of(s["phases"], q)
            by_phase.setdefault(ph, []).append(q)
        # Runs of missing messages, each with the forwarder's numbers of the sealed messages
        # around it: declared when the stream's sender has gap declarations over those
        # numbers that count at least the run (the forwarder's own messages are numbered
        # too), or a reset between them.
        undeclared, reset_only = {}, {}
        chain = at.get(stream, {})
        nums = sid.get(stream, {})
        mine = [d for d in declared if d[2].startswith(SENDER_PREFIX.get(stream, "\0"))]
        run = []
        for q in missing + [None]:
            if q is not None and (not run or q == run[-1] + 1):
                run.append(q)
                continue
            if run:
                before = [k for k in chain if k < run[0]]
                after = [k for k in chain if k > run[-1]]
                lo = nums.get(max(before), 0) if before else 0
                hi = nums.get(min(after), 1 << 40) if after else 1 << 40
                clo = chain[max(before)] if before else -1
                chi = chain[min(after)] if after else 1 << 62
                ph = phase_of(s["phases"], run[0])
                # a gap declaration [E, G) of this sender: the numbers it covers in (lo, hi)
                covered = sum(max(0, min(d[4], hi) - max(d[3], lo + 1))
                              for d in mine if d[1] == "gap")
                if covered >= len(run):
                    pass
                elif any(d[1] == "reset" and clo < d[0] <= chi for d in mine):
                    reset_only[ph] = reset_only.get(ph, 0) + len(run)
                else:
                    undeclared[ph] = undeclared.get(ph, 0) + len(run)
            run = [q] if q is not None else []
        out["streams"][stream] = {
            "sent": s["last"], "sealed": len(seqs), "duplicates": dups,
            "out_of_order": out_of_order, "missing": len(missing),
            "missing_by_phase": {k: len(v) for k, v in by_phase.items()},
            "missing_first": {k: v[:10] for k, v in by_phase.items()},
            "with_identity": identities.get(stream, 0),
            "undeclared_by_phase": undeclared, "reset_declared_by_phase": reset_only,
            "without_sequence_id": without_seqid.get(stream, 0),
            "out_of_order_first": disorder}
    out["sequence_declarations"] = [list(d) for d in declared][:50]
    out["report_findings"] = report.get("findings", [])[:10] if isinstance(report, dict) else []
    print(json.dumps(out, indent=1))


def main():
    cmd = sys.argv[1]
    if cmd == "loadgen":
        loadgen(sys.argv[2], float(sys.argv[3]), sys.argv[4:])
    elif cmd == "logger":
        logger(sys.argv[2], int(sys.argv[3]))
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: inside.py loadgen|logger|check ...")


if __name__ == "__main__":
    main()
