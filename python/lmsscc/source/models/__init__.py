# SPDX-License-Identifier: GPL-3.0-or-later
"""The language models the source coder runs on.

base.py     NumericSettings, the CodingModel / TokenStream protocols the codec
            is written against, exact tokenization, digests
hf.py       the Hugging Face backend (transformers, torch KV-cache steps)
native.py   the project's deterministic C++ engine on GGUF Llama models
gguf_reader.py  GGUF metadata and tensors
batching.py several messages in lock-step on the native engine, prefill
loader.py   load_model / shared_model by name, choose_engine / resolve_engine
"""

from .base import ENGINE_CHOICES, ENGINES, CodingModel, NumericSettings, TokenStream  # noqa: F401
from .hf import LanguageModel  # noqa: F401
from .loader import (  # noqa: F401
    choose_engine,
    default_gguf_path,
    fingerprint_as,
    is_default,
    load_model,
    resolve_engine,
    shared_model,
)
from .native import NativeLanguageModel  # noqa: F401
