# SPDX-License-Identifier: GPL-3.0-or-later
"""Command-line options of the link apps (apps/tx_text.py, apps/rx_text.py,
apps/demo.py), defined once: both ends of a link offer the same choices with
the same defaults, and an installed app needs nothing but the package."""

from __future__ import annotations

from ..source import ENGINE_CHOICES, HEADER_FORMATS
from .radio import DEFAULT_ZMQ

DECODER_HELP = ("the channel decoder: auto (the code's best measured: OSD-2 on LDPC(49,24), SCL on "
                "Polar codes, docs/channel_coding.md), bp, osd0-osd3, sc, scl8, scl32, ecct, "
                "hybrid, hard")


def add_decoder_option(parser, role: str = "") -> None:
    """--decoder; `role` says which receiver it sets (e.g. "loopback receiver: ")."""
    parser.add_argument("--decoder", default="auto", help=role + DECODER_HELP)


def add_link_options(parser) -> None:
    """The options both ends of a link must agree on (model, context, engine,
    header format, code) and the radio's (ZMQ address, SDR arguments)."""
    parser.add_argument("--model", default="default",
                        help="'default', a .gguf file or a local HF folder")
    parser.add_argument("--context", default="none",
                        help="priming context: none, europarl, news, radio or a file")
    parser.add_argument("--conversation", action="store_true",
                        help="code each message after the earlier ones")
    parser.add_argument("--engine", default="auto", choices=ENGINE_CHOICES,
                        help="LM engine (docs/engine.md): auto = native (~8x faster) for "
                             "Llama-family GGUF models, the default one included, hf otherwise; "
                             "both ends must agree")
    parser.add_argument("--header-format", default="lean", choices=HEADER_FORMATS,
                        help="LM message format (docs/message_format.md; lean is the smallest); "
                             "both ends must agree")
    parser.add_argument("--code", default="LDPC_N49_K24",
                        help="channel code (see docs/channel_coding.md)")
    parser.add_argument("--zmq-address", default=DEFAULT_ZMQ,
                        help="ZMQ endpoint (localhost by default)")
    parser.add_argument("--args", default="", help="SDR device arguments")
    parser.add_argument("--freq", type=float, default=915e6, help="centre frequency, Hz")
    parser.add_argument("--rate", type=float, default=1e6, help="sample rate, Hz")
    parser.add_argument("--gain", type=float, default=0.0, help="gain, dB")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per message instead of text")
