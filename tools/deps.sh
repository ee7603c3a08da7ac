#!/bin/sh
# deps.sh - installs the Debian packages mfbench needs (build, run, and with
# --test the test suite's real parts). Only what is missing; needs root or sudo.
set -eu
BUILD="meson ninja-build pkg-config gcc libc6-dev libuv1-dev libssh2-1-dev libcurl4-openssl-dev
libyaml-dev libcjson-dev libsqlite3-dev libsystemd-dev libssl-dev"
RUN="python3 python3-venv python3-ujson python3-flask python3-tornado python3-aiohttp python3-bottle
python3-django python3-falcon python3-fastapi python3-pyramid python3-waitress python3-starlette
python3-uvicorn gunicorn python3-psycopg2 python3-asyncpg python3-jinja2 postgresql
util-linux procps coreutils gawk tar"
TEST="openssh-server openssh-client sqlite3 iproute2 systemd systemd-container chromium clang-format clang
libclang-rt-14-dev nginx-light slurm-wlm munge postgresql"  # nginx: the 5,000 held connections of runner_spread_ns; slurm: tests/fixtures/slurm-cluster.sh; postgresql: node_pg, run_db
BENCH="wrk nginx-light nghttp2-client python3-locust time"
want="$BUILD $RUN"
for a in "$@"; do
  case "$a" in
    --test) want="$want $TEST" ;;
    --bench) want="$want $BENCH" ;;
  esac
done
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || true
# mfbench runs PostgreSQL clusters of its own (node/pg.c, the tests): it needs
# the binaries, not Debian's system cluster, which the package would create and
# (under systemd) start on port 5432 at every boot. On a machine with no cluster
# yet, postgresql-common is told not to make one, for this install only.
nocluster=/etc/postgresql-common/createcluster.d/zz-mfbench-deps.conf
pg_quiet=""
case " $missing " in
  *" postgresql "*)
    if [ -z "$(ls -A /etc/postgresql 2>/dev/null)" ] && [ ! -e "$nocluster" ] &&
      $SUDO mkdir -p "${nocluster%/*}" &&
      echo "create_main_cluster = false  # tools/deps.sh, removed after its install" |
      $SUDO tee "$nocluster" >/dev/null; then
      pg_quiet=1
    fi
    ;;
esac
rc=0
# shellcheck disable=SC2086
$SUDO apt-get install -y -q $missing >/dev/null || rc=$?
[ -z "$pg_quiet" ] || $SUDO rm -f "$nocluster"
exit $rc
