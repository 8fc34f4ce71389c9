#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# logseald --check-config: the packaged example is valid; errors name FILE:LINE.
# usage: test-config.sh LOGSEALD SRC_DIR
d=$1
case $d in /*) ;; *) d=$PWD/$d ;; esac
src=$2
n=0
fail=0
check() {
        n=$((n + 1))
        if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# --check-config looks at the state directory too: an initialised one (chain.id) here.
state=$tmp/state
mkdir "$state" && echo 00000000000000000000000000000000 >"$state/chain.id"
"$d" --config "$src/packaging/logseald.conf" --state-dir "$state" --check-config >/dev/null 2>&1
check $? "the example configuration in packaging/ is valid"

printf '[daemon]\nstate_dir = /x\n\n[batch]\nmax_records = 0\n' >"$tmp/a.conf"
out=$("$d" --config "$tmp/a.conf" --check-config 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "a.conf:5: max_records"
check $? "an out-of-range value is reported with file:line (exit 2)"

printf '[listen x]\ntype = udp\naddress = 127.0.0.1\n' >"$tmp/b.conf"
out=$("$d" --config "$tmp/b.conf" --state-dir "$state" --check-config 2>&1)
echo "$out" | grep -q "b.conf:1: \[listen x\] (udp) has no port"
check $? "a listener without a port is rejected, at its section's line"

printf '[nonsense]\nfoo = 1\n' >"$tmp/c.conf"
"$d" --config "$tmp/c.conf" --check-config 2>&1 | grep -q "c.conf:2: unknown section"
check $? "an unknown section is rejected with its line"

"$d" --state-dir "$state" --listen bogus:1 --check-config >/dev/null 2>&1
[ $? = 2 ]
check $? "a bad --listen is a usage error"

# As the service user (the tests use nobody when root), the way the packages start it.
as_user=
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        chmod 0755 "$tmp"
        as_user="setpriv --reuid=65534 --regid=65534 --clear-groups --"
fi
$as_user "$d" --state-dir "$tmp/none" --listen udp:127.0.0.1:1 >"$tmp/out" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "logsealctl init" "$tmp/out"
check $? "fail closed: no state directory or key -> refuses to start and says what to run"

# ---- issue 13, item 5: units as admins write them, every error with its line ----

# cfg NAME LINE...: $tmp/NAME.conf from [daemon] state_dir = the state above, then the LINEs.
cfg() {
        name=$1
        shift
        { printf '[daemon]\nstate_dir = %s\n' "$state"; printf '%s\n' "$@"; } >"$tmp/$name.conf"
}
# check_ok DESCRIPTION NAME: --check-config accepts $tmp/NAME.conf.
check_ok() {
        out=$("$d" --config "$tmp/$2.conf" --check-config 2>&1)
        rc=$?
        [ $rc = 0 ]
        check $? "$1"
        [ $rc = 0 ] || echo "$out" | sed 's/^/# /'
}
# check_err DESCRIPTION NAME PATTERN...: exit 2 and every PATTERN (grep -E) in the output.
check_err() {
        desc=$1
        name=$2
        shift 2
        out=$("$d" --config "$tmp/$name.conf" --check-config 2>&1)
        rc=$?
        good=0
        [ $rc = 2 ] || good=1
        for pat in "$@"; do
                echo "$out" | grep -qE -- "$pat" || good=1
        done
        check $good "$desc"
        if [ $good != 0 ]; then
                echo "# exit $rc, wanted 2 and each of: $*"
                echo "$out" | sed 's/^/# /'
        fi
}

cfg sizes "queue_max_size = 256MB" "max_message_size = 64 KiB" "[batch]" "max_size = 2M" \
        "[archive]" "max_size = 1G"
check_ok "sizes with units as written: 256MB, 64 KiB, 2M, 1G" sizes

cfg durations "heartbeat_interval = 2 min" "[batch]" "max_latency = 1 sec" "[archive]" \
        "max_age = 1h 30min" "[keys]" "epoch_interval = 1.5h" "[checkpoint]" \
        "publish_interval = 500s"
check_ok "durations as systemd writes them: 2 min, 1 sec, 1h 30min, 1.5h, 500s" durations

cfg latency "[batch]" "max_latency = 500ms"
check_ok "max_latency = 500ms" latency

cfg unit "queue_max_size = 256XB" "[batch]" "max_latency = 1 fortnight"
check_err "an unknown unit is named as such, not as out of range" unit \
        "unit.conf:3: queue_max_size = 256XB: unknown size unit 'XB'" \
        "unit.conf:5: max_latency = 1 fortnight: unknown time unit 'fortnight'"

cfg range "[batch]" "max_latency = 2 min" "[archive]" "max_size = 512K"
check_err "out-of-range values say the range" range \
        "range.conf:4: max_latency = 2 min is out of range: it must be between 1ms and 1min" \
        "range.conf:6: \[archive\] max_size = 512K is too small: it must be at least 1M"

cfg many "bogus_setting = 1" "[batch]" "max_records = many" "this is not a setting" \
        "compression_level = 99" "[listen nopath]" "type = unix" "[listen nokind]" \
        "path = /run/x.sock"
check_err "every error is reported, each with its line, not only the first" many \
        "many.conf:3: unknown setting 'bogus_setting' in \[daemon\]" \
        "many.conf:5: max_records = many: not a whole number" \
        "many.conf:6: syntax error" \
        "many.conf:7: compression_level = 99 is out of range" \
        "many.conf:8: \[listen nopath\] \(unix\) has no path" \
        "many.conf:10: \[listen nokind\] has no type"

printf '[daemon]\nstate_dir = %s/missing\n' "$tmp" >"$tmp/nostate.conf"
check_err "a state_dir that does not exist is an error, at its line" nostate \
        "nostate.conf:2: state_dir $tmp/missing: No such file or directory" "logsealctl init"
mkdir "$tmp/empty-state"
printf '[daemon]\nstate_dir = %s/empty-state\n' "$tmp" >"$tmp/noinit.conf"
check_err "an uninitialised state_dir is an error" noinit "noinit.conf:2: .*not initialised"
printf '[listen x]\ntype = tcp\naddress = 127.0.0.1\nport = 20514\n' >"$tmp/nodir.conf"
check_err "no state_dir at all is an error" nodir "nodir.conf: no state_dir"

cfg twoports "[listen a]" "type = tcp" "address = 0.0.0.0" "port = 20514" \
        "[listen b]" "type = udp" "address = 0.0.0.0" "port = 20514" \
        "[listen c]" "type = tcp" "address = ::" "port = 20514" \
        "[listen d]" "type = unix" "path = /run/x.sock" \
        "[listen e]" "type = unix-dgram" "path = /run/x.sock"
check_err "two listeners on one port (tcp 0.0.0.0 and ::) or one path are errors" twoports \
        "twoports.conf:11: \[listen c\]: tcp port 20514 on :: is already taken by \[listen a\] \(line 3\)" \
        "twoports.conf:18: \[listen e\]: path /run/x.sock is already taken by \[listen d\]"
out=$("$d" --config "$tmp/twoports.conf" --check-config 2>&1)
! echo "$out" | grep -q "listen b\]:"
check $? "... while a udp and a tcp listener may share a port number"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        cfg priv "[listen syslog]" "type = tcp" "address = 127.0.0.1" "port = 514" \
                "[listen high]" "type = udp" "address = 127.0.0.1" "port = 20514"
        chmod 0755 "$tmp"
        out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups -- \
                "$d" --config "$tmp/priv.conf" --check-config 2>&1)
        rc=$?
        [ $rc = 2 ] &&
                echo "$out" | grep -q "priv.conf:3: \[listen syslog\]: tcp port 514 is privileged" &&
                ! echo "$out" | grep -q "listen high"
        check $? "a privileged port, checked as an unprivileged user without socket activation, is an error"
        [ $rc = 2 ] || echo "$out" | sed 's/^/# /'
        "$d" --config "$tmp/priv.conf" --check-config >/dev/null 2>&1
        check $? "... and not for root (CAP_NET_BIND_SERVICE)"
else
        n=$((n + 1))
        echo "ok $n # SKIP privileged ports: not root, or no setpriv"
fi

echo "1..$n"
exit $fail
