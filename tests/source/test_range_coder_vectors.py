# SPDX-License-Identifier: GPL-3.0-or-later
"""The range coder's known answers (tests/vectors/range_coder.txt, also checked
by the ctest qa_known_answers, natively and as an aarch64 build under qemu):
the library, through its Python bindings, produces exactly the committed
bytes and decodes them back; and an independent model of the algorithm that
include/gnuradio/lmsscc/range_coder.h describes, written here in Python,
produces the same bytes, so the vectors pin the documented format and not
only whatever the C++ happened to do when they were written."""

from pathlib import Path

import numpy as np
import pytest

from gnuradio import lmsscc

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "range_coder.txt"


def read_cases(path=VECTORS):
    """The [range_coder NAME] sections of the vector file, as dicts."""
    cases, case = [], None
    for line in path.read_text().splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "[range_coder":
            case = {"name": words[1].rstrip("]"), "cdfs": [], "bytes": ""}
            cases.append(case)
        elif words[0] == "cdf":
            case["cdfs"].append([int(w) for w in words[1:]])
        elif words[0] == "symbols":
            case["symbols"] = [int(w) for w in words[1:]]
        elif words[0] == "bytes":
            case["bytes"] = "".join(words[1:])
        else:
            case[words[0]] = words[1]
    return cases


CASES = read_cases()


def cdf_of(case, i):
    return case["cdfs"][i % len(case["cdfs"])]


class ReferenceEncoder:
    """range_coder.h in Python: a 56-bit window, r = range >> precision, the
    last symbol takes the rounding slack, bytes leave from the top with a
    cache byte and pending 0xFF bytes for carries; the stream ends on the
    value with the most trailing zero bits, trailing zero bytes stripped."""

    WINDOW = 56
    TOP = 1 << WINDOW
    BOTTOM = 1 << (WINDOW - 8)

    def __init__(self, precision):
        self.precision = precision
        self.low, self.range = 0, self.TOP
        self.cache, self.have_cache, self.pending = 0, False, 0
        self.out = bytearray()
        self.carries = 0

    def _shift(self):
        shift = self.WINDOW - 8
        if self.low < (0xFF << shift) or self.low >= self.TOP:
            carry = self.low >> self.WINDOW
            if carry and (self.have_cache or self.pending):
                self.carries += 1
            if self.have_cache:
                self.out.append((self.cache + carry) & 0xFF)
            self.out.extend([(0xFF + carry) & 0xFF] * self.pending)
            self.pending = 0
            self.cache, self.have_cache = (self.low >> shift) & 0xFF, True
        else:
            self.pending += 1
        self.low = (self.low << 8) & (self.TOP - 1)

    def encode(self, start, freq):
        r = self.range >> self.precision
        self.low += r * start
        last = start + freq == 1 << self.precision
        self.range = self.range - r * start if last else r * freq
        while self.range <= self.BOTTOM:
            self._shift()
            self.range <<= 8

    def finish(self):
        high = self.low + self.range
        k = self.WINDOW + 1
        while True:
            step = 1 << k
            value = (self.low + step - 1) & ~(step - 1)
            if value < high:
                break
            k -= 1
        self.low = value
        significant = 0 if k >= self.WINDOW else self.WINDOW - k
        for _ in range(max(1, (significant + 7) // 8) + 1):
            self._shift()
        return bytes(self.out).rstrip(b"\0")


def test_vector_file_covers_the_coder():
    names = {c["name"] for c in CASES}
    assert {"top_of_range_p16", "varying_p31", "certain_p16", "nothing_p12"} <= names
    assert {c["api"] for c in CASES} == {"static", "per_symbol"}
    assert {int(c["precision"]) for c in CASES} >= {1, 8, 16, 24, 31}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_library_produces_the_committed_bytes(case):
    precision = int(case["precision"])
    enc = lmsscc.RangeEncoder(precision)
    if case["api"] == "static":
        enc.encode_symbols(np.asarray(case["symbols"], np.uint32),
                           np.asarray(case["cdfs"][0], np.uint32))
    else:
        for i, s in enumerate(case["symbols"]):
            enc.encode_symbol(np.asarray(cdf_of(case, i), np.uint32), s)
    blob = enc.finish()
    assert blob.hex() == case["bytes"]
    dec = lmsscc.RangeDecoder(blob, precision)
    decoded = [dec.decode_symbol(np.asarray(cdf_of(case, i), np.uint32))
               for i in range(len(case["symbols"]))]
    assert decoded == case["symbols"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_reference_model_produces_the_committed_bytes(case):
    enc = ReferenceEncoder(int(case["precision"]))
    for i, s in enumerate(case["symbols"]):
        cdf = cdf_of(case, i)
        enc.encode(cdf[s], cdf[s + 1] - cdf[s])
    assert enc.finish().hex() == case["bytes"]
    if case["name"] == "top_of_range_p16":
        assert enc.carries > 0, "the carry case no longer carries"
