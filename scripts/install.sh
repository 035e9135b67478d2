#!/usr/bin/env bash
# Installs the gateway and/or the control centre as systemd services, from this checkout after
# `npm ci` (run with the Node.js the services will use).
#
#   sudo bash scripts/install.sh gateway          # a school's box
#   sudo bash scripts/install.sh centre           # the regional server
#   bash scripts/install.sh --root /tmp/r all     # into a directory (packaging, tests): nothing
#                                                 # outside it is touched, nothing is started
#
# Puts in place (paths under --root):
#   /opt/schoolcam/                                   the app (sources, runtime node_modules, config/
#                                                     examples), replaced whole on every install:
#                                                     upgrades are clean
#   /etc/systemd/system/schoolcam-{gateway,centre}.service   enabled: they start at boot
#   /etc/schoolcam/centre.yaml                        from config/centre.example.yaml, mode 0600,
#                                                     only when absent: an upgrade keeps it
# A gateway's /etc/schoolcam/gateway.yaml and gateway.secret are written by its enrolment
# (printed below); its unit does not start before. Data (SQLite) lives in /var/lib/schoolcam-*,
# made by systemd (StateDirectory) and never touched here. On a running system an upgrade
# restarts the services that were running.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: install.sh [--root DIR] [--prefix DIR] [--node PATH] [--no-enable] gateway|centre|all
  --root DIR    install under DIR instead of / (nothing is started)
  --prefix DIR  where the app goes (default /opt/schoolcam)
  --node PATH   the Node.js the services run (default: node on PATH); 20.19+ or 24.11+
  --no-enable   install the units without enabling them
EOF
  exit 2
}
die() { echo "ERR: $*" >&2; exit 1; }

ROOT=/
PREFIX=/opt/schoolcam
NODE="$(command -v node || true)"
ENABLE=1
WHAT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="${2:?}"; shift 2 ;;
    --prefix) PREFIX="${2:?}"; shift 2 ;;
    --node) NODE="${2:?}"; shift 2 ;;
    --no-enable) ENABLE=0; shift ;;
    gateway|centre) [ -z "$WHAT" ] || usage; WHAT="$1"; shift ;;
    all) [ -z "$WHAT" ] || usage; WHAT="gateway centre"; shift ;;
    *) usage ;;
  esac
done
[ -n "$WHAT" ] || usage
case "$PREFIX" in /*) ;; *) die "--prefix must be an absolute path: $PREFIX" ;; esac
[ -d "$ROOT" ] || die "--root $ROOT is not a directory"
ROOT="$(cd "$ROOT" && pwd)"
SRC="$(cd "$(dirname "$0")/.." && pwd)"

# The Node.js the units will run: a tested version, able to load this checkout's native addons.
[ -n "$NODE" ] && [ -x "$NODE" ] || die "no Node.js found: pass --node /path/to/node"
NODE="$(cd "$(dirname "$NODE")" && pwd)/$(basename "$NODE")"
"$NODE" -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (!((major === 20 && minor >= 19) || (major === 24 && minor >= 11))) {
    console.error(`ERR: Node.js ${process.versions.node} is not supported: install Node.js 24 LTS (24.11+) or 20.19+`);
    process.exit(1);
  }' || exit 1
[ -d "$SRC/node_modules" ] || die "run npm ci in $SRC first"
(cd "$SRC" && "$NODE" -e "new (require('better-sqlite3'))(':memory:').close()") 2>/dev/null ||
  die "$SRC/node_modules was installed for another Node.js than $NODE ($("$NODE" -v)): run npm ci with it"
command -v systemctl >/dev/null || die "systemctl not found: this installs systemd services"

# 1. The app, staged next to its place and swapped in, so a failed copy leaves the old one running.
DEST="$ROOT${PREFIX%/}"
STAGE="$DEST.new.$$"
OLD="$DEST.old.$$"
trap 'rm -rf "$STAGE" "$OLD"' EXIT
mkdir -p "$STAGE"
# Only what runs: the packages package-lock.json does not mark as development-only, plus tsx
# (the TypeScript loader the units start with) and what it needs; no test tools, no compilers.
RUNTIME="$STAGE.files"
(cd "$SRC" && "$NODE" -e '
  const { existsSync } = require("node:fs");
  const lock = require("./package-lock.json").packages;
  const installed = new Set(["protocol", "gateway", "control-center"]);
  const keep = new Set();
  for (const [path, p] of Object.entries(lock)) {
    if (!path.startsWith("node_modules/")) continue;
    if (p.link ? installed.has(p.resolved) : !p.dev) keep.add(path);
  }
  // The dependency closure of tsx, found the way node resolves: nearest node_modules upwards.
  const todo = ["node_modules/tsx"];
  while (todo.length > 0) {
    const path = todo.pop();
    if (keep.has(path) && path !== "node_modules/tsx") continue;
    keep.add(path);
    for (const dep of Object.keys({ ...lock[path].dependencies, ...lock[path].optionalDependencies })) {
      for (let base = path; ; base = base.slice(0, Math.max(0, base.lastIndexOf("/node_modules/")))) {
        const candidate = `${base}/node_modules/${dep}`.replace(/^\//, "");
        if (lock[candidate]) { todo.push(candidate); break; }
        if (base === "") break;
      }
    }
  }
  console.log([...keep].filter((p) => existsSync(p)).sort().join("\n"));
' >"$RUNTIME")
(cd "$SRC" && tar -cf - --exclude=protocol/test --exclude=gateway/test --exclude=control-center/test \
  README.md package.json package-lock.json tsconfig.base.json config protocol gateway control-center node_modules/.bin \
  --files-from="$RUNTIME") | tar -xf - -C "$STAGE"
rm -f "$RUNTIME"
chmod -R go-w "$STAGE"
chmod 755 "$STAGE"
if [ -e "$DEST" ]; then mv "$DEST" "$OLD"; fi
mv "$STAGE" "$DEST"
echo "installed the app in $DEST (Node.js $("$NODE" -v) at $NODE)"

# 2. Units and configuration.
install -d -m 0755 "$ROOT/etc/systemd/system" "$ROOT/etc/schoolcam"
UNITS=()
for part in $WHAT; do
  unit="schoolcam-$part.service"
  sed -e "s#/opt/schoolcam#${PREFIX%/}#g" -e "s#/usr/bin/node#$NODE#g" "$SRC/deploy/systemd/$unit" >"$ROOT/etc/systemd/system/$unit.tmp"
  chmod 0644 "$ROOT/etc/systemd/system/$unit.tmp"
  mv "$ROOT/etc/systemd/system/$unit.tmp" "$ROOT/etc/systemd/system/$unit"
  UNITS+=("$unit")
  conf="$ROOT/etc/schoolcam/$part.yaml"
  if [ -e "$conf" ]; then
    echo "kept the existing configuration $conf"
  elif [ "$part" = centre ]; then
    install -m 0600 "$SRC/config/centre.example.yaml" "$conf"
    echo "wrote $conf from config/centre.example.yaml: read it before starting $unit"
  fi
done

# 3. Enabled to start at boot. On the running system, an upgrade restarts what was running.
if [ "$ENABLE" = 1 ]; then systemctl --root="$ROOT" --quiet enable "${UNITS[@]}"; fi
if [ "$ROOT" = / ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl try-restart "${UNITS[@]}"
fi
CLI="cd ${PREFIX%/} && sudo npm run"
for part in $WHAT; do
  if [ "$part" = centre ]; then
    echo "centre: the first time, add the region and an admin, then start it:"
    echo "  $CLI center -- orgs import config/region.kvk.yaml --config /etc/schoolcam/centre.yaml"
    echo "  $CLI center -- users add --username admin --role admin --org kvk --password-stdin --config /etc/schoolcam/centre.yaml"
    echo "  sudo systemctl start schoolcam-centre; journalctl -u schoolcam-centre"
  else
    echo "gateway: enrol it with the token an admin got when creating it in the centre, then start it:"
    echo "  $CLI gateway -- enroll <centre-url> <token> --config /etc/schoolcam/gateway.yaml"
    echo "  sudo systemctl start schoolcam-gateway; journalctl -u schoolcam-gateway"
  fi
done
