# SPDX-License-Identifier: GPL-3.0-or-later
"""Fitting the trained tables of the pixel model (lib/pixel_model.cc) on
training images; used by train/train_pixel_model.py.

Three integer tables, each fitted where it is cheap and exact to do so:
  lin          least-squares linear predictors over the causal window, one
               per set (grey, R, G, B), the taps in the C++ order;
  shape        the CDF of the normalised residual (x - mu) / scale, taken
               from the model's own predictions on the training images;
  scale_prior  the mean |residual| of each activity context, the starting
               point of the online scale estimate.
Floats are used only here, at training time; the tables are rounded to
integers before they are written, so the coder itself never sees a float.
"""

from __future__ import annotations

import numpy as np

SETS = 4  # grey, R, G, B
LIN_TAPS = 20
LIN_SHIFT = 12
SHAPE_POINTS = 4097
SHAPE_BITS = 20
SHAPE_RANGE = 32.0  # the table spans u in [-32, 32]
BUCKETS = 72
# Sets in coding order: grey, then the three channels of RGB as coded (G, B, R).
SET_NAMES = ("grey", "G", "B", "R")
RGB_CODING_ORDER = (1, 2, 0)  # lib/pixel_model.cc codes G, then B, then R

# (dy, dx) of the same-channel taps, then (dy, dx) of each earlier channel's taps
_SAME_TAPS = ((0, -1), (-1, 0), (-1, -1), (-1, 1), (0, -2), (-2, 0), (-2, 1), (-2, -1), (-1, -2), (-1, 2))
_CROSS_TAPS = ((0, 0), (0, -1), (-1, 0), (-1, -1), (-1, 1))


def set_of(channels: int, c: int) -> int:
    return 0 if channels == 1 else 1 + c


def causal_taps(pixels: np.ndarray, c: int):
    """(taps, target) of the c-th coded channel at every interior pixel (2
    rows/columns from the top and sides, where no padding is involved)."""
    img = pixels[:, :, None] if pixels.ndim == 2 else pixels[:, :, list(RGB_CODING_ORDER)]
    h, w, _ = img.shape
    if h < 3 or w < 5:
        return np.zeros((0, LIN_TAPS)), np.zeros(0)
    ys, xs = slice(2, h), slice(2, w - 2)

    def shifted(dy, dx, ch):
        return img[2 + dy:h + dy, 2 + dx:w - 2 + dx, ch].astype(np.float64).ravel()

    cols = [shifted(dy, dx, c) for dy, dx in _SAME_TAPS]
    for back in (1, 2):
        if back <= c:
            cols += [shifted(dy, dx, c - back) for dy, dx in _CROSS_TAPS]
    taps = np.zeros((len(cols[0]), LIN_TAPS))
    taps[:, :len(cols)] = np.stack(cols, axis=1)
    return taps, img[ys, xs, c].astype(np.float64).ravel()


def fit_linear(images, ridge=1e-3, max_rows_per_image=400_000, seed=0) -> np.ndarray:
    """Ridge least squares per set; returns SETS x LIN_TAPS int32 weights in Q12."""
    rng = np.random.default_rng(seed)
    gram = np.zeros((SETS, LIN_TAPS, LIN_TAPS))
    rhs = np.zeros((SETS, LIN_TAPS))
    for pixels in images:
        channels = 1 if pixels.ndim == 2 else pixels.shape[2]
        for c in range(channels):
            taps, target = causal_taps(pixels, c)
            if len(target) > max_rows_per_image:
                keep = rng.choice(len(target), max_rows_per_image, replace=False)
                taps, target = taps[keep], target[keep]
            s = set_of(channels, c)
            gram[s] += taps.T @ taps
            rhs[s] += taps.T @ target
    weights = np.zeros((SETS, LIN_TAPS))
    for s in range(SETS):
        used = np.flatnonzero(np.diag(gram[s]) > 0)
        if len(used) == 0:
            weights[s, 0] = 1.0  # no training data for the set: predict W
            continue
        g = gram[s][np.ix_(used, used)]
        g = g + ridge * np.trace(g) / len(used) * np.eye(len(used))
        weights[s, used] = np.linalg.solve(g, rhs[s][used])
    return np.round(weights * (1 << LIN_SHIFT)).astype(np.int32)


def _table_from_cdf(cdf_values: np.ndarray) -> np.ndarray:
    table = np.round(np.clip(cdf_values, 0.0, 1.0) * (1 << SHAPE_BITS)).astype(np.int64)
    return np.maximum.accumulate(table).astype(np.int32)


def shape_grid() -> np.ndarray:
    return np.linspace(-SHAPE_RANGE, SHAPE_RANGE, SHAPE_POINTS)


def logistic_shape() -> np.ndarray:
    """Logistic CDF with mean |u| = 1 (scale 1 / (2 ln 2)): the shape before training."""
    s = 1.0 / (2.0 * np.log(2.0))
    return _table_from_cdf(1.0 / (1.0 + np.exp(-shape_grid() / s)))


def fit_shape(u: np.ndarray, weights=None, smooth_points=8) -> np.ndarray:
    """Empirical CDF of normalised residuals u, mixed with a little logistic
    (so no region of the table is flat) and smoothed over a few table steps."""
    grid = shape_grid()
    order = np.argsort(u)
    u_sorted = u[order]
    w = np.ones_like(u) if weights is None else weights
    cum = np.concatenate([[0.0], np.cumsum(w[order])])
    cdf = cum[np.searchsorted(u_sorted, grid, side="right")] / cum[-1]
    kernel = np.ones(2 * smooth_points + 1) / (2 * smooth_points + 1)
    cdf = np.convolve(np.pad(cdf, smooth_points, mode="edge"), kernel, mode="valid")
    s = 1.0 / (2.0 * np.log(2.0))
    logistic = 1.0 / (1.0 + np.exp(-grid / s))
    return _table_from_cdf(0.98 * cdf + 0.02 * logistic)


def default_scale_prior() -> np.ndarray:
    """Mean |residual| (Q4) guessed from the activity of each bucket (about a tenth of it)."""
    activity = 2.0 ** (np.arange(BUCKETS) / 4.0) - 1.0
    prior = np.clip(np.round(activity / 10.0), 1, 4080).astype(np.int32)
    return np.tile(prior, (SETS, 1))


def fit_scale_prior(buckets_by_set, abs_residuals_by_set, fallback: np.ndarray) -> np.ndarray:
    """Mean |residual| per (set, bucket) over the training images; buckets
    seen fewer than 50 times keep the fallback."""
    prior = fallback.copy()
    for s in range(SETS):
        b = buckets_by_set[s]
        if len(b) == 0:
            continue
        counts = np.bincount(b, minlength=BUCKETS)
        sums = np.bincount(b, weights=abs_residuals_by_set[s], minlength=BUCKETS)
        seen = counts >= 50
        prior[s, seen] = np.clip(np.round(sums[seen] / counts[seen]), 1, 4080)
    return prior.astype(np.int32)
