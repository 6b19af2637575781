# SPDX-License-Identifier: GPL-3.0-or-later
"""The project's own deterministic C++ engine (lib/llama_engine.cc) as a
language-model backend for the codec: ``NumericSettings(engine="native")``.

Logits are a pure function of (model file, tokens): the same on every run and
process, for any thread count, any SIMD path of the kernels and any batch-mates
(docs/engine.md states the contract and how the tests check it). That is why
the fingerprint leaves the thread count out.

Besides the CodingModel protocol, a batched API for coding several messages
at once (batching.py builds on it):

    lm = load_native(path, NumericSettings(engine="native", threads=2))
    a, b = lm.stream(), lm.stream()
    lm.step_batch([a, b], [tok_a, tok_b])   # one pass over the weights
    a.logits(), b.logits()

and a fast path for an encoder, which knows all tokens in advance:
``lm.sequence_logits(tokens)`` (identical to pushing them one by one).
"""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np

from . import gguf_reader
from .base import ExactTokenization, NumericSettings, digest_files, fingerprint_of, tokenizer_digest
from ... import lmsscc_python as kernels

ENGINE_ID = "native-gguf-blocks-int8act-v1"
# Per-stream context limit of the engine (KV cache grows as needed up to this).
DEFAULT_CONTEXT = 16384
# Tokens per engine call in sequence_logits (the prefill of an encoder).
PREFILL_CHUNK = 64


def build_engine(path, threads: int = 1, simd: str = "auto", n_ctx: int = DEFAULT_CONTEXT):
    """A ready ``lmsscc_python.LlamaEngine`` for a Llama-architecture GGUF file."""
    reader = gguf_reader.open_reader(path)

    def meta(key, default=None):
        return gguf_reader.metadata(reader, key, default)

    arch = meta("general.architecture")
    if arch != "llama":
        raise ValueError(f"the native engine runs Llama-architecture GGUF files, not {arch!r}")
    tensors = {t.name: t for t in reader.tensors}
    n_layer = int(meta("llama.block_count"))
    n_embd = int(meta("llama.embedding_length"))
    n_head = int(meta("llama.attention.head_count"))
    n_head_kv = int(meta("llama.attention.head_count_kv", n_head))
    n_ff = int(meta("llama.feed_forward_length"))
    eps = float(meta("llama.attention.layer_norm_rms_epsilon"))
    theta = float(meta("llama.rope.freq_base", 10000.0))
    embd = tensors["token_embd.weight"]
    n_vocab = int(embd.shape[1])
    rope_dims = int(meta("llama.rope.dimension_count", n_embd // n_head))
    if rope_dims != n_embd // n_head:
        raise ValueError("partial RoPE is not supported by the native engine")
    engine = kernels.LlamaEngine(n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                                 n_head_kv=n_head_kv, n_ff=n_ff, n_vocab=n_vocab,
                                 rms_eps=eps, rope_theta=theta, n_ctx_max=n_ctx,
                                 threads=threads, simd=simd)
    matrix, vector = gguf_reader.quantized_matrix, gguf_reader.float_vector
    engine.set_token_embedding(matrix([embd]))
    if "output.weight" in tensors:
        engine.set_output(matrix([tensors["output.weight"]]))
    engine.set_output_norm(vector(tensors["output_norm.weight"]))
    for i in range(n_layer):
        t = lambda name: tensors[f"blk.{i}.{name}.weight"]  # noqa: E731
        engine.set_layer(
            i,
            vector(t("attn_norm")),
            matrix([t("attn_q"), t("attn_k"), t("attn_v")]),
            matrix([t("attn_output")]),
            vector(t("ffn_norm")),
            matrix([t("ffn_gate"), t("ffn_up")]),
            matrix([t("ffn_down")]),
        )
    if not engine.ready:
        raise RuntimeError("native engine: weights incomplete")
    return engine


def describe_numerics(settings: NumericSettings) -> str:
    # threads are left out on purpose: the engine's logits do not depend
    # on them (tested: tests/source/test_native_engine.py, lib/qa_llama_engine.cc)
    return f"engine=native;start={settings.start_token}"


def fingerprint(weights_digest: str, tokenizer, vocab_size: int, settings: NumericSettings) -> bytes:
    """The model fingerprint of the native engine (also used to name the
    settings another sender used, without building this engine)."""
    return fingerprint_of((
        ENGINE_ID,
        weights_digest,
        tokenizer_digest(tokenizer),
        describe_numerics(settings),
        f"vocab={vocab_size}",
    ))


class NativeStream:
    """One left-to-right pass: ``logits()`` then ``push(token)`` (a TokenStream).

    While a batching.run_batched job owns it, ``push`` goes through that
    job's lock-step batcher (``batcher``) instead of a solo engine step."""

    def __init__(self, lm: "NativeLanguageModel", feed_start: bool = True, copy_of: int | None = None):
        self.model = lm
        engine = lm.engine
        self.id = engine.new_stream() if copy_of is None else engine.copy_stream(copy_of)
        # the engine stream is freed with this object
        self._finalizer = weakref.finalize(self, _free_stream, engine, self.id)
        self._logits = None
        self.tokens = 0
        self.batcher = None  # set while the stream runs inside batching.run_batched()
        if feed_start:
            self.set_logits(engine.step(np.array([self.id], np.int32),
                                        np.array([lm.settings.start_token], np.int32))[0])

    def set_logits(self, logits: np.ndarray) -> None:
        """What the model's step_batch stores after stepping this stream."""
        self._logits = logits

    def logits(self) -> np.ndarray:
        """float32 logits over the vocabulary for the next token."""
        return self._logits

    def fork(self) -> "NativeStream":
        """An independent copy of this stream (KV cache copied in the engine):
        what a priming context computes once and reuses."""
        twin = NativeStream(self.model, feed_start=False, copy_of=self.id)
        twin._logits = self._logits.copy()
        twin.tokens = self.tokens
        return twin

    def push(self, token: int) -> None:
        if self.batcher is not None:
            self.batcher.push(self, token)
        else:
            self.model.step_batch([self], [token])

    def close(self) -> None:
        """Free the engine's KV cache now (otherwise when garbage-collected)."""
        self._finalizer()


def _free_stream(engine, sid):
    try:
        engine.free_stream(sid)
    except Exception:  # engine already gone or stream already freed
        pass


class NativeLanguageModel(ExactTokenization):
    """A CodingModel on the native engine, with batched steps."""

    can_fork = True

    def __init__(self, engine, tokenizer, name: str, weights_digest: str,
                 settings: NumericSettings):
        self.engine = engine
        self.tokenizer = tokenizer
        self.name = name
        self.weights_digest = weights_digest
        self.settings = settings
        self.vocab_size = int(engine.n_vocab)
        self.fingerprint = fingerprint(weights_digest, tokenizer, self.vocab_size, settings)

    def describe_numerics(self) -> str:
        return describe_numerics(self.settings)

    # -- streams ---------------------------------------------------------
    def stream(self) -> NativeStream:
        return NativeStream(self)

    def step_batch(self, streams, tokens) -> np.ndarray:
        """Push tokens[i] into streams[i] for all i in ONE engine pass (one read
        of the weights for the whole batch) and return the new logits, shape
        (len(streams), vocab). Each stream's logits are bit-identical to
        pushing its token alone. A stream may appear at most once."""
        streams = list(streams)
        if not streams:
            return np.zeros((0, self.vocab_size), np.float32)
        ids = np.array([s.id for s in streams], np.int32)
        if len(set(ids.tolist())) != len(ids):
            raise ValueError("a stream may appear only once per step_batch")
        toks = np.asarray(tokens, dtype=np.int64)
        if toks.shape != (len(streams),):
            raise ValueError("need one token per stream")
        if (toks < 0).any() or (toks >= self.vocab_size).any():
            raise ValueError(f"token outside the vocabulary of {self.vocab_size}")
        for s in streams:
            if s.model is not self:
                raise ValueError("stream belongs to another model")
        out = self.engine.step(ids, toks.astype(np.int32))
        for i, s in enumerate(streams):
            s.set_logits(out[i])
            s.tokens += 1
        return out

    def streams(self, n: int) -> list:
        """n new streams, their start tokens fed in one batched step."""
        streams = [NativeStream(self, feed_start=False) for _ in range(n)]
        if streams:
            self.step_batch(streams, [self.settings.start_token] * n)
            for s in streams:
                s.tokens = 0
        return streams

    def sequence_logits(self, tokens, chunk: int = PREFILL_CHUNK) -> np.ndarray:
        """Logits before each token of ``tokens`` (row i predicts tokens[i]),
        computed in chunks of several positions per engine call: what an
        encoder needs, bit-identical to stream()/push() token by token."""
        tokens = [int(t) for t in tokens]
        out = np.empty((len(tokens), self.vocab_size), np.float32)
        if not tokens:
            return out
        s = self.stream()
        try:
            out[0] = s.logits()
            feed = tokens[:-1]  # the last token's successor is never needed
            for i in range(0, len(feed), chunk):
                part = np.array(feed[i:i + chunk], np.int32)
                ids = np.full(len(part), s.id, np.int32)
                out[1 + i:1 + i + len(part)] = self.engine.step(ids, part)
        finally:
            s.close()
        return out


def load_native(path, settings: NumericSettings | None = None, name: str | None = None,
                simd: str = "auto", n_ctx: int = DEFAULT_CONTEXT) -> NativeLanguageModel:
    """The native engine for a Llama GGUF file, with its tokenizer."""
    from transformers import AutoTokenizer

    settings = settings or NumericSettings(engine="native")
    path = Path(path)
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name, trust_remote_code=False)
    engine = build_engine(path, threads=settings.threads, simd=simd, n_ctx=n_ctx)
    return NativeLanguageModel(engine, tokenizer, name or path.stem, digest_files([path]), settings)
