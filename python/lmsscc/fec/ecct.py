# SPDX-License-Identifier: GPL-3.0-or-later
"""Error Correction Code Transformer (ECCT), written here from Choukroun & Wolf, NeurIPS 2022.

Model (the paper's design, sizes configurable):
  * input: the n channel reliabilities and the m syndrome bits of the hard decision, as one sequence
    of n + m positions; position i gets a learned vector W_i scaled by its value
    (|lambda_i| for variables, the bipolar syndrome 1 - 2 s_j for checks);
  * N pre-norm transformer layers whose self-attention is MASKED by the code: two positions may
    attend to each other only if they are adjacent or share a neighbour in the Tanner graph of H
    (variable-check edges, variables sharing a check, checks sharing a variable, and self);
  * a per-position projection to one value, then a dense layer (n + m) -> n that estimates the
    multiplicative noise of each bit.

Output convention: the network returns one logit per bit, e_i > 0 meaning "the channel flipped the
sign of bit i", i.e. the multiplicative noise y_i * x_i is negative. The decoded word is the channel
hard decision XOR (e > 0). Training on the all-zero codeword is valid because for a linear code over a
channel symmetric in the sign, both the inputs (|y|, syndrome) and this target are independent of
the transmitted codeword (see docs/channel_coding.md).

Attention is a plain batched matmul + additive mask + softmax: on this CPU it measured faster than
torch's fused scaled_dot_product_attention (shared NOTES.md), and it keeps the code transparent.

Two variants (ECCTConfig.variant; cards without the field are "legacy", so old weights keep their
architecture):
  * "legacy": the model shipped first. Its mask also lets checks that share a variable attend to each
    other; PyTorch default initialisation; no mid-stack normalisation.
  * "paper": as published. The mask has only variable-variable pairs that share a check, the
    variable-check edges and self (no check-check pairs); every weight matrix (linear layers and the
    position embedding) is Glorot/Xavier-uniform initialised, biases zero; and one extra LayerNorm in
    the middle of the stack. The paper describes the encoder as N layers with a normalisation layer
    "in the middle"; we place it after the first floor(N/2) layers (for N = 1 there is no middle and no
    extra norm). Gradient clipping at norm 1.0, the paper's other training detail, lives in
    train/train_ecct.py.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


VARIANTS = ("legacy", "paper")


@dataclass
class ECCTConfig:
    n: int
    m: int
    layers: int = 2
    d_model: int = 32
    heads: int = 8
    ffn_mult: int = 4
    dropout: float = 0.0
    variant: str = "legacy"

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown ECCT variant {self.variant!r}; expected one of {VARIANTS}")

    def to_dict(self):
        return asdict(self)


def attention_mask(H: np.ndarray, variant: str = "legacy") -> torch.Tensor:
    """Boolean (n+m, n+m) mask of allowed attention pairs derived from H (m x n).

    Order: the n variable positions, then the m check positions. "paper": variables sharing a
    check, variable-check edges, self. "legacy" additionally allows checks sharing a variable.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown ECCT variant {variant!r}; expected one of {VARIANTS}")
    H = np.asarray(H, dtype=np.int64)
    m, n = H.shape
    vv = (H.T @ H) > 0                      # variables sharing a check (includes self)
    if variant == "legacy":
        cc = (H @ H.T) > 0                  # checks sharing a variable (includes self)
    else:
        cc = np.eye(m, dtype=bool)          # a check attends to itself only, not to other checks
    vc = H.T > 0                            # variable j touches check i
    top = np.concatenate([vv, vc], axis=1)
    bottom = np.concatenate([vc.T, cc], axis=1)
    allowed = np.concatenate([top, bottom], axis=0)
    allowed |= np.eye(n + m, dtype=bool)    # a variable of weight 0 still attends to itself
    return torch.from_numpy(allowed)


class MaskedSelfAttention(nn.Module):
    def __init__(self, d_model: int, heads: int):
        super().__init__()
        if d_model % heads:
            raise ValueError("d_model must be divisible by heads")
        self.heads = heads
        self.head_dim = d_model // heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        B, L, D = x.shape
        h, dh = self.heads, self.head_dim
        qkv = self.qkv(x)                                     # (B, L, 3D), contiguous
        scale = 1.0 / math.sqrt(dh)
        if x.is_cuda:
            return self.out(self._all_heads_at_once(qkv, additive_mask, scale))
        contexts = []
        for i in range(h):
            # Strided (B, L, dh) views: BLAS reads them in place (leading dimension 3D), which
            # avoids the permute + copy of the usual (B, h, L, dh) layout.
            q = qkv[..., i * dh:(i + 1) * dh]
            k = qkv[..., D + i * dh:D + (i + 1) * dh]
            v = qkv[..., 2 * D + i * dh:2 * D + (i + 1) * dh]
            # One fused call for mask + scale * q k^T: separate mul/add passes over the
            # (B, L, L) scores cost as much as the matmul itself on CPU.
            scores = torch.baddbmm(additive_mask, q, k.transpose(1, 2), alpha=scale)
            contexts.append(torch.bmm(torch.softmax(scores, dim=-1), v))
        ctx = contexts[0] if h == 1 else torch.cat(contexts, dim=-1)
        return self.out(ctx)

    def _all_heads_at_once(self, qkv, additive_mask, scale):
        """GPU path: heads folded into the batch, one bmm and one softmax for all heads. On this CPU
        the per-head loop above measured faster even with 8 heads of width 4 (490 vs 336 training
        samples/s, Polar(64,32) N2 d32): the permute copy costs more than the loop saves."""
        B, L, _ = qkv.shape
        h, dh = self.heads, self.head_dim
        q, k, v = qkv.view(B, L, 3, h, dh).permute(2, 0, 3, 1, 4).reshape(3, B * h, L, dh).unbind(0)
        scores = torch.baddbmm(additive_mask.to(q.dtype), q, k.transpose(1, 2), alpha=scale)
        ctx = torch.bmm(torch.softmax(scores, dim=-1), v)                 # (B h, L, dh)
        return ctx.view(B, h, L, dh).transpose(1, 2).reshape(B, L, h * dh)


class EncoderLayer(nn.Module):
    """Pre-norm transformer layer (pre-norm trains more stably with short schedules)."""

    def __init__(self, d_model: int, heads: int, ffn_mult: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = MaskedSelfAttention(d_model, heads)
        self.norm2 = nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(nn.Linear(d_model, ffn_mult * d_model), nn.GELU(),
                                 nn.Linear(ffn_mult * d_model, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, additive_mask):
        x = x + self.drop(self.attn(self.norm1(x), additive_mask))
        return x + self.drop(self.ffn(self.norm2(x)))


class ECCT(nn.Module):
    def __init__(self, cfg: ECCTConfig, H: np.ndarray):
        super().__init__()
        self.cfg = cfg
        H = np.asarray(H, dtype=np.uint8)
        if H.shape != (cfg.m, cfg.n):
            raise ValueError(f"H shape {H.shape} != (m, n) = {(cfg.m, cfg.n)}")
        L = cfg.n + cfg.m
        self.register_buffer("H", torch.from_numpy(H.astype(np.float32)), persistent=False)
        allowed = attention_mask(H, cfg.variant)
        additive = torch.zeros(L, L)
        additive[~allowed] = float("-inf")
        self.register_buffer("additive_mask", additive, persistent=False)
        self.embedding = nn.Parameter(torch.randn(L, cfg.d_model))
        self.layers = nn.ModuleList(EncoderLayer(cfg.d_model, cfg.heads, cfg.ffn_mult, cfg.dropout)
                                    for _ in range(cfg.layers))
        # Paper variant: one LayerNorm after the first half of the stack (module absent in legacy,
        # so legacy state dicts are unchanged).
        self.mid_index = cfg.layers // 2 - 1 if cfg.variant == "paper" and cfg.layers >= 2 else None
        if self.mid_index is not None:
            self.mid_norm = nn.LayerNorm(cfg.d_model)
        self.final_norm = nn.LayerNorm(cfg.d_model)
        self.to_scalar = nn.Linear(cfg.d_model, 1)
        self.to_bits = nn.Linear(L, cfg.n)
        if cfg.variant == "paper":
            self._glorot_init()

    def _glorot_init(self):
        """Xavier/Glorot-uniform weights (U(-a, a), a = sqrt(6 / (fan_in + fan_out))) for every
        matrix, zero biases; LayerNorms keep (1, 0)."""
        nn.init.xavier_uniform_(self.embedding)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, reliab: torch.Tensor) -> torch.Tensor:
        """reliab: (B, n) soft values, POSITIVE -> bit 0 (paper's y, or -LLR of the package).

        Returns (B, n) flip logits (positive: the hard decision of that bit is wrong).
        """
        magnitude = reliab.abs()
        hard = (reliab < 0).to(reliab.dtype)
        # Under bf16 autocast this matmul runs in bf16: exact while a check has <= 256 variables
        # (every code of the library; the densest, POLAR_N128, has rows of at most 128).
        syndrome = torch.remainder(hard @ self.H.T, 2.0)
        features = torch.cat([magnitude, 1.0 - 2.0 * syndrome], dim=1)    # (B, n+m)
        x = features.unsqueeze(-1) * self.embedding                       # (B, n+m, d)
        for index, layer in enumerate(self.layers):
            x = layer(x, self.additive_mask)
            if index == self.mid_index:
                x = self.mid_norm(x)
        per_position = self.to_scalar(self.final_norm(x)).squeeze(-1)     # (B, n+m)
        return self.to_bits(per_position)


def llr_to_reliability(llr: torch.Tensor) -> torch.Tensor:
    """Package LLRs (positive -> 1) to the model input: sign flipped, scaled per frame.

    Dividing by the frame's mean |LLR| makes the decoder insensitive to a global LLR scale (a
    soft decoder fed without a noise estimate, a wrong sigma...), while relative reliabilities,
    which carry the fading CSI, are kept.
    """
    scale = llr.abs().mean(dim=1, keepdim=True).clamp_min(1e-6)
    return -llr / scale


def flip_targets(reliab: torch.Tensor, codewords: torch.Tensor) -> torch.Tensor:
    """1 where the channel hard decision disagrees with the sent bit (negative multiplicative noise)."""
    hard = (reliab < 0).to(reliab.dtype)
    return (hard != codewords).to(reliab.dtype)


def decide(reliab: torch.Tensor, flip_logits: torch.Tensor) -> torch.Tensor:
    """Decoded codeword bits: hard decision of the input, flipped where the model says so."""
    hard = reliab < 0
    return (hard ^ (flip_logits > 0)).to(torch.uint8)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
