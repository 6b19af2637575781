# SPDX-License-Identifier: GPL-3.0-or-later
"""The LM-SSCC link without a flowgraph: text -> LM message -> frame -> channel
code -> modulation -> burst samples, and back. The GNU Radio blocks
(phy/blocks.py) and the apps wrap these two classes; benchmarks call them
directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..fec import load_code, make_decoder
from ..source.codec import LMCodec
from ..source.models import batching
from . import burst
from .frame import (MAX_CODEWORDS, PHY_HEADER_BITS, FrameError, bits_to_bytes, build_frame, bytes_to_bits,
                    frame_length, parse_frame, parse_phy_header, phy_header_bits)
from .modulation import MODULATIONS, bits_per_symbol, demodulate_llr, modulate

DEFAULT_CODE = "LDPC_N49_K24"


@dataclass
class LinkConfig:
    code: str = DEFAULT_CODE
    modulation: str = "bpsk"
    decoder: str = "auto"  # any make_decoder kind; auto = the code's best measured (OSD-2 here)
    ecct_weights: str | None = None  # default: the code's shipped AWGN weights
    # Longest burst either end accepts, in payload codewords: a PHY header that
    # announces more is refused (a deployment sets its longest message here).
    max_codewords: int = MAX_CODEWORDS

    def __post_init__(self):
        if self.modulation not in MODULATIONS:
            raise ValueError(f"modulation must be one of {MODULATIONS}")
        if not 1 <= int(self.max_codewords) <= MAX_CODEWORDS:
            raise ValueError(f"max_codewords must be 1-{MAX_CODEWORDS}, not {self.max_codewords}")


@dataclass
class Burst:
    samples: np.ndarray
    seq: int
    text_chars: int
    message_bits: int  # LM message (header + payload)
    frame_bits: int
    coded_bits: int  # every bit on the air: PHY header codewords + payload codewords
    symbols: int  # every symbol on the air, preamble and pilots included
    lm_stats: dict = field(default_factory=dict)
    payload_coded: np.ndarray | None = None  # the payload codeword bits (simulation truth)

    @property
    def energy(self) -> float:
        """Transmitted energy in units of Es (unit-energy symbols, unit-energy pulse)."""
        return float(np.sum(np.abs(self.samples) ** 2))


@dataclass
class Reception:
    text: str | None
    ok: bool
    seq: int | None = None
    error: str | None = None
    snr_db: float | None = None
    freq: float | None = None  # cycles per symbol
    bits_corrected: int = 0
    coded_bits: int = 0
    pre_fec_ber: float | None = None
    start: float = 0.0
    symbols: int = 0  # burst length in symbols once the PHY header is known
    header_symbols: int = 0  # preamble + PHY header symbols (where a rescan resumes)
    incomplete: bool = False  # the buffer ends inside the announced burst
    lm: dict = field(default_factory=dict)
    message: bytes | None = None  # the LM message from a frame that passed its CRC
    hard_bits: np.ndarray | None = None  # payload hard decisions
    decoded_bits: np.ndarray | None = None  # payload codewords after the channel decoder

    def true_ber(self, sent_payload) -> tuple[float, float]:
        """(channel BER, decoded BER) against the sent payload codewords (simulation)."""
        if self.hard_bits is None or sent_payload is None:
            return float("nan"), float("nan")
        sent = np.asarray(sent_payload, dtype=np.uint8)
        n = min(len(sent), len(self.hard_bits))
        if n == 0 or len(self.hard_bits) != len(sent):
            return float("nan"), float("nan")
        return (float(np.mean(self.hard_bits[:n] != sent[:n])),
                float(np.mean(self.decoded_bits[:n] != sent[:n])))


def _payload_symbols(coded_bits: int, bits_per_sym: int) -> int:
    """Payload symbols on the air, pilots included."""
    n_data = -(-coded_bits // bits_per_sym)
    return len(burst.data_positions(n_data)) + len(burst.pilot_positions(n_data))


class Transmitter:
    def __init__(self, codec, config: LinkConfig | None = None, first_seq: int = 0):
        self.codec = codec
        self.config = config or LinkConfig()
        self.code = load_code(self.config.code)
        self.seq = first_seq

    def header_codewords(self) -> int:
        return -(-PHY_HEADER_BITS // self.code.k)

    def encode_bits(self, bits: np.ndarray) -> np.ndarray:
        k = self.code.k
        padded = np.concatenate([bits, np.zeros((-len(bits)) % k, dtype=np.uint8)])
        return self.code.encode(padded.reshape(-1, k)).reshape(-1)

    def send(self, text) -> Burst:
        return self.send_encoded(self.codec.encode(text))

    def send_encoded(self, r) -> Burst:
        """A burst for an already LM-coded message (an EncodeResult): lets
        benchmarks code each text once and send it many times."""
        cfg = self.config
        frame = build_frame(r.message, self.seq)
        payload = self.encode_bits(bytes_to_bits(frame))
        n_cw = len(payload) // self.code.n
        if n_cw > cfg.max_codewords:
            raise ValueError(f"message needs {n_cw} codewords, more than the link's limit {cfg.max_codewords}")
        header = self.encode_bits(phy_header_bits(cfg.modulation, n_cw))
        bps = bits_per_symbol(cfg.modulation)
        payload_padded = np.concatenate([payload, np.zeros((-len(payload)) % bps, dtype=np.uint8)])
        data = modulate(payload_padded, cfg.modulation)
        header_sym = modulate(header, "bpsk")
        samples = burst.make_burst(header_sym, data)
        n_symbols = len(burst.PREAMBLE) + len(header_sym) + len(burst.insert_pilots(data))
        sent = Burst(samples, self.seq, r.input_bytes, r.coded_bits, 8 * len(frame),
                     len(header) + len(payload), n_symbols, r.stats(), payload)
        self.seq = (self.seq + 1) & 0xFFFF
        return sent


class Receiver:
    """decode_text=False stops at the frame CRC (rx.message holds the LM
    message): for benchmarks of the channel part, where LM decoding of a
    correct message is known to be exact."""

    def __init__(self, codec, config: LinkConfig | None = None, conversation=None, decode_text=True):
        self.decode_text = decode_text
        self.codec = codec
        self.config = config or LinkConfig()
        self.code = load_code(self.config.code)
        self.decoder = make_decoder(self.config.decoder, self.code, self.config.ecct_weights)
        # The PHY header is always decoded with BP (24 bits: speed matters little).
        # The PHY header gets the payload's decoder: a weaker one there (BP on a Polar code, say)
        # would lose bursts whose payload decodes.
        self.header_decoder = self.decoder
        self.lm_decoder = conversation or codec

    def _decode_codewords(self, llr: np.ndarray, decoder) -> tuple[np.ndarray, np.ndarray]:
        """(info bits, codeword bits) from LLRs of whole codewords."""
        words = llr.reshape(-1, self.code.n)
        bits = np.asarray(decoder.decode(words), dtype=np.uint8)
        return self.code.extract_info(bits).reshape(-1), bits.reshape(-1)

    def receive(self, samples, keep_header_failures=False) -> list[Reception]:
        """Every burst found in `samples` (complex baseband at burst.SPS).
        Detections whose PHY header fails are mostly false alarms (correlation
        peaks in noise or data) and are left out unless asked for."""
        z = burst.matched_filter(samples)
        out, busy_until = [], -1.0
        for start, metric in burst.detect(z):
            if start < busy_until:  # a correlation peak inside a burst already decoded
                continue
            rx = self._receive_one(z, start, metric)
            if rx.incomplete:  # a one-shot capture will not grow: the burst is cut off
                rx.symbols, rx.error = 0, "capture ends inside the burst its PHY header announces"
            if rx.symbols:
                out.append(rx)
                busy_until = self._resume_at(rx)
            elif keep_header_failures:
                out.append(rx)
        self._decode_texts(out)
        return out

    @staticmethod
    def _resume_at(rx) -> float:
        """Where detection resumes after a burst: past its end if its frame
        checked out, else just past its PHY header. A header that passed its
        CRC by chance then costs only its own burst, never the ones inside the
        span it announced."""
        return rx.start + (rx.symbols if rx.message is not None else rx.header_symbols) * burst.SPS

    def scan(self, samples) -> tuple[list[Reception], int]:
        """For a growing sample buffer: the complete bursts in it, and the index
        from which samples must be kept (an incomplete burst, or the last
        preamble-length of samples, may still need them)."""
        z = burst.matched_filter(samples)
        # A preamble is kept until its PHY header is in the buffer too.
        head = (len(burst.PREAMBLE) + self._header_symbols() + 8) * burst.SPS
        tail = head + len(burst.RRC)
        out, keep_from, busy_until = [], max(0, len(samples) - tail), -1.0
        for start, metric in burst.detect(z):
            if start < busy_until:
                continue
            first_sample = max(0, int(start) - burst.FILTER_DELAY - burst.SPS)
            if start + head >= len(z) - len(burst.RRC):
                keep_from = min(keep_from, first_sample)  # PHY header not all in yet
                break
            rx = self._receive_one(z, start, metric)
            if rx.incomplete:
                keep_from = min(keep_from, first_sample)  # burst not complete yet
                break
            if rx.symbols:
                out.append(rx)
                busy_until = self._resume_at(rx)
        self._decode_texts(out)
        return out, keep_from

    def _header_symbols(self) -> int:
        """PHY header symbols on the air (BPSK): whole codewords of the link's code."""
        return -(-PHY_HEADER_BITS // self.code.k) * self.code.n

    def _receive_one(self, z, start, metric) -> Reception:
        det = burst.estimate(z, start, metric)
        rx = Reception(None, False, snr_db=det.snr_db, freq=det.freq, start=start)
        n = self.code.n
        n_hdr = self._header_symbols()
        first = len(burst.PREAMBLE)
        k_hdr = first + np.arange(n_hdr)
        y = burst.symbols_at(z, det, first, n_hdr) * np.exp(-2j * np.pi * det.freq * k_hdr)
        llr = demodulate_llr(y, "bpsk", det.noise_var, det.gain)
        hdr_bits, _ = self._decode_codewords(llr, self.header_decoder)
        try:
            modulation, n_cw = parse_phy_header(hdr_bits)
            if not 1 <= n_cw <= self.config.max_codewords:
                raise FrameError(f"PHY header announces {n_cw} codewords, outside 1-{self.config.max_codewords}")
        except FrameError as e:
            rx.error = str(e)
            return rx
        bps = bits_per_symbol(modulation)
        n_data = -(-(n_cw * n) // bps)
        data_first = first + n_hdr
        symbols = data_first + _payload_symbols(n_cw * n, bps)
        silent_from = burst.signal_stops(z, det, data_first, symbols)
        if silent_from is not None:  # the announced burst is longer than the signal
            rx.error = (f"PHY header implausible: announces {n_cw} codewords ({symbols} symbols) "
                        f"but the signal stops near symbol {silent_from}")
            return rx
        rx.symbols, rx.header_symbols = symbols, data_first
        if start + symbols * burst.SPS + len(burst.RRC) > len(z):
            rx.incomplete = True
            return rx
        phase0, freq = burst.phase_track(z, det, data_first, n_data)
        rx.freq = freq
        t = data_first + burst.data_positions(n_data)
        y = burst.symbols_at(z, det, 0, int(t.max()) + 1 if n_data else 0)[t] if n_data else np.zeros(0)
        y = y * np.exp(-1j * (phase0 + 2 * np.pi * freq * t))
        llr = demodulate_llr(y, modulation, det.noise_var, abs(det.gain))[: n_cw * n]
        info, decoded = self._decode_codewords(llr, self.decoder)
        rx.hard_bits, rx.decoded_bits = (llr > 0).astype(np.uint8), decoded
        rx.coded_bits = len(llr)
        rx.bits_corrected = int(np.sum(rx.hard_bits != decoded))
        rx.pre_fec_ber = rx.bits_corrected / max(len(llr), 1)
        data = bits_to_bytes(info)
        try:
            total = frame_length(data)
            seq, message = parse_frame(data[:total])
        except FrameError as e:
            rx.error = str(e)
            return rx
        rx.seq = seq
        rx.message = message
        # A header that announced more codewords than its frame fills: the burst
        # ends with the frame, so detection resumes there, not at the announced end.
        frame_codewords = -(-8 * total // self.code.k)
        if frame_codewords < n_cw:
            rx.symbols = data_first + _payload_symbols(frame_codewords * n, bps)
        rx.ok = not self.decode_text  # otherwise decided by the LM decoder (_decode_texts)
        return rx

    def _decode_texts(self, receptions) -> None:
        """LM-decode the messages whose frames checked out: several in one
        batched model step per token where the engine can (native engine, no
        conversation history, whose order matters), one by one otherwise."""
        pending = [r for r in receptions if r.message is not None and not r.ok]
        if not self.decode_text or not pending:
            return
        batchable = (len(pending) > 1 and self.lm_decoder is self.codec
                     and batching.can_batch(self.codec.lm))
        decoded = []
        if batchable:
            ready = []
            for r in pending:  # header problems are reported per message, before any model step
                try:
                    if self.codec.check_header(r.message)[0].history:
                        raise ValueError("message needs a conversation decoder")
                    ready.append(r)
                except ValueError as e:
                    r.error = str(e)
            results = batching.decode_batch(self._same_codec, self.codec.lm, [r.message for r in ready])
            decoded = list(zip(ready, results))
        else:
            for r in pending:
                try:
                    decoded.append((r, self.lm_decoder.decode(r.message)))
                except ValueError as e:  # MessageFormatError, FingerprintMismatch
                    r.error = str(e)
        for r, d in decoded:
            r.lm = {"tokens": d.tokens, "model_bits": round(d.model_bits, 2), "seconds": round(d.seconds, 3)}
            r.text, r.ok, r.error = d.text, d.crc_ok, d.error

    def _same_codec(self, lm):
        """A codec configured like this receiver's, on `lm` (a batched job's model)."""
        c = self.codec
        return LMCodec(lm, precision=c.precision, max_tokens=c.max_tokens, context=c.context,
                       header_format=c.header_format, crc_bits=c.crc_bits)
