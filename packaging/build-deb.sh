#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian packages logseal and logseal-verify (plus their -dbgsym
# packages) from this working tree, uncommitted changes included, and moves
# the .deb files into OUTDIR. The build runs in a temporary copy of the tree
# (the files git tracks or would track: `git ls-files --cached --others
# --exclude-standard`) with packaging/debian as debian/; nothing is written to
# the repository. Needs the Build-Depends of packaging/debian/control
# (scripts/deps.sh installs them); works as root or not (no fakeroot needed:
# Rules-Requires-Root: no).
# usage: packaging/build-deb.sh OUTDIR
set -euo pipefail

if [ $# -ne 1 ]; then
        echo "usage: $0 OUTDIR" >&2
        exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
outdir=$(cd "$1" && pwd)
version=$(dpkg-parsechangelog -l "$repo/packaging/debian/changelog" -S Version)

work=$(mktemp -d "${TMPDIR:-/tmp}/logseal-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src="$work/logseal-$version"
mkdir "$src"

# Copy the working tree's files as they are now; skip files deleted in the
# tree but not yet in git, and the packaging/debian directory (it becomes debian/).
(
        cd "$repo"
        git ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' f; do
                        case "$f" in packaging/debian/*) continue ;; esac
                        if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
                done |
                tar --null --no-recursion -T - -cf -
) | tar -C "$src" -xf -
cp -a "$repo/packaging/debian" "$src/debian"

# -Jauto: parallel build (debhelper compat 13 supports it); no -d: a missing
# build dependency fails here with the list of what to install.
(cd "$src" && dpkg-buildpackage -b -us -uc -Jauto)

shopt -s nullglob
debs=("$work"/*.deb)
if [ ${#debs[@]} -eq 0 ]; then
        echo "build-deb.sh: dpkg-buildpackage produced no .deb" >&2
        exit 1
fi
mv -f "${debs[@]}" "$outdir"/
for d in "${debs[@]}"; do echo "$outdir/$(basename "$d")"; done
