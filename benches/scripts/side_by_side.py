#!/usr/bin/env python3
"""Whole-run times of the sightglass programs under each Kestrel engine and under peers.

Runs every program of the sightglass corpus (KESTREL_SIGHTGLASS, else ../shared/bench/sightglass)
the way its harness does: from its own folder, with that folder preopened as `.` and a
`bench` module providing `bench.start`/`bench.end`. Each engine runs each program
`--runs` times in turn (interleaved, so machine noise spreads over all engines alike);
the table shows median wall-clock seconds of the whole process (start-up, compilation and
execution), and each engine's ratio to the first peer found (Wasmtime). A run whose output
differs from the program's expected output is reported as FAIL, never timed.

Usage: benches/scripts/side_by_side.py [--runs N] [--kestrel PATH] [--filter TEXT]...
                                       [--engines a,b] [--metric wall|cpu|exec]

`--metric cpu` reports the processes' user + system CPU seconds instead of wall-clock
seconds (every thread counted, a tiered run's background compilation included): steadier
than wall time on a machine busy with other work, though it hides the parallelism of
compilation. `--metric exec` reports the time between the program's `bench.start` and
`bench.end` calls, as the sightglass harness measures it: the `bench` module then reads
WASI's monotonic clock and prints `bench-ns N` lines to stderr, which are summed and
removed before the output is checked.

The peer is `wasmtime` when found on PATH (or given with --wasmtime; install it with
`cargo install wasmtime-cli@48.0.8`), run without its compilation cache. An expected file
without a final newline also matches output that adds one (`libsodium/`, as in the tests).
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_MODULE = '(module (func (export "start")) (func (export "end")))\n'
# `bench.end` prints the nanoseconds since `bench.start` as `bench-ns N` on stderr.
TIMED_BENCH_MODULE = r'''(module
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 112) "bench-ns ")
  (func (export "start")
    (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 0))))
  (func (export "end")
    (local $ns i64) (local $at i32)
    (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 8)))
    (local.set $ns (i64.sub (i64.load (i32.const 8)) (i64.load (i32.const 0))))
    (local.set $at (i32.const 96))
    (i32.store8 (i32.const 96) (i32.const 10))
    (loop $digits
      (local.set $at (i32.sub (local.get $at) (i32.const 1)))
      (i32.store8 (local.get $at)
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $ns) (i64.const 10)))))
      (local.set $ns (i64.div_u (local.get $ns) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $ns) (i64.const 0))))
    (local.set $at (i32.sub (local.get $at) (i32.const 9)))
    (memory.copy (local.get $at) (i32.const 112) (i32.const 9))
    (i32.store (i32.const 16) (local.get $at))
    (i32.store (i32.const 20) (i32.sub (i32.const 97) (local.get $at)))
    (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 104)))))
'''


def corpus() -> Path:
    candidates = [os.environ.get("KESTREL_SIGHTGLASS"), ROOT.parent / "shared/bench/sightglass"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    sys.exit("error: no sightglass corpus: set KESTREL_SIGHTGLASS or put it in ../shared/bench/sightglass")


def programs(root: Path):
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        for wasm in sorted(folder.glob("*.wasm")):
            stem = wasm.stem
            expected = {}
            for stream in ("stdout", "stderr"):
                for name in (f"{stem}.{stream}.expected", f"default.{stream}.expected"):
                    if (folder / name).exists():
                        expected[stream] = (folder / name).read_bytes()
                        break
            name = folder.name if wasm.name == "benchmark.wasm" else wasm.stem
            yield name, folder, wasm, expected


def engines(args, bench: Path):
    kestrel = str(args.kestrel)
    common = ["run", "--dir", ".", "--preload", f"bench={bench}"]
    found = [
        ("interp", [kestrel, *common, "--engine", "interp"]),
        ("tiered", [kestrel, *common, "--engine", "tiered"]),
        ("tiered-no-osr", [kestrel, *common, "--engine", "tiered", "--no-osr"]),
        ("jit", [kestrel, *common, "--engine", "jit"]),
    ]
    wasmtime = args.wasmtime or shutil.which("wasmtime")
    if wasmtime:
        # No compilation cache: every run compiles, as Kestrel's do.
        found.append(("wasmtime", [wasmtime, "run", "-C", "cache=n", "--dir", ".",
                                   "--preload", f"bench={bench}"]))
    return found


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(command, folder: Path, wasm: Path, expected, timeout: float, metric: str):
    start, start_cpu = time.perf_counter(), children_cpu()
    try:
        done = subprocess.run([*command, wasm.name], cwd=folder, capture_output=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if metric == "cpu":
        elapsed = children_cpu() - start_cpu
    else:
        elapsed = time.perf_counter() - start
    if metric == "exec":
        lines = done.stderr.split(b"\n")
        timings = [line for line in lines if line.startswith(b"bench-ns ")]
        if not timings:
            return None, "no bench.start/bench.end timing printed"
        elapsed = sum(int(line.split()[1]) for line in timings) / 1e9
        done.stderr = b"\n".join(line for line in lines if not line.startswith(b"bench-ns "))
    if done.returncode != 0:
        return None, f"exit {done.returncode}: {done.stderr.decode(errors='replace').strip()[-200:]}"
    for stream, wanted in expected.items():
        actual = getattr(done, stream)
        if actual != wanted and not (not wanted.endswith(b"\n") and actual == wanted + b"\n"):
            return None, f"{stream} differs"
    return elapsed, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kestrel", type=Path, default=ROOT / "target/release/kestrel")
    parser.add_argument("--wasmtime", help="the wasmtime binary (default: from PATH)")
    parser.add_argument("--filter", action="append", default=[])
    parser.add_argument("--engines", help="comma-separated subset of the engine names")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--metric", choices=["wall", "cpu", "exec"], default="wall")
    args = parser.parse_args()
    if not args.kestrel.exists():
        sys.exit(f"error: no Kestrel binary at {args.kestrel}: run `cargo build --release` first")
    with tempfile.TemporaryDirectory() as scratch:
        bench = Path(scratch) / "bench.wat"
        bench.write_text(TIMED_BENCH_MODULE if args.metric == "exec" else BENCH_MODULE)
        chosen = engines(args, bench)
        if args.engines:
            wanted = args.engines.split(",")
            chosen = [engine for engine in chosen if engine[0] in wanted]
        names = [name for name, _ in chosen]
        reference = "wasmtime" if "wasmtime" in names else None
        what = {"wall": "wall-clock", "cpu": "CPU (user + system)",
                "exec": "bench.start-to-bench.end"}[args.metric]
        print(f"median {what} seconds of {args.runs} runs; ratio = engine / {reference or 'n/a'}")
        header = f"{'program':<24}" + "".join(f"{name:>17}" for name in names)
        print(header)
        for name, folder, wasm, expected in programs(corpus()):
            if args.filter and not any(text in name for text in args.filter):
                continue
            times = {engine: [] for engine in names}
            errors = {}
            for _ in range(args.runs):
                for engine, command in chosen:
                    if engine in errors:
                        continue
                    elapsed, error = run_once(command, folder, wasm, expected, args.timeout,
                                              args.metric)
                    if error:
                        errors[engine] = error
                    else:
                        times[engine].append(elapsed)
            medians = {engine: statistics.median(values) for engine, values in times.items()
                       if values and engine not in errors}
            cells = []
            for engine in names:
                if engine in errors:
                    cells.append(f"{'FAIL':>17}")
                    continue
                cell = f"{medians[engine]:.4g}"
                if reference in medians and engine != reference:
                    cell += f" ({medians[engine] / medians[reference]:.2f})"
                cells.append(f" {cell:>16}")
            print(f"{name:<24}" + "".join(cells), flush=True)
            for engine, error in errors.items():
                print(f"    {engine}: {error}", flush=True)


if __name__ == "__main__":
    main()
