#!/usr/bin/env python3
"""Runs `examples/simclr.rs` once per method and seed and prints the README's comparison table.

Every method trains from the same recipe, data and evaluation; the table gives, per method,
the test kNN and linear-probe top-1 of the learned backbone (mean over the seeds, and the
lowest and highest), the seconds per training epoch (median over every epoch of every seed,
evaluation excluded) and the command of one run. The random-initialisation and raw-pixel
rows come from the SimCLR runs (the same network before training; the pixels themselves).

    cargo build --release --example simclr
    python3 benches/methods_table.py --name synthetic --epochs 20 --timing-epochs 3
    python3 benches/methods_table.py --name digits --epochs 40 -- --data idx:tests/data/digits --flip-probability 0

A run whose `report.json` already exists is not repeated (delete the folder to rerun), so an
interrupted table continues where it stopped. Writes `OUT/NAME/table.md` and prints it.
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys

METHODS = ["simclr", "moco", "supcon", "decoupled", "debiased", "hard-negative"]


def binary(args):
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    path = args.binary or os.path.join(target, "release", "examples", "simclr")
    if not os.path.exists(path):
        sys.exit(f"{path} not found: run `cargo build --release --example simclr` first")
    return path


def run_args(args, method, seed, out):
    return ["--method", method, "--seed", str(seed), "--epochs", str(args.epochs), "--out", out] + args.extra


def run_once(args, exe, method, seed):
    out = os.path.join(args.out, args.name, method, f"seed{seed}")
    report = os.path.join(out, "report.json")
    if not os.path.exists(report):
        cmd = [exe] + run_args(args, method, seed, out)
        print("$", " ".join(shlex.quote(c) for c in cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(report) as f:
        result = json.load(f)
    with open(os.path.join(out, "history.json")) as f:
        history = json.load(f)
    records = history["history"] if isinstance(history, dict) else history
    result["epoch_seconds"] = [r["seconds"] for r in records]
    return result


def timing_run(args, exe, method):
    """Epoch seconds of a short run (its accuracies are not used)."""
    out = os.path.join(args.out, args.name, "timing", method)
    cmd = [exe, "--method", method, "--seed", "0", "--epochs", str(args.timing_epochs), "--out", out]
    print("$", " ".join(shlex.quote(c) for c in cmd + args.extra), file=sys.stderr, flush=True)
    subprocess.run(cmd + args.extra, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "history.json")) as f:
        history = json.load(f)
    records = history["history"] if isinstance(history, dict) else history
    return [r["seconds"] for r in records]


def cell(values):
    return f"{statistics.mean(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def table(args, results):
    seeds = " ".join(str(s) for s in args.seeds)
    lines = [
        f"| method | kNN top-1 | linear probe top-1 | s/epoch | command (seeds {seeds}) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for method, runs in results.items():
        knn = [r["knn_top1"]["learned"] for r in runs]
        probe = [r["linear_probe_top1"]["learned"] for r in runs]
        epoch = statistics.median(s for r in runs for s in r["epoch_seconds"])
        if method in args.timings:
            epoch = statistics.median(args.timings[method])
        cmd = "simclr " + " ".join(run_args(args, method, "S", "DIR"))
        lines.append(f"| {method} | {cell(knn)} | {cell(probe)} | {epoch:.2f} | `{cmd}` |")
    baseline = results.get("simclr")
    if baseline:
        for key, label in [("random_init", "random init"), ("raw_pixels", "raw pixels")]:
            knn = [r["knn_top1"][key] for r in baseline]
            probe = [r["linear_probe_top1"][key] for r in baseline]
            lines.append(f"| {label} | {cell(knn)} | {cell(probe)} | – | (the SimCLR runs) |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True, help="the table's name (a folder under --out)")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    p.add_argument("--out", default="out/methods")
    p.add_argument("--binary", help="the simclr example (default: $CARGO_TARGET_DIR/release/examples/simclr)")
    p.add_argument("--timing-epochs", type=int, default=0,
                   help="time each method in a separate run of this many epochs (0: the runs' own epochs)")
    p.add_argument("extra", nargs="*", help="more simclr flags, after --")
    args = p.parse_args()
    exe = binary(args)
    results = {m: [run_once(args, exe, m, s) for s in args.seeds] for m in args.methods}
    args.timings = {}
    if args.timing_epochs > 0:
        shutil.rmtree(os.path.join(args.out, args.name, "timing"), ignore_errors=True)
        args.timings = {m: timing_run(args, exe, m) for m in args.methods}
    text = table(args, results)
    path = os.path.join(args.out, args.name, "table.md")
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    print(text, end="")


if __name__ == "__main__":
    main()
