# SPDX-License-Identifier: GPL-3.0-or-later
"""GNU Radio message blocks for channel coding: fec_encoder, ecct_decoder, bp_decoder, osd_decoder.

All of them have one message input and one message output, both named 'pdus'. A PDU is
pmt.cons(metadata_dict, uniform_vector):

  fec_encoder   in : u8vector of bits (0/1), any length
                out: u8vector of codeword bits, a whole number of codewords; the info bits are
                     zero-padded up to a multiple of k and the metadata records
                     fec_code, fec_n, fec_k, fec_info_bits (original length), fec_pad_bits
  ecct_decoder  in : f32vector of LLRs (package convention: L = ln P(1)/P(0), positive -> 1, as
  bp_decoder         gr-digital's constellation_soft_decoder), a whole number of codewords; all
  osd_decoder        codewords of one PDU are decoded in one batch
                out: u8vector of info bits; trailing padding removed when the metadata carries
                     fec_pad_bits (set strip_padding=False to keep it); metadata gains fec_decoder,
                     fec_frames and fec_unsatisfied_frames (frames whose output fails the syndrome)

Bad input (not a PDU, wrong vector type, wrong length, more than MAX_PDU_ITEMS items, bits other
than 0/1, NaN/Inf LLRs) is logged with the reason (the first of each kind only) and DROPPED; the
block keeps running (the package's PduBlock plumbing, pdu_util.py). `stats()` counts them
(dropped, drop_reasons by kind, last_drop in full), in the package's one stats() vocabulary.
"""
from __future__ import annotations

import numpy as np
from gnuradio import gr

from ..pdu_util import BadPdu, PduBlock, finite_setting
from .bp import BPSumProduct
from .codes import load_code

# Largest PDU (items) any of these blocks accepts: ~85k codewords of LDPC_N49_K24.
MAX_PDU_ITEMS = 1 << 22


class _ChannelBlock(PduBlock, gr.basic_block):
    max_items = MAX_PDU_ITEMS

    def __init__(self, name: str):
        gr.basic_block.__init__(self, name=name, in_sig=None, out_sig=None)
        self._setup_pdu(name)


class fec_encoder(_ChannelBlock):  # noqa: N801  (GNU Radio block naming)
    """Bits PDU -> codeword bits PDU for the linear code `code` (name or H file)."""

    in_kind = "u8"

    def __init__(self, code: str = "LDPC_N49_K24"):
        _ChannelBlock.__init__(self, "fec_encoder")
        self.code = load_code(code)

    def process(self, meta, bits):
        if bits.size and bits.max() > 1:
            raise BadPdu("fec_encoder input must hold bits (0 or 1), one per byte")
        k = self.code.k
        pad = (-bits.size) % k
        frames = np.concatenate([bits, np.zeros(pad, np.uint8)]).reshape(-1, k)
        cw = self.code.encode(frames).reshape(-1)
        meta.update(fec_code=self.code.name, fec_n=self.code.n, fec_k=k,
                    fec_info_bits=int(bits.size), fec_pad_bits=int(pad))
        return [(meta, cw.astype(np.uint8), "u8")]


class _DecoderBlock(_ChannelBlock):
    """LLR PDU -> info bits PDU around any object with decode(llr (B, n)) -> codeword bits (B, n)."""

    in_kind = "f32"

    def __init__(self, name, code, decoder, label, strip_padding, llr_scale):
        _ChannelBlock.__init__(self, name)
        self.code = code
        self.decoder = decoder
        self.label = label
        self.strip_padding = bool(strip_padding)
        self.set_llr_scale(llr_scale)

    def set_llr_scale(self, llr_scale):
        """The factor from input to true LLRs for the PDUs that follow; safe while the flowgraph
        runs (process() reads the attribute once per PDU, one consistent value)."""
        self.llr_scale = finite_setting("llr_scale", llr_scale)

    def process(self, meta, llr):
        n = self.code.n
        if llr.size == 0 or llr.size % n:
            raise BadPdu(f"{llr.size} LLRs is not a whole number of {n}-bit codewords")
        if not np.isfinite(llr).all():
            raise BadPdu(f"{int((~np.isfinite(llr)).sum())} NaN/Inf LLRs")
        frames = llr.reshape(-1, n) * self.llr_scale
        bits = self.decoder.decode(frames)
        unsatisfied = int((~self.code.is_codeword(bits)).sum())
        info = self.code.extract_info(bits).reshape(-1).astype(np.uint8)
        pad = meta.get("fec_pad_bits", 0)
        pad = pad if isinstance(pad, int) else 0
        if self.strip_padding and 0 < pad <= self.code.k:
            info = info[:-pad]
        meta.update(fec_decoder=self.label, fec_frames=int(frames.shape[0]),
                    fec_unsatisfied_frames=unsatisfied)
        return [(meta, info, "u8")]


class ecct_decoder(_DecoderBlock):  # noqa: N801
    """ECCT decoding of LLR PDUs. weights: shipped name (e.g. ecct_LDPC_N49_K24_awgn) or path.

    hybrid=True selects the HYBRID decoder (decoders.HybridBPECCT: BP-50 first; the ECCT only on
    frames failing BP's syndrome check, seeding BP restarts), not the pure ECCT. The ECCT itself ignores a global LLR scale (it normalises per frame);
    llr_scale matters only for the BP stage of the hybrid. threads sets torch's (process-wide)
    thread count; 1 is the default because a second thread on a busy CPU slowed it down, and 0
    leaves torch's setting alone.
    """

    def __init__(self, weights: str = "ecct_LDPC_N49_K24_awgn", hybrid: bool = False,
                 strip_padding: bool = True, llr_scale: float = 1.0, threads: int = 1):
        from .decoders import ECCTDecoder, HybridBPECCT  # torch loads only when this block is used

        if threads > 0:
            import torch
            torch.set_num_threads(int(threads))
        dec = HybridBPECCT(weights) if hybrid else ECCTDecoder(weights)
        _DecoderBlock.__init__(self, "ecct_decoder", dec.code, dec,
                               "hybrid_bp_ecct" if hybrid else "ecct", strip_padding, llr_scale)


class bp_decoder(_DecoderBlock):  # noqa: N801
    """Belief-propagation (sum-product, flooding, early stop on the full syndrome) decoding.

    BP needs true LLRs: set llr_scale so that input * llr_scale = ln P(1)/P(0). E.g. after
    gr-digital's constellation_soft_decoder_cf on BPSK (which outputs 2 y / npwr with npwr = 1),
    llr_scale = 1 / sigma^2 with sigma^2 the noise variance per real dimension.
    """

    def __init__(self, code: str = "LDPC_N49_K24", max_iter: int = 50, strip_padding: bool = True,
                 llr_scale: float = 1.0):
        c = load_code(code)
        dec = BPSumProduct(c, max_iter=max_iter)
        _DecoderBlock.__init__(self, "bp_decoder", c, dec, f"bp{int(max_iter)}",
                               strip_padding, llr_scale)


class osd_decoder(_DecoderBlock):  # noqa: N801
    """Ordered-statistics decoding (osd.OSDDecoder, C++ kernel) of order `order`: near maximum
    likelihood on short codes (order 2 on LDPC_N49_K24 is within ~0.1 nats of ML).

    The decision depends only on the signs, the ordering and the relative sizes of the LLRs, so
    a positive llr_scale does not change the output (it is kept for parity with bp_decoder).
    """

    def __init__(self, code: str = "LDPC_N49_K24", order: int = 2, strip_padding: bool = True,
                 llr_scale: float = 1.0):
        from .osd import OSDDecoder

        c = load_code(code)
        dec = OSDDecoder(c, order=int(order))
        _DecoderBlock.__init__(self, "osd_decoder", c, dec, dec.name, strip_padding,
                               llr_scale)
