# SPDX-License-Identifier: GPL-3.0-or-later
"""The library's Polar codes as polar codes: structure recovered from H, SC / SCL decoding (C++).

The code files (POLAR_N64_K32, ...) hold only a parity-check matrix H. A polar code of length
n = 2^m is {u F : u_i = 0 for i outside the information set A}, F = [[1,0],[1,1]]^{(x)m}. Its bits
may be written in natural order or bit-reversed (Arikan's G = B F, i.e. codeword position j of
x' = u F is position bitrev(j) of the file's code). For each order, A is the set of rows of F
(columns permuted to the file's order) that satisfy every check of H; the code is polar in that
order when exactly k rows do, and then those k independent rows span the whole code (checked).

Both orders usually pass: the rows of F are the same set up to the permutation. What differs is
the decoding order of SC: the order whose information set has the smaller Bhattacharyya bound
(sum of Z over A, for BPSK-AWGN at the design Eb/N0) is the one the code was designed for. The
shipped Polar codes are all bit-reversed by that criterion (sum of Z 0.08 vs 1.8 for
POLAR_N64_K32 at 4 dB); tests/fec/test_scl.py checks that SC is better in the chosen order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import lmsscc_python as kernels
from .codes import gf2_rref

BIT_ORDERS = ("natural", "bit_reversed")
DESIGN_EBN0_DB = 4.0


def polar_kernel(n: int) -> np.ndarray:
    """F = [[1,0],[1,1]]^{(x)m} (n x n, uint8), natural order."""
    m = _log2_length(n)
    F = np.ones((1, 1), dtype=np.uint8)
    for _ in range(m):
        F = np.kron(F, np.array([[1, 0], [1, 1]], dtype=np.uint8))
    return F


def bit_reversal(n: int) -> np.ndarray:
    """Permutation j -> bitrev_m(j) (its own inverse)."""
    m = _log2_length(n)
    return np.array([int(format(j, f"0{m}b")[::-1], 2) if m else 0 for j in range(n)], dtype=np.int64)


def _log2_length(n: int) -> int:
    if n < 2 or n & (n - 1):
        raise ValueError(f"not a polar code: length n = {n} is not a power of two >= 2")
    return n.bit_length() - 1


def bhattacharyya(n: int, z0: float) -> np.ndarray:
    """Z of the n synthetic channels of natural-order SC for a channel with Bhattacharyya z0.

    The channel-side split of u's index is its most significant bit (first half of u decoded
    first through f, i.e. the worse channel 2z - z^2; second half through g, z^2)."""
    m = _log2_length(n)
    z = np.empty(n)
    for i in range(n):
        zi = z0
        for b in range(m - 1, -1, -1):
            zi = zi * zi if (i >> b) & 1 else 2 * zi - zi * zi
        z[i] = zi
    return z


@dataclass(frozen=True)
class PolarStructure:
    """How a library code is a polar code. Decoder positions j <-> code positions perm[j]."""
    n: int
    k: int
    bit_order: str                 # "natural" or "bit_reversed"
    info_set: np.ndarray           # sorted u indices (decoder order) that carry information
    frozen: np.ndarray             # (n,) bool, True where u_i = 0
    perm: np.ndarray               # x' = x[perm] is the natural-order codeword u F
    bhattacharyya_bound: float     # sum of Z over info_set at DESIGN_EBN0_DB

    def encode_u(self, u) -> np.ndarray:
        """(B, n) u (zeros on frozen positions) -> (B, n) codewords in the code's own bit order."""
        u = np.atleast_2d(np.asarray(u, dtype=np.uint8))
        xp = (u.astype(np.int32) @ polar_kernel(self.n).astype(np.int32)) & 1
        out = np.empty_like(xp)
        out[:, self.perm] = xp
        return out.astype(np.uint8)


def _info_set(code, perm) -> np.ndarray | None:
    """Rows of F, in the code's bit order, that satisfy H; None unless they span the code."""
    F = polar_kernel(code.n)
    rows = np.empty_like(F)
    rows[:, perm] = F                      # row i of F written in the code's positions
    in_code = ~(((rows.astype(np.int32) @ code.H.T.astype(np.int32)) & 1).any(axis=1))
    info = np.flatnonzero(in_code)
    if info.size != code.k:
        return None
    # k independent rows (F is invertible) inside a k-dimensional code span it; confirm with
    # the library's own generator: [rows_A; G] must still have rank k.
    _, pivots = gf2_rref(np.vstack([rows[info], code.G]))
    return info if len(pivots) == code.k else None


def polar_structure(code, bit_order: str | None = None) -> PolarStructure:
    """Information set and bit order of a library code; ValueError if it is not a polar code.

    bit_order None picks the order with the smaller Bhattacharyya bound; "natural" or
    "bit_reversed" forces one (ValueError if the code is not polar in that order)."""
    n = code.n
    _log2_length(n)
    if bit_order is not None and bit_order not in BIT_ORDERS:
        raise ValueError(f"bit_order must be one of {BIT_ORDERS} or None, got {bit_order!r}")
    z = bhattacharyya(n, float(np.exp(-code.rate * 10 ** (DESIGN_EBN0_DB / 10))))
    found = []
    for order, perm in (("natural", np.arange(n)), ("bit_reversed", bit_reversal(n))):
        if bit_order not in (None, order):
            continue
        info = _info_set(code, perm)
        if info is not None:
            found.append((float(z[info].sum()), order, info, perm))
    if not found:
        raise ValueError(f"{code.name} is not a polar code: no set of k = {code.k} rows of the "
                         f"{n} x {n} polar kernel spans it, in "
                         f"{bit_order or 'natural or bit-reversed'} order")
    bound, order, info, perm = min(found, key=lambda f: f[0])
    frozen = np.ones(n, dtype=bool)
    frozen[info] = False
    return PolarStructure(n=n, k=code.k, bit_order=order, info_set=info, frozen=frozen, perm=perm,
                          bhattacharyya_bound=bound)


def parse_list_size(kind: str) -> int:
    """'sc' -> 1, 'scl' -> 8, 'scl32' -> 32."""
    if kind == "sc":
        return 1
    digits = kind[3:] if kind.startswith("scl") else None
    if digits == "":
        return 8
    if digits is None or not digits.isdigit() or int(digits) < 1:
        raise ValueError(f"SCL decoder kind must be 'sc' or 'scl<L>' with L >= 1, got {kind!r}")
    return int(digits)


class SCLDecoder:
    """SC (list_size 1) / SC-list decoding of a library Polar code; the most likely path wins
    (these codes carry no CRC). decode(llr (B, n), package convention) -> codewords (B, n)."""

    def __init__(self, code, list_size: int = 8, structure: PolarStructure | None = None):
        if int(list_size) < 1:
            raise ValueError(f"list_size must be >= 1, got {list_size}")
        self.code = code
        self.structure = structure or polar_structure(code)
        self.list_size = int(list_size)
        self.name = "sc" if self.list_size == 1 else f"scl{self.list_size}"
        self._kernel = kernels.SCLDecoderKernel(self.structure.frozen.astype(np.uint8).tolist(),
                                                self.list_size)

    def _decoder_llrs(self, llr) -> np.ndarray:
        llr = np.asarray(llr, dtype=np.float64)
        if llr.ndim == 1:
            llr = llr[None, :]
        if llr.ndim != 2 or llr.shape[1] != self.code.n:
            raise ValueError(f"expected LLRs of shape (frames, {self.code.n}), got {llr.shape}")
        if not np.isfinite(llr).all():
            raise ValueError("LLRs must be finite (NaN or Inf found)")
        # float32 for the kernel; clipping keeps huge finite values finite (sign is all that matters).
        return np.ascontiguousarray(np.clip(llr[:, self.structure.perm], -1e30, 1e30), dtype=np.float32)

    def _code_order(self, x) -> np.ndarray:
        out = np.empty_like(x)
        out[:, self.structure.perm] = x
        return out

    def decode(self, llr) -> np.ndarray:
        return self._code_order(self._kernel.decode(self._decoder_llrs(llr)))

    def decode_with_metrics(self, llr):
        """(codewords (B, n), path metric of the chosen path (B,)): with min-sum f the metric is
        the ML correlation metric sum_{j: x_j != hard(L_j)} |L_j| of the returned codeword."""
        x, pm = self._kernel.decode_with_metrics(self._decoder_llrs(llr))
        return self._code_order(x), pm
