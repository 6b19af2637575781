#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Context-conditioned coding benchmark: each message alone, primed with a
context both ends know, and in conversation mode; side by side with zstd -19
using a dictionary trained (`zstd --train`) on held-out text of the same corpus.

    .venv/bin/python bench/bench_context.py --json bench/out/context.json

Every figure counts every header bit (and CRC). Bits come from encoding; the
round trip is checked by decoding the first --verify messages of each mode
(the unit tests cover correctness in general). Needs `make data` for corpora.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from bench_source import ANCHORS, CORPORA, REFERENCE_ANCHOR_BITS, news_sentences  # noqa: E402


def alice_paragraphs(n, held_out_chars):
    text = (CORPORA / "alice29.txt").read_text(encoding="utf-8")
    test_part = text[held_out_chars:]
    paras = [" ".join(p.split()) for p in test_part.split("\n\n")]
    paras = [p for p in paras if 100 <= len(p) <= 600]
    step = max(1, len(paras) // n)
    return paras[::step][:n], text[:held_out_chars]


def zstd_sizes(messages, training_samples, dict_size):
    """Bytes per message for zstd -19 alone and with a trained dictionary (CLI)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = []
        for i, s in enumerate(training_samples):
            f = tmp / f"s{i}.txt"
            f.write_text(s, encoding="utf-8")
            files.append(str(f))
        dict_path = tmp / "dict"
        subprocess.run(["zstd", "-q", "--train", *files, "-o", str(dict_path), f"--maxdict={dict_size}"],
                       check=True, capture_output=True)

        def size(data, *flags):
            return len(subprocess.run(["zstd", "-19", "-q", "-c", *flags], input=data,
                                      capture_output=True, check=True).stdout)

        out = {"zstd -19": 0, "zstd -19 -D dict": 0, "zstd -19 -D dict (minimal framing)": 0}
        for m in messages:
            raw = m.encode("utf-8")
            out["zstd -19"] += 8 * size(raw)
            out["zstd -19 -D dict"] += 8 * size(raw, "-D", str(dict_path))
            out["zstd -19 -D dict (minimal framing)"] += 8 * size(
                raw, "-D", str(dict_path), "--no-check", "--no-dictID", "--no-content-size")
        out["dict_bytes"] = dict_path.stat().st_size
    return out


def run_mode(codec_factory, messages, mode, verify, conversation_period):
    from gnuradio.lmsscc.source import ConversationDecoder, ConversationEncoder

    codec = codec_factory()
    enc = ConversationEncoder(codec, conversation_period) if mode == "conversation" else codec
    dec = ConversationDecoder(codec) if mode == "conversation" else codec
    bits = header = 0
    model_bits = 0.0
    exact = checked = 0
    t = time.perf_counter()
    for i, m in enumerate(tqdm(messages, desc=mode, unit="msg", file=sys.stderr, leave=False)):
        r = enc.encode(m)
        bits += r.coded_bits
        header += r.header_bits
        model_bits += r.model_bits
        # Conversation decoding must follow the chain, so it decodes everything
        # up to `verify`; other modes decode the first `verify` messages.
        if i < verify:
            d = dec.decode(r.message)
            checked += 1
            exact += d.crc_ok and d.text == m
    return {"mode": mode, "messages": len(messages), "coded_bits": bits, "header_bits": header,
            "model_bits": round(model_bits, 1), "bits_per_char": round(bits / sum(map(len, messages)), 4),
            "round_trips_checked": checked, "round_trips_exact": exact,
            "seconds": round(time.perf_counter() - t, 1)}


def bench_set(name, messages, context, training, lm, verify, period, dict_size):
    from gnuradio.lmsscc.source import LMCodec

    # (label, codec factory, mode, keyframe period). Version 2 = compact header,
    # version 3 = lean (header fields range-coded, terminator instead of a count).
    configs = [
        ("alone (compact header)", lambda: LMCodec(lm, header_format="compact"), "alone", None),
        ("alone (lean header)", lambda: LMCodec(lm, header_format="lean"), "alone", None),
        ("primed", lambda: LMCodec(lm, context=context), "primed", None),
        ("primed (lean header)", lambda: LMCodec(lm, context=context, header_format="lean"), "primed", None),
        (f"conversation (period {period})", lambda: LMCodec(lm, context=context), "conversation",
         period),
        (f"conversation (lean header, period {period})",
         lambda: LMCodec(lm, context=context, header_format="lean"), "conversation", period),
    ]
    if period != 16:
        configs.append(("conversation (lean header, period 16)",
                        lambda: LMCodec(lm, context=context, header_format="lean"), "conversation", 16))
    rows = []
    for label, factory, mode, conv_period in configs:
        row = run_mode(factory, messages, mode, verify, conv_period)
        row["mode"] = label
        if conv_period:
            row["keyframe_period"] = conv_period
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    # The stand-alone version-1 message has the same payload (same model, no
    # context); only its header differs: 3-byte fingerprint and CRC-32.
    alone = rows[0]
    v1_extra = sum(8 * (3 - 1) + (32 - 16) for _ in messages)
    rows.insert(0, dict(alone, mode="alone (v1 header)", coded_bits=alone["coded_bits"] + v1_extra,
                        header_bits=alone["header_bits"] + v1_extra,
                        bits_per_char=round((alone["coded_bits"] + v1_extra) / sum(map(len, messages)), 4),
                        note="v1 size computed from the compact run: identical payload, header +32 bits"))
    z = zstd_sizes(messages, training, dict_size)
    return {"set": name, "chars": sum(map(len, messages)), "context": context.describe(),
            "keyframe_period": period, "lm": rows, "zstd": z}


def plot(results, path):
    """Bits per character of every mode, side by side with zstd, per set."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = results["sets"]
    fig, axes = plt.subplots(1, len(sets), figsize=(5.2 * len(sets), 5.5), squeeze=False)
    for ax, s in zip(axes[0], sets):
        rows = [(r["mode"], r["coded_bits"]) for r in s["lm"]]
        rows += [(k, v) for k, v in s["zstd"].items() if k.startswith("zstd")]
        labels = [m for m, _ in rows]
        values = [b / s["chars"] for _, b in rows]
        colors = ["tab:blue" if "lean" in m else "tab:gray" if m.startswith("zstd") else "tab:cyan"
                  for m in labels]
        y = np.arange(len(rows))
        ax.barh(y, values, color=colors)
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, max(values) * 1.15)
        ax.set_xlabel("coded bits per character, every header bit counted")
        ax.set_title(s["set"], fontsize=9)
        ref = s.get("reference_gpt2_ac_bits_no_header")
        if ref:
            ax.axvline(ref / s["chars"], color="tab:red", ls="--", lw=1)
            ax.text(ref / s["chars"], -0.6, " reference system (GPT-2 + AC, no header)",
                    color="tab:red", fontsize=7, va="bottom")
        for yi, v in zip(y, values):
            ax.text(v, yi, f" {v:.2f}", va="center", fontsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("LM coding of short messages: alone, primed, conversation (dark blue: lean header)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="default")
    p.add_argument("--engine", default="hf", choices=["hf", "native"])
    p.add_argument("--news", type=int, default=100)
    p.add_argument("--alice", type=int, default=30)
    p.add_argument("--verify", type=int, default=12)
    p.add_argument("--period", type=int, default=8, help="conversation keyframe period")
    p.add_argument("--sets", nargs="+", default=["europarl", "news", "alice"])
    p.add_argument("--json", default="bench/out/context.json")
    p.add_argument("--plot", default="docs/context_coding.png", help="'' for none")
    p.add_argument("--replot", metavar="JSON", help="only redraw the plot from a saved run")
    args = p.parse_args()
    if args.replot:
        plot(json.loads(Path(args.replot).read_text()), REPO / args.plot)
        return

    from gnuradio.lmsscc.source import LMCodec, NumericSettings, PrimingContext, load_context, load_model

    lm = load_model(args.model, NumericSettings(engine=args.engine))
    results = {"command": " ".join(sys.argv), "model": lm.name, "sets": []}
    news_all = news_sentences(10_000)
    if "europarl" in args.sets:
        anchors = ANCHORS.read_text(encoding="utf-8").splitlines()
        # zstd's dictionary for Europarl: the built-in europarl context text plus
        # the news sentences (no Europarl corpus offline): said in the docs.
        training = load_context("europarl").text.split("\n\n") + news_all[:300]
        s = bench_set("12 Europarl demo sentences", anchors, load_context("europarl"), training, lm,
                      args.verify, args.period, 4096)
        s["reference_gpt2_ac_bits_no_header"] = REFERENCE_ANCHOR_BITS
        results["sets"].append(s)
    if "news" in args.sets:
        test = news_sentences(args.news)
        held_out = [s for s in news_all if s not in set(test)]
        s = bench_set(f"{len(test)} news sentences (lee_background)", test, load_context("news"),
                      held_out, lm, args.verify, args.period, 8192)
        # A priming context made of held-out sentences of the same corpus: the
        # like-for-like rival of the trained zstd dictionary.
        same = PrimingContext("lee-heldout", "\n".join(held_out[:12]) + "\n")
        row = run_mode(lambda: LMCodec(lm, context=same), test, "primed", args.verify, args.period)
        s["lm"].append(dict(row, mode="primed (held-out news as context)"))
        results["sets"].append(s)
    if "alice" in args.sets:
        paras, held = alice_paragraphs(args.alice, 60_000)
        ctx = PrimingContext("alice-heldout", held[-1500:])
        training = [" ".join(p.split()) for p in held.split("\n\n") if len(p) > 40]
        s = bench_set(f"{len(paras)} alice29 paragraphs", paras, ctx, training, lm,
                      args.verify, args.period, 8192)
        results["sets"].append(s)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    if args.plot:
        plot(results, REPO / args.plot)


if __name__ == "__main__":
    main()
