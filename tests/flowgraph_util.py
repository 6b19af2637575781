"""Run message-only flowgraphs in tests: they never end by themselves, so
start, post PDUs, wait for the expected outputs (with a timeout), stop."""

import time

import pmt
from gnuradio import blocks, gr

from gnuradio.lmsscc.pdu_util import PDU_PORT


def run_message_chain(chain, messages, expect, timeout=60.0):
    """Connect blocks in `chain` port 'pdus' to 'pdus', post `messages` into the
    first, return the PDUs that reach a message_debug sink (waits for `expect`)."""
    tb = gr.top_block()
    sink = blocks.message_debug()
    for a, b in zip(chain, chain[1:]):
        tb.msg_connect(a, "pdus", b, "pdus")
    tb.msg_connect(chain[-1], "pdus", sink, "store")
    tb.start()
    try:
        for msg in messages:
            chain[0]._post(PDU_PORT, msg)
        deadline = time.monotonic() + timeout
        while sink.num_messages() < expect and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # let anything unexpected arrive too
    finally:
        tb.stop()
        tb.wait()
    return [sink.get_message(i) for i in range(sink.num_messages())]


def pdu_text(msg):
    return bytes(pmt.u8vector_elements(pmt.cdr(msg))).decode("utf-8")


def pdu_meta(msg):
    return pmt.to_python(pmt.car(msg))
