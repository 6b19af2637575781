# SPDX-License-Identifier: GPL-3.0-or-later
"""A bug inside a block is not bad input: PduBlock drops the PDU (the
flowgraph keeps running) but counts it under INTERNAL_ERROR, logs its
traceback, and the tests that feed bad input fail on it (conftest.py)."""

import time

import numpy as np
import pytest
from gnuradio import blocks, gr

from gnuradio.lmsscc import pdu_util
from gnuradio.lmsscc.pdu_util import INTERNAL_ERROR, PDU_PORT, BadPdu, PduBlock, make_pdu


class LogLines:
    def __init__(self):
        self.lines = []

    def warn(self, message):
        self.lines.append(("warn", message))

    def error(self, message):
        self.lines.append(("error", message))


class buggy_block(PduBlock, gr.basic_block):  # noqa: N801  (GNU Radio block naming)
    """Refuses 1-byte PDUs as bad input; 2-byte PDUs hit a bug (a TypeError)."""

    def __init__(self):
        gr.basic_block.__init__(self, name="buggy_block", in_sig=None, out_sig=None)
        self._setup_pdu("buggy_block")

    def process(self, meta, data):
        if data.size == 1:
            raise BadPdu("one byte is too short")
        if data.size == 2:
            return [(meta, len(None), "u8")]  # the bug
        return [(meta, data, "u8")]


@pytest.mark.internal_errors_expected
def test_a_bug_is_an_internal_error_not_a_validation_drop():
    block = buggy_block()
    log = block.drops.logger = LogLines()
    seen_before = pdu_util.INTERNAL_ERRORS_SEEN["TypeError"]
    tb = gr.top_block()
    sink = blocks.message_debug()
    tb.msg_connect(block, "pdus", sink, "store")
    tb.start()
    try:
        for data in ([1], [1, 2], [1, 2], [1, 2, 3]):
            block._post(PDU_PORT, make_pdu({}, np.array(data, dtype=np.uint8), "u8"))
        deadline = time.monotonic() + 30
        while sink.num_messages() < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        tb.stop()
        tb.wait()
    assert sink.num_messages() == 1  # the flowgraph ran on after the bug
    stats = block.stats()
    assert stats["drop_reasons"] == {"one byte is too short": 1, INTERNAL_ERROR: 2}, stats
    assert pdu_util.INTERNAL_ERRORS_SEEN["TypeError"] == seen_before + 2
    tracebacks = [m for level, m in log.lines if level == "error"]
    assert len(tracebacks) == 1  # once per place the bug is raised
    assert "Traceback" in tracebacks[0] and "len(None)" in tracebacks[0]
    assert "test_internal_errors.py" in tracebacks[0]
