#!/usr/bin/env bash
# Measures the data path (read -> shuffle(buffer) -> normalize -> batch) on a 2 GiB Parquet
# file of MNIST-shaped random rows and prints its throughput and peak RSS (target: < 400 MiB).
# The file is written by one process and read by another, so the peak RSS is the run's alone.
# Usage: bench/datapath.sh [flags for the run, e.g. -readers 1 -mem-limit 335544320]
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/datapath" ./bench/datapath
"$tmp/datapath" -gen -out "$tmp/big.parquet" -size $((2 << 30))
if [ -x /usr/bin/time ]; then
	/usr/bin/time -v -o "$tmp/time.txt" "$tmp/datapath" -run -data "$tmp/big.parquet" "$@"
	grep -E 'Maximum resident|Elapsed' "$tmp/time.txt"
else
	"$tmp/datapath" -run -data "$tmp/big.parquet" "$@"
fi
