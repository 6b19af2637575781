# SPDX-License-Identifier: GPL-3.0-or-later
"""Text preparation, vocabulary, metrics and the classical/digital baseline (no trained model needed)."""

import numpy as np
import pytest

from gnuradio.lmsscc.jscc import data, metrics
from gnuradio.lmsscc.jscc.digital import DigitalLink, classic_compress, classic_decompress
from gnuradio.lmsscc.jscc.vocab import Vocab

from testutil import heldout_news_texts

def test_prepare_lowercases_splits_punctuation_and_limits_length():
    assert data.prepare("Hello, World! It's fine.") == "hello , world ! it's fine ."
    assert data.prepare("Too short here.") is None  # 3 words
    assert data.prepare(" ".join(["word"] * 31)) is None
    assert data.prepare(" ".join(["word"] * 30)) is not None


def test_split_is_stable_and_heldout_file_is_in_the_test_split():
    for line in heldout_news_texts():
        assert data.is_test(data.prepare(line))


def test_vocab_spells_unknown_words_and_round_trips():
    v = Vocab.build(["the cat sat on the mat ."], n_words=10)
    for s in ["the cat sat on the mat .", "the zyzzyva sat , 42 times !", "a-b c'd"]:
        ids = v.encode(s)
        assert v.unk not in ids
        assert v.decode(ids + [v.eos, 5, 6]) == s
    assert len(v.encode("zyzzyva")) == 7  # spelled letter by letter
    assert Vocab.from_json(v.to_json()).tokens == v.tokens


def test_bleu_and_cer_known_values():
    ref = "the cat sat on the mat ."
    assert metrics.bleu(ref, ref, 4) == pytest.approx(1.0)
    assert metrics.bleu(ref, "", 1) == 0.0
    # 6 of 7 unigrams match, same length: BLEU-1 = 6/7.
    assert metrics.bleu(ref, "the dog sat on the mat .", 1) == pytest.approx(6 / 7)
    # Shorter hypothesis: brevity penalty exp(1 - 7/6).
    assert metrics.bleu(ref, "the cat sat on the mat", 1) == pytest.approx(np.exp(1 - 7 / 6))
    assert metrics.cer("The cat.", "the cat .") == 0.0  # normalised forms compared
    assert metrics.cer("abcd", "abxd") == pytest.approx(1 / 4)
    assert metrics.cer("abcd", None) == 1.0
    assert metrics.exact("Hello, there.", "hello , there .")


def test_classic_compressor_round_trips_and_picks_the_smaller():
    for text in ["short", "the government has suspended their applications while it waits. " * 3, "é ü 中"]:
        msg = classic_compress(text)
        assert classic_decompress(msg) == text
        assert msg[0] in (1, 2)


def test_digital_link_delivers_at_high_snr_and_loses_at_very_low_snr():
    rng = np.random.default_rng(0)
    link = DigitalLink("bp", "none")
    msg = classic_compress("a new blaze near goulburn, south-west of sydney, has forced the closure.")
    burst = link.burst(msg)
    assert burst.channel_uses % 49 == 0 and burst.n_header == 98  # PHY header v2: 2 codewords of k = 24
    assert link.receive_many([burst] * 10, 8.0, "none", rng) == [msg] * 10
    lost = link.receive_many([burst] * 10, -6.0, "none", rng)
    assert all(r is None for r in lost)  # CRC catches every corrupted frame
