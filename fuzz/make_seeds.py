#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the small committed seed corpus (fuzz/corpus/<target>/): valid inputs
that reach deep into each parser, so the fuzzer starts from real structure.
Run once; the seeds are committed. Deterministic."""

import struct
import sys
from pathlib import Path

import numpy as np
from gnuradio.lmsscc import lmsscc_python as k
from gnuradio.lmsscc.phy import frame
from gnuradio.lmsscc.source import message as fmt

CORPUS = Path(__file__).resolve().parent / "corpus"


def range_seed(precision, mode, n, seed):
    rng = np.random.default_rng(seed)
    weights = rng.integers(0, 256, n, dtype=np.uint8)
    probs = weights.astype(np.float32)
    probs[0] += 1.0
    cdf = k.probs_to_cdf(probs, precision)
    symbols = [int(s) for s in rng.integers(0, n, 40) if cdf[s + 1] > cdf[s]]
    enc = k.RangeEncoder(precision)
    for s in symbols:
        enc.encode_symbol(cdf, s)
    head = bytes([precision, mode]) + struct.pack(">H", n - 1)
    return head + weights.tobytes() + bytes(enc.finish())


def message_seeds():
    v1 = fmt.pack(fmt.Header(b"\x01\x02\x03", 5, 0xDEADBEEF), b"\x55\xaa\x10")
    v2 = fmt.pack(fmt.Header(b"\x07", 300, 0xBEEF, 2, fmt.FLAG_HISTORY | fmt.FLAG_CRC16 | fmt.FLAG_PRIMED,
                             seq=4000, depth=3), b"\x01")
    return [v1, v2]


def lean_seeds():
    """Version-3 headers (range-coded), prefixed with the precision byte."""
    headers = [(24, fmt.LeanHeader(fmt.KIND_SINGLE, 0xBEEF, b"\x07")),
               (24, fmt.LeanHeader(fmt.KIND_CONTINUATION, 0x1234, seq=9)),
               (16, fmt.LeanHeader(fmt.KIND_KEYFRAME, 0x0F0F, b"\xfe", seq=15, tokens=1000))]
    out = []
    for precision, header in headers:
        enc = k.RangeEncoder(precision)
        fmt.write_lean_header(enc, precision, header)
        out.append(bytes([precision - 1]) + bytes(enc.finish()) + b"\x5a\xa5")
    return out


def parser_seeds():
    """Target byte 0 selects the parser (see fuzz_parsers.py)."""
    seeds = [bytes([0]) + m for m in message_seeds()]
    seeds.append(bytes([1]) + frame.build_frame(message_seeds()[0], 513))
    seeds.append(bytes([2]) + np.packbits(frame.phy_header_bits("qpsk", 77)).tobytes())
    seeds += [bytes([4]) + m for m in lean_seeds()]
    return seeds


def main():
    seeds = {
        "range": [range_seed(24, 0, 300, 1), range_seed(16, 2, 50, 2), range_seed(1, 0, 2, 3),
                  range_seed(31, 0, 1024, 4), range_seed(12, 1, 20, 5)],
        "parsers": parser_seeds(),
    }
    for target, items in seeds.items():
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(items):
            (folder / f"seed-{i:02d}").write_bytes(data)
    print({t: len(v) for t, v in seeds.items()}, file=sys.stderr)


if __name__ == "__main__":
    main()
