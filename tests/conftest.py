# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures: a tiny random LM (seconds) and the real default model
(loaded once, only by the few end-to-end tests that ask for it); every test
fails if a block dropped a PDU for an internal error."""

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

# Property tests: the gate (make test, CI) runs a fixed, reproducible set of
# examples so that a red run always means a change broke something. Searching
# for new counter-examples is a separate, deliberate run:
#   HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests -k "propert or range_coder"
settings.register_profile(
    "gate", max_examples=150, derandomize=True, database=None, deadline=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "explore", max_examples=5000, derandomize=False, deadline=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))


@pytest.fixture(scope="session")
def tiny_lm():
    from gnuradio.lmsscc.source.tiny import tiny_model

    return tiny_model(seed=0)


@pytest.fixture(scope="session")
def default_lm():
    from gnuradio.lmsscc.source import shared_model

    return shared_model(None)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_lm):
    """The tiny model saved as a local Hugging Face folder (safetensors)."""
    folder = tmp_path_factory.mktemp("tiny-model")
    tiny_lm.model.save_pretrained(folder, safe_serialization=True)
    tiny_lm.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def one_torch_thread():
    """Torch on one thread for the test, restored after: on a shared 2-core
    machine a second OpenMP thread competing with other work slows batched
    inference down many times."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "internal_errors_expected: the test makes a block fail on purpose "
        "(no check that its drops are validation drops)")
    config.stash[SIMD_PATHS] = {}


# What the SIMD invariance tests covered on this CPU: {(suite, path): ran?}
SIMD_PATHS = pytest.StashKey[dict]()


@pytest.fixture
def require_simd_path(request):
    """require_simd_path(suite, path, supported): records whether the SIMD
    path of `suite` runs on this CPU (the terminal summary lists what ran and
    what did not) and skips the test, saying why, where the CPU lacks it."""
    def require(suite: str, path: str, supported: bool) -> None:
        request.config.stash[SIMD_PATHS][(suite, path)] = supported
        if not supported:
            pytest.skip(f"{suite}: SIMD path {path} not tested, this CPU lacks it")
    return require


def pytest_terminal_summary(terminalreporter, config):
    paths = config.stash.get(SIMD_PATHS, {})
    if not paths:
        return
    terminalreporter.section("SIMD paths")
    for suite in sorted({s for s, _ in paths}):
        ran = [p for (s, p), ok in paths.items() if s == suite and ok]
        lacked = [p for (s, p), ok in paths.items() if s == suite and not ok]
        terminalreporter.write_line(f"{suite}: tested {', '.join(ran) or 'none'}; not tested "
                                    f"(the CPU lacks them): {', '.join(lacked) or 'none'}")


@pytest.fixture(autouse=True)
def drops_are_validation_drops(request):
    """Every drop of a message block, in any test, must be a validation drop
    (tests/reliability feeds every block bad input): a block that dropped a
    PDU because of its own bug (an exception that is not an input error,
    pdu_util.INTERNAL_ERROR) fails the test, even when the drop counts come
    out as expected."""
    from gnuradio.lmsscc.pdu_util import INTERNAL_ERRORS_SEEN

    before = Counter(INTERNAL_ERRORS_SEEN)
    yield
    new = INTERNAL_ERRORS_SEEN - before
    if new and not request.node.get_closest_marker("internal_errors_expected"):
        pytest.fail(f"blocks dropped PDUs for internal errors (bugs, not bad input): {dict(new)}; "
                    "the block's log has the traceback", pytrace=False)
