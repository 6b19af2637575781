# SPDX-License-Identifier: GPL-3.0-or-later
"""Word-level vocabulary with a spelling fallback, built from the training split only.

DeepSC uses whole words; on our small corpora a word list alone leaves most held-out news sentences
with an unknown word (names, numbers). So a word outside the list is spelled: every character but the
last becomes a continuation piece "c@@" (no space follows), the last a one-character word. Every
prepared ASCII sentence is therefore representable, and decode(encode(s)) == s.
"""

from __future__ import annotations

import json
import string
from collections import Counter

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = [PAD, BOS, EOS, UNK]
CONT = "@@"
# Printable ASCII except space and upper case (sentences are lower-cased).
CHARS = sorted(set(string.printable) - set(string.whitespace) - set(string.ascii_uppercase))


class Vocab:
    def __init__(self, tokens: list[str]):
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if self.tokens[:4] != SPECIALS:
            raise ValueError("a vocabulary starts with <pad> <s> </s> <unk>")

    pad, bos, eos, unk = 0, 1, 2, 3

    @classmethod
    def build(cls, sentences, n_words: int) -> "Vocab":
        counts = Counter(w for s in sentences for w in s.split())
        chars = CHARS + [c + CONT for c in CHARS]
        base = set(chars)
        common = [w for w, _ in counts.most_common() if w not in base][:n_words]
        return cls(SPECIALS + chars + common)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, sentence: str) -> list[int]:
        """Token ids of a prepared sentence, without <s> </s>."""
        ids = []
        for w in sentence.split():
            if w in self.index:
                ids.append(self.index[w])
            else:
                pieces = [c + CONT for c in w[:-1]] + [w[-1]]
                ids.extend(self.index.get(p, self.unk) for p in pieces)
        return ids

    def decode(self, ids) -> str:
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos:
                break
            if i in (self.pad, self.bos) or not 0 <= i < len(self.tokens):
                continue
            out.append(self.tokens[i])
        return " ".join(out).replace(CONT + " ", "").replace(CONT, "")

    def to_json(self) -> str:
        return json.dumps(self.tokens)

    @classmethod
    def from_json(cls, text: str) -> "Vocab":
        return cls(json.loads(text))
