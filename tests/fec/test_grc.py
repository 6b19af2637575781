# SPDX-License-Identifier: GPL-3.0-or-later
"""The GRC YAML of the channel-coding blocks compiles with grcc and builds a working flowgraph."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

GRC_DIR = Path(__file__).resolve().parents[2] / "grc"

FLOWGRAPH = """
options:
  parameters: {id: fec_yaml_test, generate_options: no_gui, output_language: python, title: fec}
  states: {coordinate: [8, 8], rotation: 0, state: enabled}
blocks:
- name: strobe
  id: blocks_message_strobe
  parameters: {msg: 'pmt.PMT_T', period: '1000'}
  states: {coordinate: [50, 100], rotation: 0, state: enabled}
- name: enc
  id: lmsscc_fec_encoder
  parameters: {code: LDPC_N49_K24}
  states: {coordinate: [200, 100], rotation: 0, state: enabled}
- name: bp
  id: lmsscc_bp_decoder
  parameters: {code: LDPC_N49_K24, max_iter: '50', strip_padding: 'True', llr_scale: '1.0'}
  states: {coordinate: [400, 100], rotation: 0, state: enabled}
- name: ec
  id: lmsscc_ecct_decoder
  parameters: {weights: ecct_LDPC_N49_K24_awgn, hybrid: 'True', strip_padding: 'True',
               llr_scale: '1.0', threads: '0'}
  states: {coordinate: [400, 200], rotation: 0, state: enabled}
- name: osd
  id: lmsscc_osd_decoder
  parameters: {code: LDPC_N49_K24, order: '2', strip_padding: 'True', llr_scale: '1.0'}
  states: {coordinate: [400, 300], rotation: 0, state: enabled}
- name: dbg
  id: blocks_message_debug
  parameters: {en_uvec: 'True'}
  states: {coordinate: [600, 100], rotation: 0, state: enabled}
connections:
- [strobe, strobe, enc, pdus]
- [strobe, strobe, bp, pdus]
- [strobe, strobe, ec, pdus]
- [enc, pdus, dbg, store]
- [bp, pdus, dbg, store]
- [ec, pdus, dbg, store]
- [strobe, strobe, osd, pdus]
- [osd, pdus, dbg, store]
metadata: {file_format: 1}
"""


@pytest.mark.skipif(shutil.which("grcc") is None, reason="grcc not installed")
def test_yaml_compiles_and_flowgraph_drops_non_pdus(tmp_path):
    (tmp_path / "t.grc").write_text(FLOWGRAPH)
    # a private HOME: GRC's block cache (~/.cache/grc_gnuradio) trusts file mtimes
    env = dict(os.environ, GRC_BLOCKS_PATH=str(GRC_DIR), HOME=str(tmp_path / "home"))
    res = subprocess.run(["grcc", str(tmp_path / "t.grc"), "-o", str(tmp_path)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        import fec_yaml_test
        tb = fec_yaml_test.fec_yaml_test()
        tb.start()
        under_test = (tb.enc, tb.bp, tb.ec, tb.osd)
        t_end = time.time() + 20
        while time.time() < t_end and min(b.stats()["dropped"] for b in under_test) < 1:
            time.sleep(0.05)
        tb.stop()
        tb.wait()
    finally:
        sys.path.remove(str(tmp_path))
    # The strobe sends PMT_T, which is not a PDU: every block logs, drops and keeps running.
    assert min(b.stats()["dropped"] for b in under_test) >= 1
    assert all(b.stats()["pdus_out"] == 0 for b in under_test)
