#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""1 vs 2 local workers, in one run: the bench_fec sweep (in-process, Ray with 1 CPU, Ray with 2
CPUs; the counts must agree) and ECCT / JSCC training throughput with --workers 1 and 2.

  nice -n 10 .venv/bin/python bench/scale_speedup.py --json docs/data/scale_speedup.json

Sweep times are Sweep.run alone (Ray's start-up excluded, reported apart); training rates are
samples per second of the workers' loop (Ray Train's start-up excluded, reported apart as the
whole command's wall time). On a shared machine the load average is recorded before and after.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shards", type=int, default=48, help="shards per sweep point (all run)")
    p.add_argument("--shard-frames", type=int, default=256)
    p.add_argument("--ecct-steps", type=int, default=400)
    p.add_argument("--jscc-minutes", type=float, default=0.5)
    p.add_argument("--parts", nargs="+", choices=("sweep", "training"), default=["sweep", "training"])
    p.add_argument("--json", required=True)
    return p.parse_args(argv)


def sweep_times(args):
    from gnuradio.lmsscc import sweep
    from gnuradio.lmsscc.fec.evaluate import fec_shard

    points = [sweep.Point({"code": "LDPC_N49_K24", "channel": "awgn", "ebn0_db": eb, "decoder": dec,
                           "shard_frames": args.shard_frames, "max_frames": args.shards * args.shard_frames,
                           "batch": args.shard_frames}, args.shards, seed_key=f"LDPC_N49_K24|awgn|{eb!r}")
              for eb in (2.0, 3.0) for dec in ("bp", "osd2")]
    out, reference = [], None
    for label, cpus in (("in-process", None), ("ray local, 1 CPU", 1), ("ray local, 2 CPUs", 2)):
        t0 = time.perf_counter()
        ray_dir = tempfile.mkdtemp(prefix="lmray", dir="/tmp")       # short: Ray's socket paths
        executor = sweep.RayExecutor("local", num_cpus=cpus, temp_dir=ray_dir) if cpus else sweep.InProcessExecutor()
        startup = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = sweep.Sweep(points, fec_shard, target=None, seed=1, desc=label).run(executor)
        seconds = time.perf_counter() - t0
        executor.close()
        shutil.rmtree(ray_dir, ignore_errors=True)
        totals = [sweep.sum_results(c)["frame_errors"] for c in result.counted]
        reference = reference or totals
        out.append({"executor": label, "startup_s": round(startup, 2), "sweep_s": round(seconds, 2),
                    "shards": result.executed, "frame_errors_per_point": totals,
                    "same_counts_as_in_process": totals == reference})
        print(out[-1], flush=True)
    return out


def run_trainer(cmd, pattern):
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    m = re.search(pattern, r.stdout + r.stderr)
    return {"command": " ".join(cmd[1:]), "wall_s_with_startup": round(time.time() - t0, 1),
            "samples": int(m.group(2).replace(",", "")) if m else None,
            "loop_s": float(m.group(3)) if m else None,
            "samples_per_s": float(m.group(4).replace(",", "")) if m else None}


def training_rates(args, tmp):
    line = r"(\d+) worker\(s\): (\d+) samples in ([\d.]+) s, ([\d,]+) samples/s"
    out = []
    for workers in (1, 2):
        ecct = [sys.executable, "train/train_ecct.py", "--code", "LDPC_N49_K24", "--variant", "legacy",
                "--layers", "2", "--d-model", "32", "--heads", "2", "--batch", "128",
                "--steps", str(args.ecct_steps), "--eval-ebn0", "4", "--eval-frames", "1000",
                "--eval-decoders", "ecct", "--out", f"{tmp}/ecct_w{workers}", "--workers", str(workers)]
        out.append({"trainer": "train_ecct", "workers": workers, **run_trainer(ecct, line)})
        print(out[-1], flush=True)
        jscc = [sys.executable, "train/train_jscc.py", "--minutes", str(args.jscc_minutes), "--out",
                f"{tmp}/jscc_w{workers}", "--checkpoint", f"{tmp}/jscc_ck{workers}", "--batch", "32",
                "--eval-sentences", "20", "--workers", str(workers)]
        out.append({"trainer": "train_jscc", "workers": workers, **run_trainer(jscc, line)})
        print(out[-1], flush=True)
    return out


def main(argv=None):
    args = parse_args(argv)
    os.chdir(REPO)
    record = {"command": "bench/scale_speedup.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "cpu_count": os.cpu_count(), "load_average_before": os.getloadavg(),
              "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    record["nice"] = os.nice(0)
    record["ratios"] = {}
    if "sweep" in args.parts:
        record["sweep"] = sweep_times(args)
        by = {r["executor"]: r["sweep_s"] for r in record["sweep"]}
        record["ratios"].update(
            sweep_ray_2cpu_over_1cpu_speedup=round(by["ray local, 1 CPU"] / by["ray local, 2 CPUs"], 2),
            sweep_ray_2cpu_over_in_process_speedup=round(by["in-process"] / by["ray local, 2 CPUs"], 2))
    if "training" in args.parts:
        with tempfile.TemporaryDirectory() as tmp:
            record["training"] = training_rates(args, tmp)
        rate = {(r["trainer"], r["workers"]): r["samples_per_s"] for r in record["training"]}
        record["ratios"].update({f"{t}_2_over_1_workers_samples_per_s": round(rate[(t, 2)] / rate[(t, 1)], 2)
                                 for t in ("train_ecct", "train_jscc")})
    record["load_average_after"] = os.getloadavg()
    print(json.dumps(record["ratios"], indent=1))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
