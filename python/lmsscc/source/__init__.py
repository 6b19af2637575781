"""Source coding: language-model backends, the message format and the codec."""

from .codec import DEFAULT_PRECISION, DecodeResult, EncodeResult, LMCodec  # noqa: F401
from .lm import LanguageModel, NumericSettings, load_model, shared_model  # noqa: F401
from .message import FingerprintMismatch, MessageFormatError  # noqa: F401
