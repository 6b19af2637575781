# SPDX-License-Identifier: GPL-3.0-or-later
"""The channel model, python/lmsscc/phy/channels.py: the only place where noise and fading gains are
drawn (phy, fec, jscc, benchmarks and trainers call it), and its statistics: noise variance N0 per
complex sample, unit-power Rayleigh gains, block vs fast fading, the torch twins alike."""

import ast

import numpy as np
import pytest
import torch

from gnuradio.lmsscc.phy import channels

from testutil import REPO

# Gaussian / Rayleigh / exponential draws of numpy Generators and of torch.
DRAWS = {"standard_normal", "normal", "rayleigh", "exponential", "standard_exponential",
         "multivariate_normal", "randn", "randn_like", "normal_", "exponential_"}
SCANNED = ("python/lmsscc", "apps", "bench", "train")
CHANNEL_MODULE = "python/lmsscc/phy/channels.py"
# Draws that model no channel: (file, enclosing function) -> why. Weight initialisations (a draw
# inside nn.Parameter(...)) are recognised as such.
NOT_A_CHANNEL = {("bench/bench_source.py", "bench_kernels"): "random logits to time the range coder"}


def random_draws(path):
    """(line, drawing call, enclosing function, inside nn.Parameter) of every draw in a file.
    Calls into the channel module (channels.rayleigh, ...) are no draws of their own."""
    tree = ast.parse(path.read_text(), str(path))
    found = []

    def visit(node, function, in_parameter):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            owner = getattr(func.value, "id", None) if isinstance(func, ast.Attribute) else None
            if name in DRAWS and owner != "channels":
                found.append((node.lineno, name, function, in_parameter))
            in_parameter = in_parameter or name == "Parameter"
        for child in ast.iter_child_nodes(node):
            visit(child, function, in_parameter)

    visit(tree, "<module>", False)
    return found


def all_draws():
    """{relative path: draws} over the package, the apps, the benchmarks and the trainers."""
    out = {}
    for folder in SCANNED:
        for path in sorted((REPO / folder).rglob("*.py")):
            if "__pycache__" not in path.parts:
                draws = random_draws(path)
                if draws:
                    out[str(path.relative_to(REPO))] = draws
    return out


def test_noise_and_fading_are_drawn_only_in_the_channel_module():
    draws = all_draws()
    stray = [f"{path}:{line} {name}() in {function}"
             for path, found in draws.items() if path != CHANNEL_MODULE
             for line, name, function, in_parameter in found
             if not in_parameter and (path, function) not in NOT_A_CHANNEL]
    assert stray == [], "drawn outside phy/channels.py (call channels instead):\n" + "\n".join(stray)


def test_the_scan_sees_draws_where_they_are():
    """The scan is not blind: it finds the channel module's own draws, each listed exception (no
    stale entry) and the weight initialisations it lets through."""
    draws = all_draws()
    assert {name for _, name, _, _ in draws[CHANNEL_MODULE]} >= {"standard_normal", "randn"}
    for path, function in NOT_A_CHANNEL:
        assert any(f == function for _, _, f, _ in draws.get(path, [])), (path, function)
    inits = {path for path, found in draws.items() for *_, in_parameter in found if in_parameter}
    assert "python/lmsscc/fec/ecct.py" in inits


N = 200_000


def test_complex_noise_has_variance_n0_split_evenly_and_uncorrelated():
    n0 = channels.noise_var_for_esn0(7.0)
    assert n0 == pytest.approx(10 ** -0.7)
    n = channels.awgn(np.zeros(N), n0, np.random.default_rng(1))
    assert np.mean(np.abs(n) ** 2) == pytest.approx(n0, rel=0.02)
    assert np.var(n.real) == pytest.approx(n0 / 2, rel=0.02)
    assert np.var(n.imag) == pytest.approx(n0 / 2, rel=0.02)
    assert abs(np.mean(n.real * n.imag)) < 0.02 * n0
    assert abs(np.mean(n)) < 0.01 * np.sqrt(n0)


def test_in_phase_noise_is_half_of_n0():
    n = channels.in_phase_noise(N, 0.8, np.random.default_rng(2))
    assert n.dtype == np.float64
    assert np.var(n) == pytest.approx(0.4, rel=0.02)


def test_per_row_noise_levels_broadcast():
    n0 = np.array([[0.1], [1.0]])
    n = channels.complex_noise((2, N // 2), n0, np.random.default_rng(3))
    np.testing.assert_allclose(np.mean(np.abs(n) ** 2, axis=1), [0.1, 1.0], rtol=0.03)


def check_unit_power_rayleigh(h):
    """E|h|^2 = 1, circular (E h = E h^2 = 0), |h|^2 exponential: P(|h|^2 < t) = 1 - exp(-t)."""
    power = np.abs(h) ** 2
    assert np.mean(power) == pytest.approx(1.0, rel=0.03)
    assert abs(np.mean(h)) < 0.03 and abs(np.mean(h ** 2)) < 0.03
    for t in (0.1, 1.0):
        assert np.mean(power < t) == pytest.approx(1 - np.exp(-t), abs=0.015)


def test_block_fading_one_unit_power_gain_per_row():
    h = channels.fading_gains((20_000, 8), "block", np.random.default_rng(4))
    assert np.all(h == h[:, :1])
    check_unit_power_rayleigh(h[:, 0])
    assert abs(np.corrcoef(np.abs(h[:-1, 0]), np.abs(h[1:, 0]))[0, 1]) < 0.03  # rows independent


def test_fast_fading_holds_a_gain_for_coherence_samples():
    h = channels.fading_gains((5000, 10), "fast", np.random.default_rng(5), coherence=4)
    for group in (slice(0, 4), slice(4, 8), slice(8, 10)):
        assert np.all(h[:, group] == h[:, group.start:group.start + 1])
    check_unit_power_rayleigh(h[:, [0, 4, 8]].reshape(-1))
    assert abs(np.corrcoef(np.abs(h[:, 3]), np.abs(h[:, 4]))[0, 1]) < 0.05  # next group: a new gain
    per_symbol = channels.fading_gains((4000, 49), "fast", np.random.default_rng(6))
    check_unit_power_rayleigh(per_symbol.reshape(-1))
    assert np.mean(per_symbol[:, 0] == per_symbol[:, 1]) == 0


def test_no_fading_draws_nothing():
    rng = np.random.default_rng(7)
    before = rng.bit_generator.state
    x = np.arange(5) + 1j
    faded, h = channels.rayleigh(x, rng, "none")
    assert rng.bit_generator.state == before
    np.testing.assert_array_equal(faded, x)
    np.testing.assert_array_equal(h, np.ones(5))


def test_fading_keeps_the_average_snr():
    """Signal power after fading is the power before: E|h x|^2 = E|x|^2 for either mode."""
    x = np.exp(2j * np.pi * np.random.default_rng(8).random((4000, 64)))
    for fading in ("block", "fast"):
        faded, h = channels.rayleigh(x, np.random.default_rng(9), fading)
        np.testing.assert_allclose(faded, h * x)
        assert np.mean(np.abs(faded) ** 2) == pytest.approx(1.0, rel=0.03)


def test_vocabulary_and_bad_input():
    assert channels.FADING == ("none", "block", "fast")
    assert [channels.channel_name(f) for f in channels.FADING] == ["awgn", "rayleigh", "rayleigh"]
    for bad in ("awgn", "rayleigh", "rayleigh_block", ""):
        with pytest.raises(ValueError, match="fading must be one of"):
            channels.fading_gains((4,), bad, np.random.default_rng(0))
    with pytest.raises(ValueError, match="coherence"):
        channels.fading_gains((4,), "fast", np.random.default_rng(0), coherence=0)


def test_torch_twins_have_the_same_statistics():
    gen = torch.Generator().manual_seed(0)
    n = channels.torch_complex_noise((N,), 0.5, gen)
    assert n.dtype == torch.complex64
    assert float(torch.mean(torch.abs(n) ** 2)) == pytest.approx(0.5, rel=0.02)
    assert float(torch.var(n.real)) == pytest.approx(0.25, rel=0.02)
    assert float(torch.var(channels.torch_in_phase_noise((N,), 0.5, gen))) == pytest.approx(0.25, rel=0.02)
    block = channels.torch_fading_gains((20_000, 8), "block", gen)
    assert torch.all(block == block[:, :1])
    check_unit_power_rayleigh(block[:, 0].numpy())
    fast = channels.torch_fading_gains((5000, 10), "fast", gen, coherence=4)
    assert torch.all(fast[:, 0:4] == fast[:, 0:1]) and torch.all(fast[:, 8:10] == fast[:, 8:9])
    check_unit_power_rayleigh(fast[:, [0, 4, 8]].reshape(-1).numpy())
    assert torch.all(channels.torch_fading_gains((3, 4), "none") == 1)


def test_burst_channel_refuses_an_unknown_fading_mode():
    from gnuradio.lmsscc.phy.blocks import burst_channel

    with pytest.raises(ValueError, match="fading must be one of"):
        burst_channel(fading="rayleigh")
