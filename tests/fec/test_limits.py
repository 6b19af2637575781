# SPDX-License-Identifier: GPL-3.0-or-later
"""BI-AWGN capacity, dispersion and the PPV normal approximation (fec/limits.py), checked
against values computed here another way (Gauss-Hermite quadrature, Monte Carlo)."""
import math

import numpy as np
import pytest

from gnuradio.lmsscc.fec.limits import (biawgn_capacity, biawgn_dispersion, normal_approx_ebn0_db,
                                            normal_approx_fer, q_inverse)


def density_samples_gh(esn0_db, points=120):
    """Gauss-Hermite (probabilists') nodes/weights and i(x;y) for x = +1 at those noise values,
    written in the received-sample domain y = 1 + sigma z."""
    z, w = np.polynomial.hermite_e.hermegauss(points)
    w = w / w.sum()
    sigma = math.sqrt(1.0 / (2.0 * 10 ** (esn0_db / 10)))
    y = 1.0 + sigma * z
    return w, 1.0 - np.log2(1.0 + np.exp(-2.0 * y / sigma ** 2))


def test_capacity_known_value_and_quadrature():
    # The textbook value: BPSK capacity at P/sigma^2 = 1 (0 dB SNR), i.e. Es/N0 = -3.01 dB in the
    # package's sigma^2 = 1 / (2 Es/N0), is 0.486 bits (Shannon's bound there is 0.5).
    assert biawgn_capacity(-10 * math.log10(2)) == pytest.approx(0.4860, abs=1e-3)
    for esn0 in (-6.0, -3.0, 0.0, 2.0, 5.0):
        w, dens = density_samples_gh(esn0)
        assert biawgn_capacity(esn0) == pytest.approx(float(w @ dens), abs=2e-6)
        assert biawgn_capacity(esn0) < 0.5 * math.log2(1 + 2 * 10 ** (esn0 / 10))
    assert biawgn_capacity(0.0) == pytest.approx(0.7215, abs=1e-3)
    assert biawgn_capacity(15.0) > 0.99999


def test_dispersion_against_quadrature_and_monte_carlo():
    for esn0 in (-3.0, 0.0, 3.0):
        w, dens = density_samples_gh(esn0)
        v_gh = float(w @ dens ** 2 - (w @ dens) ** 2)
        assert biawgn_dispersion(esn0) == pytest.approx(v_gh, rel=1e-4)
    rng = np.random.default_rng(1)
    sigma = math.sqrt(0.5)          # Es/N0 = 0 dB
    y = 1.0 + sigma * rng.standard_normal(2_000_000)
    dens = 1.0 - np.log2(1.0 + np.exp(-2.0 * y / sigma ** 2))
    assert biawgn_dispersion(0.0) == pytest.approx(dens.var(), rel=0.01)


def test_normal_approximation():
    n, k = 64, 32
    fers = [normal_approx_fer(n, k, e) for e in (0, 1, 2, 3, 4, 5)]
    assert all(a > b for a, b in zip(fers, fers[1:]))          # better with SNR
    # independent evaluation of eps = Q((nC - k + log2(n)/2) / sqrt(nV)) at 3 dB Eb/N0
    w, dens = density_samples_gh(3.0 + 10 * math.log10(k / n))
    c, v = float(w @ dens), float(w @ dens ** 2 - (w @ dens) ** 2)
    eps = 0.5 * math.erfc((n * c - k + 0.5 * math.log2(n)) / math.sqrt(n * v) / math.sqrt(2))
    assert normal_approx_fer(n, k, 3.0) == pytest.approx(eps, rel=1e-4)
    # Q^{-1} and the Eb/N0 inversion round-trip
    assert q_inverse(0.5) == pytest.approx(0.0, abs=1e-12)
    assert q_inverse(0.001) == pytest.approx(3.0902, abs=1e-4)
    eb = normal_approx_ebn0_db(n, k, 1e-3)
    assert normal_approx_fer(n, k, eb) == pytest.approx(1e-3, rel=1e-6)
    # a longer code of the same rate needs less Eb/N0 for the same FER
    assert normal_approx_ebn0_db(256, 128, 1e-3) < eb
    with pytest.raises(ValueError):
        normal_approx_fer(64, 0, 3.0)
    with pytest.raises(ValueError):
        q_inverse(1.0)
