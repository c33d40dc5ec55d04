#!/usr/bin/env bash
# Soak benchmark: trains for 30 minutes (validation and checkpoints every minute), samples heap and
# goroutines every 10 s, and writes soak-out/soak.csv and soak-out/soak.png; exits 3 if the heap or
# the goroutine count trends upward beyond noise. It runs at low priority (nice 10), as the machine
# is shared.
# Usage: bench/soak.sh [-short] [flags of bench/soak, e.g. -duration 10m -out /tmp/soak]
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/soak" ./bench/soak
exec nice -n 10 "$tmp/soak" "$@"
