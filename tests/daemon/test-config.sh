#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# logseald --check-config: the packaged example is valid; errors name FILE:LINE.
# usage: test-config.sh LOGSEALD SRC_DIR
d=$1
src=$2
n=0
fail=0
check() {
        n=$((n + 1))
        if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$d" --config "$src/packaging/logseald.conf" --check-config >/dev/null 2>&1
check $? "the example configuration in packaging/ is valid"

printf '[daemon]\nstate_dir = /x\n\n[batch]\nmax_records = 0\n' >"$tmp/a.conf"
out=$("$d" --config "$tmp/a.conf" --check-config 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "a.conf:5: max_records"
check $? "an out-of-range value is reported with file:line (exit 2)"

printf '[listen x]\ntype = udp\naddress = 127.0.0.1\n' >"$tmp/b.conf"
out=$("$d" --config "$tmp/b.conf" --state-dir /x --check-config 2>&1)
echo "$out" | grep -q "needs type and address"
check $? "a listener without a port is rejected"

printf '[nonsense]\nfoo = 1\n' >"$tmp/c.conf"
"$d" --config "$tmp/c.conf" --check-config 2>&1 | grep -q "c.conf:2: unknown section"
check $? "an unknown section is rejected with its line"

"$d" --state-dir /x --listen bogus:1 --check-config >/dev/null 2>&1
[ $? = 2 ]
check $? "a bad --listen is a usage error"

"$d" --state-dir "$tmp/none" --listen udp:127.0.0.1:1 >"$tmp/out" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "logsealctl init" "$tmp/out"
check $? "fail closed: no state directory or key -> refuses to start and says what to run"

echo "1..$n"
exit $fail
