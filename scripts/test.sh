#!/usr/bin/env bash
# The project's whole test run (`npm test`): a Docker engine, the fixture images, Pebble (the ACME
# CA), a registry (docker-registry), the binary, the static checks (`tsc --noEmit`, `biome check`), then `bun test` with any
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
# The real components other suites run against are mandatory in CI like Docker; locally, a developer
# without one (and without root to install it) sees those tests fail.
need() {
  local script="$1" what="$2" tests="$3"
  bash "scripts/$script" && return
  if [[ "${CI:-}" == true ]]; then
    echo "test: $what is missing, and CI=true forbids running without the $tests" >&2
    exit 1
  fi
  echo "test: $what is missing; the $tests will fail" >&2
}
# Certificates are ordered from a real Pebble (test/helpers/acme.ts).
need ensure-pebble.sh "pebble or openssl" "ACME tests"
# The edge's differential tests compare it with nginx (test/edge/nginx.ts).
need ensure-nginx.sh nginx "edge's differential tests"
# The prebuilt-image tests pull from a real registry (test/helpers/registry.ts): Debian's docker-registry.
need ensure-registry.sh docker-registry "prebuilt-image tests"
# The swarm runtime's tests run on a real single-node swarm, its own dockerd in a network namespace
# (test/runtime/swarm/; scripts/swarm-cluster.sh); the default engine never joins a swarm.
if ! bash scripts/swarm-cluster.sh up 1; then
  [[ "${CI:-}" == true ]] && { echo "test: no swarm, and CI=true forbids running without the swarm runtime tests" >&2; exit 1; }
  echo "test: no swarm; the swarm runtime tests will fail" >&2
fi
# The console's browser tests drive Debian's chromium headless (test/console/browser.test.ts).
need ensure-chromium.sh chromium "console's browser tests"
# The swarm firewall is checked and applied in network namespaces with Debian's nft (test/install/swarm.test.ts).
need ensure-nft.sh nft "swarm firewall tests"
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
