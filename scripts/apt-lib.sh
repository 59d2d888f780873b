#!/usr/bin/env bash
# Sourced by the ensure-*.sh scripts: installs Debian packages for one of them, the same way for all.
#
#   apt_install <script name> <package>...
#
# Refuses without root (with a line saying what to install), says what it installs, and refreshes
# the package lists only when the install fails without them (fresh or stale lists). Another apt
# holding the lock (parallel setups) is waited for rather than failed on.

apt_install() {
  local name="$1"
  shift
  if [[ $EUID -ne 0 ]]; then
    echo "$name: Debian's $* not installed; run this script as root, or install it" >&2
    return 1
  fi
  echo "$name: installing Debian's $* with apt"
  local apt=(apt-get -o DPkg::Lock::Timeout=120 -qq)
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null 2>&1 ||
    { "${apt[@]}" update && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null; }
}
