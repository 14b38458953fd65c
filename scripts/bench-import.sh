#!/usr/bin/env bash
# The registry import benchmark beside sqlite3's own CSV import, measured in
# one run on the same file.
#
#   scripts/bench-import.sh          1,000,000 rows
#   ROWS=200000 scripts/bench-import.sh
#
# 1. Generates a register of ROWS valid residents (CSV, Chinese headers, houses
#    of three, 200 buildings) with the Go test helper TestWriteImportBenchCSV.
# 2. Times `sqlite3 .import` of that file into a plain table of text columns,
#    with the pragmas GridHall's SQLite uses (WAL, synchronous=NORMAL): the
#    raw rate of getting these bytes into SQLite, with no validation, no
#    encryption, no indexes, no households.
# 3. Runs BenchmarkImport1M (internal/people/import_bench_test.go) on the same
#    file: a dry run (validation alone), then the real import into an empty
#    SQLite registry, then 10,000 lookups by identity number.
# 4. Prints both rates and their ratio.
#
# Installs Debian's sqlite3 when it is missing (as root, waiting for any
# other apt-get to finish).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ROWS=${ROWS:-1000000}

if ! command -v sqlite3 >/dev/null; then
	echo "bench-import: installing sqlite3" >&2
	sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
	while pgrep -x apt-get >/dev/null; do sleep 5; done
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y sqlite3
fi

work=$(mktemp -d /tmp/gridhall-bench-import.XXXXXX)
trap 'rm -rf "$work"' EXIT
csv="$work/register.csv"

echo "bench-import: generating $ROWS rows" >&2
GRIDHALL_BENCH_CSV_OUT="$csv" GRIDHALL_BENCH_ROWS="$ROWS" \
	go test -count=1 -run '^TestWriteImportBenchCSV$' ./internal/people/ >/dev/null
size=$(stat -c %s "$csv")

echo "bench-import: sqlite3 .import" >&2
start=$(date +%s.%N)
sqlite3 "$work/raw.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE raw (name TEXT, id_number TEXT, gender TEXT, birth_date TEXT, phone TEXT, registration TEXT,
	building TEXT, unit TEXT, house TEXT, floor TEXT, relation TEXT, move_in TEXT, tags TEXT, notes TEXT);
.import --csv --skip 1 $csv raw
SQL
end=$(date +%s.%N)
raw_rows=$(sqlite3 "$work/raw.db" "SELECT COUNT(*) FROM raw")
[ "$raw_rows" -eq "$ROWS" ] || { echo "bench-import: sqlite3 imported $raw_rows rows, not $ROWS" >&2; exit 1; }
raw_s=$(echo "$end - $start" | bc -l)
rm -f "$work"/raw.db*

echo "bench-import: gridhall import" >&2
out="$work/bench.txt"
GRIDHALL_BENCH_CSV="$csv" GRIDHALL_BENCH_ROWS="$ROWS" \
	go test -count=1 -run '^$' -bench '^BenchmarkImport1M$' -benchtime 1x -timeout 60m ./internal/people/ | tee "$out" >&2
metric() { awk -v unit="$1" '/^BenchmarkImport1M/ { for (i = 2; i < NF; i++) if ($(i+1) == unit) print $i }' "$out"; }
rate=$(metric rows/s)
[ -n "$rate" ] || { echo "bench-import: no result" >&2; exit 1; }

awk -v rows="$ROWS" -v size="$size" -v raw_s="$raw_s" -v rate="$rate" -v check="$(metric check-rows/s)" \
	-v took="$(metric import-s)" -v heap="$(metric peak-heap-MB)" -v p50="$(metric lookup-p50-us)" -v p99="$(metric lookup-p99-us)" 'BEGIN {
	raw = rows / raw_s
	printf "\nImport of %d residents (%.0f MB CSV) on SQLite, %s\n", rows, size / 1048576, strftime("%Y-%m-%d")
	printf "  sqlite3 .import, plain table:  %8.1f s  %9.0f rows/s\n", raw_s, raw
	printf "  gridhall validation pass only:            %9.0f rows/s\n", check
	printf "  gridhall import (both passes): %8.1f s  %9.0f rows/s  = %.0f%% of the raw rate\n", took, rate, 100 * rate / raw
	printf "  peak Go heap during the import: %.0f MB\n", heap
	printf "  lookup by identity number among them (10,000): p50 %.2f ms, p99 %.2f ms\n", p50 / 1000, p99 / 1000
	printf "  goals: under 30 s (%s), at least 30%% of the raw rate (%s), p99 under 5 ms (%s)\n",
		((took < 30) ? "met" : "not met"), ((rate / raw >= 0.3) ? "met" : "not met"), ((p99 < 5000) ? "met" : "not met")
}'
