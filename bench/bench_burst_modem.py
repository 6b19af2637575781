#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Link benchmark: message error rate vs total energy per source character,
LM-SSCC with BP and with the ECCT-based decoder, AWGN and Rayleigh (block)
fading, through the burst modem (sync, CFO and timing estimation included);
plus messages/s through the loopback flowgraph.

    .venv/bin/python bench/bench_burst_modem.py --json bench/out/link.json --plot docs/link_mer.png

Each sentence is LM-coded once with the default model; every trial sends its
frame through a fresh channel realisation. A message counts as received when
its frame passes CRC-32 and carries the sent LM message bytes (LM decoding of
the right bytes is exact: tests check it end to end).
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from bench_source import news_sentences  # noqa: E402


def run_point(tx, rx, encoded, chars, esn0_db, fading, trials, rng):
    from gnuradio.lmsscc.phy import channels

    ok = sent = 0
    energy = 0.0
    n0 = channels.noise_var_for_esn0(esn0_db)
    for _ in range(trials):
        for r, n_chars in zip(encoded, chars):
            b = tx.send_encoded(r)
            x, _ = channels.rayleigh(b.samples, rng, fading)
            x = channels.timing_offset(x, rng.uniform(0, 4))
            x = channels.frequency_offset(x, rng.uniform(-2e-4, 2e-4), rng.uniform(0, 2 * np.pi))
            got = rx.receive(channels.awgn(np.concatenate([np.zeros(64), x, np.zeros(64)]), n0, rng))
            ok += any(g.ok and g.message == r.message for g in got)
            sent += 1
            energy += b.energy / n_chars
    mean_energy = energy / sent
    return {"esn0_db": esn0_db, "energy_per_char_db": round(10 * math.log10(mean_energy / n0), 2),
            "messages": sent, "received": ok, "mer": round(1 - ok / sent, 4)}


def messages_per_second(model, n=10):
    """Loopback flowgraph throughput with the given LM (link_tx -> channel -> link_rx)."""
    from gnuradio.lmsscc.phy.radio import LoopbackLink

    link = LoopbackLink(model=model, esn0_db=10)
    texts = news_sentences(n)
    t = time.perf_counter()
    ok = sum(link.send(s)[0].get("crc_ok", False) for s in texts)
    dt = time.perf_counter() - t
    link.close()
    return {"messages": n, "received": ok, "seconds": round(dt, 2), "messages_per_s": round(n / dt, 3)}


def plot(records, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for key in sorted({(r["channel"], r["decoder"]) for r in records}):
        pts = sorted((r["energy_per_char_db"], max(r["mer"], 1e-3)) for r in records
                     if (r["channel"], r["decoder"]) == key)
        ax.semilogy(*zip(*pts), marker="o", label=f"{key[0]}, {key[1]}")
    ax.set_xlabel("total transmitted energy per source character / N0 (dB)")
    ax.set_ylabel("message error rate (floor 1e-3 = no error seen)")
    ax.set_title("LM-SSCC link: SmolLM2-135M + LDPC(49,24), BPSK bursts")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sentences", type=int, default=20)
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--esn0", type=float, nargs="+", default=[-4, -3, -2, -1, 0, 1, 2])
    p.add_argument("--rayleigh-esn0", type=float, nargs="+", default=[0, 3, 6, 9, 12, 15, 18])
    p.add_argument("--decoders", nargs="+", default=["bp", "hybrid"])
    p.add_argument("--json", default="bench/out/link.json")
    p.add_argument("--plot", default="docs/link_mer.png")
    p.add_argument("--model", default="default")
    args = p.parse_args()

    from gnuradio.lmsscc.phy.link import LinkConfig, Receiver, Transmitter
    from gnuradio.lmsscc.source import LMCodec, load_model

    lm = load_model(args.model)
    codec = LMCodec(lm)
    texts = news_sentences(args.sentences)
    encoded = [codec.encode(t) for t in tqdm(texts, desc="LM encode", file=sys.stderr)]
    chars = [len(t) for t in texts]
    records = []
    for decoder in args.decoders:
        for channel, grid, fading in (("awgn", args.esn0, "none"), ("rayleigh", args.rayleigh_esn0, "block")):
            weights = None if decoder == "bp" or channel == "awgn" else "ecct_LDPC_N49_K24_rayleigh"
            cfg = LinkConfig(decoder=decoder, ecct_weights=weights)
            tx, rx = Transmitter(codec, cfg), Receiver(codec, cfg, decode_text=False)
            rng = np.random.default_rng(7)
            for esn0 in tqdm(grid, desc=f"{decoder} {channel}", file=sys.stderr):
                r = run_point(tx, rx, encoded, chars, esn0, fading, args.trials, rng)
                r.update(channel=channel, decoder=decoder)
                records.append(r)
                print(json.dumps(r), file=sys.stderr)
    result = {"command": " ".join(sys.argv), "model": lm.name, "sentences": len(texts),
              "mean_chars": round(float(np.mean(chars)), 1),
              "mean_lm_message_bits": round(float(np.mean([e.coded_bits for e in encoded])), 1),
              "records": records}
    result["flowgraph_default_model"] = messages_per_second(lm, 5)
    # The modem alone (no LM): pre-coded messages through TX, AWGN and RX.
    from gnuradio.lmsscc.phy import channels

    tx, rx = Transmitter(codec, LinkConfig()), Receiver(codec, LinkConfig(), decode_text=False)
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    good = sum(any(g.ok for g in rx.receive(channels.awgn(tx.send_encoded(e).samples, 0.1, rng)))
               for e in encoded)
    dt = time.perf_counter() - t
    result["modem_only_bp"] = {"messages": len(encoded), "received": good,
                               "messages_per_s": round(len(encoded) / dt, 2)}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    plot(records, REPO / args.plot)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
