#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Source-coding benchmark: the LM codec vs classic compressors, round-trip
checks, coding overhead, kernel speed vs NumPy and constriction, LM tokens/s.

    .venv/bin/python bench/bench_source.py --json bench/out/source.json \
        --plot docs/source_compression.png

Needs the corpora: `make data` (bench/fetch_corpora.py). Everything printed is
measured in this run; docs/source_coding.md quotes it.
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gnuradio.lmsscc.source import HEADER_FORMATS

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO / ".cache" / "corpora"
ANCHORS = REPO / "bench" / "data" / "europarl_demo.txt"
REFERENCE_ANCHOR_BITS = 2477  # Ren et al. 2025, GPT-2 + AC, no header/CRC (bench/data/README.md)

UNICODE_CASES = [
    "",
    "A",
    "Ça va? Größe, naïve café, señor, Ørsted, Żółć.",
    "中文文本压缩测试，语言模型。日本語のテキストも。한국어 문장.",
    "Emoji: 🚀📡🛰️ 👩‍🔬 ❤️‍🔥 and flags 🇪🇺🇩🇪",
    "Math: ∀x∈ℝ, e^{iπ}+1=0; arrows → ⇒ ↔; combining e\u0301 vs é",
]


def news_sentences(n, min_chars=40, max_chars=250):
    text = (CORPORA / "lee_background.cor").read_text(encoding="utf-8", errors="strict")
    out = []
    for line in text.splitlines():
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", line.strip()):
            if min_chars <= len(s) <= max_chars:
                out.append(s)
    # Every k-th sentence: spread over the corpus, deterministic.
    step = max(1, len(out) // n)
    return out[::step][:n]


def quantize_numpy(logits, precision):
    """The same rule as the C++ quantizer, in NumPy (reference for speed)."""
    x = logits.astype(np.float64)
    w = np.exp(x - x.max())
    total, n = 1 << precision, len(logits)
    f = 1 + np.floor(w * ((total - n) / w.sum())).astype(np.int64)
    f[int(np.argmax(logits))] += total - f.sum()
    cdf = np.zeros(n + 1, dtype=np.uint32)
    np.cumsum(f, out=cdf[1:])
    return cdf


def bench_kernels(lmsscc, constriction_mod, alice):
    res = {}
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal(49152) * 3).astype(np.float32)
    reps = 300
    enc = lmsscc.RangeEncoder(24)
    t = time.perf_counter()
    for _ in range(reps):
        enc.encode_symbol(lmsscc.logits_to_cdf(logits, 24), 123)
    cpp = (time.perf_counter() - t) / reps
    enc = lmsscc.RangeEncoder(24)
    t = time.perf_counter()
    for _ in range(reps):
        enc.encode_symbol(quantize_numpy(logits, 24), 123)
    npy = (time.perf_counter() - t) / reps
    c_cpp, c_np = lmsscc.logits_to_cdf(logits, 24), quantize_numpy(logits, 24)
    res["cdf_encode_v49152"] = {
        "cpp_us": round(cpp * 1e6, 1), "numpy_us": round(npy * 1e6, 1),
        "speedup": round(npy / cpp, 2),
        "max_freq_difference": int(np.abs(np.diff(c_cpp.astype(np.int64)) - np.diff(c_np.astype(np.int64))).max()),
    }
    # Static-model throughput: bytes of alice29 under their own histogram, precision 24.
    data = np.frombuffer((alice * 8).encode("utf-8"), dtype=np.uint8)
    counts = np.bincount(data, minlength=256).astype(np.float64)
    probs = (counts + 1e-3) / (counts + 1e-3).sum()
    symbols = data.astype(np.uint32)
    cdf = lmsscc.probs_to_cdf(probs.astype(np.float32), 24)
    mb = len(data) / 1e6
    timings = {}
    for name in ("ours", "constriction"):
        best_enc, best_dec = 1e9, 1e9
        for _ in range(3):
            if name == "ours":
                t = time.perf_counter()
                e = lmsscc.RangeEncoder(24)
                e.encode_symbols(symbols, cdf)
                blob = e.finish()
                t1 = time.perf_counter()
                out = lmsscc.RangeDecoder(blob, 24).decode_symbols(len(symbols), cdf)
                t2 = time.perf_counter()
                size = len(blob)
            else:
                model = constriction_mod.stream.model.Categorical(probs, perfect=False)
                syms = symbols.astype(np.int32)
                t = time.perf_counter()
                e = constriction_mod.stream.queue.RangeEncoder()
                e.encode(syms, model)
                comp = e.get_compressed()
                t1 = time.perf_counter()
                out = constriction_mod.stream.queue.RangeDecoder(comp).decode(model, len(syms))
                t2 = time.perf_counter()
                size = comp.nbytes
            assert np.array_equal(np.asarray(out, dtype=np.uint32), symbols), name
            best_enc, best_dec = min(best_enc, t1 - t), min(best_dec, t2 - t1)
        timings[name] = {"encode_MBps": round(mb / best_enc, 1), "decode_MBps": round(mb / best_dec, 1),
                         "bytes": size}
    timings["input_MB"] = round(mb, 3)
    timings["encode_ratio_ours_vs_constriction"] = round(
        timings["ours"]["encode_MBps"] / timings["constriction"]["encode_MBps"], 2)
    timings["decode_ratio_ours_vs_constriction"] = round(
        timings["ours"]["decode_MBps"] / timings["constriction"]["decode_MBps"], 2)
    res["static_model_precision24"] = timings
    return res


def code_all(codec, texts, desc):
    """Encode then decode each text alone; return per-text records."""
    records = []
    for text in tqdm(texts, desc=desc, unit="msg", file=sys.stderr):
        e = codec.encode(text)
        d = codec.decode(e.message)
        records.append({
            "chars": len(text), "bytes": e.input_bytes, "tokens": e.tokens,
            "model_bits": e.model_bits, "coded_bits": e.coded_bits, "header_bits": e.header_bits,
            "payload_bits": e.payload_bits, "encode_s": e.seconds, "decode_s": d.seconds,
            "exact": d.crc_ok and d.text == text,
        })
    return records


def summarize(name, texts, records, baselines):
    raw = [t.encode("utf-8") for t in texts]
    chars = sum(len(t) for t in texts)
    lm_bits = sum(r["coded_bits"] for r in records)
    classic = {tool: 0 for tool in baselines.available_tools()}
    for b in raw:
        for tool, size in baselines.classic_sizes(b).items():
            classic[tool] += 8 * size
    best_tool = min(classic, key=classic.get)
    tokens = sum(r["tokens"] for r in records)
    enc_s = sum(r["encode_s"] for r in records)
    dec_s = sum(r["decode_s"] for r in records)
    overhead = [r["payload_bits"] - r["model_bits"] for r in records]
    return {
        "name": name, "messages": len(texts), "chars": chars, "bytes": sum(map(len, raw)),
        "tokens": tokens, "all_exact": all(r["exact"] for r in records),
        "lm_coded_bits": lm_bits, "lm_header_bits": sum(r["header_bits"] for r in records),
        "lm_model_bits": round(sum(r["model_bits"] for r in records), 1),
        "lm_bits_per_char": round(lm_bits / max(chars, 1), 4),
        "classic_bits": classic,
        "classic_bits_per_char": {k: round(v / max(chars, 1), 4) for k, v in classic.items()},
        "best_classic": best_tool,
        "gain_vs_best_classic": round(classic[best_tool] / max(lm_bits, 1), 3),
        "max_payload_overhead_bits": round(max(overhead), 2),
        "max_payload_overhead_rule_ok": all(
            r["payload_bits"] - r["model_bits"] <= 0.001 * r["model_bits"] + 64 for r in records),
        "encode_tokens_per_s": round(tokens / enc_s, 2) if enc_s else None,
        "decode_tokens_per_s": round(tokens / dec_s, 2) if dec_s else None,
    }


def plot(summaries, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s["name"] for s in summaries]
    tools = list(summaries[0]["classic_bits_per_char"])
    series = {"LM (SmolLM2-135M)": [s["lm_bits_per_char"] for s in summaries]}
    for tool in tools:
        series[tool] = [s["classic_bits_per_char"][tool] for s in summaries]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(series)
    for i, (label, values) in enumerate(series.items()):
        xs = np.arange(len(names)) + (i - (len(series) - 1) / 2) * width
        ax.bar(xs, values, width, label=label)
    ax.set_xticks(np.arange(len(names)))
    ax.set_xticklabels(names)
    ax.set_ylabel("coded bits per character (headers included)")
    ax.set_title("gr-lmsscc source coding vs classic compressors")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--alice-chars", type=int, default=16384)
    p.add_argument("--sentences", type=int, default=100)
    p.add_argument("--model", default="default")
    p.add_argument("--json", default="bench/out/source.json")
    p.add_argument("--plot", default="docs/source_compression.png")
    p.add_argument("--skip-lm", action="store_true", help="kernels only")
    p.add_argument("--skip-kernels", action="store_true", help="LM coding only")
    p.add_argument("--engine", default="hf", choices=["hf", "native"])
    p.add_argument("--header-format", "--header", dest="header", default="standard",
                   choices=HEADER_FORMATS,
                   help="message format: version 1, 2 or 3 (docs/message_format.md)")
    p.add_argument("--sets", nargs="+", default=["alice", "news", "unicode", "europarl"],
                   choices=["alice", "news", "unicode", "europarl"])
    args = p.parse_args()

    import constriction
    from gnuradio import lmsscc
    from gnuradio.lmsscc.source import LMCodec, NumericSettings, load_model
    from gnuradio.lmsscc.source import baselines, lmzip

    alice_full = (CORPORA / "alice29.txt").read_text(encoding="utf-8")
    results = {"command": " ".join(sys.argv)}
    if not args.skip_kernels:
        results["kernels"] = bench_kernels(lmsscc, constriction, alice_full)
        print(json.dumps(results["kernels"], indent=1))
    if not args.skip_lm:
        t = time.perf_counter()
        lm = load_model(args.model, NumericSettings(engine=args.engine))
        results["model"] = {"name": lm.name, "engine": args.engine,
                            "load_s": round(time.perf_counter() - t, 1)}
        results["header_format"] = args.header
        codec = LMCodec(lm, header_format=args.header)
        alice = alice_full[: args.alice_chars]
        chunks = lmzip.split_text(alice)
        sentences = news_sentences(args.sentences)
        anchors = ANCHORS.read_text(encoding="utf-8").splitlines() if ANCHORS.exists() else []
        sets = [("alice29 16 KB (4 KB chunks)", chunks, "alice"),
                (f"{len(sentences)} news sentences, each alone", sentences, "news"),
                ("Unicode / empty / 1 char", UNICODE_CASES, "unicode"),
                (f"{len(anchors)} Europarl demo sentences, each alone", anchors, "europarl")]
        sets = [(name, texts) for name, texts, key in sets if key in args.sets and texts]
        summaries = []
        for name, texts in sets:
            records = code_all(codec, texts, name)
            s = summarize(name, texts, records, baselines)
            summaries.append(s)
            print(json.dumps(s, indent=1))
        for s in summaries:
            if "Europarl" in s["name"]:
                s["reference_gpt2_ac_bits_no_header"] = REFERENCE_ANCHOR_BITS
        results["sets"] = summaries
        if args.plot:
            plot([s for s in summaries if "Unicode" not in s["name"]], REPO / args.plot)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
