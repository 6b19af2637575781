"""Source coding: language-model backends, the message format, the codec,
priming contexts and conversation history."""

from .codec import DEFAULT_PRECISION, DecodeResult, EncodeResult, LMCodec  # noqa: F401
from .context import PrimingContext, builtin_names, load_context  # noqa: F401
from .conversation import ConversationDecoder, ConversationEncoder  # noqa: F401
from .lm import LanguageModel, NumericSettings, load_model, shared_model  # noqa: F401
from .message import FingerprintMismatch, MessageFormatError  # noqa: F401
