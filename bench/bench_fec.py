#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""BER/FER benchmark of channel decoders on one code, BP-50 as the anchor in the same run.

  .venv/bin/python bench/bench_fec.py --code LDPC_N49_K24 --ebn0 2 3 4 5 6 7 \
      --decoders uncoded hard bp ecct hybrid --json bench/out/fec_ldpc49.json --plot docs/fec_ldpc49_awgn.png

Decoders: uncoded (BPSK without coding, same Eb/N0 per info bit), hard (code, per-bit hard decision),
bp (sum-product, 50 iterations), ecct (pure transformer), hybrid (BP-50, then ECCT on frames
failing BP's syndrome check), bp_restarts (the hybrid's restarts without the network), sc / sclL
(successive-cancellation list of size L, Polar codes only, e.g. scl8 scl32). ecct/hybrid take the code's AWGN weights unless written as
ecct=WEIGHTS / hybrid=WEIGHTS (a shipped name like ecct_LDPC_N49_K24_rayleigh, or a path).

Each point stops at --min-frame-errors frame errors or --max-frames frames, checked after every
shard of --shard-frames frames (default --batch, as the loop before sharding did after every batch).
--fading none (AWGN), block (one Rayleigh gain per codeword) or fast (one per symbol), receiver
with CSI (python/lmsscc/phy/channels.py); records name it as `fading` and as `channel` (awgn or
rayleigh). Shard i of a point draws its frames from its own seed, derived from (--seed, code,
channel, Eb/N0, i) (python/lmsscc/sweep.py): all decoders of one point see the same random frames,
block and fast fading of one point start from the same seed, and the counts
are the same in-process, with --ray local or on a cluster, with any number of workers. (Since the
sharding the frames differ from those of older runs of the same --seed, which drew one stream per
point; fields, tables and plot are unchanged.) --journal FILE resumes a killed sweep; docs/scale.md. Each record has the information-bit BER (`ber`), the
codeword-bit BER over all n bits (`ber_coded`, as the ECCT papers count), FER (`fer`, = `bler`:
frames with a wrong information bit), and the finite-length limit of an (n, k) code at that point
(`fer_limit_normal_approx`, Polyanskiy-Poor-Verdu normal approximation, fec/limits.py);
codewords_per_s is the decoding time alone (one process, --threads torch threads), not the channel
simulation. The plot has -ln(BER) on the left and FER (log scale) with the limit on the right.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gnuradio.lmsscc import sweep
from gnuradio.lmsscc.fec import load_code
from gnuradio.lmsscc.fec.evaluate import (cached_decoder, decoder_from_spec, fec_shard, record_from_counts,
                                               spec_label)
from gnuradio.lmsscc.fec.limits import normal_approx_fer
from gnuradio.lmsscc.phy.channels import FADING, channel_name


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--code", default="LDPC_N49_K24")
    p.add_argument("--fading", choices=FADING, default="none",
                   help="none = AWGN; block = one Rayleigh gain per codeword; fast = one per symbol")
    p.add_argument("--ebn0", type=float, nargs="+", default=[2, 3, 4, 5, 6, 7])
    p.add_argument("--decoders", nargs="+", default=["uncoded", "hard", "bp", "ecct"])
    p.add_argument("--max-frames", type=int, default=100_000)
    p.add_argument("--min-frame-errors", type=int, default=100)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default=None, help="write the list of records here")
    p.add_argument("--plot", default=None, help="-ln(BER) and FER vs Eb/N0 figure (png)")
    p.add_argument("--table", action="store_true",
                   help="print markdown tables: -ln(BER) (frame errors/frames); FER, -ln(coded BER)")
    p.add_argument("--speed", type=int, default=0, metavar="FRAMES",
                   help="only measure decoding speed: FRAMES frames at the first --ebn0, 3 timed runs each")
    p.add_argument("--shard-frames", type=int, default=None,
                   help="frames per sweep shard (one task; default --batch)")
    sweep.add_cli_options(p)
    args = p.parse_args(argv)
    if args.max_frames < 1 or args.batch < 1 or (args.shard_frames is not None and args.shard_frames < 1):
        p.error("--max-frames, --batch and --shard-frames must be positive")
    return args




def build_decoders(specs, code):
    return [decoder_from_spec(spec, code) for spec in specs]


def sweep_points(args, code):
    """One sweep point per (Eb/N0, decoder); shards of --shard-frames frames (default --batch: the
    stopping rule of the unsharded loop, checked after every batch). Every decoder of one Eb/N0
    point shares the seed key: shard i sees the same frames whatever the decoder."""
    shard_frames = args.shard_frames or args.batch
    n_shards = -(-args.max_frames // shard_frames)
    return [sweep.Point({"code": args.code, "fading": args.fading, "ebn0_db": float(eb), "decoder": spec,
                         "shard_frames": shard_frames, "max_frames": args.max_frames, "batch": args.batch},
                        n_shards, seed_key=f"{code.name}|{channel_name(args.fading)}|{float(eb)!r}")
            for eb in args.ebn0 for spec in args.decoders]


def point_to_record(code, point, counted, label):
    counts = sweep.sum_results(counted)
    rec = record_from_counts(code, point.params["fading"], point.params["ebn0_db"], counts,
                             uncoded=label == "uncoded")
    rec["decoder"] = label
    rec["fer_limit_normal_approx"] = normal_approx_fer(code.n, code.k, point.params["ebn0_db"])
    return rec


def print_record(rec):
    nl, cps = rec["neg_ln_ber"], rec["codewords_per_s"]
    tqdm.write(f"{rec['decoder']:32s} {rec['ebn0_db']:4.1f} dB  -ln(BER) {nl if nl is None else round(nl, 2)!s:>6}"
               f"  FER {rec['fer']:.2e}  frames {rec['frames']:>7} (fe {rec['frame_errors']})"
               f"  cw/s {'-' if cps is None else int(cps)}")


def line_style(label):
    """Dashed: combinations around BP (hybrid, its network-free control); dash-dot: OSD;
    dotted: SC/SCL; solid: single decoders (hard, BP, ECCT) and uncoded."""
    if label.startswith(("hybrid", "bp_restarts")):
        return "--"
    if label.startswith("osd"):
        return "-."
    if label == "sc" or label.startswith("scl"):
        return ":"
    return "-"


def plot(records, path, title, code):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_ber, ax_fer) = plt.subplots(1, 2, figsize=(11.5, 4.6))
    markers = "osv^Dx*P<>h"
    for i, label in enumerate(dict.fromkeys(r["decoder"] for r in records)):
        mine = [r for r in records if r["decoder"] == label]
        style = dict(marker=markers[i % len(markers)], linestyle=line_style(label), label=label,
                     linewidth=2.0 if line_style(label) == ":" else 1.5)
        ber = [(r["ebn0_db"], r["neg_ln_ber"]) for r in mine if r["neg_ln_ber"] is not None]
        fer = [(r["ebn0_db"], r["fer"]) for r in mine if r["fer"] > 0]
        if ber:
            ax_ber.plot(*zip(*ber), **style)
        if fer:
            ax_fer.plot(*zip(*fer), **style)
    points = sorted({r["ebn0_db"] for r in records})
    grid = np.linspace(points[0], points[-1], 60)
    ax_fer.plot(grid, [normal_approx_fer(code.n, code.k, e) for e in grid], color="black",
                linewidth=2.2, label=f"limit ({code.n},{code.k}), normal approx.")
    ax_ber.set_ylabel("-ln(BER), information bits")
    ax_fer.set_ylabel("FER (frames with an information-bit error)")
    ax_fer.set_yscale("log")
    lowest = min([r["fer"] for r in records if r["fer"] > 0] + [normal_approx_fer(code.n, code.k, grid[-1])])
    ax_fer.set_ylim(bottom=max(1e-7, 0.3 * lowest), top=1.5)
    for ax in (ax_ber, ax_fer):
        ax.set_xlabel("Eb/N0 per information bit (dB)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def markdown_table(records):
    """-ln(BER) with (frame errors / frames) per cell."""
    points = sorted({r["ebn0_db"] for r in records})
    labels = list(dict.fromkeys(r["decoder"] for r in records))
    cell = {(r["decoder"], r["ebn0_db"]): r for r in records}
    lines = ["| decoder | " + " | ".join(f"{p:g} dB" for p in points) + " | cw/s |",
             "|---" * (len(points) + 2) + "|"]
    for label in labels:
        row, speeds = [], []
        for p in points:
            r = cell.get((label, p))
            if r is None:
                row.append("")
                continue
            if r["neg_ln_ber"] is None:   # no bit error seen: no estimate
                row.append(f"no error (0/{r['frames']})")
            else:
                row.append(f"{r['neg_ln_ber']:.2f} ({r['frame_errors']}/{r['frames']})")
            if r["codewords_per_s"]:
                speeds.append(r["codewords_per_s"])
        speed = f"{min(speeds):,.0f}-{max(speeds):,.0f}" if speeds else "-"
        lines.append(f"| {label} | " + " | ".join(row) + f" | {speed} |")
    return "\n".join(lines)


def markdown_fer_table(records, code):
    """FER and -ln(codeword-bit BER) per cell, and the (n, k) normal-approximation limit."""
    points = sorted({r["ebn0_db"] for r in records})
    cell = {(r["decoder"], r["ebn0_db"]): r for r in records}
    lines = ["| decoder | " + " | ".join(f"{p:g} dB" for p in points) + " |",
             "|---" * (len(points) + 1) + "|"]
    for label in dict.fromkeys(r["decoder"] for r in records):
        row = []
        for p in points:
            r = cell.get((label, p))
            if r is None:
                row.append("")
                continue
            coded = "-" if r["neg_ln_ber_coded"] is None else f"{r['neg_ln_ber_coded']:.2f}"
            row.append(f"{r['fer']:.2e} / {coded}")
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    lines.append(f"| limit ({code.n},{code.k}), FER | "
                 + " | ".join(f"{normal_approx_fer(code.n, code.k, p):.2e}" for p in points) + " |")
    return "\n".join(lines)


def measure_speed(decs, code, args):
    """Decoding throughput alone: the same FRAMES frames decoded in one call, 3 times."""
    from gnuradio.lmsscc.fec import simulate_llrs
    _, _, llr = simulate_llrs(code, args.ebn0[0], args.speed, args.fading,
                              rng=np.random.default_rng(args.seed))
    print(f"load average before: {os.getloadavg()}")
    for label, dec in decs:
        if dec is None:
            continue
        dec.decode(llr[:1000])                                    # warm-up
        rates, cpu_rates = [], []
        for _ in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            dec.decode(llr)
            rates.append(args.speed / (time.perf_counter() - t0))
            # CPU time of this process: what one dedicated core would do, whatever else runs.
            cpu_rates.append(args.speed / (time.process_time() - c0))
        print(f"{label:32s} {args.ebn0[0]:g} dB, {args.speed} frames, {args.threads} thread(s): "
              f"{' / '.join(f'{r:,.0f}' for r in sorted(rates))} codewords/s wall-clock, "
              f"{' / '.join(f'{r:,.0f}' for r in sorted(cpu_rates))} per CPU-second (3 runs)")
    print(f"load average after: {os.getloadavg()}")


def main(argv=None):
    args = parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    code = load_code(args.code)
    if args.speed:
        return measure_speed(build_decoders(args.decoders, code), code, args)
    for spec in args.decoders:       # bad specs fail here, before any task; in-process tasks reuse these
        cached_decoder(args.code, spec)
    labels = {spec: spec_label(spec) for spec in args.decoders}
    points = sweep_points(args, code)
    t_start = time.time()
    executor = sweep.make_executor(args)
    runner = sweep.Sweep(points, fec_shard, errors=lambda r: r["frame_errors"], target=args.min_frame_errors,
                         seed=args.seed, journal=args.journal, desc="bench_fec shards",
                         on_point_done=lambda i, counted: print_record(
                             point_to_record(code, points[i], counted, labels[points[i].params["decoder"]])))
    try:
        result = runner.run(executor)
    finally:
        executor.close()
    records = [point_to_record(code, p, counted, labels[p.params["decoder"]])
               for p, counted in zip(points, result.counted)]
    print(f"total {time.time() - t_start:.0f} s, threads={args.threads}, pid {os.getpid()}")
    print(f"sweep: {result.executed} shards run, {result.reused} taken from the journal"
          f"{'' if not args.ray else f', Ray {args.ray}'}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(records, indent=1) + "\n")
    if args.plot:
        fading = "" if args.fading == "none" else f" ({args.fading} fading)"
        plot(records, args.plot, f"{code.name}, {channel_name(args.fading)}{fading}, BPSK", code)
    if args.table:
        print(markdown_table(records))
        print()
        print("FER / -ln(codeword-bit BER):")
        print(markdown_fer_table(records, code))
    return records


if __name__ == "__main__":
    main()
