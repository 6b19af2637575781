"""GNU Radio message blocks for the text JSCC (PDU in, PDU out on 'pdus').

jscc_mapper:   u8 PDU of UTF-8 text -> c32 PDU of the model's fixed number of complex symbols
               (256 with the shipped weights), mean energy 1 per symbol. Metadata added:
               channel_uses, input_chars, tokens.
jscc_demapper: c32 PDU of received symbols (AWGN, or fading already equalised) -> u8 PDU of text.

For a tagged stream, put pdu.pdu_to_tagged_stream after the mapper and pdu.tagged_stream_to_pdu
before the demapper. Malformed PDUs (wrong vector type, wrong length, NaN, text the model cannot
carry) are logged once per kind, counted in stats() and dropped; the flowgraph keeps running.
"""

from __future__ import annotations

import numpy as np
from gnuradio import gr

from ..pdu_util import PduBlock
from .codec import JSCCCodec

MAX_TEXT_BYTES = 1 << 16


class _JSCCBlock(PduBlock, gr.basic_block):
    max_items = MAX_TEXT_BYTES

    def __init__(self, name, weights, threads):
        gr.basic_block.__init__(self, name=name, in_sig=None, out_sig=None)
        self._setup_pdu(name)
        self.codec = JSCCCodec(None if weights in ("", "default") else weights, threads)


class jscc_mapper(_JSCCBlock):
    """Text PDU -> complex symbol PDU (text JSCC transmitter)."""
    in_kind = "u8"

    def __init__(self, weights="default", threads=1):
        _JSCCBlock.__init__(self, "jscc_mapper", weights, threads)

    def process(self, meta, data):
        text = data.tobytes().decode("utf-8")
        prepared = self.codec.prepare(text)
        symbols = self.codec.encode(prepared)
        meta.update(channel_uses=int(symbols.size), input_chars=len(text),
                    tokens=len(self.codec.vocab.encode(prepared)))
        return [(meta, symbols, "c32")]


class jscc_demapper(_JSCCBlock):
    """Received complex symbol PDU -> text PDU (text JSCC receiver)."""
    in_kind = "c32"

    def __init__(self, weights="default", threads=1):
        _JSCCBlock.__init__(self, "jscc_demapper", weights, threads)

    def process(self, meta, data):
        text = self.codec.decode(data)
        meta.update(channel_uses=int(data.size))
        return [(meta, np.frombuffer(text.encode("utf-8"), dtype=np.uint8), "u8")]


class jscc_channel(PduBlock, gr.basic_block):
    """Simulation channel for JSCC symbol PDUs: AWGN, or Rayleigh block fading (one gain per PDU)
    followed by coherent zero-forcing equalisation with perfect CSI, as in training and in
    apps/bench_link.py. (lmsscc burst_channel adds a random carrier phase, which the burst modem
    estimates from its preamble; the JSCC block has no pilots, so it needs this coherent model.)"""

    in_kind = "c32"
    max_items = MAX_TEXT_BYTES

    def __init__(self, esn0_db=10.0, fading="none", seed=0):
        gr.basic_block.__init__(self, name="jscc_channel", in_sig=None, out_sig=None)
        self._setup_pdu("jscc_channel")
        if fading not in ("none", "block"):
            raise ValueError("fading must be 'none' or 'block'")
        self.esn0_db, self.fading = float(esn0_db), fading
        self.rng = np.random.default_rng(int(seed))

    def impair(self, x):
        n0 = 10.0 ** (-self.esn0_db / 10.0)
        noise = np.sqrt(n0 / 2) * (self.rng.standard_normal(x.size) + 1j * self.rng.standard_normal(x.size))
        if self.fading == "none":
            return x + noise
        h = (self.rng.standard_normal() + 1j * self.rng.standard_normal()) / np.sqrt(2)
        return (h * x + noise) / h

    def process(self, meta, x):
        return [(meta, self.impair(x).astype(np.complex64), "c32")]
