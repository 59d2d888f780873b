#!/usr/bin/env bash
# What every Docker-backed benchmark needs first: the tools it names, a Docker engine, the fixture
# base images, and dist/slipway (built when missing; a note when it is older than src/).
# Usage: bash scripts/bench-prepare.sh <bench name> [tool …]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

name=$1
shift
for tool in docker "$@"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$name: $tool is not installed" >&2; exit 1; }
done
bash scripts/ensure-docker.sh >&2
bash scripts/fixture-images.sh >&2
if [[ ! -x dist/slipway ]]; then
  node_modules/.bin/bun scripts/build.ts
elif [[ -n "$(find src -type f -newer dist/slipway -print -quit)" ]]; then
  echo "$name: note: dist/slipway is older than src/; run \`bun scripts/build.ts\` to measure the current source" >&2
fi
