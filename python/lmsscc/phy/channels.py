# SPDX-License-Identifier: GPL-3.0-or-later
"""The package's channel models: AWGN and Rayleigh fading (numpy, for every simulation, and torch
twins for training on a device), carrier frequency offset and timing offset (fractional delay).
Every noise sample and fading gain of phy, fec and jscc is drawn here.

Vocabulary (blocks, benchmarks, trainers and records alike):
  fading  "none"   AWGN only
          "block"  one gain per block: the last axis of the array (a burst, a PDU, a message or,
                   for an array of codewords, a codeword)
          "fast"   a new gain every `coherence` samples along the last axis (1: every symbol,
                   i.e. ideal interleaving)
  channel_name(fading): "awgn" or "rayleigh", the label in records and in ECCT weight names.

Definitions:
  gain   h ~ CN(0, 1): E|h|^2 = 1, so fading leaves the average SNR unchanged; |h| is Rayleigh
         with E|h|^2 = 1 (a coherent BPSK receiver sees only |h|).
  noise  N0 = noise_var per complex sample: CN(0, N0), N0 / 2 per real dimension. Real samples
         (BPSK as a coherent receiver sees it: only the in-phase part carries the symbol) get
         the in-phase part alone, N(0, N0 / 2).
  SNR    Es/N0 in dB; N0 = Es / 10^(Es/N0 / 10) (noise_var_for_esn0).
"""

from __future__ import annotations

import numpy as np

FADING = ("none", "block", "fast")


def check_fading(fading: str) -> str:
    """`fading` if it is one of FADING, else ValueError."""
    if fading not in FADING:
        raise ValueError(f"fading must be one of {FADING}, got {fading!r}")
    return fading


def channel_name(fading: str) -> str:
    """The record label of a fading mode: 'awgn' without fading, 'rayleigh' with."""
    return "awgn" if check_fading(fading) == "none" else "rayleigh"


def noise_var_for_esn0(esn0_db, signal_power: float = 1.0):
    """N0 for Es/N0 in dB (a float, a numpy array or a torch tensor)."""
    return signal_power / (10.0 ** (esn0_db / 10.0))


# -- numpy: every simulation ---------------------------------------------------------------------
def complex_noise(shape, noise_var, rng: np.random.Generator) -> np.ndarray:
    """CN(0, noise_var) samples; noise_var may be an array broadcastable to shape."""
    n = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return np.sqrt(np.asarray(noise_var) / 2.0) * n


def in_phase_noise(shape, noise_var, rng: np.random.Generator) -> np.ndarray:
    """The in-phase part of CN(0, noise_var): real N(0, noise_var / 2) samples."""
    return np.sqrt(np.asarray(noise_var) / 2.0) * rng.standard_normal(shape)


def awgn(x, noise_var, rng: np.random.Generator) -> np.ndarray:
    """Complex samples x plus CN(0, noise_var) noise."""
    x = np.asarray(x, dtype=np.complex128)
    return x + complex_noise(x.shape, noise_var, rng)


def _unit_gains(shape, rng: np.random.Generator) -> np.ndarray:
    """CN(0, 1) draws: real then imaginary parts, each N(0, 1/2)."""
    re, im = rng.standard_normal(shape), rng.standard_normal(shape)
    return re / np.sqrt(2) + 1j * (im / np.sqrt(2))


def _gain_layout(shape, fading: str, coherence: int):
    """(shape of the independent gains behind an array of `shape`, samples each gain holds), or
    None without fading."""
    check_fading(fading)
    if int(coherence) < 1:
        raise ValueError(f"coherence must be at least 1 sample, got {coherence}")
    if fading == "none":
        return None
    length = shape[-1] if shape else 1
    hold = length if fading == "block" else int(coherence)
    draws = 1 if fading == "block" else -(-length // hold)
    return tuple(shape[:-1]) + (draws,), hold


def _spread(g, shape, hold: int, repeat):
    """Each gain of g (..., draws) held over its `hold` samples, cut to `shape`."""
    length = shape[-1] if shape else 1
    return repeat(g, hold)[..., :length].reshape(shape)


def fading_gains(shape, fading: str, rng: np.random.Generator, coherence: int = 1) -> np.ndarray:
    """Complex gains (E|h|^2 = 1) of `shape` for the fading mode (ones for 'none')."""
    shape = tuple(np.broadcast_shapes(shape))
    layout = _gain_layout(shape, fading, coherence)
    if layout is None:
        return np.ones(shape, dtype=np.complex128)
    draws, hold = layout
    return _spread(_unit_gains(draws, rng), shape, hold, lambda g, r: np.repeat(g, r, axis=-1))


def rayleigh(x, rng: np.random.Generator, fading: str = "block", coherence: int = 1) -> tuple:
    """(faded complex samples, their gains)."""
    x = np.asarray(x, dtype=np.complex128)
    h = fading_gains(x.shape, fading, rng, coherence)
    return (x if fading == "none" else h * x), h


def frequency_offset(x, cycles_per_sample: float, phase: float = 0.0) -> np.ndarray:
    x = np.asarray(x, dtype=np.complex128)
    return x * np.exp(1j * (2 * np.pi * cycles_per_sample * np.arange(x.size) + phase))


def timing_offset(x, delay_samples: float, taps: int = 33) -> np.ndarray:
    """Delay by a (possibly fractional) number of samples with a windowed sinc."""
    x = np.asarray(x, dtype=np.complex128)
    whole = int(np.floor(delay_samples))
    frac = delay_samples - whole
    if frac:
        n = np.arange(taps) - (taps - 1) / 2
        h = np.sinc(n - frac) * np.hamming(taps)
        h /= h.sum()
        x = np.convolve(x, h)[(taps - 1) // 2 : (taps - 1) // 2 + x.size]
    return np.concatenate([np.zeros(max(whole, 0), dtype=np.complex128), x])


# -- torch twins: the same definitions, drawn on the training device --------------------------------
def torch_complex_noise(shape, noise_var, generator=None, device=None):
    """CN(0, noise_var) as a complex64 tensor; noise_var a float or a tensor broadcastable to shape."""
    import torch

    re = torch.randn(shape, generator=generator, device=device)
    im = torch.randn(shape, generator=generator, device=device)
    return torch.complex(re, im) * torch.sqrt(torch.as_tensor(noise_var, device=device) / 2.0)


def torch_in_phase_noise(shape, noise_var, generator=None, device=None):
    """The in-phase part of CN(0, noise_var): real N(0, noise_var / 2) samples."""
    import torch

    std = torch.sqrt(torch.as_tensor(noise_var, device=device) / 2.0)
    return std * torch.randn(shape, generator=generator, device=device)


def torch_fading_gains(shape, fading: str, generator=None, device=None, coherence: int = 1):
    """Complex64 gains (E|h|^2 = 1) of `shape` for the fading mode (ones for 'none')."""
    import torch

    shape = tuple(shape)
    layout = _gain_layout(shape, fading, coherence)
    if layout is None:
        return torch.ones(shape, dtype=torch.complex64, device=device)
    draws, hold = layout
    re = torch.randn(draws, generator=generator, device=device)
    im = torch.randn(draws, generator=generator, device=device)
    g = torch.complex(re / np.sqrt(2), im / np.sqrt(2))
    return _spread(g, shape, hold, lambda g, r: torch.repeat_interleave(g, r, dim=-1))
