# SPDX-License-Identifier: GPL-3.0-or-later
"""Run message-only flowgraphs in tests: they never end by themselves, so
start, post PDUs, wait for the expected outputs (with a timeout), stop."""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pmt
from gnuradio import blocks, gr

from gnuradio.lmsscc.pdu_util import PDU_PORT

from testutil import installed_grc_dir

REPO = Path(__file__).resolve().parent.parent


def run_message_chain(chain, messages, expect, timeout=60.0):
    """Connect blocks in `chain` port 'pdus' to 'pdus', post `messages` into the
    first, return the PDUs that reach a message_debug sink (waits for `expect`)."""
    tb = gr.top_block()
    sink = blocks.message_debug()
    for a, b in zip(chain, chain[1:]):
        tb.msg_connect(a, "pdus", b, "pdus")
    tb.msg_connect(chain[-1], "pdus", sink, "store")
    return _run(tb, lambda msg: chain[0]._post(PDU_PORT, msg), sink, messages, expect, timeout)


def run_with_pdu_source(wire, messages, expect, timeout=60.0):
    """For blocks without a _post of their own (hierarchical blocks, stream
    chains): ``wire(tb, source, sink)`` connects them between a PDU source
    (out port 'pdus') and a message_debug sink (in port 'store'); the messages
    are published and the sink's PDUs returned (waits for ``expect``)."""
    tb = gr.top_block()
    source = gr.basic_block("pdu_source", None, None)
    source.message_port_register_out(PDU_PORT)
    sink = blocks.message_debug()
    wire(tb, source, sink)
    return _run(tb, lambda msg: source.message_port_pub(PDU_PORT, msg), sink, messages, expect,
                timeout)


def _run(tb, send, sink, messages, expect, timeout):
    tb.start()
    try:
        for msg in messages:
            send(msg)
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


def compile_example(name, outdir):
    """grcc examples/NAME.grc into outdir with the installed block YAMLs; the script's path."""
    # A private HOME: GRC keeps a block cache in ~/.cache/grc_gnuradio trusted by file mtime, and
    # `cmake --install` keeps the source's mtime, so an edited YAML could compile from a stale entry.
    home = Path(outdir) / ".grc_home"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GRC_BLOCKS_PATH=str(installed_grc_dir()), HOME=str(home))
    r = subprocess.run([sys.executable, "/usr/bin/grcc", "-o", str(outdir),
                        str(REPO / "examples" / f"{name}.grc")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout
    return outdir / f"{name}.py"


class Flowgraph:
    """A generated flowgraph script running headless; its output collected."""

    def __init__(self, script, *args):
        self.proc = subprocess.Popen([sys.executable, str(script), *map(str, args)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(iter(self.proc.stdout.readline, "")),
                                       daemon=True)
        self.reader.start()

    @property
    def output(self):
        return "".join(self.lines)

    def wait_for(self, text, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and text not in self.output:
            time.sleep(0.5)
        return text in self.output

    def stop(self):
        """Press Enter (the generated scripts wait for it), then collect."""
        try:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)
        finally:
            self.proc.kill()
        self.reader.join(timeout=10)
        return self.output


def printed_payloads(out):
    """message_debug prints payloads as hex dumps: "0000: 48 65 6c ..."."""
    return bytes(int(h, 16) for line in re.findall(r"^[0-9a-f]{4}: ((?:[0-9a-f]{2} )+)", out, re.M)
                 for h in line.split())
