# SPDX-License-Identifier: GPL-3.0-or-later
"""Ordered-statistics decoding (OSD, Fossorier & Lin 1995) of any code of the library.

The work is done by the C++ kernel lib/osd_decoder.cc (bit-packed GF(2) elimination on the most
reliable independent positions, re-encoding of every test pattern of weight <= order, minimum
discrepancy = maximum likelihood among the candidates on BPSK); this module is the package-style
wrapper: ``decode(llr (B, n)) -> codeword bits (B, n) uint8`` in the package LLR convention
(L = ln P(1)/P(0), positive means 1) and a ``name`` ("osd2", ...).

Two work-saving rules are on by default; both are proven bounds, so they never change the result
relative to the exhaustive order-k search (tests/fec/test_osd.py checks it):
  * prune: skip test patterns whose flipped most-reliable positions alone cost as much as the best
    candidate, and stop summing a candidate's discrepancy once it reaches the best one;
  * early_stop: stop a frame when the best candidate is provably the maximum-likelihood codeword
    (discrepancy below the sum of the d_min - |D| smallest reliabilities outside its discrepancy
    set D; d_min is enumerated for k <= 24, otherwise a lower bound from H's columns is used
    unless ``dmin`` is given).

``order_reliability`` (B, n), optional, replaces |L| for the ordering step only (the metric still
uses the channel LLRs): the hook for a network-aided OSD.
"""
from __future__ import annotations

import numpy as np

from .. import lmsscc_python as _kernels


class OSDDecoder:
    """OSD of order `order` for `code` (a LinearCode). `stats` accumulates the kernel's work
    counters over all decode() calls: frames, candidates (discrepancies summed), skipped
    (patterns avoided by the rules), early_stops (frames ended by the optimality bound)."""

    def __init__(self, code, order: int = 2, prune: bool = True, early_stop: bool = True,
                 dmin: int | None = None):
        if int(order) < 0:
            raise ValueError(f"OSD order must be >= 0, got {order}")
        self.code = code
        self.order = int(order)
        self.name = f"osd{self.order}"
        self.kernel = _kernels.OsdDecoder(_checked_matrix(code.H), order=self.order,
                                          prune=bool(prune), early_stop=bool(early_stop),
                                          dmin=-1 if dmin is None else int(dmin))
        if self.kernel.k != code.k:
            raise ValueError(f"code {code.name}: OSD finds k = {self.kernel.k}, code says {code.k}")
        self.stats = dict(frames=0, candidates=0, skipped=0, early_stops=0)

    @property
    def patterns_per_frame(self) -> int:
        return self.kernel.patterns_per_frame

    def decode(self, llr, order_reliability=None) -> np.ndarray:
        llr = np.asarray(llr, dtype=np.float64)
        single = llr.ndim == 1
        frames = np.ascontiguousarray(np.atleast_2d(llr))
        ordering = None
        if order_reliability is not None:
            ordering = np.ascontiguousarray(np.atleast_2d(np.asarray(order_reliability,
                                                                     dtype=np.float64)))
            if ordering.shape != frames.shape:
                raise ValueError(f"order_reliability has shape {ordering.shape}, "
                                 f"llr has {frames.shape}")
        bits, counts = self.kernel.decode(frames, ordering)
        for key, value in counts.items():
            self.stats[key] += int(value)
        return bits[0] if single else bits

    def mean_candidates(self) -> float:
        """Average number of candidates evaluated per frame so far."""
        return self.stats["candidates"] / max(self.stats["frames"], 1)


def _checked_matrix(H) -> np.ndarray:
    H = np.asarray(H)
    if H.ndim != 2:
        raise ValueError(f"parity-check matrix must be 2-D, got shape {H.shape}")
    if H.size and not np.isin(H, (0, 1)).all():
        raise ValueError("parity-check matrix entries must be 0 or 1")
    return np.ascontiguousarray(H, dtype=np.uint8)


def osd_kind_order(kind: str) -> int:
    """Order of a make_decoder kind: "osd" -> 2, "osd0".."osd3" (any digits) -> that order."""
    suffix = kind[3:]
    if kind == "osd":
        return 2
    if not suffix.isdigit():
        raise ValueError(f"unknown decoder {kind!r} (OSD kinds: osd, osd0, osd1, osd2, osd3)")
    return int(suffix)
