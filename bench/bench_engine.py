#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Native deterministic engine vs the naive Hugging Face token-by-token path,
measured in ONE run on this machine (issue 7):

  - tokens/s of the LM codec (gnuradio.lmsscc.source.LMCodec), encode and
    decode, 1 stream and 8 streams, native engine with 1 and 2 threads;
  - bits/char of the native engine vs the fp32 HF model on the same text
    (first 4 KB of alice29.txt, first sentences of lee_background.cor);
  - peak memory (RSS) of the process after the native part, and at the end.

    .venv/bin/python bench/bench_engine.py --json bench/out/engine.json \
        --plot docs/engine_speed.png

"8 streams" for the native engine: 8 messages (the text cut into 8 chunks, as
lm_zip does) coded concurrently with one batched engine step per token
(source.models.batching.encode_batch / decode_batch). The HF path has no batched
coding, so its 8-stream figure is the same 8 messages coded one after another.
"engine_only": engine.step() alone, no codec work, 256 (1 stream) or 128 (8
streams) token-by-token steps from position 0.
Encode "prefill": all logits of a message computed up front in multi-token
steps (batching.encode_prefilled), the same bytes as the streaming encoder.
Every message is decoded and checked against its text.
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO / ".cache" / "corpora"


def rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_avg() -> list:
    return [round(x, 2) for x in os.getloadavg()]


def texts():
    alice = (CORPORA / "alice29.txt").read_bytes()[:4096].decode("utf-8", "ignore")
    lee_lines = (CORPORA / "lee_background.cor").read_text(encoding="utf-8").splitlines()
    lee = " ".join(lee_lines[0].split(". ")[:12])
    if not lee.endswith("."):
        lee += "."
    return {"alice29_4k": alice, "lee_sentences": lee}


def chunks(text: str, n: int) -> list:
    """Cut text into n pieces at spaces (roughly equal length)."""
    out, start = [], 0
    for i in range(1, n):
        cut = text.find(" ", len(text) * i // n)
        cut = len(text) if cut < 0 else cut
        out.append(text[start:cut])
        start = cut
    out.append(text[start:])
    return [c for c in out if c]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def bits_per_char_hf(lm, text):
    """Ideal code length (sum of -log2 p) under the fp32 HF model, full-sequence
    forward with the codec's start token; /len(text)."""
    import torch

    ids = lm.tokenize(text)
    with torch.inference_mode():
        logits = lm.model(torch.tensor([[lm.settings.start_token] + ids[:-1]])).logits[0]
    lp = torch.log_softmax(logits.double(), dim=-1)
    bits = -lp[torch.arange(len(ids)), torch.tensor(ids)].sum().item() / np.log(2)
    return bits / len(text), len(ids)


def bench_native(threads_list, corpus, n_streams, log):
    from gnuradio.lmsscc.source import LMCodec, NumericSettings, load_model
    from gnuradio.lmsscc.source.models.batching import decode_batch, encode_batch, encode_prefilled

    res = {}
    lm, load_s = timed(lambda: load_model(None, NumericSettings(engine="native", threads=1)))
    res["load_seconds"] = round(load_s, 2)
    res["simd"] = lm.engine.simd
    res["weight_mb"] = round(lm.engine.weight_bytes / 1e6, 1)
    codec = LMCodec(lm)
    text = corpus["alice29_4k"]
    parts = chunks(text, n_streams)
    ids = lm.tokenize(text)
    for threads in threads_list:
        lm.engine.threads = threads
        r = {"load_avg_before": load_avg()}
        # the engine alone (no codec work): token-by-token steps from position 0
        eng = lm.engine
        for n, steps in ((1, 256), (n_streams, 128)):
            sids = [eng.new_stream() for _ in range(n)]
            t0 = time.perf_counter()
            for i in range(steps):
                eng.step(np.array(sids, np.int32),
                         np.array([ids[(i + 17 * j) % len(ids)] for j in range(n)], np.int32))
            dt = time.perf_counter() - t0
            for sid in sids:
                eng.free_stream(sid)
            r[f"engine_only_{n}_stream{'s' if n > 1 else ''}_tok_s"] = round(n * steps / dt, 1)
        enc, dt = timed(lambda: codec.encode(text))
        r["encode_1_stream_tok_s"] = round(enc.tokens / dt, 1)
        dec, dt = timed(lambda: codec.decode(enc.message))
        assert dec.crc_ok and dec.text == text
        r["decode_1_stream_tok_s"] = round(dec.tokens / dt, 1)
        pre, dt = timed(lambda: encode_prefilled(LMCodec, lm, text))
        assert pre.message == enc.message
        r["encode_1_stream_prefill_tok_s"] = round(pre.tokens / dt, 1)
        batch, dt = timed(lambda: encode_batch(LMCodec, lm, parts))
        ntok = sum(b.tokens for b in batch)
        r[f"encode_{n_streams}_streams_tok_s"] = round(ntok / dt, 1)
        decs, dt = timed(lambda: decode_batch(LMCodec, lm, [b.message for b in batch]))
        assert [d.text for d in decs] == parts
        r[f"decode_{n_streams}_streams_tok_s"] = round(ntok / dt, 1)
        pres, dt = timed(lambda: [encode_prefilled(LMCodec, lm, p) for p in parts])
        assert [p.message for p in pres] == [b.message for b in batch]
        r[f"encode_{n_streams}_streams_prefill_tok_s"] = round(ntok / dt, 1)
        r["tokens_1_stream"] = enc.tokens
        r[f"tokens_{n_streams}_streams"] = ntok
        r["load_avg_after"] = load_avg()
        res[f"threads_{threads}"] = r
        log(f"native threads={threads}: {r}")
    lm.engine.threads = 1
    # bits/char of the native engine (ideal code length and real message size)
    res["bits"] = {}
    for name, t in corpus.items():
        e = codec.encode(t)
        res["bits"][name] = {"chars": len(t), "tokens": e.tokens,
                             "model_bits_per_char": e.model_bits / len(t),
                             "message_bits_per_char": 8 * len(e.message) / len(t)}
    res["peak_rss_mb_after_native"] = round(rss_peak_mb(), 1)
    return res


def bench_hf(corpus, n_streams, hf_tokens, log):
    from gnuradio.lmsscc.source import LMCodec, load_model

    res = {}
    lm, load_s = timed(lambda: load_model(None))
    res["load_seconds"] = round(load_s, 2)
    codec = LMCodec(lm)
    # speed on a shorter piece: the HF path codes ~20 tokens/s
    text = corpus["alice29_4k"]
    ids = lm.tokenize(text)
    short = lm.detokenize(ids[:hf_tokens])
    r = {"load_avg_before": load_avg()}
    enc, dt = timed(lambda: codec.encode(short))
    r["encode_1_stream_tok_s"] = round(enc.tokens / dt, 1)
    dec, dt = timed(lambda: codec.decode(enc.message))
    assert dec.text == short
    r["decode_1_stream_tok_s"] = round(dec.tokens / dt, 1)
    parts = chunks(short, n_streams)
    encs, dt = timed(lambda: [codec.encode(p) for p in parts])
    ntok = sum(e.tokens for e in encs)
    r[f"encode_{n_streams}_streams_tok_s"] = round(ntok / dt, 1)
    decs, dt = timed(lambda: [codec.decode(e.message) for e in encs])
    assert [d.text for d in decs] == parts
    r[f"decode_{n_streams}_streams_tok_s"] = round(ntok / dt, 1)
    r["tokens_1_stream"] = enc.tokens
    r["load_avg_after"] = load_avg()
    res["threads_1"] = r
    log(f"hf: {r}")
    res["bits"] = {}
    for name, t in corpus.items():
        bpc, ntoks = bits_per_char_hf(lm, t)
        res["bits"][name] = {"chars": len(t), "tokens": ntoks, "model_bits_per_char": bpc}
    return res


def plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = result["streams"]
    keys = [("encode_1_stream_tok_s", "encode\n1 stream"), ("decode_1_stream_tok_s", "decode\n1 stream"),
            (f"encode_{n}_streams_tok_s", f"encode\n{n} streams"),
            (f"decode_{n}_streams_tok_s", f"decode\n{n} streams")]
    series = [("HF fp32 (1 thread)", result["hf"]["threads_1"])]
    for k, v in result["native"].items():
        if k.startswith("threads_"):
            series.append((f"native ({k.split('_')[1]} thread{'s' if k != 'threads_1' else ''})", v))
    fig, ax = plt.subplots(figsize=(8, 4.2))
    width = 0.8 / len(series)
    x = np.arange(len(keys))
    for i, (label, r) in enumerate(series):
        vals = [r.get(k, 0) for k, _ in keys]
        bars = ax.bar(x + i * width - 0.4 + width / 2, vals, width, label=label)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.axhline(100, color="gray", ls=":", lw=1)
    ax.axhline(500, color="gray", ls="--", lw=1)
    ax.set_xticks(x, [k[1] for k in keys])
    ax.set_ylabel("tokens/s (aggregate)")
    ax.set_title(f"LM codec speed, SmolLM2-135M, 2-core CPU (load avg {result['load_avg_start']})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--plot", type=Path, help="bar chart of the speeds (PNG)")
    ap.add_argument("--threads", default="1,2", help="native thread counts to measure")
    ap.add_argument("--streams", type=int, default=8)
    ap.add_argument("--hf-tokens", type=int, default=160, help="tokens coded by the slow HF path")
    args = ap.parse_args()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    corpus = texts()
    result = {"command": " ".join([Path(sys.executable).name] + sys.argv),
              "cpu_count": os.cpu_count(), "load_avg_start": load_avg(), "streams": args.streams,
              "text_chars": {k: len(v) for k, v in corpus.items()}}
    result["native"] = bench_native([int(t) for t in args.threads.split(",")], corpus,
                                    args.streams, log)
    result["hf"] = bench_hf(corpus, args.streams, args.hf_tokens, log)
    result["bits_per_char"] = {}
    for name in corpus:
        hf = result["hf"]["bits"][name]["model_bits_per_char"]
        nat = result["native"]["bits"][name]["model_bits_per_char"]
        result["bits_per_char"][name] = {"hf_fp32": round(hf, 4), "native": round(nat, 4),
                                         "native_message": round(result["native"]["bits"][name]["message_bits_per_char"], 4),
                                         "change_percent": round(100 * (nat / hf - 1), 3)}
    result["peak_rss_mb_end"] = round(rss_peak_mb(), 1)
    result["load_avg_end"] = load_avg()
    out = json.dumps(result, indent=2)
    print(out)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(out + "\n")
    if args.plot:
        plot(result, args.plot)


if __name__ == "__main__":
    main()
