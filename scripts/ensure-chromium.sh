#!/usr/bin/env bash
# Makes sure Debian's `chromium` is at /usr/bin/chromium: the console's browser tests
# (test/console/browser.test.ts) drive it headless through playwright-core. Idempotent and fast
# when it is there; otherwise apt installs it (root only). Fonts come with it (fonts-liberation
# is a dependency), so screenshots show text.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if [[ $EUID -ne 0 ]]; then
  echo "ensure-chromium: Debian's chromium is not installed; run this script as root, or install it" >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium with apt"
export DEBIAN_FRONTEND=noninteractive
install_packages() {
  apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
}
# Another apt may hold the lock (parallel setups): wait for it rather than fail.
install_packages 2>/dev/null || { apt-get -o DPkg::Lock::Timeout=120 update -qq && apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; }
if [[ ! -x /usr/bin/chromium ]]; then
  echo "ensure-chromium: /usr/bin/chromium is still missing after installing chromium" >&2
  exit 1
fi
