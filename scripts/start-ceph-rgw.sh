#!/usr/bin/env bash
# start-ceph-rgw.sh - install (apt) and start a single-node Ceph RADOS Gateway (a real S3 API)
# bound to 127.0.0.1, for Lifeboat's S3 tests and the bench. Debian bookworm (Ceph 16.2.x), root.
# Idempotent: running it again while the cluster is up only re-checks and re-prints.
# Based on the team's known-working recipe (shared/s3/); stop with scripts/stop-ceph-rgw.sh.
#
# Output: progress on stderr; on stdout the shell lines of the env file it writes to
# $S3_HOME/s3.env (S3_ENDPOINT, credentials, AWS_* variables), so `source` that file to use it.
# The S3 tests need nothing else: their defaults are this script's defaults.
#
# Env overrides:
#   S3_HOME        state dir (conf, mon/osd data, logs, pid files)  [/tmp/lifeboat-ceph]
#   S3_PORT        RGW (S3) port on 127.0.0.1                         [7480]
#   S3_MON_PORT    ceph-mon msgr2 port on 127.0.0.1                   [3300]
#   S3_ACCESS_KEY / S3_SECRET_KEY   credentials of the test user     [s3testaccesskey / s3testsecretkey0123456789]
#   S3_OBJECTSTORE bluestore (persistent, sparse file) | memstore (RAM only, wiped on restart) [bluestore]
#   S3_DISK_GB     size of the sparse bluestore block file            [20]
#   S3_LC_DEBUG_INTERVAL  if set (seconds), one lifecycle "day" lasts this many seconds (test aid)
set -euo pipefail

S3_HOME=${S3_HOME:-/tmp/lifeboat-ceph}
S3_PORT=${S3_PORT:-7480}
S3_MON_PORT=${S3_MON_PORT:-3300}
S3_ACCESS_KEY=${S3_ACCESS_KEY:-s3testaccesskey}
S3_SECRET_KEY=${S3_SECRET_KEY:-s3testsecretkey0123456789}
S3_OBJECTSTORE=${S3_OBJECTSTORE:-bluestore}
S3_DISK_GB=${S3_DISK_GB:-20}
S3_UID=s3test
CONF=$S3_HOME/ceph.conf
RUN=$S3_HOME/run
ENDPOINT="http://127.0.0.1:$S3_PORT"

log() { echo "[start-ceph-rgw $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"

# ---------------------------------------------------------------- 1. install
PKGS="ceph-mon ceph-osd radosgw curl"
need=""
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"; done
if [ -n "$need" ]; then
  log "installing:$need (apt)"
  t0=$(date +%s)
  export DEBIAN_FRONTEND=noninteractive
  # no systemd on these machines: postinst scripts do not start any daemon
  apt-get update -qq || apt-get update -qq
  apt-get install -y -qq --no-install-recommends $need >/dev/null
  log "apt install took $(( $(date +%s) - t0 ))s"
fi

# ---------------------------------------------------------------- helpers
C=(-c "$CONF")
pidfile() { echo "$RUN/ceph-$1.pid"; }            # $1 = mon.a | osd.0 | client.rgw.a
running() {                                        # our daemon alive? (pid + cmdline mentions our conf)
  local f; f=$(pidfile "$1"); [ -s "$f" ] || return 1
  local p; p=$(cat "$f"); kill -0 "$p" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$CONF"
}
cephq() { timeout 30 ceph "${C[@]}" --connect-timeout 20 "$@"; }
wait_for() {                                       # wait_for <secs> <desc> <cmd...>
  local n=$1 d=$2; shift 2
  for _ in $(seq 1 $((n * 2))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  die "timeout after ${n}s waiting for $d (logs: $S3_HOME/log)"
}
stop_ours() { local d p; for d in client.rgw.a osd.0 mon.a; do
  if running $d; then p=$(cat "$(pidfile $d)"); kill "$p"; for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$p" 2>/dev/null || true; fi; done; }   # an RGW stuck on a full OSD ignores SIGTERM
http_ok() { [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$ENDPOINT/")" = 200 ]; }

# memstore keeps data only in RAM: if anything is down the cluster is unusable -> rebuild it
if [ "$S3_OBJECTSTORE" = memstore ] && [ -f "$S3_HOME/.initialized" ] && ! { running mon.a && running osd.0; }; then
  log "memstore cluster not fully running -> wiping $S3_HOME and recreating"
  stop_ours; rm -rf "$S3_HOME"
fi

# a full OSD blocks every write (tests and benches fill the 20 GB block file over time); the
# cluster holds only test data, so start over rather than hand CI a server that hangs
if [ -f "$S3_HOME/.initialized" ] && running mon.a && timeout 20 ceph -c "$CONF" health 2>/dev/null | grep -q 'full osd'; then
  log "the test cluster's OSD is full -> wiping $S3_HOME and recreating"
  stop_ours; rm -rf "$S3_HOME"
fi

# ---------------------------------------------------------------- 2. bootstrap (once)
if [ ! -f "$S3_HOME/.initialized" ]; then
  t0=$(date +%s)
  log "bootstrapping single-node cluster in $S3_HOME ($S3_OBJECTSTORE)"
  [ -f "$CONF" ] && stop_ours   # leftovers of an interrupted bootstrap
  rm -rf "$S3_HOME"; mkdir -p "$S3_HOME"/{run,log,mon/ceph-a,osd/ceph-0,rgw/ceph-rgw.a}
  FSID=$(cat /proc/sys/kernel/random/uuid)   # uuidgen (uuid-runtime) may be missing
  cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$S3_MON_PORT
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind ipv6 = false
# loopback-only test cluster: no cephx (RGW S3 auth is independent of this)
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
run dir = $RUN
admin socket = \$run_dir/\$cluster-\$name.asok
pid file = \$run_dir/\$cluster-\$name.pid
log file = $S3_HOME/log/\$cluster-\$name.log
keyring = $S3_HOME/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 2
mon data avail crit = 1
# faster map updates (pool creation, osd boot) on a single mon
paxos propose interval = 0.1
paxos min wait = 0.01
[mon]
mon data = $S3_HOME/mon/\$cluster-\$id
[osd]
osd data = $S3_HOME/osd/\$cluster-\$id
osd objectstore = $S3_OBJECTSTORE
osd memory target = 1073741824
bluestore block create = true
bluestore block size = $((S3_DISK_GB * 1024 * 1024 * 1024))
bluestore fsck on mount = false
memstore device bytes = $((S3_DISK_GB * 1024 * 1024 * 1024))
[client.rgw.a]
rgw data = $S3_HOME/rgw/\$cluster-\$id
# Nagle off, as production gateways set it: with it on, a response's body waits for the ACK of
# its headers, which the client delays 40 ms; every request on a kept-alive connection took 48 ms
rgw frontends = beast endpoint=127.0.0.1:$S3_PORT tcp_nodelay=1
rgw enable usage log = false
# single gateway: no metadata cache => no watch/notify; avoids 10-30 s stalls of the first
# bucket/metadata write after a restart (stale watchers of the previous radosgw)
rgw cache enabled = false
# deleted objects' data is reclaimed within minutes, not after RGW's default 2 hours: tests and
# benchmarks delete gigabytes, and the OSD is a 20 GB file (repeated bench runs filled it)
rgw gc obj min wait = 120
rgw gc processor period = 60
${S3_LC_DEBUG_INTERVAL:+rgw lc debug interval = $S3_LC_DEBUG_INTERVAL}
EOF
  ceph-authtool --create-keyring "$S3_HOME/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --addv a "[v2:127.0.0.1:$S3_MON_PORT]" --fsid "$FSID" "$S3_HOME/monmap" >/dev/null
  ceph-mon "${C[@]}" --mkfs -i a --monmap "$S3_HOME/monmap" --keyring "$S3_HOME/keyring"
  ceph-mon "${C[@]}" -i a
  wait_for 30 "ceph-mon" cephq mon stat
  OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
  OSD_ID=$(cephq osd new "$OSD_UUID")
  [ "$OSD_ID" = 0 ] || die "unexpected osd id $OSD_ID"
  ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$S3_HOME/log/osd-mkfs.out" 2>&1 \
    || { cat "$S3_HOME/log/osd-mkfs.out" >&2; die "ceph-osd --mkfs failed"; }
  touch "$S3_HOME/.initialized"
  log "bootstrap took $(( $(date +%s) - t0 ))s"
fi

# a cluster made before a setting was added gets it now; radosgw reads its settings when it starts
stop_rgw() {
  if running client.rgw.a; then p=$(cat "$(pidfile client.rgw.a)"); kill "$p"
    for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done; kill -9 "$p" 2>/dev/null || true; fi
}
if ! grep -q 'tcp_nodelay=1' "$CONF"; then
  log "setting tcp_nodelay=1 on the beast frontend"
  sed -i 's|^rgw frontends = beast endpoint=[^ ]*$|& tcp_nodelay=1|' "$CONF"
  stop_rgw
fi
if ! grep -q '^rgw gc obj min wait' "$CONF"; then
  log "setting RGW's garbage collection to reclaim deleted data within minutes"
  sed -i 's|^rgw cache enabled = false$|&\nrgw gc obj min wait = 120\nrgw gc processor period = 60|' "$CONF"
  stop_rgw
fi

# ---------------------------------------------------------------- 3. start daemons
t0=$(date +%s)
if ! running mon.a; then log "starting ceph-mon"; ceph-mon "${C[@]}" -i a; fi
wait_for 30 "ceph-mon" cephq mon stat
if ! running osd.0; then log "starting ceph-osd ($S3_OBJECTSTORE)"; ceph-osd "${C[@]}" -i 0 2>/dev/null; fi
wait_for 60 "osd.0 up" bash -c "timeout 20 ceph -c '$CONF' osd dump 2>/dev/null | grep -q '^osd.0 up'"
if ! running client.rgw.a; then
  log "starting radosgw on $ENDPOINT"
  radosgw "${C[@]}" -n client.rgw.a
fi
# pre-create the bucket pools (in parallel with RGW init) so the first CreateBucket/PUT is not slow
pools=$(cephq osd pool ls)
for p in default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
  grep -qx "$p" <<<"$pools" || { cephq osd pool create "$p" 8 8 >/dev/null 2>&1; cephq osd pool application enable "$p" rgw >/dev/null 2>&1 || true; }
done
wait_for 120 "radosgw HTTP 200 on $ENDPOINT" http_ok
log "daemons ready in $(( $(date +%s) - t0 ))s"

# ---------------------------------------------------------------- 4. S3 user + key
if ! timeout 60 radosgw-admin "${C[@]}" user info --uid="$S3_UID" >"$S3_HOME/user.json" 2>/dev/null; then
  timeout 60 radosgw-admin "${C[@]}" user create --uid="$S3_UID" --display-name="S3 integration tests" \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >"$S3_HOME/user.json"
elif ! grep -q "\"access_key\": \"$S3_ACCESS_KEY\"" "$S3_HOME/user.json"; then
  timeout 60 radosgw-admin "${C[@]}" key create --uid="$S3_UID" --key-type=s3 \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >"$S3_HOME/user.json"
fi

# end-to-end readiness: a SigV4-signed CreateBucket + DeleteBucket must succeed
probe() {
  local a=(-sf --max-time 30 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY"
           -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -o /dev/null)   # curl 7.88 does not add it itself
  curl "${a[@]}" -X PUT "$ENDPOINT/start-ceph-rgw-probe" && curl "${a[@]}" -X DELETE "$ENDPOINT/start-ceph-rgw-probe"
}
wait_for 60 "signed S3 request" probe

cat >"$S3_HOME/s3.env" <<EOF
export S3_ENDPOINT=$ENDPOINT
export S3_REGION=us-east-1
export S3_ACCESS_KEY=$S3_ACCESS_KEY
export S3_SECRET_KEY=$S3_SECRET_KEY
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
export AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=$ENDPOINT
export S3_FORCE_PATH_STYLE=true
EOF
log "ready (Ceph RGW $(radosgw --version | awk '{print $3}'), env file: $S3_HOME/s3.env)"
cat "$S3_HOME/s3.env"
echo "# S3 endpoint: $ENDPOINT   (use forcePathStyle: true; aws-sdk-js v3 >= 3.729: requestChecksumCalculation: 'WHEN_REQUIRED')"
