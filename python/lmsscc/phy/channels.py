"""Simulated channels on complex baseband samples: AWGN, Rayleigh fading
(block: one gain per burst; fast: a new gain every `coherence` samples),
carrier frequency offset and timing offset (fractional delay)."""

from __future__ import annotations

import numpy as np

FADING = ("none", "block", "fast")


def awgn(x, noise_var: float, rng: np.random.Generator) -> np.ndarray:
    """Add circular complex Gaussian noise of total variance noise_var."""
    x = np.asarray(x, dtype=np.complex128)
    n = rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)
    return x + np.sqrt(noise_var / 2.0) * n


def rayleigh(x, rng: np.random.Generator, fading: str = "block", coherence: int = 1) -> tuple:
    """(faded samples, gains); E|h|^2 = 1 so the average SNR is unchanged."""
    x = np.asarray(x, dtype=np.complex128)
    if fading == "none":
        return x, np.ones_like(x)
    if fading == "block":
        h = (rng.standard_normal() + 1j * rng.standard_normal()) / np.sqrt(2)
        return h * x, np.full_like(x, h)
    if fading == "fast":
        blocks = -(-x.size // coherence)
        g = (rng.standard_normal(blocks) + 1j * rng.standard_normal(blocks)) / np.sqrt(2)
        h = np.repeat(g, coherence)[: x.size]
        return h * x, h
    raise ValueError(f"fading must be one of {FADING}")


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


def noise_var_for_esn0(esn0_db: float, signal_power: float = 1.0) -> float:
    return signal_power / (10.0 ** (esn0_db / 10.0))
