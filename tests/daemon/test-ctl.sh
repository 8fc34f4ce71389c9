#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# test-ctl.sh: logsealctl init/keygen/fingerprint/key export-history/status, as TAP.
# Usage: test-ctl.sh PATH/TO/logsealctl
set -u

ctl=${1:?usage: test-ctl.sh LOGSEALCTL}
case $ctl in /*) ;; *) ctl=$PWD/$ctl ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-ctl.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
# Nothing here may prompt: passphrases come from the environment or not at all.
unset LOGSEAL_PASSPHRASE

n=0
failed=0
ok() {
        n=$((n + 1))
        echo "ok $n - $1"
}
not_ok() {
        n=$((n + 1))
        failed=1
        echo "not ok $n - $1"
        shift
        for line in "$@"; do
                echo "# $line"
        done
}
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
        desc=$1
        shift
        if "$@" >cmd.out 2>cmd.err; then
                ok "$desc"
        else
                not_ok "$desc" "command: $*" "$(cat cmd.err)"
        fi
}
# check_fails DESCRIPTION STATUS COMMAND...: passes when COMMAND exits with STATUS.
check_fails() {
        desc=$1
        want=$2
        shift 2
        "$@" >cmd.out 2>cmd.err
        got=$?
        if [ "$got" -eq "$want" ]; then
                ok "$desc"
        else
                not_ok "$desc" "command: $*" "exit status $got, expected $want" "$(cat cmd.err)"
        fi
}
mode() { stat -c %a "$1"; }
size() { stat -c %s "$1"; }
# hexbytes FILE OFFSET COUNT: lower-case hex of COUNT bytes at OFFSET.
hexbytes() { od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
byte() { od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' \n'; }
is() {
        if [ "$2" = "$3" ]; then
                ok "$1"
        else
                not_ok "$1" "got:      '$2'" "expected: '$3'"
        fi
}

# ---- init without a passphrase ----

s=$tmp/state
check "init --no-passphrase creates a state directory" \
        "$ctl" init --state-dir "$s" --no-passphrase
grep -q "logseal-verify --root-key .*/root.pub .*/archives" cmd.out &&
        ok "init prints the verify command" || not_ok "init prints the verify command" "$(cat cmd.out)"

missing=
for f in chain.id root.pub root.key keys/signing.key keys/history.lsk; do
        [ -f "$s/$f" ] || missing="$missing $f"
done
for d in keys archives wal index; do
        [ -d "$s/$d" ] || missing="$missing $d/"
done
is "init creates every file and directory" "$missing" ""

is "state directory is 0750" "$(mode "$s")" 750
is "keys/ is 0700" "$(mode "$s/keys")" 700
is "wal/ is 0700" "$(mode "$s/wal")" 700
is "archives/ is 0750" "$(mode "$s/archives")" 750
is "index/ is 0750" "$(mode "$s/index")" 750
is "root.key is 0600" "$(mode "$s/root.key")" 600
is "keys/signing.key is 0600" "$(mode "$s/keys/signing.key")" 600
is "root.key is a secret key file without kdf" "$(size "$s/root.key"):$(byte "$s/root.key" 10)" 168:0
is "keys/signing.key has no passphrase (kdf 0)" "$(byte "$s/keys/signing.key" 10)" 0

chain=$(cat "$s/chain.id")
if [ "$(size "$s/chain.id")" = 33 ] && echo "$chain" | grep -qx '[0-9a-f]\{32\}'; then
        ok "chain.id is 32 lower-case hex digits and LF"
else
        not_ok "chain.id is 32 lower-case hex digits and LF" "$chain"
fi

# ---- init refuses an initialised directory ----

sum_before=$(cksum "$s/keys/signing.key" "$s/root.key" "$s/keys/history.lsk" "$s/chain.id")
check_fails "init twice is refused" 1 "$ctl" init --state-dir "$s" --no-passphrase
grep -q "already initialised" cmd.err &&
        ok "the refusal says already initialised" ||
        not_ok "the refusal says already initialised" "$(cat cmd.err)"
is "a refused init leaves the keys alone" \
        "$(cksum "$s/keys/signing.key" "$s/root.key" "$s/keys/history.lsk" "$s/chain.id")" \
        "$sum_before"

# ---- the key history ----

h=$s/keys/history.lsk
is "history.lsk is exactly one certificate (168 bytes)" "$(size "$h")" 168
is "history.lsk starts with the certificate magic" "$(hexbytes "$h" 0 8)" 894c53430d0a1a0a
is "the certificate is a signing-key certificate for epoch 0" \
        "$(byte "$h" 12):$(hexbytes "$h" 72 8):$(hexbytes "$h" 80 8)" \
        "1:0000000000000000:0000000000000000"
is "the certificate names the chain of chain.id" "$(hexbytes "$h" 16 16)" "$chain"
is "the certificate carries the CLOSED flag: its epoch ends with a signed close (SPEC §9.1)" \
        "$(hexbytes "$h" 14 2)" "0100"
is "the certificate's key id is keys/signing.key's" \
        "$(hexbytes "$h" 64 8)" "$(hexbytes "$s/keys/signing.key" 72 8)"
is "the certificate's issuer is root.key" \
        "$(hexbytes "$h" 96 8)" "$(hexbytes "$s/root.key" 72 8)"

check "key export-history writes a copy" \
        "$ctl" key export-history --state-dir "$s" --out "$tmp/history-copy.lsk"
if cmp -s "$h" "$tmp/history-copy.lsk"; then
        ok "the exported history is identical to keys/history.lsk"
else
        not_ok "the exported history is identical to keys/history.lsk"
fi
cp "$h" "$tmp/history.good"
printf 'garbage' >>"$h"
check_fails "key export-history refuses a damaged history" 1 \
        "$ctl" key export-history --state-dir "$s" --out "$tmp/history-bad.lsk"
[ ! -e "$tmp/history-bad.lsk" ] && ok "nothing is exported from a damaged history" ||
        not_ok "nothing is exported from a damaged history"
cp "$tmp/history.good" "$h"

# ---- public keys ----

check "fingerprint reads root.pub" "$ctl" fingerprint "$s/root.pub"
root_id=$(hexbytes "$s/root.key" 72 8)
grep -q "^key id: *$root_id\$" cmd.out &&
        ok "fingerprint prints the root key id" ||
        not_ok "fingerprint prints the root key id" "want $root_id" "$(cat cmd.out)"
fp=$(sed -n 's/^fingerprint: *//p' cmd.out)
if echo "$fp" | grep -qx '\([0-9a-f]\{4\} \)\{7\}[0-9a-f]\{4\}'; then
        ok "the fingerprint is printed in groups of four"
else
        not_ok "the fingerprint is printed in groups of four" "$(cat cmd.out)"
fi
grep -q "logseal root public key $root_id" "$s/root.pub" &&
        ok "root.pub's comment names the key id" || not_ok "root.pub's comment names the key id"
check_fails "fingerprint refuses a secret key file" 1 "$ctl" fingerprint "$s/root.key"
printf 'untrusted comment: x\nAAAA\n' >bad.pub
check_fails "fingerprint refuses a malformed public key" 1 "$ctl" fingerprint bad.pub

# ---- status ----

check_fails "status reads the state directory; no daemon: exit 3 (LSB: not running)" 3 \
        "$ctl" status --state-dir "$s"
grep -q "chain id: *$chain" cmd.out && grep -q "epoch 0" cmd.out &&
        grep -q "archives: *0" cmd.out && grep -q "daemon: *not running" cmd.out &&
        ok "status shows the chain id, epoch 0, no archives, no daemon" ||
        not_ok "status shows the chain id, epoch 0, no archives, no daemon" "$(cat cmd.out)"

# ---- passphrases ----

p=$tmp/state-pass
check "init with a passphrase from LOGSEAL_PASSPHRASE" \
        env LOGSEAL_PASSPHRASE=x "$ctl" init --state-dir "$p"
is "the root key is protected by Argon2id (kdf 1)" "$(byte "$p/root.key" 10)" 1
is "the signing key still has no passphrase (kdf 0)" "$(byte "$p/keys/signing.key" 10)" 0

check_fails "init --root-key with a wrong passphrase fails" 1 \
        env LOGSEAL_PASSPHRASE=wrong "$ctl" init --state-dir "$tmp/state-wrong" --root-key "$p/root.key"
[ ! -e "$tmp/state-wrong" ] && ok "a failed init leaves no directory behind" ||
        not_ok "a failed init leaves no directory behind"
check "init --root-key reuses an existing root key" \
        env LOGSEAL_PASSPHRASE=x "$ctl" init --state-dir "$tmp/state-reuse" --root-key "$p/root.key"
is "the reused root key gives the same root.pub" \
        "$(tail -n 1 "$tmp/state-reuse/root.pub")" "$(tail -n 1 "$p/root.pub")"
[ ! -e "$tmp/state-reuse/root.key" ] && ok "init --root-key does not copy the root secret key" ||
        not_ok "init --root-key does not copy the root secret key"
is "the reused root key certified the new signing key" \
        "$(hexbytes "$tmp/state-reuse/keys/history.lsk" 96 8)" "$(hexbytes "$p/root.key" 72 8)"
if [ "$(cat "$tmp/state-reuse/chain.id")" != "$(cat "$p/chain.id")" ]; then
        ok "each init starts a new chain"
else
        not_ok "each init starts a new chain"
fi
check_fails "init --root-key refuses a public key file" 1 \
        "$ctl" init --state-dir "$tmp/state-pub" --root-key "$p/root.pub"

# ---- keygen ----

check "keygen --no-passphrase writes a root key pair" "$ctl" keygen --root "$tmp/root" --no-passphrase
is "keygen's secret key is 0600" "$(mode "$tmp/root")" 600
check "keygen's public key reads back" "$ctl" fingerprint "$tmp/root.pub"
sum_before=$(cksum "$tmp/root" "$tmp/root.pub")
check_fails "keygen refuses to overwrite a key" 1 "$ctl" keygen --root "$tmp/root" --no-passphrase
is "the refused keygen left the key alone" "$(cksum "$tmp/root" "$tmp/root.pub")" "$sum_before"
: >"$tmp/other.pub"
check_fails "keygen refuses when only FILE.pub exists" 1 \
        "$ctl" keygen --root "$tmp/other" --no-passphrase
[ ! -e "$tmp/other" ] && ok "and writes no secret key then" || not_ok "and writes no secret key then"
check "init --root-key accepts a keygen key without passphrase" \
        "$ctl" init --state-dir "$tmp/state-keygen" --root-key "$tmp/root"

# ---- usage ----

check_fails "a missing --state-dir is a usage error" 2 "$ctl" init --no-passphrase
check_fails "an unknown option is a usage error" 2 "$ctl" status --frob
grep -qx "Try 'logsealctl status --help'." cmd.err && ok "... which points to the verb's --help" ||
        not_ok "... which points to the verb's --help" "$(cat cmd.err)"
check_fails "key revoke without a KEYID is a usage error" 2 "$ctl" key revoke
grep -qx "Try 'logsealctl key revoke --help'." cmd.err && ok "... which points to key revoke --help" ||
        not_ok "... which points to key revoke --help" "$(cat cmd.err)"
check_fails "an unknown command is a usage error" 2 "$ctl" frobnicate
grep -qx "Try 'logsealctl --help'." cmd.err && ok "... which points to logsealctl --help" ||
        not_ok "... which points to logsealctl --help" "$(cat cmd.err)"
check "--version works" "$ctl" --version
mkdir -p "$tmp/state-used/archives" && : >"$tmp/state-used/archives/chain-x-0.lsa"
check_fails "init refuses a directory that holds archives" 1 \
        "$ctl" init --state-dir "$tmp/state-used" --no-passphrase

# ---- ownership: init --user (as root), and what a service user is told ----

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && getent passwd nobody >/dev/null; then
        svc=nobody
        svc_group=$(id -gn nobody)
        # The service user must reach $tmp (made 0700 by mktemp).
        chmod 0755 "$tmp"
        as_svc() { (cd / && setpriv --reuid="$svc" --regid="$svc_group" --init-groups -- "$@"); }
        check "keygen: a root key only root may read" "$ctl" keygen --root "$tmp/rootonly" --no-passphrase
        chmod 0600 "$tmp/rootonly"
        mkdir -m 0755 "$tmp/svc" && chown "$svc:$svc_group" "$tmp/svc"
        check_fails "the service user cannot read the root key: init fails" 1 \
                as_svc "$ctl" init --state-dir "$tmp/svc/state" --root-key "$tmp/rootonly"
        grep -q -- "--user" cmd.err && ok "... and says to run it as root with --user" ||
                not_ok "... and says to run it as root with --user" "$(cat cmd.err)"
        check_fails "init --user needs root" 1 \
                as_svc "$ctl" init --state-dir "$tmp/svc/state" --root-key "$tmp/rootonly" --user root
        check_fails "init --user refuses an unknown user" 1 \
                "$ctl" init --state-dir "$tmp/u-none" --no-passphrase --user no-such-user-here
        [ ! -e "$tmp/u-none" ] && ok "... and creates nothing" || not_ok "... and creates nothing"

        u=$tmp/u-state
        check "init --user $svc --root-key (as root) initialises" \
                "$ctl" init --state-dir "$u" --root-key "$tmp/rootonly" --user "$svc"
        notsvc=$(find "$u" ! -user "$svc" -print)
        is "everything in the state directory belongs to $svc" "$notsvc" ""
        notgrp=$(find "$u" ! -group "$svc_group" -print)
        is "... and to its group $svc_group" "$notgrp" ""
        is "modes as without --user: DIR, keys/, signing.key, root.pub" \
                "$(mode "$u") $(mode "$u/keys") $(mode "$u/keys/signing.key") $(mode "$u/root.pub")" \
                "750 700 600 644"
        [ ! -e "$u/root.key" ] && ok "init --user --root-key does not copy the root key" ||
                not_ok "init --user --root-key does not copy the root key"
        check_fails "the service user reads its state: status (no daemon: exit 3)" 3 \
                as_svc "$ctl" status --state-dir "$u"

        g=$tmp/u-gen
        check "init --user $svc --no-passphrase: the generated root key is $svc's too" \
                "$ctl" init --state-dir "$g" --no-passphrase --user "$svc"
        is "... root.key 0600 $svc" "$(stat -c '%a %U' "$g/root.key")" "600 $svc"

        # The packages' tmpfiles.d make the state directory the service user's; init as root
        # without --user would fill it with root's files.
        mkdir -m 0750 "$tmp/tmpfiles-state" && chown "$svc:$svc_group" "$tmp/tmpfiles-state"
        check_fails "init as root refuses a directory of $svc's without --user" 1 \
                "$ctl" init --state-dir "$tmp/tmpfiles-state" --no-passphrase
        grep -q -- "--user $svc" cmd.err && ok "... and names --user $svc" ||
                not_ok "... and names --user $svc" "$(cat cmd.err)"
        is "... and writes nothing in it" "$(ls -A "$tmp/tmpfiles-state")" ""
        check "init --user $svc on that directory works" \
                "$ctl" init --state-dir "$tmp/tmpfiles-state" --no-passphrase --user "$svc"

        mkdir -m 0750 "$tmp/root-empty"
        check "init --user makes an empty directory of root's the service user's" \
                "$ctl" init --state-dir "$tmp/root-empty" --no-passphrase --user "$svc"
        is "... owner" "$(stat -c %U "$tmp/root-empty")" "$svc"

        check "init as root, without --user" "$ctl" init --state-dir "$tmp/root-made" --no-passphrase
        check_fails "init --user on a state directory root initialised refuses" 1 \
                "$ctl" init --state-dir "$tmp/root-made" --no-passphrase --user "$svc"
        grep -q "chown -R $svc: $tmp/root-made" cmd.err && ok "... and gives the chown command" ||
                not_ok "... and gives the chown command" "$(cat cmd.err)"
else
        ok "# SKIP init --user: not root, or no setpriv or no user nobody"
fi

echo "1..$n"
exit $failed
