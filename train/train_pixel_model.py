#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Train the pixel model's integer tables on the training photographs.

    train_pixel_model.py [--out python/lmsscc/weights/pixel_v2] [--rounds 2] [--resume]

Round 0 fits the linear predictors (ridge least squares over the causal
window, all four sets); every round then runs the C++ model over the
training images and refits the residual shape and the per-context scale
priors from its own predictions. Only data.TRAIN is read for fitting; the
held-out images are coded once at the end for the card. A few minutes on one
core. Writes OUT.safetensors + OUT.json (card: data split, command, per-round
bits per subpixel); a checkpoint after each round in --checkpoint-dir
(--resume starts from it).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(REPO / "python/lmsscc/weights/pixel_v2"),
                   help="output stem: OUT.safetensors and OUT.json")
    p.add_argument("--rounds", type=int, default=2, help="refits of shape and scale priors")
    p.add_argument("--min-shape-scale", type=int, default=16,
                   help="fit the shape on subpixels whose scale is at least this (1/16 units)")
    p.add_argument("--checkpoint-dir", default=str(REPO / ".cache/pixel_train"),
                   help="where the checkpoint of each round goes")
    p.add_argument("--resume", action="store_true", help="start from the checkpoint")
    p.add_argument("--nice", type=int, default=10, help="niceness to run at (0: leave it)")
    return p.parse_args(argv)


def residual_samples(model, images, min_scale, rng):
    """Per set: (buckets, |residual|) of every subpixel, and the normalised
    residuals for the shape fit, from the model's own predictions."""
    from gnuradio.lmsscc.images import training as T

    buckets = [[] for _ in range(T.SETS)]
    abs_res = [[] for _ in range(T.SETS)]
    shape_u = []
    for pixels in tqdm(images, desc="analyse", leave=False):
        a = model.analyse(pixels)
        channels = 1 if pixels.ndim == 2 else 3
        v16 = pixels.reshape(-1).astype(np.int64) * 16
        res = v16 - a["mu"]
        for ch in range(channels):
            s = 0 if channels == 1 else 1 + T.RGB_CODING_ORDER.index(ch)
            buckets[s].append(a["bucket"][ch::channels])
            abs_res[s].append(np.abs(res[ch::channels]))
        keep = (a["scale"] >= min_scale) & (v16 > 0) & (v16 < 255 * 16)
        jitter = rng.uniform(-8, 8, int(keep.sum()))  # spread each integer over its bin
        shape_u.append((res[keep] + jitter) / a["scale"][keep])
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0)  # noqa: E731
    return ([cat(b).astype(np.int64) for b in buckets], [cat(r) for r in abs_res], cat(shape_u))


def bits_per_subpixel(model, images: dict) -> dict:
    return {name: round(8.0 * len(model.encode(px)) / px.size, 4) for name, px in images.items()}


def main(argv=None):
    args = parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    from gnuradio.lmsscc.images import data, pixel_model as pm, training as T

    t0 = time.time()
    out = Path(args.out)
    ckpt = Path(args.checkpoint_dir) / (out.name + ".ckpt.safetensors")
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    train = {n: data.load(n) for n in tqdm(data.TRAIN, desc="load train")}
    rng = np.random.default_rng(0)
    history = []
    if args.resume and ckpt.is_file():
        tables = pm.load_tables(ckpt)
        print(f"resumed from {ckpt}", file=sys.stderr)
    else:
        lin = T.fit_linear(list(train.values()))
        tables = pm.PixelTables(lin, T.logistic_shape(), T.default_scale_prior())
        history.append({"round": 0, "fitted": "lin", "train_bps": bits_per_subpixel(pm.PixelModel(tables), train)})
    for r in tqdm(range(1, args.rounds + 1), desc="rounds"):
        model = pm.PixelModel(tables)
        buckets, abs_res, u = residual_samples(model, list(train.values()), args.min_shape_scale, rng)
        prior = T.fit_scale_prior(buckets, abs_res, T.default_scale_prior())
        tables = pm.PixelTables(tables.lin, T.fit_shape(u), prior)
        pm.save(tables, ckpt.with_suffix(""), {"checkpoint_round": r})
        history.append({"round": r, "fitted": "shape, scale_prior",
                        "train_bps": bits_per_subpixel(pm.PixelModel(tables), train)})
        print(json.dumps(history[-1]), file=sys.stderr)
    held_out = {n: data.load(n) for n in data.TEST}
    final = pm.PixelModel(tables)
    from PIL import __version__ as pillow_version

    card = {
        "model": "pixel model: blended causal predictors (trained linear + NLMS + fixed + cross-channel), "
                 "bias cancellation, adaptive scale, trained residual shape; integer-only (lib/pixel_model.cc)",
        "command": "train/train_pixel_model.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "data": {"train": list(data.TRAIN), "held_out": list(data.TEST),
                 "source": data.describe_split()["source"], "pillow": pillow_version},
        "hyper_parameters": {k: v for k, v in vars(args).items()
                             if k not in ("resume", "out", "checkpoint_dir")},
        "history": history,
        "held_out_bps": bits_per_subpixel(final, held_out),
        "wall_seconds": round(time.time() - t0, 1),
    }
    pm.save(tables, out, card)
    print(json.dumps({"out": str(out), "held_out_bps": card["held_out_bps"]}))


if __name__ == "__main__":
    main()
