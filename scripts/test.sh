#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine and runs it:
# npm packages (building zstd-napi from source), the Ceph RADOS Gateway the S3 tests talk to,
# PostgreSQL and MariaDB for the source tests, promtool for the metrics tests, Debian's chromium for
# the dashboard tests, then every test: under the machine's Node, then again under Node 24 from the
# npm registry (scripts/test-node.sh). Tests that need a service fail, never skip, when it is missing;
# the script fails when either pass does.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== npm ci (builds the native zstd binding from source)"
npm ci --no-audit --no-fund

echo "== Ceph RADOS Gateway on 127.0.0.1:7480 (installs Debian packages the first time)"
bash scripts/start-ceph-rgw.sh >/dev/null

echo "== PostgreSQL and MariaDB for the source tests (installs Debian packages the first time)"
bash scripts/start-databases.sh

echo "== systemd-analyze (the deploy/ units are verified with it)"
command -v systemd-analyze >/dev/null || { apt-get update -qq && apt-get install -y --no-install-recommends systemd; }

echo "== Debian's chromium for the dashboard's browser tests (playwright-core drives it)"
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && apt-get install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

echo "== promtool (the metrics tests check a real scrape with it)"
command -v promtool >/dev/null || { apt-get update -qq && apt-get install -y --no-install-recommends prometheus >/dev/null; }

echo "== build"
npm run build

echo "== tests under the machine's Node, $(node -v)"
status=0
node scripts/run-tests.mjs "$@" || status=$?

# Both passes run (one's failures do not hide the other's); the first failing status is the script's.
echo "== the tests again under Node 24"
bash scripts/test-node.sh 24 "$@" || { s=$?; [ "$status" -ne 0 ] || status=$s; }
exit "$status"
