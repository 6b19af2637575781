# SPDX-License-Identifier: GPL-3.0-or-later
"""Link faults: a receiver that joins mid-burst, a sender that dies mid-burst
and another that takes over (sequence numbers restart), and the real apps
over ZMQ with the receiver and then the sender killed and restarted. The
receiver recovers and resumes; text is never spliced from two bursts."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr

from gnuradio.lmsscc.phy import blocks as phy_blocks
from gnuradio.lmsscc.phy.link import LinkConfig, Transmitter
from gnuradio.lmsscc.source import make_codec

from testutil import APPS


@pytest.fixture(scope="module")
def burst_of(tiny_lm):
    """text, seq -> burst samples of a fresh transmitter starting at seq."""
    codec = make_codec(tiny_lm, 24, 1, 16384, "none", phy_blocks.DEFAULT_HEADER_FORMAT)  # as link_tx makes it

    def make(text, seq):
        return Transmitter(codec, LinkConfig(), first_seq=seq).send(text).samples.astype(np.complex64)
    return make


def receive_stream(tiny_lm, pieces, seed=0):
    """Run link_rx_stream over the concatenated pieces (light noise added);
    (texts or None per report, seqs, stats)."""
    x = np.concatenate([np.zeros(2000, np.complex64), *pieces, np.zeros(30000, np.complex64)])
    rng = np.random.default_rng(seed)
    x = x + 0.03 * (rng.normal(size=len(x)) + 1j * rng.normal(size=len(x)))
    rx = phy_blocks.link_rx_stream(model=tiny_lm, chunk=4096)
    tb = gr.top_block()
    sink = blocks.message_debug()
    tb.connect(blocks.vector_source_c(x.astype(np.complex64).tolist(), False), rx)
    tb.msg_connect(rx, "pdus", sink, "store")
    tb.run(4096)
    reports = []
    for i in range(sink.num_messages()):
        msg = sink.get_message(i)
        meta = pmt.to_python(pmt.car(msg))
        text = bytes(pmt.u8vector_elements(pmt.cdr(msg))).decode() if meta["crc_ok"] else None
        reports.append((text, meta.get("seq")))
    return reports, rx.stats()


def test_receiver_joining_mid_burst_recovers(tiny_lm, burst_of):
    a, b, c = (burst_of(f"message {n}", seq) for seq, n in enumerate("ABC"))
    gap = np.zeros(3000, np.complex64)
    reports, stats = receive_stream(tiny_lm, [a[len(a) // 2:], gap, b, gap, c])
    good = [r for r in reports if r[0] is not None]
    assert good == [("message B", 1), ("message C", 2)], reports


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_sender_dying_mid_burst_never_splices(tiny_lm, burst_of, cut):
    """Old sender: bursts seq 7, 8 (cut at `cut`); new sender restarts at seq 0."""
    old = [burst_of("old sender, first", 7), burst_of("old sender, second", 8)]
    new = [burst_of(f"new sender {i}", i) for i in range(3)]
    gap = np.zeros(3000, np.complex64)
    truncated = old[1][: int(cut * len(old[1]))]
    reports, _ = receive_stream(tiny_lm, [old[0], gap, truncated, *[p for n in new for p in (n, gap)]])
    good = [r for r in reports if r[0] is not None]
    allowed = {("old sender, first", 7), *((f"new sender {i}", i) for i in range(3))}
    assert set(good) <= allowed and len(good) == len(set(good)), reports  # no splice, no duplicate
    assert ("old sender, first", 7) in good
    # A cut burst can hide at most the one new burst that starts inside its
    # announced length; everything after that arrives.
    assert {("new sender 1", 1), ("new sender 2", 2)} <= set(good), reports


# ------------------------------------------------------------------ real apps over ZMQ

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """An app process whose stdout/stderr lines are collected by threads."""

    def __init__(self, name, *args):
        self.proc = subprocess.Popen([sys.executable, str(APPS / name), *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.out, self.err = [], []
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, k=sink: k.extend(iter(s.readline, "")),
                             daemon=True).start()

    def wait_for(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if predicate(self):
                return True
            time.sleep(0.1)
        return predicate(self)

    def records(self):
        return [json.loads(line) for line in list(self.out) if line.startswith("{")]

    def received(self):
        return [r for r in self.records() if r.get("received") is not None]

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


def listening(app):
    return any("listening" in line for line in app.err)


def test_zmq_receiver_then_sender_killed_and_restarted(tiny_dir):
    address = f"tcp://127.0.0.1:{free_port()}"
    common = ["--model", tiny_dir, "--zmq-address", address, "--json"]
    first = [f"first sender message {i}" for i in range(100)]  # killed long before the end
    second = [f"second sender message {i}" for i in range(5)]
    apps = []
    try:
        rx1 = App("rx_text.py", *common, "--timeout", "150")
        apps.append(rx1)
        assert rx1.wait_for(listening, 90), rx1.err[-5:]
        tx1 = App("tx_text.py", "--device", "zmq", "--interval", "0.4", *common, *first)
        apps.append(tx1)
        assert rx1.wait_for(lambda a: len(a.received()) >= 3, 90), (rx1.err[-5:], tx1.err[-5:])
        rx1.kill()  # receiver dies mid-stream ...
        rx2 = App("rx_text.py", *common, "--timeout", "150")  # ... and comes back
        apps.append(rx2)
        assert rx2.wait_for(lambda a: len(a.received()) >= 2, 90), (rx2.err[-5:], tx1.err[-5:])
        tx1.kill()  # sender dies mid-stream ...
        got_before = len(rx2.received())
        tx2 = App("tx_text.py", "--device", "zmq", "--interval", "0.3", *common, *second)
        apps.append(tx2)  # ... and another starts on the same address, seq from 0
        rx2.wait_for(lambda a: any(r["received"] == second[-1] for r in a.received()), 90)
        assert tx2.proc.wait(timeout=60) == 0, tx2.err[-5:]
        time.sleep(1.0)
    finally:
        for app in apps:
            app.kill()
    sent = {**{t: i for i, t in enumerate(first)}, **{t: i for i, t in enumerate(second)}}
    for rx in (rx1, rx2):
        for r in rx.received():  # never spliced: exact sent text, with its own seq
            assert r["received"] in sent and r["seq"] == sent[r["received"]], r
            assert r["crc_ok"] is True
    first_at_rx2 = [r["received"] for r in rx2.received()[:got_before]]
    assert first_at_rx2 and set(first_at_rx2) <= set(first)  # resumed after the restart
    second_at_rx2 = [r["received"] for r in rx2.received() if r["received"] in second]
    assert second_at_rx2 == second, (second_at_rx2, [r for r in rx2.records() if not r.get("crc_ok")])
