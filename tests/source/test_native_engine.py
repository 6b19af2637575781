# SPDX-License-Identifier: GPL-3.0-or-later
"""The native deterministic engine (lib/llama_engine.cc) with the default model:
exact round trips across thread counts, batches, processes and SIMD paths,
and closeness to the fp32 Hugging Face model. The C++ kernels have their own
ctest (lib/qa_llama_engine.cc)."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from gnuradio.lmsscc import lmsscc_python as kernels
from gnuradio.lmsscc.source import LMCodec, NumericSettings, load_model
from gnuradio.lmsscc.source.models import batching, default_gguf_path
from gnuradio.lmsscc.source.models.batching import decode_batch, encode_batch
from gnuradio.lmsscc.source.models.native import NativeLanguageModel, build_engine

TEXTS = [
    "The quick brown fox jumps over the lazy dog, and the dog does not seem to mind.",
    "Alice was beginning to get very tired of sitting by her sister on the bank.",
    "Radio links lose packets; a language model makes every bit count.",
    "In 1969, two astronauts walked on the Moon while a third orbited above them.",
    "Numbers like 3.14159 and 2.71828 show up everywhere in mathematics!",
]


@pytest.fixture(scope="module")
def lm1():
    return load_model(None, NumericSettings(engine="native", threads=1))


@pytest.fixture(scope="module")
def lm2(lm1):
    """A second, separately built engine with 2 threads (same file, same
    tokenizer object to save a few seconds of loading)."""
    settings = NumericSettings(engine="native", threads=2)
    engine = build_engine(default_gguf_path(), threads=2)
    return NativeLanguageModel(engine, lm1.tokenizer, lm1.name, lm1.weights_digest, settings)


def _stream_logits(lm, tokens):
    s = lm.stream()
    out = [s.logits().copy()]
    for t in tokens[:-1]:
        s.push(t)
        out.append(s.logits().copy())
    s.close()
    return np.stack(out)


def test_fingerprint_ignores_threads_only(lm1, lm2):
    assert len(lm1.fingerprint) == 32
    assert lm1.fingerprint == lm2.fingerprint
    other = NativeLanguageModel(lm1.engine, lm1.tokenizer, lm1.name, lm1.weights_digest,
                                NumericSettings(engine="native", start_token=1))
    assert other.fingerprint != lm1.fingerprint


@pytest.mark.parametrize("enc_threads,dec_threads", [(1, 2), (2, 1)])
def test_round_trip_across_thread_counts(lm1, lm2, enc_threads, dec_threads):
    lms = {1: lm1, 2: lm2}
    text = " ".join(TEXTS[:3])
    enc = LMCodec(lms[enc_threads]).encode(text)
    dec = LMCodec(lms[dec_threads]).decode(enc.message)
    assert dec.crc_ok and dec.text == text
    # both engines produce the very same message
    assert LMCodec(lms[dec_threads]).encode(text).message == enc.message
    assert enc.model_bits / len(text) < 2.0  # it compresses prose


def test_logits_identical_threads_and_repeats(lm1, lm2):
    tokens = lm1.tokenize(TEXTS[1] + " " + TEXTS[3])
    a = _stream_logits(lm1, tokens)
    b = _stream_logits(lm2, tokens)
    c = _stream_logits(lm1, tokens)
    lm2.engine.threads = 3
    lm2.engine.set_parallel_min(0, 0)  # split even the smallest products and attention
    try:
        d = _stream_logits(lm2, tokens)
    finally:
        lm2.engine.threads = 2
        lm2.engine.set_parallel_min(1e6, 9 * 192)
    assert a.dtype == np.float32 and a.shape == (len(tokens), lm1.vocab_size)
    assert np.array_equal(a, b) and np.array_equal(a, c) and np.array_equal(a, d)
    # multi-token steps (the encoder's fast path) give the same bits
    assert np.array_equal(lm1.sequence_logits(tokens, chunk=7), a)


@pytest.mark.parametrize("path", ["scalar", "avx2", "avx512vnni"])
def test_simd_paths_identical(lm1, path, require_simd_path):
    require_simd_path("native engine logits", path, kernels.engine_simd_supported(path))
    tokens = lm1.tokenize(TEXTS[2])[:6]
    ref = _stream_logits(lm1, tokens)
    best = lm1.engine.simd
    try:
        lm1.engine.simd = path
        assert np.array_equal(_stream_logits(lm1, tokens), ref), path
    finally:
        lm1.engine.simd = best


def test_alone_vs_batched(lm1, lm2):
    # encoded alone, decoded inside a batch of others
    solo = [LMCodec(lm1).encode(t).message for t in TEXTS]
    decoded = decode_batch(LMCodec, lm2, solo)
    assert [d.text for d in decoded] == TEXTS and all(d.crc_ok for d in decoded)
    # encoded inside a batch: the same bytes, and decodable alone
    batched = encode_batch(LMCodec, lm2, TEXTS[::-1], groups=2)  # two pipelined groups
    assert [r.message for r in batched] == solo[::-1]
    assert LMCodec(lm1).decode(batched[0].message).text == TEXTS[-1]


def test_step_batch_matches_single_streams(lm1):
    seqs = [lm1.tokenize(t)[:12] for t in TEXTS[:4]]
    solo = [_stream_logits(lm1, s) for s in seqs]
    streams = lm1.streams(4)
    got = [[s.logits().copy()] for s in streams]
    for i in range(11):
        # a changing subset and order of batch-mates each step
        idx = [j for j in range(4) if (i + j) % 3 != 0][::(-1) ** i]
        out = lm1.step_batch([streams[j] for j in idx], [seqs[j][len(got[j]) - 1] for j in idx])
        for k, j in enumerate(idx):
            assert np.array_equal(out[k], streams[j].logits())
            got[j].append(out[k].copy())
    for j in range(4):
        n = len(got[j])
        assert np.array_equal(np.stack(got[j]), solo[j][:n])
        streams[j].close()
    with pytest.raises(ValueError):
        lm1.step_batch([streams[0], streams[0]], [1, 2])


_DIGEST_SNIPPET = """
import hashlib, sys
from gnuradio.lmsscc.source import NumericSettings, load_model
lm = load_model(None, NumericSettings(engine="native", threads=3))
tokens = [int(t) for t in sys.argv[1].split(",")]
print(hashlib.sha256(lm.sequence_logits(tokens).tobytes()).hexdigest())
"""


def test_identical_in_another_process(lm1):
    tokens = lm1.tokenize(TEXTS[0])
    here = hashlib.sha256(_stream_logits(lm1, tokens).tobytes()).hexdigest()
    out = subprocess.run([sys.executable, "-c", _DIGEST_SNIPPET, ",".join(map(str, tokens))],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == here


def test_weights_are_the_gguf_blocks(lm1):
    import gguf

    reader = gguf.GGUFReader(str(default_gguf_path()))
    tensors = {t.name: t for t in reader.tensors}
    for name, make in (("blk.7.attn_output.weight", kernels.QMatrix.from_q4_1),
                       ("blk.0.ffn_down.weight", kernels.QMatrix.from_q4_1)):
        t = tensors[name]
        rows, cols = int(t.shape[1]), int(t.shape[0])
        q = make(np.ascontiguousarray(np.asarray(t.data)), rows, cols)
        ref = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).reshape(rows, cols)
        assert np.array_equal(q.dequantize(), ref), name


def test_close_to_fp32_hf(lm1, default_lm):
    """Bits/char of the native engine vs the fp32 Hugging Face model on the
    same text (the full-sequence HF forward; the coding path steps token by
    token, which differs from it only in float rounding)."""
    import torch

    text = " ".join(TEXTS)
    tokens = default_lm.tokenize(text)
    with torch.inference_mode():
        ref = default_lm.model(torch.tensor([[0] + tokens[:-1]])).logits[0].float().numpy()
    got = lm1.sequence_logits(tokens)

    def log_softmax(x):
        x = x.astype(np.float64)
        m = x.max(axis=1, keepdims=True)
        return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))

    a, b = log_softmax(ref), log_softmax(got)
    kl = float((np.exp(a) * (a - b)).sum(axis=1).mean())
    idx = np.arange(len(tokens))
    bits_hf = -a[idx, tokens].sum() / np.log(2)
    bits_native = -b[idx, tokens].sum() / np.log(2)
    rel = bits_native / bits_hf - 1.0
    print(f"\nnative vs HF fp32: {len(tokens)} tokens, KL {kl:.5f} nats/token, "
          f"bits/char {bits_hf / len(text):.4f} -> {bits_native / len(text):.4f} ({100 * rel:+.2f}%)")
    assert kl < 0.02
    assert rel < 0.02


def test_primed_fork_and_batched_decode(lm1):
    """A priming context is computed once and forked (engine copy_stream); the
    same messages decode inside a batch, where streams cannot fork."""
    from gnuradio.lmsscc.source import LMCodec, load_context

    texts = ["Madam President, on a point of order.", "The debate is closed."]
    codec = LMCodec(lm1, context=load_context("europarl"))
    primed = codec.primed_stream()
    twin = primed.fork()
    assert np.array_equal(primed.logits(), twin.logits())
    primed.push(5)
    assert np.array_equal(twin.logits(), codec.primed_stream().logits())  # the copy is independent
    messages = [codec.encode(t).message for t in texts]
    assert [codec.decode(m).text for m in messages] == texts
    batched = decode_batch(lambda m: LMCodec(m, context=load_context("europarl")), lm1, messages)
    assert [r.text for r in batched] == texts


def test_lean_messages_batched_and_prefilled(lm1):
    """Lean (version 3) messages end at a model-coded terminator, so batched
    decoding streams stop at different steps; the prefill encoder must give
    the very same bytes (it computes the terminator's logits too)."""
    from gnuradio.lmsscc.source import load_context
    from gnuradio.lmsscc.source.models.batching import encode_prefilled

    lean = LMCodec(lm1, header_format="lean")
    messages = [lean.encode(t).message for t in TEXTS]
    assert [encode_prefilled(lambda m: LMCodec(m, header_format="lean"), lm1, t).message
            for t in TEXTS] == messages
    batched = decode_batch(lambda m: LMCodec(m, header_format="lean"), lm1, messages)
    assert [r.text for r in batched] == TEXTS
    with pytest.raises(ValueError, match="priming context"):
        encode_prefilled(lambda m: LMCodec(m, context=load_context("news")), lm1, TEXTS[0])


def test_link_receiver_decodes_several_bursts_in_one_batch(lm1, monkeypatch):
    """A capture holding several bursts: the receiver LM-decodes their messages
    together in batched engine steps, with the same texts."""
    from gnuradio.lmsscc.phy import channels as ch
    from gnuradio.lmsscc.phy.link import Receiver, Transmitter
    from gnuradio.lmsscc.source import LMCodec

    codec = LMCodec(lm1)
    tx, rx = Transmitter(codec), Receiver(codec)
    texts = ["first burst", "second burst, a little longer", "third"]
    samples = np.concatenate([tx.send(t).samples for t in texts])
    batches = []
    real = batching.decode_batch

    def spy(factory, lm, messages, *args, **kw):
        batches.append(len(messages))
        return real(factory, lm, messages, *args, **kw)

    monkeypatch.setattr(batching, "decode_batch", spy)
    got = rx.receive(ch.awgn(samples, 0.05, np.random.default_rng(0)))
    assert [g.text for g in got] == texts and all(g.ok for g in got)
    assert batches == [3]


def test_link_blocks_run_the_native_engine():
    """engine="native" reaches the link blocks (and tx_text/rx_text --engine):
    messages cross the loopback link coded by the native engine, lean format."""
    from gnuradio.lmsscc.phy.radio import LoopbackLink

    link = LoopbackLink(esn0_db=12, header_format="lean", engine="native")
    try:
        assert isinstance(link.tx.tx.codec.lm, NativeLanguageModel)
        assert isinstance(link.rx.rx.codec.lm, NativeLanguageModel)
        results = [link.send(t, timeout=120) for t in TEXTS[:2]]
    finally:
        link.close()
    assert [data.decode() for _, data in results] == TEXTS[:2]
    assert all(meta["crc_ok"] for meta, _ in results)


def test_a_native_model_object_is_used_as_it_is(lm1):
    """make_codec and the blocks once took any model that was not a
    LanguageModel for a path, and loaded str(model): a NativeLanguageModel
    handed to a block must be the model the block codes with."""
    from gnuradio import lmsscc
    from gnuradio.lmsscc.source import CodingModel, make_codec
    from gnuradio.lmsscc.source.models import fingerprint_as

    assert isinstance(lm1, CodingModel)
    assert make_codec(lm1, engine="hf").lm is lm1
    assert lmsscc.lm_arith_encoder(model=lm1).codec.lm is lm1
    assert lmsscc.lm_arith_decoder(model=lm1, header_format="lean").codec.lm is lm1
    assert fingerprint_as(lm1, "native") == lm1.fingerprint


def test_batching_proxies_are_coding_models(lm1):
    """What a batched job's codec receives satisfies the same protocol, and
    make_codec takes it as it is."""
    from gnuradio.lmsscc.source import CodingModel, make_codec
    from gnuradio.lmsscc.source.models.batching import PrefillModel, run_batched

    def job(model):
        assert isinstance(model, CodingModel) and not model.can_fork
        codec = make_codec(model, header_format="lean")
        assert codec.lm is model
        return codec.encode(TEXTS[0]).message

    assert isinstance(PrefillModel(lm1), CodingModel)
    assert run_batched(lm1, [job, job]) == [LMCodec(lm1, header_format="lean").encode(TEXTS[0]).message] * 2
