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

command -v docker >/dev/null 2>&1 || { echo "bench-live: docker is not installed" >&2; exit 1; }
bash scripts/ensure-docker.sh >&2
bash scripts/fixture-images.sh >&2
if [[ ! -x dist/slipway ]]; then
  "$bun" scripts/build.ts
elif [[ -n "$(find src -type f -newer dist/slipway -print -quit)" ]]; then
  echo "bench-live: note: dist/slipway is older than src/; run \`bun scripts/build.ts\` to measure the current source" >&2
fi

# The script bounds itself (170 s) and cleans up; this is the backstop should cleanup hang.
exec timeout --kill-after=20 240 "$bun" scripts/bench-live.ts
