#!/usr/bin/env bash
# Benchmarks Slipway's edge against nginx (1 process, upstream keep-alive), both proxying the same
# 1-process nginx upstream (`return 200` hello world, static files), in one run. Never run by
# tests. wrk and curl run on CPU 1, each proxy and the upstream on CPU 0 (taskset; PIN=0 turns it
# off). The edge runs on the engine SLIPWAY_EDGE_ENGINE names (native when unset, as in the agent). Cases:
#
#   keep-alive c=50, c=200     hello world over kept-alive connections; the upstream connections
#                              each proxy opened (upstream stub_status), goal: ≤ the concurrency
#   1 MiB responses c=10       a static file; Content-Length checked to arrive as sent
#   100 MiB response           curl, REPEAT downloads: MiB/s and the proxy's peak RSS growth
#   100 MiB upload             curl -T to an app that counts the bytes it got: MiB/s, peak RSS
#   https keep-alive c=50      TLS 1.3 terminated by the proxy, same ciphers for both
#   https new connections c=50 a TCP connection and full TLS handshake per request
#   added latency c=1          p50 through each proxy minus p50 straight to the upstream, measured
#                              just before it
#
# Each wrk case runs ROUNDS times per proxy, taking turns; its figures are the medians of those runs
# (req/s and p99 each its own median), as the issue's own measurement took the median of 3.
# Ends with one line per case: `edge/nginx <case>: <ratio> <unit>, <ratio> <unit>`.
#
#   bash scripts/bench-edge.sh       (DURATION=10s per wrk run, ROUNDS=3 wrk runs per case and proxy,
#                                     REPEAT=3 large transfers, PIN=1)
set -euo pipefail
source "$(dirname "$0")/bench-edge-lib.sh"

DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
REPEAT="${REPEAT:-3}"
ENGINE="${SLIPWAY_EDGE_ENGINE:-native}"
HUNDRED_MIB=$((100 * 1024 * 1024))

ensure_tools
TMP="$(mktemp -d)"
chmod 755 "$TMP"
trap cleanup EXIT
make_certificate
mkdir -p "$TMP/www"
head -c 1048576 /dev/urandom >"$TMP/www/1m"
head -c "$HUNDRED_MIB" /dev/urandom >"$TMP/www/100m"

UPSTREAM_PORT="$(free_port)"
write_upstream_conf >"$TMP/upstream.conf"
start "$TMP/upstream.out" "${PROXY_CPU[@]}" "$NGINX_BIN" -p "$TMP/upstream" -c "$TMP/upstream.conf"
start "$TMP/upload.out" "${PROXY_CPU[@]}" "$BUN" "$ROOT/scripts/bench-edge-upstream.ts" upload
UPLOAD_PORT="$(first_line "$TMP/upload.out")"
wait_http "$UPSTREAM_PORT"

# The edge runs with the JIT policy `slipway serve` gives itself (src/cli/jit-policy.ts).
JIT_ENV=()
while IFS= read -r line; do JIT_ENV+=("$line"); done < <("$BUN" -e \
  "const { SERVE_JIT_ENV } = await import('$ROOT/src/cli/jit-policy.ts'); for (const [k, v] of Object.entries(SERVE_JIT_ENV)) console.log(k + '=' + v)")
start "$TMP/edge.out" env "${JIT_ENV[@]}" "${PROXY_CPU[@]}" "$BUN" "$ROOT/scripts/bench-edge-upstream.ts" edge \
  "bench=127.0.0.1:$UPSTREAM_PORT" "upload=127.0.0.1:$UPLOAD_PORT" --tls "$TMP/cert.pem" "$TMP/key.pem"
EDGE_PID=$STARTED
read -r EDGE_PORT EDGE_TLS_PORT <<<"$(first_line "$TMP/edge.out")"
NGINX_PORT="$(free_port)"
NGINX_TLS_PORT="$(free_port)"
write_proxy_conf >"$TMP/proxy.conf"
start "$TMP/proxy.out" "${PROXY_CPU[@]}" "$NGINX_BIN" -p "$TMP/proxy" -c "$TMP/proxy.conf"
NGINX_PID=$STARTED

declare -A PORT=([edge]=$EDGE_PORT [nginx]=$NGINX_PORT)
declare -A TLS_PORT=([edge]=$EDGE_TLS_PORT [nginx]=$NGINX_TLS_PORT)
declare -A PID=([edge]=$EDGE_PID [nginx]=$NGINX_PID)
declare -A R # R[proxy,case] = "<requests/s> <p50> <p99> <MiB/s> <errors>" or a transfer's figures
declare -A OPENED # OPENED[proxy,case]: upstream connections the proxy opened during the case (warm-up included)
declare -A SO_FAR # SO_FAR[proxy,case]: all it opened since it started, that case included
declare -A TOTAL=([edge]=0 [nginx]=0)

# Runs the command after $1 (a proxy), adding the upstream connections it made the proxy open to
# TOTAL and leaving their number in $COUNTED. Less one: the stub_status request of the second count.
counted() {
  local proxy="$1" before
  shift
  before="$(upstream_accepts)"
  "$@"
  COUNTED=$(($(upstream_accepts) - before - 1))
  TOTAL[$proxy]=$((TOTAL[$proxy] + COUNTED))
}

# wrk_run's figures into R[$1].
wrk_into() {
  local key="$1"
  shift
  R[$key]="$(wrk_run "$@")"
}

# A wrk case for both proxies, ROUNDS times taking turns (edge first in odd rounds, nginx in even
# ones): $1 case name, $2 connections, $3 "http" or "https", $4 path, then wrk arguments. R gets
# each figure's median over the rounds, OPENED the most upstream connections one round opened.
wrk_case() {
  local name="$1" conns="$2" scheme="$3" path="$4" proxy url round
  shift 4
  local -A runs=()
  OPENED[edge,$name]=0
  OPENED[nginx,$name]=0
  for round in $(seq 1 "$ROUNDS"); do
    local order=(edge nginx)
    ((round % 2 == 0)) && order=(nginx edge)
    for proxy in "${order[@]}"; do
      url="http://127.0.0.1:${PORT[$proxy]}$path"
      [ "$scheme" = https ] && url="https://localhost:${TLS_PORT[$proxy]}$path"
      counted "$proxy" wrk_into "$proxy,$name" "$conns" "$url" "$@"
      runs[$proxy]+="${R[$proxy,$name]}"$'\n'
      ((COUNTED > OPENED[$proxy,$name])) && OPENED[$proxy,$name]=$COUNTED
      SO_FAR[$proxy,$name]=${TOTAL[$proxy]}
    done
  done
  for proxy in edge nginx; do R[$proxy,$name]="$(printf '%s' "${runs[$proxy]}" | medians)"; done
}

# The median of each column of the lines on stdin (an odd count of runs gives a run's own figure).
medians() {
  awk '{ for (i = 1; i <= NF; i++) v[i, NR] = $i; n = NF }
    END {
      for (i = 1; i <= n; i++) {
        for (a = 1; a <= NR; a++) col[a] = v[i, a]
        for (a = 1; a <= NR; a++) for (b = a + 1; b <= NR; b++) if (col[b] + 0 < col[a] + 0) { t = col[a]; col[a] = col[b]; col[b] = t }
        printf "%s%s", (i > 1 ? " " : ""), col[int((NR + 1) / 2)]
      }
      print ""
    }'
}

# The Content-Length a proxy's response for $2 carries ("-" when none).
length_of() {
  curl -s -D - -o /dev/null -H "$HOST_HEADER" "http://127.0.0.1:${PORT[$1]}$2" |
    awk 'tolower($1) == "content-length:" { gsub(/\r/, ""); print $2; found = 1 } END { if (!found) print "-" }'
}

# REPEAT transfers through proxy $1 by curl arguments after it; prints "<MiB/s> <peak RSS growth MiB> <bytes ok>".
transfer() {
  local proxy="$1" pid base total=0 seconds=0 ok=yes line
  shift
  pid="${PID[$proxy]}"
  base="$(rss_mib "$pid")"
  reset_peak "$pid"
  for _ in $(seq 1 "$REPEAT"); do
    line="$("${LOAD_CPU[@]}" curl -s -o "$TMP/transfer.out" -w '%{time_total} %{size_download} %{size_upload}' "$@")"
    local t down up
    read -r t down up <<<"$line"
    seconds="$(awk -v a="$seconds" -v b="$t" 'BEGIN { print a + b }')"
    total=$((total + down + up))
    # A download must be whole; an upload's answer is the byte count the app received.
    if [ "$up" -gt 0 ]; then [ "$(cat "$TMP/transfer.out")" = "$HUNDRED_MIB" ] || ok=no; fi
    if [ "$up" -eq 0 ] && [ "$down" -ne "$HUNDRED_MIB" ]; then ok=no; fi
  done
  awk -v b="$total" -v s="$seconds" -v p="$(peak_mib "$pid")" -v r="$base" -v ok="$ok" \
    'BEGIN { printf "%.0f %.1f %s\n", b / 1048576 / s, (p > r ? p - r : 0), ok }'
}

echo "edge engine: $ENGINE; wrk ${DURATION} per run, medians of $ROUNDS rounds; $(nproc) CPUs$([ ${#PROXY_CPU[@]} -gt 0 ] && echo ', wrk/curl on CPU 1, proxy + upstream on CPU 0')" >&2
counted nginx wait_http "$NGINX_PORT"
# A first load wakes both proxies up (JIT, pools) before anything is measured.
for proxy in edge nginx; do
  counted "$proxy" "${LOAD_CPU[@]}" wrk -t2 -c50 -d2s -H "$HOST_HEADER" "http://127.0.0.1:${PORT[$proxy]}/" >/dev/null
done
# Latency next, before the heavy cases leave work behind; each proxy right after its own direct run.
for proxy in edge nginx; do
  R[$proxy,direct]="$(wrk_run 1 "http://127.0.0.1:$UPSTREAM_PORT/")"
  counted "$proxy" wrk_into "$proxy,latency" 1 "http://127.0.0.1:${PORT[$proxy]}/"
done
wrk_case 'keep-alive c=50' 50 http /
wrk_case 'keep-alive c=200' 200 http /
wrk_case '1 MiB responses c=10' 10 http /files/1m
wrk_case 'https keep-alive c=50' 50 https /
wrk_case 'https new connections c=50' 50 https / -H 'Connection: close'
for proxy in edge nginx; do
  R[$proxy,download]="$(transfer "$proxy" -H "$HOST_HEADER" "http://127.0.0.1:${PORT[$proxy]}/files/100m")"
  R[$proxy,upload]="$(transfer "$proxy" -X POST -T "$TMP/www/100m" -H 'Expect:' -H 'Host: upload.localhost' \
    "http://127.0.0.1:${PORT[$proxy]}/upload")"
  R[$proxy,length1m]="$(length_of "$proxy" /files/1m)"
  R[$proxy,length100m]="$(length_of "$proxy" /files/100m)"
done

source "$(dirname "$0")/bench-edge-report.sh"
