#!/usr/bin/env bash
# SIGKILL loop: kills `pipe train` (the real binary) again and again, at random moments, right after
# a temporary checkpoint file appears (mid-write) and right after a checkpoint is renamed into place,
# resuming with --resume each time; every round's final model must be byte-identical to an
# uninterrupted run's and every checkpoint seen must load. It is TestSIGKILLResume of cmd/pipe in its
# long form. Usage: bench/sigkill.sh [KILLS]   (default 50; the test's own default is 20)
set -euo pipefail
cd "$(dirname "$0")/.."
SGDPIPE_KILLS="${1:-50}" exec go test -count=1 -run '^TestSIGKILLResume$' -v -timeout 60m ./cmd/pipe
