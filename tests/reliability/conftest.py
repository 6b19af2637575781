"""Fixtures of the reliability tests (fixtures only: nothing here is imported)."""

from collections import Counter

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "internal_errors_expected: the test makes a block fail on purpose "
        "(no check that its drops are validation drops)")


@pytest.fixture(scope="session")
def tiny_dir(tiny_model_dir):
    """The tiny random LM as a local Hugging Face folder, as a string for the apps."""
    return str(tiny_model_dir)


@pytest.fixture(autouse=True)
def drops_are_validation_drops(request):
    """These tests feed the blocks bad input: every drop must be a validation
    drop. A block that dropped a PDU because of its own bug (an exception that
    is not an input error, pdu_util.INTERNAL_ERROR) fails the test, even when
    the drop counts come out as expected."""
    from gnuradio.lmsscc.pdu_util import INTERNAL_ERRORS_SEEN

    before = Counter(INTERNAL_ERRORS_SEEN)
    yield
    new = INTERNAL_ERRORS_SEEN - before
    if new and not request.node.get_closest_marker("internal_errors_expected"):
        pytest.fail(f"blocks dropped PDUs for internal errors (bugs, not bad input): {dict(new)}; "
                    "the block's log has the traceback", pytrace=False)
