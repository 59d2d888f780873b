#!/usr/bin/env bash
# A/B of the edge's HTTPS handshake admission (SLIPWAY_EDGE_TLS_ADMISSION) in one sitting; never
# run by tests. Proxies of the same nginx upstream run side by side: the edge once per entry of
# VARIANTS (`off`: node:tls's server, as before; `K`: admission K; `K/W`: admission K with a wait of
# W ms for a native slot), and nginx (1 process). ROUNDS rounds take turns between them, each proxy getting `wrk -c50` over kept-alive HTTPS and with a
# new connection (full TLS handshake) per request; prints each run and then the medians of
# requests/s, p99 and the proxy's CPU per request (utime + stime from /proc, all its threads).
# With tcpdump (and root), the new-connection runs of the last round are recorded on loopback and,
# as scripts/tls-queue-repro.sh does, it prints how many handshakes begun after a request were done
# before its answer (p99, max): 0 for a first-come, first-served server, whatever the machine's load.
#
#   bash scripts/bench-tls-admission.sh   (VARIANTS='off 5', ROUNDS=3, DURATION=6s, PIN=1 as bench-edge.sh)
set -euo pipefail
source "$(dirname "$0")/bench-edge-lib.sh"

read -r -a VARIANTS <<<"${VARIANTS:-off 5}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-6s}"
ensure_tools
TMP="$(mktemp -d)"
chmod 755 "$TMP"
trap cleanup EXIT
make_certificate
mkdir -p "$TMP/www"

UPSTREAM_PORT="$(free_port)"
UPLOAD_PORT="$(free_port)"
write_upstream_conf >"$TMP/upstream.conf"
start "$TMP/upstream.out" "${PROXY_CPU[@]}" "$NGINX_BIN" -p "$TMP/upstream" -c "$TMP/upstream.conf"
wait_http "$UPSTREAM_PORT"
declare -A TLS_PORT PID
for variant in "${VARIANTS[@]}"; do
  admission="${variant%%/*}"
  wait_ms=""
  [ "$variant" != "$admission" ] && wait_ms="${variant#*/}"
  SLIPWAY_EDGE_TLS_ADMISSION="$admission" BENCH_TLS_ADMISSION_WAIT_MS="$wait_ms" start "$TMP/${variant//\//-}.out" "${PROXY_CPU[@]}" "$BUN" \
    "$ROOT/scripts/bench-edge-upstream.ts" edge "bench=127.0.0.1:$UPSTREAM_PORT" --tls "$TMP/cert.pem" "$TMP/key.pem"
  PID[$variant]=$STARTED
  read -r _ TLS_PORT[$variant] <<<"$(first_line "$TMP/${variant//\//-}.out")"
done
NGINX_PORT="$(free_port)"
NGINX_TLS_PORT="$(free_port)"
write_proxy_conf >"$TMP/proxy.conf"
start "$TMP/proxy.out" "${PROXY_CPU[@]}" "$NGINX_BIN" -p "$TMP/proxy" -c "$TMP/proxy.conf"
PID[nginx]=$STARTED
TLS_PORT[nginx]=$NGINX_TLS_PORT
wait_http "$NGINX_PORT"
PROXIES=("${VARIANTS[@]}" nginx)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# One wrk run against proxy $1, extra wrk arguments after; prints "<req/s> <p99 ms> <µs CPU/request>".
run() {
  local proxy="$1" before after out
  shift
  "${LOAD_CPU[@]}" wrk -t2 -c50 -d1s -H "$HOST_HEADER" "$@" "https://localhost:${TLS_PORT[$proxy]}/" >/dev/null
  before="$(cpu_ticks "${PID[$proxy]}")"
  local capture=""
  if [ -n "${RECORD:-}" ]; then
    tcpdump -i lo -n -s 96 -w "$TMP/$RECORD.pcap" "tcp port ${TLS_PORT[$proxy]}" >/dev/null 2>&1 &
    capture=$!
    sleep 0.5
  fi
  out="$("${LOAD_CPU[@]}" wrk -t2 -c50 -d"$DURATION" -H "$HOST_HEADER" "$@" --latency "https://localhost:${TLS_PORT[$proxy]}/")"
  after="$(cpu_ticks "${PID[$proxy]}")"
  if [ -n "$capture" ]; then
    sleep 0.3
    kill "$capture"
    wait "$capture" 2>/dev/null || true
  fi
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    function ms(v,   unit) { unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      return (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v }
    /requests in/ { n = $1 } /Requests\/sec:/ { rps = $2 } /^ +99%/ { p99 = ms($2) }
    END { printf "%s %.2f %.1f\n", rps, p99, (n > 0 ? ticks / hz * 1e6 / n : 0) }' <<<"$out"
}

declare -A FIG OVERTAKEN
for round in $(seq 1 "$ROUNDS"); do
  for proxy in "${PROXIES[@]}"; do
    FIG[$proxy,keep,$round]="$(run "$proxy")"
    RECORD=""
    [ "$round" = "$ROUNDS" ] && [ "$(id -u)" = 0 ] && command -v tcpdump >/dev/null 2>&1 && RECORD="${proxy//\//-}"
    FIG[$proxy,new,$round]="$(RECORD="$RECORD" run "$proxy" -H 'Connection: close')"
    [ -n "$RECORD" ] && OVERTAKEN[$proxy]="$(tcpdump -n -tt -r "$TMP/$RECORD.pcap" 2>/dev/null |
      "$BUN" "$ROOT/scripts/tls-queue-repro.ts" analyse "${TLS_PORT[$proxy]}")"
    echo "round $round $proxy: keep-alive ${FIG[$proxy,keep,$round]}; new connections ${FIG[$proxy,new,$round]}" >&2
  done
done

# Median of field $3 (1 req/s, 2 p99, 3 CPU) over the rounds of proxy $1, case $2.
median() {
  for round in $(seq 1 "$ROUNDS"); do echo "${FIG[$1,$2,$round]}" | awk -v f="$3" '{ print $f }'; done |
    sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

echo "medians of $ROUNDS rounds of $DURATION, c=50: req/s, p99 ms, CPU µs per request"
for c in keep new; do
  for proxy in "${PROXIES[@]}"; do
    echo "$c $proxy: $(median "$proxy" $c 1) req/s, p99 $(median "$proxy" $c 2) ms, $(median "$proxy" $c 3) µs"
  done
  for proxy in "${VARIANTS[@]}"; do
    echo "edge($proxy)/nginx https $c c=50: $(ratio "$(median "$proxy" $c 1)" "$(median nginx $c 1)") req/s, $(ratio "$(median "$proxy" $c 2)" "$(median nginx $c 2)") p99"
  done
done
for proxy in "${PROXIES[@]}"; do
  [ -n "${OVERTAKEN[$proxy]:-}" ] && echo "overtaking, $proxy (last round): ${OVERTAKEN[$proxy]}"
done
true
