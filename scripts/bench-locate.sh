#!/usr/bin/env bash
# The locator benchmark beside PostGIS, measured in one run on the same
# polygons and points (BENCHMARKS.md, "Point → grid locator").
#
#   scripts/bench-locate.sh        installs postgresql-15-postgis-3 if missing (as root),
#                                  starts a throwaway PostgreSQL 15 cluster, runs the
#                                  benchmarks on one core, and removes the cluster.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if ! ls /usr/share/postgresql/15/extension/postgis.control >/dev/null 2>&1; then
	echo "bench-locate: installing postgresql-15-postgis-3" >&2
	sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y postgresql-15-postgis-3
fi

dir=$(mktemp -d /tmp/gridhall-bench-pg.XXXXXX)
rmdir "$dir"
trap 'scripts/pg-cluster.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
dsn=$(scripts/pg-cluster.sh start "$dir")
GRIDHALL_TEST_POSTGRES="$dsn" go test -run '^$' -bench 'Locate$|PostGIS|Build$' -benchtime 2s -cpu 1 ./internal/geo/
