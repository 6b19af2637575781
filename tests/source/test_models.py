# SPDX-License-Identifier: GPL-3.0-or-later
"""The model layer (source/models/) with the tiny random model: the
CodingModel protocol, model objects handed to make_codec and the blocks,
one header_format vocabulary, fingerprints computed for another engine."""

import pytest

from gnuradio import lmsscc
from gnuradio.lmsscc.source import CodingModel, LMCodec, NumericSettings, make_codec, message
from gnuradio.lmsscc.source.context import load_context
from gnuradio.lmsscc.pdu_util import make_pdu
from gnuradio.lmsscc.source.models import TokenStream, batching, fingerprint_as
from gnuradio.lmsscc.source.tiny import tiny_model

from flowgraph_util import pdu_text, run_message_chain


class DelegatingModel:
    """A model that codes without being any backend's class: the shape of a
    user's own backend. Everything comes from the wrapped model."""

    def __init__(self, inner):
        self.inner = inner
        self.can_fork = inner.can_fork
        for name in ("name", "vocab_size", "fingerprint", "settings", "weights_digest", "tokenizer"):
            setattr(self, name, getattr(inner, name))
        self.streams_opened = 0

    def tokenize(self, text):
        return self.inner.tokenize(text)

    def detokenize(self, ids):
        return self.inner.detokenize(ids)

    def stream(self):
        self.streams_opened += 1
        return self.inner.stream()


def test_the_hf_model_and_a_users_model_satisfy_the_protocol(tiny_lm):
    assert isinstance(tiny_lm, CodingModel)
    assert isinstance(DelegatingModel(tiny_lm), CodingModel)
    assert isinstance(tiny_lm.stream(), TokenStream)
    assert not isinstance("default", CodingModel)


def test_make_codec_uses_a_model_object_as_it_is(tiny_lm):
    """Before the protocol, make_codec tested isinstance(model, LanguageModel)
    and turned any other model (the native engine's) into a path to load."""
    model = DelegatingModel(tiny_lm)
    # engine says how to load a model by name; an object is loaded already
    codec = make_codec(model, engine="native")
    assert codec.lm is model
    coded = codec.encode("used as it is").message
    assert model.streams_opened == 1
    assert make_codec(tiny_lm).decode(coded).text == "used as it is"


def test_blocks_use_a_model_object_as_it_is(tiny_lm):
    model = DelegatingModel(tiny_lm)
    enc = lmsscc.lm_arith_encoder(model=model, header_format="lean")
    dec = lmsscc.lm_arith_decoder(model=model, header_format="lean")
    assert enc.codec.lm is model and dec.codec.lm is model
    text_pdu = make_pdu({}, bytearray(b"through the blocks"), "u8")
    (out,) = run_message_chain([enc, dec], [text_pdu], 1)
    assert pdu_text(out) == "through the blocks" and model.streams_opened == 2


def test_what_is_neither_a_name_nor_a_model_is_refused(tiny_lm):
    with pytest.raises(TypeError, match="model must be a name, a path or a model that codes"):
        make_codec(42)
    with pytest.raises(TypeError, match="LMCodec needs a model that codes"):
        LMCodec("default")
    with pytest.raises(TypeError, match="native engine"):
        batching.decode_batch(LMCodec, tiny_lm, [])


@pytest.mark.parametrize("header_format", message.HEADER_FORMATS)
def test_one_header_format_vocabulary(tiny_lm, header_format):
    codec = LMCodec(tiny_lm, header_format=header_format)
    assert codec.header_format == header_format
    assert codec.version == message.HEADER_FORMAT_VERSIONS[header_format]
    assert codec.encode("x").message[0] >> 4 == codec.version
    assert make_codec(tiny_lm, header_format=header_format).version == codec.version


def test_standard_means_compact_where_version_1_has_no_room(tiny_lm):
    assert LMCodec(tiny_lm, context=load_context("news")).header_format == "compact"
    assert make_codec(tiny_lm, header_format="standard", conversation=True).header_format == "compact"
    assert make_codec(tiny_lm, header_format="lean", conversation=True).header_format == "lean"
    with pytest.raises(ValueError, match=r"header_format must be one of \('standard', 'compact', 'lean'\)"):
        LMCodec(tiny_lm, header_format="short")


def test_fingerprint_for_another_engine_matches_that_engine(tiny_lm):
    """fingerprint_as computes what the hf engine computes (the hint a
    mismatched receiver gives relies on it) and differs for other settings."""
    two_threads = tiny_model(seed=0, settings=NumericSettings(threads=2))
    assert fingerprint_as(tiny_lm, "hf", 1) == tiny_lm.fingerprint
    assert fingerprint_as(tiny_lm, "hf", 2) == two_threads.fingerprint != tiny_lm.fingerprint
    assert fingerprint_as(tiny_lm, "native") not in (tiny_lm.fingerprint, two_threads.fingerprint)
    with pytest.raises(ValueError, match="unknown engine"):
        fingerprint_as(tiny_lm, "gpu")
