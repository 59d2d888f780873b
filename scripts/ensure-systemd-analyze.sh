#!/usr/bin/env bash
# Makes sure `systemd-analyze` is on the PATH: the tests check the unit files `slipway install`
# writes with `systemd-analyze verify` and `security`. Idempotent: nothing happens when it is
# there; otherwise Debian's systemd package is installed (root only). PID 1 need not be systemd.
set -euo pipefail

if command -v systemd-analyze >/dev/null 2>&1; then
  exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/apt-lib.sh"
apt_install ensure-systemd-analyze systemd
command -v systemd-analyze >/dev/null 2>&1
