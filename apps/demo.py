#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""gr-lmsscc demo: one text message over the full LM-SSCC link in a GNU Radio
loopback flowgraph: LM arithmetic encoder -> frame + CRC-32 -> LDPC(49,24) ->
BPSK bursts -> noisy channel (AWGN, carrier and timing offset) -> sync ->
soft demodulation -> channel decoder -> LM decoder -> text.

By default it runs the best measured settings (the native engine, the lean
header) and compares its size and time with the previous defaults (the hf
engine, the standard header), measured by the same demo and recorded in
docs/data/demo_previous_defaults.json:

    .venv/bin/python apps/demo.py --engine hf --header-format standard \\
        --json docs/data/demo_previous_defaults.json

    .venv/bin/python apps/demo.py [--text "..."] [--snr 2] [--decoder bp] [--json OUT]
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

from gnuradio.lmsscc.phy.cli import add_decoder_option
from gnuradio.lmsscc.source import ENGINE_CHOICES, HEADER_FORMATS

DEFAULT_TEXT = (
    "Separate source and channel coding is still what you need: a small language model "
    "compresses this message to about one bit per character before it goes on the air."
)
PREVIOUS = Path(__file__).resolve().parent.parent / "docs" / "data" / "demo_previous_defaults.json"
HEADERS = {1: "72-bit standard header with CRC-32", 2: "compact header with CRC-16",
           3: "30-bit lean header with CRC-16, range-coded with the text"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--text", default=DEFAULT_TEXT)
    p.add_argument("--model", default="default")
    p.add_argument("--snr", type=float, default=2.0, help="Es/N0 per channel symbol, dB")
    add_decoder_option(p)
    p.add_argument("--modulation", default="bpsk", choices=["bpsk", "qpsk", "16qam"])
    p.add_argument("--engine", default="auto", choices=ENGINE_CHOICES,
                   help="LM engine: auto = native for Llama-family GGUF models (the default one)")
    p.add_argument("--header-format", default="lean", choices=HEADER_FORMATS)
    p.add_argument("--json", help="write the measured numbers here")
    return p.parse_args()


def run_link(args):
    """(transmitter metadata, receiver metadata, received text, measurements)."""
    from gnuradio.lmsscc.phy.blocks import describe_codec
    from gnuradio.lmsscc.phy.radio import LoopbackLink

    t0 = time.perf_counter()
    link = LoopbackLink(model=args.model, modulation=args.modulation, decoder=args.decoder,
                        esn0_db=args.snr, freq_offset=2e-4, timing_offset=1.5, seed=1,
                        header_format=args.header_format, engine=args.engine)
    codec = link.tx.codec
    load_s = time.perf_counter() - t0
    print(f"  {describe_codec(codec)}; loaded in {load_s:.1f} s\n", flush=True)
    t1 = time.perf_counter()
    try:
        meta, data = link.send(args.text)
        tx = link.tx.last_meta
    finally:
        link.close()
    measured = {"engine": codec.lm.settings.engine, "header_format": args.header_format,
                "message_version": codec.version, "characters": len(args.text),
                "message_bits": tx["message_bits"], "coded_bits": tx["coded_bits"],
                "symbols": tx["symbols"], "load_s": round(load_s, 2),
                "send_s": round(time.perf_counter() - t1, 2), "exact": None}
    measured["total_s"] = round(measured["load_s"] + measured["send_s"], 2)
    received = data.decode("utf-8") if meta.get("crc_ok") else None
    measured["exact"] = received == args.text
    return tx, meta, received, measured, codec.version


def print_link_report(args, tx, meta, version):
    from gnuradio.lmsscc.source import baselines

    chars = len(args.text)
    print(f"Sent text ({chars} characters):\n  {args.text}\n")
    print(f"Source coding: {tx['message_bits']} bits = {tx['message_bits'] / chars:.3f} bits/char "
          f"(LM message incl. its {HEADERS.get(version, 'header')}; model bits {tx['model_bits']:.1f})")
    for tool, size in baselines.classic_sizes(args.text.encode("utf-8")).items():
        print(f"  vs {tool:13s} {8 * size:5d} bits = {8 * size / chars:.2f} bits/char "
              f"({8 * size / tx['message_bits']:.1f}x more)")
    n0 = 10 ** (-args.snr / 10)
    print(f"\nOn air: {tx['coded_bits']} coded bits (LDPC(49,24) + PHY header), {tx['symbols']} "
          f"{args.modulation.upper()} symbols incl. preamble and pilots")
    print(f"  Es/N0 {args.snr:.1f} dB per symbol = energy per source character "
          f"{10 * math.log10(tx['energy'] / chars / n0):.1f} dB above N0")
    if "channel_ber" in meta:
        print(f"  channel BER before decoding {meta['channel_ber']:.4f}  ->  after {args.decoder.upper()} "
              f"decoding {meta['decoded_ber']:.4f}")
    print(f"  receiver: SNR estimate {meta.get('snr_db')} dB, carrier offset "
          f"{meta.get('freq_offset')} cycles/sample, frame CRC-32 and text CRC "
          f"{'ok' if meta.get('crc_ok') else 'FAILED'}")


def compare_with_previous(now):
    """Size and time against the previous defaults' recorded run of this demo."""
    if not PREVIOUS.is_file():
        print(f"(no record of the previous defaults at {PREVIOUS})")
        return
    before = json.loads(PREVIOUS.read_text())
    if before.get("characters") != now["characters"]:
        print("(another text than the recorded run: no comparison)")
        return
    print(f"Against the previous defaults ({before['engine']} engine, {before['header_format']} header; "
          f"{PREVIOUS.relative_to(PREVIOUS.parents[2])}, run {before.get('date', '?')}):")
    for key, label, unit in (("message_bits", "LM message", "bits"), ("coded_bits", "on air", "coded bits"),
                             ("load_s", "model load", "s"), ("send_s", "code + decode", "s"),
                             ("total_s", "demo total", "s")):
        b, n = before[key], now[key]
        verdict = "smaller" if unit != "s" else "faster"
        if n >= b:
            verdict = "larger" if unit != "s" else "slower"
        print(f"  {label:14s} {b:>8} -> {n:>8} {unit:10s} ({verdict}, x{n / b:.2f})")


def main():
    args = parse_args()
    print("Loading the language model and building the flowgraph ...", flush=True)
    tx, meta, received, measured, version = run_link(args)
    print_link_report(args, tx, meta, version)
    print(f"\nReceived text:\n  {received if received is not None else '(nothing: ' + str(meta.get('error')) + ')'}\n")
    print(f"Measured: {measured['message_bits']} message bits, {measured['coded_bits']} coded bits, "
          f"load {measured['load_s']} s, code + decode {measured['send_s']} s")
    if args.json:
        measured["date"] = time.strftime("%Y-%m-%d", time.gmtime())
        measured["command"] = " ".join(["apps/demo.py"] + sys.argv[1:])
        Path(args.json).write_text(json.dumps(measured, indent=1) + "\n")
    elif args.text == DEFAULT_TEXT:
        compare_with_previous(measured)
    print("Round trip exact." if measured["exact"] else "ROUND TRIP FAILED.")
    return 0 if measured["exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
