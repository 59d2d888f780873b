#!/usr/bin/env bash
# Layer-cache benchmark of the compiled binary; not part of the test suite. Makes sure Docker runs
# and the fixture base images exist (slipway-fixture/node-npm included), builds dist/slipway when
# it is missing (and says when it is older than src/), then runs scripts/bench-layer-cache.ts: a
# Node app's cold build next to redeploys that change only its code, ending with a markdown
# table for the README. Takes about 1 minute.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bun=node_modules/.bin/bun

bash scripts/bench-prepare.sh bench-layer-cache

# The script bounds itself (400 s) and cleans up; this is the backstop should cleanup hang.
exec timeout --kill-after=20 480 "$bun" scripts/bench-layer-cache.ts
