# SPDX-License-Identifier: GPL-3.0-or-later
"""Belief-propagation (sum-product) decoding, vectorized over a batch of frames, for any H.

Works for sparse LDPC matrices and for dense BCH/Polar parity-check matrices alike (the classic
"BP-50" baseline of the neural-decoding literature: flooding schedule, 50 iterations, early stop
per frame once the hard decision satisfies EVERY row of H).

Input/output LLRs follow the package convention (llr.py): L = ln P(1)/P(0), positive -> bit 1.
Internally messages use the textbook sign (positive -> bit 0), hence the negations at the borders.

For gr-fec's own C++ decoder see ``grfec_ldpc_decode`` below (it takes samples, not LLRs: see the
sigma note there).
"""
from __future__ import annotations

import numpy as np

_CLIP_LLR = 30.0     # keeps tanh away from +-1 so that atanh stays finite
_TINY = 1e-300


class BPDecoder:
    """Flooding sum-product decoder for a parity-check matrix H (m x n, 0/1)."""

    def __init__(self, H: np.ndarray, max_iter: int = 50, early_stop: bool = True):
        self.H = np.asarray(H, dtype=np.uint8)
        self.max_iter = int(max_iter)
        self.early_stop = bool(early_stop)
        m, n = self.H.shape
        self.check_of_edge, self.var_of_edge = np.nonzero(self.H)
        n_edges = self.check_of_edge.size
        # Edge -> node incidence matrices: summing messages per node is one matmul.
        self.edge_to_var = np.zeros((n_edges, n))
        self.edge_to_var[np.arange(n_edges), self.var_of_edge] = 1.0
        self.edge_to_check = np.zeros((n_edges, m))
        self.edge_to_check[np.arange(n_edges), self.check_of_edge] = 1.0
        self.Ht = self.H.T.astype(np.int32)

    def decode(self, llr: np.ndarray, return_iterations: bool = False):
        """Decode (B, n) channel LLRs. Returns (hard bits (B, n) uint8, posterior LLRs (B, n))."""
        llr = np.atleast_2d(np.asarray(llr, dtype=np.float64))
        lam = np.clip(-llr, -_CLIP_LLR, _CLIP_LLR)           # positive -> bit 0
        posterior = lam.copy()
        iterations = np.zeros(lam.shape[0], dtype=np.int32)
        active = np.arange(lam.shape[0])
        v2c = lam[:, self.var_of_edge]
        if self.early_stop:
            active, v2c = self._drop_converged(posterior, active, v2c)
        for it in range(1, self.max_iter + 1):
            if active.size == 0:
                break
            c2v = self._check_update(v2c)
            post = lam[active] + c2v @ self.edge_to_var
            posterior[active] = post
            iterations[active] = it
            v2c = np.clip(post[:, self.var_of_edge] - c2v, -_CLIP_LLR, _CLIP_LLR)
            if self.early_stop:
                active, v2c = self._drop_converged(posterior, active, v2c)
        bits = (posterior < 0).astype(np.uint8)
        out = (bits, -posterior)
        return out + (iterations,) if return_iterations else out

    def _check_update(self, v2c: np.ndarray) -> np.ndarray:
        """c2v = 2 atanh(prod over the other edges of the check of tanh(v2c / 2)).

        The product "over the others" is formed from per-check totals of log|t| and of the sign
        parity, minus the edge's own share: one matmul each instead of a loop over checks.
        """
        t = np.tanh(0.5 * v2c)
        log_mag = np.log(np.maximum(np.abs(t), _TINY))
        negative = (t < 0).astype(np.float64)
        tot_log = log_mag @ self.edge_to_check
        tot_neg = negative @ self.edge_to_check
        excl_log = tot_log[:, self.check_of_edge] - log_mag
        excl_neg = tot_neg[:, self.check_of_edge] - negative
        sign = 1.0 - 2.0 * (np.rint(excl_neg) % 2)
        prod = sign * np.minimum(np.exp(excl_log), 1.0 - 1e-15)
        return 2.0 * np.arctanh(prod)

    def _drop_converged(self, posterior, active, v2c):
        hard = (posterior[active] < 0).astype(np.int32)
        unsatisfied = ((hard @ self.Ht) & 1).any(axis=1)
        return active[unsatisfied], v2c[unsatisfied]


class BPSumProduct:
    """BP-50 (by default) behind the package's decoder interface: decode(llr (B, n)) -> codeword
    bits (B, n). make_decoder('bp') and the bp_decoder block both use it."""
    name = "bp"

    def __init__(self, code, max_iter: int = 50):
        self.code = code
        self.bp = BPDecoder(code.H, max_iter=max_iter)

    def decode(self, llr):
        return self.bp.decode(llr)[0]


def grfec_ldpc_decode(alist_path: str, llr: np.ndarray, max_iter: int = 50) -> np.ndarray:
    """Decode LLRs (package convention) with GNU Radio's C++ fec.ldpc_decoder; returns info bits.

    gr-fec 3.10's ldpc_decoder takes raw samples (positive -> bit 1) and forms the likelihood as
    exp(x / (2 sigma^2)); an LLR L therefore corresponds to x = L with sigma = 1/sqrt(2). Passing
    the channel's own noise std instead makes its soft inputs 4x too weak (see shared NOTES.md).
    Its output is the information bits at the generator's systematic positions of gr-fec's encoder.
    """
    from gnuradio import fec  # imported lazily: the rest of the package needs no GNU Radio

    from gnuradio import blocks, gr

    llr = np.atleast_2d(np.asarray(llr, dtype=np.float32))
    dec = fec.ldpc_decoder.make(str(alist_path), 1.0 / np.sqrt(2.0), int(max_iter))
    k = int(round(dec.rate() * llr.shape[1]))
    tb = gr.top_block()
    src = blocks.vector_source_f(llr.reshape(-1).tolist(), False)
    ext = fec.extended_decoder(dec, threading=None, ann=None, puncpat="11")
    snk = blocks.vector_sink_b()
    tb.connect(src, ext, snk)
    tb.run()
    return np.array(snk.data(), dtype=np.uint8).reshape(llr.shape[0], k)
