#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Soak test of the loopback link: link_tx -> burst_channel -> link_rx in one
running flowgraph (phy.radio.LoopbackLink), thousands of messages.

    .venv/bin/python bench/soak.py --messages 10000 --low-messages 1000 --json bench/out/soak.json

High SNR: every message must come back exactly once, with its own text and
the frame sequence number it was sent with (wrapping at 65536), none lost,
none duplicated. Low SNR: every burst sent is accounted for by exactly one
report, matched by the sequence number the channel saw (seq_sent), (text
that matches, or crc_ok False with an error that says where it
failed); never wrong text. Resident memory (VmRSS) is sampled after every
batch of bursts; its growth is measured after a warm-up, in total and per
message (the least-squares slope over all samples). Uses the tiny random LM by default
(--model default for SmolLM2-135M: far slower).
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import time
from collections import Counter

import numpy as np
from gnuradio.lmsscc.pdu_util import PDU_PORT, make_pdu
from gnuradio.lmsscc.phy.radio import LoopbackLink

WARMUP = 200
BATCH = 20  # bursts in flight at once


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def growth_per_message_kb(samples) -> float:
    """RSS growth in kB a message: the least-squares slope of (messages sent,
    RSS MB) samples. Unlike the end-to-end difference it is not thrown by one
    step of the allocator (which grows its pools a MB or more at a time)."""
    messages, rss = np.array(samples, dtype=float).T
    return float(np.polyfit(messages, rss, 1)[0] * 1024)


def message_text(i: int) -> str:
    return f"soak message {i}: the quick brown fox #{i * 7919 % 10007}"


def classify(meta: dict) -> str:
    """Where a failed reception stopped, from its error string."""
    error = str(meta.get("error", ""))
    for key, label in (("no burst", "no_burst"), ("PHY header", "phy_header"),
                       ("modulation id", "phy_header"),  # a header CRC-8 false accept
                       ("frame", "frame_crc"), ("CRC-", "lm_crc"), ("fingerprint", "fingerprint")):
        if key in error:
            return label
    return "other: " + error[:60]


def collect(link: LoopbackLink, pending: set, timeout: float) -> list[dict]:
    """Reports until every sent index in `pending` has one, then whatever else
    arrives within a short quiet period (duplicates would show up here)."""
    reports, deadline = [], time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        try:
            meta, data = link.rx_log.queue.get(timeout=0.05)
        except queue.Empty:
            continue
        meta["_text"] = data
        reports.append(meta)
        pending.discard(meta.get("seq_sent"))
    return reports


def run(link: LoopbackLink, n: int, first_index: int, report_every: int = 1000) -> dict:
    """Send n messages; tally outcomes; sample RSS."""
    stats = Counter()
    failures = Counter()
    seen = Counter()
    rss = []  # (messages, MB) every report_every messages: the record
    rss_every_batch = []  # (messages, MB) after every batch: the growth rate
    tx_seq0 = link.tx.tx.seq
    index_of = {}  # frame sequence number -> message index (burst_channel passes it on as seq_sent)
    t0 = time.monotonic()
    for start in range(0, n, BATCH):
        batch = range(first_index + start, first_index + min(start + BATCH, n))
        for i in batch:
            index_of[(tx_seq0 + i - first_index) & 0xFFFF] = i
            link.tx._post(PDU_PORT, make_pdu({}, bytearray(message_text(i).encode()), "u8"))
        expected = {(tx_seq0 + i - first_index) & 0xFFFF for i in batch}
        for meta in collect(link, expected, timeout=120):
            i = index_of.get(meta.get("seq_sent"))
            seen[i] += 1
            if meta.get("crc_ok"):
                good = meta["_text"] == message_text(i).encode() and meta.get("seq") == meta["seq_sent"]
                stats["ok" if good else "WRONG_TEXT_OR_SEQ"] += 1
            else:
                stats["failed"] += 1
                failures[classify(meta)] += 1
        rss_every_batch.append((min(start + BATCH, n), rss_mb()))
        if (start + BATCH) % report_every < BATCH or start + BATCH >= n:
            rss.append((rss_every_batch[-1][0], round(rss_every_batch[-1][1], 1)))
            print(f"  {rss[-1][0]} messages, RSS {rss[-1][1]} MB, {dict(stats)}", file=sys.stderr)
    sent = range(first_index, first_index + n)
    stats["lost"] = sum(1 for i in sent if seen[i] == 0)
    stats["duplicated"] = sum(1 for i in sent if seen[i] > 1)
    stats["unexpected_reports"] = sum(c for i, c in seen.items() if i not in set(sent))
    return {"messages": n, "seconds": round(time.monotonic() - t0, 1), "outcomes": dict(stats),
            "failures_by_stage": dict(failures), "rss_mb": rss,
            "rss_growth_kb_per_message": (round(growth_per_message_kb(rss_every_batch), 2)
                                          if len(rss_every_batch) > 1 else None),
            "tx_stats": link.tx.stats(), "channel_stats": link.channel.stats(), "rx_stats": link.rx.stats()}


def soak(model, esn0_db: float, n: int, seed: int, warmup: int = WARMUP,
         report_every: int = 1000) -> dict:
    link = LoopbackLink(model=model, esn0_db=esn0_db, seed=seed)
    try:
        run(link, min(warmup, n), first_index=-10**6)  # warm-up: caches, allocator pools
        rss_start = rss_mb()
        result = run(link, n, first_index=0, report_every=report_every)
    finally:
        link.close()
    result.update(esn0_db=esn0_db, rss_after_warmup_mb=round(rss_start, 1),
                  rss_growth_mb=round(result["rss_mb"][-1][1] - rss_start, 1))
    return result


def load(model_name: str):
    if model_name == "tiny":
        from gnuradio.lmsscc.source.tiny import tiny_model
        return tiny_model(seed=0)
    from gnuradio.lmsscc.source import shared_model
    return shared_model(None if model_name == "default" else model_name)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=10000, help="high-SNR messages")
    p.add_argument("--low-messages", type=int, default=1000, help="low-SNR messages")
    p.add_argument("--high-snr", type=float, default=12.0, help="Es/N0, dB")
    p.add_argument("--low-snr", type=float, default=-1.0, help="Es/N0, dB")
    p.add_argument("--model", default="tiny", help="tiny (random test LM), default, or a model path")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--report-every", type=int, default=1000, help="RSS sample period, messages")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    model = load(args.model)
    results = {"model": args.model, "command": " ".join(sys.argv)}
    if args.messages:
        results["high"] = soak(model, args.high_snr, args.messages, args.seed,
                               report_every=args.report_every)
    if args.low_messages:
        results["low"] = soak(model, args.low_snr, args.low_messages, args.seed + 1,
                              report_every=args.report_every)
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    high = results.get("high", {}).get("outcomes", {})
    bad = (high.get("failed", 0) + high.get("lost", 0) + high.get("duplicated", 0)
           + high.get("WRONG_TEXT_OR_SEQ", 0))
    low = results.get("low", {}).get("outcomes", {})
    bad += low.get("lost", 0) + low.get("duplicated", 0) + low.get("WRONG_TEXT_OR_SEQ", 0)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
