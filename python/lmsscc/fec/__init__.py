# SPDX-License-Identifier: GPL-3.0-or-later
"""Channel coding for gr-lmsscc: code library, BPSK LLRs, BP and ECCT decoders, PDU blocks.

LLR convention for the whole package: L = ln P(bit=1)/P(bit=0), positive means 1 (gr-digital's
constellation_soft_decoder with constellation_bpsk). See llr.py; the channel model (AWGN,
Rayleigh fading) is phy/channels.py.

The numpy parts load eagerly; torch (ECCT) and GNU Radio (blocks) load on first attribute access,
so ``import gnuradio.lmsscc.fec`` stays cheap.
"""
from .bp import BPDecoder, BPSumProduct
from .llr import bpsk, ebn0_to_sigma, hard_decision, simulate_llrs, transmit
from .codes import LinearCode, code_from_matrix, list_codes, load_code, read_alist, read_dense

_LAZY = {
    "ECCT": ".ecct", "ECCTConfig": ".ecct",
    "ECCTDecoder": ".ecct_decoder", "HybridBPECCT": ".decoders",
    "HardDecoder": ".decoders", "make_decoder": ".decoders",
    "load_ecct": ".weights", "save_ecct": ".weights", "shipped_weights": ".weights",
    "measure_point": ".evaluate",
    "SCLDecoder": ".polar", "polar_structure": ".polar",
    "OSDDecoder": ".osd", "osd_decoder": ".blocks",
    "ECCTAidedOSD": ".aided_osd",
    "fec_encoder": ".blocks", "ecct_decoder": ".blocks", "bp_decoder": ".blocks",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module = importlib.import_module(_LAZY[name], __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BPDecoder", "BPSumProduct", "LinearCode", "bpsk", "code_from_matrix", "ebn0_to_sigma",
           "hard_decision", "list_codes", "load_code", "read_alist", "read_dense", "simulate_llrs", "transmit",
           *_LAZY]
