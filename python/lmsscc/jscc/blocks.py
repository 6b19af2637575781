# SPDX-License-Identifier: GPL-3.0-or-later
"""GNU Radio message blocks for the text JSCC (PDU in, PDU out on 'pdus').

jscc_mapper:   u8 PDU of UTF-8 text -> c32 PDU of the model's fixed number of complex symbols
               (256 with the shipped weights), mean energy 1 per symbol. Metadata added:
               channel_uses, input_chars, tokens.
jscc_demapper: c32 PDU of received symbols (AWGN, or fading already equalised) -> u8 PDU of text.

Tagged-stream forms (hierarchical blocks): jscc_mapper_ts (text PDU in -> complex stream out, each
sentence a tagged packet: length tag 'packet_len', the PDU's metadata as tags at its start) and
jscc_demapper_ts (tagged complex stream in -> text PDU out). Malformed PDUs (wrong vector type, wrong length, NaN, text the model cannot
carry) are logged once per kind, counted in stats() and dropped; the flowgraph keeps running.
"""

from __future__ import annotations

import threading

import numpy as np
from gnuradio import gr, pdu

from ..pdu_util import PduBlock, finite_setting
from ..phy import channels
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


class jscc_mapper_ts(gr.hier_block2):
    """Text PDU (message port 'pdus') -> tagged stream of complex symbols: the
    mapper followed by pdu_to_tagged_stream, one tagged packet per sentence."""

    def __init__(self, weights="default", threads=1, length_tag="packet_len"):
        gr.hier_block2.__init__(self, "jscc_mapper_ts", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.message_port_register_hier_in("pdus")
        self.mapper = jscc_mapper(weights, threads)
        self.to_stream = pdu.pdu_to_tagged_stream(gr.types.complex_t, length_tag)
        self.msg_connect(self, "pdus", self.mapper, "pdus")
        self.msg_connect(self.mapper, "pdus", self.to_stream, "pdus")
        self.connect(self.to_stream, self)

    def stats(self) -> dict:
        return self.mapper.stats()


class jscc_demapper_ts(gr.hier_block2):
    """Tagged stream of received complex symbols (one packet per sentence,
    length tag 'packet_len') -> text PDU on message port 'pdus'."""

    def __init__(self, weights="default", threads=1, length_tag="packet_len"):
        gr.hier_block2.__init__(self, "jscc_demapper_ts",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex), gr.io_signature(0, 0, 0))
        self.message_port_register_hier_out("pdus")
        self.to_pdu = pdu.tagged_stream_to_pdu(gr.types.complex_t, length_tag)
        self.demapper = jscc_demapper(weights, threads)
        self.connect(self, self.to_pdu)
        self.msg_connect(self.to_pdu, "pdus", self.demapper, "pdus")
        self.msg_connect(self.demapper, "pdus", self, "pdus")

    def stats(self) -> dict:
        return self.demapper.stats()


class jscc_channel(PduBlock, gr.basic_block):
    """Simulation channel for JSCC symbol PDUs: AWGN, or Rayleigh block fading (one gain per PDU)
    followed by coherent zero-forcing equalisation with perfect CSI, as in training and in
    bench/bench_link.py. (lmsscc burst_channel adds a random carrier phase, which the burst modem
    estimates from its preamble; the JSCC block has no pilots, so it needs this coherent model.)"""

    in_kind = "c32"
    max_items = MAX_TEXT_BYTES

    def __init__(self, esn0_db=10.0, fading="none", seed=0):
        gr.basic_block.__init__(self, name="jscc_channel", in_sig=None, out_sig=None)
        self._setup_pdu("jscc_channel")
        if fading not in ("none", "block"):
            raise ValueError("fading must be 'none' or 'block'")
        # set_esn0_db runs in the caller's thread (a GUI slider), process() in the block's.
        self._settings_lock = threading.Lock()
        self.set_esn0_db(esn0_db)
        self.fading = fading
        self.rng = np.random.default_rng(int(seed))

    def set_esn0_db(self, esn0_db):
        """Es/N0 (dB) for the PDUs that follow; safe while the flowgraph runs."""
        value = finite_setting("esn0_db", esn0_db)
        with self._settings_lock:
            self.esn0_db = value

    def impair(self, x):
        """The gain (one per PDU with fading 'block'), CN(0, N0) noise, then zero-forcing."""
        faded, gain = channels.rayleigh(x, self.rng, self.fading)
        return channels.awgn(faded, channels.noise_var_for_esn0(self.esn0_db), self.rng) / gain

    def process(self, meta, x):
        with self._settings_lock:
            impaired = self.impair(x).astype(np.complex64)
        return [(meta, impaired, "c32")]
