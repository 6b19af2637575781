# SPDX-License-Identifier: GPL-3.0-or-later
"""Send sentences through the text JSCC and a simulated channel; score the result."""

from __future__ import annotations

import numpy as np
import torch

from ..phy.channels import channel_name
from .model import channel


def ids_batch(vocab, sentences, max_len):
    """(B, max_len) ids with </s>; sentences longer than max_len are cut (their </s> is lost)."""
    out = torch.zeros(len(sentences), max_len, dtype=torch.long)
    for i, s in enumerate(sentences):
        ids = (vocab.encode(s) + [vocab.eos])[:max_len]
        out[i, :len(ids)] = torch.tensor(ids)
    return out


@torch.inference_mode()
def transmit(model, vocab, sentences, snr_db: float, fading: str, seed: int = 0,
             batch: int = 64) -> list[str]:
    """The received texts for the sentences sent at per-symbol SNR snr_db, fading 'none' or 'block'."""
    torch.manual_seed(seed)
    out = []
    for i in range(0, len(sentences), batch):
        ids = ids_batch(vocab, sentences[i:i + batch], model.cfg.max_len)
        x = model.encode(ids)
        y = channel(x, torch.full((ids.shape[0],), float(snr_db)), fading)
        pred = model.decode_logits(y).argmax(-1)
        out += [vocab.decode(p.tolist()) for p in pred]
    return out


def evaluate(model, vocab, sentences, snrs=(0, 10, 20), fadings=("none",)) -> list[dict]:
    """Exact-match fraction and word accuracy per (fading, SNR)."""
    res = []
    for fading in fadings:
        for snr in snrs:
            got = transmit(model, vocab, sentences, snr, fading)
            exact = np.mean([g == s for g, s in zip(got, sentences)])
            word_acc = np.mean([np.mean([a == b for a, b in zip(g.split(), s.split())] or [0])
                                for g, s in zip(got, sentences)])
            res.append({"channel": channel_name(fading), "fading": fading, "snr_db": snr,
                        "exact": round(float(exact), 4), "word_accuracy": round(float(word_acc), 4)})
    return res
