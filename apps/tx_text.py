#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Send text messages over the LM-SSCC link.

  --device loopback   TX, channel and RX in one process; prints what arrived
  --device zmq        publish IQ on a ZMQ PUB socket (apps/rx_text.py subscribes)
  --device uhd|hackrf|soapy   transmit bursts with an SDR

Messages come from the arguments, or one per line on stdin. With
--interactive each line typed (or piped) is sent as soon as it is complete, in
conversation mode with the lean header: a chat; apps/rx_text.py prints each
line as it arrives.

Over ZMQ or a radio a message is reported "sent" only when its burst has left
the flowgraph (the sink consumed all its samples), and the app exits only
after every burst left; --send-timeout bounds the wait with a clear error.

Example: .venv/bin/python apps/tx_text.py --snr 3 "Hello over the air"
"""

import argparse
import json
import math
import sys
import time

from gnuradio.lmsscc.phy.channels import FADING
from gnuradio.lmsscc.phy.cli import add_decoder_option, add_link_options


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("messages", nargs="*", help="messages (default: lines of stdin)")
    p.add_argument("--device", default="loopback", choices=["loopback", "zmq", "uhd", "hackrf", "soapy"])
    p.add_argument("--modulation", default="bpsk", choices=["bpsk", "qpsk", "16qam"])
    add_decoder_option(p, "loopback receiver: ")
    p.add_argument("--snr", type=float, default=6.0, help="loopback: Es/N0 per channel symbol, dB")
    p.add_argument("--fading", default="none", choices=FADING,
                   help="loopback channel: none = AWGN; Rayleigh fading with one gain per burst (block) "
                        "or a new one every symbol (fast)")
    p.add_argument("--freq-offset", type=float, default=0.0, help="loopback CFO, cycles per sample")
    p.add_argument("--timing-offset", type=float, default=0.0, help="loopback timing offset, samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--interval", type=float, default=0.5, help="zmq/SDR: seconds between bursts")
    p.add_argument("--interactive", action="store_true",
                   help="chat: send each line of stdin as it is typed (conversation mode, lean header)")
    p.add_argument("--send-timeout", type=float, default=900.0,
                   help="zmq/SDR: seconds a message may take to be coded and leave the flowgraph")
    p.add_argument("--token-delay", type=float, default=0.0, help=argparse.SUPPRESS)  # tests: a slow model
    add_link_options(p)
    return p.parse_args(argv)


def messages_from(args):
    """The messages to send; with --interactive a generator over stdin that
    yields each line as soon as it is complete."""
    if args.messages:
        return list(args.messages)
    if args.interactive:
        return (line.rstrip("\n") for line in iter(sys.stdin.readline, "") if line.strip())
    return [line.rstrip("\n") for line in sys.stdin if line.strip()]


def announce(args, codec):
    """Which engine and message format this run codes with (stderr: keeps --json clean)."""
    from gnuradio.lmsscc.phy.blocks import describe_codec

    mode = ", conversation" if args.conversation else ""
    print(f"tx_text: {describe_codec(codec)}{mode}", file=sys.stderr, flush=True)


def slow_down(tx, token_delay):
    """Testing aid (--token-delay): emulate a slower language model by sleeping
    after coding, in proportion to the message's tokens."""
    if token_delay <= 0:
        return
    encode = tx.tx.codec.encode

    def slow_encode(text):
        result = encode(text)
        time.sleep(token_delay * result.tokens)
        return result

    tx.tx.codec.encode = slow_encode


def energy_report(meta_tx, esn0_db):
    """SNR per coded bit and total energy per source character over N0."""
    n0 = 10 ** (-esn0_db / 10)
    chars = max(meta_tx["text_chars"], 1)
    return {
        "esn0_db": esn0_db,
        "ebn0_coded_db": round(10 * math.log10(meta_tx["energy"] / meta_tx["coded_bits"] / n0), 2),
        "energy_per_char_db": round(10 * math.log10(meta_tx["energy"] / chars / n0), 2),
    }


def run_loopback(args, texts):
    from gnuradio.lmsscc.phy.radio import LoopbackLink

    link = LoopbackLink(args.model, args.code, args.modulation, args.decoder, args.snr, args.fading,
                        args.freq_offset, args.timing_offset, args.seed, args.context, args.conversation,
                        args.header_format, args.engine)
    announce(args, link.tx.codec)
    ok = n = 0
    try:
        for text in texts:
            n += 1
            meta, data = link.send(text)
            received = data.decode("utf-8") if meta.get("crc_ok") else None
            ok += received == text
            report = {"sent": text, "received": received, "crc_ok": bool(meta.get("crc_ok")),
                      **{k: v for k, v in meta.items() if k not in ("crc_ok",)}}
            tx_meta = link.tx_last = getattr(link.tx, "last_meta", None)
            print_report(args, report, tx_meta)
    finally:
        link.close()
    return ok, n


def print_report(args, report, tx_meta):
    if args.json:
        print(json.dumps(report, default=str), flush=True)
        return
    print(f"sent:      {report['sent']}")
    if tx_meta:
        e = energy_report(tx_meta, args.snr)
        print(f"on air:    {tx_meta['coded_bits']} coded bits, {tx_meta['symbols']} symbols "
              f"(LM message {tx_meta['message_bits']} bits, {tx_meta['model_bits']:.0f} model bits); "
              f"Es/N0 {e['esn0_db']} dB, Eb/N0 per coded bit {e['ebn0_coded_db']} dB, "
              f"energy per character {e['energy_per_char_db']} dB")
    if "channel_ber" in report:
        print(f"channel:   BER before decoding {report['channel_ber']:.4f}, after decoding "
              f"{report['decoded_ber']:.4f}; SNR estimate {report.get('snr_db')} dB")
    if report["crc_ok"]:
        print(f"received:  {report['received']}\n")
    else:
        print(f"received:  nothing valid ({report.get('error')})\n")


def run_stream_tx(args, texts):
    """Each message is reported sent only once its burst has left the flowgraph."""
    from gnuradio.lmsscc.phy.blocks import link_tx_stream
    from gnuradio.lmsscc.phy.radio import BurstSender, NoRadio, SendError, SendTimeout

    tx_stream = link_tx_stream(args.model, args.code, args.modulation, args.context,
                               header_format=args.header_format, conversation=args.conversation,
                               tail_zeros=4096 if args.device == "zmq" else 0, engine=args.engine)
    announce(args, tx_stream.tx.codec)
    slow_down(tx_stream.tx, args.token_delay)
    try:
        sender = BurstSender(args.device, tx_stream, args.zmq_address, args=args.args, freq=args.freq,
                             rate=args.rate, gain=args.gain)
    except NoRadio as e:
        sys.exit(f"tx_text: {e}")
    time.sleep(1.0)  # let subscribers connect (ZMQ PUB drops what nobody receives yet)
    sent = n = 0
    try:
        for text in texts:
            n += 1
            try:
                meta = sender.send(text, timeout=args.send_timeout)
            except SendTimeout as e:  # the coder may still be busy with it: stop here
                print(f"tx_text: message {n} NOT sent: {e}; not sending the rest", file=sys.stderr,
                      flush=True)
                break
            except SendError as e:
                print(f"tx_text: message {n} NOT sent: {e}", file=sys.stderr, flush=True)
                continue
            sent += 1
            if args.json:
                print(json.dumps({"sent": text, **{k: meta[k] for k in (
                    "seq", "message_bits", "coded_bits", "samples", "samples_out")}}), flush=True)
            else:
                print(f"sent: {text}  [seq {meta['seq']}, {meta['message_bits']} message bits, "
                      f"{meta['coded_bits']} coded bits]", flush=True)
            time.sleep(args.interval)
    finally:
        sender.close()
    return sent, n


def main(argv=None):
    args = parse_args(argv)
    if args.interactive:  # a chat: every line coded after the earlier ones, smallest header
        args.conversation, args.header_format = True, "lean"
    texts = messages_from(args)
    if not args.interactive and not texts:
        sys.exit("tx_text: no messages (give them as arguments or on stdin)")
    if args.device == "loopback":
        ok, n = run_loopback(args, texts)
        if not args.json:
            print(f"{ok} of {n} messages received exactly")
        return 0 if ok == n else 1
    ok, n = run_stream_tx(args, texts)
    if not args.json:
        print(f"{ok} of {n} messages sent", file=sys.stderr)
    return 0 if ok == n else 1


if __name__ == "__main__":
    sys.exit(main())
