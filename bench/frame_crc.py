#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Chooses the link frame's CRC-16 (frame version 2): the Hamming distance of
each candidate polynomial over the frame lengths the link carries (a frame of
n data bits plus 16 check bits; every error pattern of fewer than HD bits is
detected), checked exactly up to HD 6 with the syndromes of single-bit errors.

A decoding failure of the channel decoder usually leaves many wrong bits, which
any 16-bit CRC misses with probability about 2^-16; HD decides the few-bit
errors (a wrong hard decision here and there), so the polynomial with the
largest HD over the usual lengths is taken, then the one that misses the fewest
4-bit patterns on a 256-bit frame; the standard ones compared.

    nice -n 10 .venv/bin/python bench/frame_crc.py --json docs/data/frame_crc.json
"""

import argparse
import json

import numpy as np

# normal (MSB-first) form, x^16 implicit; standard CRC-16s and the PHY header's
CANDIDATES = {
    "0x1021": "CRC-16/CCITT (X.25, XMODEM)",
    "0x8005": "CRC-16/ARC (IBM)",
    "0x8bb7": "CRC-16/T10-DIF",
    "0x3d65": "CRC-16/DNP, EN-13757",
    "0xc867": "CRC-16/CDMA2000",
    "0x0589": "CRC-16/DECT",
    "0x1dcf": "CRC-16/PROFIBUS",
    "0x5935": "CRC-16/OPENSAFETY-A",
    "0x755b": "CRC-16/OPENSAFETY-B",
    "0xa097": "CRC-16/TELEDISK",
    "0x2f15": "the PHY header's (bench/phy_header_crc.py)",
}
LENGTHS = (64, 128, 192, 256, 320, 384, 448, 512, 768, 1024)  # frame data bits


def syndromes(poly: int, n: int) -> np.ndarray:
    """x^i mod g(x) for i = 0..n-1: the CRC remainder of a single-bit error at each position."""
    out = np.empty(n, dtype=np.int64)
    reg = 1
    for i in range(n):
        out[i] = reg
        reg <<= 1
        if reg & 0x10000:
            reg ^= 0x10000 | poly
    return out


def hamming_distance(poly: int, data_bits: int, cap: int = 6) -> int:
    """Smallest weight of an undetected error pattern on data_bits + 16 bits, or cap if none below it."""
    s = syndromes(poly, data_bits + 16)
    if len(np.unique(s)) < len(s):
        return 2
    singles = np.zeros(1 << 16, dtype=bool)
    singles[s] = True
    i, j = np.triu_indices(len(s), 1)
    pairs = s[i] ^ s[j]
    if singles[pairs].any():  # s_i ^ s_j = s_k: weight 3 (k differs from i, j: syndromes are distinct)
        return 3
    if len(np.unique(pairs)) < len(pairs):  # two different pairs with the same syndrome: weight 4
        return 4
    if cap <= 5:
        return 5
    in_pairs = np.zeros(1 << 16, dtype=bool)
    in_pairs[pairs] = True
    for single in s:  # s_m ^ (s_i ^ s_j) = s_k ^ s_l: weight 5 (overlaps would mean a lighter one)
        if in_pairs[pairs ^ single].any():
            return 5
    return cap


def weight4_patterns(poly: int, data_bits: int) -> int:
    """Undetected 4-bit error patterns on data_bits + 16 bits (pairs of position pairs with one
    syndrome; two such pairs never share a position because single-bit syndromes are distinct)."""
    s = syndromes(poly, data_bits + 16)
    i, j = np.triu_indices(len(s), 1)
    counts = np.bincount(s[i] ^ s[j], minlength=1 << 16)
    return int(np.sum(counts * (counts - 1) // 2))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", help="write the table here")
    args = p.parse_args()
    table = {}
    for poly, name in CANDIDATES.items():
        table[poly] = {"name": name, "hd": {n: hamming_distance(int(poly, 16), n) for n in LENGTHS},
                       "weight4_patterns_at_256": weight4_patterns(int(poly, 16), 256)}
        print(f"{poly} {name:32s} " + " ".join(f"{n}:{d}" for n, d in table[poly]["hd"].items())
              + f"  A4(256) {table[poly]['weight4_patterns_at_256']}", flush=True)
    usual = [n for n in LENGTHS if 192 <= n <= 512]  # LM messages of 20-60 bytes in a frame
    # largest HD over the usual lengths, then fewest undetected 4-bit patterns on a 256-bit frame
    best = max(table, key=lambda k: (min(table[k]["hd"][n] for n in usual), -table[k]["weight4_patterns_at_256"]))
    print(f"chosen: {best} ({table[best]['name']}), HD >= {min(table[best]['hd'][n] for n in usual)} "
          f"over {usual[0]}-{usual[-1]} data bits")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"lengths": LENGTHS, "hd_cap": 6, "table": table, "chosen": best,
                       "usual_lengths": usual}, f, indent=1)


if __name__ == "__main__":
    main()
