# SPDX-License-Identifier: GPL-3.0-or-later
"""Finite-length limits for BPSK over AWGN: capacity, dispersion, normal approximation.

Binary-input AWGN channel, symbols +-1, noise variance sigma^2 = 1 / (2 Es/N0). The information
density of the uniform input is i(x; y) = 1 - log2(1 + exp(-L)), L = 2 x y / sigma^2, and given
the input L ~ N(mu, 2 mu) with mu = 2 / sigma^2 = 4 Es/N0. Then
    C = E[i],  V = Var[i]                     (bits, bits^2 per channel use),
both by numerical integration over the Gaussian (trapezoidal rule on +-14 standard deviations).

Normal approximation (Polyanskiy, Poor, Verdu 2010, eq. (296) and the BI-AWGN discussion there):
the largest code of length n at block error probability eps has
    log2 M* ~ n C - sqrt(n V) Q^{-1}(eps) + 1/2 log2 n,
so a code with k information bits cannot do better than
    eps*(n, k, Es/N0) ~ Q((n C - k + 1/2 log2 n) / sqrt(n V)).
It is an approximation of the bounds, not a bound itself; within a few tenths of a dB of the true
limit at these lengths. Eb/N0 is per information bit: Es/N0 = (k/n) Eb/N0.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_STD_NORMAL = NormalDist()
_GRID = np.linspace(-14.0, 14.0, 8001)
_WEIGHTS = np.exp(-0.5 * _GRID ** 2) / math.sqrt(2 * math.pi)


def _density_moments(esn0_db: float):
    """(E[i], E[i^2]) of the information density at Es/N0 (dB)."""
    mu = 4.0 * 10.0 ** (esn0_db / 10.0)
    llr = mu + math.sqrt(2.0 * mu) * _GRID
    density = 1.0 - np.logaddexp(0.0, -llr) / math.log(2.0)
    first = np.trapz(_WEIGHTS * density, _GRID)
    second = np.trapz(_WEIGHTS * density ** 2, _GRID)
    return float(first), float(second)


def biawgn_capacity(esn0_db: float) -> float:
    """Capacity (bits per channel use) of BPSK over AWGN at Es/N0 (dB)."""
    return _density_moments(esn0_db)[0]


def biawgn_dispersion(esn0_db: float) -> float:
    """Channel dispersion V (bits^2 per channel use) of BPSK over AWGN at Es/N0 (dB)."""
    first, second = _density_moments(esn0_db)
    return max(second - first * first, 0.0)


def q_function(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def q_inverse(eps: float) -> float:
    if not 0.0 < eps < 1.0:
        raise ValueError(f"error probability must be in (0, 1), got {eps}")
    return _STD_NORMAL.inv_cdf(1.0 - eps)


def normal_approx_fer(n: int, k: int, ebn0_db: float) -> float:
    """Smallest block error probability of any (n, k) code at Eb/N0 (dB), normal approximation."""
    if not 0 < k <= n:
        raise ValueError(f"need 0 < k <= n, got n={n}, k={k}")
    esn0_db = ebn0_db + 10.0 * math.log10(k / n)
    c, v = _density_moments(esn0_db)
    v = max(v - c * c, 1e-300)
    return q_function((n * c - k + 0.5 * math.log2(n)) / math.sqrt(n * v))


def normal_approx_ebn0_db(n: int, k: int, fer: float, lo: float = -5.0, hi: float = 20.0) -> float:
    """Minimum Eb/N0 (dB) at which an (n, k) code can reach block error rate `fer` (bisection on
    the normal approximation, which decreases with the SNR)."""
    q_inverse(fer)  # validates fer
    if normal_approx_fer(n, k, hi) > fer:
        raise ValueError(f"FER {fer} needs more than {hi} dB for n={n}, k={k}")
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if normal_approx_fer(n, k, mid) > fer:
            lo = mid
        else:
            hi = mid
    return hi
