# SPDX-License-Identifier: GPL-3.0-or-later
"""A short run of each fuzz target (fuzz/run.sh, libFuzzer + ASan + UBSan for
the C++ range decoder, atheris for the Python parsers), and random PDUs into
every message block (each must be a validation drop or processed, never an
internal error). The long runs (>= 1,000,000 executions) are recorded in
docs/reliability.md."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pmt
import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "fuzz" / "run.sh"
TOOLCHAIN_MISSING = 77


def run_fuzzer(target, tmp_path, *args):
    r = subprocess.run([str(RUN), target, *args], capture_output=True, text=True, timeout=300,
                       env={"FUZZ_OUT": str(tmp_path), "PATH": "/usr/local/bin:/usr/bin:/bin"})
    if r.returncode == TOOLCHAIN_MISSING:
        pytest.skip(r.stderr.strip().splitlines()[-1])
    return r


def executed(output):
    for line in output.splitlines():
        if line.startswith("stat::number_of_executed_units:"):
            return int(line.rsplit(":", 1)[1])
    return 0


def test_range_decoder_fuzz_short(tmp_path):
    if not any(shutil.which(c) for c in ("clang++", "clang++-14", "clang++-15", "clang++-16")):
        pytest.skip("clang++ missing: apt-get install clang-14 libclang-rt-14-dev")
    r = run_fuzzer("range", tmp_path, "-runs=10000", "-seed=7")
    assert r.returncode == 0, r.stderr[-3000:]
    assert executed(r.stderr) == 10000
    assert not list((tmp_path / "range").glob("crash-*"))


def test_parser_fuzz_short(tmp_path):
    r = run_fuzzer("parsers", tmp_path, "-runs=50000", "-seed=7")
    assert r.returncode == 0, r.stderr[-3000:]
    assert executed(r.stderr) == 50000
    assert not list((tmp_path / "parsers").glob("crash-*"))


def test_fuzzer_catches_a_planted_bug(tmp_path):
    """The harness is live: a parser that raises a bare IndexError on a
    3-byte input starting with 0xFF is found within the short run."""
    planted = tmp_path / "planted.py"
    planted.write_text(
        "import sys, atheris\n"
        "def one(data):\n"
        "    if len(data) == 3 and data[0] == 0xFF:\n"
        "        raise IndexError('planted')\n"
        "atheris.Setup(sys.argv, one)\n"
        "atheris.Fuzz()\n")
    python = REPO / ".venv" / "bin" / "python"
    if subprocess.run([str(python), "-c", "import atheris"], capture_output=True).returncode:
        pytest.skip("atheris missing in .venv (pip install atheris)")
    r = subprocess.run([str(python), str(planted), "-runs=200000", "-seed=1",
                        f"-artifact_prefix={tmp_path}/"], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "planted" in r.stderr


# ------------------------------------------------ random PDUs into the blocks

def random_items(rng, dtype, n):
    if dtype == np.uint8:
        return rng.integers(0, 256, n, dtype=np.uint8)
    if dtype == np.float32:
        return (rng.normal(size=n) * rng.choice([0.1, 5.0, 1e30])).astype(np.float32)
    return (rng.normal(size=n) + 1j * rng.normal(size=n)).astype(np.complex64)


def mutated(rng, seed):
    """A valid input cut short, extended, and with a few items replaced."""
    data = seed.copy()
    cut = int(rng.integers(3))
    if cut == 0:
        data = data[: int(rng.integers(0, len(data) + 1))]
    elif cut == 1:
        data = np.concatenate([data, random_items(rng, data.dtype, int(rng.integers(1, 60)))])
    if len(data):
        where = rng.integers(0, len(data), int(rng.integers(1, 5)))
        items = random_items(rng, data.dtype, len(where))
        data[where] = items % 2 if seed.dtype == np.uint8 and seed.max() <= 1 else items  # bits stay bits
    return data


def random_pdus(rng, kind, seeds, count):
    """PDUs for a block that takes `kind` vectors: half of them mutated valid
    inputs (`seeds`), the others random items of random length; one in four of
    another vector type, one in seventeen not a PDU at all."""
    from gnuradio.lmsscc.pdu_util import make_pdu

    other = {"u8": "f32", "f32": "c32", "c32": "u8"}
    dtypes = {"u8": np.uint8, "f32": np.float32, "c32": np.complex64}
    for i in range(count):
        if i % 17 == 0:
            yield pmt.from_long(i)
        elif i % 4 == 0:
            yield make_pdu({"i": i}, random_items(rng, dtypes[other[kind]], 40), other[kind])
        elif i % 2:
            yield make_pdu({"i": i}, mutated(rng, seeds[i % len(seeds)]), kind)
        else:
            yield make_pdu({"i": i}, random_items(rng, dtypes[kind], int(rng.integers(0, 600))), kind)


def coded(block, texts):
    """What a source or link TX block makes of each text (its process(), no flowgraph)."""
    return [np.asarray(block.process({}, np.frombuffer(t.encode(), np.uint8))[0][1]) for t in texts]


def block_cases(tiny_lm, rng):
    """(vector kind, block, valid inputs) for every message block."""
    from gnuradio.lmsscc.fec import blocks as fec_blocks
    from gnuradio.lmsscc.phy import blocks as phy_blocks
    from gnuradio.lmsscc.source import blocks as source_blocks

    texts = ["a short message", "Ünïcødé and digits 0123", "the quick brown fox jumps"]
    for header_format in ("standard", "compact", "lean"):
        options = dict(model=tiny_lm, max_tokens=64, header_format=header_format)
        messages = coded(source_blocks.lm_arith_encoder(**options), texts)
        yield "u8", source_blocks.lm_arith_decoder(**options), [m.astype(np.uint8) for m in messages]
    text_bytes = [np.frombuffer(t.encode(), np.uint8) for t in texts]
    yield "u8", source_blocks.lm_arith_encoder(model=tiny_lm, max_tokens=64), text_bytes
    yield "u8", fec_blocks.fec_encoder("LDPC_N49_K24"), [rng.integers(0, 2, 24 * k, dtype=np.uint8)
                                                        for k in (1, 2, 5)]
    llrs = [(4 * rng.normal(size=49 * k)).astype(np.float32) for k in (1, 2, 3)]
    yield "f32", fec_blocks.bp_decoder("LDPC_N49_K24"), llrs
    yield "f32", fec_blocks.osd_decoder("LDPC_N49_K24"), llrs
    bursts = [b.astype(np.complex64) for b in coded(phy_blocks.link_tx(model=tiny_lm), texts)]
    yield "c32", phy_blocks.burst_channel(esn0_db=10, seed=2), bursts
    yield "c32", phy_blocks.link_rx(model=tiny_lm), bursts


def test_blocks_take_random_pdus_without_internal_errors(tiny_lm):
    """120 PDUs (mutated valid inputs, random ones, wrong types) into each
    message block, handled one by one as the flowgraph would: each is dropped
    as bad input or processed; none may hit an exception that is not an input
    error (checked per block here, and for every block by this folder's
    autouse fixture)."""
    from gnuradio.lmsscc.pdu_util import INTERNAL_ERROR

    rng = np.random.default_rng(11)
    for kind, block, seeds in block_cases(tiny_lm, rng):
        block.logger = block.drops.logger = QuietLogger()
        for msg in random_pdus(rng, kind, seeds, 120):
            block._on_pdu(msg)
        stats = block.stats()
        assert stats["pdus_in"] == 120 and stats["dropped"] > 0, (block.name(), stats)
        assert INTERNAL_ERROR not in stats["drop_reasons"], (block.name(), stats["drop_reasons"])


class QuietLogger:
    """The blocks' logger for a run that drops on purpose: keeps the lines."""

    def __init__(self):
        self.lines = []

    def warn(self, message):
        self.lines.append(message)

    error = info = debug = warn
