#!/usr/bin/env bash
# Makes sure nginx is installed (Debian's nginx-light): test/edge/differential.test.ts runs it as
# the reference proxy the edge is compared with, and scripts/bench-edge.sh measures against it.
# Idempotent: nothing happens when nginx is there; otherwise apt installs it (root only), with
# RUNLEVEL=1 so that the package's init script does not start a system nginx on port 80.
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
  exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/apt-lib.sh"
RUNLEVEL=1 apt_install ensure-nginx nginx-light
if ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
  echo "ensure-nginx: nginx is still missing after installing nginx-light" >&2
  exit 1
fi
