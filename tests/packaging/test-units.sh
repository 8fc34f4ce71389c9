#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The systemd units are valid and logseald.service's exposure score stays at 2.0 or below.
# usage: test-units.sh BUILT_SERVICE SOCKET_FILE LOGSEALD
command -v systemd-analyze >/dev/null || { echo "1..0 # SKIP no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$3|" "$1" >"$tmp/logseald.service"
cp "$2" "$tmp/logseald.socket"
n=0
fail=0
check() {
        n=$((n + 1))
        if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
out=$(systemd-analyze verify --man=no "$tmp/logseald.service" "$tmp/logseald.socket" 2>&1)
[ -z "$out" ]
check $? "systemd-analyze verify: no complaints ($out)"
score=$(systemd-analyze security --offline=true "$tmp/logseald.service" 2>/dev/null |
        sed -n 's/.*Overall exposure level for logseald.service: \([0-9.]*\).*/\1/p')
echo "# exposure score: $score"
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
check $? "exposure score $score <= 2.0"
grep -q '^Type=notify' "$1" && grep -q '^WatchdogSec=' "$1" && grep -q '^CapabilityBoundingSet=$' "$1"
check $? "Type=notify, a watchdog and an empty capability bounding set"
echo "1..$n"
exit $fail
