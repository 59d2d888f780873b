#!/usr/bin/env bash
# Builds the base images the Docker tests use, from host binaries: no registry is reachable, so
# nothing may be pulled. Each image carries a hash of everything that went into it, and is rebuilt
# only when that hash changes, so a second run costs a few checksums and `docker inspect`s.
set -euo pipefail
shopt -s inherit_errexit

static_image=slipway-fixture/static:latest
node_image=slipway-fixture/node:latest

# Editing this script (e.g. a Dockerfile below) must rebuild the images, so it is part of the hash.
script_sha=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A dynamic busybox would need its libraries inside the scratch images; Debian's busybox-static does not.
ensure_static_busybox() {
  if [[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1; then
    return
  fi
  if [[ $EUID -ne 0 ]]; then
    echo "fixture-images: /bin/busybox is missing or not static; install busybox-static (needs root)" >&2
    exit 1
  fi
  echo "fixture-images: installing busybox-static with apt"
  # Only refresh package lists when the install fails without it (fresh or stale lists).
  apt_install busybox-static 2>/dev/null || { apt-get update -qq && apt_install busybox-static; }
}

# The host's real node binary, symlinks resolved (the image needs the file, not a link to it).
find_node() {
  local node=/usr/bin/node
  [[ -x $node ]] || node=$(command -v node) || {
    echo "fixture-images: node is not installed; the node fixture is assembled from the host's node" >&2
    exit 1
  }
  node=$(readlink -f "$node")
  # Guard against a shim (e.g. bun's `node` alias) standing in for Node.js.
  if [[ "$("$node" --version 2>/dev/null)" != v* ]]; then
    echo "fixture-images: $node does not look like Node.js" >&2
    exit 1
  fi
  printf '%s\n' "$node"
}

# The absolute paths of the shared libraries and the loader that `ldd` reports for $1 (none if static).
shared_libs() {
  local out
  out=$(ldd "$1" 2>/dev/null) || return 0
  if grep -q 'not found' <<<"$out"; then
    echo "fixture-images: ldd cannot resolve every library of $1:" >&2
    echo "$out" >&2
    exit 1
  fi
  # "libc.so.6 => /lib/.../libc.so.6 (0x...)" or, for the loader, "/lib64/ld-linux-x86-64.so.2 (0x...)".
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out"
}

# Debian's own nodejs loads a few builtins (acorn, undici, cjs-module-lexer) from /usr/share/nodejs
# at startup: list those that the binary or its libraries name, so the image carries them too.
external_builtins() {
  local file
  for file in $(LC_ALL=C grep -aoh '/usr/share/nodejs/[A-Za-z0-9@._/-]*\.js' "$@" | sort -u); do
    [[ -f $file ]] && printf '%s\n' "$file"
  done
  return 0
}

# Hash of this script plus the content and path of every input file.
content_hash() {
  { echo "$script_sha"; sha256sum "$@"; } | sha256sum | cut -d' ' -f1
}

# Copies busybox into $1/bin with every applet as a symlink, so /bin/sh, httpd, etc. exist.
stage_busybox() {
  mkdir -p "$1/bin"
  cp /bin/busybox "$1/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -s busybox "$1/bin/$applet"
  done
  mkdir -p -m 1777 "$1/tmp"
}

# Prints "<image>: <what> (<size>)".
report() {
  local size
  size=$(docker image inspect --format '{{.Size}}' "$1")
  echo "fixture-images: $1: $2 ($(numfmt --to=si --round=nearest --suffix=B "$size"))"
}

# True when <image> exists and was built from inputs with hash <hash>; reports it as up to date.
up_to_date() {
  local current
  current=$(docker image inspect --format '{{index .Config.Labels "slipway.fixture.hash"}}' "$1" 2>/dev/null || true)
  [[ $current == "$2" ]] && report "$1" "up to date"
}

# build_image <image> <hash> <context dir>
build_image() {
  # Quiet unless it fails: newer CLIs warn about the legacy builder on every build.
  if ! docker build -q --label slipway.fixture=true --label "slipway.fixture.hash=$2" -t "$1" "$3" \
    >/dev/null 2>"$work/build.log"; then
    echo "fixture-images: building $1 failed:" >&2
    cat "$work/build.log" >&2
    exit 1
  fi
  report "$1" built
}

build_static() {
  local hash ctx=$work/static
  hash=$(content_hash /bin/busybox)
  up_to_date "$static_image" "$hash" && return
  stage_busybox "$ctx/rootfs"
  mkdir -p "$ctx/rootfs/www"
  # Shell form on purpose: ${PORT:-8080} is expanded when the container starts. httpd as pid 1
  # would ignore SIGTERM (every `docker stop` taking its full timeout), so sh stays pid 1 and
  # exits on TERM; the container still lives exactly as long as the foreground (-f) httpd.
  cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
ENV PATH=/bin
CMD trap 'exit 0' TERM INT; httpd -f -p "${PORT:-8080}" -h /www & wait $!
EOF
  build_image "$static_image" "$hash" "$ctx"
}

build_node() {
  local node list hash file ctx=$work/node
  local -a libs=() builtins=()
  node=$(find_node)
  # Via a variable, not `< <(...)`: a failure inside a process substitution would go unnoticed.
  list=$(shared_libs "$node")
  [[ -z $list ]] || mapfile -t libs <<<"$list"
  list=$(external_builtins "$node" "${libs[@]}")
  [[ -z $list ]] || mapfile -t builtins <<<"$list"
  hash=$(content_hash /bin/busybox "$node" "${libs[@]}" "${builtins[@]}")
  up_to_date "$node_image" "$hash" && return
  stage_busybox "$ctx/rootfs"
  mkdir -p "$ctx/rootfs/usr/local/bin"
  cp "$node" "$ctx/rootfs/usr/local/bin/node"
  # Each file goes where it was found, which is where the loader (or node) will look for it.
  for file in "${libs[@]}" "${builtins[@]}"; do
    mkdir -p "$ctx/rootfs$(dirname "$file")"
    cp -L "$file" "$ctx/rootfs$file"
  done
  cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/bin
WORKDIR /app
CMD ["node"]
EOF
  build_image "$node_image" "$hash" "$ctx"
}

ensure_static_busybox
build_static
build_node
# Rebuilt images leave their predecessors dangling; drop those (never anything tagged or in use).
docker image prune -f --filter label=slipway.fixture=true >/dev/null
