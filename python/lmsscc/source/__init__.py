# SPDX-License-Identifier: GPL-3.0-or-later
"""Source coding: language models (models/), the message format, the codec,
priming contexts and conversation history."""

from .codec import DEFAULT_PRECISION, DecodeResult, EncodeResult, LMCodec, make_codec  # noqa: F401
from .context import PrimingContext, builtin_names, load_context  # noqa: F401
from .conversation import ConversationDecoder, ConversationEncoder  # noqa: F401
from .message import HEADER_FORMATS, FingerprintMismatch, MessageFormatError  # noqa: F401
from .models import (  # noqa: F401
    ENGINE_CHOICES,
    CodingModel,
    LanguageModel,
    NativeLanguageModel,
    NumericSettings,
    choose_engine,
    load_model,
    resolve_engine,
    shared_model,
)
