#!/usr/bin/env bash
# Measures the data path (read -> shuffle(buffer) -> normalize -> batch) on a 2 GiB Parquet
# file of MNIST-shaped random rows and prints its throughput, shuffle quality and peak RSS
# (target: < 400 MiB). The file is written by one process and read by another, so the peak
# RSS is the run's alone.
#
# The run sets a Go soft memory limit of 320 MiB (as GOMEMLIMIT would): the data path's
# live heap stays under ~200 MiB (85 MiB of it the 65536-row shuffle buffer), but with the
# default GC the heap may grow to twice the live size before a collection (about 445 MiB
# peak RSS measured). Pass -mem-limit 0 to see that.
# Usage: bench/datapath.sh [flags for the run, e.g. -readers 1 -mem-limit 0]
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/datapath" ./bench/datapath
"$tmp/datapath" -gen -out "$tmp/big.parquet" -size $((2 << 30))
run=("$tmp/datapath" -run -data "$tmp/big.parquet" -mem-limit $((320 << 20)) "$@")
if [ -x /usr/bin/time ]; then
	/usr/bin/time -v -o "$tmp/time.txt" "${run[@]}"
	grep -E 'Maximum resident|Elapsed' "$tmp/time.txt"
else
	"${run[@]}"
fi
