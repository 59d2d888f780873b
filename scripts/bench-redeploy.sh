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

bash scripts/bench-prepare.sh bench-redeploy

# The script bounds itself (170 s) and cleans up; this is the backstop should cleanup hang.
exec timeout --kill-after=20 240 "$bun" scripts/bench-redeploy.ts
