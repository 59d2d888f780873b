#!/usr/bin/env bash
# The project's whole test run (`npm test`): a Docker engine, the fixture images, Pebble (the ACME
# CA), the binary, the static checks (`tsc --noEmit`, `biome check`), then `bun test` with any
# arguments given here (e.g. a path filter). Ends with one line `tests: N passed, N failed, N
# skipped`; exits non-zero when bun test or a static check failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bun=node_modules/.bin/bun

# The static checks first: they take seconds, and a type error or a formatting slip fails the run
# as surely as a failing test (the tests still run, so one run reports everything).
checks=0
echo "test: tsc --noEmit"
node_modules/.bin/tsc --noEmit || checks=1
echo "test: biome check (format and lint)"
node_modules/.bin/biome check --error-on-warnings . || checks=1

# Docker-backed tests are mandatory in CI. Locally, a developer without Docker (and without root to
# install it) still gets the rest of the suite: those tests skip themselves (test/helpers/docker.ts).
if bash scripts/ensure-docker.sh; then
  bash scripts/fixture-images.sh
elif [[ "${CI:-}" == true ]]; then
  echo "test: no Docker engine, and CI=true forbids skipping the Docker tests" >&2
  exit 1
else
  echo "test: no Docker engine; continuing, Docker-backed tests will be skipped" >&2
fi

bash scripts/ensure-systemd-analyze.sh || echo "test: systemd-analyze is missing; the unit-file tests will fail" >&2
# The ACME tests order certificates from a real Pebble (test/helpers/acme.ts): mandatory in CI like
# Docker; locally, a developer without it (and without root to install it) sees those tests fail.
if ! bash scripts/ensure-pebble.sh; then
  if [[ "${CI:-}" == true ]]; then
    echo "test: pebble or openssl is missing, and CI=true forbids running without the ACME tests" >&2
    exit 1
  fi
  echo "test: pebble or openssl is missing; the ACME tests will fail" >&2
fi
# The console's browser tests drive Debian's chromium headless: mandatory in CI like Docker.
if ! bash scripts/ensure-chromium.sh; then
  if [[ "${CI:-}" == true ]]; then
    echo "test: chromium is missing, and CI=true forbids running without the console's browser tests" >&2
    exit 1
  fi
  echo "test: chromium is missing; the console's browser tests will fail" >&2
fi
# The smoke test runs the compiled binary, so build it first.
if [[ -f scripts/build.ts ]]; then
  "$bun" scripts/build.ts
else
  echo "test: scripts/build.ts does not exist yet; skipping the build"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Not under `set -e`: a failing test run must still reach the summary below.
set +e
"$bun" test --timeout 120000 "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e

# bun's own summary lines read " 12 pass", " 0 fail", " 1 skip", " 2 todo" (the last two only when
# non-zero). Take the last such line, colour codes stripped, so a test printing one cannot fool us.
summary() {
  sed 's/\x1b\[[0-9;]*m//g' "$out" | awk -v word="$1" 'NF == 2 && $2 == word && $1 ~ /^[0-9]+$/ { n = $1 } END { print n }'
}
passed=$(summary pass)
failed=$(summary fail)
skip=$(summary skip)
todo=$(summary todo)

if [[ -z $passed || -z $failed ]]; then
  # bun crashed or never got to run the tests: report nothing counted, and never exit 0.
  echo "test: bun test printed no summary (exit status $status)" >&2
  ((status != 0)) || status=1
fi
# Todo tests are not run, so they count as skipped.
echo "tests: ${passed:-0} passed, ${failed:-0} failed, $((${skip:-0} + ${todo:-0})) skipped"
if ((checks != 0)); then
  echo "test: the typecheck or biome check failed (see above)" >&2
  ((status != 0)) || status=1
fi
exit "$status"
