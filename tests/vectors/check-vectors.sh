#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerates the vectors into a temporary directory and compares them byte for byte.
set -eu
gen=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" "$tmp/out"
fail=0
for f in "$src"/*; do
        b=$(basename "$f")
        case "$b" in *.c|*.h|*.sh|meson.build|README.md) continue ;; esac
        if [ -d "$f" ]; then
                if ! diff -r -q "$f" "$tmp/out/$b" >/dev/null 2>&1; then
                        echo "not ok: directory $b differs from the regenerated vector"
                        fail=1
                fi
                continue
        fi
        if ! cmp -s "$f" "$tmp/out/$b"; then
                echo "not ok: $b differs from the regenerated vector"
                fail=1
        fi
done
for f in "$tmp"/out/*; do
        b=$(basename "$f")
        [ -e "$src/$b" ] || { echo "not ok: $b is generated but not committed"; fail=1; }
done
[ $fail -eq 0 ] && echo "vectors: all $(ls "$tmp/out" | wc -l) files match"
exit $fail
