#!/usr/bin/env bash
# Benchmarks of the compiled binary (`npm run bench`); not part of the test suite. Installs wrk
# with apt when it is missing, builds dist/slipway when it is missing, then runs
# scripts/bench-api.ts: start-up time, idle RSS, and authenticated API throughput next to a bare
# Bun.serve, ending with a markdown table for the README. Takes about 80 s (35 s of it idle).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bun=node_modules/.bin/bun

if ! command -v wrk >/dev/null 2>&1; then
  if ((EUID != 0)); then
    echo "bench: wrk is not installed and installing it needs root (apt-get install wrk)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Only refresh the package lists when apt does not know wrk yet (a fresh container has none).
  if ! apt-cache show wrk >/dev/null 2>&1; then
    echo "bench: apt-get update" >&2
    apt-get update -qq
  fi
  echo "bench: installing wrk" >&2
  apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi

if [[ ! -x dist/slipway ]]; then
  "$bun" scripts/build.ts
fi

exec "$bun" scripts/bench-api.ts
