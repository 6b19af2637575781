# SPDX-License-Identifier: GPL-3.0-or-later
"""GNU Radio message blocks around the LM codec: PDU in, PDU out on 'pdus'.

lm_arith_encoder: u8 PDU of UTF-8 text -> u8 PDU of one coded message.
lm_arith_decoder: u8 PDU of one coded message -> u8 PDU of the text.

Metadata added: input_bytes, coded_bits, model_bits, tokens, seconds; the
decoder adds crc_ok (and, when false, an empty payload and an error string:
corrupted text is never passed on; stats() counts it under failed, by kind
"CRC failed" or "context missing"). Malformed PDUs are logged, counted in
``stats()`` and dropped; the flowgraph keeps running.

Options shared by both ends: the model (a name, or a model object used as it
is; codec.make_codec), ``priming``: the priming context ("none", a built-in
name or a text file; not called ``context``, a name GRC's Mako templates
reserve), the header format ("standard" version 1, "compact" version 2,
"lean" version 3; see docs/message_format.md), and conversation mode (each message
coded after the earlier ones since the last keyframe; metadata seq and
history_depth; a receiver that lacks an earlier message reports
context_missing instead of text).
"""

from __future__ import annotations

from gnuradio import gr

from ..pdu_util import PduBlock
from .codec import DEFAULT_MAX_TOKENS, DEFAULT_PRECISION, make_codec
from .conversation import DEFAULT_KEYFRAME_PERIOD, ConversationDecoder, ConversationEncoder

# Largest PDU either block accepts; far above any message of max_tokens.
MAX_PDU_BYTES = 1 << 20


class _LMBlock(PduBlock, gr.basic_block):
    max_items = MAX_PDU_BYTES

    def __init__(self, name, model, precision, threads, max_tokens, priming, header_format,
                 conversation, engine):
        gr.basic_block.__init__(self, name=name, in_sig=None, out_sig=None)
        self._setup_pdu(name)
        self.codec = make_codec(model, int(precision), int(threads), int(max_tokens), priming,
                                str(header_format), bool(conversation), str(engine))


class lm_arith_encoder(_LMBlock):
    """Text PDU -> LM range-coded message PDU."""

    def __init__(self, model="default", precision=DEFAULT_PRECISION, threads=1,
                 max_tokens=DEFAULT_MAX_TOKENS, priming="none", header_format="standard",
                 conversation=False, keyframe_period=DEFAULT_KEYFRAME_PERIOD, engine="auto"):
        _LMBlock.__init__(self, "lm_arith_encoder", model, precision, threads, max_tokens,
                          priming, header_format, conversation, engine)
        self.conversation = (ConversationEncoder(self.codec, int(keyframe_period))
                             if conversation else None)

    def process(self, meta, data):
        result = (self.conversation or self.codec).encode(data.tobytes())
        meta.update(result.stats())
        return [(meta, bytearray(result.message), "u8")]


class lm_arith_decoder(_LMBlock):
    """LM range-coded message PDU -> text PDU (empty, crc_ok=False, on corruption)."""

    def __init__(self, model="default", precision=DEFAULT_PRECISION, threads=1,
                 max_tokens=DEFAULT_MAX_TOKENS, priming="none", header_format="standard",
                 conversation=False, engine="auto"):
        _LMBlock.__init__(self, "lm_arith_decoder", model, precision, threads, max_tokens,
                          priming, header_format, conversation, engine)
        self.conversation = ConversationDecoder(self.codec) if conversation else None

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
            self.count_failure(result.error)  # "context missing: ..."
            meta.update(context_missing=True, error=result.error)
            self.logger.warn(result.error)
        elif not result.crc_ok:
            self.count_failure(f"CRC failed: {result.error}")
            meta["error"] = result.error
            self.logger.warn(f"message failed its CRC ({result.error}); passing no text")
        return [(meta, bytearray(result.data), "u8")]
