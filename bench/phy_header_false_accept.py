#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""PHY header false accepts end to end: header codewords of the link's code,
BPSK over AWGN at a low Es/N0 (most headers fail), decoded by BP as the
receiver does, then checked by version 2 (CRC-16, version, modulation,
zero padding, 1 <= codewords <= 4095); and, for comparison, version-1 headers
(24 bits, CRC-8) through the same channel and decoder. Counts, among the
headers that decoded wrong, how many each version accepts.

    nice -n 10 .venv/bin/python bench/phy_header_false_accept.py --headers 1000000 \\
        --json docs/data/phy_header_false_accept.json
"""

import argparse
import json
import time

import numpy as np

from gnuradio.lmsscc.fec import load_code, make_decoder
from gnuradio.lmsscc.phy import channels, frame


def v1_header_bits(mod: int, count: int) -> np.ndarray:
    fields = [(mod >> (3 - i)) & 1 for i in range(4)] + [(count >> (11 - i)) & 1 for i in range(12)]
    return np.array(fields + [(frame.crc8(fields) >> (7 - i)) & 1 for i in range(8)], dtype=np.uint8)


def decode_info(code, bp, info, noise_var, rng):
    words = code.encode(info.reshape(-1, code.k))
    y = (2.0 * words - 1.0) + channels.in_phase_noise(words.shape, noise_var, rng)
    llr = 4.0 * y / noise_var  # the in-phase part of CN(0, noise_var) has variance noise_var / 2
    return code.extract_info(np.asarray(bp.decode(llr), dtype=np.uint8)).reshape(len(info), -1)


def v1_accepts(info: np.ndarray) -> np.ndarray:
    """Version 1's check on the first 24 bits: CRC-8 of 16 field bits, modulation id 0-2."""
    reg = np.zeros(len(info), dtype=np.int64)
    for column in info[:, :16].T.astype(np.int64):
        top = ((reg >> 7) & 1) ^ column
        reg = ((reg << 1) & 0xFF) ^ (top * 0x07)
    weights = 1 << np.arange(7, -1, -1)
    mod = info[:, :4].astype(np.int64) @ (1 << np.arange(3, -1, -1))
    return (reg == info[:, 16:24].astype(np.int64) @ weights) & (mod < 3)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--code", default="LDPC_N49_K24")
    p.add_argument("--headers", type=int, default=100_000)
    p.add_argument("--esn0", type=float, default=-4.0, help="Es/N0 per BPSK symbol, dB")
    p.add_argument("--batch", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json")
    args = p.parse_args()
    code = load_code(args.code)
    bp = make_decoder("bp", code)
    rng = np.random.default_rng(args.seed)
    n_cw = -(-frame.PHY_HEADER_BITS // code.k)
    noise_var = 10 ** (-args.esn0 / 10)
    counts = {"headers": 0, "decoded_wrong": 0, "v2_false_accepts": 0,
              "v1_decoded_wrong": 0, "v1_false_accepts": 0}
    t0 = time.time()
    while counts["headers"] < args.headers:
        b = min(args.batch, args.headers - counts["headers"])
        mods = rng.integers(0, 3, b)
        lengths = rng.integers(1, frame.MAX_CODEWORDS + 1, b)
        names = {v: k for k, v in frame.MODULATION_IDS.items()}
        info = np.zeros((b, n_cw * code.k), dtype=np.uint8)
        for i in range(b):
            info[i, :frame.PHY_HEADER_BITS] = frame.phy_header_bits(names[int(mods[i])], int(lengths[i]))
        decoded = decode_info(code, bp, info, noise_var, rng)
        wrong = np.any(decoded[:, :frame.PHY_HEADER_BITS] != info[:, :frame.PHY_HEADER_BITS], axis=1)
        verdict, _, count = frame.check_phy_headers(decoded)
        accepted = (verdict == frame.HEADER_OK) & (count >= 1)
        counts["headers"] += b
        counts["decoded_wrong"] += int(wrong.sum())
        counts["v2_false_accepts"] += int((accepted & wrong).sum())
        # Version 1: 24 bits, zero-padded to whole codewords, same channel and decoder.
        n_cw1 = -(-24 // code.k)
        info1 = np.zeros((b, n_cw1 * code.k), dtype=np.uint8)
        for i in range(b):
            info1[i, :24] = v1_header_bits(int(mods[i]), int(lengths[i]))
        decoded1 = decode_info(code, bp, info1, noise_var, rng)
        wrong1 = np.any(decoded1[:, :24] != info1[:, :24], axis=1)
        counts["v1_decoded_wrong"] += int(wrong1.sum())
        counts["v1_false_accepts"] += int((v1_accepts(decoded1) & wrong1).sum())
    counts.update(code=args.code, esn0_db=args.esn0, seconds=round(time.time() - t0, 1),
                  header_codewords=n_cw)
    print(json.dumps(counts))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(counts, f, indent=1)


if __name__ == "__main__":
    main()
