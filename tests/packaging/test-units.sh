#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The systemd units are valid and logseald.service's exposure score stays at 2.0 or below.
# usage: test-units.sh BUILT_SERVICE SOCKET_FILE LOGSEALD FRONTEND_SOCKET_FILE
command -v systemd-analyze >/dev/null || { echo "1..0 # SKIP no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$3|" "$1" >"$tmp/logseald.service"
cp "$2" "$tmp/logseald.socket"
cp "$4" "$tmp/logseald-frontend.socket"
n=0
fail=0
check() {
        n=$((n + 1))
        if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
out=$(systemd-analyze verify --man=no "$tmp/logseald.service" "$tmp/logseald.socket" \
        "$tmp/logseald-frontend.socket" 2>&1)
[ -z "$out" ]
check $? "systemd-analyze verify: no complaints ($out)"
score=$(systemd-analyze security --offline=true "$tmp/logseald.service" 2>/dev/null |
        sed -n 's/.*Overall exposure level for logseald.service: \([0-9.]*\).*/\1/p')
echo "# exposure score: $score"
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
check $? "exposure score $score <= 2.0"
grep -q '^Type=notify' "$1" && grep -q '^WatchdogSec=' "$1" && grep -q '^CapabilityBoundingSet=$' "$1"
check $? "Type=notify, a watchdog and an empty capability bounding set"
# Item 2 of issue 13: Debian's syslog-ng (root without CAP_DAC_OVERRIDE) writes to the front
# end's socket as its owner; nobody but root and the group logseal may.
f=$4
grep -qx 'ListenStream=/run/logseal/frontend.sock' "$f" && grep -qx 'SocketUser=root' "$f" &&
        grep -qx 'SocketGroup=logseal' "$f" && grep -qx 'SocketMode=0660' "$f" &&
        grep -qx 'Service=logseald.service' "$f" &&
        grep -q '^Sockets=logseald.socket logseald-frontend.socket$' "$1" &&
        grep -q '^Requires=.*logseald-frontend.socket' "$1"
check $? "frontend.sock comes from logseald-frontend.socket, root:logseal 0660, passed to logseald.service"
echo "1..$n"
exit $fail
