#!/usr/bin/env bash
# Makes sure `systemd-analyze` is on the PATH: the tests check the unit files `slipway install`
# writes with `systemd-analyze verify` and `security`. Idempotent: nothing happens when it is
# there; otherwise Debian's systemd package is installed (root only). PID 1 need not be systemd.
set -euo pipefail

if command -v systemd-analyze >/dev/null 2>&1; then
  exit 0
fi
if [[ $EUID -ne 0 ]]; then
  echo "ensure-systemd-analyze: systemd-analyze is missing; install Debian's systemd package (needs root)" >&2
  exit 1
fi
echo "ensure-systemd-analyze: installing Debian's systemd package with apt"
export DEBIAN_FRONTEND=noninteractive
install_systemd() {
  apt-get install -y -qq --no-install-recommends systemd >/dev/null
}
# Only refresh the package lists when the install fails without it (fresh or stale lists).
install_systemd 2>/dev/null || { apt-get update -qq && install_systemd; }
command -v systemd-analyze >/dev/null 2>&1
