#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Are the SC/SCL errors on POLAR_N64_K32 maximum-likelihood errors? (raw record: docs/data/fec_polar64_scl_mlcheck.txt)

  OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/polar_ml_check.py
"""
# For each SCL error frame: is the decoded codeword MORE likely than the one sent? If so, an ML
# decoder errs on that frame too (ML FER >= that count / frames).
import numpy as np

from gnuradio.lmsscc.fec import load_code, simulate_llrs
from gnuradio.lmsscc.fec.decoders import make_decoder
code = load_code("POLAR_N64_K32")
for eb in (3.0, 4.0):
    _, cw, llr = simulate_llrs(code, eb, 30000, rng=np.random.default_rng(int(eb * 10)))
    corr = lambda x: (llr * (2.0 * x - 1.0)).sum(axis=1)
    for kind in ("sc", "scl8", "scl32"):
        out = make_decoder(kind, code).decode(llr)
        err = (out != cw).any(axis=1)
        ml_err = err & (corr(out) > corr(cw))
        print(f"{eb:g} dB {kind:5s}: frame errors {err.sum():4d}/30000, of which decoded word more "
              f"likely than the sent one (ML would err too): {ml_err.sum():4d}", flush=True)
