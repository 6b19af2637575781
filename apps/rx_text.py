#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Receive text messages of the LM-SSCC link from ZMQ or an SDR.

  --device zmq          subscribe to the IQ that apps/tx_text.py --device zmq publishes
  --device uhd|hackrf|soapy   receive with an SDR

Prints each message as it arrives, with its SNR and size (or one JSON object
per message with --json), until --count messages arrived, --timeout seconds
passed, or Ctrl-C. With the lean header (the default) the receiver keeps the
conversation history, so it decodes both single messages and the lines of a
chat (apps/tx_text.py --interactive).
"""

import argparse
import json
import queue
import sys
import time

from gnuradio.lmsscc.phy.cli import add_decoder_option, add_link_options


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--device", default="zmq", choices=["zmq", "uhd", "hackrf", "soapy"])
    add_decoder_option(p)
    p.add_argument("--count", type=int, default=0, help="exit after this many messages (0: no limit)")
    p.add_argument("--timeout", type=float, default=0.0, help="exit after this many seconds (0: no limit)")
    p.add_argument("--chunk", type=int, default=4096, help="samples between burst scans")
    add_link_options(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from gnuradio.lmsscc.phy.blocks import describe_codec, link_rx_stream
    from gnuradio.lmsscc.phy.radio import NoRadio, build_rx_stream

    # A lean conversation decoder reads single messages too: one receiver for both.
    conversation = args.conversation or args.header_format == "lean"
    rx = link_rx_stream(args.model, args.code, args.decoder, args.context,
                        header_format=args.header_format, conversation=conversation,
                        chunk=args.chunk, engine=args.engine)
    mode = ", conversation history kept" if conversation else ""
    print(f"rx_text: {describe_codec(rx.rx.codec)}{mode}", file=sys.stderr, flush=True)
    try:
        tb, collector = build_rx_stream(args.device, rx, args.zmq_address, args=args.args,
                                        freq=args.freq, rate=args.rate, gain=args.gain)
    except NoRadio as e:
        sys.exit(f"rx_text: {e}")
    tb.start()
    print("rx_text: listening", file=sys.stderr, flush=True)
    got = 0
    start = time.monotonic()
    try:
        while (not args.count or got < args.count) and (not args.timeout or time.monotonic() - start < args.timeout):
            try:
                meta, data = collector.queue.get(timeout=0.1)
            except queue.Empty:
                continue
            got += 1
            text = data.decode("utf-8") if meta.get("crc_ok") else None
            if args.json:
                print(json.dumps({"received": text, **meta}, default=str), flush=True)
            elif text is not None:
                print(f"[seq {meta.get('seq')}, SNR {meta.get('snr_db')} dB, {meta.get('message_bits')} "
                      f"message bits, {meta.get('coded_bits')} coded bits] {text}", flush=True)
            else:
                print(f"[failed: {meta.get('error')}]", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        tb.stop()
        tb.wait()
    return 0 if (not args.count or got >= args.count) else 1


if __name__ == "__main__":
    sys.exit(main())
