"""apps/lm_zip.py end to end, with the tiny model saved as a local HF folder
(this also exercises loading any Hugging Face causal LM from a folder)."""

import json

import pytest

from testutil import run_app

TEXT = "Line one of a small file.\nLine two, with ümlauts and 漢字.\n" * 30


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_compress_decompress_in_separate_processes(tmp_path, text_file, tiny_model_dir):
    packed, unpacked = tmp_path / "in.lmz", tmp_path / "out.txt"
    r = run_app("lm_zip.py", "compress", text_file, packed, "--model", tiny_model_dir,
                "--chunk-chars", "500", "--stats")
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    for key in ("input_bytes", "coded_bits", "model_bits", "tokens", "seconds"):
        assert key in stats
    assert stats["input_bytes"] == len(TEXT.encode())
    assert stats["coded_bits"] == 8 * packed.stat().st_size
    assert stats["chunks"] > 1
    r = run_app("lm_zip.py", "decompress", packed, unpacked, "--model", tiny_model_dir, "--stats")
    assert r.returncode == 0, r.stderr
    assert unpacked.read_text(encoding="utf-8") == TEXT
    assert json.loads(r.stdout)["tokens"] == stats["tokens"]


def test_refuses_binary_input(tmp_path, tiny_model_dir):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\xff\xfe\x80 not text")
    r = run_app("lm_zip.py", "compress", binary, tmp_path / "x.lmz", "--model", tiny_model_dir)
    assert r.returncode != 0 and "not UTF-8" in r.stderr


def test_other_settings_refused_and_corruption_detected(tmp_path, text_file, tiny_model_dir):
    packed = tmp_path / "in.lmz"
    assert run_app("lm_zip.py", "compress", text_file, packed, "--model", tiny_model_dir,
                   "--quiet").returncode == 0
    r = run_app("lm_zip.py", "decompress", packed, tmp_path / "o.txt", "--model", tiny_model_dir,
                "--precision", "20")
    assert r.returncode != 0 and "fingerprint" in r.stderr
    data = bytearray(packed.read_bytes())
    data[-3] ^= 0x55
    damaged = tmp_path / "damaged.lmz"
    damaged.write_bytes(bytes(data))
    out = tmp_path / "o2.txt"
    r = run_app("lm_zip.py", "decompress", damaged, out, "--model", tiny_model_dir)
    assert r.returncode != 0 and "corrupt" in r.stderr
    assert not out.exists()  # nothing partly wrong is written
    truncated = tmp_path / "short.lmz"
    truncated.write_bytes(packed.read_bytes()[:40])
    r = run_app("lm_zip.py", "decompress", truncated, out, "--model", tiny_model_dir)
    assert r.returncode != 0 and "truncated" in r.stderr


def test_split_text_reassembles():
    from gnuradio.lmsscc.source.lmzip import split_text

    for size in (1, 7, 100, 10_000):
        pieces = split_text(TEXT, size)
        assert "".join(pieces) == TEXT
        assert all(0 < len(p) <= size for p in pieces)


def test_priming_context_option(tmp_path, text_file, tiny_model_dir):
    packed, out = tmp_path / "p.lmz", tmp_path / "p.txt"
    assert run_app("lm_zip.py", "compress", text_file, packed, "--model", tiny_model_dir,
                   "--context", "news", "--quiet").returncode == 0
    r = run_app("lm_zip.py", "decompress", packed, out, "--model", tiny_model_dir, "--quiet")
    assert r.returncode != 0 and "version" in r.stderr  # needs the same --context
    r = run_app("lm_zip.py", "decompress", packed, out, "--model", tiny_model_dir, "--context", "radio")
    assert r.returncode != 0 and "built-in context 'news'" in r.stderr
    assert run_app("lm_zip.py", "decompress", packed, out, "--model", tiny_model_dir,
                   "--context", "news", "--quiet").returncode == 0
    assert out.read_text(encoding="utf-8") == TEXT


def test_native_engine_chunks_batched_equal_one_by_one(tmp_path):
    """Chunks coded concurrently (batched native engine) give the same file as
    one by one, and it decodes back exactly."""
    src = tmp_path / "native.txt"
    src.write_text("Alice was beginning to get very tired of sitting by her sister on the bank. " * 4,
                   encoding="utf-8")
    batched, serial, out = tmp_path / "b.lmz", tmp_path / "s.lmz", tmp_path / "o.txt"
    common = ("--engine", "native", "--chunk-chars", "80", "--quiet")
    assert run_app("lm_zip.py", "compress", src, batched, *common, "--batch", "4").returncode == 0
    assert run_app("lm_zip.py", "compress", src, serial, *common, "--batch", "1").returncode == 0
    assert batched.read_bytes() == serial.read_bytes()
    r = run_app("lm_zip.py", "decompress", batched, out, *common, "--batch", "4")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == src.read_bytes()
