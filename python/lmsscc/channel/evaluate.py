"""Monte-Carlo BER/FER measurement shared by apps/bench_fec.py and apps/train_ecct.py."""
from __future__ import annotations

import math
import time

import numpy as np

from .channel import simulate_llrs


def neg_ln(rate: float):
    return -math.log(rate) if rate > 0 else None


def point_record(code, channel: str, ebn0_db: float, *, frames: int, frame_errors: int,
                 bit_errors: int, coded_bit_errors: int, info_bits: int, coded_bits: int,
                 decode_s: float | None) -> dict:
    """One measured point. Two BERs:
      ber        information bits (the k systematic positions), the link's figure;
      ber_coded  all n codeword bits (what the ECCT papers count);
    fer: frames with at least one wrong information bit (kept as `bler` too, the old name)."""
    ber = bit_errors / (frames * info_bits)
    ber_coded = coded_bit_errors / (frames * coded_bits)
    fer = frame_errors / frames
    return {
        "code": code.name, "channel": channel, "ebn0_db": float(ebn0_db), "frames": frames,
        "frame_errors": frame_errors, "bit_errors": bit_errors, "ber": ber,
        "coded_bit_errors": coded_bit_errors, "ber_coded": ber_coded,
        "fer": fer, "bler": fer,
        "neg_ln_ber": neg_ln(ber), "neg_ln_ber_coded": neg_ln(ber_coded),
        "codewords_per_s": frames / decode_s if decode_s else None,
    }


def measure_point(decoder, code, ebn0_db: float, channel: str = "awgn", *,
                  max_frames: int = 100_000, min_frame_errors: int = 100, batch: int = 4096,
                  seed: int = 0, progress=None) -> dict:
    """Random info bits, BPSK, channel, decode; count info-bit, codeword-bit and frame errors.

    Stops once `min_frame_errors` frame errors are seen or `max_frames` frames were sent. The
    decoding time alone (not the channel simulation) gives codewords_per_s.
    """
    rng = np.random.default_rng(seed)
    frames = frame_errors = bit_errors = coded_bit_errors = 0
    decode_s = 0.0
    while frames < max_frames and frame_errors < min_frame_errors:
        nb = min(batch, max_frames - frames)
        info, codewords, llr = simulate_llrs(code, ebn0_db, nb, channel=channel, rng=rng)
        t0 = time.perf_counter()
        bits = decoder.decode(llr)
        decode_s += time.perf_counter() - t0
        wrong = code.extract_info(bits) != info
        bit_errors += int(wrong.sum())
        coded_bit_errors += int((bits != codewords).sum())
        frame_errors += int(wrong.any(axis=1).sum())
        frames += nb
        if progress is not None:
            progress.update(nb)
    return point_record(code, channel, ebn0_db, frames=frames, frame_errors=frame_errors,
                        bit_errors=bit_errors, coded_bit_errors=coded_bit_errors,
                        info_bits=code.k, coded_bits=code.n, decode_s=decode_s)
