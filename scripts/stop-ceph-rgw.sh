#!/usr/bin/env bash
# stop-ceph-rgw.sh - stop the Ceph RGW test cluster started by scripts/start-ceph-rgw.sh
# (only its own daemons, found by pid file and the config path on their command line).
#   --purge   also delete all data/config (next start-ceph-rgw.sh bootstraps a fresh cluster)
set -uo pipefail
S3_HOME=${S3_HOME:-/tmp/lifeboat-ceph}
CONF=$S3_HOME/ceph.conf
for d in client.rgw.a osd.0 mon.a; do           # reverse start order
  f=$S3_HOME/run/ceph-$d.pid
  [ -s "$f" ] || continue
  p=$(cat "$f")
  if kill -0 "$p" 2>/dev/null && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$CONF"; then
    echo "[stop-ceph-rgw] stopping $d (pid $p)"
    kill -TERM "$p"
    for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$p" 2>/dev/null && { echo "[stop-ceph-rgw] $d did not exit, SIGKILL"; kill -KILL "$p"; }
  fi
  rm -f "$f"
done
if [ "${1:-}" = "--purge" ]; then echo "[stop-ceph-rgw] removing $S3_HOME"; rm -rf "$S3_HOME"; fi
echo "[stop-ceph-rgw] stopped"
