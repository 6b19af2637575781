# SPDX-License-Identifier: GPL-3.0-or-later
"""Decoders with one interface: decode(llr (B, n) float, package convention) -> codeword bits (B, n).

  * HardDecoder    : per-bit sign decision (no decoding);
  * BPSumProduct   : belief propagation, 50 iterations (bp.py, torch-free for the bp_decoder block);
  * ECCTDecoder    : pure ECCT (transformer only; ecct_decoder.py);
  * HybridBPECCT   : HYBRID, not a pure ECCT: BP-50 first; only frames whose BP output fails the full
                     syndrome check go through the ECCT, whose output seeds BP restarts; the most
                     likely valid codeword wins. Reported separately from the pure ECCT everywhere;
  * BPRestarts     : the same restart scheme WITHOUT any network (ablation control for the hybrid).
  * OSDDecoder     : ordered-statistics decoding (osd.py, C++ kernel), kinds osd (order 2), osd0..osd3.
  * ECCTAidedOSD   : OSD ordered by channel + ECCT reliabilities (aided_osd.py), kinds ecct_osd
                     (order 2), ecct_osd0..ecct_osd3; the channel LLRs still rank the candidates.

Info bits are then code.extract_info(codeword_bits).
"""
from __future__ import annotations

import numpy as np

from .bp import BPDecoder, BPSumProduct
from .ecct_decoder import ECCTDecoder
from .llr import hard_decision
from .weights import require_same_code, weights_for


class HardDecoder:
    name = "hard"

    def __init__(self, code):
        self.code = code

    def decode(self, llr):
        return hard_decision(llr)


def pick_most_likely(llr, fallback, candidates, code):
    """Per frame, the candidate codeword maximising sum_i L_i (2 b_i - 1) (= the log-likelihood up
    to a constant on BPSK channels with exact LLRs); frames with no valid candidate keep `fallback`."""
    best = fallback.copy()
    best_score = np.full(llr.shape[0], -np.inf)
    for cand in candidates:
        valid = code.is_codeword(cand)
        score = (llr * (2.0 * cand - 1.0)).sum(axis=1)
        take = valid & (score > best_score)
        best[take] = cand[take]
        best_score[take] = score[take]
    return best


def rescaled_restart_inputs(llr):
    """Non-neural BP restart inputs: BP is not scale-invariant, so re-running it on re-scaled
    LLRs explores other trajectories (a control for what the ECCT adds)."""
    mag = np.abs(llr)
    return [llr * np.tanh(mag / 2.0), 2.0 * llr, 0.5 * llr, 3.0 * llr, llr * np.tanh(mag / 4.0)]


class BPRestarts:
    """NON-NEURAL control: BP-50; frames failing the syndrome are re-decoded by BP from 5 re-scaled
    copies of their LLRs and the most likely valid codeword is kept (ablation for the hybrid)."""
    name = "bp_restarts"

    def __init__(self, code, max_iter: int = 50):
        self.code = code
        self.bp = BPDecoder(code.H, max_iter=max_iter)

    def decode(self, llr):
        llr = np.atleast_2d(np.asarray(llr, dtype=np.float64))
        bits = self.bp.decode(llr)[0]
        failed = np.flatnonzero(~self.code.is_codeword(bits))
        if failed.size:
            sub = llr[failed]
            cands = [self.bp.decode(x)[0] for x in rescaled_restart_inputs(sub)]
            bits[failed] = pick_most_likely(sub, bits[failed], cands, self.code)
        return bits


class HybridBPECCT:
    """HYBRID decoder, not a pure ECCT (see the module docstring):

    1. BP-50 on every frame; frames whose output satisfies every check are done;
    2. for the others, candidates: the ECCT's own decision, and BP-50 restarted from ECCT-refined
       LLRs (signs flipped where the ECCT predicts a flip; LLRs scaled by 1 - 2 P(flip); LLRs with
       the ECCT logit added) and from two re-scaled copies of the channel LLRs;
    3. the most likely valid candidate (channel LLR correlation) replaces BP's output.
    The BPRestarts control (same scheme without the ECCT) measures what the network contributes.
    """
    name = "hybrid"

    def __init__(self, weights="ecct_LDPC_N49_K24_awgn", max_iter: int = 50, device: str = "cpu"):
        self.ecct = ECCTDecoder(weights, device=device)
        self.code = self.ecct.code
        self.bp = BPDecoder(self.code.H, max_iter=max_iter)
        self.last_rescued = 0   # frames changed from BP's failed output in the last call

    def decode(self, llr):
        llr = np.atleast_2d(np.asarray(llr, dtype=np.float64))
        bits = self.bp.decode(llr)[0]
        failed = np.flatnonzero(~self.code.is_codeword(bits))
        self.last_rescued = 0
        if failed.size:
            sub = llr[failed]
            ecct_bits, flip_logits = self.ecct.decode_with_logits(sub)
            p_flip = 1.0 / (1.0 + np.exp(-flip_logits))
            restarts = [np.where(flip_logits > 0, -sub, sub), sub * (1.0 - 2.0 * p_flip),
                        sub - np.sign(sub) * flip_logits] + rescaled_restart_inputs(sub)[:2]
            cands = [ecct_bits] + [self.bp.decode(x)[0] for x in restarts]
            new = pick_most_likely(sub, bits[failed], cands, self.code)
            self.last_rescued = int(self.code.is_codeword(new).sum())
            bits[failed] = new
        return bits


# Largest k for which order-2 OSD is the default: measured near maximum likelihood and fast on
# LDPC(49,24) and BCH(63,45), and ahead of BP-50 by 2 nats on CCSDS(128,64) (docs/channel_coding.md);
# past it the 1 + k + k(k-1)/2 test patterns grow and BP's home ground (long LDPC codes) begins.
OSD_DEFAULT_MAX_K = 64


def best_decoder(code) -> str:
    """The decoder kind measured best for `code` (what kind "auto" means): SC list decoding for
    Polar codes (L = 8 up to n = 64, where it already equals ML on Polar(64,32) at 3.5x SCL-32's
    speed; L = 32 beyond, ahead of L = 8 on Polar(128,64)), order-2 OSD for other short codes
    (k <= OSD_DEFAULT_MAX_K), BP-50 for longer codes."""
    from .polar import polar_structure

    try:
        polar_structure(code)
        return "scl8" if code.n <= 64 else "scl32"
    except ValueError:
        pass
    return "osd2" if code.k <= OSD_DEFAULT_MAX_K else "bp"


def make_decoder(kind: str, code, weights=None, device: str = "cpu"):
    """Factory used by the benchmark and the GNU Radio blocks ("auto": best_decoder(code))."""
    if kind == "auto":
        kind = best_decoder(code)
    if kind == "hard":
        return HardDecoder(code)
    if kind == "bp":
        return BPSumProduct(code)
    if kind == "bp_restarts":
        return BPRestarts(code)
    if kind in ("ecct", "hybrid"):
        w = weights_for(code, weights)
        dec = ECCTDecoder(w, device=device) if kind == "ecct" else HybridBPECCT(w, device=device)
        require_same_code(dec.code, code, w)
        return dec
    if kind == "sc" or kind.startswith("scl"):
        from .polar import SCLDecoder, parse_list_size
        return SCLDecoder(code, list_size=parse_list_size(kind))
    if kind.startswith("ecct_osd"):
        from .aided_osd import ECCTAidedOSD
        from .osd import osd_kind_order
        return ECCTAidedOSD(code, order=osd_kind_order(kind[len("ecct_"):]), weights=weights,
                            device=device)
    if kind.startswith("osd"):
        from .osd import OSDDecoder, osd_kind_order
        return OSDDecoder(code, order=osd_kind_order(kind))
    raise ValueError(f"unknown decoder {kind!r}")
