# SPDX-License-Identifier: GPL-3.0-or-later
"""The C++ range coder and CDF quantizer through their Python bindings."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gnuradio import lmsscc


def cdf_from_counts(counts, precision):
    return lmsscc.probs_to_cdf(np.asarray(counts, dtype=np.float32), precision)


@given(
    precision=st.integers(8, 31),
    weights=st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=300),
    data=st.data(),
)
def test_round_trip_property(precision, weights, data):
    cdf = cdf_from_counts(weights, precision)
    nsym = len(weights)
    symbols = data.draw(st.lists(st.integers(0, nsym - 1), max_size=400))
    enc = lmsscc.RangeEncoder(precision)
    for s in symbols:
        enc.encode_symbol(cdf, s)
    blob = enc.finish()
    dec = lmsscc.RangeDecoder(blob, precision)
    assert [dec.decode_symbol(cdf) for _ in symbols] == symbols


def test_bulk_static_model_round_trip_and_size():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(256) * 0.3).astype(np.float32)
    cdf = lmsscc.probs_to_cdf(probs, 16)
    freq = np.diff(cdf.astype(np.int64)) / 2**16
    symbols = rng.choice(256, size=200_000, p=freq).astype(np.uint32)
    enc = lmsscc.RangeEncoder(16)
    enc.encode_symbols(symbols, cdf)
    blob = enc.finish()
    entropy_bits = -np.log2(freq[symbols]).sum()
    # Within 0.01% + a few bytes of the quantised model's information content.
    assert 8 * len(blob) <= entropy_bits * 1.0001 + 32
    dec = lmsscc.RangeDecoder(blob, 16)
    assert np.array_equal(dec.decode_symbols(len(symbols), cdf), symbols)


def test_quantizer_properties_at_vocab_sizes():
    rng = np.random.default_rng(1)
    for v, p in [(49152, 24), (262144, 24), (49152, 16), (3, 2)]:
        logits = (rng.standard_normal(v) * 4).astype(np.float32)
        cdf = lmsscc.logits_to_cdf(logits, p)
        assert cdf.dtype == np.uint32 and len(cdf) == v + 1
        assert cdf[0] == 0 and cdf[-1] == 2**p
        assert np.all(np.diff(cdf.astype(np.int64)) >= 1)
        assert np.array_equal(cdf, lmsscc.logits_to_cdf(logits.copy(), p))


def test_quantizer_follows_probabilities():
    logits = np.log(np.array([0.7, 0.2, 0.1], dtype=np.float32))
    freq = np.diff(lmsscc.logits_to_cdf(logits, 24).astype(np.int64)) / 2**24
    assert np.allclose(freq, [0.7, 0.2, 0.1], atol=1e-6)


def test_quantizer_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        lmsscc.logits_to_cdf(np.array([0.0, np.nan], dtype=np.float32), 16)
    with pytest.raises(ValueError, match="does not fit"):
        lmsscc.logits_to_cdf(np.zeros(300, dtype=np.float32), 8)
    with pytest.raises(ValueError, match="negative"):
        lmsscc.probs_to_cdf(np.array([0.5, -0.1], dtype=np.float32), 16)
    with pytest.raises(ValueError, match="1-D"):
        lmsscc.logits_to_cdf(np.zeros((2, 2), dtype=np.float32), 16)


def test_encoder_rejects_bad_symbols_and_precisions():
    with pytest.raises(ValueError, match="precision"):
        lmsscc.RangeEncoder(40)
    enc = lmsscc.RangeEncoder(8)
    cdf = np.array([0, 0, 256], dtype=np.uint32)
    with pytest.raises(ValueError, match="zero"):
        enc.encode_symbol(cdf, 0)
    with pytest.raises(ValueError, match="outside"):
        enc.encode_symbol(cdf, 5)
    with pytest.raises(ValueError, match="end at"):
        enc.encode_symbol(np.array([0, 10, 100], dtype=np.uint32), 1)
    enc.finish()
    with pytest.raises(RuntimeError):
        enc.finish()


@given(blob=st.binary(max_size=64), precision=st.integers(1, 31), nsym=st.integers(1, 500))
def test_garbage_decodes_safely(blob, precision, nsym):
    nsym = min(nsym, 2**precision)
    cdf = lmsscc.logits_to_cdf(np.linspace(-3, 3, nsym).astype(np.float32), precision)
    dec = lmsscc.RangeDecoder(blob, precision)
    out = dec.decode_symbols(300, cdf)
    assert out.max(initial=0) < nsym
    assert dec.bytes_read <= len(blob)


def test_truncated_stream_reads_zeros_past_end():
    cdf = lmsscc.probs_to_cdf(np.ones(16, dtype=np.float32), 12)
    symbols = np.arange(1000, dtype=np.uint32) % 16
    enc = lmsscc.RangeEncoder(12)
    enc.encode_symbols(symbols, cdf)
    blob = enc.finish()
    dec = lmsscc.RangeDecoder(blob[:100], 12)
    out = dec.decode_symbols(len(symbols), cdf)
    assert dec.bytes_past_end > 300
    assert not np.array_equal(out, symbols)


def test_log_sum_exp_gives_token_information():
    logits = np.array([2.0, -1.0, 0.5, -np.inf], dtype=np.float32)
    cdf, lse = lmsscc.logits_to_cdf_lse(logits, 20)
    assert np.array_equal(cdf, lmsscc.logits_to_cdf(logits, 20))
    p = np.exp(logits.astype(np.float64) - lse)
    assert abs(p.sum() - 1) < 1e-12
    assert abs(lse - np.log(np.exp(logits.astype(np.float64)).sum())) < 1e-12
