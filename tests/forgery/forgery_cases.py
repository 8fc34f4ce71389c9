# SPDX-License-Identifier: Apache-2.0
# forgery_cases: the appliances of test-forgery.py and the cases played against each
# (tests/forgery/README.md, "Appliances" and "Cases").
import hashlib
import json
import os
import re
import shutil

from forgerylib import (APPS, BUILD, CLOSE_MAGIC, EPOCH_END, FORK, NOT_AUTHENTIC, NOT_EVIDENCE,
                        NOT_EXCLUDED, OTHER_CHAIN, REVOKED, TRUNCATION, WORK, App, case_dir,
                        ctl, expect, flip, forge, info, limit_covers, parse_history,
                        pubkey_file, signing_certs, t)


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
