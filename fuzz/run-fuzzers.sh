#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer binary BUILD_DIR/fuzz/fuzz-<name> for SECONDS each, starting from a
# scratch copy of fuzz/corpus/<name>/ (the committed corpus is never written), and fails on
# any finding. Optional further arguments restrict the run to those target names. Targets
# run side by side, FUZZ_JOBS at a time (default: the number of cores).
#   usage: fuzz/run-fuzzers.sh BUILD_DIR SECONDS [NAME...]
# Findings (crash-*, leak-*, timeout-*, oom-*) are kept in BUILD_DIR/fuzz/findings/<name>/.
set -euo pipefail

if [ $# -lt 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
        echo "usage: $0 BUILD_DIR SECONDS [NAME...]" >&2
        exit 2
fi
build=$1
secs=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
bindir=$build/fuzz

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

work=$(mktemp -d "${TMPDIR:-/tmp}/logseal-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ $# -gt 0 ]; then
        names=("$@")
else
        names=()
        for exe in "$bindir"/fuzz-*; do
                [ -f "$exe" ] && [ -x "$exe" ] && names+=("${exe##*/fuzz-}")
        done
fi
if [ ${#names[@]} -eq 0 ]; then
        echo "run-fuzzers: no fuzz-* binaries in $bindir (needs CC=clang -Dfuzzing=true)" >&2
        exit 1
fi

# One target: its run, then its line of the table in $work/NAME/result (exit status 1 on a
# finding). Targets run side by side, as many as there are cores (FUZZ_JOBS).
run_one() {
        local name=$1 exe=$bindir/fuzz-$1 corpus=$work/$1/corpus artifacts=$work/$1/artifacts
        local log=$work/$1/log seeds=$src/corpus/$1 rc=0 execs cov ft result=ok
        mkdir -p "$corpus" "$artifacts"
        if ! [ -x "$exe" ]; then
                echo "run-fuzzers: $exe not built" >&2
                printf '%-12s %8s %12s %8s %8s  %s\n' "$name" - - - - "NOT BUILT" >"$work/$name/result"
                return 1
        fi
        # the framing/parsing target keeps its corpus with the syslog tests
        [ "$name" = syslog ] && seeds=$src/../tests/syslog/corpus
        if [ -d "$seeds" ]; then
                cp -a "$seeds/." "$corpus/"
        fi
        "$exe" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
                -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 ||
                rc=$?

        # A run that died early has no statistics: keep going and report it.
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1) || true
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2) || true
        ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2) || true
        if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$artifacts")" ]; then
                result="FAILED (exit $rc)"
                mkdir -p "$bindir/findings/$name"
                cp -a "$artifacts/." "$bindir/findings/$name/"
                cp "$log" "$bindir/findings/$name/fuzz-$name.log"
        fi
        printf '%-12s %8s %12s %8s %8s  %s\n' "$name" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
                "$result" >"$work/$name/result"
        [ "$result" = ok ]
}

jobs=${FUZZ_JOBS:-$(nproc)}
running=0
for name in "${names[@]}"; do
        if [ "$running" -ge "$jobs" ]; then
                wait -n || true
                running=$((running - 1))
        fi
        run_one "$name" &
        running=$((running + 1))
done
wait || true

failed=()
printf '%-12s %8s %12s %8s %8s  %s\n' target seconds execs cov ft result
for name in "${names[@]}"; do
        cat "$work/$name/result"
        if ! grep -q ' ok$' "$work/$name/result"; then
                failed+=("$name")
                if [ -f "$work/$name/log" ]; then
                        echo "--- fuzz-$name: last lines of its log:" >&2
                        tail -n 60 "$work/$name/log" >&2
                fi
        fi
done

if [ ${#failed[@]} -gt 0 ]; then
        echo "run-fuzzers: findings in: ${failed[*]} (inputs and logs in $bindir/findings/)" >&2
        exit 1
fi
echo "run-fuzzers: ${#names[@]} targets, no findings"
