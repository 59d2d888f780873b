#!/usr/bin/env bash
# The smallest reproduction of the long tail of new-connection HTTPS on Bun (README, "Why
# new-connection HTTPS has a long tail"). Never run by tests. Three hello-world HTTPS servers, no
# proxying: nginx, Bun.listen's own TLS, and node:tls over a JS Duplex on a plain Bun.listen
# socket. Each gets `wrk -c50 -H 'Connection: close'` (a TLS 1.3 handshake per request) while
# tcpdump records loopback; for each it prints wrk's p99 and, of the handshakes the server completed
# while a request waited for its answer, how many had begun after that request (0 when the server
# serves first come, first served).
#
#   bash scripts/tls-queue-repro.sh     (DURATION=5s per run; PIN=0 unpins; root, for tcpdump)
set -euo pipefail
source "$(dirname "$0")/bench-edge-lib.sh"

DURATION="${DURATION:-5s}"
ensure_tools
if ! command -v tcpdump >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tcpdump >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tcpdump >/dev/null; }
fi
TMP="$(mktemp -d)"
chmod 755 "$TMP"
trap cleanup EXIT
make_certificate

NGINX_TLS_PORT="$(free_port)"
{
  nginx_head "$TMP/nginx"
  cat <<EOF
  server {
    listen 127.0.0.1:$NGINX_TLS_PORT ssl;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type text/plain; return 200 'Hello, world!\n'; }
  }
}
EOF
} >"$TMP/nginx.conf"
start "$TMP/nginx.out" "${PROXY_CPU[@]}" "$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx.conf"
start "$TMP/native.out" "${PROXY_CPU[@]}" "$BUN" "$ROOT/scripts/tls-queue-repro.ts" server native "$TMP/cert.pem" "$TMP/key.pem"
start "$TMP/duplex.out" "${PROXY_CPU[@]}" "$BUN" "$ROOT/scripts/tls-queue-repro.ts" server duplex "$TMP/cert.pem" "$TMP/key.pem"
declare -A PORT=([nginx]=$NGINX_TLS_PORT [bun-native-tls]="$(first_line "$TMP/native.out")" [bun-tls-over-duplex]="$(first_line "$TMP/duplex.out")")

# One server ($1): a warm-up, then a recorded run; prints wrk's figures and the analysis.
run() {
  local name="$1" port="${PORT[$1]}" url dump
  url="https://localhost:$port/"
  dump="$TMP/$name.pcap"
  "${LOAD_CPU[@]}" wrk -t2 -c50 -d1s -H 'Connection: close' "$url" >/dev/null
  tcpdump -i lo -n -s 96 -w "$dump" "tcp port $port" >/dev/null 2>&1 &
  local capture=$!
  sleep 0.5
  "${LOAD_CPU[@]}" wrk -t2 -c50 -d"$DURATION" -H 'Connection: close' --latency "$url" |
    awk -v n="$name" '/Requests\/sec/ { r = $2 } /^ +99%/ { p = $2 } END { printf "%-20s %s req/s, p99 %s\n", n, r, p }'
  sleep 0.3
  kill "$capture"
  wait "$capture" 2>/dev/null || true
  tcpdump -n -tt -r "$dump" 2>/dev/null | "$BUN" "$ROOT/scripts/tls-queue-repro.ts" analyse "$port" | sed 's/^/  /'
}

for server in nginx bun-native-tls bun-tls-over-duplex; do run "$server"; done
