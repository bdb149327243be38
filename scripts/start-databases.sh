#!/usr/bin/env bash
# PostgreSQL (127.0.0.1:5432, user postgres, trust) and MariaDB (127.0.0.1:3306, root, no password)
# for the source tests (test/sources): installs the Debian packages when absent, starts each server
# when it is not running, and exits non-zero when one cannot be reached (the tests then fail too).
set -euo pipefail

need=()
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v git >/dev/null || need+=(git)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
fi

wait_for() { for _ in $(seq 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done; return 1; }

pg_up() { psql -h 127.0.0.1 -p 5432 -U postgres -XAtqc 'SELECT 1' postgres; }
if ! pg_up >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -n | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # A fresh cluster asks TCP clients for a password: the tests connect as postgres without one.
  if wait_for pg_isready -h 127.0.0.1 -p 5432 && ! pg_up >/dev/null 2>&1 && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
fi
wait_for pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432 as postgres" >&2; exit 1; }

my_up() { mariadb -h 127.0.0.1 -P 3306 --protocol=TCP -u root -e 'SELECT 1'; }
if ! my_up >/dev/null 2>&1; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  # A fresh install lets root in through the socket only: the tests connect over TCP without a password.
  if wait_for mariadb -u root -e 'SELECT 1' && ! my_up >/dev/null 2>&1; then
    mariadb -u root -e "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD(''); CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION"
  fi
fi
wait_for my_up || { echo "MariaDB is not reachable on 127.0.0.1:3306 as root" >&2; exit 1; }
echo "PostgreSQL and MariaDB are up"
