# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the reliability tests (fixtures only: nothing here is imported)."""

import pytest


@pytest.fixture(scope="session")
def tiny_dir(tiny_model_dir):
    """The tiny random LM as a local Hugging Face folder, as a string for the apps."""
    return str(tiny_model_dir)
