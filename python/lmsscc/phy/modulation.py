# SPDX-License-Identifier: GPL-3.0-or-later
"""Constellations (taken from gr-digital), mapping and exact soft demapping.

Bit order: a symbol's index is its bits MSB first, as gr-digital's
constellation decoders and unpack_k_bits produce them. Points are scaled to
unit average energy. LLR convention of the whole module (see
python/lmsscc/fec/llr.py): L = ln P(b=1|y) / P(b=0|y), positive
means 1; BPSK maps bit 0 -> -1, bit 1 -> +1 as digital.constellation_bpsk().
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MODULATIONS = ("bpsk", "qpsk", "16qam")


@lru_cache(maxsize=None)
def constellation(name: str) -> np.ndarray:
    """Unit-energy points of gr-digital's constellation `name`, indexed by symbol value."""
    from gnuradio import digital

    makers = {"bpsk": digital.constellation_bpsk, "qpsk": digital.constellation_qpsk,
              "16qam": digital.constellation_16qam}
    if name not in makers:
        raise ValueError(f"modulation must be one of {MODULATIONS}, got {name!r}")
    c = makers[name]()
    points = np.asarray(c.points(), dtype=np.complex128)
    if c.apply_pre_diff_code():
        # Symbol value v is sent as point pre_diff_code[v].
        points = points[np.asarray(c.pre_diff_code(), dtype=np.int64)]
    points = points / np.sqrt(np.mean(np.abs(points) ** 2))
    points.setflags(write=False)
    return points


def bits_per_symbol(name: str) -> int:
    return int(np.log2(len(constellation(name))))


def _bit_table(name: str) -> np.ndarray:
    k = bits_per_symbol(name)
    values = np.arange(len(constellation(name)))
    return ((values[:, None] >> np.arange(k - 1, -1, -1)) & 1).astype(np.uint8)  # (M, k)


def modulate(bits, name: str) -> np.ndarray:
    """Bits (length a multiple of bits/symbol) -> complex symbols."""
    k = bits_per_symbol(name)
    bits = np.asarray(bits, dtype=np.int64)
    if bits.size % k:
        raise ValueError(f"{bits.size} bits are not a whole number of {name} symbols")
    values = bits.reshape(-1, k) @ (1 << np.arange(k - 1, -1, -1))
    return constellation(name)[values]


def demodulate_llr(y, name: str, noise_var, gain=1.0) -> np.ndarray:
    """Exact per-bit LLRs for y = gain * x + n, n ~ CN(0, noise_var).

    gain and noise_var may be scalars or per-symbol arrays (fading with CSI).
    Returns float64 LLRs, bits MSB first per symbol, positive means 1.
    """
    y = np.asarray(y, dtype=np.complex128).reshape(-1)
    gain = np.broadcast_to(np.asarray(gain, dtype=np.complex128), y.shape)
    noise_var = np.broadcast_to(np.asarray(noise_var, dtype=np.float64), y.shape)
    points = constellation(name)
    metric = -np.abs(y[:, None] - gain[:, None] * points[None, :]) ** 2 / noise_var[:, None]  # (N, M)
    table = _bit_table(name)  # (M, k)
    llr = np.empty((y.size, table.shape[1]))
    for i in range(table.shape[1]):
        one = table[:, i] == 1
        llr[:, i] = _logsumexp(metric[:, one]) - _logsumexp(metric[:, ~one])
    return llr.reshape(-1)


def _logsumexp(x):
    m = x.max(axis=1)
    return m + np.log(np.exp(x - m[:, None]).sum(axis=1))
