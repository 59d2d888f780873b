#!/usr/bin/env bash
# A real multi-node Docker Swarm on this one machine, for the swarm runtime's tests (root only):
#
#   swarm-cluster.sh up N         at least N nodes (node 0 manager, the others workers), healthy
#   swarm-cluster.sh env [N]      `export` lines for the cluster (source them, or eval)
#   swarm-cluster.sh stop-node I  node I fails hard: its dockerd, containerd, shims and containers die
#   swarm-cluster.sh stop-engine I only node I's dockerd dies (SIGKILL); its containers keep running
#   swarm-cluster.sh start-node I node I's engine comes back (and rejoins the swarm by itself)
#   swarm-cluster.sh gc           the cluster registry's garbage collection (deleted releases' blobs)
#   swarm-cluster.sh down         everything `up` made is stopped and removed
#
# Layout: a bridge slipsw0 (10.77.0.1/24) in the root namespace; per node I a network namespace
# slipway-swI with a veth into the bridge (10.77.0.(10+I)), its own containerd (never the system's
# /run/containerd socket) and dockerd, with their own roots, sockets and logs; the default engine
# (/var/run/docker.sock) is never touched. The cluster registry (Debian's docker-registry, deletes
# enabled) listens on 10.77.0.1:5077, which every node trusts as an insecure registry. The fixture
# images of the default engine (scripts/fixture-images.sh) are loaded into every node.
#
# Checked on this machine (kernel 6.18, docker.io 20.10): overlay networks carry traffic between
# nodes (vxlan over the bridge; 2377/7946/4789). `--opt encrypted` overlays do NOT: the kernel has
# no ESP AEAD (rfc4106(gcm(aes))), dockerd logs "Failed Adding ... SA: function not implemented" and
# the network is created but silently drops all cross-node traffic.
#
# Idempotent and quick: `up` on a healthy cluster checks and returns. `up N` never removes nodes
# (a concurrent `up 1` must not tear down a 3-node cluster another test uses); `down` does.
set -euo pipefail
shopt -s inherit_errexit

bridge=slipsw0
subnet_prefix=10.77.0
bridge_addr=$subnet_prefix.1
registry_port=5077
registry=$bridge_addr:$registry_port
run=/run/slipway-swarm
lib=/var/lib/slipway-swarm
# Overlay subnets come from here, away from the node network and the default engine's bridges.
addr_pool=10.201.0.0/16
wait_seconds=60

log() { echo "swarm-cluster: $*" >&2; }
die() {
  log "$*"
  exit 1
}

node_addr() { echo "$subnet_prefix.$((10 + $1))"; }
node_ns() { echo "slipway-sw$1"; }
node_sock() { echo "$run/$1/docker.sock"; }
# docker CLI against node $1.
nd() {
  local i=$1
  shift
  timeout 30 docker -H "unix://$(node_sock "$i")" "$@"
}

# A live, non-zombie process named $2 holds pid $1.
pid_is() {
  [[ "$1" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]] &&
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
pid_file_is() { [[ -s "$1" ]] && pid_is "$(cat "$1")" "$2"; }

# ---- network ------------------------------------------------------------------------------------

ensure_bridge() {
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
  fi
  # Not `| grep -q`: under pipefail, grep quitting early can fail the pipeline (SIGPIPE).
  [[ $(ip addr show dev "$bridge") == *"inet $bridge_addr/24"* ]] || ip addr add "$bridge_addr/24" dev "$bridge"
  ip link set "$bridge" up
  # The default engine sets FORWARD's policy to DROP and bridged frames pass through iptables
  # (br_netfilter): without this, nodes could not reach each other across the bridge.
  iptables -C FORWARD -i "$bridge" -o "$bridge" -j ACCEPT 2>/dev/null ||
    iptables -I FORWARD 1 -i "$bridge" -o "$bridge" -j ACCEPT
}

ensure_netns() {
  local i=$1 ns veth
  ns=$(node_ns "$i")
  veth="slipsw0-n$i"
  [[ -e /run/netns/$ns ]] || ip netns add "$ns"
  if ! ip link show "$veth" >/dev/null 2>&1; then
    ip link add "$veth" type veth peer name eth0 netns "$ns"
  fi
  ip link set "$veth" master "$bridge" up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  [[ $(ip -n "$ns" addr show dev eth0) == *"inet $(node_addr "$i")/24"* ]] ||
    ip -n "$ns" addr add "$(node_addr "$i")/24" dev eth0
  ip -n "$ns" route replace default via "$bridge_addr"
}

# ---- engines ------------------------------------------------------------------------------------

write_containerd_config() {
  local i=$1
  cat >"$run/$i/containerd.toml" <<EOF
version = 2
root = "$lib/$i/containerd"
state = "$run/$i/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$run/$i/containerd.sock"
[ttrpc]
  address = "$run/$i/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
}

# containerd in the node's network namespace, in a fresh mount and UTS namespace (hostname
# slipway-swI, which Swarm shows as the node's name). dockerd later joins exactly these namespaces.
# The node's own sysfs goes over /sys (as `ip netns exec` does), with the host's cgroup hierarchies
# moved back under it: dockerd refuses to start without them.
start_containerd() {
  local i=$1 waited=0
  pid_file_is "$run/$i/containerd.pid" containerd && return
  write_containerd_config "$i"
  rm -f "$run/$i/containerd.sock"
  mkdir -p "$run/$i/cgroup"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid nohup nsenter --net="/run/netns/$(node_ns "$i")" -- unshare --mount --uts --propagation slave -- \
    sh -c 'mount --rbind /sys/fs/cgroup "$2" && mount -t sysfs "$0" /sys && mount --move "$2" /sys/fs/cgroup &&
      hostname "$0" && exec containerd --config "$1"' \
    "slipway-sw$i" "$run/$i/containerd.toml" "$run/$i/cgroup" \
    >>"/var/log/slipway-swarm-$i-containerd.log" 2>&1 </dev/null 9>&- &
  echo $! >"$run/$i/containerd.pid"
  until [[ -S $run/$i/containerd.sock ]]; do
    ((waited++ < wait_seconds * 10)) || die "containerd of node $i did not start; see /var/log/slipway-swarm-$i-containerd.log"
    sleep 0.1
  done
}

start_dockerd() {
  local i=$1 cpid waited=0 started=''
  if ! pid_file_is "$run/$i/docker.pid" dockerd; then
    cpid=$(cat "$run/$i/containerd.pid")
    rm -f "$run/$i/docker.pid"
    # No /etc/docker/daemon.json: this node's settings are all here.
    echo '{}' >"$run/$i/daemon.json"
    setsid nohup nsenter --target "$cpid" --net --mount --uts -- dockerd \
      --config-file "$run/$i/daemon.json" \
      --data-root "$lib/$i/docker" --exec-root "$run/$i/exec" --pidfile "$run/$i/docker.pid" \
      -H "unix://$(node_sock "$i")" --containerd "$run/$i/containerd.sock" \
      --containerd-namespace "slipway-sw$i" --containerd-plugins-namespace "slipway-sw$i-plugins" \
      --cgroup-parent "/slipway-sw$i" --insecure-registry "$subnet_prefix.0/24" \
      >>"/var/log/slipway-swarm-$i.log" 2>&1 </dev/null 9>&- &
    started=$!
  fi
  until nd "$i" version --format '{{.Server.Version}}' >/dev/null 2>&1; do
    if [[ -n $started ]] && ((waited > 8)) && ! pid_is "$started" dockerd; then
      die "dockerd of node $i exited: $(tail -n 3 "/var/log/slipway-swarm-$i.log")"
    fi
    ((waited++ < wait_seconds * 4)) || die "dockerd of node $i did not answer; see /var/log/slipway-swarm-$i.log"
    sleep 0.25
  done
}

start_node() {
  local i=$1
  mkdir -p "$run/$i" "$lib/$i"
  ensure_bridge
  ensure_netns "$i"
  start_containerd "$i"
  start_dockerd "$i"
}

# Kills every process of node $1 at once, as a machine failure would: whatever runs in its network
# namespace (dockerd, containerd, shims, host-network tasks) and in its containers' cgroups.
kill_node() {
  local i=$1 pids ctl
  pids=$(ip netns pids "$(node_ns "$i")" 2>/dev/null || true)
  for ctl in /sys/fs/cgroup/pids /sys/fs/cgroup/memory /sys/fs/cgroup/unified; do
    [[ -d $ctl/slipway-sw$i ]] && pids+=" $(find "$ctl/slipway-sw$i" -name cgroup.procs -exec cat {} + 2>/dev/null || true)"
  done
  # shellcheck disable=SC2086 # a list of pids
  [[ -z ${pids// /} ]] || kill -9 $pids 2>/dev/null || true
}

# Stops node $1 politely (dockerd stops its containers), then kills whatever is left.
stop_node() {
  local i=$1 pid n=0
  for name in dockerd containerd; do
    local file=$run/$i/${name/dockerd/docker}.pid
    pid_file_is "$file" "$name" || continue
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
    n=0
    while pid_is "$pid" "$name" && ((n++ < 100)); do sleep 0.1; done
  done
  kill_node "$i"
  sleep 0.2
}

remove_cgroups() {
  local i=$1 ctl
  for ctl in /sys/fs/cgroup/*; do
    [[ -d $ctl/slipway-sw$i ]] || continue
    find "$ctl/slipway-sw$i" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# ---- swarm --------------------------------------------------------------------------------------

swarm_state() { nd "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

ensure_swarm() {
  local n=$1 i state token
  state=$(swarm_state 0)
  if [[ $state != active ]]; then
    nd 0 swarm init --advertise-addr "$(node_addr 0)" --listen-addr "$(node_addr 0):2377" \
      --default-addr-pool "$addr_pool" --default-addr-pool-mask-length 24 >/dev/null
  fi
  token=$(nd 0 swarm join-token -q worker)
  for ((i = 1; i < n; i++)); do
    state=$(swarm_state "$i")
    [[ $state == active ]] && continue
    nd "$i" swarm join --token "$token" --advertise-addr "$(node_addr "$i")" \
      --listen-addr "$(node_addr "$i"):2377" "$(node_addr 0):2377" >/dev/null
  done
}

# Labels each node with its index (slipway.cluster.node=I) and waits until N nodes are Ready.
ensure_nodes_ready() {
  local n=$1 waited=0 id host
  until [[ $(nd 0 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$') -ge $n ]]; do
    ((waited++ < wait_seconds * 4)) || die "the swarm has fewer than $n Ready nodes: $(nd 0 node ls)"
    sleep 0.25
  done
  while read -r id host; do
    [[ $host =~ ^slipway-sw([0-9]+)$ ]] || continue
    nd 0 node update --label-add "slipway.cluster.node=${BASH_REMATCH[1]}" "$id" >/dev/null
  done < <(nd 0 node ls --format '{{.ID}} {{.Hostname}}')
}

# ---- registry and images ------------------------------------------------------------------------

registry_answers() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$registry/v2/") == 200 ]]; }

ensure_registry() {
  registry_answers && return
  bash "$(dirname "${BASH_SOURCE[0]}")/ensure-registry.sh"
  mkdir -p "$lib/registry"
  cat >"$run/registry.yml" <<EOF
version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage:
  filesystem: { rootdirectory: $lib/registry }
  delete: { enabled: true }
http: { addr: "$registry" }
EOF
  setsid nohup docker-registry serve "$run/registry.yml" >>/var/log/slipway-swarm-registry.log 2>&1 </dev/null 9>&- &
  echo $! >"$run/registry.pid"
  local waited=0
  until registry_answers; do
    ((waited++ < wait_seconds * 10)) || die "the registry did not answer on $registry; see /var/log/slipway-swarm-registry.log"
    sleep 0.1
  done
}

# The fixture images of the default engine, plus $SLIPWAY_SWARM_IMAGES (space-separated), loaded
# into node $1 unless it already has them with the same id. Images built from a fixture inherit its
# label, so the name is what tells a fixture (slipway-fixture/*) from an app's build.
ensure_images() {
  local i=$1 image want have
  local -a missing=()
  for image in $(docker image ls --filter label=slipway.fixture=true --filter 'reference=slipway-fixture/*' --format '{{.Repository}}:{{.Tag}}') ${SLIPWAY_SWARM_IMAGES:-}; do
    want=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) || continue
    have=$(nd "$i" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    [[ $want == "$have" ]] || missing+=("$image")
  done
  ((${#missing[@]} == 0)) && return
  log "node $i: loading ${missing[*]}"
  docker save "${missing[@]}" | nd "$i" load -q >/dev/null
  nd "$i" image prune -f --filter label=slipway.fixture=true >/dev/null
}

# The registry's garbage collection frees the blobs no manifest uses any more (deleted releases).
# It must not run while the registry serves pushes: the registry is stopped for it, then restarted.
cmd_gc() {
  local pid n=0
  if pid_file_is "$run/registry.pid" docker-registry; then
    pid=$(cat "$run/registry.pid")
    kill -TERM "$pid"
    while pid_is "$pid" docker-registry && ((n++ < 100)); do sleep 0.1; done
  fi
  [[ -f $run/registry.yml ]] || die "no cluster registry here; run up first"
  docker-registry garbage-collect --delete-untagged "$run/registry.yml" >>/var/log/slipway-swarm-registry.log 2>&1
  ensure_registry
  log "registry garbage collected: $(du -sh "$lib/registry" | cut -f1) left"
}

# ---- commands -----------------------------------------------------------------------------------

healthy() {
  local n=$1 i
  registry_answers || return 1
  for ((i = 0; i < n; i++)); do
    [[ $(swarm_state "$i") == active ]] || return 1
  done
  [[ $(nd 0 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$') -ge $n ]]
}

existing_nodes() {
  local d
  for d in "$run"/[0-9]*; do [[ -d $d ]] && basename "$d"; done | sort -n
}

cmd_up() {
  local n=$1 i
  [[ $n =~ ^[1-9]$ ]] || die "up takes a node count from 1 to 9"
  if ! healthy "$n"; then
    for ((i = 0; i < n; i++)); do start_node "$i"; done
    ensure_registry
    ensure_swarm "$n"
    ensure_nodes_ready "$n"
  fi
  # In parallel; `wait` names the loaders, since the daemons started above are children too.
  local -a loaders=()
  for ((i = 0; i < n; i++)); do
    ensure_images "$i" &
    loaders+=($!)
  done
  wait "${loaders[@]}"
  log "$n node(s) ready; manager $(node_sock 0), registry $registry"
}

cmd_env() {
  local n=${1:-} i
  [[ -n $n ]] || n=$(existing_nodes | wc -l)
  echo "export DOCKER_HOST=unix://$(node_sock 0)"
  echo "export SLIPWAY_SWARM_REGISTRY=$registry"
  echo "export SLIPWAY_SWARM_NODES=$n"
  for ((i = 0; i < n; i++)); do
    echo "export SLIPWAY_SWARM_NODE_${i}_HOST=unix://$(node_sock "$i")"
    echo "export SLIPWAY_SWARM_NODE_${i}_ADDR=$(node_addr "$i")"
  done
}

cmd_down() {
  local i
  for i in $(existing_nodes); do stop_node "$i"; done
  if pid_file_is "$run/registry.pid" docker-registry; then kill "$(cat "$run/registry.pid")" 2>/dev/null || true; fi
  for i in $(existing_nodes); do
    remove_cgroups "$i"
    ip link del "slipsw0-n$i" 2>/dev/null || true
    ip netns del "$(node_ns "$i")" 2>/dev/null || true
  done
  if ip link show "$bridge" >/dev/null 2>&1; then ip link del "$bridge"; fi
  while iptables -D FORWARD -i "$bridge" -o "$bridge" -j ACCEPT 2>/dev/null; do :; done
  rm -rf "$lib" "$run"
  log "down"
}

[[ $EUID -eq 0 ]] || die "must run as root (it makes namespaces, a bridge and engines)"
command -v dockerd >/dev/null || bash "$(dirname "${BASH_SOURCE[0]}")/ensure-docker.sh"
mkdir -p "$run"
# One change at a time: parallel test files may call `up` together.
exec 9>"$run.lock"
flock 9
case "${1:-}" in
  up) cmd_up "${2:-1}" ;;
  env) cmd_env "${2:-}" ;;
  stop-node) kill_node "${2:?node index}" ;;
  stop-engine) if pid_file_is "$run/${2:?node index}/docker.pid" dockerd; then kill -9 "$(cat "$run/$2/docker.pid")"; fi ;;
  start-node) start_node "${2:?node index}" ;;
  gc) cmd_gc ;;
  down) cmd_down ;;
  *) die "usage: swarm-cluster.sh up N | env [N] | stop-node I | stop-engine I | start-node I | gc | down" ;;
esac
