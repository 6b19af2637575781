# SPDX-License-Identifier: GPL-3.0-or-later
"""GNU Radio blocks of the radio link.

link_tx          text PDU -> complex burst PDU (LM encoder, frame, channel code,
                 modulation, preamble/pilots, RRC pulses), ready for
                 pdu_to_tagged_stream and an SDR sink.
link_rx          complex PDU (one or more bursts) -> text PDU per burst.
link_rx_stream   the same from a complex sample stream (SDR source, ZMQ,
                 channel model): finds bursts as they arrive.
burst_channel    complex PDU -> impaired complex PDU (AWGN, Rayleigh, CFO,
                 timing offset), for loopback simulations.

Text PDUs out of the receivers carry metadata: crc_ok, seq, snr_db,
freq_offset (cycles/sample), bits_corrected, pre_fec_ber, and the LM
decoder's tokens/model_bits. A frame or message that fails is reported with
crc_ok False, an error string and an empty payload: never as text; stats()
counts it under failed / failure_reasons (pdu_util.block_stats).

burst_channel's Es/N0, frequency and timing offsets can change while the
flowgraph runs (set_esn0_db, ...: GRC callbacks, e.g. a QT GUI Range slider).
"""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
from gnuradio import gr

from ..pdu_util import (PDU_PORT, BadPdu, DropCounter, PduBlock, block_stats, finite_setting,
                        make_pdu)
from ..source.codec import make_codec
from ..source.conversation import ConversationDecoder, ConversationEncoder
from . import burst, channels
from .frame import MAX_CODEWORDS
from .link import LinkConfig, Receiver, Transmitter

MAX_TEXT_BYTES = 1 << 16
MAX_BURST_SAMPLES = 1 << 22


# Tokens per link message. Bounds what a forged but well-formed frame can cost
# a receiver (about a minute of LM decoding with the hf engine, instead of a
# quarter of an hour at the codec's general limit); the transmitter refuses
# longer texts with a clear error.
LINK_MAX_TOKENS = 1024


# Link defaults: the best measured settings (issue 13). "auto" runs the native
# engine for Llama-family GGUF models (the embedded default included), hf
# otherwise; the lean header (format 3) is the smallest message.
DEFAULT_ENGINE = "auto"
DEFAULT_HEADER_FORMAT = "lean"


def _codec(model, priming, header_format, conversation, engine):
    return make_codec(model, 24, 1, LINK_MAX_TOKENS, priming, header_format, bool(conversation),
                      engine)


def describe_codec(codec) -> str:
    """One line for the apps: which engine and message format a link block codes with."""
    lm = codec.lm
    return (f"LM engine {lm.settings.engine} ({lm.name}), message format {codec.version} "
            f"({codec.header_format})")


class link_tx(PduBlock, gr.basic_block):
    max_items = MAX_TEXT_BYTES

    def __init__(self, model="default", code="LDPC_N49_K24", modulation="bpsk", priming="none",
                 header_format=DEFAULT_HEADER_FORMAT, conversation=False, keyframe_period=8,
                 tail_zeros=0, attach_truth=False, engine=DEFAULT_ENGINE):
        gr.basic_block.__init__(self, name="link_tx", in_sig=None, out_sig=None)
        self._setup_pdu("link_tx")
        # Silence after each burst: lets a stream receiver see the burst's end
        # when nothing else follows (ZMQ, file); an SDR link needs none.
        self.tail_zeros = int(tail_zeros)
        # Simulation only: the sent payload bits ride along in the metadata so
        # the receiver can report the true channel and decoded BER.
        self.attach_truth = bool(attach_truth)
        codec = _codec(model, priming, header_format, conversation, engine)
        self.tx = Transmitter(codec, LinkConfig(code=code, modulation=modulation))
        if conversation:
            self.tx.codec = ConversationEncoder(codec, int(keyframe_period))
        self.codec = codec
        # Samples of every burst published so far, in order (tail zeros included):
        # a sender waits until that many samples passed its sink (radio.BurstSender).
        self.burst_samples: list[int] = []

    def process(self, meta, data):
        b = self.tx.send(data.tobytes())
        meta.update(seq=b.seq, text_chars=b.text_chars, message_bits=b.message_bits,
                    coded_bits=b.coded_bits, symbols=b.symbols, energy=round(b.energy, 3),
                    model_bits=b.lm_stats.get("model_bits", 0.0))
        self.last_meta = dict(meta)
        if self.attach_truth:
            meta["payload_bits_sent"] = b.payload_coded
        samples = np.concatenate([b.samples, np.zeros(self.tail_zeros)]).astype(np.complex64)
        self.burst_samples.append(len(samples))
        return [(meta, samples, "c32")]


# A burst leaves pdu_to_tagged_stream in one piece: its output buffer must hold
# the longest burst (about 64k symbols, a ~4 kB message in BPSK).
MAX_BURST_ITEMS = 1 << 18


class link_tx_stream(gr.hier_block2):
    """The TX hierarchical block for stream sinks (SDR, ZMQ, file): text PDU on
    message port 'pdus' -> complex stream, one burst per message tagged with
    its length ('packet_len'), the PDU's metadata as tags at its first sample.
    link_tx followed by pdu_to_tagged_stream; ``self.tx`` is the link_tx."""

    def __init__(self, model="default", code="LDPC_N49_K24", modulation="bpsk", priming="none",
                 header_format=DEFAULT_HEADER_FORMAT, conversation=False, keyframe_period=8,
                 tail_zeros=0, length_tag="packet_len", engine=DEFAULT_ENGINE):
        from gnuradio import pdu

        gr.hier_block2.__init__(self, "link_tx_stream", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.message_port_register_hier_in("pdus")
        self.tx = link_tx(model, code, modulation, priming, header_format, conversation,
                          keyframe_period, tail_zeros, engine=engine)
        self.to_stream = pdu.pdu_to_tagged_stream(gr.types.complex_t, length_tag)
        self.to_stream.set_min_output_buffer(MAX_BURST_ITEMS)
        self.msg_connect(self, "pdus", self.tx, "pdus")
        self.msg_connect(self.tx, "pdus", self.to_stream, "pdus")
        self.connect(self.to_stream, self)

    def stats(self):
        return self.tx.stats()


class _ReceiverMixin:
    """What link_rx and link_rx_stream share: the receiver and its reports."""

    def _setup_receiver(self, model, code, decoder, priming, header_format, conversation, engine,
                        max_codewords):
        codec = _codec(model, priming, header_format, conversation, engine)
        conv = ConversationDecoder(codec) if conversation else None
        config = LinkConfig(code=code, decoder=decoder, max_codewords=int(max_codewords))
        self.rx = Receiver(codec, config, conversation=conv)

    def _outputs(self, receptions, meta=None, sent_payload=None):
        """One text PDU (meta, bytes, "u8") per reception; failures are empty."""
        outputs = []
        for r in receptions:
            out = dict(meta or {})
            if sent_payload is not None:
                channel_ber, decoded_ber = r.true_ber(sent_payload)
                if np.isfinite(channel_ber):
                    out.update(channel_ber=round(channel_ber, 6), decoded_ber=round(decoded_ber, 6))
            out.update(crc_ok=bool(r.ok), snr_db=round(float(r.snr_db), 2),
                       freq_offset=round(float(r.freq) / burst.SPS, 7),  # cycles per sample
                       bits_corrected=int(r.bits_corrected),
                       coded_bits=int(r.coded_bits))
            if r.pre_fec_ber is not None:
                out["pre_fec_ber"] = round(float(r.pre_fec_ber), 6)
            if r.seq is not None:
                out["seq"] = int(r.seq)
            if r.message is not None:
                out["message_bits"] = 8 * len(r.message)
            out.update(r.lm)
            if not r.ok:
                out["error"] = r.error or "failed"
                self.count_failure(out["error"])
                self.logger.warn(f"burst failed: {out['error']}")
            outputs.append((out, bytearray(r.text.encode("utf-8") if r.ok else b""), "u8"))
        return outputs


class link_rx(PduBlock, gr.basic_block, _ReceiverMixin):
    in_kind = "c32"
    max_items = MAX_BURST_SAMPLES

    def __init__(self, model="default", code="LDPC_N49_K24", decoder="auto", priming="none",
                 header_format=DEFAULT_HEADER_FORMAT, conversation=False, engine=DEFAULT_ENGINE,
                 max_codewords=MAX_CODEWORDS):
        gr.basic_block.__init__(self, name="link_rx", in_sig=None, out_sig=None)
        self._setup_pdu("link_rx")
        self._setup_receiver(model, code, decoder, priming, header_format, conversation, engine,
                             max_codewords)

    def process(self, meta, samples):
        if not np.all(np.isfinite(samples)):
            raise BadPdu("samples contain NaN or Inf")
        if samples.size == 0:
            raise BadPdu("empty capture: no samples")
        found = self.rx.receive(samples, keep_header_failures=True)
        receptions = [r for r in found if r.symbols]
        if not receptions and found:  # report the strongest detection's failure
            receptions = [max(found, key=lambda r: r.snr_db)]
        keep = {k: meta[k] for k in ("seq_sent",) if k in meta}
        if not receptions:  # the capture held no detectable burst: say so
            self.count_failure("no burst detected")
            return [(dict(keep, crc_ok=False, error="no burst detected"), bytearray(), "u8")]
        return self._outputs(receptions, keep, meta.get("payload_bits_sent"))


class link_rx_stream(gr.sync_block, _ReceiverMixin):
    """Bursts from a continuous complex stream. Samples are buffered; every
    `chunk` new samples the buffer is scanned; complete bursts are decoded and
    their samples released, an incomplete one at the end waits for more."""

    count_failure = PduBlock.count_failure  # link_rx's failure bookkeeping, no message input

    def __init__(self, model="default", code="LDPC_N49_K24", decoder="auto", priming="none",
                 header_format=DEFAULT_HEADER_FORMAT, conversation=False, chunk=8192,
                 max_buffer=1 << 21, engine=DEFAULT_ENGINE, max_codewords=MAX_CODEWORDS):
        gr.sync_block.__init__(self, name="link_rx_stream", in_sig=[np.complex64], out_sig=None)
        self.logger = gr.logger("lmsscc.link_rx_stream")
        self.drops = DropCounter(self.logger)
        self.failures = Counter()
        self.samples_in = 0
        self.pdus_out = 0
        self.message_port_register_out(PDU_PORT)
        self._setup_receiver(model, code, decoder, priming, header_format, conversation, engine,
                             max_codewords)
        self.chunk = int(chunk)
        self.max_buffer = int(max_buffer)
        self._buffer = np.zeros(0, dtype=np.complex64)
        self._new = 0

    def stats(self):
        return block_stats(self.drops, self.failures, self.pdus_out, samples_in=self.samples_in)

    def work(self, input_items, output_items):
        x = input_items[0]
        self.samples_in += len(x)
        self._buffer = np.concatenate([self._buffer, x])
        self._new += len(x)
        if self._new >= self.chunk:
            self._new = 0
            self._scan()
        return len(x)

    def _scan(self):
        buf = self._buffer
        if not np.all(np.isfinite(buf)):
            self.drops.drop("stream samples contain NaN or Inf: buffer discarded")
            self._buffer = np.zeros(0, dtype=np.complex64)
            return
        try:
            receptions, keep_from = self.rx.scan(buf)
        except Exception as e:  # a receiver bug must not stop the flowgraph: drop the buffer
            self.drops.internal_error(e)  # logged with its traceback, counted as a bug
            self._buffer = np.zeros(0, dtype=np.complex64)
            return
        for out_meta, text, kind in self._outputs(receptions):
            self.message_port_pub(PDU_PORT, make_pdu(out_meta, text, kind))
            self.pdus_out += 1
        keep_from = max(keep_from, len(buf) - self.max_buffer)
        self._buffer = buf[keep_from:]


class burst_channel(PduBlock, gr.basic_block):
    """Impairs complex burst PDUs: Rayleigh fading (none/block/fast), carrier
    frequency offset (cycles/sample), timing offset (samples), then AWGN at
    Es/N0 (dB) for the unit-energy symbols of link_tx."""

    in_kind = "c32"
    max_items = MAX_BURST_SAMPLES

    def __init__(self, esn0_db=10.0, fading="none", freq_offset=0.0, timing_offset=0.0, seed=0,
                 coherence=burst.SPS):
        gr.basic_block.__init__(self, name="burst_channel", in_sig=None, out_sig=None)
        self._setup_pdu("burst_channel")
        # The setters run in the caller's thread (a GUI slider), process() in the
        # block's: a burst is impaired with one consistent set of settings.
        self._settings_lock = threading.Lock()
        self.set_esn0_db(esn0_db)
        self.set_freq_offset(freq_offset)
        self.set_timing_offset(timing_offset)
        self.fading = channels.check_fading(fading)
        self.coherence = int(coherence)
        self.rng = np.random.default_rng(int(seed))

    def set_esn0_db(self, esn0_db):
        """Es/N0 (dB) for the bursts that follow; safe while the flowgraph runs."""
        value = finite_setting("esn0_db", esn0_db)
        with self._settings_lock:
            self.esn0_db = value

    def set_freq_offset(self, freq_offset):
        """Carrier frequency offset (cycles/sample) for the bursts that follow."""
        value = finite_setting("freq_offset", freq_offset)
        with self._settings_lock:
            self.freq_offset = value

    def set_timing_offset(self, timing_offset):
        """Fractional timing offset (samples) for the bursts that follow."""
        value = finite_setting("timing_offset", timing_offset)
        with self._settings_lock:
            self.timing_offset = value

    def impair(self, samples):
        x, _ = channels.rayleigh(samples, self.rng, self.fading, self.coherence)
        x = channels.timing_offset(x, self.timing_offset)
        x = channels.frequency_offset(x, self.freq_offset, self.rng.uniform(0, 2 * np.pi))
        return channels.awgn(x, channels.noise_var_for_esn0(self.esn0_db), self.rng)

    def process(self, meta, samples):
        if not np.all(np.isfinite(samples)):
            raise BadPdu("samples contain NaN or Inf")
        with self._settings_lock:
            impaired = self.impair(samples).astype(np.complex64)
        if "seq" in meta:
            meta["seq_sent"] = meta["seq"]
        return [(meta, impaired, "c32")]
