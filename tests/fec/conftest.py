# SPDX-License-Identifier: GPL-3.0-or-later
"""Channel-coding tests run torch on one thread (the root conftest's
one_torch_thread fixture; the previous setting is restored after each test)."""
import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread):
    yield
