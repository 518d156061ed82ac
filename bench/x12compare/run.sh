#!/usr/bin/env bash
# Benchmarks the hub's edi/x12 against published X12 parsers, in one run:
# npm x12-parser (installed into a temp dir, never vendored), omniparser's
# EDI reader (from the Go module proxy, in this separate module) and a
# naive bytes.Split floor. See README.md.
#
#   ./run.sh                 # 100 MB files, -count 5
#   X12COMPARE_MB=10 COUNT=1 ./run.sh
#
# Output: the environment, the hot-loop allocation test, the raw
# `go test -bench` lines, benchstat's summary and the comparison table.
# The raw benchmark output is also left in $OUT (default: a temp dir).
set -euo pipefail
cd "$(dirname "$0")"

MB=${X12COMPARE_MB:-100}
COUNT=${COUNT:-5}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/x12compare.XXXXXX")
OUT=${OUT:-$TMP}
mkdir -p "$OUT"
cleanup() {
	rm -rf "$TMP/npm" "$TMP/data"
	[ "$OUT" = "$TMP" ] || rmdir "$TMP" 2>/dev/null || true
}
trap cleanup EXIT

echo "== environment"
date -u +"date: %Y-%m-%dT%H:%M:%SZ"
echo "host: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "go: $(go version)"
echo "node: $(node --version), npm: $(npm --version)"
echo "hub: $(git -C ../.. rev-parse --short HEAD 2>/dev/null || echo '?'), edi/x12 uncommitted changes: $(git -C ../.. status --short -- edi/x12 2>/dev/null | wc -l) file(s)"
echo "omniparser: $(go list -m -f '{{.Version}}' github.com/jf-tech/omniparser)"

echo "== npm install --no-save --prefix $TMP/npm x12-parser"
npm install --no-save --no-audit --no-fund --prefix "$TMP/npm" x12-parser >"$OUT/npm-install.log" 2>&1 || {
	cat "$OUT/npm-install.log"
	exit 1
}
echo "x12-parser: $(node -p "require('$TMP/npm/node_modules/x12-parser/package.json').version")"

export X12COMPARE_MB=$MB
export X12COMPARE_DIR=$TMP/data
export X12COMPARE_NODE=$TMP/npm/node_modules

echo "== inputs valid and hot-loop allocations (go test -run 'TestInputsValid|TestHubReaderHotLoopAllocs' -v)"
go test -run 'TestInputsValid|TestHubReaderHotLoopAllocs' -v -count 1 . | grep -E '^(=== RUN|--- |    |ok|FAIL|PASS)' | grep -v '=== RUN'

echo "== go test -run '^\$' -bench . -benchmem -count $COUNT ($MB MB per file)"
go test -run '^$' -bench . -benchmem -count "$COUNT" -timeout 60m . | tee "$OUT/bench.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== benchstat"
go run golang.org/x/perf/cmd/benchstat@latest "$OUT/bench.txt" ||
	echo "(benchstat not available)"

echo "== table (medians of $COUNT runs)"
go run ./cmd/x12table "$OUT/bench.txt"
echo
echo "raw output: $OUT/bench.txt"
