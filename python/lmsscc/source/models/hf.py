# SPDX-License-Identifier: GPL-3.0-or-later
"""The Hugging Face backend: any transformers causal LM, run token by token
with its KV cache in torch (``NumericSettings(engine="hf")``).

Encoder and decoder take the same single-token steps from the same start
token, with the same dtype and thread count (the full-sequence forward pass
gives slightly different logits, see docs/engine.md), so the thread count is
part of the fingerprint here.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from .base import ExactTokenization, NumericSettings, digest_files, fingerprint_of, tokenizer_digest

ENGINE_ID = "hf-torch-kvstep-v1"


def _torch():
    # torch loads on first use: importing the package stays cheap
    import torch

    return torch


def digest_state_dict(model) -> str:
    """Digest of an in-memory model's tensors (names, dtypes, shapes, bytes)."""
    h = hashlib.blake2b(digest_size=32)
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode() + b"\0" + str(tensor.dtype).encode() + str(tuple(tensor.shape)).encode())
        h.update(tensor.detach().contiguous().cpu().numpy().tobytes())
    return h.hexdigest()


def _major_minor(version: str) -> str:
    return ".".join(version.split("+")[0].split(".")[:2])


@contextlib.contextmanager
def _torch_threads(n: int):
    torch = _torch()
    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if before != n:
            torch.set_num_threads(before)


def fingerprint(weights_digest: str, tokenizer, vocab_size: int, settings: NumericSettings) -> bytes:
    """The model fingerprint of the hf engine (also used to name the settings
    another sender used, without loading this engine)."""
    import transformers

    torch = _torch()
    return fingerprint_of((
        ENGINE_ID,
        weights_digest,
        tokenizer_digest(tokenizer),
        settings.describe(),
        f"vocab={vocab_size}",
        f"torch={_major_minor(torch.__version__)}",
        f"transformers={_major_minor(transformers.__version__)}",
    ))


class LMStream:
    """One left-to-right pass of the model: ``logits()`` then ``push(token)``."""

    def __init__(self, lm: "LanguageModel"):
        self._lm = lm
        self._cache = None
        self._logits = None
        self.tokens = 0
        self._step(lm.settings.start_token)

    def _step(self, token: int) -> None:
        torch = _torch()
        ids = torch.tensor([[int(token)]], dtype=torch.long)
        with _torch_threads(self._lm.settings.threads), torch.inference_mode():
            out = self._lm.model(ids, cache=self._cache, use_cache=True)
        self._cache = out.cache
        self._logits = out.logits[0, -1].float().numpy().copy()

    def logits(self) -> np.ndarray:
        """float32 logits over the model's vocabulary for the next token."""
        return self._logits

    def fork(self) -> "LMStream":
        """An independent copy (e.g. of a primed prefix, computed once)."""
        twin = LMStream.__new__(LMStream)
        twin._lm = self._lm
        twin._cache = copy.deepcopy(self._cache)
        twin._logits = self._logits.copy()
        twin.tokens = self.tokens
        return twin

    def push(self, token: int) -> None:
        if not 0 <= token < self._lm.vocab_size:
            raise ValueError(f"token {token} outside the vocabulary of {self._lm.vocab_size}")
        self._step(token)
        self.tokens += 1


@dataclass
class LanguageModel(ExactTokenization):
    """A causal LM plus its tokenizer, set up for deterministic coding."""

    model: object
    tokenizer: object
    name: str
    weights_digest: str
    settings: NumericSettings = field(default_factory=NumericSettings)
    can_fork: ClassVar[bool] = True

    def __post_init__(self):
        torch = _torch()
        self.model.eval()
        self.model.to(getattr(torch, self.settings.dtype))
        self.vocab_size = int(self.model.get_output_embeddings().weight.shape[0])
        self.fingerprint = fingerprint(self.weights_digest, self.tokenizer, self.vocab_size,
                                       self.settings)

    def stream(self) -> LMStream:
        return LMStream(self)


def load_gguf(path, settings: NumericSettings | None = None, name: str | None = None) -> LanguageModel:
    """A GGUF file (weights and tokenizer in one), dequantized by transformers."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(
        path.parent, gguf_file=path.name, dtype="float32", trust_remote_code=False
    )
    return LanguageModel(
        model=model,
        tokenizer=tokenizer,
        name=name or path.stem,
        weights_digest=digest_files([path]),
        settings=settings or NumericSettings(),
    )


def load_pretrained(name_or_path, settings: NumericSettings | None = None) -> LanguageModel:
    """Any Hugging Face causal LM from a local folder or the offline cache.

    Only safetensors weights are accepted (no pickles) and no remote code runs.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(name_or_path)
    if path.suffix == ".gguf":
        return load_gguf(path, settings)
    kwargs = dict(local_files_only=True, trust_remote_code=False)
    tokenizer = AutoTokenizer.from_pretrained(str(name_or_path), **kwargs)
    model = AutoModelForCausalLM.from_pretrained(
        str(name_or_path), use_safetensors=True, dtype="float32", **kwargs
    )
    if path.is_dir():
        weights = sorted(path.glob("*.safetensors")) + sorted(path.glob("config.json"))
        digest = digest_files(weights) if weights else digest_state_dict(model)
    else:
        digest = digest_state_dict(model)
    return LanguageModel(model, tokenizer, str(name_or_path), digest, settings or NumericSettings())


def from_modules(model, tokenizer, name: str, settings: NumericSettings | None = None) -> LanguageModel:
    """Wrap an in-memory model (e.g. a tiny random one for tests)."""
    return LanguageModel(model, tokenizer, name, digest_state_dict(model), settings or NumericSettings())
