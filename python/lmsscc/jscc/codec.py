# SPDX-License-Identifier: GPL-3.0-or-later
"""The text JSCC without a flowgraph: text -> complex symbols, and noisy symbols -> text."""

from __future__ import annotations

import threading

import numpy as np
import torch

from .data import words
from .io import load_jscc

_MODELS: dict = {}
_LOCK = threading.Lock()


def shared_jscc(name=None):
    """One (model, vocab, card) per weights name per process (blocks on both ends share it)."""
    key = str(name or "")
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = load_jscc(name)
        return _MODELS[key]


class JSCCCodec:
    def __init__(self, weights=None, threads: int = 1):
        self.model, self.vocab, self.card = shared_jscc(weights)
        self.threads = int(threads)

    @property
    def channel_uses(self) -> int:
        return self.model.cfg.channel_uses

    def prepare(self, text: str) -> str:
        """The form the JSCC actually carries: lower case, punctuation split off, single spaces.
        Raises ValueError for texts it cannot carry (empty, or too many tokens)."""
        prepared = " ".join(words(text))
        if not prepared:
            raise ValueError("empty text")
        n = len(self.vocab.encode(prepared)) + 1
        if n > self.model.cfg.max_len:
            raise ValueError(f"text needs {n} token positions, the model has {self.model.cfg.max_len}")
        return prepared

    def token_ids(self, prepared: str) -> torch.Tensor:
        ids = torch.zeros(1, self.model.cfg.max_len, dtype=torch.long)
        seq = self.vocab.encode(prepared) + [self.vocab.eos]
        ids[0, :len(seq)] = torch.tensor(seq)
        return ids

    def encode(self, text: str) -> np.ndarray:
        """channel_uses complex symbols, mean energy 1 per symbol."""
        ids = self.token_ids(self.prepare(text))
        torch.set_num_threads(self.threads)
        with torch.inference_mode():
            return self.model.encode(ids)[0].numpy().astype(np.complex64)

    def decode(self, symbols) -> str:
        """Text from channel_uses received, coherently equalised symbols."""
        y = np.asarray(symbols, dtype=np.complex64)
        if y.shape != (self.channel_uses,):
            raise ValueError(f"expected {self.channel_uses} symbols, got {y.size}")
        if not np.all(np.isfinite(y)):
            raise ValueError("symbols contain NaN or infinity")
        torch.set_num_threads(self.threads)
        with torch.inference_mode():
            logits = self.model.decode_logits(torch.from_numpy(y)[None])
        return self.vocab.decode(logits[0].argmax(-1).tolist())


__all__ = ["JSCCCodec"]
