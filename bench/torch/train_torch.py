"""PyTorch CPU training reference: MLP / logistic regression on standardized MNIST.

The recipe of bench/vs-pytorch.sh: nn.Linear layers with PyTorch's default init, ReLU,
CrossEntropyLoss, SGD (momentum 0.9) at a constant learning rate or (--schedule cosine)
annealed per batch by CosineAnnealingLR over the whole run, data in memory.
Run it with Debian's /usr/bin/python3 (python3-torch, python3-threadpoolctl).

modes:
  loop    pure train loop: data already in memory as tensors; per epoch one
          torch.randperm + gather, then contiguous slices of `batch` rows.
  loader  end-to-end: DataLoader(TensorDataset(X, y), batch, shuffle=True,
          num_workers=0) over the same in-memory tensors.
Timing per epoch: train_s = training only; eval_s = test-set forward pass;
cum_s = wall time since the start of training, including the per-epoch evals.
"""
import argparse, time, json, statistics, sys, os
import numpy as np
import torch
import torch.nn as nn
from common import load_mnist_standardized, env_summary, blas_info, SEED

p = argparse.ArgumentParser()
p.add_argument("--arch", default="mlp", choices=["mlp", "linear", "big"])
p.add_argument("--opt", default="sgd", choices=["sgd", "adam"])
p.add_argument("--lr", type=float, default=None)
p.add_argument("--batch", type=int, default=128)
p.add_argument("--epochs", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--blas-threads", type=int, default=None, help="OpenBLAS threads (default: same as --threads)")
p.add_argument("--mode", default="loop", choices=["loop", "loader"])
p.add_argument("--schedule", default="constant", choices=["constant", "cosine"],
               help="cosine: CosineAnnealingLR stepped after every batch, T_max = all steps of the run")
p.add_argument("--no-eval", action="store_true")
p.add_argument("--tag", default="")
a = p.parse_args()

torch.set_num_threads(a.threads)
import threadpoolctl
bt = a.blas_threads if a.blas_threads is not None else a.threads
_limits = threadpoolctl.threadpool_limits(limits=bt, user_api="blas")

xtr, ytr, xte, yte = load_mnist_standardized()
Xtr, Ytr = torch.from_numpy(xtr), torch.from_numpy(ytr)
Xte, Yte = torch.from_numpy(xte), torch.from_numpy(yte)
N = Xtr.shape[0]

torch.manual_seed(SEED)
if a.arch == "mlp":
    dims = [784, 256, 128, 10]
elif a.arch == "big":
    dims = [784, 1024, 1024, 10]
else:
    dims = [784, 10]
layers = []
for i in range(len(dims) - 1):
    layers.append(nn.Linear(dims[i], dims[i + 1]))
    if i < len(dims) - 2:
        layers.append(nn.ReLU())
model = nn.Sequential(*layers)
lossf = nn.CrossEntropyLoss()
if a.opt == "sgd":
    lr = a.lr if a.lr is not None else 0.05
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
else:
    lr = a.lr if a.lr is not None else 1e-3
    opt = torch.optim.Adam(model.parameters(), lr=lr)
sched = None
if a.schedule == "cosine":
    steps = a.epochs * ((N + a.batch - 1) // a.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)

# GEMM FLOPs per training sample: fwd 2*MAC every layer, dW 2*MAC every layer,
# dX 2*MAC every layer but the first (input needs no grad).
macs = [dims[i] * dims[i + 1] for i in range(len(dims) - 1)]
flops_per_sample = 6 * sum(macs) - 2 * macs[0]

print(f"# torch {torch.__version__} threads={torch.get_num_threads()} blas: {blas_info()}")
print(f"# env: {env_summary()}")
print(f"# arch={a.arch} dims={dims} opt={a.opt} lr={lr} schedule={a.schedule} batch={a.batch} epochs={a.epochs} mode={a.mode} tag={a.tag}")
sys.stdout.flush()

g = torch.Generator()
g.manual_seed(SEED)
if a.mode == "loader":
    from torch.utils.data import DataLoader, TensorDataset
    dl = DataLoader(TensorDataset(Xtr, Ytr), batch_size=a.batch, shuffle=True, generator=g, num_workers=0)


def evaluate():
    model.eval()
    with torch.no_grad():
        pred = model(Xte).argmax(1)
    model.train()
    return (pred == Yte).float().mean().item()


def run_epoch():
    tot, n = 0.0, 0
    if a.mode == "loop":
        perm = torch.randperm(N, generator=g)
        Xp, Yp = Xtr[perm], Ytr[perm]
        it = ((Xp[i:i + a.batch], Yp[i:i + a.batch]) for i in range(0, N, a.batch))
    else:
        it = dl
    for xb, yb in it:
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xb), yb)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        tot += loss.item() * xb.shape[0]
        n += xb.shape[0]
    return tot / n, n


rows = []
t_start = time.perf_counter()
reach = {}
for ep in range(1, a.epochs + 1):
    t0 = time.perf_counter()
    loss, n = run_epoch()
    t1 = time.perf_counter()
    acc = float("nan") if a.no_eval else evaluate()
    t2 = time.perf_counter()
    cum = t2 - t_start
    for thr in (0.97, 0.98):
        if thr not in reach and acc >= thr:
            reach[thr] = (ep, cum)
    r = dict(epoch=ep, train_s=t1 - t0, eval_s=t2 - t1, cum_s=cum, samples_per_s=n / (t1 - t0),
             gflops=n * flops_per_sample / (t1 - t0) / 1e9, loss=loss, test_acc=acc)
    rows.append(r)
    print("EPOCH " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    sys.stdout.flush()

train_total = sum(r["train_s"] for r in rows)
sps_all = N * a.epochs / train_total
sps_steady = statistics.median([r["samples_per_s"] for r in rows[1:]]) if len(rows) > 1 else sps_all
summ = dict(arch=a.arch, opt=a.opt, batch=a.batch, threads=a.threads, blas_threads=bt, mode=a.mode, tag=a.tag,
            train_total_s=train_total, samples_per_s_all=sps_all, samples_per_s_steady=sps_steady,
            gflops_steady=sps_steady * flops_per_sample / 1e9,
            epoch_wall_median_s=statistics.median([r["train_s"] + r["eval_s"] for r in rows]),
            final_acc=rows[-1]["test_acc"], accs=[round(r["test_acc"], 4) for r in rows],
            t97=reach.get(0.97), t98=reach.get(0.98), cum_last_s=rows[-1]["cum_s"])
print("SUMMARY " + json.dumps(summ))
