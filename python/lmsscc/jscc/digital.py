# SPDX-License-Identifier: GPL-3.0-or-later
"""Symbol-level simulation of the digital (separate source-channel) schemes, for the comparison
with the JSCC: message bytes -> link frame (seq, length, CRC-32) -> LDPC(49,24) -> BPSK -> channel
-> LLRs -> channel decoder -> frame CRC check.

What is sent per message: the PHY-header codeword(s) (phy/frame.py) and the frame's codewords, all
decoded by the same channel decoder, all BPSK, one real symbol per complex channel use, Es = 1. Preamble and
pilots of the burst modem are left out for every scheme (synchronisation is assumed perfect, as
for the JSCC, whose fixed block needs no header). The channel is phy/channels.py: fading 'none'
(AWGN) or 'block' (one complex gain per message, like DeepSC's channel and the JSCC here; 'fast'
works too), perfect CSI at the receiver, whose LLRs are the link's exact BPSK demapper
(phy/modulation.py).

The classical source coder: per message the smaller of zstd -19 (magic-less frame, no checksum)
and brotli -q 11, behind a one-byte tag saying which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fec import load_code, make_decoder
from ..phy import channels
from ..phy.frame import (FrameError, bits_to_bytes, build_frame, bytes_to_bits, parse_frame,
                         parse_phy_header, phy_header_bits)
from ..phy.modulation import demodulate_llr, modulate

CODE = "LDPC_N49_K24"
_TAG_ZSTD, _TAG_BROTLI = 1, 2


# -- classical source coding ----------------------------------------------------------------------
def _zstd():
    import zstandard
    return zstandard


def classic_compress(text: str) -> bytes:
    """Tagged best-of zstd / brotli."""
    import brotli

    data = text.encode("utf-8")
    z = _zstd().ZstdCompressor(level=19, write_checksum=False, write_content_size=True,
                               write_dict_id=False)
    zframe = z.compress(data)
    # The 4-byte magic number carries nothing on a link that knows the format.
    zframe = zframe[4:]
    b = brotli.compress(data, quality=11)
    return bytes([_TAG_ZSTD]) + zframe if len(zframe) < len(b) else bytes([_TAG_BROTLI]) + b


def classic_decompress(message: bytes) -> str:
    import brotli

    tag, body = message[0], message[1:]
    if tag == _TAG_ZSTD:
        data = _zstd().ZstdDecompressor().decompress(b"\x28\xb5\x2f\xfd" + body)
    elif tag == _TAG_BROTLI:
        data = brotli.decompress(body)
    else:
        raise ValueError(f"unknown compressor tag {tag}")
    return data.decode("utf-8")


# -- the digital link at symbol level --------------------------------------------------------------
@dataclass
class DigitalBurst:
    bits: np.ndarray  # every coded bit on the air: header codeword then frame codewords
    n_header: int  # coded bits of the PHY header
    message: bytes

    @property
    def channel_uses(self) -> int:
        return int(self.bits.size)  # BPSK: one symbol per coded bit


class DigitalLink:
    def __init__(self, decoder: str = "bp", fading: str = "none", code: str = CODE):
        self.code = load_code(code)
        weights = None
        if decoder in ("ecct", "hybrid"):
            from ..fec.weights import weights_name
            weights = weights_name(self.code.name, channels.channel_name(fading))
        self.decoder = make_decoder(decoder, self.code, weights)
        # The PHY header gets the payload's decoder: a weaker one there (BP on a Polar code, say)
        # would lose bursts whose payload decodes.
        self.header_decoder = self.decoder

    def _encode(self, bits):
        k = self.code.k
        bits = np.concatenate([bits, np.zeros((-len(bits)) % k, dtype=np.uint8)])
        return self.code.encode(bits.reshape(-1, k)).reshape(-1)

    def burst(self, message: bytes) -> DigitalBurst:
        payload = self._encode(bytes_to_bits(build_frame(message, 0)))
        header = self._encode(phy_header_bits("bpsk", payload.size // self.code.n))
        return DigitalBurst(np.concatenate([header, payload]), header.size, message)

    def receive_many(self, bursts, snr_db: float, fading: str, rng) -> list[bytes | None]:
        """The message each burst delivers (None if the header or the frame CRC fails), each burst
        through its own channel realisation at Es/N0 snr_db. All codewords are decoded in one batch."""
        llrs = [_received_llrs(b.bits, snr_db, fading, rng) for b in bursts]
        n = self.code.n
        hdr = np.concatenate([llr[:b.n_header] for llr, b in zip(llrs, bursts)]).reshape(-1, n)
        pay = np.concatenate([llr[b.n_header:] for llr, b in zip(llrs, bursts)]).reshape(-1, n)
        hdr_bits = self.code.extract_info(np.asarray(self.header_decoder.decode(hdr), dtype=np.uint8))
        pay_bits = self.code.extract_info(np.asarray(self.decoder.decode(pay), dtype=np.uint8))
        out, h, p = [], 0, 0
        for b in bursts:
            n_hdr_cw, n_pay_cw = b.n_header // n, (b.bits.size - b.n_header) // n
            out.append(_deliver(hdr_bits[h:h + n_hdr_cw], pay_bits[p:p + n_pay_cw]))
            h, p = h + n_hdr_cw, p + n_pay_cw
        return out


def _received_llrs(bits, snr_db, fading, rng):
    """BPSK over the channel (gains, then CN(0, N0) noise), demapped with the receiver knowing the
    gains: LLRs in the package convention (positive means 1)."""
    faded, gain = channels.rayleigh(modulate(bits, "bpsk"), rng, fading)
    noise_var = channels.noise_var_for_esn0(snr_db)
    return demodulate_llr(channels.awgn(faded, noise_var, rng), "bpsk", noise_var, gain)


def _deliver(hdr_info, pay_info) -> bytes | None:
    try:
        _, n_cw = parse_phy_header(hdr_info.reshape(-1))
        if n_cw != len(pay_info):
            return None
        _, message = parse_frame(bits_to_bytes(pay_info.reshape(-1)))
        return message
    except (FrameError, ValueError):
        return None
