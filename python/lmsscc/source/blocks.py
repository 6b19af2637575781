"""GNU Radio message blocks around the LM codec: PDU in, PDU out on 'pdus'.

lm_arith_encoder: u8 PDU of UTF-8 text -> u8 PDU of one coded message.
lm_arith_decoder: u8 PDU of one coded message -> u8 PDU of the text.

Metadata added: input_bytes, coded_bits, model_bits, tokens, seconds; the
decoder adds crc_ok (and, when false, an empty payload and an error string:
corrupted text is never passed on). Malformed PDUs are logged, counted in
``stats()`` and dropped; the flowgraph keeps running.

Options shared by both ends: a priming context ("none", a built-in name or a
text file), the header format ("standard" version 1, "compact" version 2,
"lean" version 3; see docs/message_format.md), and conversation mode (each message
coded after the earlier ones since the last keyframe; metadata seq and
history_depth; a receiver that lacks an earlier message reports
context_missing instead of text).
"""

from __future__ import annotations

from gnuradio import gr

from ..pdu_util import PduBlock
from .codec import DEFAULT_MAX_TOKENS, DEFAULT_PRECISION, LMCodec
from .context import load_context
from .conversation import DEFAULT_KEYFRAME_PERIOD, ConversationDecoder, ConversationEncoder
from .lm import LanguageModel, NumericSettings, resolve_engine, shared_model

# Largest PDU either block accepts; far above any message of max_tokens.
MAX_PDU_BYTES = 1 << 20


HEADER_FORMATS = ("standard", "compact", "lean")


def make_codec(model, precision: int, threads: int, max_tokens: int, context="none",
               header_format: str = "standard", conversation: bool = False,
               engine: str = "auto") -> LMCodec:
    """``model`` is a LanguageModel, or a name for load_model ("default", a GGUF
    file, a local Hugging Face folder) run by ``engine`` ("hf", "native", or
    "auto": native for Llama-family GGUF files, the default model included,
    hf otherwise; docs/engine.md). A priming context or conversation history need a compact
    or lean header: "standard" then means compact."""
    if header_format not in HEADER_FORMATS:
        raise ValueError(f"header_format must be one of {HEADER_FORMATS}, not {header_format!r}")
    if not isinstance(model, LanguageModel):
        name = None if model in (None, "", "default") else str(model)
        model = shared_model(name, NumericSettings(threads=threads, engine=resolve_engine(engine, name)))
    lean = header_format == "lean"
    return LMCodec(model, precision=precision, max_tokens=max_tokens, context=load_context(context),
                   compact=not lean and (header_format == "compact" or conversation), lean=lean)


class _LMBlock(PduBlock, gr.basic_block):
    max_items = MAX_PDU_BYTES

    def __init__(self, name, model, precision, threads, max_tokens, context, header_format,
                 conversation, engine):
        gr.basic_block.__init__(self, name=name, in_sig=None, out_sig=None)
        self._setup_pdu(name)
        self.codec = make_codec(model, int(precision), int(threads), int(max_tokens), context,
                                str(header_format), bool(conversation), str(engine))


class lm_arith_encoder(_LMBlock):
    """Text PDU -> LM range-coded message PDU."""

    def __init__(self, model="default", precision=DEFAULT_PRECISION, threads=1,
                 max_tokens=DEFAULT_MAX_TOKENS, context="none", header_format="standard",
                 conversation=False, keyframe_period=DEFAULT_KEYFRAME_PERIOD, engine="auto"):
        _LMBlock.__init__(self, "lm_arith_encoder", model, precision, threads, max_tokens,
                          context, header_format, conversation, engine)
        self.conversation = (ConversationEncoder(self.codec, int(keyframe_period))
                             if conversation else None)

    def process(self, meta, data):
        result = (self.conversation or self.codec).encode(data.tobytes())
        meta.update(result.stats())
        return [(meta, bytearray(result.message), "u8")]


class lm_arith_decoder(_LMBlock):
    """LM range-coded message PDU -> text PDU (empty, crc_ok=False, on corruption)."""

    def __init__(self, model="default", precision=DEFAULT_PRECISION, threads=1,
                 max_tokens=DEFAULT_MAX_TOKENS, context="none", header_format="standard",
                 conversation=False, engine="auto"):
        _LMBlock.__init__(self, "lm_arith_decoder", model, precision, threads, max_tokens,
                          context, header_format, conversation, engine)
        self.conversation = ConversationDecoder(self.codec) if conversation else None
        self.crc_failures = 0
        self.context_missing = 0

    def process(self, meta, data):
        data = data.tobytes()
        result = (self.conversation or self.codec).decode(data)
        meta.update({
            "input_bytes": len(data),
            "coded_bits": 8 * len(data),
            "model_bits": round(result.model_bits, 3),
            "tokens": result.tokens,
            "seconds": round(result.seconds, 4),
            "crc_ok": result.crc_ok,
        })
        if result.seq is not None:
            meta["seq"] = result.seq
        if result.context_missing:
            self.context_missing += 1
            meta.update(context_missing=True, error=result.error)
            self.logger.warn(result.error)
        elif not result.crc_ok:
            self.crc_failures += 1
            meta["error"] = result.error
            self.logger.warn(f"message failed its CRC ({result.error}); passing no text")
        return [(meta, bytearray(result.data), "u8")]

    def stats(self) -> dict:
        return dict(PduBlock.stats(self), crc_failures=self.crc_failures,
                    context_missing=self.context_missing)
