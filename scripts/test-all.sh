#!/usr/bin/env bash
# Test orchestration used by `make test` (see Makefile).
#
#   scripts/test-all.sh go    Go tests with -race on SQLite and PostgreSQL 15
#   scripts/test-all.sh e2e   browser tests (needs bin/gridhall and /usr/bin/chromium)
#   scripts/test-all.sh durability  process-level tests (go test -tags durability
#                             ./internal/durability/): SIGKILL during writes on
#                             SQLite, a PostgreSQL outage, three nodes on one
#                             PostgreSQL. Each PostgreSQL test starts its own
#                             cluster (it stops and restarts it); without
#                             PostgreSQL 15: CI=true -> fail, otherwise a loud
#                             warning and those tests skip.
#
# go:  starts a throwaway PostgreSQL 15 cluster (scripts/pg-cluster.sh) in a
#      temp dir, exports GRIDHALL_TEST_POSTGRES=<dsn> and runs
#      `go test -race -count=1 ./...` once; the cluster is always stopped and
#      removed afterwards. If the cluster cannot start: CI=true -> fail,
#      otherwise a loud warning and SQLite only. A GRIDHALL_TEST_POSTGRES
#      already set in the environment is used as is (no cluster is started).
# e2e: CI=true and no chromium -> fail; otherwise warn and skip.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

GO=${GO:-go}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
is_ci() { [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; }

banner() {
	echo
	echo "==> $*"
}

loud_warning() {
	echo >&2
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
	for line in "$@"; do echo "!!! $line" >&2; done
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
	echo >&2
}

# Global (not local): the EXIT trap runs after the function frame is gone.
PG_DIR=""
cleanup_pg() {
	if [ -n "$PG_DIR" ]; then
		"$ROOT/scripts/pg-cluster.sh" stop "$PG_DIR" || true
		PG_DIR=""
	fi
}

run_go_tests() {
	trap cleanup_pg EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	if [ -n "${GRIDHALL_TEST_POSTGRES:-}" ]; then
		echo "PostgreSQL tier: using GRIDHALL_TEST_POSTGRES from the environment: $GRIDHALL_TEST_POSTGRES"
	else
		banner "starting throwaway PostgreSQL 15 cluster"
		# /tmp rather than $TMPDIR: the unprivileged cluster owner must be able
		# to reach the directory.
		PG_DIR=$(mktemp -d "${PG_TEST_TMP:-/tmp}/gridhall-pg.XXXXXX")
		local dsn=""
		if dsn=$("$ROOT/scripts/pg-cluster.sh" start "$PG_DIR"); then
			export GRIDHALL_TEST_POSTGRES="$dsn"
			echo "PostgreSQL tier: cluster up at $dsn"
		else
			cleanup_pg
			if is_ci; then
				echo "FATAL: PostgreSQL tier: the throwaway cluster could not start and CI=true; failing." >&2
				exit 1
			fi
			unset GRIDHALL_TEST_POSTGRES
			loud_warning \
				"PostgreSQL tier: the throwaway PostgreSQL 15 cluster could not start." \
				"Running the Go tests on SQLite ONLY. The PostgreSQL tier did NOT run." \
				"(In CI, with CI=true, this is a failure.)"
		fi
	fi

	banner "go test -race -count=1 ./...  (SQLite${GRIDHALL_TEST_POSTGRES:+ + PostgreSQL})"
	# -race needs cgo (and a C compiler; `make deps` installs gcc).
	CGO_ENABLED=1 "$GO" test -race -count=1 ./...
	# Tests too slow under the race detector are built only without it
	# (//go:build !race); they run here, so none is left out.
	banner "go test -count=1 (tests built without -race: the demo's year of cases, a 200,000-case export, gridhall bench --quick)"
	"$GO" test -count=1 -run '^TestTheDemoYear' ./internal/demo/
	"$GO" test -count=1 -run '^TestTwoHundredThousandCaseExport' ./internal/export/
	"$GO" test -count=1 -run '^TestBenchQuickPrintsEveryRow$' ./cmd/gridhall/
	echo "Go tests passed (SQLite${GRIDHALL_TEST_POSTGRES:+ + PostgreSQL at $GRIDHALL_TEST_POSTGRES})."

	cleanup_pg
	trap - EXIT INT TERM
}

run_durability() {
	local pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
	if [ ! -x "$pg_bin/initdb" ]; then
		if is_ci; then
			echo "FATAL: durability: PostgreSQL 15 ($pg_bin) is missing and CI=true; its tests cannot be skipped in CI." >&2
			exit 1
		fi
		loud_warning \
			"durability: PostgreSQL 15 ($pg_bin) is missing: the outage and several-nodes tests SKIP." \
			"Install it with: make deps"
	fi
	banner "durability tests (real processes: SIGKILL, PostgreSQL outage, three nodes)"
	# Not -race: these tests drive separate gridhall processes, and the
	# race-built test binary would only slow the load generators down.
	# -v for the summaries (kills, acknowledged writes, recovery times); the
	# nodes' logs are printed only when a test fails.
	"$GO" test -tags durability -count=1 -timeout 8m -v ./internal/durability/
	echo "Durability tests passed."
}

run_e2e() {
	local bin="${GRIDHALL_BIN:-$ROOT/bin/gridhall}"
	[ -x "$bin" ] || {
		echo "e2e: $bin not found; run 'make build' first" >&2
		exit 1
	}
	if [ ! -x "$CHROMIUM" ]; then
		if is_ci; then
			echo "FATAL: e2e: $CHROMIUM is missing and CI=true; browser tests cannot be skipped in CI." >&2
			exit 1
		fi
		loud_warning \
			"e2e: $CHROMIUM is missing: browser tests SKIPPED." \
			"Install it with: apt-get install -y chromium   (or: make deps)"
		return 0
	fi
	banner "browser tests (e2e, $("$CHROMIUM" --version 2>/dev/null | head -n 1))"
	cd "$ROOT/e2e"
	GRIDHALL_BIN="$bin" CHROMIUM_PATH="$CHROMIUM" npm test
	echo "Browser tests passed."
}

case "${1:-}" in
go) run_go_tests ;;
e2e) run_e2e ;;
durability) run_durability ;;
*)
	echo "usage: $0 go|e2e|durability" >&2
	exit 2
	;;
esac
