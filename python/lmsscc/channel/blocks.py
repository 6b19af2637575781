"""GNU Radio message blocks for channel coding: fec_encoder, ecct_decoder, bp_decoder.

All three have one message input and one message output, both named 'pdus'. A PDU is
pmt.cons(metadata_dict, uniform_vector):

  fec_encoder   in : u8vector of bits (0/1), any length
                out: u8vector of codeword bits, a whole number of codewords; the info bits are
                     zero-padded up to a multiple of k and the metadata records
                     fec_code, fec_n, fec_k, fec_info_bits (original length), fec_pad_bits
  ecct_decoder  in : f32vector of LLRs (package convention: L = ln P(1)/P(0), positive -> 1, as
  bp_decoder         gr-digital's constellation_soft_decoder), a whole number of codewords; all
                     codewords of one PDU are decoded in one batch
                out: u8vector of info bits; trailing padding removed when the metadata carries
                     fec_pad_bits (set strip_padding=False to keep it); metadata gains fec_decoder,
                     fec_frames and fec_unsatisfied_frames (frames whose output fails the syndrome)

Bad input (not a PDU, wrong vector type, wrong length, more than MAX_PDU_ITEMS items, bits other
than 0/1, NaN/Inf LLRs) is logged as an error with the reason (the first of each kind only) and
DROPPED; the block keeps running. `dropped` counts such PDUs, `last_error` holds the last reason and
`stats()` returns the counts by reason (handy in tests and for monitoring).
"""
from __future__ import annotations

import re

import numpy as np
import pmt
from gnuradio import gr

from ..pdu_util import BadPdu
from .bp import BPDecoder
from .codes import load_code

PORT = "pdus"
# Largest PDU (items) any of these blocks accepts: ~85k codewords of LDPC_N49_K24.
MAX_PDU_ITEMS = 1 << 22


class _PduBlock(gr.basic_block):
    """Common plumbing: ports, PDU unpacking, error logging."""

    def __init__(self, name: str):
        gr.basic_block.__init__(self, name=name, in_sig=None, out_sig=None)
        self.message_port_register_in(pmt.intern(PORT))
        self.message_port_register_out(pmt.intern(PORT))
        self.set_msg_handler(pmt.intern(PORT), self._on_pdu)
        self.dropped = 0
        self.processed = 0
        self.last_error = ""
        self.drop_reasons = {}

    def _on_pdu(self, msg):
        try:
            meta, vec = self._unpack(msg)
            out_meta, out_vec = self.process(meta, vec)
        except BadPdu as exc:
            self._reject(str(exc))
            return
        except Exception as exc:  # a decoder bug must not take the flowgraph down either
            self._reject(f"internal error: {exc!r}")
            return
        self.processed += 1
        self.message_port_pub(pmt.intern(PORT), pmt.cons(out_meta, out_vec))

    def _reject(self, reason: str):
        self.dropped += 1
        self.last_error = reason
        kind = re.sub(r"\d+", "N", reason.split(":")[0])[:80]  # sizes vary: one kind
        if kind not in self.drop_reasons:  # log the first of each kind, count the rest
            self.logger.error(f"dropping PDU: {reason} (further drops of this kind are only counted)")
        self.drop_reasons[kind] = self.drop_reasons.get(kind, 0) + 1

    def stats(self) -> dict:
        return {"processed": self.processed, "dropped": self.dropped,
                "drop_reasons": dict(self.drop_reasons)}

    @staticmethod
    def _unpack(msg):
        if not pmt.is_pair(msg):
            raise BadPdu("message is not a PDU (pmt pair of metadata dict and uniform vector)")
        meta, vec = pmt.car(msg), pmt.cdr(msg)
        if pmt.is_null(meta):
            meta = pmt.make_dict()
        if not pmt.is_dict(meta):
            raise BadPdu("PDU metadata is not a dict")
        if not pmt.is_uniform_vector(vec):
            raise BadPdu("PDU payload is not a uniform vector")
        if pmt.length(vec) > MAX_PDU_ITEMS:
            raise BadPdu(f"PDU of {pmt.length(vec)} items exceeds the limit of {MAX_PDU_ITEMS}")
        return meta, vec

    def process(self, meta, vec):
        raise NotImplementedError


def _meta_int(meta, key, default=None):
    val = pmt.dict_ref(meta, pmt.intern(key), pmt.PMT_NIL)
    return pmt.to_long(val) if pmt.is_integer(val) else default


def _set(meta, key, value):
    if isinstance(value, str):
        return pmt.dict_add(meta, pmt.intern(key), pmt.intern(value))
    return pmt.dict_add(meta, pmt.intern(key), pmt.from_long(int(value)))


class fec_encoder(_PduBlock):  # noqa: N801  (GNU Radio block naming)
    """Bits PDU -> codeword bits PDU for the linear code `code` (name or H file)."""

    def __init__(self, code: str = "LDPC_N49_K24"):
        _PduBlock.__init__(self, "lmsscc_fec_encoder")
        self.code = load_code(code)

    def process(self, meta, vec):
        if not pmt.is_u8vector(vec):
            raise BadPdu("fec_encoder expects a u8vector of bits")
        bits = np.asarray(pmt.u8vector_elements(vec), dtype=np.uint8)
        if bits.size and bits.max() > 1:
            raise BadPdu("fec_encoder input must hold bits (0 or 1), one per byte")
        k = self.code.k
        pad = (-bits.size) % k
        frames = np.concatenate([bits, np.zeros(pad, np.uint8)]).reshape(-1, k)
        cw = self.code.encode(frames).reshape(-1)
        for key, value in (("fec_code", self.code.name), ("fec_n", self.code.n), ("fec_k", k),
                           ("fec_info_bits", bits.size), ("fec_pad_bits", pad)):
            meta = _set(meta, key, value)
        return meta, pmt.to_pmt(np.ascontiguousarray(cw, dtype=np.uint8))


class _DecoderBlock(_PduBlock):
    """LLR PDU -> info bits PDU around any object with decode(llr (B, n)) -> codeword bits (B, n)."""

    def __init__(self, name, code, decoder, label, strip_padding, llr_scale):
        _PduBlock.__init__(self, name)
        self.code = code
        self.decoder = decoder
        self.label = label
        self.strip_padding = bool(strip_padding)
        self.llr_scale = float(llr_scale)

    def process(self, meta, vec):
        if not pmt.is_f32vector(vec):
            raise BadPdu(f"{self.label} expects an f32vector of LLRs")
        llr = np.asarray(pmt.f32vector_elements(vec), dtype=np.float32)
        n = self.code.n
        if llr.size == 0 or llr.size % n:
            raise BadPdu(f"{llr.size} LLRs is not a whole number of {n}-bit codewords")
        if not np.isfinite(llr).all():
            raise BadPdu(f"{int((~np.isfinite(llr)).sum())} NaN/Inf LLRs")
        frames = llr.reshape(-1, n) * self.llr_scale
        bits = self.decoder.decode(frames)
        unsatisfied = int((~self.code.is_codeword(bits)).sum())
        info = self.code.extract_info(bits).reshape(-1).astype(np.uint8)
        pad = _meta_int(meta, "fec_pad_bits", 0)
        if self.strip_padding and 0 < pad <= self.code.k:
            info = info[:-pad]
        for key, value in (("fec_decoder", self.label), ("fec_frames", frames.shape[0]),
                           ("fec_unsatisfied_frames", unsatisfied)):
            meta = _set(meta, key, value)
        return meta, pmt.to_pmt(np.ascontiguousarray(info, dtype=np.uint8))


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
        _DecoderBlock.__init__(self, "lmsscc_ecct_decoder", dec.code, dec,
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
        dec = _BPAdapter(BPDecoder(c.H, max_iter=max_iter))
        _DecoderBlock.__init__(self, "lmsscc_bp_decoder", c, dec, f"bp{int(max_iter)}",
                               strip_padding, llr_scale)


class _BPAdapter:
    def __init__(self, bp: BPDecoder):
        self.bp = bp

    def decode(self, llr):
        return self.bp.decode(llr)[0]
