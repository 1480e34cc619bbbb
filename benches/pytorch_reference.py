#!/usr/bin/env python3
"""PyTorch reference for the crate's benchmark workloads (`examples/bench.rs`).

Prints one JSON line per workload in the same format as `cargo run --release --example bench`,
so the two can be compared side by side on the same machine:

    python3 benches/pytorch_reference.py --threads 2 > torch.jsonl
    cargo run --release --example bench -- --workload all --json > infonce.jsonl

Run both with the same thread count (RAYON_NUM_THREADS for the crate). Needs `torch`.
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return out


def loss_workload(n, ntxent):
    z1 = torch.randn(n, 128)
    z2 = torch.randn(n, 128)

    def step():
        a = z1.clone().requires_grad_(True)
        b = z2.clone().requires_grad_(True)
        if ntxent:
            z = F.normalize(torch.cat([a, b]), dim=1)
            sim = z @ z.T / 0.5
            sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
            target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
            loss = F.cross_entropy(sim, target)
        else:
            logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / 0.1
            loss = F.cross_entropy(logits, torch.arange(n))
        loss.backward()
        float(a.grad.sum() + b.grad.sum())

    rows = 2 * n if ntxent else n
    return step, 6.0 * rows * rows * 128


def mi_workload():
    d, rho = 20, math.sqrt(1 - math.exp(-2 * 4.0 / 20))

    def mlp():
        return nn.Sequential(nn.Linear(d, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 32))

    g, h = mlp(), mlp()
    opt = torch.optim.Adam(list(g.parameters()) + list(h.parameters()), lr=5e-4)
    x = torch.randn(128, d)
    y = rho * x + math.sqrt(1 - rho * rho) * torch.randn(128, d)

    def step():
        scores = g(x) @ h(y).T
        loss = F.cross_entropy(scores, torch.arange(128))
        opt.zero_grad()
        loss.backward()
        opt.step()
        float(loss.detach())

    return step, float("nan")


def simclr_workload():
    def cnn():
        return nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 64),
        )

    net = cnn()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    a, b = torch.rand(256, 3, 32, 32), torch.rand(256, 3, 32, 32)
    n = 256

    def step():
        z = F.normalize(net(torch.cat([a, b])), dim=1)
        sim = (z @ z.T / 0.5).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
        target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
        loss = F.cross_entropy(sim, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        float(loss.detach())

    return step, float("nan")


def sgemm():
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    return (lambda: float((a @ b).sum())), 2.0 * 1024 ** 3


WORKLOADS = {
    "sgemm_1024": sgemm,
    "loss_n256": lambda: loss_workload(256, False),
    "loss_n1024": lambda: loss_workload(1024, False),
    "loss_n4096": lambda: loss_workload(4096, False),
    "loss_n16384": lambda: loss_workload(16384, False),
    "ntxent_n1024": lambda: loss_workload(1024, True),
    "mi_step_b128": mi_workload,
    "simclr_step_b256": simclr_workload,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="all")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    names = list(WORKLOADS) if args.workload == "all" else [args.workload]
    for name in names:
        step, flops = WORKLOADS[name]()
        ms = sorted(timed(step, args.warmup, args.repeats))
        line = {
            "workload": name,
            "median_ms": statistics.median(ms),
            "min_ms": ms[0],
            "max_ms": ms[-1],
            "peak_rss_mb": peak_rss_mb(),
            "backend": "pytorch-cpu",
            "repeats": args.repeats,
            "threads": args.threads,
        }
        if not math.isnan(flops):
            line["gflops"] = flops / (line["median_ms"] * 1e6)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
