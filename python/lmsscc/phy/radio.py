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
from . import blocks as lb

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

    def __init__(self, model="default", code="LDPC_N49_K24", modulation="bpsk", decoder="bp",
                 esn0_db=10.0, fading="none", freq_offset=0.0, timing_offset=0.0, seed=0,
                 context="none", conversation=False, header_format="standard", engine="hf"):
        self.tb = gr.top_block("lmsscc loopback")
        self.tx = lb.link_tx(model, code, modulation, context, header_format=header_format,
                             conversation=conversation, attach_truth=True, engine=engine)
        self.channel = lb.burst_channel(esn0_db, fading, freq_offset, timing_offset, seed)
        self.rx = lb.link_rx(model, code, decoder, context, header_format=header_format,
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


def build_tx_stream(device, tx_stream, zmq_address=DEFAULT_ZMQ, **radio):
    """Flowgraph: link_tx_stream (text PDUs in, tagged bursts out) -> ZMQ PUB or an SDR sink."""
    tb = gr.top_block("lmsscc tx")
    if device == "zmq":
        from gnuradio import zeromq

        sink = zeromq.pub_sink(gr.sizeof_gr_complex, 1, zmq_address, 100, False, -1)
    else:
        sink = radio_sink(device, **radio)
    tb.connect(tx_stream, sink)
    return tb


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
