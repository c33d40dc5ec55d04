"""Collects and tabulates the runs of bench/vs-pytorch.sh.

  report.py pipe  RESULTS ROUND KIND TIMEFILE METRICS_CSV LOADAVG
  report.py torch RESULTS ROUND KIND TIMEFILE STDOUT LOADAVG
  report.py table RESULTS

KIND is "recipe" (the 10-epoch run with a test-set evaluation after every epoch: wall
time, peak RSS, accuracy curve, time to 98%), "steady" (training only, no evaluation:
steady samples/s) or "big" (MLP 784-1024-1024-10 at batch 256: steady samples/s).
TIMEFILE is the output of /usr/bin/time -v. Each call appends one JSON line to RESULTS.

Steady samples/s is the median over epochs 2.. of the per-epoch training throughput:
PyTorch's script times its training loop per epoch (its evaluation is timed apart);
for pipe, a run without --val gives per-epoch training times as the differences of the
"seconds" column of its epoch metrics (time since the start of training).
Time to 98% is whole-process wall time from the start of the process to the end of the
first epoch whose test accuracy is >= 98%: the run's wall time minus the time it spent
after that epoch (epoch times from the same clock as the accuracies: pipe's metrics
"seconds" column, PyTorch's cum_s). It includes start-up (imports, data loading, pipe's
feature statistics pass) for both. The time since the start of training is shown too.
"""
import csv
import json
import math
import statistics
import sys

MNIST_ROWS = 60000


def parse_time(path):
    """Wall seconds and peak RSS (MB) from /usr/bin/time -v output."""
    wall = rss = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("Elapsed (wall clock) time"):
                parts = [float(p) for p in line.rsplit(" ", 1)[1].split(":")]
                wall = 0.0
                for p in parts:
                    wall = wall * 60 + p
            elif line.startswith("Maximum resident set size (kbytes):"):
                rss = int(line.rsplit(" ", 1)[1]) / 1024
            elif line.startswith("Exit status:") and line.rsplit(" ", 1)[1] != "0":
                sys.exit(f"report.py: {path}: the measured command failed ({line})")
    if wall is None or rss is None:
        sys.exit(f"report.py: {path}: no /usr/bin/time -v figures")
    return wall, rss


def pipe_epochs(path):
    """(epoch, seconds, val_acc or None) of the epoch rows of pipe's metrics CSV."""
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["kind"] != "epoch":
                continue
            acc = float(r["val_acc"]) if r["val_acc"] not in ("", "NaN", "nan") else None
            rows.append((int(r["epoch"]), float(r["seconds"]), acc))
    rows.sort()
    if not rows:
        sys.exit(f"report.py: {path}: no epoch rows")
    return rows


def steady_from_seconds(rows):
    """Median samples/s over epochs 2.. from the per-epoch seconds column."""
    rates = [MNIST_ROWS / (b[1] - a[1]) for a, b in zip(rows, rows[1:]) if b[1] > a[1]]
    return statistics.median(rates) if rates else None


def collect(tool, results, rnd, kind, timefile, out, load):
    wall, rss = parse_time(timefile)
    rec = dict(tool=tool, round=int(rnd), kind=kind, wall_s=wall, rss_mb=rss, load=load)
    if tool == "pipe":
        rows = pipe_epochs(out)
        if kind == "recipe":
            rec["accs"] = [r[2] for r in rows]
            rec["t98"] = next(([r[0], r[1]] for r in rows if r[2] is not None and r[2] >= 0.98), None)
            if rec["t98"]:
                rec["t98"].append(wall - (rows[-1][1] - rec["t98"][1]))
        else:
            rec["sps"] = steady_from_seconds(rows)
    else:
        summ = None
        with open(out) as f:
            for line in f:
                if line.startswith("SUMMARY "):
                    summ = json.loads(line[len("SUMMARY "):])
        if summ is None:
            sys.exit(f"report.py: {out}: no SUMMARY line")
        rec["sps"] = summ["samples_per_s_steady"]
        if kind == "recipe":
            rec["accs"] = summ["accs"]
            rec["t98"] = summ["t98"]
            if rec["t98"]:
                rec["t98"] = list(rec["t98"]) + [wall - (summ["cum_last_s"] - rec["t98"][1])]
    with open(results, "a") as f:
        f.write(json.dumps(rec) + "\n")


def med(recs, key):
    vals = [r[key] for r in recs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def t98(recs):
    hits = [r["t98"][2] for r in recs if r.get("t98")]
    return statistics.median(hits) if len(hits) == len(recs) and hits else None


def t98_text(recs):
    hits = [r["t98"] for r in recs if r.get("t98")]
    best = max((a for r in recs for a in r.get("accs", []) if a is not None), default=None)
    if not hits:
        return f"not reached (best test accuracy {fmt(best and 100 * best, '.2f')}%)"
    secs = statistics.median(h[2] for h in hits)
    train = statistics.median(h[1] for h in hits)
    epochs = sorted(h[0] for h in hits)
    text = f"{secs:.1f} s whole process, {train:.1f} s of training (epoch {epochs[len(epochs) // 2]})"
    if len(hits) < len(recs):
        text += f", reached in {len(hits)} of {len(recs)} runs only"
    return text


def table(results):
    recs = [json.loads(l) for l in open(results) if l.strip()]
    def sel(tool, kind):
        return [r for r in recs if r["tool"] == tool and r["kind"] == kind]
    rounds = max((r["round"] for r in recs), default=0)
    loads = [float(r["load"]) for r in recs if r.get("load")]
    print()
    print("MNIST MLP 784-256-128-10, ReLU, SGD momentum 0.9, lr 0.05 cosine-annealed over the run, batch 128, 2 threads each")
    print(f"median of {rounds} interleaved round(s); 1-minute load average before each run: "
          f"{min(loads):.2f} .. {max(loads):.2f} (the machine has 2 cores)" if loads else "")
    print()
    print(f"{'':34s} {'pipe':>14s} {'PyTorch':>14s} {'ratio':>12s}")
    ps, ts = med(sel("pipe", "steady"), "sps"), med(sel("torch", "recipe"), "sps")
    print(f"{'steady training samples/s':34s} {fmt(ps, '14,.0f')} {fmt(ts, '14,.0f')} "
          f"{fmt(ps / ts if ps and ts else None, '11.2f')}x  (pipe/PyTorch, target >= 1.5)")
    pw, tw = med(sel("pipe", "recipe"), "wall_s"), med(sel("torch", "recipe"), "wall_s")
    print(f"{'whole-process wall, recipe run (s)':34s} {fmt(pw, '14.1f')} {fmt(tw, '14.1f')} "
          f"{fmt(tw / pw if pw and tw else None, '11.2f')}x  (PyTorch/pipe: times shorter, target >= 1.5)")
    pr, tr = med(sel("pipe", "recipe"), "rss_mb"), med(sel("torch", "recipe"), "rss_mb")
    print(f"{'peak RSS, recipe run (MB)':34s} {fmt(pr, '14.0f')} {fmt(tr, '14.0f')} "
          f"{fmt(pr / tr if pr and tr else None, '11.2f')}x  (pipe/PyTorch, target <= 0.33)")
    print(f"{'time to 98% test accuracy':34s}")
    print(f"{'  pipe':34s} {t98_text(sel('pipe', 'recipe'))}")
    print(f"{'  PyTorch':34s} {t98_text(sel('torch', 'recipe'))}")
    p98, t98v = t98(sel("pipe", "recipe")), t98(sel("torch", "recipe"))
    if p98 and t98v:
        print(f"{'  ratio (PyTorch/pipe)':34s} {t98v / p98:.2f}x  (times shorter)")
    else:
        print(f"{'  ratio (PyTorch/pipe)':34s} n/a: not reached by {'both' if not p98 and not t98v else 'pipe' if not p98 else 'PyTorch'}")
    for tool, name in (("pipe", "pipe"), ("torch", "PyTorch")):
        for r in sel(tool, "recipe"):
            accs = " ".join(fmt(a and 100 * a, ".2f") for a in r.get("accs", []))
            print(f"  test accuracy % by epoch, {name} round {r['round']}: {accs}")
    pb, tb = med(sel("pipe", "big"), "sps"), med(sel("torch", "big"), "sps")
    print()
    print(f"{'MLP 784-1024-1024-10, batch 256':34s} {'pipe':>14s} {'PyTorch':>14s} {'ratio':>12s}")
    print(f"{'steady training samples/s':34s} {fmt(pb, '14,.0f')} {fmt(tb, '14,.0f')} "
          f"{fmt(pb / tb if pb and tb else None, '11.2f')}x  (pipe/PyTorch, target >= 0.9)")
    print()
    print("per run (tool kind round: samples/s, wall s, peak RSS MB, load):")
    for r in recs:
        print(f"  {r['tool']:5s} {r['kind']:6s} {r['round']}: {fmt(r.get('sps'), ',.0f')}, "
              f"{r['wall_s']:.1f}, {r['rss_mb']:.0f}, {r.get('load', '')}")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd in ("pipe", "torch") and len(sys.argv) == 8:
        collect(cmd, *sys.argv[2:])
    elif cmd == "table" and len(sys.argv) == 3:
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
