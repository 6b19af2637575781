"""Monte-Carlo BER/BLER measurement shared by apps/bench_fec.py and apps/train_ecct.py."""
from __future__ import annotations

import math
import time

import numpy as np

from .channel import simulate_llrs


def measure_point(decoder, code, ebn0_db: float, channel: str = "awgn", *,
                  max_frames: int = 100_000, min_frame_errors: int = 100, batch: int = 4096,
                  seed: int = 0, progress=None) -> dict:
    """Random info bits, BPSK, channel, decode; count info-bit and frame errors.

    Stops once `min_frame_errors` frame errors are seen or `max_frames` frames were sent. The
    decoding time alone (not the channel simulation) gives codewords_per_s.
    """
    rng = np.random.default_rng(seed)
    frames = frame_errors = bit_errors = 0
    decode_s = 0.0
    while frames < max_frames and frame_errors < min_frame_errors:
        nb = min(batch, max_frames - frames)
        info, _, llr = simulate_llrs(code, ebn0_db, nb, channel=channel, rng=rng)
        t0 = time.perf_counter()
        bits = decoder.decode(llr)
        decode_s += time.perf_counter() - t0
        wrong = code.extract_info(bits) != info
        bit_errors += int(wrong.sum())
        frame_errors += int(wrong.any(axis=1).sum())
        frames += nb
        if progress is not None:
            progress.update(nb)
    ber = bit_errors / (frames * code.k)
    return {
        "code": code.name, "channel": channel, "ebn0_db": float(ebn0_db), "frames": frames,
        "frame_errors": frame_errors, "bit_errors": bit_errors, "ber": ber,
        "bler": frame_errors / frames,
        "neg_ln_ber": (-math.log(ber)) if ber > 0 else None,
        "codewords_per_s": frames / decode_s if decode_s > 0 else None,
    }
