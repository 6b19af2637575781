# SPDX-License-Identifier: GPL-3.0-or-later
"""apps/img_zip.py end to end: encoder and decoder in separate processes,
PNG/PPM/PGM in and out, statistics, and one clear error line for bad input."""

import json

import numpy as np
import pytest
from PIL import Image

from testutil import run_app


def picture(height, width, channels, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = [(x * 4 + y * 2 + 30 * k) % 256 + rng.integers(0, 3, (height, width)) for k in range(channels)]
    img = np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)
    return img[:, :, 0] if channels == 1 else img


@pytest.mark.parametrize("suffix,channels,shape", [
    (".png", 3, (23, 31)), (".ppm", 3, (1, 1)), (".pgm", 1, (17, 5)), (".png", 1, (9, 40))])
def test_compress_and_decompress_in_separate_processes(tmp_path, suffix, channels, shape):
    pixels = picture(*shape, channels)
    src, coded, out = tmp_path / f"in{suffix}", tmp_path / "x.lmsi", tmp_path / f"out{suffix}"
    Image.fromarray(pixels).save(src)
    enc = run_app("img_zip", "compress", src, coded, "--stats")
    assert enc.returncode == 0, enc.stderr
    dec = run_app("img_zip", "decompress", coded, out, "--stats")
    assert dec.returncode == 0, dec.stderr
    with Image.open(out) as im:
        assert np.array_equal(np.asarray(im), pixels)
    stats = json.loads(enc.stdout)
    assert stats["subpixels"] == pixels.size and stats["channels"] == channels
    assert stats["file_bytes"] == coded.stat().st_size
    assert stats["bits_per_subpixel"] == pytest.approx(8 * coded.stat().st_size / pixels.size, abs=1e-3)
    assert json.loads(dec.stdout)["fingerprint"] == stats["fingerprint"]


def test_rgba_and_palette_inputs_are_coded_as_rgb(tmp_path):
    rgb = picture(12, 10, 3)
    rgba = np.concatenate([rgb, np.full((12, 10, 1), 200, np.uint8)], axis=-1)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    assert run_app("img_zip", "compress", tmp_path / "a.png", tmp_path / "a.lmsi").returncode == 0
    assert run_app("img_zip", "decompress", tmp_path / "a.lmsi", tmp_path / "b.png").returncode == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")), rgb)


def one_error_line(result):
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("img_zip: error: "), result.stderr
    return lines[0]


def test_bad_inputs_get_one_error_line(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image\n")
    assert "not an image" in one_error_line(run_app("img_zip", "compress", text, tmp_path / "x"))
    assert "bad magic" in one_error_line(run_app("img_zip", "decompress", text, tmp_path / "x.png"))
    assert "no such file" in one_error_line(run_app("img_zip", "compress", tmp_path / "none.png", tmp_path / "x"))

    src, coded = tmp_path / "in.png", tmp_path / "x.lmsi"
    Image.fromarray(picture(20, 20, 3)).save(src)
    assert run_app("img_zip", "compress", src, coded).returncode == 0
    data = coded.read_bytes()
    (tmp_path / "cut.lmsi").write_bytes(data[: len(data) // 2])
    assert "truncated" in one_error_line(run_app("img_zip", "decompress", tmp_path / "cut.lmsi", tmp_path / "o.png"))
    flipped = bytearray(data)
    flipped[40] ^= 1
    (tmp_path / "bad.lmsi").write_bytes(bytes(flipped))
    assert "CRC" in one_error_line(run_app("img_zip", "decompress", tmp_path / "bad.lmsi", tmp_path / "o.png"))


def test_truncated_png_and_huge_claimed_dimensions(tmp_path):
    src = tmp_path / "in.png"
    Image.fromarray(picture(64, 64, 3, seed=3)).save(src)
    data = src.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    one_error_line(run_app("img_zip", "compress", tmp_path / "cut.png", tmp_path / "x"))
    # A PGM header claiming 100000 x 100000 with no pixels: refused from the header alone.
    (tmp_path / "huge.pgm").write_bytes(b"P5\n100000 100000\n255\n" + b"\x00" * 64)
    line = one_error_line(run_app("img_zip", "compress", tmp_path / "huge.pgm", tmp_path / "x", timeout=60))
    assert "larger than" in line


def test_huge_claimed_dimensions_in_a_coded_file(tmp_path):
    import struct
    import zlib

    head = struct.pack(">4sBBBII8sI", b"LMSI", 1, 1, 3, 100_000, 100_000, b"\0" * 8, 4) + b"\0" * 4
    (tmp_path / "huge.lmsi").write_bytes(head + struct.pack(">I", zlib.crc32(head)))
    line = one_error_line(run_app("img_zip", "decompress", tmp_path / "huge.lmsi", tmp_path / "o.png", timeout=60))
    assert "larger than" in line
