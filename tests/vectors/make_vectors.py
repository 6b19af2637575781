#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Known answers of the wire formats: what this code puts on the air for
fixed inputs. tests/source/test_message_vectors.py and
tests/phy/test_frame_vectors.py compare the committed files with what the
installed package computes now, byte for byte.

    messages.json  LM message headers (versions 1 and 2 packed, version 3
                   range-coded) and whole LM messages of fixed texts in each
                   header format (stand-alone, primed, conversation), coded
                   with the default model on the native engine (the same
                   bits on every CPU and SIMD path)
    frames.json    link frames, PHY headers and the LDPC(49,24) codeword
                   bits of a burst for fixed messages

Changing a file means a wire-format break (README.md): regenerate only for an
intended one, with

    .venv/bin/python tests/vectors/make_vectors.py --write

Without --write it only compares and says which cases differ (exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MESSAGES = HERE / "messages.json"
FRAMES = HERE / "frames.json"
REGENERATE = ".venv/bin/python tests/vectors/make_vectors.py --write"

TEXTS = {
    "ascii": "Hello over the air, seventy-three.",
    "empty": "",
    "unicode": "Ça suffit! 你好 🚀",
    "two_lines": "first line\nsecond line",  # holds the lean terminator: a counted message
}
CONVERSATION = ["Are you receiving me?", "Loud and clear.", "Over and out."]
CONVERSATION_KEYFRAME_PERIOD = 4


# -- LM message headers (no model) -------------------------------------------

def packed_header_cases():
    from gnuradio.lmsscc.source import message as fmt

    headers = {
        "v1": fmt.Header(b"\x01\x02\x03", 5, 0xDEADBEEF),
        "v1_300_tokens": fmt.Header(b"\xa5\x5a\xff", 300, 0x00000001),
        "v2": fmt.Header(b"\x07", 12, 0xBEEF, fmt.COMPACT_VERSION, fmt.FLAG_CRC16),
        "v2_primed_crc32": fmt.Header(b"\x42", 70000, 0x12345678, fmt.COMPACT_VERSION,
                                      fmt.FLAG_PRIMED),
        "v2_history": fmt.Header(b"\x99", 3, 0xCAFE, fmt.COMPACT_VERSION,
                                 fmt.FLAG_PRIMED | fmt.FLAG_HISTORY | fmt.FLAG_CRC16,
                                 seq=4000, depth=15),
    }
    return {name: fmt.pack(h, b"\x55\xaa").hex() for name, h in headers.items()}


def lean_header_cases():
    """Version-3 headers alone, each coded into a fresh range coder (24 bits)."""
    from gnuradio.lmsscc import lmsscc_python as kernels
    from gnuradio.lmsscc.source import message as fmt

    headers = {
        "single": fmt.LeanHeader(fmt.KIND_SINGLE, 0xBEEF, b"\x07"),
        "keyframe": fmt.LeanHeader(fmt.KIND_KEYFRAME, 0x1234, b"\xf0", seq=9),
        "continuation": fmt.LeanHeader(fmt.KIND_CONTINUATION, 0xFFFF, seq=15),
        "counted_single": fmt.LeanHeader(fmt.KIND_SINGLE, 0x0001, b"\x80", tokens=0),
        "counted_continuation": fmt.LeanHeader(fmt.KIND_CONTINUATION, 0xA5A5, seq=3,
                                               tokens=1000),
    }
    out = {}
    for name, header in headers.items():
        encoder = kernels.RangeEncoder(24)
        fmt.write_lean_header(encoder, 24, header)
        out[name] = bytes(encoder.finish()).hex()
    return out


# -- whole LM messages (default model, native engine) ------------------------

def vector_model():
    from gnuradio.lmsscc.source import NumericSettings, shared_model

    return shared_model(None, NumericSettings(engine="native", threads=1))


def codec_for(lm, header_format, context="none"):
    from gnuradio.lmsscc.source import LMCodec, load_context

    return LMCodec(lm, header_format=header_format, context=load_context(context))


def message_cases(lm):
    """name -> (header format, context, [texts], conversation?): what the test codes."""
    cases = {}
    for header_format in ("standard", "compact", "lean"):
        for name, text in TEXTS.items():
            cases[f"{header_format}_{name}"] = (header_format, "none", [text], False)
    cases["compact_primed_radio"] = ("compact", "radio", [TEXTS["ascii"]], False)
    cases["lean_primed_radio"] = ("lean", "radio", [TEXTS["ascii"]], False)
    cases["compact_conversation"] = ("compact", "none", CONVERSATION, True)
    cases["lean_conversation"] = ("lean", "none", CONVERSATION, True)
    return cases


def encode_case(lm, header_format, context, texts, conversation):
    """The messages (bytes) of one case."""
    from gnuradio.lmsscc.source import ConversationEncoder

    codec = codec_for(lm, header_format, context)
    coder = ConversationEncoder(codec, CONVERSATION_KEYFRAME_PERIOD) if conversation else codec
    return [coder.encode(text).message for text in texts]


def decode_case(lm, header_format, context, messages, conversation):
    """The texts of one case's messages (None where a CRC fails)."""
    from gnuradio.lmsscc.source import ConversationDecoder

    codec = codec_for(lm, header_format, context)
    decoder = ConversationDecoder(codec) if conversation else codec
    results = [decoder.decode(m) for m in messages]
    return [r.text if r.crc_ok else None for r in results]


def compute_messages() -> dict:
    lm = vector_model()
    cases = []
    for name, (header_format, context, texts, conversation) in message_cases(lm).items():
        messages = encode_case(lm, header_format, context, texts, conversation)
        cases.append({"name": name, "header_format": header_format, "context": context,
                      "conversation": conversation, "texts": texts,
                      "messages": [m.hex() for m in messages]})
    return {"about": "LM message bytes (hex) for fixed inputs; model " + lm.name
                     + ", native engine, 1 thread, precision 24. Written by " + REGENERATE,
            "model_fingerprint": lm.fingerprint.hex(),
            "packed_headers": packed_header_cases(), "lean_headers": lean_header_cases(),
            "cases": cases}


# -- frames, PHY headers, coded bits ------------------------------------------

FRAME_INPUTS = {  # name -> (LM message bytes, frame sequence number)
    "short": (bytes.fromhex("31db4237b805acc61969e2993c42"), 0),
    "empty_message": (b"", 513),
    "seq_wraps": (bytes(range(40)), 65536 + 7),
}
PHY_HEADER_INPUTS = [("bpsk", 0), ("bpsk", 1), ("qpsk", 37), ("16qam", 4095)]


def bits_hex(bits) -> str:
    from gnuradio.lmsscc.phy import frame

    return frame.bits_to_bytes(bits).hex()


def compute_frames() -> dict:
    from gnuradio.lmsscc.phy import burst, frame
    from gnuradio.lmsscc.phy.link import LinkConfig, Transmitter

    tx = Transmitter(codec=None, config=LinkConfig(code="LDPC_N49_K24"))
    frames, bursts = {}, {}
    for name, (message, seq) in FRAME_INPUTS.items():
        framed = frame.build_frame(message, seq)
        frames[name] = {"message": message.hex(), "seq": seq, "frame": framed.hex()}
        payload = tx.encode_bits(frame.bytes_to_bits(framed))
        header = tx.encode_bits(frame.phy_header_bits("bpsk", len(payload) // tx.code.n))
        bursts[name] = {"header_codeword_bits": bits_hex(header),
                        "payload_codeword_bits": bits_hex(payload)}
    phy_headers = [{"modulation": m, "codewords": n, "bits": bits_hex(frame.phy_header_bits(m, n))}
                   for m, n in PHY_HEADER_INPUTS]
    return {"about": "Link frame bytes, PHY header bits and LDPC(49,24) codeword bits of a burst "
                     "(hex; bits packed MSB first) for fixed inputs. Written by " + REGENERATE,
            "preamble_bits": bits_hex(np.asarray(burst.PREAMBLE) > 0),  # +1 -> 1
            "frames": frames, "phy_headers": phy_headers, "bursts_ldpc_n49_k24": bursts}


# -- compare or write ----------------------------------------------------------

def differences(expected, actual, where="") -> list[str]:
    """Paths at which two JSON values differ."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return [d for k in sorted(set(expected) | set(actual))
                for d in differences(expected.get(k), actual.get(k), f"{where}/{k}")]
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual))
                for d in differences(e, a, f"{where}[{i}]")]
    return [] if expected == actual else [where or "/"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--write", action="store_true",
                   help="overwrite the committed vectors (an intended wire-format change only)")
    args = p.parse_args(argv)
    changed = 0
    for path, compute in ((MESSAGES, compute_messages), (FRAMES, compute_frames)):
        actual = compute()
        if args.write:
            path.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n")
            print(f"wrote {path.relative_to(HERE.parents[1])}")
            continue
        diff = differences(json.loads(path.read_text()), actual)
        changed += len(diff)
        print(f"{path.name}: " + ("as committed" if not diff else "DIFFERS at " + ", ".join(diff)))
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
