# Shared pieces of scripts/bench-edge.sh (sourced, never run by tests): the tools it needs, CPU
# pinning, background processes and their cleanup, the nginx configurations (the upstream and the
# reference proxy), wrk runs parsed into figures, and a process's peak RSS.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUN="${BUN:-$ROOT/node_modules/.bin/bun}"
HOST_HEADER='Host: bench.localhost'
CIPHERS='ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305'

# nginx-light (scripts/ensure-nginx.sh), wrk, curl and openssl; apt installs what is missing (root only).
ensure_tools() {
  bash "$ROOT/scripts/ensure-nginx.sh"
  local missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "Cannot install ${missing[*]}: run as root, or install them first" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"

# CPU pinning: the load generator (wrk, curl) on CPU 1; the proxy and its upstream on CPU 0.
PROXY_CPU=()
LOAD_CPU=()
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  PROXY_CPU=(taskset -c 0)
  LOAD_CPU=(taskset -c 1)
fi

free_port() {
  "$BUN" -e 'const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }); console.log(l.port); l.stop(true);'
}

# Starts a command in the background with its output in $1; its pid lands in $STARTED.
PIDS=()
start() {
  local out="$1"
  shift
  "$@" >"$out" 2>&1 &
  STARTED=$!
  PIDS+=("$STARTED")
}

# The first line a started command prints (its port or ports), waiting up to 5 s for it.
first_line() {
  local out="$1"
  for _ in $(seq 1 100); do
    if [ -s "$out" ]; then head -n1 "$out"; return; fi
    sleep 0.05
  done
  echo "A benchmark process printed nothing:" >&2
  cat "$out" >&2
  exit 1
}

# Waits until something answers HTTP on 127.0.0.1:$1.
wait_http() {
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return
    sleep 0.05
  done
  echo "Nothing answers on port $1" >&2
  exit 1
}

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${TMP:-}" ]; then rm -rf "$TMP"; fi
}

make_certificate() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -subj '/CN=localhost' \
    -addext 'subjectAltName=DNS:localhost' >/dev/null 2>&1
  chmod 644 "$TMP/key.pem" "$TMP/cert.pem"
}

# The head of an nginx.conf for one process (master_process off, so its pid is the one doing the work).
nginx_head() {
  local dir="$1"
  mkdir -p "$dir"
  cat <<EOF
master_process off;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
EOF
  echo "http { access_log off; keepalive_requests 1000000; keepalive_timeout 75s;"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $dir/$t;"; done
}

# The upstream every proxy forwards to: `return 200` for /, files under /files/, stub_status.
write_upstream_conf() {
  nginx_head "$TMP/upstream"
  cat <<EOF
  server {
    listen 127.0.0.1:$UPSTREAM_PORT;
    location = / { default_type text/plain; return 200 'Hello, world!\n'; }
    location /files/ { alias $TMP/www/; }
    location = /nginx-status { stub_status; }
  }
}
EOF
}

# The reference proxy: one process, upstream keep-alive, streaming uploads, HTTP and HTTPS.
write_proxy_conf() {
  nginx_head "$TMP/proxy"
  local proxy='proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;'
  cat <<EOF
  upstream app { server 127.0.0.1:$UPSTREAM_PORT; keepalive 256; keepalive_requests 1000000; }
  upstream upload { server 127.0.0.1:$UPLOAD_PORT; keepalive 16; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    listen 127.0.0.1:$NGINX_TLS_PORT ssl;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers $CIPHERS;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    client_max_body_size 0;
    proxy_request_buffering off;
    location / { proxy_pass http://app; $proxy }
    location = /upload { proxy_pass http://upload; $proxy }
  }
}
EOF
}

# Connections the upstream nginx has accepted so far (stub_status).
upstream_accepts() {
  curl -s "http://127.0.0.1:$UPSTREAM_PORT/nginx-status" | awk 'NR == 3 { print $1 }'
}

# Runs wrk (on the load CPU) at $1 connections against URL $2, extra wrk arguments after; a 1 s
# warm-up first. Prints "<requests/s> <p50 ms> <p99 ms> <MiB/s> <errors>".
wrk_run() {
  local conns="$1" url="$2" threads=2
  shift 2
  [ "$conns" -lt 2 ] && threads=1
  "${LOAD_CPU[@]}" wrk -t"$threads" -c"$conns" -d1s -H "$HOST_HEADER" "$@" "$url" >/dev/null
  "${LOAD_CPU[@]}" wrk -t"$threads" -c"$conns" -d"$DURATION" -H "$HOST_HEADER" "$@" --latency "$url" | awk '
    function ms(v,   unit) { unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      return (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v }
    function mib(v,   unit) { unit = v; sub(/[0-9.]+/, "", unit); sub(/[A-Za-z]+$/, "", v)
      return (unit == "GB") ? v * 1024 : (unit == "MB") ? v : (unit == "KB") ? v / 1024 : v / 1048576 }
    /Requests\/sec:/ { rps = $2 }
    /Transfer\/sec:/ { tput = mib($2) }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad += $5 }
    /Socket errors:/ { gsub(/[^0-9 ]/, ""); bad += $1 + $2 + $3 + $4 }
    END { printf "%s %.3f %.2f %.1f %d\n", rps, p50, p99, tput, bad }'
}

# Peak RSS in MiB of pid $1 since reset_peak (VmHWM; clear_refs 5 resets it, root or own process).
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
peak_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# a / b with two decimals (0 when b is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
