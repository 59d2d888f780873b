#!/usr/bin/env bash
# Makes sure `docker-registry` (Debian's docker-registry package, the CNCF Distribution registry) is
# on the PATH: test/helpers/registry.ts runs it on a loopback port with basic auth as the private
# registry the prebuilt-image tests push to and deploy from. Idempotent: nothing happens when it is
# there; otherwise apt installs it (root only). The package's own service is left stopped and
# disabled: the tests start their registries themselves.
set -euo pipefail

if command -v docker-registry >/dev/null 2>&1; then
  exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/apt-lib.sh"
apt_install ensure-registry docker-registry
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
if ! command -v docker-registry >/dev/null 2>&1; then
  echo "ensure-registry: docker-registry is still missing after installing it" >&2
  exit 1
fi
