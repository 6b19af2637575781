#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""atheris (libFuzzer for Python) target: the parsers that see bytes off the air.

Byte 0 of the input picks the parser, the rest is its input:
  0  source.message.unpack (LM message header, versions 1 and 2)
  1  phy.frame.frame_length + parse_frame (link frame with CRC-32)
  2  phy.frame.parse_phy_header (24 PHY header bits, from the bytes' bits)
  3  phy.frame.parse_phy_header on raw values (not only 0/1, any length)
  4  source.message.read_lean_header (version 3: fields inside the range-coded
     stream); the next byte picks the coder precision (1-31)

Oracle: each parser either returns a well-formed result or raises its own
ValueError subclass (MessageFormatError / FrameError); any other exception,
or a result that breaks the format's invariants, is a finding. A parsed
message or frame is re-packed and must give back the same bytes; a parsed lean
header, written again, must read back equal.

Run: fuzz/run.sh parsers -runs=1000000  (or directly with .venv/bin/python).
"""

import sys

import atheris

import numpy as np  # not instrumented: only the parsers are (fast start)

PARSERS = ["gnuradio.lmsscc.source.message", "gnuradio.lmsscc.phy.frame"]
with atheris.instrument_imports(include=PARSERS):
    from gnuradio.lmsscc.phy import frame
    from gnuradio.lmsscc.source import message as fmt
from gnuradio.lmsscc import lmsscc_python as kernels  # noqa: E402  (C++, not instrumented)


def check_message(data: bytes) -> None:
    try:
        header, payload = fmt.unpack(data)
    except fmt.MessageFormatError:
        return
    assert 0 <= header.tokens <= fmt.MAX_TOKENS
    assert header.version in fmt.KNOWN_FLAGS
    assert 0 <= header.seq < fmt.SEQ_MODULO and 0 <= header.depth <= fmt.MAX_DEPTH
    repacked = fmt.pack(header, payload)
    # The varint may be non-canonical (0x80 0x00 == 0): the value must survive.
    assert fmt.unpack(repacked) == (header, payload)
    assert len(repacked) <= len(data)


def check_lean(data: bytes) -> None:
    if not data:
        return
    precision, body = 1 + data[0] % 31, data[1:]
    try:
        header = fmt.read_lean_header(kernels.RangeDecoder(body, precision), precision)
    except fmt.MessageFormatError:
        return
    assert header.kind in fmt.KIND_NAMES and 0 <= header.crc <= 0xFFFF
    assert header.tokens is None or 0 <= header.tokens <= fmt.MAX_TOKENS
    assert 0 <= header.seq < fmt.LEAN_SEQ_MODULO
    enc = kernels.RangeEncoder(precision)
    fmt.write_lean_header(enc, precision, header)
    blob = enc.finish()
    assert fmt.read_lean_header(kernels.RangeDecoder(blob, precision), precision) == header
    assert len(blob) <= (header.bits + 7) // 8 + 1


def check_frame(data: bytes) -> None:
    try:
        seq, msg = frame.parse_frame(data)
    except frame.FrameError:
        return
    assert 0 <= seq <= 0xFFFF
    assert frame.build_frame(msg, seq) == data[: frame.frame_length(data)]


def check_phy_bits(bits) -> None:
    try:
        modulation, codewords = frame.parse_phy_header(bits)
    except frame.FrameError:
        return
    assert modulation in frame.MODULATION_IDS
    assert 0 <= codewords <= frame.MAX_CODEWORDS
    expect = frame.phy_header_bits(modulation, codewords)
    assert list(expect) == [int(b) for b in np.asarray(bits)[: frame.PHY_HEADER_BITS]]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    selector, body = data[0] % 5, data[1:]
    if selector == 0:
        check_message(body)
    elif selector == 1:
        check_frame(body)
    elif selector == 2:
        check_phy_bits(frame.bytes_to_bits(body))
    elif selector == 3:
        check_phy_bits(np.frombuffer(body, dtype=np.uint8))
    else:
        check_lean(body)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
