#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# valgrind memcheck over the unit tests and a short daemon session. Needs a build without
# sanitizers (they cannot run under valgrind), e.g. (./runtests uses its NDEBUG build)
#   meson setup build/valgrind -Dtests=enabled -Db_sanitize=none -Doptimization=1 -Ddebug=true
#   ninja -C build/valgrind && tests/valgrind.sh build/valgrind
# Installs nothing (scripts/deps.sh lists valgrind); exits 77 without it.
#
# Fails on any memcheck error (invalid access, uninitialised value used, bad free) and on any
# definite leak. Memory libsodium, zstd, SQLite and libsystemd keep until exit is "still
# reachable", which does not fail; third-party reports that do are suppressed, each with its
# reason, in tests/valgrind.supp.
#
# Unit tests run in process (CK_FORK=no): by default sha256 and encoding (under a minute);
# LOGSEAL_VALGRIND_FULL=1 adds merkle and archive, whose exhaustive test cases take about 35
# minutes under valgrind (see below).
#   usage: tests/valgrind.sh BUILD_DIR
set -euo pipefail

if [ $# -ne 1 ] || ! [ -d "$1" ]; then
        echo "usage: $0 BUILD_DIR" >&2
        exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v valgrind >/dev/null; then
        echo "valgrind: not installed (scripts/deps.sh installs it); skipped" >&2
        exit 77
fi
for exe in tests/test-merkle daemon/logseald daemon/logsealctl verifier/logseal-verify; do
        if ! [ -x "$build/$exe" ]; then
                echo "valgrind: $build/$exe missing (a -Dtests=enabled build with the daemon)" >&2
                exit 2
        fi
done
if nm -D "$build/daemon/logseald" 2>/dev/null | grep -q __asan_init; then
        echo "valgrind: $build is a sanitizer build; use -Db_sanitize=none" >&2
        exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/logseal-valgrind.XXXXXX")
daemon_pid=
cleanup() {
        if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
                kill -KILL "$daemon_pid" 2>/dev/null || true
        fi
        rm -rf "$work"
}
trap cleanup EXIT

vg=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes --num-callers=30
    --suppressions="$src/tests/valgrind.supp")
failed=()
started=$SECONDS

# run NAME LOG [VAR=VALUE...] COMMAND...: COMMAND under valgrind (in that environment; valgrind
# does not follow exec, so never through env(1)), output in LOG; records a failure
run() {
        local name=$1 log=$2 t0=$SECONDS rc=0 envs=()
        shift 2
        while [[ $1 == *=* ]]; do
                envs+=("$1")
                shift
        done
        env "${envs[@]}" "${vg[@]}" --log-file="$log.vg" "$@" >"$log" 2>&1 || rc=$?
        if [ "$rc" -ne 0 ]; then
                printf '%-40s FAILED (exit %s, %ss)\n' "$name" "$rc" "$((SECONDS - t0))"
                echo "--- $name: valgrind report" >&2
                cat "$log.vg" >&2 || true
                echo "--- $name: last lines of its output" >&2
                tail -n 30 "$log" >&2 || true
                failed+=("$name")
                return 1
        fi
        printf '%-40s ok (%ss)\n' "$name" "$((SECONDS - t0))"
        if [ -s "$log.vg" ]; then
                echo "--- $name: valgrind said (not an error):" >&2
                cat "$log.vg" >&2
        fi
}

# ---- unit tests ----
# test:case,case (Check test cases, CK_RUN_CASE) or test:all. Under valgrind the hashing-heavy
# tests take minutes per test case (measured one at a time on 2 cores, all clean): test-merkle
# tree 4 min, encoding 3.7 min, inclusion 10 min, consistency 9 min (exhaustive proofs for
# every tree up to 300 and 100 leaves), and test-archive's single case 7.5 min (its two
# bit-flip sweeps re-verify an archive once per changed byte). Check selects whole test cases
# only, so by default those two tests are left to LOGSEAL_VALGRIND_FULL=1 (about 36 minutes
# in all); the Merkle tree, the archive reader and the chain verifier still run under
# valgrind below, in logseald and logseal-verify.
units=(sha256:all encoding:all)
if [ "${LOGSEAL_VALGRIND_FULL:-0}" = 1 ]; then
        units=(sha256:all encoding:all merkle:all archive:all)
fi
for u in "${units[@]}"; do
        name=${u%%:*}
        cases=${u#*:}
        if [ "$cases" = all ]; then
                list=("")
        else
                IFS=, read -r -a list <<<"$cases"
        fi
        for c in "${list[@]}"; do
                run "unit: $name${c:+ ($c)}" "$work/unit-$name-${c:-all}.log" \
                        CK_FORK=no CK_VERBOSITY=silent CK_TAP_LOG_FILE_NAME=- \
                        VECTORS_DIR="$src/tests/vectors" ${c:+CK_RUN_CASE=$c} \
                        "$build/tests/test-$name" || true
        done
done

# ---- a short daemon session ----
# As root, logseald runs as the unprivileged user the tests use (nobody, like the packages'
# logseal): the state directory is made theirs by `logsealctl init --user`, and their own
# directory (0755, like /run/logseal) holds it and the daemon's valgrind log.
as_user=()
init_user=()
state=$work/state
if [ "$(id -u)" = 0 ]; then
        svc=$(getent passwd 65534 | cut -d: -f1)
        as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
        init_user=(--user "$svc")
        mkdir "$work/svc"
        chown 65534:65534 "$work/svc"
        chmod 0755 "$work" "$work/svc"
        state=$work/svc/state
fi
vgd=$(dirname "$state")
port=$(python3 -c 'import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass')
run "logsealctl init" "$work/init.log" \
        "$build/daemon/logsealctl" init --state-dir "$state" --no-passphrase "${init_user[@]}" || true

if [ -f "$state/root.pub" ]; then
        # valgrind 3.19 (Debian 12) does not know the Landlock system calls (ENOSYS), and
        # logseald refuses to start unconfined unless told (logseald.conf(5), confine).
        printf '[daemon]\nconfine = no\n' >"$work/logseald.conf"
        if [ "$(id -u)" -eq 0 ]; then
                # Started as root it runs as an unprivileged user (user =), which must reach
                # the state directory (as in tests/daemon/daemonlib.py).
                printf 'user = nobody\n' >>"$work/logseald.conf"
                chmod 755 "$work"
        fi
        printf '[batch]\nmax_latency = 200ms\n' >>"$work/logseald.conf"
        t0=$SECONDS
        "${as_user[@]}" "${vg[@]}" --log-file="$vgd/logseald.log.vg" "$build/daemon/logseald" \
                --config "$work/logseald.conf" --state-dir "$state" \
                --listen "udp:127.0.0.1:$port" --listen "tcp:127.0.0.1:$port" \
                >"$work/logseald.log" 2>&1 &
        daemon_pid=$!
        ready=0
        for _ in $(seq 1 600); do
                if ! kill -0 "$daemon_pid" 2>/dev/null; then
                        break
                fi
                if grep -q "listening on tcp" "$work/logseald.log" 2>/dev/null; then
                        ready=1
                        break
                fi
                sleep 0.1
        done
        sent=0
        if [ "$ready" = 1 ]; then
                # 100 UDP datagrams, paced, and 200 octet-counted messages on two connections
                for i in $(seq 1 100); do
                        printf '<13>1 2026-01-01T00:00:00Z vg app - - - udp message %d' "$i" \
                                >"/dev/udp/127.0.0.1/$port"
                        sent=$((sent + 1))
                        [ $((i % 10)) -ne 0 ] || sleep 0.05
                done
                for c in 1 2; do
                        exec 3<>"/dev/tcp/127.0.0.1/$port"
                        for i in $(seq 1 100); do
                                m=$(printf '<14>1 2026-01-01T00:00:00Z vg app - - - tcp %d message %d' "$c" "$i")
                                printf '%d %s' "${#m}" "$m" >&3
                                sent=$((sent + 1))
                        done
                        exec 3>&-
                done
                # the status command through the control socket, also under valgrind
                run "logsealctl status" "$work/status.log" \
                        "$build/daemon/logsealctl" status --state-dir "$state" || true
                sleep 3
        fi
        kill -TERM "$daemon_pid" 2>/dev/null || true
        for _ in $(seq 1 1200); do
                kill -0 "$daemon_pid" 2>/dev/null || break
                sleep 0.1
        done
        if kill -0 "$daemon_pid" 2>/dev/null; then
                echo "logseald: still running 120 s after SIGTERM; killed" >&2
                kill -KILL "$daemon_pid" 2>/dev/null || true
        fi
        rc=0
        wait "$daemon_pid" || rc=$?
        daemon_pid=
        if [ "$ready" != 1 ] || [ "$rc" -ne 0 ]; then
                printf '%-40s FAILED (ready %s, exit %s, %ss)\n' "logseald session" "$ready" "$rc" \
                        "$((SECONDS - t0))"
                echo "--- logseald: valgrind report" >&2
                cat "$vgd/logseald.log.vg" >&2 || true
                echo "--- logseald: its log" >&2
                tail -n 30 "$work/logseald.log" >&2 || true
                failed+=("logseald session")
        else
                printf '%-40s ok (%ss, %d messages sent, SIGTERM, exit 0)\n' "logseald session" \
                        "$((SECONDS - t0))" "$sent"
        fi

        # the daemon wrote its archives as the service user (not as root)
        if [ ${#as_user[@]} -gt 0 ] && [ "$(stat -c %u "$state"/archives/*.lsa | sort -u)" != 65534 ]; then
                echo "logseald session: archives not written as uid 65534:" \
                        "$(stat -c '%U %n' "$state"/archives/*.lsa)" >&2
                failed+=("logseald as the service user")
        fi
        if run "logseal-verify" "$work/verify.log" \
                "$build/verifier/logseal-verify" --root-key "$state/root.pub" --dump=json \
                "$state/archives"; then
                got=$(grep -c '"message":"<1[34]>1 2026-01-01T00:00:00Z vg app' "$work/verify.log" || true)
                if [ "$got" -ne "$sent" ]; then
                        echo "logseal-verify: $got of $sent messages sealed" >&2
                        failed+=("messages sealed")
                fi
        fi
fi

echo "valgrind: $((SECONDS - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
        echo "valgrind: failed: ${failed[*]}" >&2
        exit 1
fi
echo "valgrind: no memcheck errors, no definite leaks"
