"""The project's own deterministic C++ engine (lib/llama_engine.cc) as a
language-model backend for the codec: ``NumericSettings(engine="native")``.

Logits are a pure function of (model file, tokens): the same on every run and
process, for any thread count, any SIMD path of the kernels and any batch-mates
(docs/engine.md states the contract and how the tests check it). That is why
the fingerprint leaves the thread count out.

Objects duck-type :class:`lm.LanguageModel` / :class:`lm.LMStream` as the
codec uses them, plus a batched API for coding several messages at once:

    lm = load_native(path, NumericSettings(engine="native", threads=2))
    a, b = lm.stream(), lm.stream()
    lm.step_batch([a, b], [tok_a, tok_b])   # one pass over the weights
    a.logits(), b.logits()

and a fast path for an encoder, which knows all tokens in advance:
``lm.sequence_logits(tokens)`` (identical to pushing them one by one).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from pathlib import Path

import numpy as np

from .. import lmsscc_python as kernels
from .lm import ExactTokenization, NumericSettings, _digest_files

ENGINE_ID = "native-gguf-blocks-int8act-v1"
# Per-stream context limit of the engine (KV cache grows as needed up to this).
DEFAULT_CONTEXT = 16384
# Tokens per engine call in sequence_logits (the prefill of an encoder).
PREFILL_CHUNK = 64

_Q4_1, _Q8_0, _F32 = "Q4_1", "Q8_0", "F32"


def _field(reader, key, default=None):
    field = reader.fields.get(key)
    if field is None:
        if default is None:
            raise ValueError(f"GGUF metadata key {key!r} is missing")
        return default
    return field.contents()


def _qmatrix(tensors, rows_cols=None):
    """QMatrix from one or more GGUF tensors stacked by rows (same type, same width)."""
    import gguf

    types = {t.tensor_type.name for t in tensors}
    cols = int(tensors[0].shape[0])
    rows = sum(int(t.shape[1]) if len(t.shape) > 1 else 1 for t in tensors)
    if len(types) == 1 and types <= {_Q4_1, _Q8_0}:
        raw = np.ascontiguousarray(np.concatenate([np.asarray(t.data).reshape(int(t.shape[1]), -1)
                                                   for t in tensors], axis=0))
        if _Q4_1 in types:
            return kernels.QMatrix.from_q4_1(raw, rows, cols)
        return kernels.QMatrix.from_q8_0(raw, rows, cols)
    # Any other format: dequantize with gguf and re-quantize to 8-bit blocks.
    parts = []
    for t in tensors:
        w = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
        parts.append(np.asarray(w, dtype=np.float32).reshape(int(t.shape[1]), cols))
    return kernels.QMatrix.from_float(np.ascontiguousarray(np.concatenate(parts, axis=0)), 8)


def _vector(tensor) -> np.ndarray:
    import gguf

    if tensor.tensor_type.name == _F32:
        return np.ascontiguousarray(np.asarray(tensor.data, dtype=np.float32).reshape(-1))
    return np.ascontiguousarray(
        np.asarray(gguf.quants.dequantize(np.asarray(tensor.data), tensor.tensor_type),
                   dtype=np.float32).reshape(-1))


def build_engine(path, threads: int = 1, simd: str = "auto", n_ctx: int = DEFAULT_CONTEXT):
    """A ready ``lmsscc_python.LlamaEngine`` for a Llama-architecture GGUF file."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    arch = _field(reader, "general.architecture")
    if arch != "llama":
        raise ValueError(f"the native engine runs Llama-architecture GGUF files, not {arch!r}")
    tensors = {t.name: t for t in reader.tensors}
    n_layer = int(_field(reader, "llama.block_count"))
    n_embd = int(_field(reader, "llama.embedding_length"))
    n_head = int(_field(reader, "llama.attention.head_count"))
    n_head_kv = int(_field(reader, "llama.attention.head_count_kv", n_head))
    n_ff = int(_field(reader, "llama.feed_forward_length"))
    eps = float(_field(reader, "llama.attention.layer_norm_rms_epsilon"))
    theta = float(_field(reader, "llama.rope.freq_base", 10000.0))
    embd = tensors["token_embd.weight"]
    n_vocab = int(embd.shape[1])
    rope_dims = int(_field(reader, "llama.rope.dimension_count", n_embd // n_head))
    if rope_dims != n_embd // n_head:
        raise ValueError("partial RoPE is not supported by the native engine")
    engine = kernels.LlamaEngine(n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                                 n_head_kv=n_head_kv, n_ff=n_ff, n_vocab=n_vocab,
                                 rms_eps=eps, rope_theta=theta, n_ctx_max=n_ctx,
                                 threads=threads, simd=simd)
    engine.set_token_embedding(_qmatrix([embd]))
    if "output.weight" in tensors:
        engine.set_output(_qmatrix([tensors["output.weight"]]))
    engine.set_output_norm(_vector(tensors["output_norm.weight"]))
    for i in range(n_layer):
        t = lambda name: tensors[f"blk.{i}.{name}.weight"]  # noqa: E731
        engine.set_layer(
            i,
            _vector(t("attn_norm")),
            _qmatrix([t("attn_q"), t("attn_k"), t("attn_v")]),
            _qmatrix([t("attn_output")]),
            _vector(t("ffn_norm")),
            _qmatrix([t("ffn_gate"), t("ffn_up")]),
            _qmatrix([t("ffn_down")]),
        )
    if not engine.ready:
        raise RuntimeError("native engine: weights incomplete")
    return engine


class NativeStream:
    """One left-to-right pass: ``logits()`` then ``push(token)``, like lm.LMStream."""

    def __init__(self, lm: "NativeLanguageModel", feed_start: bool = True, copy_of: int | None = None):
        self._lm = lm
        self._engine = lm.engine
        self.id = lm.engine.new_stream() if copy_of is None else lm.engine.copy_stream(copy_of)
        # the engine stream is freed with this object
        self._finalizer = weakref.finalize(self, _free_stream, lm.engine, self.id)
        self._logits = None
        self.tokens = 0
        self._batcher = None  # set while the stream runs inside run_batched()
        if feed_start:
            self._set(lm.engine.step(np.array([self.id], np.int32),
                                     np.array([lm.settings.start_token], np.int32))[0])

    def _set(self, logits: np.ndarray) -> None:
        self._logits = logits

    def logits(self) -> np.ndarray:
        """float32 logits over the vocabulary for the next token."""
        return self._logits

    def fork(self) -> "NativeStream":
        """An independent copy of this stream (KV cache copied in the engine):
        what a priming context computes once and reuses."""
        twin = NativeStream(self._lm, feed_start=False, copy_of=self.id)
        twin._logits = self._logits.copy()
        twin.tokens = self.tokens
        return twin

    def push(self, token: int) -> None:
        if self._batcher is not None:
            self._batcher.push(self, token)
        else:
            self._lm.step_batch([self], [token])

    def close(self) -> None:
        """Free the engine's KV cache now (otherwise when garbage-collected)."""
        self._finalizer()


def _free_stream(engine, sid):
    try:
        engine.free_stream(sid)
    except Exception:  # engine already gone or stream already freed
        pass


class NativeLanguageModel(ExactTokenization):
    """Duck-types lm.LanguageModel for the codec, on the native engine."""

    def __init__(self, engine, tokenizer, name: str, weights_digest: str,
                 settings: NumericSettings):
        self.engine = engine
        self.tokenizer = tokenizer
        self.name = name
        self.weights_digest = weights_digest
        self.settings = settings
        self.vocab_size = int(engine.n_vocab)
        self.fingerprint = self._fingerprint()

    def describe_numerics(self) -> str:
        # threads are left out on purpose: the engine's logits do not depend
        # on them (tested: tests/test_native_engine.py, lib/qa_llama_engine.cc)
        return f"engine=native;start={self.settings.start_token}"

    def _fingerprint(self) -> bytes:
        h = hashlib.blake2b(digest_size=32)
        for part in (
            ENGINE_ID,
            self.weights_digest,
            hashlib.blake2b(self.tokenizer.backend_tokenizer.to_str().encode()).hexdigest(),
            self.describe_numerics(),
            f"vocab={self.vocab_size}",
        ):
            h.update(part.encode() + b"\n")
        return h.digest()

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
            if s._lm is not self:
                raise ValueError("stream belongs to another model")
        out = self.engine.step(ids, toks.astype(np.int32))
        for i, s in enumerate(streams):
            s._set(out[i])
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
    return NativeLanguageModel(engine, tokenizer, name or path.stem, _digest_files([path]), settings)


# -- several messages at once ------------------------------------------------

class _Batcher:
    """Lock-step batching of streams driven by independent threads: push()
    blocks until every still-running job has pushed, then ONE engine step
    advances all of them (logits are identical to solo steps, so this changes
    speed, never bits)."""

    def __init__(self, lm: NativeLanguageModel, active: int):
        self.lm = lm
        self.active = active
        self.pending: dict = {}
        self.error: BaseException | None = None
        self.cond = threading.Condition()
        self.steps = 0

    def _maybe_step(self) -> None:  # with self.cond held
        if self.pending and len(self.pending) >= self.active:
            streams = list(self.pending)
            tokens = [self.pending[s] for s in streams]
            self.pending = {}
            try:
                self.lm.step_batch(streams, tokens)
                self.steps += 1
            except BaseException as e:  # wake everybody with the error
                self.error = e
            self.cond.notify_all()

    def push(self, stream, token: int) -> None:
        with self.cond:
            if self.error is not None:
                raise RuntimeError("batched step failed") from self.error
            if stream in self.pending:
                raise RuntimeError("stream pushed twice in one step")
            if not 0 <= int(token) < self.lm.vocab_size:
                raise ValueError(f"token {token} outside the vocabulary of {self.lm.vocab_size}")
            self.pending[stream] = int(token)
            self._maybe_step()
            while stream in self.pending and self.error is None:
                self.cond.wait()
            if self.error is not None:
                raise RuntimeError("batched step failed") from self.error

    def finished(self) -> None:
        with self.cond:
            self.active -= 1
            self._maybe_step()


class _OneStreamLM:
    """What one job's codec sees: the shared model, but stream() hands out the
    job's pre-made batched stream (once)."""

    # Its one stream is stepped in lock-step with the other jobs: a fork would
    # step outside the batch, so the codec must use the stream itself.
    can_fork = False

    def __init__(self, lm: NativeLanguageModel, stream: NativeStream):
        self._lm = lm
        self._stream = stream
        for attr in ("name", "vocab_size", "fingerprint", "settings", "tokenizer"):
            setattr(self, attr, getattr(lm, attr))

    def stream(self):
        s, self._stream = self._stream, None
        if s is None:
            raise RuntimeError("run_batched jobs may open one stream each")
        return s

    def tokenize(self, text):
        return self._lm.tokenize(text)

    def detokenize(self, ids):
        return self._lm.detokenize(ids)

    def __getattr__(self, name):  # anything else the codec may need
        return getattr(self._lm, name)


def run_batched(lm: NativeLanguageModel, jobs, groups: int = 1) -> list:
    """Run ``job(proxy_lm)`` for every job concurrently, each in its own thread,
    with their model steps batched: ``proxy_lm`` duck-types the model and its
    ``stream()`` is stepped in lock-step with the other jobs of its group.
    Returns the jobs' results in order (re-raises the first exception).

    With ``groups`` > 1 the jobs are split into that many lock-step groups
    (round robin). The engine runs one step at a time, with the GIL released,
    so while one group's batched step runs, the other groups' threads can do
    their codec work (CDF, range coding): a pipeline meant to hide the codec's
    per-token cost, at the price of smaller batches. Not shown to help on the
    loaded 2-core machine it was written on, hence off by default. Grouping
    changes speed only, never bits.

    E.g. decoding 8 messages:
        run_batched(lm, [lambda m, msg=msg: LMCodec(m).decode(msg) for msg in messages])
    """
    jobs = list(jobs)
    if not jobs:
        return []
    groups = max(1, min(int(groups), len(jobs)))
    members = [list(range(g, len(jobs), groups)) for g in range(groups)]
    batchers = [_Batcher(lm, len(m)) for m in members]
    batcher_of = {}
    for g, m in enumerate(members):
        for i in m:
            batcher_of[i] = batchers[g]
    streams = lm.streams(len(jobs))
    results: list = [None] * len(jobs)
    errors: list = [None] * len(jobs)

    def run(i):
        streams[i]._batcher = batcher_of[i]
        try:
            results[i] = jobs[i](_OneStreamLM(lm, streams[i]))
        except BaseException as e:
            errors[i] = e
        finally:
            batcher_of[i].finished()
            streams[i]._batcher = None
            streams[i].close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        if e is not None:
            raise e
    return results


def encode_batch(codec_factory, lm: NativeLanguageModel, texts, groups: int = 1) -> list:
    """Encode several texts concurrently; ``codec_factory(lm)`` builds the
    codec (e.g. ``LMCodec``). Messages are byte-identical to encoding each
    text alone."""
    return run_batched(lm, [lambda m, t=t: codec_factory(m).encode(t) for t in texts], groups)


def decode_batch(codec_factory, lm: NativeLanguageModel, messages, groups: int = 1) -> list:
    """Decode several messages concurrently, batched model steps (see run_batched)."""
    return run_batched(lm, [lambda m, x=x: codec_factory(m).decode(x) for x in messages], groups)


# -- encoder fast path ---------------------------------------------------------

class _ReplayStream:
    """Serves logits computed in advance; refuses tokens other than the
    expected ones (so it can never code something it did not compute)."""

    def __init__(self, logits: np.ndarray, tokens: list):
        self._logits = logits
        self._tokens = tokens
        self.tokens = 0

    def logits(self) -> np.ndarray:
        return self._logits[self.tokens]

    def push(self, token: int) -> None:
        if self.tokens + 1 >= len(self._logits) or int(token) != self._tokens[self.tokens]:
            raise RuntimeError("prefilled stream: unexpected token")
        self.tokens += 1


class _PrefillLM(_OneStreamLM):
    """Model proxy for an encoder: tokenize() computes all the text's logits
    in multi-token engine steps (sequence_logits); stream() replays them."""

    def __init__(self, lm: NativeLanguageModel, chunk: int = PREFILL_CHUNK):
        super().__init__(lm, None)
        self._chunk = chunk
        self._prefilled = None

    def tokenize(self, text):
        ids = self._lm.tokenize(text)
        # One row more than the text: the successor of its last token, which a
        # lean message needs for its terminator (the appended 0 is never read).
        self._prefilled = (self._lm.sequence_logits([*ids, 0], self._chunk), ids)
        return ids

    def stream(self):
        if self._prefilled is None:
            raise RuntimeError("prefill encoder: tokenize() must come first")
        logits, ids = self._prefilled
        self._prefilled = None
        return _ReplayStream(logits, ids)


def encode_prefilled(codec_factory, lm: NativeLanguageModel, text, chunk: int = PREFILL_CHUNK):
    """Encode one text with all its logits computed up front, PREFILL_CHUNK
    positions per engine step: the same message as ``codec_factory(lm).encode``
    (the engine's multi-token steps are bit-identical to single steps), several
    times faster because each weight read serves many positions."""
    codec = codec_factory(_PrefillLM(lm, chunk))
    if getattr(codec, "context", None) is not None:
        raise ValueError("prefilled encoding replays the text's own logits only: use a codec "
                         "without a priming context (or encode_batch)")
    return codec.encode(text)
