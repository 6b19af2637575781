#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the OSD work-saving rules buy on LDPC_N49_K24: codewords/s (wall clock, one thread, 20,000
frames decoded in one call, 3 runs) and candidates summed per frame, for no rule (the exhaustive
order-k search), prune only, and prune + early stop; orders 1-3 at 3 and 4 dB. The rules never
change the output (tests/fec/test_osd.py); this measures only their cost.

  OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/osd_rules_speed.py
"""
import os
import time

import numpy as np

from gnuradio.lmsscc.fec import OSDDecoder, load_code, simulate_llrs

FRAMES = 20000
RULES = ((False, False), (True, False), (True, True))   # (prune, early_stop)


def measure(code, llr, order, prune, early_stop):
    dec = OSDDecoder(code, order, prune=prune, early_stop=early_stop)
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        dec.decode(llr)
        rates.append(len(llr) / (time.perf_counter() - t0))
    return dec, sorted(rates)


def main():
    code = load_code("LDPC_N49_K24")
    print("load average before:", os.getloadavg())
    for ebn0 in (3, 4):
        _, _, llr = simulate_llrs(code, ebn0, FRAMES, "none", rng=np.random.default_rng(0))
        for order in (1, 2, 3):
            for prune, early_stop in RULES:
                dec, rates = measure(code, llr, order, prune, early_stop)
                print(f"{ebn0} dB osd{order} prune={prune!s:5} early_stop={early_stop!s:5}: "
                      f"{' / '.join(f'{r:,.0f}' for r in rates)} cw/s wall-clock, "
                      f"{dec.mean_candidates():.1f} candidates/frame of {dec.patterns_per_frame}, "
                      f"early stops {dec.stats['early_stops'] / dec.stats['frames']:.3f}")
    print("load average after:", os.getloadavg())


if __name__ == "__main__":
    main()
