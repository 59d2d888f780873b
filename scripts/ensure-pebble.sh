#!/usr/bin/env bash
# Makes sure `pebble` and `pebble-challtestsrv` (Debian's pebble package) and `openssl` are on the
# PATH: test/helpers/acme.ts runs them as the ACME CA the certificate tests order from, after making
# its TLS certificate with openssl. Idempotent: nothing happens when they are there; otherwise apt
# installs what is missing (root only).
set -euo pipefail

packages=()
command -v pebble >/dev/null 2>&1 && command -v pebble-challtestsrv >/dev/null 2>&1 || packages+=(pebble)
command -v openssl >/dev/null 2>&1 || packages+=(openssl)
if ((${#packages[@]} == 0)); then
  exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/apt-lib.sh"
apt_install ensure-pebble "${packages[@]}"
for binary in pebble pebble-challtestsrv openssl; do
  if ! command -v "$binary" >/dev/null 2>&1; then
    echo "ensure-pebble: $binary is still missing after installing ${packages[*]}" >&2
    exit 1
  fi
done
