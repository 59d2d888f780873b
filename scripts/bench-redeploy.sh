#!/usr/bin/env bash
# Zero-downtime benchmark of the compiled binary; not part of the test suite. Makes sure Docker
# runs and the fixture base images exist, builds dist/slipway when it is missing (and says when
# it is older than src/), then runs scripts/bench-redeploy.ts: the Node fixture app (2 instances)
# redeployed 10 times under constant load through the edge; failed requests, requests/s,
# p50/p99 latency and each redeploy's duration, ending with markdown tables for the README.
# Takes about 1 minute.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bun=node_modules/.bin/bun

command -v docker >/dev/null 2>&1 || { echo "bench-redeploy: docker is not installed" >&2; exit 1; }
bash scripts/ensure-docker.sh >&2
bash scripts/fixture-images.sh >&2
if [[ ! -x dist/slipway ]]; then
  "$bun" scripts/build.ts
elif [[ -n "$(find src -type f -newer dist/slipway -print -quit)" ]]; then
  echo "bench-redeploy: note: dist/slipway is older than src/; run \`bun scripts/build.ts\` to measure the current source" >&2
fi

# The script bounds itself (170 s) and cleans up; this is the backstop should cleanup hang.
exec timeout --kill-after=20 240 "$bun" scripts/bench-redeploy.ts
