"""BPSK over AWGN / Rayleigh fading, and the module's single LLR sign convention.

LLR convention (the whole lmsscc.fec package, matching gr-digital's constellation_soft_decoder_cf
with digital.constellation_bpsk(), pinned by tests/fec/test_llr_convention.py):

    BPSK map      bit b -> symbol s = 2b - 1    (bit 0 -> -1, bit 1 -> +1)
    LLR           L = ln P(b=1 | y) / P(b=0 | y)  (POSITIVE means bit 1)
    AWGN          L = 2 y / sigma^2
    Rayleigh+CSI  L = 2 h y / sigma^2            (receiver knows the real fading gain h >= 0)
    hard decision b = 1 if L > 0 else 0

Eb/N0 is per INFORMATION bit: with unit-energy symbols and rate R = k/n,
sigma^2 = 1 / (2 R Eb/N0).
"""
from __future__ import annotations

import numpy as np

CHANNELS = ("awgn", "rayleigh", "rayleigh_block")


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


def fading_gains(shape, channel: str, rng: np.random.Generator) -> np.ndarray:
    """Real Rayleigh amplitudes with E[h^2] = 1 (so Eb/N0 is the average SNR per info bit).

    'rayleigh' is fast (independent per symbol); 'rayleigh_block' holds one gain per codeword
    (last axis); 'awgn' returns ones.
    """
    if channel == "awgn":
        return np.ones(shape)
    if channel == "rayleigh":
        return rng.rayleigh(scale=np.sqrt(0.5), size=shape)
    if channel == "rayleigh_block":
        per_word = rng.rayleigh(scale=np.sqrt(0.5), size=shape[:-1] + (1,))
        return np.broadcast_to(per_word, shape).copy()
    raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")


def transmit(codewords, sigma, channel: str = "awgn", rng: np.random.Generator | None = None):
    """Send (..., n) codeword bits over BPSK + channel; return CSI-aware LLRs (module convention).

    sigma may be a scalar or broadcastable to (..., 1) (one noise level per codeword).
    """
    rng = np.random.default_rng() if rng is None else rng
    x = bpsk(codewords)
    h = fading_gains(x.shape, channel, rng)
    sigma = np.asarray(sigma, dtype=np.float64)
    y = h * x + sigma * rng.standard_normal(x.shape)
    return 2.0 * h * y / sigma ** 2


def simulate_llrs(code, ebn0_db, n_frames: int, channel: str = "awgn",
                  rng: np.random.Generator | None = None, all_zero: bool = False):
    """Random (or all-zero) info bits -> codewords -> LLRs. Returns (info, codewords, llr)."""
    rng = np.random.default_rng() if rng is None else rng
    if all_zero:
        info = np.zeros((n_frames, code.k), dtype=np.uint8)
    else:
        info = rng.integers(0, 2, size=(n_frames, code.k), dtype=np.uint8)
    cw = code.encode(info)
    sigma = ebn0_to_sigma(ebn0_db, code.rate)
    return info, cw, transmit(cw, sigma, channel, rng)
