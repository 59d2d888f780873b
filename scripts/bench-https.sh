#!/usr/bin/env bash
# Benchmarks Slipway's edge terminating TLS against nginx terminating TLS, both proxying the same
# hello-world upstream over plain HTTP, with wrk, in the same run: kept-alive connections, then a
# new connection (TCP + full TLS handshake) per request (`Connection: close`). Never run by tests.
# Installs nginx-light and wrk from Debian when missing (needs root then); makes its certificate
# with openssl (an ECDSA P-256 leaf for "localhost", which wrk sends as SNI).
#
# With 2 CPUs or more, the proxy being measured runs alone on CPU 0 and wrk and the upstream on
# CPU 1 (taskset), so that each proxy gets one core, as nginx's single worker and Bun's single
# event loop would use anyway. Both proxies speak TLS 1.2/1.3 with Mozilla's intermediate ciphers
# and HTTP/1.1 only. Prints a markdown table of requests/s and p99 latency, and edge/nginx ratios.
#
#   bash scripts/bench-https.sh             (DURATION=10s CONNECTIONS=50 THREADS=2 PIN=1 by default;
#                                            PIN=0 lets every process use every CPU)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUN="${BUN:-$ROOT/node_modules/.bin/bun}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-50}"
THREADS="${THREADS:-2}"
HOST_HEADER='Host: bench.localhost'
CIPHERS='ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305'

ensure_tools() {
  local missing=()
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "Cannot install ${missing[*]}: run as root, or install them first" >&2
    exit 1
  fi
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then apt-get update -qq; fi
  # RUNLEVEL=1 keeps the package's init script from starting a system nginx on port 80.
  RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# CPU pinning: the proxy on CPU 0, the load generator and the upstream on CPU 1.
PROXY_CPU=()
LOAD_CPU=()
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  PROXY_CPU=(taskset -c 0)
  LOAD_CPU=(taskset -c 1)
fi

free_port() {
  "$BUN" -e 'const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }); console.log(l.port); l.stop(true);'
}

PIDS=()
start() {
  local out="$1"
  shift
  "$@" >"$out" 2>&1 &
  PIDS+=($!)
}

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

make_certificate() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -subj '/CN=localhost' \
    -addext 'subjectAltName=DNS:localhost' >/dev/null 2>&1
  chmod 644 "$TMP/key.pem"
}

write_nginx_conf() {
  local user_line=''
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
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers $CIPHERS;
    ssl_prefer_server_ciphers off;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    keepalive_timeout 75s;
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

# Runs wrk against https://localhost:port with extra arguments; prints "<requests/s> <p99 ms> <errors>".
measure() {
  local port="$1" out
  shift
  "${LOAD_CPU[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "$HOST_HEADER" "$@" "https://localhost:$port/" >/dev/null
  out="$("${LOAD_CPU[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "$HOST_HEADER" "$@" --latency "https://localhost:$port/")"
  echo "$out" | awk '
    /Requests\/sec:/ { rps = $2 }
    /^ +99%/ { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
               p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v }
    /Non-2xx or 3xx responses:/ { bad = $5 }
    /Socket errors:/ { sub(/^ +Socket errors: +/, ""); gsub(/ /, ""); sock = $0 }
    END { printf "%s %.2f %s\n", rps, p99, (bad == "" ? 0 : bad) (sock == "" ? "" : "," sock) }'
}

ensure_tools
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
TMP="$(mktemp -d)"
chmod 755 "$TMP"
make_certificate

start "$TMP/upstream.out" "${LOAD_CPU[@]}" "$BUN" "$ROOT/scripts/bench-edge-upstream.ts" upstream
UPSTREAM="127.0.0.1:$(port_of "$TMP/upstream.out")"
start "$TMP/edge.out" "${PROXY_CPU[@]}" "$BUN" "$ROOT/scripts/bench-https-edge.ts" "$UPSTREAM" localhost \
  "$TMP/cert.pem" "$TMP/key.pem"
EDGE_PORT="$(port_of "$TMP/edge.out")"
NGINX_PORT="$(free_port)"
write_nginx_conf
start "$TMP/nginx/stderr.out" "${PROXY_CPU[@]}" "$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;'
for _ in $(seq 1 100); do
  curl -skf -o /dev/null -H "$HOST_HEADER" "https://localhost:$NGINX_PORT/" && break
  sleep 0.05
done

read -r EDGE_KA_RPS EDGE_KA_P99 EDGE_KA_BAD <<<"$(measure "$EDGE_PORT")"
read -r NGINX_KA_RPS NGINX_KA_P99 NGINX_KA_BAD <<<"$(measure "$NGINX_PORT")"
read -r EDGE_NEW_RPS EDGE_NEW_P99 EDGE_NEW_BAD <<<"$(measure "$EDGE_PORT" -H 'Connection: close')"
read -r NGINX_NEW_RPS NGINX_NEW_P99 NGINX_NEW_BAD <<<"$(measure "$NGINX_PORT" -H 'Connection: close')"
NGINX_VERSION="$("$NGINX_BIN" -v 2>&1 | sed 's/.*nginx\///')"
BUN_VERSION="$("$BUN" --version)"
PROTOCOL="$(curl -skv -o /dev/null -H "$HOST_HEADER" "https://localhost:$EDGE_PORT/" 2>&1 | sed -n 's/.*SSL connection using \([^ ]*\) \/ \([^ ]*\).*/\1 \2/p' | head -n1)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION over HTTPS ($PROTOCOL, ECDSA P-256), hello world upstream on 127.0.0.1, $(nproc) CPUs$([ ${#PROXY_CPU[@]} -gt 0 ] && echo ', proxy pinned to CPU 0, wrk and upstream to CPU 1')"
echo
echo "| connections | proxy | requests/s | p99 latency | errors |"
echo "|---|---|---:|---:|---:|"
echo "| kept alive | Slipway edge (Bun $BUN_VERSION) | $EDGE_KA_RPS | $EDGE_KA_P99 ms | $EDGE_KA_BAD |"
echo "| kept alive | nginx $NGINX_VERSION (1 worker) | $NGINX_KA_RPS | $NGINX_KA_P99 ms | $NGINX_KA_BAD |"
echo "| kept alive | edge / nginx | $(ratio "$EDGE_KA_RPS" "$NGINX_KA_RPS") | $(ratio "$EDGE_KA_P99" "$NGINX_KA_P99") | |"
echo "| new per request | Slipway edge (Bun $BUN_VERSION) | $EDGE_NEW_RPS | $EDGE_NEW_P99 ms | $EDGE_NEW_BAD |"
echo "| new per request | nginx $NGINX_VERSION (1 worker) | $NGINX_NEW_RPS | $NGINX_NEW_P99 ms | $NGINX_NEW_BAD |"
echo "| new per request | edge / nginx | $(ratio "$EDGE_NEW_RPS" "$NGINX_NEW_RPS") | $(ratio "$EDGE_NEW_P99" "$NGINX_NEW_P99") | |"
