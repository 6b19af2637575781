#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""img_zip: lossless image compression with the pixel model and a range coder.

    img_zip.py compress IN OUT [--model pixel] [--stats]
    img_zip.py decompress IN OUT [--stats]

IN for compress: a PNG, PPM, PGM or any image Pillow reads, 8-bit grey or
RGB (alpha and palettes become RGB), any size up to 64 Mpixel. OUT for
decompress: PNG, or PPM/PGM by its suffix. The file records the model's
fingerprint and a CRC, so `decompress IN OUT` needs no flags. --stats prints
one JSON object (bits per subpixel, sizes, speed) on stdout. Bad input ends
with one error line on stderr and exit status 1.
"""

import argparse
import json
import sys
from pathlib import Path

# A coded file above this is refused before it is read (64 Mpixel RGB at 9 bits each fits).
MAX_FILE_BYTES = 256 << 20


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["compress", "decompress"])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--model", default="pixel", choices=["pixel"],
                   help="image model (pixel: the trained pixel model, the default)")
    p.add_argument("--weights", help="pixel model tables: a shipped name or a .safetensors file "
                                     "(default: the shipped pixel_v2)")
    p.add_argument("--stats", action="store_true", help="print a JSON object of statistics")
    return p.parse_args(argv)


def read_coded(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path}: {size:,} bytes is larger than any image file this writes")
    return path.read_bytes()


def run(args) -> dict:
    from gnuradio.lmsscc.images import codec, imageio

    src, dst = Path(args.input), Path(args.output)
    if args.mode == "compress":
        pixels = imageio.read_image(src)
        data, stats = codec.compress(pixels, model=args.model, weights=args.weights)
        dst.write_bytes(data)
    else:
        if not src.is_file():
            raise ValueError(f"{src}: no such file")
        pixels, stats = codec.decompress(read_coded(src), weights=args.weights)
        imageio.write_image(pixels, dst)
    return {"mode": args.mode, **stats.as_dict()}


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        stats = run(args)
    except (ValueError, OSError) as e:  # ImageInputError and ContainerError are ValueErrors
        print(f"img_zip: error: {e}", file=sys.stderr)
        return 1
    if args.stats:
        print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
