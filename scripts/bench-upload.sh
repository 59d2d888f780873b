#!/usr/bin/env bash
# Upload benchmark of the compiled binary; not part of the test suite. Makes sure Docker runs and
# the fixture base images exist, builds dist/slipway when it is missing (and says when it is
# older than src/), then runs scripts/bench-upload.ts: a 1 GiB (expanded) tar.gz uploaded with
# curl, wall time, throughput and the agent's RSS, next to `gzip -t` of the same file; ends with
# a markdown table for the README. Takes about 1 minute and needs ~1 GiB free under $TMPDIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bun=node_modules/.bin/bun

bash scripts/bench-prepare.sh bench-upload curl gzip

# The script bounds itself (170 s) and cleans up; this is the backstop should cleanup hang.
exec timeout --kill-after=20 240 "$bun" scripts/bench-upload.ts
