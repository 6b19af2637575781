# SPDX-License-Identifier: GPL-3.0-or-later
"""Bursts: preamble + PHY header + payload with pilots, root-raised-cosine
pulses; and the data-aided burst receiver (detection, timing, frequency,
phase and gain estimation, noise variance for the LLRs).

    [63-symbol BPSK m-sequence preamble][header symbols][data ... pilots every
    PILOT_SPACING data symbols: PILOT_LEN symbols of +1]

Why data-aided: bursts are short and arrive at unknown times, so feedback
loops (Costas, symbol_sync) would spend the start of each burst converging.
The preamble gives timing (correlation peak), a coarse frequency and the
complex gain; pilots spread through the burst refine frequency and phase by a
least-squares line fit, so long bursts keep their phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPS = 4
RRC_ALPHA = 0.35
RRC_SPAN = 8  # symbols each side
PILOT_SPACING = 64
PILOT_LEN = 4
SEGMENTS = 4  # preamble pieces combined non-coherently (frequency-offset tolerance)
DETECT_THRESHOLD = 0.55


def m_sequence(taps=(6, 5), length=63) -> np.ndarray:
    """Maximal-length LFSR sequence (x^6 + x^5 + 1) as +-1."""
    state = [1] * max(taps)
    out = []
    for _ in range(length):
        out.append(state[-1])
        fb = state[taps[0] - 1] ^ state[taps[1] - 1]
        state = [fb] + state[:-1]
    return 2.0 * np.array(out) - 1.0


PREAMBLE = m_sequence()


def rrc_taps(sps=SPS, alpha=RRC_ALPHA, span=RRC_SPAN) -> np.ndarray:
    t = np.arange(-span * sps, span * sps + 1) / sps
    h = np.empty_like(t)
    for i, ti in enumerate(t):
        if abs(ti) < 1e-12:
            h[i] = 1 - alpha + 4 * alpha / np.pi
        elif abs(abs(ti) - 1 / (4 * alpha)) < 1e-9:
            h[i] = alpha / np.sqrt(2) * ((1 + 2 / np.pi) * np.sin(np.pi / (4 * alpha))
                                         + (1 - 2 / np.pi) * np.cos(np.pi / (4 * alpha)))
        else:
            h[i] = (np.sin(np.pi * ti * (1 - alpha)) + 4 * alpha * ti * np.cos(np.pi * ti * (1 + alpha))) / (
                np.pi * ti * (1 - (4 * alpha * ti) ** 2))
    return h / np.sqrt(np.sum(h ** 2))  # unit energy: RRC * RRC peaks at 1


RRC = rrc_taps()
FILTER_DELAY = len(RRC) - 1  # TX + RX filter delay in samples


def insert_pilots(data: np.ndarray) -> np.ndarray:
    out = []
    for start in range(0, len(data), PILOT_SPACING):
        out.append(data[start : start + PILOT_SPACING])
        if start + PILOT_SPACING < len(data):
            out.append(np.ones(PILOT_LEN, dtype=np.complex128))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.complex128)


def data_positions(n_data: int) -> np.ndarray:
    """Indices (in the pilot-bearing stream) of the n_data data symbols."""
    block = PILOT_SPACING + PILOT_LEN
    i = np.arange(n_data)
    return (i // PILOT_SPACING) * block + i % PILOT_SPACING


def pilot_positions(n_data: int) -> np.ndarray:
    n_blocks = max(0, -(-n_data // PILOT_SPACING) - 1)
    block = PILOT_SPACING + PILOT_LEN
    return (np.arange(n_blocks)[:, None] * block + PILOT_SPACING + np.arange(PILOT_LEN)).reshape(-1)


def shape(symbols: np.ndarray, guard: int = 16 * SPS) -> np.ndarray:
    """Symbols -> RRC-shaped samples at SPS samples/symbol, with zero guards."""
    up = np.zeros(len(symbols) * SPS, dtype=np.complex128)
    up[::SPS] = symbols
    samples = np.convolve(up, RRC)
    return np.concatenate([np.zeros(guard), samples, np.zeros(guard)])


def make_burst(header_symbols: np.ndarray, data_symbols: np.ndarray) -> np.ndarray:
    stream = np.concatenate([PREAMBLE.astype(np.complex128), header_symbols,
                             insert_pilots(np.asarray(data_symbols, dtype=np.complex128))])
    return shape(stream)


@dataclass
class Detection:
    start: float  # matched-filter sample index of the first preamble symbol (fractional)
    metric: float  # normalised correlation in [0, 1]
    freq: float  # cycles per symbol
    gain: complex  # complex channel gain at the first preamble symbol
    noise_var: float  # complex noise variance per symbol

    @property
    def snr_db(self) -> float:
        return float(10 * np.log10(abs(self.gain) ** 2 / max(self.noise_var, 1e-30)))


def matched_filter(samples) -> np.ndarray:
    return np.convolve(np.asarray(samples, dtype=np.complex128), RRC)


def _segment_correlations(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-segment preamble correlations (S, N) and the energy under the preamble (N,)."""
    span = (len(PREAMBLE) - 1) * SPS + 1
    n = len(z) - span + 1
    if n <= 0:
        return np.zeros((SEGMENTS, 0), complex), np.zeros(0)
    bounds = np.linspace(0, len(PREAMBLE), SEGMENTS + 1).astype(int)
    corr = np.zeros((SEGMENTS, n), dtype=np.complex128)
    for s in range(SEGMENTS):
        for k in range(bounds[s], bounds[s + 1]):
            corr[s] += PREAMBLE[k] * z[k * SPS : k * SPS + n]
    power = np.abs(z) ** 2
    energy = np.zeros(n)
    for k in range(len(PREAMBLE)):
        energy += power[k * SPS : k * SPS + n]
    return corr, energy


def detect(z: np.ndarray, threshold: float = DETECT_THRESHOLD, min_spacing: int | None = None):
    """Preamble positions (fractional sample index, metric) in the matched-filter
    output z, in time order; the strongest peak wins within min_spacing."""
    corr, energy = _segment_correlations(z)
    if corr.shape[1] == 0:
        return []
    metric = np.abs(corr).sum(axis=0) / np.sqrt(len(PREAMBLE) * np.maximum(energy, 1e-30))
    min_spacing = min_spacing or len(PREAMBLE) * SPS
    found = []
    candidates = np.flatnonzero(metric > threshold)
    while candidates.size:
        best = int(candidates[np.argmax(metric[candidates])])
        found.append((best + _parabolic_offset(metric, best), float(metric[best])))
        candidates = candidates[np.abs(candidates - best) >= min_spacing]
    return sorted(found)


def _parabolic_offset(metric: np.ndarray, i: int) -> float:
    """Fractional position of the peak from its neighbours (timing refinement)."""
    if i == 0 or i + 1 >= len(metric):
        return 0.0
    a, b, c = metric[i - 1], metric[i], metric[i + 1]
    denom = a - 2 * b + c
    return float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) if denom < 0 else 0.0


def interpolate(z: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """z at fractional sample positions (cubic Lagrange; zero outside z)."""
    base = np.floor(positions).astype(np.int64)
    mu = positions - base
    out = np.zeros(len(positions), dtype=np.complex128)
    weights = (-mu * (mu - 1) * (mu - 2) / 6, (mu + 1) * (mu - 1) * (mu - 2) / 2,
               -(mu + 1) * mu * (mu - 2) / 2, (mu + 1) * mu * (mu - 1) / 6)
    for offset, w in zip((-1, 0, 1, 2), weights):
        idx = base + offset
        ok = (idx >= 0) & (idx < len(z))
        out[ok] += w[ok] * z[idx[ok]]
    return out


def estimate(z: np.ndarray, start: float, metric: float) -> Detection:
    """Frequency, gain and noise from the preamble at `start`.

    Frequency in two steps: a coarse lag-1 estimate (wide range, noisy), then
    a least-squares line through the phases of 8 coherent preamble segments
    after removing the coarse estimate (precise; what the header relies on).
    """
    k = np.arange(len(PREAMBLE))
    d = PREAMBLE * interpolate(z, start + k * SPS)
    coarse = float(np.angle(np.sum(d[1:] * np.conj(d[:-1]))) / (2 * np.pi))
    d1 = d * np.exp(-2j * np.pi * coarse * k)
    segments = np.array_split(np.arange(len(PREAMBLE)), 8)
    t = np.array([seg.mean() for seg in segments])
    phases = np.unwrap([np.angle(np.sum(d1[seg])) for seg in segments])
    fine = float(np.polyfit(t, phases, 1)[0] / (2 * np.pi))
    freq = coarse + fine
    d = d * np.exp(-2j * np.pi * freq * k)
    gain = complex(np.mean(d))
    noise_var = float(np.mean(np.abs(d - gain) ** 2))
    return Detection(start, metric, freq, gain, max(noise_var, 1e-12))


def symbols_at(z: np.ndarray, det: Detection, first: int, count: int) -> np.ndarray:
    """`count` symbols from symbol index `first` (0 = first preamble symbol);
    beyond the buffer they are zero (no information)."""
    return interpolate(z, det.start + (first + np.arange(count)) * SPS)


# Plausibility of an announced burst length: a block of this many symbols whose
# power is below SILENCE_RATIO x the preamble's and header's is "no signal".
# With 256 symbols the measured powers scatter by about 6%, so a real burst is
# not mistaken for silence (a 0.6 drop is ~5 standard deviations below it),
# while a gap is seen whenever Es/N0 > 1.8 dB (noise alone: N0 / (Es + N0) < 0.4).
# Below that the check does not fire and the stream receiver simply waits.
SILENCE_BLOCK = 256
SILENCE_RATIO = 0.4


def signal_stops(z: np.ndarray, det: Detection, data_first: int, end: int) -> int | None:
    """First symbol of a silent block between symbol data_first and the burst's
    announced end `end`, looking only at symbols already in z; None if the
    signal holds as far as the buffer goes."""
    reference = float(np.mean(np.abs(symbols_at(z, det, 0, data_first)) ** 2))
    present = int((len(z) - len(RRC) - det.start) // SPS)  # symbols whose samples are complete
    last = min(end, present)
    for first in range(data_first, last - SILENCE_BLOCK + 1, SILENCE_BLOCK):
        power = float(np.mean(np.abs(symbols_at(z, det, first, SILENCE_BLOCK)) ** 2))
        if power < SILENCE_RATIO * reference:
            return first
    return None


def phase_track(z: np.ndarray, det: Detection, data_first: int, n_data: int) -> tuple[float, float]:
    """Refine (phase at symbol 0, frequency) with the preamble and the pilots:
    least-squares line through their unwrapped phases."""
    times = [(len(PREAMBLE) - 1) / 2.0]
    residuals = [0.0]  # phase minus the preamble's prediction
    weights = [len(PREAMBLE)]
    pilots = pilot_positions(n_data)
    for b in range(len(pilots) // PILOT_LEN):
        pos = data_first + pilots[b * PILOT_LEN : (b + 1) * PILOT_LEN]
        y = symbols_at(z, det, pos[0], PILOT_LEN)
        t = float(pos.mean())
        predicted = np.angle(det.gain) + 2 * np.pi * det.freq * t
        times.append(t)
        residuals.append(np.angle(np.sum(y) * np.exp(-1j * predicted)))
        weights.append(PILOT_LEN)
    if len(times) < 2:
        return float(np.angle(det.gain)), det.freq
    t, w = np.array(times), np.array(weights, dtype=float)
    # A residual frequency error makes the residual phase drift slowly from
    # pilot block to block: unwrap in time order before fitting the line.
    p = np.angle(det.gain) + 2 * np.pi * det.freq * t + np.unwrap(np.array(residuals))
    A = np.stack([np.ones_like(t), 2 * np.pi * t], axis=1) * np.sqrt(w)[:, None]
    phase0, freq = np.linalg.lstsq(A, p * np.sqrt(w), rcond=None)[0]
    return float(phase0), float(freq)
