#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Train an ECCT decoder (Choukroun & Wolf 2022) for a benchmark code, on the all-zero codeword.

Example (the shipped LDPC(49,24) AWGN model):
  nice -n 10 .venv/bin/python train/train_ecct.py --code LDPC_N49_K24 --fading none \
      --layers 2 --d-model 32 --heads 2 --minutes 60 --threads 1 \
      --out python/lmsscc/weights/ecct_LDPC_N49_K24_awgn

All-zero training is exact for linear codes on sign-symmetric channels (AWGN, Rayleigh with CSI):
the model sees only |LLR| and the syndrome, and predicts whether each hard decision is wrong; none
of these depends on which codeword was sent (docs/channel_coding.md). The final metrics in the card
are measured on RANDOM codewords, which checks that claim.

Checkpoints (safetensors: model + Adam state, progress in the metadata) are written every
--ckpt-minutes and at the end; --resume continues from one. Nothing is ever unpickled.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from gnuradio.lmsscc import ddp
from gnuradio.lmsscc.fec import decoders, evaluate
from gnuradio.lmsscc.fec.codes import load_code
from gnuradio.lmsscc.fec.ecct import (VARIANTS, ECCT, ECCTConfig, count_parameters, decide,
                                          llr_to_reliability)
from gnuradio.lmsscc.fec.weights import load_ecct, save_ecct
from gnuradio.lmsscc.phy import channels


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--code", required=True, help="code name (e.g. LDPC_N49_K24) or H file path")
    p.add_argument("--fading", choices=channels.FADING, default="none",
                   help="none = AWGN; fast = per-symbol Rayleigh fading (the shipped *_rayleigh weights), "
                        "block = one gain per codeword; the receiver knows the gains")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--d-model", type=int, default=32)
    p.add_argument("--heads", type=int, default=None, help="default 8 (paper) / 2 (legacy)")
    p.add_argument("--variant", choices=VARIANTS, default="paper",
                   help="paper = published mask, Glorot init, mid-stack LayerNorm; legacy = the first "
                        "shipped model (also check-check attention, default init)")
    p.add_argument("--clip-grad", type=float, default=None,
                   help="clip the gradient norm to this value before each step; 0 = off "
                        "(default 1.0 for the paper variant, off for legacy)")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help="bfloat16 autocast for forward/backward (weights and Adam state stay fp32). Default: "
                        "on for CUDA and for CPUs with native bf16 (avx512_bf16 / AMX), where it measured "
                        "1.6x the fp32 training rate at the same loss (docs/data/ecct_bf16.json); off elsewhere")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="what --minutes measures: wall-clock time or this process's CPU time "
                        "(cpu: fair A/B runs on a shared machine)")
    p.add_argument("--ebn0-min", type=float, default=None, help="dB; default 2 (AWGN) / 4 (fading)")
    p.add_argument("--ebn0-max", type=float, default=None, help="dB; default 7 (AWGN) / 12 (fading)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--min-lr", type=float, default=1e-5)
    p.add_argument("--warmup-steps", type=int, default=300)
    p.add_argument("--steps", type=int, default=200_000, help="schedule length (ignored with --minutes)")
    p.add_argument("--minutes", type=float, default=None,
                   help="wall-clock budget: the cosine schedule runs over this time instead of --steps")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output path stem: writes STEM.safetensors and STEM.json")
    p.add_argument("--ckpt", default=None, help="checkpoint file (default STEM.ckpt.safetensors)")
    p.add_argument("--ckpt-minutes", type=float, default=3.0)
    p.add_argument("--record", default=None,
                   help="also write a JSON run record here (config, training state, final metrics)")
    p.add_argument("--eval-on-device", action="store_true",
                   help="final metrics: ECCT on --device with codewords and noise drawn there (fast on "
                        "a GPU, for >= 1 M frames), BP-50 on the host on --eval-bp-frames frames")
    p.add_argument("--eval-bp-frames", type=int, default=20_000)
    p.add_argument("--eval-batch", type=int, default=65_536)
    p.add_argument("--resume", action="store_true", help="continue from --ckpt if it exists")
    p.add_argument("--init-from", default=None,
                   help="start from trained weights (a shipped name or path): their card's architecture "
                        "(layers, d_model, heads, variant) replaces --layers/--d-model/--heads/--variant; "
                        "fresh Adam state and schedule. Ignored when --resume finds a checkpoint")
    p.add_argument("--export-only", action="store_true",
                   help="no training: write STEM.safetensors/.json from the checkpoint (e.g. mid-run)")
    p.add_argument("--eval-ebn0", type=float, nargs="*", default=None,
                   help="Eb/N0 points for the card's final metrics (default 4 5 6 AWGN / 6 8 10 fading)")
    p.add_argument("--eval-frames", type=int, default=20_000)
    p.add_argument("--eval-decoders", nargs="+", choices=("ecct", "bp50", "hybrid_bp50_then_ecct"),
                   default=["ecct", "bp50", "hybrid_bp50_then_ecct"],
                   help="decoders of the card's final metrics (BP on dense codes is slow)")
    ddp.add_cli_options(p)
    return p.parse_args(argv)


def default_ranges(args):
    awgn = args.fading == "none"
    lo = args.ebn0_min if args.ebn0_min is not None else (2.0 if awgn else 4.0)
    hi = args.ebn0_max if args.ebn0_max is not None else (7.0 if awgn else 12.0)
    ev = args.eval_ebn0 if args.eval_ebn0 is not None else ([4.0, 5.0, 6.0] if awgn else [6.0, 8.0, 10.0])
    return lo, hi, ev


def sample_batch(batch, n, rate, lo_db, hi_db, fading, gen, device):
    """All-zero codeword (bit 0 -> symbol -1), per-sample Eb/N0 ~ U[lo, hi] dB, the package's
    channel (phy/channels.py, torch twin; a coherent receiver sees the gain's amplitude). Returns
    model input (package LLRs turned into reliabilities) and the flip targets."""
    ebn0_db = lo_db + (hi_db - lo_db) * torch.rand(batch, 1, generator=gen, device=device)
    sigma = torch.sqrt(1.0 / (2.0 * rate * 10.0 ** (ebn0_db / 10.0)))
    gain = channels.torch_fading_gains((batch, n), fading, gen, device).abs()
    y = -gain + channels.torch_in_phase_noise((batch, n), 2.0 * sigma ** 2, gen, device)
    llr = 2.0 * gain * y / sigma ** 2
    reliab = llr_to_reliability(llr)
    return reliab, (reliab < 0).float()    # all-zero word: a bit is flipped iff its reliability < 0


def cpu_has_native_bf16():
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolved_bf16(args):
    if args.bf16 is not None:
        return bool(args.bf16)
    return str(args.device).startswith("cuda") or cpu_has_native_bf16()


def resolved_heads(args):
    return args.heads if args.heads is not None else (8 if args.variant == "paper" else 2)


def resolved_clip(args):
    if args.clip_grad is not None:
        return args.clip_grad
    return 1.0 if args.variant == "paper" else 0.0


def autocast_context(args):
    """bf16 autocast on the training device, or a no-op context."""
    device_type = "cuda" if str(args.device).startswith("cuda") else "cpu"
    return torch.autocast(device_type, dtype=torch.bfloat16, enabled=resolved_bf16(args))


def train_step(model, opt, reliab, target, clip_norm, autocast, loss_scale=1.0):
    """One Adam step; returns the (detached, device) loss. The gradient norm is clipped to
    clip_norm (> 0) before the optimizer sees it. loss_scale only exists for the tests."""
    with autocast:
        logits = model(reliab)
    loss = F.binary_cross_entropy_with_logits(logits.float(), target)
    opt.zero_grad(set_to_none=True)
    (loss * loss_scale).backward()
    if clip_norm > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    opt.step()
    return loss.detach()


def lr_at(progress, args):
    """Linear warm-up then cosine decay from --lr to --min-lr; progress in [0, 1]."""
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def save_checkpoint(path, model, opt, state):
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for i, group_state in enumerate(opt.state_dict()["state"].values()):
        for key, val in group_state.items():
            tensors[f"opt.{i}.{key}"] = torch.as_tensor(val).detach().cpu().reshape(-1).clone() \
                if key == "step" else val.detach().cpu().contiguous()
    save_file(tensors, str(path), metadata={"state": json.dumps(state)})


def load_checkpoint(path, model, opt):
    from safetensors import safe_open
    with safe_open(str(path), framework="pt") as f:
        state = json.loads(f.metadata()["state"])
    tensors = load_file(str(path), device=str(next(model.parameters()).device))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    params = list(model.parameters())
    opt_sd = opt.state_dict()
    for i in range(len(params)):
        if f"opt.{i}.exp_avg" in tensors:
            opt_sd["state"][i] = {"step": tensors[f"opt.{i}.step"].reshape(()).cpu(),
                                  "exp_avg": tensors[f"opt.{i}.exp_avg"],
                                  "exp_avg_sq": tensors[f"opt.{i}.exp_avg_sq"]}
    opt.load_state_dict(opt_sd)
    return state


def train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    code = load_code(args.code)
    lo, hi, eval_points = default_ranges(args)
    init_card = None
    if args.init_from:
        model, init_card, init_code = load_ecct(args.init_from)
        if init_code.sha256 != code.sha256:
            raise SystemExit(f"--init-from {args.init_from}: trained for {init_code.name}, not {code.name}")
        cfg = model.cfg
        args.layers, args.d_model, args.heads, args.variant = cfg.layers, cfg.d_model, cfg.heads, cfg.variant
        model.train()
    else:
        cfg = ECCTConfig(n=code.n, m=code.H.shape[0], layers=args.layers, d_model=args.d_model,
                         heads=resolved_heads(args), variant=args.variant)
        model = ECCT(cfg, code.H)
    clip_norm = resolved_clip(args)
    device = args.device
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    ckpt = Path(args.ckpt or f"{args.out}.ckpt.safetensors")
    state = {"step": 0, "samples": 0, "train_seconds": 0.0, "loss_ema": None}
    if init_card is not None:
        state["init_from"] = {"weights": str(args.init_from),
                              "samples_seen": init_card["training"]["samples_seen"],
                              "wall_time_s": init_card["training"]["wall_time_s"]}
    if args.export_only and not ckpt.is_file():
        raise SystemExit(f"--export-only: no checkpoint {ckpt}")
    if (args.resume or args.export_only) and ckpt.is_file():
        state = load_checkpoint(ckpt, model, opt)
        print(f"resumed from {ckpt}: step {state['step']}, {state['samples']} samples")
    gen = torch.Generator(device=device)
    gen.manual_seed(args.seed * 1_000_003 + state["step"])
    budget_s = args.minutes * 60.0 if args.minutes else None

    clock = time.process_time if args.clock == "cpu" else time.time
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True

    def progress():
        if budget_s:
            return state["train_seconds"] / budget_s
        return state["step"] / args.steps

    bar = tqdm(total=int(budget_s) if budget_s else args.steps, initial=int(state["train_seconds"])
               if budget_s else state["step"], unit="s" if budget_s else "step", mininterval=30,
               bar_format="{l_bar}{bar}| {n:.0f}/{total} [{elapsed}<{remaining}{postfix}]")
    last_ckpt = time.time()
    model.train()
    autocast = autocast_context(args)
    # The loss EMA stays on the device and is read only when logging/checkpointing: no host round
    # trip per step on a GPU.
    loss_ema = None if state["loss_ema"] is None else torch.tensor(state["loss_ema"], device=device)
    while progress() < 1.0 and not args.export_only:
        t0 = clock()
        warm = min(1.0, (state["step"] + 1) / max(1, args.warmup_steps))
        for g in opt.param_groups:
            g["lr"] = warm * lr_at(progress(), args)
        reliab, target = sample_batch(args.batch, code.n, code.rate, lo, hi, args.fading, gen, device)
        loss = train_step(model, opt, reliab, target, clip_norm, autocast)
        loss_ema = loss if loss_ema is None else 0.99 * loss_ema + 0.01 * loss
        dt_s = clock() - t0
        state["step"] += 1
        state["samples"] += args.batch
        state["train_seconds"] += dt_s
        bar.update(min(dt_s, bar.total - bar.n) if budget_s else 1)
        if state["step"] % 50 == 0:
            state["loss_ema"] = float(loss_ema)
            bar.set_postfix(loss=f"{state['loss_ema']:.4f}", lr=f"{opt.param_groups[0]['lr']:.2e}",
                            samples=state["samples"])
        if time.time() - last_ckpt > args.ckpt_minutes * 60:
            state["loss_ema"] = float(loss_ema)
            save_checkpoint(ckpt, model, opt, state)
            last_ckpt = time.time()
    if loss_ema is not None:
        state["loss_ema"] = float(loss_ema)
    bar.close()
    if not args.export_only:
        save_checkpoint(ckpt, model, opt, state)
    return code, cfg, model, state, (lo, hi), eval_points


def final_metrics(args, code, model, eval_points):
    """-ln(BER) of the trained model on random codewords (the card's 'final metrics')."""
    if args.eval_on_device:
        return device_metrics(args, code, model, eval_points)
    model.eval().cpu()
    dec = decoders.ECCTDecoder.__new__(decoders.ECCTDecoder)
    dec.model, dec.code, dec.device, dec.chunk = model, code, "cpu", 64
    bp = decoders.BPSumProduct(code)
    hybrid = decoders.HybridBPECCT.__new__(decoders.HybridBPECCT)
    hybrid.ecct, hybrid.code, hybrid.bp, hybrid.last_rescued = dec, code, bp.bp, 0
    out = []
    for eb in eval_points:
        for name, d in (("ecct", dec), ("bp50", bp), ("hybrid_bp50_then_ecct", hybrid)):
            if name not in args.eval_decoders:
                continue
            r = evaluate.measure_point(d, code, eb, args.fading, max_frames=args.eval_frames,
                                       min_frame_errors=10 ** 9, seed=12345)
            out.append({"decoder": name, "ebn0_db": eb, "frames": r["frames"],
                        "bit_errors": r["bit_errors"], "neg_ln_ber": r["neg_ln_ber"]})
            print(f"  {name:5s} Eb/N0 {eb:4.1f} dB: -ln(BER) = {r['neg_ln_ber']}")
    return out


def random_codeword_llrs(code, generator_t, batch, ebn0_db, gen, device):
    """Random information words encoded on the device (G as a float matrix, mod 2), BPSK, AWGN;
    returns (info bits (B, k) bool, package LLRs (B, n)). AWGN only."""
    info = torch.randint(0, 2, (batch, code.k), generator=gen, device=device, dtype=torch.float32)
    codeword = torch.remainder(info @ generator_t, 2.0)
    sigma = math.sqrt(1.0 / (2.0 * code.rate * 10.0 ** (ebn0_db / 10.0)))
    y = (2.0 * codeword - 1.0) + channels.torch_in_phase_noise((batch, code.n), 2.0 * sigma ** 2, gen, device)
    return info.bool(), 2.0 * y / sigma ** 2


def device_metrics(args, code, model, eval_points):
    """ECCT -ln(BER) on >= --eval-frames random codewords per point, everything on --device (the
    counts come back to the host once per chunk); BP-50 on the host on --eval-bp-frames frames."""
    if args.fading != "none":
        raise SystemExit("--eval-on-device supports --fading none (AWGN) only")
    device = args.device
    model.eval()
    generator_t = torch.as_tensor(code.G, dtype=torch.float32, device=device)
    info_pos = torch.as_tensor(code.info_positions, device=device)
    gen = torch.Generator(device=device)
    gen.manual_seed(12345)
    bp = decoders.BPSumProduct(code)
    out = []
    for eb in eval_points:
        frames = bit_errors = frame_errors = 0
        t0 = time.time()
        with torch.inference_mode():
            while frames < args.eval_frames:
                batch = min(args.eval_batch, args.eval_frames - frames)
                # Encoding stays in fp32 (outside autocast): exact for any k.
                info, llr = random_codeword_llrs(code, generator_t, batch, eb, gen, device)
                reliab = llr_to_reliability(llr)
                with autocast_context(args):
                    flip_logits = model(reliab).float()
                bits = decide(reliab, flip_logits).bool()
                wrong = bits[:, info_pos] != info
                bit_errors += int(wrong.sum())
                frame_errors += int(wrong.any(dim=1).sum())
                frames += batch
        seconds = time.time() - t0
        out.append(point_record("ecct", eb, frames, frame_errors, bit_errors, code.k, seconds))
        r = evaluate.measure_point(bp, code, eb, args.fading, max_frames=args.eval_bp_frames,
                                   min_frame_errors=10 ** 9, seed=12345)
        out.append({"decoder": "bp50", "ebn0_db": eb, "frames": r["frames"], "bit_errors": r["bit_errors"],
                    "frame_errors": r.get("frame_errors"), "neg_ln_ber": r["neg_ln_ber"]})
        print(f"  ecct Eb/N0 {eb:4.1f} dB: -ln(BER) = {out[-2]['neg_ln_ber']} ({frames} frames, "
              f"{frames / seconds:,.0f} cw/s); bp50 {r['neg_ln_ber']} ({r['frames']} frames)")
    return out


def point_record(decoder, ebn0_db, frames, frame_errors, bit_errors, k, seconds):
    ber = bit_errors / (frames * k)
    return {"decoder": decoder, "ebn0_db": ebn0_db, "frames": frames, "frame_errors": frame_errors,
            "bit_errors": bit_errors, "ber": ber, "neg_ln_ber": -math.log(ber) if ber > 0 else None,
            "codewords_per_s": frames / seconds if seconds > 0 else None}


# -- --workers N: data-parallel training on Ray Train (python/lmsscc/ddp.py) --------------------------
def ddp_worker_loop(config):
    """One Ray Train worker: its share of each global batch, its own noise; rank 0's clock and step
    count set the schedule of all (ddp.shared_schedule). The EMA loss reported is rank 0's."""

    args = argparse.Namespace(**config["args"])
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)                  # the same initial weights as single-process training
    rank, size = ddp.world()
    code = load_code(args.code)
    lo, hi, _ = default_ranges(args)
    model = ddp.prepare(ECCT(ECCTConfig(n=code.n, m=code.H.shape[0], layers=args.layers, d_model=args.d_model,
                                        heads=resolved_heads(args), variant=args.variant), code.H))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator()
    gen.manual_seed(args.seed * 1_000_003 + 7_919 * rank)
    batch, clip_norm, autocast = ddp.local_batch(args.batch, rank, size), resolved_clip(args), autocast_context(args)
    state = {"step": 0, "samples": 0, "train_seconds": 0.0, "loss_ema": None, "workers": size}
    budget_s, t0, loss_ema = (args.minutes * 60.0 if args.minutes else None), time.time(), None
    model.train()
    while True:
        progress = ddp.shared_schedule((time.time() - t0) / budget_s if budget_s else state["step"] / args.steps)
        if progress >= 1.0:
            break
        for g in opt.param_groups:
            g["lr"] = min(1.0, (state["step"] + 1) / max(1, args.warmup_steps)) * lr_at(progress, args)
        reliab, target = sample_batch(batch, code.n, code.rate, lo, hi, args.fading, gen, "cpu")
        loss = train_step(model, opt, reliab, target, clip_norm, autocast)
        loss_ema = loss if loss_ema is None else 0.99 * loss_ema + 0.01 * loss
        state["step"] += 1
        state["samples"] += args.batch
    state["train_seconds"] = time.time() - t0
    state["loss_ema"] = None if loss_ema is None else float(loss_ema)
    ddp.report_final(model, state)


def train_with_workers(args):
    """train()'s result from --workers Ray Train workers (no checkpoints/resume on this path)."""

    if args.resume or args.init_from or args.export_only or args.device != "cpu":
        raise SystemExit("--workers: fresh CPU runs only (no --resume/--init-from/--export-only/--device)")
    code = load_code(args.code)
    lo, hi, eval_points = default_ranges(args)
    cfg = ECCTConfig(n=code.n, m=code.H.shape[0], layers=args.layers, d_model=args.d_model,
                     heads=resolved_heads(args), variant=args.variant)
    model = ECCT(cfg, code.H)
    weights, state = ddp.fit(ddp_worker_loop, {"args": vars(args)}, args.workers, ray_address=args.ray,
                             name=f"train_ecct_{Path(args.out).name}", storage=args.ray_storage)
    model.load_state_dict(weights)
    print(f"{args.workers} worker(s): {state['samples']} samples in {state['train_seconds']:.1f} s, "
          f"{state['samples'] / state['train_seconds']:,.0f} samples/s")
    return code, cfg, model, state, (lo, hi), eval_points


def main(argv=None):
    args = parse_args(argv)
    code, cfg, model, state, (lo, hi), eval_points = (train_with_workers if args.workers else train)(args)
    metrics = final_metrics(args, code, model, eval_points)
    card = {
        "model": "ECCT (pure transformer decoder; Choukroun & Wolf, NeurIPS 2022, implemented from the paper)",
        "code": code.name, "code_n": code.n, "code_k": code.k, "code_sha256": code.sha256,
        "config": cfg.to_dict(), "parameters": count_parameters(model),
        "channel": channels.channel_name(args.fading), "fading": args.fading,
        "channel_note": "BPSK over python/lmsscc/phy/channels.py; Rayleigh gains E|h|^2=1, CSI-aware LLRs",
        "input": "package LLRs (positive -> bit 1), negated and divided by the frame's mean |LLR|",
        "output": "per-bit flip logits; decoded bit = hard decision XOR (logit > 0)",
        "hybrid_note": ("the same weights also serve the HYBRID decoder HybridBPECCT: BP-50 first; only on frames "
                        "whose BP output fails the syndrome check, this ECCT's output seeds BP restarts and the most "
                        "likely valid codeword is kept. 'ecct' metrics below are the pure transformer, "
                        "'hybrid_*' the hybrid."),
        "training": {"codeword": "all-zero", "ebn0_db_range": [lo, hi], "ebn0_convention": "per information bit",
                     "batch": args.batch, "optimizer": "Adam", "lr_peak": args.lr, "lr_min": args.min_lr,
                     "grad_clip_norm": resolved_clip(args), "bf16_autocast": resolved_bf16(args),
                     "budget_clock": args.clock,
                     "warmup_steps": args.warmup_steps, "schedule": "cosine over the wall-clock budget"
                     if args.minutes else f"cosine over {args.steps} steps",
                     "init_from": state.get("init_from"),
                     "steps": state["step"], "samples_seen": state["samples"],
                     "wall_time_s": round(state["train_seconds"], 1), "threads": args.threads,
                     "device": args.device, "final_loss_ema": state["loss_ema"], "seed": args.seed,
                     "samples_per_s": state["samples"] / state["train_seconds"] if state["train_seconds"] else None,
                     "schedule_completed": (state["train_seconds"] / (args.minutes * 60.0)) if args.minutes
                     else state["step"] / args.steps},
        "data_parallel_workers": state.get("workers"),
        "final_metrics": {"note": "random codewords, info-bit BER, BP-50 on the same frames",
                          "frames_per_point": args.eval_frames, "points": metrics},
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__, "host": platform.machine(),
        "device_name": torch.cuda.get_device_name(0) if str(args.device).startswith("cuda") else platform.processor(),
    }
    st, js = save_ecct(model.cpu(), args.out, card)
    print(f"wrote {st} and {js}")
    if args.record:
        record = {"command": "train/train_ecct.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                  "weights": str(st), "card": str(js), **{k: card[k] for k in
                  ("code", "code_n", "code_k", "config", "parameters", "channel", "fading", "training",
                   "final_metrics", "created_utc", "torch", "device_name")}}
        Path(args.record).parent.mkdir(parents=True, exist_ok=True)
        Path(args.record).write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.record}")


if __name__ == "__main__":
    main()
