#!/usr/bin/env python3
"""Times the crate's benchmark workloads against PyTorch on this machine and prints the
README's ratio table (time relative to PyTorch, lower is better).

The crate (`examples/bench.rs`, once per backend) and `benches/pytorch_reference.py` run in
alternation, `--rounds` times, at the same thread count (RAYON_NUM_THREADS for the crate,
with OPENBLAS_NUM_THREADS for an OpenBLAS build; torch.set_num_threads for PyTorch), so
that a slow spell of the machine hits both alike; each cell is the median over rounds of
each run's median.

    cargo build --release --example bench            # add --features flex for flex
    python3 benches/compare.py --threads 2 --backends ndarray flex

Needs `torch`. Prints the machine, the command and the table; `--json PATH` keeps the raw
lines of every run.
"""
import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# The PyTorch workload a crate workload is compared with: the tiled loss against PyTorch's
# plain loss at the same size; None where PyTorch has no counterpart (its plain logits at
# n = 65536 take 16 GiB per matrix).
TORCH_EQUIVALENT = {"loss_n4096_tiled": "loss_n4096", "loss_n65536_d128": None}


def json_lines(cmd, env):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def crate_run(exe, backend, workloads, args, env, extra=()):
    lines = []
    for w in workloads:
        cmd = [exe, "--workload", w, "--backend", backend, "--json", "--repeats", str(args.repeats),
               "--warmup", str(args.warmup), *extra]
        lines += json_lines(cmd, env)
    return lines


def variant(spec, default_exe):
    """`LABEL BACKEND [binary=PATH] [env:NAME=VALUE ...] [FLAG=VALUE ...]`: a column of the
    table, the bench binary to run (another build, say with `--features openblas`),
    environment variables for it, and bench flags (`loss-kernel=composed` passes
    `--loss-kernel composed`)."""
    label, backend, *rest = spec
    exe, env, extra = default_exe, {}, []
    for item in rest:
        key, _, value = item.partition("=")
        if key == "binary":
            exe = value
        elif key.startswith("env:"):
            env[key[4:]] = value
        else:
            extra += ["--" + key, value]
    return {"label": label, "backend": backend, "exe": exe, "env": env, "extra": extra}


def torch_run(workloads, args, env):
    lines = []
    wanted = {TORCH_EQUIVALENT.get(w, w) for w in workloads} - {None}
    for w in sorted(wanted):
        cmd = [sys.executable, os.path.join(HERE, "pytorch_reference.py"), "--workload", w,
               "--threads", str(args.threads), "--repeats", str(args.repeats),
               "--warmup", str(args.warmup)]
        lines += json_lines(cmd, env)
    return lines


def machine():
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} logical cores, {platform.system()}"


def table(medians, peaks, backends, workloads):
    """Time relative to PyTorch per backend (the crate's own ms where PyTorch has no
    counterpart), PyTorch's ms, and each backend's peak resident memory."""
    head = "| workload | " + " | ".join(backends) + " | PyTorch (ms) | " + \
        " | ".join(f"peak MiB ({b})" for b in backends) + " |"
    lines = [head, "| --- |" + " --- |" * (2 * len(backends) + 1)]
    for w in workloads:
        torch_ms = medians.get(("pytorch", TORCH_EQUIVALENT.get(w, w)))
        cells = []
        for b in backends:
            ms = medians.get((b, w))
            if not ms:
                cells.append("–")
            else:
                cells.append(f"{ms / torch_ms:.2f}×" if torch_ms else f"{ms:.4g} ms")
        torch_cell = f"{torch_ms:.3g}" if torch_ms else "–"
        mem = [f"{peaks[(b, w)]:.0f}" if (b, w) in peaks else "–" for b in backends]
        lines.append(f"| `{w}` | " + " | ".join(cells) + f" | {torch_cell} | " + " | ".join(mem) + " |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--backends", nargs="+", default=["ndarray"])
    p.add_argument("--workloads", nargs="+", default=[
        "sgemm_1024", "loss_n256", "loss_n1024", "loss_n4096", "ntxent_n1024", "mi_step_b128",
        "simclr_step_b256"])
    p.add_argument("--binary", help="the bench example (default: $CARGO_TARGET_DIR/release/examples/bench)")
    p.add_argument("--variant", nargs="+", action="append", default=[],
                   metavar="LABEL BACKEND [binary=PATH] [env:NAME=VALUE] [FLAG=VALUE]",
                   help="a column beside --backends: another build, environment or bench flags "
                        "(repeatable), e.g. --variant composed ndarray loss-kernel=composed")
    p.add_argument("--json", help="write every run's lines here")
    args = p.parse_args()
    exe = args.binary or os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "examples", "bench")
    if not os.path.exists(exe):
        sys.exit(f"{exe} not found: run `cargo build --release --example bench` first")
    t = str(args.threads)
    env = dict(os.environ, RAYON_NUM_THREADS=t, OPENBLAS_NUM_THREADS=t, OMP_NUM_THREADS=t)
    columns = [variant([b, b], exe) for b in args.backends] + \
        [variant(v, exe) for v in args.variant]
    for c in columns:
        if not os.path.exists(c["exe"]):
            sys.exit(f"{c['exe']} not found (column {c['label']})")
    runs = {}
    for r in range(args.rounds):
        print(f"# round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
        for c in columns:
            lines = crate_run(c["exe"], c["backend"], args.workloads, args, dict(env, **c["env"]),
                              c["extra"])
            for line in lines:
                runs.setdefault((c["label"], line["workload"]), []).append(line)
        for line in torch_run(args.workloads, args, env):
            runs.setdefault(("pytorch", line["workload"]), []).append(line)
    medians = {k: statistics.median(l["median_ms"] for l in v) for k, v in runs.items()}
    peaks = {k: max(l.get("peak_rss_mb", 0.0) for l in v) for k, v in runs.items()}
    print(f"# {machine()}; {args.threads} threads each; median of {args.rounds} alternated rounds")
    print("# python3 " + " ".join(shlex.quote(a) for a in sys.argv))
    for c in columns[len(args.backends):]:
        print(f"# {c['label']}: {c['backend']}, {c['exe']} {' '.join(c['extra'])} "
              + " ".join(f"{k}={v}" for k, v in c["env"].items()))
    print(table(medians, peaks, [c["label"] for c in columns], args.workloads))
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            for (who, w), lines in sorted(runs.items()):
                for line in lines:
                    f.write(json.dumps(dict(line, who=who)) + "\n")
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
