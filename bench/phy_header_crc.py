#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Chooses the PHY header's CRC-16 polynomial: for every odd 16-bit polynomial,
the weight spectrum of the (32, 16) code it makes over the header's 16 field
bits (every non-zero error pattern the CRC misses is a codeword of that code).
Prints the best polynomials (largest minimum distance, then fewest codewords of
that weight) and CRC-16/CCITT's for comparison. About a minute on one core.

    nice -n 10 .venv/bin/python bench/phy_header_crc.py --json docs/data/phy_header_crc.json
"""

import argparse
import json

import numpy as np

FIELD_BITS = CHECK_BITS = 16


def parity_rows(poly: int) -> list[int]:
    """CRC (zero initial value) of each unit field vector, MSB first."""
    rows = []
    for i in range(FIELD_BITS):
        reg = 0
        for j in range(FIELD_BITS):
            top = ((reg >> (CHECK_BITS - 1)) & 1) ^ (j == i)
            reg = ((reg << 1) & 0xFFFF) ^ (poly if top else 0)
        rows.append(reg)
    return rows


def weight_spectrum(poly: int, popcount: np.ndarray) -> np.ndarray:
    parity = np.zeros(1, dtype=np.int64)
    for row in reversed(parity_rows(poly)):  # index bit 0 = last field bit
        parity = np.concatenate([parity, parity ^ row])
    weights = popcount + popcount[parity]
    return np.bincount(weights[1:], minlength=FIELD_BITS + CHECK_BITS + 1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", help="write the ranking here")
    args = p.parse_args()
    popcount = np.array([bin(i).count("1") for i in range(1 << FIELD_BITS)], dtype=np.int64)
    ranked = []
    for poly in range(1, 1 << CHECK_BITS, 2):
        spectrum = weight_spectrum(poly, popcount)
        d = int(np.flatnonzero(spectrum)[0])
        ranked.append((-d, spectrum[d:d + 3].tolist(), poly, spectrum.tolist()))
    ranked.sort()
    ccitt = next(r for r in ranked if r[2] == 0x1021)
    rows = [{"poly": hex(r[2]), "min_distance": -r[0], "spectrum": r[3]} for r in ranked[:10]]
    for r in rows:
        print(f"{r['poly']}: d = {r['min_distance']}, A_d.. = {r['spectrum'][r['min_distance']:][:3]}")
    print(f"CRC-16/CCITT 0x1021: d = {-ccitt[0]}, A_d.. = {ccitt[1]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"best": rows, "ccitt_0x1021": {"min_distance": -ccitt[0], "spectrum": ccitt[3]}},
                      f, indent=1)


if __name__ == "__main__":
    main()
