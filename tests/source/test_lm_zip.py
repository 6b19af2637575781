# SPDX-License-Identifier: GPL-3.0-or-later
"""apps/lm_zip.py end to end: self-describing files (decompress needs no
flags), contradicting flags refused in one line, old files still read, the
container's cost on short texts. The tiny model (saved as a local HF folder,
which also exercises loading any Hugging Face causal LM) covers the hf engine;
the real default model covers the native engine, which is fast."""

import importlib.util
import json

import pytest

from testutil import APPS, run_app

TEXT = "Line one of a small file.\nLine two, with ümlauts and 漢字.\n" * 30
KAT_TEXT = "Old lm_zip files stay readable.\n"
# Written by lm_zip before issue 13 (container LMZ1, version-1/2 messages):
# `compress --engine native` and `compress --engine native --context news`.
KAT_V1_NATIVE = "4c4d5a3115108e358e0ab643c352eb7fea05cd7951a36f075a10"
KAT_V1_NATIVE_NEWS = "4c4d5a311425370a0806fd4037c6916cd4242e87855b59ff43"
# The same text in today's container: `compress --engine native` (every
# default: 3 container bytes, one lean message) and with
# `--context news --header-format compact` (the built-in context flag and
# digest, a settings record for the format).
KAT_V2_NATIVE = "4c5a203c76230806eb7fea05cd7951a36f075a10"
KAT_V2_NATIVE_NEWS_COMPACT = "4c5a2a6af703020025370a0806fd4037c6916cd4242e87855b59ff43"
BUILTIN_CONTEXTS = ["none", "europarl", "news", "radio"]


def load_app():
    spec = importlib.util.spec_from_file_location("lm_zip_app", APPS / "lm_zip.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    return app


@pytest.fixture(scope="module")
def lm_zip():
    """The app's main(), run in this process so loaded models are shared."""
    app = load_app()

    def run(*args):
        try:
            app.main([str(a) for a in args] + ["--quiet"])
        except SystemExit as e:  # the app's one-line errors
            return str(e)
        return None

    return run


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def one_line_error(r):
    """The process failed with exactly one line on stderr and no traceback."""
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_compress_decompress_in_separate_processes(tmp_path, text_file, tiny_model_dir):
    packed, unpacked = tmp_path / "in.lmz", tmp_path / "out.txt"
    r = run_app("lm_zip.py", "compress", text_file, packed, "--model", tiny_model_dir,
                "--chunk-chars", "500", "--stats")
    assert r.returncode == 0, r.stderr
    assert "lm_zip: engine hf, format lean" in r.stderr  # says what it uses
    stats = json.loads(r.stdout)
    for key in ("input_bytes", "coded_bits", "model_bits", "tokens", "seconds", "container_bits"):
        assert key in stats
    assert stats["input_bytes"] == len(TEXT.encode())
    assert stats["coded_bits"] == 8 * packed.stat().st_size
    assert stats["chunks"] > 1
    assert (stats["engine"], stats["header_format"]) == ("hf", "lean")
    # no flags at all: the file names the model, engine, chunking and format
    r = run_app("lm_zip.py", "decompress", packed, unpacked, "--stats")
    assert r.returncode == 0, r.stderr
    assert unpacked.read_text(encoding="utf-8") == TEXT
    assert json.loads(r.stdout)["tokens"] == stats["tokens"]


def test_refuses_binary_input(tmp_path, tiny_model_dir):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\xff\xfe\x80 not text")
    r = run_app("lm_zip.py", "compress", binary, tmp_path / "x.lmz", "--model", tiny_model_dir)
    assert "not UTF-8" in one_line_error(r)


def test_corruption_and_truncation_detected(tmp_path, text_file, tiny_model_dir, lm_zip):
    packed, out = tmp_path / "in.lmz", tmp_path / "o.txt"
    assert lm_zip("compress", text_file, packed, "--model", tiny_model_dir, "--chunk-chars", "400",
                  "--header-format", "standard") is None
    data = bytearray(packed.read_bytes())
    data[-3] ^= 0x55
    damaged = tmp_path / "damaged.lmz"
    damaged.write_bytes(bytes(data))
    assert "corrupt" in lm_zip("decompress", damaged, out)
    assert not out.exists()  # nothing partly wrong is written
    truncated = tmp_path / "short.lmz"
    truncated.write_bytes(packed.read_bytes()[:60])
    assert "truncated" in lm_zip("decompress", truncated, out)
    assert "not an lm_zip file" in lm_zip("decompress", text_file, out)


@pytest.mark.parametrize("header_format", ["standard", "compact", "lean"])
def test_hf_every_context_and_format_decodes_without_flags(tmp_path, tiny_model_dir, lm_zip,
                                                           header_format):
    src = tmp_path / "s.txt"
    src.write_text(TEXT[:300], encoding="utf-8")
    for i, context in enumerate(BUILTIN_CONTEXTS):
        if header_format == "standard" and context != "none":
            continue  # standard headers have no room for a context (refused, tested below)
        packed, out = tmp_path / f"{context}.lmz", tmp_path / f"{context}.txt"
        flags = ["--engine", "hf", "--context", context, "--header-format", header_format,
                 "--precision", str(20 + i), "--threads", "1", "--chunk-chars", "200"]
        assert lm_zip("compress", src, packed, "--model", tiny_model_dir, *flags) is None
        assert lm_zip("decompress", packed, out) is None, (context, header_format)
        assert out.read_text(encoding="utf-8") == TEXT[:300]


def test_native_every_context_decodes_without_flags(tmp_path, lm_zip):
    """The embedded model on the native engine (its default engine)."""
    src = tmp_path / "s.txt"
    src.write_text("The committee agreed on the text.\nIt will vote on Thursday.", encoding="utf-8")
    for context in BUILTIN_CONTEXTS:
        packed, out = tmp_path / f"{context}.lmz", tmp_path / f"{context}.txt"
        assert lm_zip("compress", src, packed, "--engine", "native", "--context", context) is None
        assert lm_zip("decompress", packed, out) is None, context
        assert out.read_bytes() == src.read_bytes()


def test_hf_default_model_decodes_without_flags(tmp_path, lm_zip):
    """The one case with the real model on the slow engine."""
    src, packed, out = tmp_path / "s.txt", tmp_path / "s.lmz", tmp_path / "o.txt"
    src.write_text("Hello over the air.", encoding="utf-8")
    assert lm_zip("compress", src, packed, "--engine", "hf") is None
    assert lm_zip("decompress", packed, out) is None
    assert out.read_bytes() == src.read_bytes()


def test_contradicting_flag_is_one_line(tmp_path, text_file, tiny_model_dir, lm_zip):
    packed, out = tmp_path / "p.lmz", tmp_path / "p.txt"
    assert lm_zip("compress", text_file, packed, "--model", tiny_model_dir, "--engine", "hf",
                  "--context", "news", "--precision", "22") is None
    cases = [("--engine", "native", "--engine hf"), ("--context", "radio", "--context news"),
             ("--precision", "24", "--precision 22"),
             ("--header-format", "compact", "--header-format lean"),
             ("--chunk-chars", "100", "--chunk-chars 4096")]
    for i, (flag, value, recorded) in enumerate(cases):
        if i < 2:  # as a user sees it: a process, one line, no traceback
            line = one_line_error(run_app("lm_zip.py", "decompress", packed, out, flag, value))
        else:
            line = lm_zip("decompress", packed, out, flag, value)
        assert f"was compressed with {recorded}" in line, line
        assert not out.exists()
    # the same values as the file are accepted
    assert lm_zip("decompress", packed, out, "--context", "news", "--precision", "22") is None
    assert out.read_text(encoding="utf-8") == TEXT
    r = run_app("lm_zip.py", "compress", text_file, packed, "--model", tiny_model_dir,
                "--context", "news", "--header-format", "standard")
    assert "cannot carry a priming context" in one_line_error(r)


def test_short_text_costs_three_bytes_more_than_a_lean_message(tmp_path, lm_zip):
    """A 100-character file against the same text as a lean radio message."""
    from gnuradio.lmsscc.source import LMCodec, NumericSettings, shared_model

    text = "The committee will meet again on Thursday to discuss the budget for next year, and the rules."
    text = text + "!" * (100 - len(text))
    assert len(text) == 100
    src, packed = tmp_path / "s.txt", tmp_path / "s.lmz"
    src.write_text(text, encoding="utf-8")
    assert lm_zip("compress", src, packed) is None
    lean = LMCodec(shared_model(None, NumericSettings(engine="native")), header_format="lean").encode(text)
    assert packed.stat().st_size - len(lean.message) == 3
    assert packed.read_bytes()[3:] == lean.message


def test_old_format_known_answer(tmp_path, lm_zip):
    """LMZ1 files decode with the flags that made them; without them the
    error names the settings that match."""
    out = tmp_path / "o.txt"
    for hexdata, flags in [(KAT_V1_NATIVE, ["--engine", "native"]),
                           (KAT_V1_NATIVE_NEWS, ["--engine", "native", "--context", "news"])]:
        old = tmp_path / "old.lmz"
        old.write_bytes(bytes.fromhex(hexdata))
        assert lm_zip("decompress", old, out, *flags) is None
        assert out.read_text(encoding="utf-8") == KAT_TEXT
    error = lm_zip("decompress", old, out, "--engine", "native")
    assert "context 'news'" in error, error


def test_unknown_builtin_context_is_named(tmp_path, lm_zip):
    """A file primed with a built-in context this version does not have."""
    from gnuradio.lmsscc.source import load_context

    packed, out = tmp_path / "p.lmz", tmp_path / "o.txt"
    packed.write_bytes(b"LZ\x28" + bytes(a ^ 0xFF for a in load_context("news").digest[:2]) + b"\x3c")
    error = lm_zip("decompress", packed, out)
    assert "built-in context this lm_zip does not have" in error and "news" in error, error


def test_old_format_names_the_matching_engine(tmp_path, lm_zip):
    old, out = tmp_path / "old.lmz", tmp_path / "o.txt"
    old.write_bytes(bytes.fromhex(KAT_V1_NATIVE))
    error = lm_zip("decompress", old, out)  # old files default to hf
    assert "would match: engine native, context none, precision 24" in error, error


def test_new_format_known_answer(tmp_path, lm_zip):
    src, out = tmp_path / "kat.txt", tmp_path / "o.txt"
    src.write_text(KAT_TEXT, encoding="utf-8")
    for hexdata, flags in [(KAT_V2_NATIVE, ["--engine", "native"]),
                           (KAT_V2_NATIVE_NEWS_COMPACT, ["--engine", "native", "--context", "news",
                                                         "--header-format", "compact"])]:
        packed = tmp_path / "new.lmz"
        assert lm_zip("compress", src, packed, *flags) is None
        assert packed.read_bytes().hex() == hexdata
        packed.write_bytes(bytes.fromhex(hexdata))
        assert lm_zip("decompress", packed, out) is None
        assert out.read_text(encoding="utf-8") == KAT_TEXT


def test_settings_record_round_trip_and_refusals():
    from dataclasses import replace

    from gnuradio.lmsscc.source import MessageFormatError, load_context, lmzip

    settings = lmzip.ZipSettings(engine="hf", precision=20, threads=2, header_format="compact",
                                 chunk_chars=1000, context="radio", context_digest=b"\x01\x02",
                                 model="/models/some folder")
    for chunked in (False, True):
        data = lmzip.pack_header(settings, chunked)
        assert lmzip.read_container(data).settings == settings
    assert len(lmzip.pack_header(lmzip.DEFAULTS, False)) == 3  # every default: magic + 1 byte
    assert lmzip.read_container(b"LZ\x20").messages == []  # the empty text
    radio = load_context("radio")
    builtin = replace(lmzip.DEFAULTS, context="radio", context_digest=radio.digest[:2])
    assert len(lmzip.pack_header(builtin, False)) == 5  # + the built-in's 2 digest bytes
    assert lmzip.read_container(lmzip.pack_header(builtin, False)).settings == builtin
    unknown = lmzip.read_container(b"LZ\x28" + bytes(a ^ 0xFF for a in radio.digest[:2]))
    assert unknown.settings.context == ""  # a built-in this version lacks
    with pytest.raises(MessageFormatError, match="newer lm_zip"):
        lmzip.read_container(b"LZ\x22\x09\x00")  # unknown key 9
    with pytest.raises(MessageFormatError, match="context digest"):
        lmzip.read_container(b"LZ\x28\x01")
    with pytest.raises(MessageFormatError, match="version 3"):
        lmzip.read_container(b"LZ\x30")
    with pytest.raises(MessageFormatError, match="truncated"):
        lmzip.read_container(b"LZ\x22\x05\x09ab")


def test_split_text_reassembles():
    from gnuradio.lmsscc.source.lmzip import split_text

    for size in (1, 7, 100, 10_000):
        pieces = split_text(TEXT, size)
        assert "".join(pieces) == TEXT
        assert all(0 < len(p) <= size for p in pieces)


def test_native_engine_chunks_batched_equal_one_by_one(tmp_path, lm_zip):
    """Chunks coded concurrently (batched native engine) give the same file as
    one by one, and it decodes back exactly."""
    src = tmp_path / "native.txt"
    src.write_text("Alice was beginning to get very tired of sitting by her sister on the bank. " * 4,
                   encoding="utf-8")
    batched, serial, out = tmp_path / "b.lmz", tmp_path / "s.lmz", tmp_path / "o.txt"
    common = ("--engine", "native", "--chunk-chars", "80")
    assert lm_zip("compress", src, batched, *common, "--batch", "4") is None
    assert lm_zip("compress", src, serial, *common, "--batch", "1") is None
    assert batched.read_bytes() == serial.read_bytes()
    assert lm_zip("decompress", batched, out, "--batch", "4") is None
    assert out.read_bytes() == src.read_bytes()


def test_receiver_names_the_engine_of_a_lean_message():
    """The codec's mismatch error (what link receivers report) names the engine
    and context of the default model that would decode the message."""
    from gnuradio.lmsscc.source import FingerprintMismatch, LMCodec, NumericSettings, load_context
    from gnuradio.lmsscc.source import shared_model

    hf = shared_model(None, NumericSettings(engine="hf"))
    native = shared_model(None, NumericSettings(engine="native"))
    message = LMCodec(hf, header_format="lean", context=load_context("radio")).encode("CQ CQ").message
    with pytest.raises(FingerprintMismatch, match="would match: engine hf, 1 thread, context radio"):
        LMCodec(native, header_format="lean").decode(message)
