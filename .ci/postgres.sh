#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages (if missing), start it on loopback,
# and print the SQLAlchemy URL of a fresh test database on stdout.
set -euo pipefail
log() { echo "[postgres] $*" >&2; }
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  log "installing postgresql from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DATA=${MLPROD_PG_DATA:-/tmp/mlprod-pg}
PORT=${MLPROD_PG_PORT:-54329}
if ! su postgres -c "$PGBIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
  rm -rf "$DATA"; mkdir -p "$DATA"; chown postgres:postgres "$DATA"
  su postgres -c "$PGBIN/initdb -D $DATA -A trust -U postgres" >/dev/null
  su postgres -c "$PGBIN/pg_ctl -D $DATA -l $DATA/server.log -w -o '-c listen_addresses=127.0.0.1 -p $PORT -k /tmp -c fsync=off -c max_connections=200' start" >&2
fi
for _ in $(seq 1 30); do
  "$PGBIN/pg_isready" -h 127.0.0.1 -p "$PORT" -q && break
  sleep 0.5
done
"$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -q -tAc "SELECT 1 FROM pg_database WHERE datname='mlprod_test'" | grep -q 1 \
  || "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -q -c "CREATE DATABASE mlprod_test" >&2
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/mlprod_test"
