#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lossless image coding on the held-out photographs: the pixel model against
PNG, WebP lossless and JPEG-XL lossless at their strongest settings, bits per
subpixel and encode/decode speed (one thread each), measured in one run.

    nice .venv/bin/python bench/bench_image.py [--images held_out|train|all|NAME,...]
        [--crop N] [--out docs/data/image_lossless.json] [--plot docs/images_lossless.png]

Every codec's output is decoded again and compared with the input pixels.
The record lists per image and codec: bytes, bits per subpixel, encode and
decode subpixels per second; and per codec the total over the images (all
bits / all subpixels) and its ratio to JPEG-XL.
"""

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CODECS = ("pixel", "png", "webp_ll", "jxl_ll")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", default="held_out", help="held_out (default), train, all, or names")
    p.add_argument("--crop", type=int, default=0, help="code only the top-left N x N of each image")
    p.add_argument("--codecs", default=",".join(CODECS))
    p.add_argument("--out", default=str(REPO / "docs/data/image_lossless.json"))
    p.add_argument("--plot", default=str(REPO / "docs/images_lossless.png"), help="'' for none")
    return p.parse_args(argv)


def image_names(spec):
    from gnuradio.lmsscc.images import data

    sets = {"held_out": data.TEST, "train": data.TRAIN, "all": tuple(data.IMAGES)}
    names = sets.get(spec, tuple(spec.split(",")))
    unknown = [n for n in names if n not in data.IMAGES]
    if unknown:
        raise SystemExit(f"bench_image: unknown image(s) {', '.join(unknown)}")
    return names


def pixel_codec(pixels):
    from gnuradio.lmsscc.images import codec

    data, enc = codec.compress(pixels)
    t0 = time.perf_counter()
    back, _ = codec.decompress(data)
    t_dec = time.perf_counter() - t0
    if not np.array_equal(back, pixels):
        raise RuntimeError("pixel model: round trip differs")
    return len(data), enc.seconds, t_dec


def measure(codec_name, pixels):
    from gnuradio.lmsscc.images import anchors

    if codec_name == "pixel":
        size, t_enc, t_dec = pixel_codec(pixels)
    else:
        r = anchors.ANCHORS[codec_name](pixels)
        size, t_enc, t_dec = r.bytes, r.encode_s, r.decode_s
    n = pixels.size
    return {"bytes": size, "bits_per_subpixel": round(8.0 * size / n, 4),
            "encode_subpixels_per_s": round(n / t_enc), "decode_subpixels_per_s": round(n / t_dec)}


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return None


def totals(results, codecs):
    out = {}
    subpixels = sum(r["subpixels"] for r in results.values())
    for c in codecs:
        bits = sum(8 * r["codecs"][c]["bytes"] for r in results.values())
        out[c] = {"bits_per_subpixel": round(bits / subpixels, 4)}
    if "jxl_ll" in out:
        for c in codecs:
            out[c]["vs_jxl_ll"] = round(out[c]["bits_per_subpixel"] / out["jxl_ll"]["bits_per_subpixel"], 4)
    return out


def plot(record, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(record["images"])
    codecs = record["codecs"]
    labels = {"pixel": "pixel model (this)", "png": "PNG -9", "webp_ll": "WebP-LL -z 9", "jxl_ll": "JPEG-XL -d 0 -e 9"}
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / len(codecs)
    for i, c in enumerate(codecs):
        values = [record["images"][n]["codecs"][c]["bits_per_subpixel"] for n in names]
        ax.bar(np.arange(len(names)) + (i - (len(codecs) - 1) / 2) * width, values, width, label=labels.get(c, c))
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylabel("bits per subpixel")
    ax.set_title("Lossless coding of the held-out photographs (lower is better)")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    args = parse_args(argv)
    from PIL import __version__ as pillow_version
    from tqdm import tqdm

    from gnuradio.lmsscc.images import data, pixel_model

    codecs = tuple(args.codecs.split(","))
    results = {}
    for name in tqdm(image_names(args.images), desc="images"):
        pixels = data.load(name)
        if args.crop:
            pixels = np.ascontiguousarray(pixels[: args.crop, : args.crop])
        results[name] = {"shape": list(pixels.shape), "subpixels": int(pixels.size),
                         "set": "held_out" if name in data.TEST else "train",
                         "codecs": {c: measure(c, pixels) for c in codecs}}
    model = pixel_model.load()
    record = {
        "command": "bench/bench_image.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "codecs": list(codecs),
        "settings": {"png": "Pillow optimize=True compress_level=9", "webp_ll": "cwebp -lossless -z 9 -exact",
                     "jxl_ll": "cjxl -d 0 -e 9 --num_threads=0", "pixel": f"pixel model {model.name}"},
        "pixel_model": {"name": model.name, "fingerprint": model.fingerprint.hex(),
                        "kernel_version": pixel_model.KERNEL_VERSION},
        "split": {"train": list(data.TRAIN), "held_out": list(data.TEST)},
        "crop": args.crop,
        "images": results,
        "total": totals(results, codecs),
        "versions": {"pillow": pillow_version, "cjxl": tool_version(["cjxl", "--version"]),
                     "cwebp": tool_version(["cwebp", "-version"]), "python": platform.python_version()},
        "machine": {"cpu": platform.processor() or platform.machine(), "threads": 1,
                    "note": "one thread per codec; the shared machine's load moves the speeds"},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    if args.plot:
        plot(record, args.plot)
    print(json.dumps(record["total"]))


if __name__ == "__main__":
    main()
