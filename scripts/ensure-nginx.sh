#!/usr/bin/env bash
# Makes sure nginx is installed (Debian's nginx-light): test/edge/differential.test.ts runs it as
# the reference proxy the edge is compared with, and scripts/bench-edge.sh measures against it.
# Idempotent: nothing happens when nginx is there; otherwise apt installs it (root only), with
# RUNLEVEL=1 so that the package's init script does not start a system nginx on port 80.
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
  exit 0
fi
if [[ $EUID -ne 0 ]]; then
  echo "ensure-nginx: Debian's nginx-light is not installed; run this script as root, or install it" >&2
  exit 1
fi
echo "ensure-nginx: installing Debian's nginx-light with apt"
export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
install_packages() {
  apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
}
# Only refresh the package lists when the install fails without them (fresh or stale lists).
install_packages 2>/dev/null || { apt-get update -qq && install_packages; }
if ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
  echo "ensure-nginx: nginx is still missing after installing nginx-light" >&2
  exit 1
fi
