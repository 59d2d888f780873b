#!/usr/bin/env bash
# Builds the base images the Docker tests use, from host binaries: no registry is reachable, so
# nothing may be pulled. Each image carries a hash of everything that went into it, and is rebuilt
# only when that hash changes, so a second run costs a few checksums and `docker inspect`s.
set -euo pipefail
shopt -s inherit_errexit

static_image=slipway-fixture/static:latest
node_image=slipway-fixture/node:latest
node_npm_image=slipway-fixture/node-npm:latest
npm_app=$(cd "$(dirname "${BASH_SOURCE[0]}")/../test/fixtures/npm-app" && pwd)
postgres_image=slipway-fixture/postgres:latest

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

# The newest PostgreSQL installed from Debian's packages, as its version directory (/usr/lib/postgresql/15).
find_postgres() {
  local binaries
  binaries=$(compgen -G '/usr/lib/postgresql/*/bin/postgres' || true)
  [[ -n $binaries ]] || return 0
  dirname "$(dirname "$(sort -V <<<"$binaries" | tail -n1)")"
}

# Installs Debian's postgresql when missing. Its package creates a cluster and would start it:
# a policy-rc.d that refuses every start keeps the host free of a running server, and the unit is
# disabled so no reboot starts it either.
ensure_postgres() {
  [[ -z $(find_postgres) ]] || return 0
  if [[ $EUID -ne 0 ]]; then
    echo "fixture-images: PostgreSQL is not installed; install Debian's postgresql (needs root)" >&2
    exit 1
  fi
  echo "fixture-images: installing postgresql with apt (no cluster is started)"
  local policy=/usr/sbin/policy-rc.d created='' status=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created=1
  fi
  apt_install postgresql 2>/dev/null || { apt-get update -qq && apt_install postgresql; } || status=$?
  [[ -z $created ]] || rm -f "$policy"
  ((status == 0)) || exit "$status"
  if command -v systemctl >/dev/null; then systemctl disable --quiet postgresql 2>/dev/null || true; fi
}

# Every shared library (and the loader) the given ELF files need, once each. One ldd for all files:
# it prints a "file:" header line per file, which the NF test skips.
shared_libs_of() {
  local out
  out=$(ldd "$@" 2>/dev/null) || true
  if grep -q 'not found' <<<"$out"; then
    echo "fixture-images: ldd cannot resolve every library:" >&2
    grep -B100 'not found' <<<"$out" >&2
    exit 1
  fi
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } NF == 2 && $1 ~ /^\// { print $1 }' <<<"$out" | sort -u
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

# The host's npm package directory (self-contained, as the npm and nodesource packages install it).
find_npm() {
  local cli
  cli=$(readlink -f "$(command -v npm)") || {
    echo "fixture-images: npm is not installed; the node-npm fixture is assembled from the host's npm" >&2
    exit 1
  }
  dirname "$(dirname "$cli")"
}

# The node fixture plus the host's npm and an npm cache holding every package of
# test/fixtures/npm-app's lockfile, so that a build's `npm ci` installs them with no registry
# (npm_config_offline). Filling the cache is the one step here that needs the npm registry; when
# it fails, this image is skipped with an error and the others are still built.
build_node_npm() {
  local npm hash ctx=$work/node-npm
  npm=$(find_npm)
  hash=$(content_hash "$npm/package.json" "$npm_app/package-lock.json")
  hash=$({ echo "$hash"; docker image inspect --format '{{.Id}}' "$node_image"; } | sha256sum | cut -d' ' -f1)
  up_to_date "$node_npm_image" "$hash" && return
  mkdir -p "$ctx/rootfs/usr/local/lib/node_modules" "$ctx/rootfs/usr/local/bin" "$ctx/app"
  cp -r "$npm" "$ctx/rootfs/usr/local/lib/node_modules/npm"
  printf '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n' >"$ctx/rootfs/usr/local/bin/npm"
  chmod 755 "$ctx/rootfs/usr/local/bin/npm"
  cp "$npm_app/package.json" "$npm_app/package-lock.json" "$ctx/app/"
  if ! (cd "$ctx/app" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
    --cache "$ctx/rootfs/usr/local/share/npm-cache" >/dev/null 2>"$work/npm.log"); then
    # The other images do not need the registry: keep them, and let the tests that need this one fail.
    echo "fixture-images: filling the npm cache of $node_npm_image failed (is the npm registry reachable?);" \
      "$node_npm_image is not built and test/build/layer-cache.test.ts will fail:" >&2
    cat "$work/npm.log" >&2
    return 0
  fi
  rm -rf "$ctx/app" "$ctx/rootfs/usr/local/share/npm-cache/_logs"
  cat >"$ctx/Dockerfile" <<EOF
FROM $node_image
COPY rootfs/ /
ENV npm_config_cache=/usr/local/share/npm-cache npm_config_offline=true npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
EOF
  build_image "$node_npm_image" "$hash" "$ctx"
}

# Writes the postgres fixture's entrypoint to $1: the official image's interface (POSTGRES_PASSWORD,
# POSTGRES_USER, POSTGRES_DB, POSTGRES_INITDB_ARGS, PGDATA) on Debian's binaries.
stage_postgres_entrypoint() {
  cat >"$1" <<'EOF'
#!/bin/sh
# Like the official postgres image: initialise $PGDATA on first start, then run postgres as "postgres".
set -eu

# `docker run <image> -c work_mem=64MB` means postgres with those options; anything else is run as is.
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  # A fresh volume or bind mount may belong to root: hand it over, then drop root for good.
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 2775 /var/run/postgresql
  exec su -p -s /bin/sh postgres -c 'exec "$0" "$@"' "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "error: the database is uninitialized and POSTGRES_PASSWORD is not set" >&2
    exit 1
  fi
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  # Local (socket) connections are trusted, as in the official image; TCP needs the password.
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is split into words, as the official image does.
  initdb -D "$PGDATA" --username="$user" --pwfile="$pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-instructions ${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    # A socket-only server, so nothing outside sees the database before it is complete.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w -s start
    echo 'CREATE DATABASE :"db";' | psql -X -q -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres --set=db="$db"
    pg_ctl -D "$PGDATA" -m fast -w -s stop
  fi
  echo "PostgreSQL init process complete; ready for start up."
fi

# postgres takes SIGTERM as a "smart" shutdown that waits for every client to leave; SIGINT is the
# fast one (roll back, disconnect, checkpoint). This shell stays pid 1 and turns one into the other.
"$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || true' TERM INT
status=0
while kill -0 "$pid" 2>/dev/null; do
  if wait "$pid"; then status=0; else status=$?; fi
done
exit "$status"
EOF
  chmod 755 "$1"
}

build_postgres() {
  local pg major list hash file ctx=$work/postgres
  local -a bins=() modules=() data=() libs=()
  pg=$(find_postgres)
  major=${pg##*/}
  # Server, initdb and the client tools the agent execs (readiness, size, dump, restore).
  for file in postgres initdb pg_ctl pg_isready psql pg_dump pg_dumpall pg_restore; do bins+=("$pg/bin/$file"); done
  # Every module (plpgsql, pgcrypto, encoding conversions, …) except LLVM JIT, which would pull in
  # a 100 MB libLLVM; without it postgres simply runs with jit off.
  list=$(find "$pg/lib" -maxdepth 1 -name '*.so' ! -name 'llvmjit*' | sort)
  mapfile -t modules <<<"$list"
  # Catalog sources and extension scripts, the tz database (Debian builds against the system's)
  # and glibc's C.UTF-8 locale.
  list=$(find "/usr/share/postgresql/$major" /usr/share/zoneinfo /usr/lib/locale/C.utf8 \
    -path "/usr/share/postgresql/$major/man" -prune -o -type f -print | sort)
  mapfile -t data <<<"$list"
  list=$(shared_libs_of "${bins[@]}" "${modules[@]}")
  [[ -z $list ]] || mapfile -t libs <<<"$list"
  hash=$(content_hash /bin/busybox "${bins[@]}" "${modules[@]}" "${data[@]}" "${libs[@]}")
  up_to_date "$postgres_image" "$hash" && return
  stage_busybox "$ctx/rootfs"
  for file in "${bins[@]}" "${modules[@]}" "${libs[@]}"; do
    mkdir -p "$ctx/rootfs$(dirname "$file")"
    cp -L "$file" "$ctx/rootfs$file"
  done
  # With their symlinks (zoneinfo has many aliases), where postgres looks for them.
  mkdir -p "$ctx/rootfs/usr/share/postgresql" "$ctx/rootfs/usr/lib/locale"
  cp -a "/usr/share/postgresql/$major" "$ctx/rootfs/usr/share/postgresql/"
  rm -rf "$ctx/rootfs/usr/share/postgresql/$major/man"
  cp -a /usr/share/zoneinfo "$ctx/rootfs/usr/share/"
  cp -a /usr/lib/locale/C.utf8 "$ctx/rootfs/usr/lib/locale/"
  # uid/gid 999 like the official image, so its volumes and this image's are interchangeable.
  mkdir -p "$ctx/rootfs/etc" "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/var/run/postgresql" "$ctx/rootfs/var/lib/postgresql/data"
  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n' >"$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\npostgres:x:999:\n' >"$ctx/rootfs/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$ctx/rootfs/etc/nsswitch.conf"
  stage_postgres_entrypoint "$ctx/rootfs/usr/local/bin/docker-entrypoint.sh"
  cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV PATH=$pg/bin:/usr/local/bin:/bin PGDATA=/var/lib/postgresql/data LANG=C.UTF-8 PG_MAJOR=$major
VOLUME /var/lib/postgresql/data
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
  build_image "$postgres_image" "$hash" "$ctx"
}

ensure_static_busybox
ensure_postgres
build_static
build_node
build_postgres
build_node_npm
# Rebuilt images leave their predecessors dangling; drop those (never anything tagged or in use).
docker image prune -f --filter label=slipway.fixture=true >/dev/null
