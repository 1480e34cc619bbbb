#!/usr/bin/env python3
"""Times the README's two set-up commands on a fresh clone, as the README's build-time
figures are measured, and says where the build time goes.

The current commit is cloned into a temporary folder and built with an empty target
directory (the crates already downloaded into ~/.cargo are reused; nothing else is):

1. `cargo build --release --example simclr` (the run command's build), then
2. `.ci/test` (the test command: build, tests and doctests), in the same target directory.

Each command runs with `--timings`; from cargo's report the script prints the wall time
of each command and the longest compilation units (this crate's library, test crate and
examples, and the slowest dependencies).

    python3 benches/build_times.py              # 10 to 25 minutes on 2 cores
    python3 benches/build_times.py --no-tests   # the second command's build only
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timed(cmd, cwd, env):
    """Runs `cmd`, echoing its last lines on failure; returns seconds of wall time."""
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        sys.exit(f"`{' '.join(cmd)}` failed ({done.returncode})")
    return seconds


def unit_data(report):
    """The unit records of one cargo `--timings` report that were compiled or run: the report
    also lists units that were already fresh, with a duration of zero."""
    text = open(report).read()
    data = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", text, re.S).group(1))
    return [u for u in data if u["duration"] > 0]


def units(report):
    """The compilation units of one cargo `--timings` report: (name, target, start, seconds)."""
    return [(u["name"], u.get("target", "").strip(), u["start"], u["duration"]) for u in unit_data(report)]


def compiled_again(first, second, top):
    """Dependencies the second command compiled although the first had compiled them: a
    feature the second command turns on changed them, or a crate under them. A crate the
    second command compiles in more variants than the first (a build script's copy with
    fewer features, say) counts only as often as the first compiled it."""
    key = lambda u: (u["name"], u["version"], u.get("target", "").strip(), u["mode"])
    before = {}
    for u in unit_data(first):
        before.setdefault(key(u), []).append(set(u["features"]))
    again = []
    for k, group in group_by(unit_data(second), key).items():
        if k not in before or k[0] == "infonce":
            continue
        # The second command's variants closest to the first's features are the ones rebuilt.
        closeness = lambda u: max(len(f & set(u["features"])) - len(f ^ set(u["features"])) for f in before[k])
        again += sorted(group, key=closeness, reverse=True)[: len(before[k])]
    total = sum(u["duration"] for u in again)
    print(f"  compiled again (built by the first command too): {len(again)} dependency units, {total:.0f} unit-seconds")
    for u in sorted(again, key=lambda u: -u["duration"])[:top]:
        print(f"    {u['name']:34s} {u['duration']:6.0f} s")


def group_by(items, key):
    groups = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def summarise(label, seconds, report, top):
    rows = units(report)
    ours = [r for r in rows if r[0] == "infonce"]
    deps = [r for r in rows if r[0] != "infonce"]
    deps_end = max((r[2] + r[3] for r in deps), default=0.0)
    busy = sum(r[3] for r in rows)
    print(f"\n{label}: {seconds / 60:.1f} min wall, {busy:.0f} unit-seconds (each unit's wall time, summed)")
    print(f"  dependencies: {len(deps)} units, the last done at {deps_end / 60:.1f} min")
    for name, target, start, dur in sorted(ours, key=lambda r: -r[3])[:top]:
        print(f"  infonce {target or 'lib':28s} {dur:6.0f} s (from {start / 60:4.1f} min)")
    for name, target, start, dur in sorted(deps, key=lambda r: -r[3])[:top]:
        print(f"  {name:36s} {dur:6.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-tests", action="store_true", help="build the test command's targets without running them")
    parser.add_argument("--top", type=int, default=6, help="units listed per group")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="infonce-build-times-") as tmp:
        clone, target = os.path.join(tmp, "clone"), os.path.join(tmp, "target")
        subprocess.run(["git", "clone", "-q", ROOT, clone], check=True)
        env = dict(os.environ, CARGO_TARGET_DIR=target)
        env.pop("RUSTFLAGS", None)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
        print(f"commit {commit}, {rustc}, {os.cpu_count()} cores, empty target directory")
        run_build = timed(["cargo", "build", "--release", "--example", "simclr", "--timings"], clone, env)
        report = sorted(glob.glob(os.path.join(target, "cargo-timings", "cargo-timing-*.html")))
        summarise("cargo build --release --example simclr", run_build, report[-1], args.top)
        test_cmd = [".ci/test", "--no-run", "--timings"] if args.no_tests else [".ci/test", "--timings"]
        test_time = timed(test_cmd, clone, env)
        reports = sorted(glob.glob(os.path.join(target, "cargo-timings", "cargo-timing-*.html")))
        summarise(" ".join(test_cmd), test_time, reports[-1], args.top)
        compiled_again(report[-1], reports[-1], args.top)


if __name__ == "__main__":
    main()
