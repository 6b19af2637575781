# SPDX-License-Identifier: GPL-3.0-or-later
"""The package's single LLR sign convention, and LLRs of BPSK codewords sent over a simulated
channel (the channel model itself, AWGN and Rayleigh fading, is phy/channels.py).

LLR convention (the whole lmsscc.fec package, matching gr-digital's constellation_soft_decoder_cf
with digital.constellation_bpsk(), pinned by tests/fec/test_llr_convention.py):

    BPSK map      bit b -> symbol s = 2b - 1    (bit 0 -> -1, bit 1 -> +1)
    LLR           L = ln P(b=1 | y) / P(b=0 | y)  (POSITIVE means bit 1)
    AWGN          L = 2 y / sigma^2
    Rayleigh+CSI  L = 2 |h| y / sigma^2          (coherent receiver that knows the gain h)
    hard decision b = 1 if L > 0 else 0

sigma^2 = N0 / 2 is the noise variance of the in-phase part, the only one a coherent BPSK
receiver reads. Eb/N0 is per INFORMATION bit: with unit-energy symbols and rate R = k/n,
sigma^2 = 1 / (2 R Eb/N0).
"""
from __future__ import annotations

import numpy as np

from ..phy import channels


def ebn0_to_sigma(ebn0_db, rate: float):
    """Noise std per real dimension for BPSK at Eb/N0 (dB) per information bit."""
    ebn0 = 10.0 ** (np.asarray(ebn0_db, dtype=np.float64) / 10.0)
    return np.sqrt(1.0 / (2.0 * rate * ebn0))


def bpsk(bits) -> np.ndarray:
    """Map bits to BPSK symbols: 0 -> -1, 1 -> +1 (gr-digital's constellation_bpsk)."""
    return 2.0 * np.asarray(bits, dtype=np.float64) - 1.0


def hard_decision(llr) -> np.ndarray:
    """Bits from LLRs in the module convention (positive -> 1)."""
    return (np.asarray(llr) > 0).astype(np.uint8)


def transmit(codewords, sigma, fading: str = "none", rng: np.random.Generator | None = None):
    """Send (..., n) codeword bits as BPSK over the channel (phy/channels.py, fading 'none',
    'block' = one gain per codeword, 'fast' = one per symbol); return CSI-aware LLRs (module
    convention). sigma may be a scalar or broadcastable to (..., 1) (one noise level per codeword).
    """
    rng = np.random.default_rng() if rng is None else rng
    x = bpsk(codewords)
    gain = np.abs(channels.fading_gains(x.shape, fading, rng))
    sigma = np.asarray(sigma, dtype=np.float64)
    y = gain * x + channels.in_phase_noise(x.shape, 2.0 * sigma ** 2, rng)
    return 2.0 * gain * y / sigma ** 2


def simulate_llrs(code, ebn0_db, n_frames: int, fading: str = "none",
                  rng: np.random.Generator | None = None, all_zero: bool = False):
    """Random (or all-zero) info bits -> codewords -> LLRs. Returns (info, codewords, llr)."""
    rng = np.random.default_rng() if rng is None else rng
    if all_zero:
        info = np.zeros((n_frames, code.k), dtype=np.uint8)
    else:
        info = rng.integers(0, 2, size=(n_frames, code.k), dtype=np.uint8)
    cw = code.encode(info)
    sigma = ebn0_to_sigma(ebn0_db, code.rate)
    return info, cw, transmit(cw, sigma, fading, rng)
