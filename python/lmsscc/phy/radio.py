# SPDX-License-Identifier: GPL-3.0-or-later
"""Flowgraphs behind apps/tx_text.py and apps/rx_text.py: loopback (TX,
channel and RX in one process), ZMQ (IQ between two processes) and SDR
sinks/sources (UHD, HackRF via SoapySDR, any SoapySDR device)."""

from __future__ import annotations

import queue
import time

import numpy as np
import pmt
from gnuradio import blocks, gr

from ..pdu_util import PDU_PORT, make_pdu
from . import blocks as phy_blocks  # gnuradio.blocks is `blocks` here

DEVICES = ("loopback", "zmq", "uhd", "hackrf", "soapy")
DEFAULT_ZMQ = "tcp://127.0.0.1:5555"  # localhost unless the user names an address


class NoRadio(RuntimeError):
    """The requested SDR could not be opened (one clear line for the user)."""


class _Collector(gr.basic_block):
    """Puts every PDU it gets on a queue (metadata dict, payload bytes)."""

    def __init__(self):
        gr.basic_block.__init__(self, name="collector", in_sig=None, out_sig=None)
        self.queue = queue.Queue()
        self.message_port_register_in(PDU_PORT)
        self.set_msg_handler(PDU_PORT, self._on)

    def _on(self, msg):
        meta = pmt.to_python(pmt.car(msg)) or {}
        self.queue.put((dict(meta), bytes(pmt.u8vector_elements(pmt.cdr(msg)))))


def _open_radio(direction, device, args="", freq=915e6, rate=1e6, gain=0.0):
    """A UHD or SoapySDR sink ('tx', bursts tagged 'packet_len') or source ('rx')."""
    try:
        if device == "uhd":
            from gnuradio import uhd

            stream_args = uhd.stream_args(cpu_format="fc32", channels=[0])
            radio = (uhd.usrp_sink(args, stream_args, "packet_len") if direction == "tx"
                     else uhd.usrp_source(args, stream_args))
            radio.set_samp_rate(rate)
            radio.set_center_freq(freq, 0)
            radio.set_gain(gain, 0)
            return radio
        from gnuradio import soapy

        driver = "driver=hackrf" if device == "hackrf" else ""
        dev = ",".join(x for x in (driver, args) if x)
        make = soapy.sink if direction == "tx" else soapy.source
        radio = make(dev, "fc32", 1, "", "", [""], [""])
        radio.set_sample_rate(0, rate)
        radio.set_frequency(0, freq)
        radio.set_gain(0, gain)
        return radio
    except Exception as e:  # no radio attached, driver missing, bad args: one line
        role = "transmitter" if direction == "tx" else "receiver"
        raise NoRadio(f"cannot open {device} {role} ({args or 'default args'}): "
                      + " ".join(str(e).split())) from None


def radio_sink(device, **radio):
    return _open_radio("tx", device, **radio)


def radio_source(device, **radio):
    return _open_radio("rx", device, **radio)


class LoopbackLink:
    """link_tx -> burst_channel -> link_rx in one flowgraph."""

    def __init__(self, model="default", code="LDPC_N49_K24", modulation="bpsk", decoder="auto",
                 esn0_db=10.0, fading="none", freq_offset=0.0, timing_offset=0.0, seed=0,
                 priming="none", conversation=False,
                 header_format=phy_blocks.DEFAULT_HEADER_FORMAT, engine=phy_blocks.DEFAULT_ENGINE):
        self.tb = gr.top_block("lmsscc loopback")
        self.tx = phy_blocks.link_tx(model, code, modulation, priming, header_format=header_format,
                                     conversation=conversation, attach_truth=True, engine=engine)
        self.channel = phy_blocks.burst_channel(esn0_db, fading, freq_offset, timing_offset, seed)
        self.rx = phy_blocks.link_rx(model, code, decoder, priming, header_format=header_format,
                                     conversation=conversation, engine=engine)
        self.tx_log, self.rx_log = _Collector(), _Collector()
        self.tb.msg_connect(self.tx, "pdus", self.channel, "pdus")
        self.tb.msg_connect(self.channel, "pdus", self.rx, "pdus")
        self.tb.msg_connect(self.rx, "pdus", self.rx_log, "pdus")
        self.tb.start()

    def send(self, text: str, timeout: float = 600.0):
        """(receiver metadata, received bytes) for one message."""
        self.tx._post(PDU_PORT, make_pdu({}, bytearray(text.encode("utf-8")), "u8"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return self.rx_log.queue.get(timeout=0.05)
            except queue.Empty:
                if self.tx.stats()["dropped"] > getattr(self, "_drops", 0):
                    self._drops = self.tx.stats()["dropped"]
                    return {"crc_ok": False, "error": "transmitter refused the message"}, b""
        return {"crc_ok": False, "error": "timeout"}, b""

    def close(self):
        self.tb.stop()
        self.tb.wait()


def _tx_sink(device, zmq_address=DEFAULT_ZMQ, **radio):
    if device == "zmq":
        from gnuradio import zeromq

        return zeromq.pub_sink(gr.sizeof_gr_complex, 1, zmq_address, 100, False, -1)
    return radio_sink(device, **radio)


def build_tx_stream(device, tx_stream, zmq_address=DEFAULT_ZMQ, **radio):
    """Flowgraph: link_tx_stream (text PDUs in, tagged bursts out) -> ZMQ PUB or an SDR sink."""
    tb = gr.top_block("lmsscc tx")
    tb.connect(tx_stream, _tx_sink(device, zmq_address, **radio))
    return tb


class SendError(RuntimeError):
    """A message that did not leave the flowgraph (refused, or SendTimeout): never reported as sent."""


class SendTimeout(SendError):
    """The message was not coded, or its burst had not left, in time."""


class BurstSender:
    """link_tx_stream -> ZMQ PUB or SDR sink, with send() that returns only
    once the message's burst has left the flowgraph: link_tx has coded it and
    the sink has consumed every one of its samples (``nitems_read``), however
    long the language model takes. A timeout or a refused message raises
    SendError instead."""

    POLL = 0.02  # seconds

    def __init__(self, device, tx_stream, zmq_address=DEFAULT_ZMQ, **radio):
        self.tx_stream, self.tx = tx_stream, tx_stream.tx
        self.sink = _tx_sink(device, zmq_address, **radio)
        self.tb = gr.top_block("lmsscc tx")
        self.tb.connect(tx_stream, self.sink)
        self.samples_queued = 0  # samples of every burst coded so far
        self.tb.start()

    def send(self, text: str, timeout: float = 900.0) -> dict:
        """link_tx's metadata for the burst (seq, coded_bits, samples, ...)."""
        deadline = time.monotonic() + timeout
        handled = self._handled()
        dropped = self.tx.drops.total
        self.tx._post(PDU_PORT, make_pdu({}, bytearray(text.encode("utf-8")), "u8"))
        self._wait(lambda: self._handled() > handled, deadline,
                   f"not coded within {timeout:g} s (the language model is still working)")
        if self.tx.drops.total > dropped:
            raise SendError(f"refused by the transmitter: {self.tx.drops.last}")
        meta = dict(self.tx.last_meta)
        meta["samples"] = self.tx.burst_samples[-1]
        self.samples_queued += meta["samples"]
        self._wait(lambda: self.sink.nitems_read(0) >= self.samples_queued, deadline,
                   f"coded, but its burst had not left the flowgraph within {timeout:g} s "
                   f"({self.sink.nitems_read(0)} of {self.samples_queued} samples out)")
        meta["samples_out"] = int(self.sink.nitems_read(0))
        return meta

    def _handled(self) -> int:
        return self.tx.pdus_out + self.tx.drops.total

    def _wait(self, done, deadline, what):
        while not done():
            if time.monotonic() > deadline:
                raise SendTimeout(what)
            time.sleep(self.POLL)

    def close(self, linger: float = 0.5):
        """Stop after a short linger (ZMQ hands the last samples to its I/O thread)."""
        time.sleep(linger)
        self.tb.stop()
        self.tb.wait()


def build_rx_stream(device, link_rx_stream_block, zmq_address=DEFAULT_ZMQ, **radio):
    tb = gr.top_block("lmsscc rx")
    if device == "zmq":
        from gnuradio import zeromq

        src = zeromq.sub_source(gr.sizeof_gr_complex, 1, zmq_address, 100, False, -1)
    else:
        src = radio_source(device, **radio)
    collector = _Collector()
    tb.connect(src, link_rx_stream_block)
    tb.msg_connect(link_rx_stream_block, "pdus", collector, "pdus")
    return tb, collector
