# SPDX-License-Identifier: GPL-3.0-or-later
"""The pixel model's lossless coding: exact round trips, the bytes of a fixed
image (known answer), and the container's refusals."""

import struct
import zlib

import numpy as np
import pytest

from gnuradio.lmsscc.images import codec, container, pixel_model
from gnuradio.lmsscc.images.container import ContainerError


def smooth_image(height, width, channels, seed=0):
    """A gradient with noise and an edge: something a model has to predict."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = (x * 5 + y * 3) % 230 + np.where(x > width // 2, 20, 0)
    planes = [base + 15 * k + rng.integers(-3, 4, base.shape) for k in range(channels)]
    img = np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)
    return img[:, :, 0] if channels == 1 else img


def round_trip(pixels):
    data, enc_stats = codec.compress(pixels)
    back, dec_stats = codec.decompress(data)
    assert back.dtype == np.uint8 and back.shape == pixels.shape
    assert np.array_equal(back, pixels)
    assert enc_stats.file_bytes == dec_stats.file_bytes == len(data)
    return data


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("height,width", [(1, 1), (1, 9), (7, 1), (2, 3), (13, 17), (40, 33)])
def test_exact_round_trip(height, width, channels):
    round_trip(smooth_image(height, width, channels))
    noise = np.random.default_rng(height * width).integers(0, 256, (height, width, channels), dtype=np.uint8)
    round_trip(noise[:, :, 0] if channels == 1 else noise)


def test_extreme_values_round_trip():
    for value in (0, 255):
        round_trip(np.full((9, 11, 3), value, dtype=np.uint8))
    checker = (np.indices((16, 16)).sum(axis=0) % 2 * 255).astype(np.uint8)
    round_trip(checker)


def test_held_out_crop_compresses_better_than_png():
    from gnuradio.lmsscc.images import anchors, data

    crop = np.ascontiguousarray(data.load("astronaut")[200:264, 200:264])
    ours = len(round_trip(crop))
    assert ours < anchors.png(crop).bytes


def known_image():
    """4 x 3 RGB, each subpixel a fixed function of its position."""
    y, x, c = np.mgrid[0:3, 0:4, 0:3]
    return ((x * 37 + y * 91 + c * 53) % 256).astype(np.uint8)


# The container for known_image() with the shipped pixel_v2 model. It pins
# the container layout, the model's integer arithmetic and its tables: a
# change to any of them must change this vector (and, for the model,
# pixel_model.KERNEL_VERSION, so old files are refused rather than misread).
KNOWN_ANSWER_HEX = (
    "4c4d53490101030000000400000003abb1773168fc32050000002a000d7fe9f744032662400210bc16506b5929"
    "b126d583e5dd76bc2e0719070dd1d56ec54ce2a3725e8c46ab00c389")


def test_known_answer_vector():
    data, _ = codec.compress(known_image())
    assert data.hex() == KNOWN_ANSWER_HEX
    back, _ = codec.decompress(bytes.fromhex(KNOWN_ANSWER_HEX))
    assert np.array_equal(back, known_image())


def test_header_fields():
    pixels = smooth_image(5, 7, 3)
    data, _ = codec.compress(pixels)
    assert data[:4] == b"LMSI" and data[4] == container.VERSION and data[5] == container.KIND_PIXEL
    assert data[6] == 3 and struct.unpack(">II", data[7:15]) == (7, 5)
    assert data[15:23] == pixel_model.load().fingerprint
    assert struct.unpack(">I", data[-4:])[0] == zlib.crc32(data[:-4])


def forged(width, height, channels=3, payload=b"\x00" * 16, fingerprint=None):
    """A container with a valid CRC and whatever header we like."""
    fp = fingerprint or pixel_model.load().fingerprint
    return container.pack(container.Header(container.KIND_PIXEL, channels, width, height, fp), payload)


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d[:10], "truncated"),
    (lambda d: d[:-1], "truncated"),
    (lambda d: d + b"\x00", "trailing"),
    (lambda d: d[:30] + bytes([d[30] ^ 0x40]) + d[31:], "CRC"),
    (lambda d: b"GIF89a" + d[6:], "magic"),
    (lambda d: d[:4] + b"\x09" + d[5:], "version"),
])
def test_damaged_file_is_refused(mutate, message):
    data, _ = codec.compress(smooth_image(8, 8, 3))
    with pytest.raises(ContainerError, match=message):
        codec.decompress(mutate(data))


def test_absurd_dimensions_are_refused_before_decoding():
    with pytest.raises(ContainerError, match="larger than"):
        codec.decompress(forged(100_000, 100_000))
    with pytest.raises(ContainerError, match="channels"):
        codec.decompress(forged(4, 4, channels=2))
    with pytest.raises(ContainerError, match="empty"):
        codec.decompress(forged(0, 4))


def test_tiny_payload_cannot_ask_for_a_huge_decode():
    # 4000 x 4000 RGB passes the pixel limit, but 16 payload bytes cannot hold it
    with pytest.raises(ContainerError, match="too short"):
        codec.decompress(forged(4000, 4000))


def test_other_model_is_refused():
    with pytest.raises(ContainerError, match="coded by model"):
        codec.decompress(forged(2, 2, payload=b"\x01\x02", fingerprint=b"\xAA" * 8))


def test_garbage_payload_with_valid_crc_decodes_to_some_image():
    rng = np.random.default_rng(1)
    back, _ = codec.decompress(forged(6, 5, payload=rng.bytes(40)))
    assert back.shape == (5, 6, 3)


def test_fingerprint_follows_the_tables():
    model = pixel_model.load()
    lin = model.tables.lin.copy()
    lin[0, 0] += 1
    other = pixel_model.PixelTables(lin, model.tables.shape, model.tables.scale_prior)
    assert pixel_model.fingerprint(other) != model.fingerprint


def test_bad_tables_are_refused():
    model = pixel_model.load()
    shape = model.tables.shape.copy()
    shape[10] = shape[9] - 1
    with pytest.raises(ValueError, match="shape"):
        pixel_model.PixelModel(pixel_model.PixelTables(model.tables.lin, shape, model.tables.scale_prior))
