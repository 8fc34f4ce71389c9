#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages logseal needs to build and test, when missing.
set -euo pipefail

pkgs=(
        meson ninja-build pkg-config gcc clang libclang-rt-14-dev
        libsodium-dev libzstd-dev libsqlite3-dev libsystemd-dev libjansson-dev libinih-dev libxxhash-dev
        libarchive-dev
        check zstd syslog-ng-core scdoc util-linux python3-jsonschema valgrind
        debhelper dpkg-dev
)
missing=()
for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
                echo "logseal: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
                exit 1
        fi
        echo "logseal: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
