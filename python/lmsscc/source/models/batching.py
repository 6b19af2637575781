# SPDX-License-Identifier: GPL-3.0-or-later
"""Several messages at once on the native engine, and the encoder's prefill
fast path. The proxies handed to each job's codec are CodingModels of their
own: the codec runs unchanged, only the model steps are batched, so batching
changes speed, never bits."""

from __future__ import annotations

import threading

import numpy as np

from .native import PREFILL_CHUNK, NativeLanguageModel, NativeStream


def can_batch(lm) -> bool:
    """Whether ``lm`` steps several streams in one engine pass (the native engine)."""
    return isinstance(lm, NativeLanguageModel)


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


class OneStreamModel:
    """What one job's codec sees (a CodingModel): the shared model, but
    stream() hands out the job's pre-made batched stream, once."""

    # Its one stream is stepped in lock-step with the other jobs: a fork would
    # step outside the batch, so the codec must use the stream itself.
    can_fork = False

    def __init__(self, lm: NativeLanguageModel, stream: NativeStream | None):
        self.shared = lm
        self._stream = stream
        self.name = lm.name
        self.vocab_size = lm.vocab_size
        self.fingerprint = lm.fingerprint
        self.settings = lm.settings
        self.weights_digest = lm.weights_digest
        self.tokenizer = lm.tokenizer

    def stream(self):
        s, self._stream = self._stream, None
        if s is None:
            raise RuntimeError("run_batched jobs may open one stream each")
        return s

    def tokenize(self, text):
        return self.shared.tokenize(text)

    def detokenize(self, ids):
        return self.shared.detokenize(ids)


def run_batched(lm: NativeLanguageModel, jobs, groups: int = 1) -> list:
    """Run ``job(proxy_lm)`` for every job concurrently, each in its own thread,
    with their model steps batched: ``proxy_lm`` is a CodingModel whose
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
    if not can_batch(lm):
        raise TypeError(f"batched coding needs a model of the native engine, not {type(lm).__name__}")
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
        streams[i].batcher = batcher_of[i]
        try:
            results[i] = jobs[i](OneStreamModel(lm, streams[i]))
        except BaseException as e:
            errors[i] = e
        finally:
            batcher_of[i].finished()
            streams[i].batcher = None
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


class PrefillModel(OneStreamModel):
    """Model proxy for an encoder (a CodingModel): tokenize() computes all the
    text's logits in multi-token engine steps (sequence_logits); stream()
    replays them."""

    def __init__(self, lm: NativeLanguageModel, chunk: int = PREFILL_CHUNK):
        super().__init__(lm, None)
        self._chunk = chunk
        self._prefilled = None

    def tokenize(self, text):
        ids = self.shared.tokenize(text)
        # One row more than the text: the successor of its last token, which a
        # lean message needs for its terminator (the appended 0 is never read).
        self._prefilled = (self.shared.sequence_logits([*ids, 0], self._chunk), ids)
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
    if not can_batch(lm):
        raise TypeError(f"prefilled encoding needs a model of the native engine, not {type(lm).__name__}")
    codec = codec_factory(PrefillModel(lm, chunk))
    if codec.context is not None:
        raise ValueError("prefilled encoding replays the text's own logits only: use a codec "
                         "without a priming context (or encode_batch)")
    return codec.encode(text)

