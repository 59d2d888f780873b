#!/usr/bin/env bash
# Makes sure a Docker engine answers, installing and starting one when we are root.
# Idempotent: when `docker info` already answers this costs one round trip.
set -euo pipefail

log_file=/var/log/slipway-test-dockerd.log
pid_file=/var/run/docker.pid
# dockerd reuses the containerd it started last time if this file names a process that still exists.
containerd_pid_file=/var/run/docker/containerd/containerd.pid
wait_seconds=60

engine_answers() {
  # `timeout` so a wedged daemon cannot hang CI; the CLI honours DOCKER_HOST by itself.
  command -v docker >/dev/null 2>&1 && timeout 10 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1
}

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A live process named exactly $2 holds pid $1. Pids get reused after a reboot or container restart,
# and a killed dockerd nobody reaped lingers as a zombie that still has its name: neither counts.
pid_is() {
  [[ "$1" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]] &&
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

if engine_answers; then
  echo "ensure-docker: Docker answers"
  exit 0
fi

if [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != unix:///var/run/docker.sock ]]; then
  # Starting a local engine would not help: the CLI and the tests would still talk to DOCKER_HOST.
  echo "ensure-docker: DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST" >&2
  exit 1
fi

if [[ $EUID -ne 0 ]]; then
  echo "ensure-docker: no Docker engine answers and this script is not root, so it cannot install or start one." >&2
  echo "ensure-docker: start Docker (or run as root), or make the current user able to use /var/run/docker.sock." >&2
  exit 1
fi

# One setup at a time (parallel jobs on one host): the others wait, then find the engine up.
exec 9>/tmp/slipway-ensure-docker.lock
flock 9
if engine_answers; then
  echo "ensure-docker: Docker answers"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io with apt"
  packages=(docker.io)
  # With AppArmor enabled in the kernel, dockerd needs apparmor_parser to load its default profile.
  if [[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" == Y ]]; then
    packages+=(apparmor)
  fi
  # Fresh machines have empty package lists, stale ones 404: only then pay for `apt-get update`.
  if ! apt_install "${packages[@]}" 2>/dev/null; then
    apt-get update -qq
    apt_install "${packages[@]}"
  fi
fi

if [[ -s "$pid_file" ]] && pid_is "$(cat "$pid_file")" dockerd; then
  # A dockerd is already running (maybe still starting up): wait for it rather than start a second one.
  echo "ensure-docker: dockerd (pid $(cat "$pid_file")) is running but not answering yet; waiting"
else
  # dockerd refuses to start while its pid file names an existing process, even an unrelated one
  # or a zombie; and it would wait 15 s for a "still running" containerd that is really dead.
  rm -f "$pid_file"
  if [[ -s "$containerd_pid_file" ]] && ! pid_is "$(cat "$containerd_pid_file")" containerd; then
    rm -f "$containerd_pid_file"
  fi
  echo "ensure-docker: starting dockerd (log: $log_file)"
  # setsid + nohup + closed stdio: the daemon outlives this script and does not hold CI's output
  # pipe open; nor the lock (fd 9), which would otherwise be held for the daemon's lifetime.
  setsid nohup dockerd >>"$log_file" 2>&1 </dev/null 9>&- &
  started_pid=$!
fi

dockerd_alive() {
  pid_is "${started_pid:-}" dockerd || { [[ -s "$pid_file" ]] && pid_is "$(cat "$pid_file")" dockerd; }
}

started_at=$SECONDS
until engine_answers; do
  elapsed=$((SECONDS - started_at))
  # Give up at the deadline, or early once dockerd has exited (after a grace period,
  # because setsid may fork and dockerd writes its pid file only once it is running).
  if ((elapsed >= wait_seconds)) || { ((elapsed >= 5)) && ! dockerd_alive; }; then
    echo "ensure-docker: dockerd did not answer after ${elapsed}s; last lines of $log_file:" >&2
    tail -n 30 "$log_file" >&2 2>/dev/null || echo "(no log: this script did not start that dockerd)" >&2
    exit 1
  fi
  sleep 1
done
echo "ensure-docker: Docker $(docker info --format '{{.ServerVersion}}') is up"
