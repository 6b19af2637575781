# SPDX-License-Identifier: GPL-3.0-or-later
"""Known answers of the LM message format (tests/vectors/messages.json): the
bytes of packed and range-coded headers, and of whole messages of fixed texts
in each header format, coded now by the installed package, must equal the
committed ones, and the committed messages must decode to their texts. A
round trip cannot see a change that alters encoder and decoder alike; this
can (such a change breaks every message already sent: tests/vectors/README.md)."""

import importlib.util
import json
from pathlib import Path

import pytest

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"
_spec = importlib.util.spec_from_file_location("make_vectors", VECTORS_DIR / "make_vectors.py")
make_vectors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_vectors)

COMMITTED = json.loads(make_vectors.MESSAGES.read_text())
CASES = {case["name"]: case for case in COMMITTED["cases"]}


@pytest.fixture(scope="module")
def lm():
    return make_vectors.vector_model()


def test_packed_headers_as_committed():
    assert make_vectors.packed_header_cases() == COMMITTED["packed_headers"]


def test_lean_headers_as_committed():
    assert make_vectors.lean_header_cases() == COMMITTED["lean_headers"]


def test_every_case_is_committed(lm):
    assert sorted(make_vectors.message_cases(lm)) == sorted(CASES)
    assert lm.fingerprint.hex() == COMMITTED["model_fingerprint"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_message_bytes_as_committed(lm, name):
    case = CASES[name]
    messages = make_vectors.encode_case(lm, case["header_format"], case["context"], case["texts"],
                                        case["conversation"])
    assert [m.hex() for m in messages] == case["messages"], (
        f"regenerate only for a wire-format break: {make_vectors.REGENERATE}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_committed_messages_decode(lm, name):
    case = CASES[name]
    messages = [bytes.fromhex(m) for m in case["messages"]]
    texts = make_vectors.decode_case(lm, case["header_format"], case["context"], messages,
                                     case["conversation"])
    assert texts == case["texts"]
