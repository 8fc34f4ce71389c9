#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages, end to end (TAP): build them with packaging/build-deb.sh,
# install both, check what they put where, initialise /var/lib/logseal as the
# logseal user, run the INSTALLED logseald as that user on a loopback TCP port
# (no systemd as PID 1 needed), send it messages with logger, stop it with
# SIGTERM, verify the archives with the INSTALLED logseal-verify, purge both
# packages, and check that nothing they installed is left while the evidence
# in /var/lib/logseal is untouched.
#
# It installs and purges system packages, so it runs from ./runtests, never
# from `meson test`. Exit 77 (skipped) when not root, without
# dpkg-buildpackage, or when it would touch an existing installation
# (/var/lib/logseal, /etc/logseal/logseald.conf or a logseal package present).
# It leaves the system as it found it: what it created (/var/lib/logseal, the
# logseal user) is removed by its own cleanup, after the checks.
# usage: tests/packaging/test-deb.sh
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
state=/var/lib/logseal

skip() { echo "1..0 # SKIP $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root (installs packages)"
command -v dpkg-buildpackage >/dev/null || skip "no dpkg-buildpackage (apt-get install dpkg-dev debhelper)"

# One run at a time on this machine (the state directory and the packages are global).
lock=/run/lock/logseal-test-deb.lock
[ -d /run/lock ] || lock=/tmp/logseal-test-deb.lock
exec 9>"$lock"
flock -w 600 9 || skip "another test-deb.sh run holds $lock"

[ ! -e "$state" ] || skip "$state exists (not touching existing evidence)"
[ ! -e /etc/logseal/logseald.conf ] || skip "/etc/logseal/logseald.conf exists"
for p in logseal logseal-verify; do
        if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
                skip "package $p is installed"
        fi
done
user_existed=0
getent passwd logseal >/dev/null && user_existed=1
group_existed=0
getent group logseal >/dev/null && group_existed=1
run_existed=0
[ -e /run/logseal ] && run_existed=1

tmp=$(mktemp -d /tmp/logseal-test-deb.XXXXXX)
daemon_pid=
installed=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
        if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
                kill -KILL "$daemon_pid" 2>/dev/null
                wait "$daemon_pid" 2>/dev/null
        fi
        if [ "$installed" = 1 ]; then
                dpkg --purge logseal-verify logseal >/dev/null 2>&1
        fi
        # Only what this test created, and only now that the checks are done.
        rm -rf "$state"
        [ "$run_existed" = 1 ] || rm -rf /run/logseal
        if [ "$user_existed" = 0 ] && getent passwd logseal >/dev/null; then
                userdel logseal 2>/dev/null
        fi
        if [ "$group_existed" = 0 ] && getent group logseal >/dev/null; then
                groupdel logseal 2>/dev/null
        fi
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

n=0
fail=0
check() { # check STATUS DESCRIPTION
        n=$((n + 1))
        if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
diag() { sed 's/^/# /' "$@"; }
bail() { # the remaining steps depend on this one
        echo "1..$n"
        exit 1
}

# 1. Build.
start=$SECONDS
packaging_out="$tmp/debs"
if "$repo/packaging/build-deb.sh" "$packaging_out" >"$tmp/build.log" 2>&1; then
        check 0 "build-deb.sh builds the packages ($((SECONDS - start)) s)"
else
        check 1 "build-deb.sh builds the packages"
        tail -n 40 "$tmp/build.log" | diag
        bail
fi
deb=$(echo "$packaging_out"/logseal_*.deb)
verify_deb=$(echo "$packaging_out"/logseal-verify_*.deb)
[ -f "$deb" ] && [ -f "$verify_deb" ]
check $? "logseal and logseal-verify .deb files produced"
[ "$fail" = 0 ] || bail
# What a build in place would leave: debian/, obj-*/, and packages next to the tree.
litter=$(cd "$repo" && ls -d debian obj-* ../logseal*_*.deb ../logseal_*.buildinfo ../logseal_*.changes 2>/dev/null)
[ -z "$litter" ]
check $? "the build left nothing in or next to the repository${litter:+ ($litter)}"

# 2. What logseal-verify needs: libc, libsodium, libzstd, libjansson, nothing of the daemon's.
depends=$(dpkg-deb -f "$verify_deb" Depends)
echo "# logseal-verify Depends: $depends"
echo "# logseal Depends: $(dpkg-deb -f "$deb" Depends)"
bad=$(echo "$depends" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -vxE 'libc6|libsodium23|libzstd1|libjansson4|libarchive13')
[ -z "$bad" ] && ! echo "$depends" | grep -qE 'libsystemd|libsqlite|libinih'
check $? "logseal-verify depends on libc6, libsodium23, libzstd1, libjansson4, libarchive13 only (${bad:-nothing else})"
dpkg-deb -c "$verify_deb" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' |
        grep -vxE '/usr/bin/logseal-verify|/usr/share/man/man1/logseal-verify\.1\.gz|/usr/share/doc/logseal-verify/(copyright|changelog\.gz|investigators\.md|verify-report\.schema\.json)' \
        >"$tmp/extra" || true
[ ! -s "$tmp/extra" ]
check $? "logseal-verify holds the verifier, its man page, the investigators' guide and the report schema only"
diag "$tmp/extra"
# logseal-verify(1) names these two files: an investigator with only this package must find them.
for f in investigators.md verify-report.schema.json; do
        dpkg-deb -c "$verify_deb" | awk '{print $6}' | grep -qx "./usr/share/doc/logseal-verify/$f"
        check $? "logseal-verify ships /usr/share/doc/logseal-verify/$f (named by its man page)"
done

# 3. Install.
if dpkg -i "$deb" "$verify_deb" >"$tmp/install.log" 2>&1; then
        installed=1
        check 0 "dpkg -i logseal logseal-verify"
else
        installed=1
        check 1 "dpkg -i logseal logseal-verify"
        diag "$tmp/install.log"
        bail
fi
dpkg -L logseal logseal-verify | sort -u >"$tmp/files"

uid=$(getent passwd logseal | cut -d: -f3)
shell=$(getent passwd logseal | cut -d: -f7)
[ -n "$uid" ] && [ "$uid" -lt 1000 ] && getent group logseal >/dev/null &&
        case "$shell" in */nologin | */false) true ;; *) false ;; esac
check $? "system user and group logseal created (uid ${uid:-none}, shell ${shell:-none})"

missing=
for f in /usr/sbin/logseald /usr/sbin/logsealctl /usr/bin/logseal-verify \
        /lib/systemd/system/logseald.service /lib/systemd/system/logseald.socket \
        /usr/lib/sysusers.d/logseal.conf /usr/lib/tmpfiles.d/logseal.conf \
        /etc/logseal/logseald.conf \
        /usr/share/man/man8/logseald.8.gz /usr/share/man/man8/logsealctl.8.gz \
        /usr/share/man/man5/logseald.conf.5.gz /usr/share/man/man1/logseal-verify.1.gz; do
        if [ ! -e "$f" ] || ! grep -qxF "$f" "$tmp/files"; then missing="$missing $f"; fi
done
[ -z "$missing" ]
check $? "programs, units, sysusers.d, tmpfiles.d, configuration and man pages installed${missing:+ (missing:$missing)}"

dpkg-query -W -f='${Conffiles}\n' logseal | grep -q '^ /etc/logseal/logseald.conf '
check $? "/etc/logseal/logseald.conf is a conffile"

grep -q '^ExecStart=/usr/sbin/logseald ' /lib/systemd/system/logseald.service
check $? "logseald.service runs /usr/sbin/logseald"

# Not enabled: no symlink to either unit anywhere under /etc/systemd/system.
links=$(find /etc/systemd/system -name 'logseald.*' 2>/dev/null)
[ -z "$links" ]
check $? "units installed but not enabled${links:+ ($links)}"

[ "$(stat -c '%U:%G %a' "$state" 2>/dev/null)" = "logseal:logseal 750" ] && [ -d /run/logseal ]
check $? "tmpfiles.d created $state (logseal:logseal 0750) and /run/logseal"

# 4. Initialise as the logseal user and run the installed daemon.
if (cd / && runuser -u logseal -- /usr/sbin/logsealctl init --state-dir "$state" --no-passphrase) \
        >"$tmp/init.log" 2>&1 && [ -s "$state/root.pub" ]; then
        check 0 "runuser -u logseal -- logsealctl init --state-dir $state --no-passphrase"
else
        check 1 "runuser -u logseal -- logsealctl init --state-dir $state --no-passphrase"
        diag "$tmp/init.log"
        bail
fi

port=
for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
# setpriv execs logseald itself (runuser would stay in between and turn a slow
# SIGTERM shutdown into SIGKILL after a few seconds).
(cd / && exec setpriv --reuid=logseal --regid=logseal --init-groups -- \
        /usr/sbin/logseald --state-dir "$state" --listen "tcp:127.0.0.1:$port") \
        >"$tmp/logseald.log" 2>&1 &
daemon_pid=$!
up=1
for _ in $(seq 100); do
        kill -0 "$daemon_pid" 2>/dev/null || break
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=0; break; fi
        sleep 0.1
done
[ "$up" = 0 ] && [ "$(stat -c %U "/proc/$daemon_pid" 2>/dev/null)" = logseal ]
check $? "installed logseald runs as logseal, listening on tcp:127.0.0.1:$port"
if [ "$up" != 0 ]; then
        diag "$tmp/logseald.log"
        bail
fi

# Privilege separation under the unprivileged user: one logseald-signer child, same user.
signer=$(ps -o pid=,user=,comm= --ppid "$daemon_pid" | awk '$3 == "logseald-signer"')
[ "$(echo "$signer" | grep -c .)" = 1 ] && [ "$(echo "$signer" | awk '{print $2}')" = logseal ]
check $? "logseald forked its signer process, running as logseal (${signer:-none})"

marker="deb-test-$$-$RANDOM"
sent=0
for i in 1 2 3; do
        logger --tcp --octet-count --rfc5424 -n 127.0.0.1 -P "$port" -t logseal-test \
                "$marker message $i" && sent=$((sent + 1))
done
[ "$sent" = 3 ]
check $? "logger sent 3 octet-counted RFC 5424 messages over TCP"

# Wait until the three are sealed (max_latency 1 s), then stop.
for _ in $(seq 50); do
        found=$(/usr/bin/logseal-verify --root-key "$state/root.pub" --dump "$state/archives" 2>/dev/null |
                grep -c "$marker")
        [ "$found" -ge 3 ] && break
        sleep 0.2
done
kill -TERM "$daemon_pid"
status=timeout
for _ in $(seq 600); do
        if ! kill -0 "$daemon_pid" 2>/dev/null; then
                wait "$daemon_pid"
                status=$?
                break
        fi
        sleep 0.1
done
[ "$status" = 0 ]
check $? "SIGTERM: logseald sealed and stopped (exit $status)"
[ "$status" = 0 ] || diag "$tmp/logseald.log"
daemon_pid=

# 5. The installed verifier on the archives.
/usr/bin/logseal-verify --root-key "$state/root.pub" --dump "$state/archives" \
        >"$tmp/dump" 2>"$tmp/report"
rc=$?
[ "$rc" = 0 ]
check $? "installed logseal-verify: archives intact (exit $rc)"
[ "$rc" = 0 ] || diag "$tmp/report"
found=$(grep -c "$marker message [123]" "$tmp/dump")
[ "$found" = 3 ]
check $? "the 3 messages are in the verified records ($found found)"

# 6. Purge.
(cd "$state" && find . -type f -path './archives/*' -exec sha256sum {} + | sort) >"$tmp/evidence.before"
if dpkg --purge logseal-verify logseal >"$tmp/purge.log" 2>&1; then
        installed=0
        check 0 "dpkg --purge logseal-verify logseal"
else
        check 1 "dpkg --purge logseal-verify logseal"
        diag "$tmp/purge.log"
fi
left=
while IFS= read -r f; do
        [ "$f" = /. ] && continue
        if [ -d "$f" ]; then
                # A directory may stay only when another package ships it too
                # (/lib is the usrmerge symlink: a directory to dpkg -S too).
                dpkg -S "$f" >/dev/null 2>&1 || left="$left $f"
        elif [ -e "$f" ] || [ -L "$f" ]; then
                left="$left $f"
        fi
done <"$tmp/files"
[ -d /etc/logseal ] && left="$left /etc/logseal"
[ "$run_existed" = 0 ] && [ -e /run/logseal ] && left="$left /run/logseal"
left="$left $(find /var/lib/systemd/deb-systemd-helper-enabled /etc/systemd/system -name '*logseald*' 2>/dev/null | tr '\n' ' ')"
left=${left%% }
left=${left## }
[ -z "$left" ]
check $? "purge left nothing the packages installed${left:+ (left:$left)}"

(cd "$state" 2>/dev/null && find . -type f -path './archives/*' -exec sha256sum {} + | sort) >"$tmp/evidence.after"
[ -s "$tmp/evidence.before" ] && cmp -s "$tmp/evidence.before" "$tmp/evidence.after" &&
        [ -s "$state/root.pub" ] && [ -d "$state/keys" ]
check $? "purge kept $state: $(wc -l <"$tmp/evidence.after") archive file(s) unchanged, root.pub, keys/"

getent passwd logseal >/dev/null
check $? "purge kept the system user logseal (Debian practice)"

echo "1..$n"
exit $fail
