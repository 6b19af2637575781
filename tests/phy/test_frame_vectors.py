# SPDX-License-Identifier: GPL-3.0-or-later
"""Known answers of the link's wire format (tests/vectors/frames.json): frame
bytes, PHY header bits, the preamble and the LDPC(49,24) codeword bits of a
burst for fixed inputs must equal the committed ones, and the committed frames
and headers must parse back to their inputs (a change here breaks every
receiver in the field: tests/vectors/README.md)."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from gnuradio.lmsscc.phy import frame

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"
_spec = importlib.util.spec_from_file_location("make_vectors", VECTORS_DIR / "make_vectors.py")
make_vectors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_vectors)

COMMITTED = json.loads(make_vectors.FRAMES.read_text())


@pytest.fixture(scope="module")
def computed():
    return make_vectors.compute_frames()


@pytest.mark.parametrize("part", ["preamble_bits", "frames", "phy_headers", "bursts_ldpc_n49_k24"])
def test_as_committed(computed, part):
    assert computed[part] == COMMITTED[part], (
        f"regenerate only for a wire-format break: {make_vectors.REGENERATE}")


@pytest.mark.parametrize("name", sorted(COMMITTED["frames"]))
def test_committed_frames_parse(name):
    case = COMMITTED["frames"][name]
    assert frame.parse_frame(bytes.fromhex(case["frame"])) == (case["seq"] & 0xFFFF,
                                                               bytes.fromhex(case["message"]))


@pytest.mark.parametrize("case", COMMITTED["phy_headers"],
                         ids=lambda c: f"{c['modulation']}-{c['codewords']}")
def test_committed_phy_headers_parse(case):
    bits = frame.bytes_to_bits(bytes.fromhex(case["bits"]))
    assert len(bits) == frame.PHY_HEADER_BITS
    assert frame.parse_phy_header(np.concatenate([bits, np.zeros(16, np.uint8)])) == (
        case["modulation"], case["codewords"])
