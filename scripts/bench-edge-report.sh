# The report of scripts/bench-edge.sh (sourced once its figures are in R and OPENED): a markdown
# table of every figure, then one `edge/nginx <case>: …` line per case.

field() { echo "${R[$1]}" | awk -v n="$2" '{ print $n }'; }
NGINX_VERSION="$("$NGINX_BIN" -v 2>&1 | sed 's/.*nginx\///')"
BUN_VERSION="$("$BUN" --version)"
WRK_CASES=('keep-alive c=50' 'keep-alive c=200' '1 MiB responses c=10' 'https keep-alive c=50' 'https new connections c=50')

echo
echo "Slipway edge (Bun $BUN_VERSION, engine $ENGINE) and nginx $NGINX_VERSION (1 process), upstream nginx (1 process)"
echo
echo "| case | edge req/s | edge p50 / p99 | nginx req/s | nginx p50 / p99 | upstream connections opened in one run of the case, at most (edge / nginx) | errors (edge / nginx) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for c in "${WRK_CASES[@]}"; do
  printf '| %s | %s | %s / %s ms | %s | %s / %s ms | %s / %s | %s / %s |\n' "$c" \
    "$(field "edge,$c" 1)" "$(field "edge,$c" 2)" "$(field "edge,$c" 3)" \
    "$(field "nginx,$c" 1)" "$(field "nginx,$c" 2)" "$(field "nginx,$c" 3)" \
    "${OPENED[edge,$c]}" "${OPENED[nginx,$c]}" "$(field "edge,$c" 5)" "$(field "nginx,$c" 5)"
done
printf '| 1 client | %s | %s / %s ms | %s | %s / %s ms | | |\n' \
  "$(field edge,latency 1)" "$(field edge,latency 2)" "$(field edge,latency 3)" \
  "$(field nginx,latency 1)" "$(field nginx,latency 2)" "$(field nginx,latency 3)"
printf '| 1 client, straight to the upstream (run just before each proxy) | %s | %s / %s ms | %s | %s / %s ms | | |\n' \
  "$(field edge,direct 1)" "$(field edge,direct 2)" "$(field edge,direct 3)" \
  "$(field nginx,direct 1)" "$(field nginx,direct 2)" "$(field nginx,direct 3)"
echo
echo "| transfer ($REPEAT each) | edge MiB/s | edge peak RSS growth | nginx MiB/s | nginx peak RSS growth | complete (edge / nginx) |"
echo "|---|---:|---:|---:|---:|---:|"
for c in download upload; do
  printf '| 100 MiB %s | %s | %s MiB | %s | %s MiB | %s / %s |\n' "$c" \
    "$(field "edge,$c" 1)" "$(field "edge,$c" 2)" "$(field "nginx,$c" 1)" "$(field "nginx,$c" 2)" \
    "$(field "edge,$c" 3)" "$(field "nginx,$c" 3)"
done
echo

# "yes" when the Content-Length a proxy sent ($1) is the file's size ($2), else what it sent.
kept() { if [ "$1" = "$2" ]; then echo yes; else echo "no ($1)"; fi; }
for c in "${WRK_CASES[@]}"; do
  extra="upstream connections opened in one run of the case, at most: edge ${OPENED[edge,$c]}, nginx ${OPENED[nginx,$c]};"
  extra="$extra since start: edge ${SO_FAR[edge,$c]}, nginx ${SO_FAR[nginx,$c]}"
  [ "$c" = '1 MiB responses c=10' ] && extra="$extra; Content-Length kept: edge $(kept "${R[edge,length1m]}" 1048576), nginx $(kept "${R[nginx,length1m]}" 1048576)"
  echo "edge/nginx $c: $(ratio "$(field "edge,$c" 1)" "$(field "nginx,$c" 1)") req/s, $(ratio "$(field "edge,$c" 3)" "$(field "nginx,$c" 3)") p99 ($extra)"
done
echo "edge/nginx 100 MiB response: $(ratio "$(field edge,download 1)" "$(field nginx,download 1)") MiB/s," \
  "peak RSS growth edge $(field edge,download 2) MiB, nginx $(field nginx,download 2) MiB" \
  "(Content-Length kept: edge $(kept "${R[edge,length100m]}" "$HUNDRED_MIB"), nginx $(kept "${R[nginx,length100m]}" "$HUNDRED_MIB");" \
  "complete: edge $(field edge,download 3), nginx $(field nginx,download 3))"
echo "edge/nginx 100 MiB upload: $(ratio "$(field edge,upload 1)" "$(field nginx,upload 1)") MiB/s," \
  "peak RSS growth edge $(field edge,upload 2) MiB, nginx $(field nginx,upload 2) MiB" \
  "(all bytes received: edge $(field edge,upload 3), nginx $(field nginx,upload 3))"
added() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", a - b }'; }
EDGE_ADDED="$(added "$(field edge,latency 2)" "$(field edge,direct 2)")"
NGINX_ADDED="$(added "$(field nginx,latency 2)" "$(field nginx,direct 2)")"
# nginx's added p50 can come out at or below zero on a noisy machine: no ratio then.
ADDED_RATIO="$(awk -v a="$EDGE_ADDED" -v b="$NGINX_ADDED" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
echo "edge/nginx added latency c=1: $ADDED_RATIO added p50," \
  "$(ratio "$(field edge,latency 3)" "$(field nginx,latency 3)") p99" \
  "(p50 edge $EDGE_ADDED ms, nginx $NGINX_ADDED ms over a direct request; goal: edge ≤ +0.2 ms)"
