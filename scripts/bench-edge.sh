#!/usr/bin/env bash
# Benchmarks Slipway's edge against nginx, both proxying the same hello-world upstream, with wrk.
# Never run by tests. Installs nginx-light and wrk from Debian when missing (needs root then).
# Prints a markdown table of requests/s and p99 latency, and the edge/nginx ratio.
#
#   bash scripts/bench-edge.sh              (DURATION=10s CONNECTIONS=50 THREADS=2 by default)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUN="${BUN:-$ROOT/node_modules/.bin/bun}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-50}"
THREADS="${THREADS:-2}"
HOST_HEADER='Host: bench.localhost'

ensure_tools() {
  local missing=()
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "Cannot install ${missing[*]}: run as root, or install them first" >&2
    exit 1
  fi
  # Refresh the package lists only when apt does not know the packages yet.
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then apt-get update -qq; fi
  # RUNLEVEL=1 keeps the package's init script from starting a system nginx on port 80.
  RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

free_port() {
  "$BUN" -e 'const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }); console.log(l.port); l.stop(true);'
}

# Starts a command in the background, output to $1, and records its pid for cleanup.
PIDS=()
start() {
  local out="$1"
  shift
  "$@" >"$out" 2>&1 &
  PIDS+=($!)
}

# Waits for the port a started command prints on its first line.
port_of() {
  local out="$1"
  for _ in $(seq 1 100); do
    if [ -s "$out" ]; then head -n1 "$out"; return; fi
    sleep 0.05
  done
  echo "A benchmark process printed no port:" >&2
  cat "$out" >&2
  exit 1
}

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${TMP:-}" ]; then rm -rf "$TMP"; fi
}
trap cleanup EXIT

write_nginx_conf() {
  local user_line=''
  # As root nginx switches its worker to `nobody`/`nobody`, a group Debian does not have.
  [ "$(id -u)" -eq 0 ] && user_line='user www-data www-data;'
  mkdir -p "$TMP/nginx"
  cat >"$TMP/nginx/nginx.conf" <<EOF
$user_line
# One worker: the edge is one Bun process, so this compares one event loop with another.
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  upstream app {
    server $UPSTREAM;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$http_host;
    }
  }
}
EOF
}

# Runs wrk against a port; prints "<requests/s> <p99 in ms> <non-2xx count>".
measure() {
  local port="$1" out
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "$HOST_HEADER" "http://127.0.0.1:$port/" >/dev/null # warm-up
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "$HOST_HEADER" --latency "http://127.0.0.1:$port/")"
  echo "$out" | awk '
    /Requests\/sec:/ { rps = $2 }
    /^ +99%/ { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
               p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v }
    /Non-2xx or 3xx responses:/ { bad = $5 }
    /Socket errors:/ { bad = bad "+socket-errors" }
    END { printf "%s %.2f %s\n", rps, p99, (bad == "" ? 0 : bad) }'
}

ensure_tools
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
TMP="$(mktemp -d)"
chmod 755 "$TMP"

start "$TMP/upstream.out" "$BUN" "$ROOT/scripts/bench-edge-upstream.ts" upstream
UPSTREAM="127.0.0.1:$(port_of "$TMP/upstream.out")"
start "$TMP/edge.out" "$BUN" "$ROOT/scripts/bench-edge-upstream.ts" edge "$UPSTREAM"
EDGE_PORT="$(port_of "$TMP/edge.out")"
NGINX_PORT="$(free_port)"
write_nginx_conf
start "$TMP/nginx/stderr.out" "$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;'
for _ in $(seq 1 100); do
  "$BUN" -e "await fetch('http://127.0.0.1:$NGINX_PORT/', { headers: { host: 'bench.localhost' } })" 2>/dev/null && break
  sleep 0.05
done

read -r EDGE_RPS EDGE_P99 EDGE_BAD <<<"$(measure "$EDGE_PORT")"
read -r NGINX_RPS NGINX_P99 NGINX_BAD <<<"$(measure "$NGINX_PORT")"
NGINX_VERSION="$("$NGINX_BIN" -v 2>&1 | sed 's/.*nginx\///')"
BUN_VERSION="$("$BUN" --version)"

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, hello world upstream on 127.0.0.1, $(nproc) CPUs"
echo
echo "| proxy | requests/s | p99 latency | non-2xx |"
echo "|---|---:|---:|---:|"
echo "| Slipway edge (Bun $BUN_VERSION) | $EDGE_RPS | $EDGE_P99 ms | $EDGE_BAD |"
echo "| nginx $NGINX_VERSION (1 worker, upstream keepalive) | $NGINX_RPS | $NGINX_P99 ms | $NGINX_BAD |"
awk -v er="$EDGE_RPS" -v nr="$NGINX_RPS" -v ep="$EDGE_P99" -v np="$NGINX_P99" 'BEGIN {
  printf "| edge / nginx | %.2f | %.2f | |\n", er / nr, (np > 0 ? ep / np : 0) }'
