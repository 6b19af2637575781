# SPDX-License-Identifier: GPL-3.0-or-later
"""Monte-Carlo BER/FER measurement shared by bench/bench_fec.py and train/train_ecct.py."""
from __future__ import annotations

import functools
import math
import time

import numpy as np

from ..phy.channels import channel_name
from .llr import ebn0_to_sigma, simulate_llrs, transmit


def neg_ln(rate: float):
    return -math.log(rate) if rate > 0 else None


def point_record(code, fading: str, ebn0_db: float, *, frames: int, frame_errors: int,
                 bit_errors: int, coded_bit_errors: int, info_bits: int, coded_bits: int,
                 decode_s: float | None) -> dict:
    """One measured point. Two BERs:
      ber        information bits (the k systematic positions), the link's figure;
      ber_coded  all n codeword bits (what the ECCT papers count);
    fer: frames with at least one wrong information bit (kept as `bler` too, the old name).
    channel labels the fading mode ('awgn' or 'rayleigh', phy/channels.channel_name)."""
    ber = bit_errors / (frames * info_bits)
    ber_coded = coded_bit_errors / (frames * coded_bits)
    fer = frame_errors / frames
    return {
        "code": code.name, "channel": channel_name(fading), "fading": fading,
        "ebn0_db": float(ebn0_db), "frames": frames,
        "frame_errors": frame_errors, "bit_errors": bit_errors, "ber": ber,
        "coded_bit_errors": coded_bit_errors, "ber_coded": ber_coded,
        "fer": fer, "bler": fer,
        "neg_ln_ber": neg_ln(ber), "neg_ln_ber_coded": neg_ln(ber_coded),
        "codewords_per_s": frames / decode_s if decode_s else None,
    }


def measure_point(decoder, code, ebn0_db: float, fading: str = "none", *,
                  max_frames: int = 100_000, min_frame_errors: int = 100, batch: int = 4096,
                  seed: int = 0, progress=None) -> dict:
    """Random info bits, BPSK, channel, decode; count info-bit, codeword-bit and frame errors.

    Stops once `min_frame_errors` frame errors are seen or `max_frames` frames were sent. The
    decoding time alone (not the channel simulation) gives codewords_per_s.
    """
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(COUNT_FIELDS, 0)
    while counts["frames"] < max_frames and counts["frame_errors"] < min_frame_errors:
        nb = min(batch, max_frames - counts["frames"])
        for key, value in count_batch(decoder, code, ebn0_db, nb, fading, rng).items():
            counts[key] += value
        if progress is not None:
            progress.update(nb)
    return record_from_counts(code, fading, ebn0_db, counts, uncoded=False)


# -- counts of one batch / one sweep shard (python/lmsscc/sweep.py) ---------------------------------
COUNT_FIELDS = ("frames", "frame_errors", "bit_errors", "coded_bit_errors", "decode_s")


def count_batch(decoder, code, ebn0_db: float, frames: int, fading: str, rng) -> dict:
    """Error counts of `frames` random frames; decoder None = BPSK without coding (the k
    information bits sent as they are, at the same Eb/N0 per information bit)."""
    if decoder is None:
        bits = rng.integers(0, 2, (frames, code.k), dtype=np.uint8)
        wrong = (transmit(bits, ebn0_to_sigma(ebn0_db, 1.0), fading, rng) > 0) != bits
        return {"frames": frames, "frame_errors": int(wrong.any(axis=1).sum()),
                "bit_errors": int(wrong.sum()), "coded_bit_errors": int(wrong.sum()), "decode_s": 0.0}
    info, codewords, llr = simulate_llrs(code, ebn0_db, frames, fading=fading, rng=rng)
    t0 = time.perf_counter()
    bits = decoder.decode(llr)
    decode_s = time.perf_counter() - t0
    wrong = code.extract_info(bits) != info
    return {"frames": frames, "frame_errors": int(wrong.any(axis=1).sum()), "bit_errors": int(wrong.sum()),
            "coded_bit_errors": int((bits != codewords).sum()), "decode_s": decode_s}


def record_from_counts(code, fading: str, ebn0_db: float, counts: dict, uncoded: bool) -> dict:
    # No code: the k information bits are all the bits sent, and there is no decoding time.
    return point_record(code, fading, ebn0_db, frames=counts["frames"], frame_errors=counts["frame_errors"],
                        bit_errors=counts["bit_errors"], coded_bit_errors=counts["coded_bit_errors"],
                        info_bits=code.k, coded_bits=code.k if uncoded else code.n,
                        decode_s=None if uncoded else counts["decode_s"])


def spec_label(spec: str) -> str:
    """A bench_fec decoder spec's label: the kind, or KIND:STEM for KIND=WEIGHTS."""
    from pathlib import Path

    kind, _, weights = spec.partition("=")
    return f"{kind}:{Path(weights).stem}" if weights else kind


def decoder_from_spec(spec: str, code):
    """(label, decoder) of a bench_fec decoder spec: 'uncoded' (decoder None), a make_decoder kind,
    or KIND=WEIGHTS (ecct/hybrid with other weights)."""
    from . import decoders

    kind, _, weights = spec.partition("=")
    if kind == "uncoded":
        return "uncoded", None
    return spec_label(spec), decoders.make_decoder(kind, code, weights=weights or None)


@functools.lru_cache(maxsize=32)
def cached_decoder(code_name: str, spec: str):
    """One decoder per (code, spec) per process: a Ray worker builds it once for all its shards."""
    from .codes import load_code

    code = load_code(code_name)
    return code, decoder_from_spec(spec, code)[1]


def fec_shard(params: dict, shard: int, seed) -> dict:
    """Sweep task of bench_fec: shard `shard` of a point, params {code, fading, ebn0_db, decoder
    (a spec), shard_frames, max_frames, batch}; frames shard_frames (the last shard fewer, so the
    point never exceeds max_frames), random numbers from `seed` alone."""
    code, decoder = cached_decoder(params["code"], params["decoder"])
    frames = min(params["shard_frames"], params["max_frames"] - shard * params["shard_frames"])
    if frames <= 0:
        raise ValueError(f"shard {shard} is past max_frames {params['max_frames']}")
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(COUNT_FIELDS, 0)
    done = 0
    while done < frames:
        nb = min(params["batch"], frames - done)
        for key, value in count_batch(decoder, code, params["ebn0_db"], nb, params["fading"], rng).items():
            counts[key] += value
        done += nb
    return counts
