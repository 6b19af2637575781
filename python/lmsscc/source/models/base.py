# SPDX-License-Identifier: GPL-3.0-or-later
"""What every language-model backend shares: the numeric settings that go
into the fingerprint, exact tokenization, file digests, and the two
protocols the codec is written against (:class:`CodingModel`,
:class:`TokenStream`).

A backend (hf.py, native.py) or a proxy (batching.py) is anything that
satisfies :class:`CodingModel`: the encoder and the decoder of a message each
run one :class:`TokenStream` over the same tokens, so both ends do the
*identical* computation, and everything that changes the numerics goes into
``fingerprint``, which the message header carries, so a mismatched receiver
refuses instead of decoding garbage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

ENGINES = ("hf", "native")
# What the blocks, link and apps accept: an engine, or "auto" = choose_engine(model).
ENGINE_CHOICES = ("auto",) + ENGINES


@dataclass(frozen=True)
class NumericSettings:
    """Settings that change the logits: part of the fingerprint.

    engine "hf": Hugging Face transformers, token-by-token KV-cache steps in
    torch (hf.py). engine "native": the project's own deterministic C++
    engine, for GGUF Llama-family models (native.py).
    """

    dtype: str = "float32"
    threads: int = 1
    start_token: int = 0
    engine: str = "hf"

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; choose one of {ENGINES}")
        if self.threads < 1:
            raise ValueError("threads must be >= 1")

    def describe(self) -> str:
        return f"engine={self.engine};dtype={self.dtype};threads={self.threads};start={self.start_token}"


@runtime_checkable
class TokenStream(Protocol):
    """One left-to-right pass of a model: ``logits()`` then ``push(token)``.

    Streams of a model whose ``can_fork`` is true also have ``fork()``: an
    independent copy (a primed prefix is computed once and copied)."""

    tokens: int

    def logits(self) -> np.ndarray:
        """float32 logits over the vocabulary for the next token."""

    def push(self, token: int) -> None:
        """Feed the next token."""


@runtime_checkable
class CodingModel(Protocol):
    """A model that codes: everything LMCodec (and the fingerprint search of
    its mismatch messages) uses of a model. The backends' models and the
    batching proxies satisfy it."""

    name: str
    vocab_size: int
    fingerprint: bytes  # digest of everything that changes the logits
    settings: NumericSettings
    weights_digest: str  # digest of the model file(s), engine independent
    tokenizer: object  # a Hugging Face fast tokenizer
    can_fork: bool  # streams have fork(), and forking them is allowed

    def tokenize(self, text: str) -> list[int]:
        """Tokens of ``text``; refuses text that does not come back exactly."""

    def detokenize(self, ids) -> str:
        """The text of tokens."""

    def stream(self) -> TokenStream:
        """A fresh stream that has seen the start token."""


class ExactTokenization:
    """Text <-> tokens for a model with ``self.tokenizer`` and ``self.name``,
    refusing text that does not come back byte for byte (every engine)."""

    def tokenize(self, text: str) -> list[int]:
        """Tokens of ``text``; refuses text the tokenizer cannot give back exactly."""
        ids = list(self.tokenizer.encode(text, add_special_tokens=False))
        if self.detokenize(ids) != text:
            raise ValueError(
                "the tokenizer of model %r does not reproduce this text exactly "
                "(normalisation or unknown characters); it cannot be coded losslessly" % self.name
            )
        return ids

    def detokenize(self, ids) -> str:
        return self.tokenizer.decode(
            list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False
        )


def digest_files(paths) -> str:
    """blake2b-256 over the names and bytes of ``paths`` (in sorted order)."""
    h = hashlib.blake2b(digest_size=32)
    for path in sorted(Path(p) for p in paths):
        h.update(path.name.encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()


def tokenizer_digest(tokenizer) -> str:
    """Digest of a fast tokenizer's full definition (vocabulary, merges, rules)."""
    return hashlib.blake2b(tokenizer.backend_tokenizer.to_str().encode()).hexdigest()


def fingerprint_of(parts) -> bytes:
    """The 32-byte model fingerprint of a backend's describing strings."""
    h = hashlib.blake2b(digest_size=32)
    for part in parts:
        h.update(part.encode() + b"\n")
    return h.digest()
