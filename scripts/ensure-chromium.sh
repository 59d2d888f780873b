#!/usr/bin/env bash
# Makes sure Debian's `chromium` is at /usr/bin/chromium: the console's browser tests
# (test/console/browser.test.ts) drive it headless through playwright-core. Idempotent and fast
# when it is there; otherwise apt installs it (root only). Fonts come with it (fonts-liberation
# is a dependency), so screenshots show text.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/apt-lib.sh"
apt_install ensure-chromium chromium fonts-liberation
if [[ ! -x /usr/bin/chromium ]]; then
  echo "ensure-chromium: /usr/bin/chromium is still missing after installing chromium" >&2
  exit 1
fi
