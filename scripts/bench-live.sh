#!/usr/bin/env bash
# Upload-to-live benchmark of the compiled binary; not part of the test suite. Makes sure Docker
# runs and the fixture base images exist, builds dist/slipway when it is missing (and says when
# it is older than src/), then runs scripts/bench-live.ts: a static site deployed through
# Slipway (new project and redeploy) next to the same Dockerfile built and run by hand with the
# docker CLI, median of 5 runs each, ending with a markdown table for the README. Takes about
# 20 seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bun=node_modules/.bin/bun

bash scripts/bench-prepare.sh bench-live

# The script bounds itself (170 s, 280 s with a B binary) and cleans up; this is the backstop should cleanup hang.
exec timeout --kill-after=20 340 "$bun" scripts/bench-live.ts
