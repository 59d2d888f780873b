#!/usr/bin/env bash
# Upload benchmark of the compiled binary; not part of the test suite. Makes sure Docker runs and
# the fixture base images exist, builds dist/slipway when it is missing (and says when it is
# older than src/), then runs scripts/bench-upload.ts: a 1 GiB (expanded) tar.gz uploaded with
# curl, wall time, throughput and the agent's RSS, next to `gzip -t` of the same file; ends with
# a markdown table for the README. Takes about 1 minute and needs ~1 GiB free under $TMPDIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bun=node_modules/.bin/bun

for tool in curl gzip docker; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench-upload: $tool is not installed" >&2; exit 1; }
done
bash scripts/ensure-docker.sh >&2
bash scripts/fixture-images.sh >&2
if [[ ! -x dist/slipway ]]; then
  "$bun" scripts/build.ts
elif [[ -n "$(find src -type f -newer dist/slipway -print -quit)" ]]; then
  echo "bench-upload: note: dist/slipway is older than src/; run \`bun scripts/build.ts\` to measure the current source" >&2
fi

# The script bounds itself (170 s) and cleans up; this is the backstop should cleanup hang.
exec timeout --kill-after=20 240 "$bun" scripts/bench-upload.ts
