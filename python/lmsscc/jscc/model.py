# SPDX-License-Identifier: GPL-3.0-or-later
"""DeepSC-style text JSCC: semantic encoder -> channel encoder -> power-normalised complex symbols
-> channel -> channel decoder -> semantic decoder.

Every sentence is sent as exactly `max_len * symbols_per_token` complex channel uses (256 with the
defaults): the token sequence (+ </s>) is padded to max_len positions and each position's channel
encoder emits `symbols_per_token` complex symbols. A fixed length means the receiver needs no side
information about the sentence length.

Deviation from DeepSC (stated in docs/results.md): the semantic decoder is a non-autoregressive
transformer (self-attention over the received positions, one token per position in a single pass)
instead of DeepSC's autoregressive decoder; on this CPU that trains several times faster and decodes in
one pass, and the positions are aligned with the sent tokens anyway.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..phy import channels


@dataclass
class JSCCConfig:
    vocab_size: int
    max_len: int = 64  # token positions per sentence, </s> included
    d_model: int = 128
    heads: int = 4
    layers: int = 3  # encoder layers; the decoder has as many
    ff: int = 512
    symbols_per_token: int = 4  # complex channel uses per position
    dropout: float = 0.05

    @property
    def channel_uses(self) -> int:
        return self.max_len * self.symbols_per_token

    def to_dict(self) -> dict:
        return asdict(self)


def _stack(cfg: JSCCConfig) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.heads, cfg.ff, cfg.dropout,
                                       batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)


def normalize_power(x: torch.Tensor, total_symbols: int) -> torch.Tensor:
    """Scale each sentence's complex symbols (B, N) to a total energy of total_symbols, i.e. mean
    energy 1 per channel use over the full fixed block (positions after </s> are sent as zeros)."""
    energy = torch.sum(x.real ** 2 + x.imag ** 2, dim=1, keepdim=True)
    return x * torch.sqrt(total_symbols / (energy + 1e-12))


def channel(x: torch.Tensor, snr_db: torch.Tensor, fading: str) -> torch.Tensor:
    """The package's channel (phy/channels.py, torch twin): fading 'none' (AWGN) or 'block' (one
    gain per sentence, as DeepSC), then coherent zero-forcing equalisation y / h with perfect CSI.
    snr_db: (B,) per-symbol Es/N0."""
    noise_var = channels.noise_var_for_esn0(snr_db)[:, None]
    # Noise before the gains: the draw order of the channel the shipped model was trained on.
    noise = channels.torch_complex_noise(x.shape, noise_var, device=x.device)
    if channels.check_fading(fading) == "none":
        return x + noise
    h = channels.torch_fading_gains(x.shape, fading, device=x.device)
    return (h * x + noise) / h


class TextJSCC(nn.Module):
    def __init__(self, cfg: JSCCConfig):
        super().__init__()
        self.cfg = cfg
        d, c2 = cfg.d_model, 2 * cfg.symbols_per_token
        self.embed = nn.Embedding(cfg.vocab_size, d)
        self.pos_tx = nn.Parameter(torch.randn(cfg.max_len, d) * 0.02)
        self.pos_rx = nn.Parameter(torch.randn(cfg.max_len, d) * 0.02)
        self.semantic_encoder = _stack(cfg)
        self.channel_encoder = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 256), nn.ReLU(),
                                             nn.Linear(256, c2))
        self.channel_decoder = nn.Sequential(nn.Linear(c2, 256), nn.ReLU(), nn.Linear(256, d))
        self.semantic_decoder = _stack(cfg)
        self.out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, cfg.vocab_size))

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        """Token ids (B, L <= max_len, </s> then <pad>) -> complex symbols (B, channel_uses).
        Pad positions are masked out of attention and sent as zeros, so training on batches cut to
        their longest sentence (L < max_len: much cheaper) computes exactly what deployment sends."""
        b, n = ids.shape
        pad = ids == 0
        h = self.semantic_encoder(self.embed(ids) + self.pos_tx[:n], src_key_padding_mask=pad)
        z = self.channel_encoder(h) * (~pad)[..., None]
        z = torch.nn.functional.pad(z, (0, 0, 0, self.cfg.max_len - n)).reshape(b, -1, 2)
        return normalize_power(torch.complex(z[..., 0], z[..., 1]), self.cfg.channel_uses)

    def decode_logits(self, y: torch.Tensor, positions: int | None = None) -> torch.Tensor:
        """Received (equalised) complex symbols (B, channel_uses) -> logits (B, positions, vocab)
        for the first `positions` token positions (all by default)."""
        b = y.shape[0]
        feats = torch.stack([y.real, y.imag], dim=-1).reshape(b, self.cfg.max_len, -1).float()
        # Deep fades blow the zero-forced samples up; clipping keeps the decoder's inputs in range.
        feats = feats.clamp(-20.0, 20.0)
        h = self.semantic_decoder(self.channel_decoder(feats) + self.pos_rx)
        return self.out(h[:, :positions])

    def forward(self, ids, snr_db, fading="none"):
        return self.decode_logits(channel(self.encode(ids), snr_db, fading), ids.shape[1])
