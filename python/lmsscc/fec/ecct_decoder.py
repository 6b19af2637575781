# SPDX-License-Identifier: GPL-3.0-or-later
"""The trained ECCT as a decoder (decode(llr (B, n)) -> codeword bits (B, n), as every decoder of
decoders.py); the hybrid and the ECCT-aided OSD use its flip logits too."""
from __future__ import annotations

import numpy as np
import torch

from .ecct import decide, llr_to_reliability
from .weights import load_ecct


class ECCTDecoder:
    """Batched inference of a trained ECCT. Frames go through the network in chunks of `chunk`
    (small chunks keep the (chunk, heads, L, L) attention tensors in cache: faster on CPU)."""
    name = "ecct"

    def __init__(self, weights="ecct_LDPC_N49_K24_awgn", device: str = "cpu", chunk: int = 64):
        self.model, self.card, self.code = load_ecct(weights, device=device)
        self.device = device
        self.chunk = int(chunk)

    def decode(self, llr):
        return self.decode_with_logits(llr)[0]

    def decode_with_logits(self, llr):
        """(codeword bits (B, n) uint8, flip logits (B, n) float32)."""
        llr = np.atleast_2d(np.asarray(llr, dtype=np.float32))
        if llr.shape[1] != self.code.n:
            raise ValueError(f"expected {self.code.n} LLRs per frame, got {llr.shape[1]}")
        out = np.empty(llr.shape, dtype=np.uint8)
        logits = np.empty(llr.shape, dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, llr.shape[0], self.chunk):
                x = torch.from_numpy(llr[start:start + self.chunk]).to(self.device)
                reliab = llr_to_reliability(x)
                flip = self.model(reliab)
                out[start:start + self.chunk] = decide(reliab, flip).cpu().numpy()
                logits[start:start + self.chunk] = flip.cpu().numpy()
        return out, logits
