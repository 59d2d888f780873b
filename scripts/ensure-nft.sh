#!/usr/bin/env bash
# Makes sure nft is installed (Debian's nftables): test/install/swarm.test.ts checks the firewall of
# `slipway install --swarm` with `nft -c` and applies it in network namespaces of its own.
# Idempotent: nothing happens when nft is there; otherwise apt installs it (root only). The package
# loads no rules by itself (its nftables.service is not enabled on install).
set -euo pipefail

if command -v nft >/dev/null 2>&1 || [[ -x /usr/sbin/nft ]]; then
  exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/apt-lib.sh"
apt_install ensure-nft nftables
if ! command -v nft >/dev/null 2>&1 && [[ ! -x /usr/sbin/nft ]]; then
  echo "ensure-nft: nft is still missing after installing nftables" >&2
  exit 1
fi
