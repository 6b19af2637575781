#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks that the headline figures of README.md and docs/*.md are what their
committed records say (run by tests/test_docs.py, so a document that drifts
from its record fails `make test`).

Each entry of CHECKS is (document, text as printed with {} where each figure
goes, record under docs/data/, figures). A figure is a key path into the
record, formatted with a format spec, e.g. ("sets[name^100 news].lm_coded_bits",
",") prints 25688 as "25,688"; or a function of the record for a computed
figure, e.g. (lambda r: a / b, ".2f"). The check renders the text from the
record and requires it verbatim in the document.

Key paths: dotted keys; [3] an index; [key=value] the first list item whose
key equals value (numbers compared as numbers); [key^prefix] the first whose
key starts with prefix; several conditions joined by '&'.

    .venv/bin/python bench/check_docs.py          # prints every check, exit 1 on a mismatch

To add a figure: append a line to CHECKS (copy a neighbour).
"""

from __future__ import annotations

import json
import re
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SRC = "docs/data/source.json"
LEAN = "docs/data/source_lean.json"
CTX = "docs/data/context_native.json"
IDLE = "docs/data/engine_idle.json"
LINK = "docs/data/link.json"
RAY = "docs/data/fec_ldpc49_rayleigh.json"
JSCC = "docs/data/jscc_vs_sscc.json"
FEC_ALL = "docs/data/fec_ldpc49_awgn_all.json"
POLAR_SCL = "docs/data/fec_polar64_scl.json"
BCH_ALL = "docs/data/fec_bch63_awgn_all.json"
STUDY = "docs/data/link_code_study.json"

NEWS = "sets[name^100 news]"
EUROPARL = "sets[name^12 Europarl]"
ALICE = "sets[name^alice29]"
CTX_EUROPARL = "sets[set^12 Europarl].lm"
HF1 = "hf.threads_1"
NAT1, NAT2 = "native.threads_1", "native.threads_2"


def fec(decoder, ebn0):
    return f"[decoder={decoder}&ebn0_db={ebn0}].neg_ln_ber"


def mer(channel, decoder, esn0):
    return f"records[channel={channel}&decoder={decoder}&esn0_db={esn0}].mer"


def engine_row(label, metric):
    """A row of docs/engine.md's idle table: HF, native 1 thread, native 2 threads."""
    return ("docs/engine.md", f"| {label} | {{}} | {{}} | **{{}}** |", IDLE,
            [(f"{engine}.{metric}", ".1f") for engine in (HF1, NAT1, NAT2)])


def jscc(scheme, channel, snr, metric):
    return f"[scheme={scheme}&channel={channel}&snr_db={snr}].{metric}"


def link_cliff(scheme, channel, key="energy_per_char_db", target=0.99):
    """A bench_link record's cliff: `key` of the lowest SNR from which every point of the scheme
    has >= target exact sentences (as bench/bench_link.py's summary defines it)."""
    def figure(records):
        pts = sorted((r for r in records if r["scheme"] == scheme and r["channel"] == channel),
                     key=lambda r: r["snr_db"])
        best = None
        for r in reversed(pts):
            if r["exact"] < target:
                break
            best = r
        return best[key]
    return figure


def study_row(label, scheme):
    """A row of docs/results.md's code-study table (AWGN part)."""
    return ("docs/results.md", f"| {label} | {{}} | {{}} dB |", STUDY,
            [(lambda r, s=scheme: next(x["channel_uses"] for x in r if x["scheme"] == s), ".1f"),
             (link_cliff(scheme, "awgn", "snr_db"), "g")])


def classic_over_lm(path):
    """Best classic tool's bits over the LM's bits for one set (the 'x smaller')."""
    return lambda r: min(lookup(r, path + ".classic_bits").values()) / lookup(r, path + ".lm_coded_bits")


# (document, text with {} per figure, record, [(key path or function, format spec), ...])
CHECKS = [
    # README
    ("README.md", "the 12 demo sentences of the reference system in {} bits with every header bit "
     "(reference: {} without headers)", CTX,
     [(CTX_EUROPARL + "[mode=conversation (lean header, period 8)].coded_bits", ","),
      (lambda r: 2477, ",")]),
    ("README.md", "about {} tokens/s on an idle core for the default\n  model", IDLE,
     [(f"{HF1}.encode_1_stream_tok_s", ".0f")]),
    ("README.md", "-ln(BER) {} / {} at Eb/N0 3 / 4 dB\nagainst BP-50's {} / {}", FEC_ALL,
     [(fec("osd2", 3), ".2f"), (fec("osd2", 4), ".2f"), (fec("bp", 3), ".2f"), (fec("bp", 4), ".2f")]),
    ("README.md", "same messages: {} dB of energy per source character, against {} dB with BP-50", STUDY,
     [(link_cliff("lm-sscc-osd2", "awgn"), ".2f"), (link_cliff("lm-sscc-bp", "awgn"), ".2f")]),
    # docs/source_coding.md: compression results (hf run, standard header) and the lean run
    ("docs/source_coding.md", "| alice29.txt, first 16 KB, 5 chunks of 4 KB | 5 | **{}** |", SRC,
     [(ALICE + ".lm_bits_per_char", ".3f")]),
    ("docs/source_coding.md", "| **{}x** smaller than brotli | exact |\n| 100 news", SRC,
     [(ALICE + ".gain_vs_best_classic", ".2f")]),
    ("docs/source_coding.md", "| 100 news sentences (lee_background.cor), each alone | 100 | **{}** |", SRC,
     [(NEWS + ".lm_bits_per_char", ".3f")]),
    ("docs/source_coding.md", "| standard (version 1: 72-bit header, CRC-32; hf engine, docs/data/source.json) "
     "| {} bits, {} bits/char | {}x | {} bits | {}x |", SRC,
     [(NEWS + ".lm_coded_bits", ","), (NEWS + ".lm_bits_per_char", ".3f"),
      (classic_over_lm(NEWS), ".2f"), (EUROPARL + ".lm_coded_bits", ","),
      (classic_over_lm(EUROPARL), ".2f")]),
    ("docs/source_coding.md", "native engine, docs/data/context_native.json) | {} bits |", CTX,
     [("sets[set^100 news].lm[mode=alone (compact header)].coded_bits", ",")]),
    ("docs/source_coding.md", "| **{} bits, {} bits/char** | **{}x** | **{} bits** | **{}x** |", LEAN,
     [(NEWS + ".lm_coded_bits", ","), (NEWS + ".lm_bits_per_char", ".3f"),
      (classic_over_lm(NEWS), ".2f"), (EUROPARL + ".lm_coded_bits", ","),
      (classic_over_lm(EUROPARL), ".2f")]),
    ("docs/source_coding.md", "The 12 Europarl sentences need {} model bits", SRC,
     [(EUROPARL + ".lm_model_bits", ",.0f")]),
    # docs/engine.md: the idle run (the targets)
    *[engine_row(label, metric) for label, metric in [
        ("encode, 1 stream", "encode_1_stream_tok_s"), ("decode, 1 stream", "decode_1_stream_tok_s"),
        ("encode, 8 streams (aggregate)", "encode_8_streams_tok_s"),
        ("decode, 8 streams (aggregate)", "decode_8_streams_tok_s")]],
    ("docs/engine.md", "met with 2\nthreads** ({} / {}), not with 1 ({} / {})", IDLE,
     [(f"{NAT2}.encode_8_streams_tok_s", ".0f"), (f"{NAT2}.decode_8_streams_tok_s", ".0f"),
      (f"{NAT1}.encode_8_streams_tok_s", ".0f"), (f"{NAT1}.decode_8_streams_tok_s", ".0f")]),
    ("docs/engine.md", "Bits/char vs the fp32 model:\n{}% on alice29 (4 KB), +{}% on news sentences", IDLE,
     [("bits_per_char.alice29_4k.change_percent", ".2f"),
      ("bits_per_char.lee_sentences.change_percent", ".2f")]),
    # docs/link.md
    ("docs/link.md", "20 news sentences (lee_background.cor; {} characters and {} LM-message\nbits on average",
     LINK, [("mean_chars", ".1f"), ("mean_lm_message_bits", ".1f")]),
    ("docs/link.md", "| 1 | 9.6 | {} | {} |", LINK,
     [(mer("awgn", "bp", 1), ".2f"), (mer("awgn", "hybrid", 1), ".2f")]),
    ("docs/link.md", "| 2 | 10.6 | {} | {} |", LINK,
     [(mer("awgn", "bp", 2), ".2f"), (mer("awgn", "hybrid", 2), ".2f")]),
    ("docs/link.md", "| 12 | 20.6 | {} | {} |", LINK,
     [(mer("rayleigh", "bp", 12), ".2f"), (mer("rayleigh", "hybrid", 12), ".2f")]),
    ("docs/link.md", "handles **{} messages/s**; the full loopback\nflowgraph with the default LM handles "
     "**{} messages/s**", LINK,
     [("modem_only_bp.messages_per_s", ".0f"), ("flowgraph_default_model.messages_per_s", ".2f")]),
    # docs/channel_coding.md: the summary claims
    ("docs/channel_coding.md", "**met**: OSD-2 {} / {} vs BP-50 {} / {} (**+{} / +{}**", FEC_ALL,
     [(fec("osd2", 3), ".2f"), (fec("osd2", 4), ".2f"), (fec("bp", 3), ".2f"), (fec("bp", 4), ".2f"),
      (lambda r: lookup(r, fec("osd2", 3)) - lookup(r, fec("bp", 3)), ".2f"),
      (lambda r: lookup(r, fec("osd2", 4)) - lookup(r, fec("bp", 4)), ".2f")]),
    ("docs/channel_coding.md", "| osd2 | {} (354/8192) | {} (200/24576) | {} (201/266240) |", FEC_ALL,
     [(fec("osd2", e), ".2f") for e in (2, 3, 4)]),
    ("docs/channel_coding.md", "| bp | {} (1143/4096) | {} (367/4096) | {} (206/12288) |", FEC_ALL,
     [(fec("bp", e), ".2f") for e in (2, 3, 4)]),
    ("docs/channel_coding.md", "| scl8 | {} (339/4096) | {} (235/12288) | {} (200/77824) |", POLAR_SCL,
     [(fec("scl8", e), ".2f") for e in (2, 3, 4)]),
    ("docs/channel_coding.md", "| osd2 | {} (222/8192) | {} (203/102400) | {} (17/200000) |", BCH_ALL,
     [(fec("osd2", e), ".2f") for e in (3, 4, 5)]),
    ("docs/channel_coding.md", "| bp | 2.85 (1446/4096) | {} (586/8192) |", RAY,
     [(fec("bp", 6), ".2f")]),
    ("docs/channel_coding.md", "| ecct | 2.49 (3400/4096) | {} (2701/4096) |", POLAR_SCL,
     [(fec("ecct", 3), ".2f")]),
    ("docs/channel_coding.md", "| Polar(64,32), **shipped ECCT (fine-tuned)** | {} | {} | {} |",
     "docs/data/fec_polar64_ecct.json", [(fec("ecct:ecct_POLAR_N64_K32_awgn_ft", e), ".2f") for e in (4, 5, 6)]),
    ("docs/channel_coding.md", "| BCH(63,45), BP-50 | {} | {} | {} |\n| BCH(63,45), **shipped ECCT** | {} | {} | {} |",
     "docs/data/fec_bch63_ecct.json", [(fec("bp", e), ".2f") for e in (4, 5, 6)]
     + [(fec("ecct:ecct_BCH_N63_K45_awgn", e), ".2f") for e in (4, 5, 6)]),
    # docs/results.md: the AWGN rows of the main table (exact / BLEU-4 at -4, -2, 0, 1 dB)
    ("docs/results.md", "| lm-sscc-ecct | 659 | {} / {} | {} / {} | {} / {} | {} / {} |", JSCC,
     [(jscc("lm-sscc-ecct", "awgn", snr, metric), ".2f") for snr in (-4, -2, 0, 1)
      for metric in ("exact", "bleu4")]),
    ("docs/results.md", "| jscc | 256 | {} / {} | {} / {} | {} / {} | {} / {} |", JSCC,
     [(jscc("jscc", "awgn", snr, metric), ".2f") for snr in (-4, -2, 0, 1)
      for metric in ("exact", "bleu4")]),
    # docs/results.md: the code study (channel uses and the AWGN cliff of each scheme)
    study_row("lm-sscc-osd2 (LDPC(49,24), OSD-2)", "lm-sscc-osd2"),
    study_row("lm-sscc-hybrid (LDPC(49,24), BP + ECCT restarts)", "lm-sscc-hybrid"),
    study_row("lm-sscc-bp (LDPC(49,24), BP-50)", "lm-sscc-bp"),
    study_row("lm-sscc-osd2@MACKAY_N96_K48 (OSD-2)", "lm-sscc-osd2@MACKAY_N96_K48"),
    study_row("lm-sscc-scl32@POLAR_N128_K64 (SCL-32)", "lm-sscc-scl32@POLAR_N128_K64"),
    study_row("classic-sscc-osd2 (LDPC(49,24), OSD-2)", "classic-sscc-osd2"),
    ("docs/results.md", "| {} dB | **{} dB** | 20 dB | 27.82 dB |\n| lm-sscc-hybrid", STUDY,
     [(link_cliff("lm-sscc-osd2", "awgn", "snr_db"), "g"), (link_cliff("lm-sscc-osd2", "awgn"), ".2f")]),
    # docs/context_coding.md: the main result
    ("docs/context_coding.md", "| **conversation, lean header, keyframes every 8 (default)** | **{}** |", CTX,
     [(CTX_EUROPARL + "[mode=conversation (lean header, period 8)].coded_bits", ",")]),
    ("docs/context_coding.md", "**{} <= 2,477: met**", CTX,
     [(CTX_EUROPARL + "[mode=primed (lean header)].coded_bits", ",")]),
]


class RecordError(Exception):
    pass


_STEP = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")


def _matches(item, condition):
    for cond in condition.split("&"):
        op = "^" if "^" in cond and ("=" not in cond or cond.index("^") < cond.index("=")) else "="
        key, want = cond.split(op, 1)
        have = item.get(key) if isinstance(item, dict) else None
        if have is None:
            return False
        if op == "^":
            if not str(have).startswith(want):
                return False
        elif isinstance(have, (int, float)) and not isinstance(have, bool):
            try:
                if float(want) != float(have):
                    return False
            except ValueError:
                return False
        elif str(have) != want:
            return False
    return True


def lookup(record, path):
    """The value at a key path (see the module docstring)."""
    value = record
    for key, selector in _STEP.findall(path):
        if key:
            if not isinstance(value, dict) or key not in value:
                raise RecordError(f"no key {key!r} in {path}")
            value = value[key]
        elif selector.isdigit():
            value = value[int(selector)]
        else:
            found = [x for x in value if _matches(x, selector)]
            if not found:
                raise RecordError(f"no item [{selector}] in {path}")
            value = found[0]
    return value


_FIXED = re.compile(r",?\.(\d+)f")


def format_figure(value, spec):
    """format(value, spec), but fixed-point figures round half up as people
    do (382.5 -> "383", 3.015 -> "3.02"), not half-to-even on the binary value."""
    match = _FIXED.fullmatch(spec)
    if match and isinstance(value, (int, float)):
        digits = Decimal(1).scaleb(-int(match.group(1)))
        value = Decimal(repr(value)).quantize(digits, rounding=ROUND_HALF_UP)
    return format(value, spec)


def render(record, text, figures):
    values = [(f(record) if callable(f) else lookup(record, f)) for f, _ in figures]
    return text.format(*(format_figure(v, spec) for v, (_, spec) in zip(values, figures)))


def run_checks(checks=CHECKS, repo=REPO):
    """(document, expected text, ok, note) for every check."""
    records, docs, results = {}, {}, []
    for doc, text, record_path, figures in checks:
        try:
            if record_path not in records:
                records[record_path] = json.loads((repo / record_path).read_text(encoding="utf-8"))
            if doc not in docs:
                docs[doc] = (repo / doc).read_text(encoding="utf-8")
            expected = render(records[record_path], text, figures)
        except (OSError, ValueError, RecordError, KeyError, IndexError, TypeError) as e:
            results.append((doc, text, False, f"cannot evaluate against {record_path}: {e}"))
            continue
        ok = expected in docs[doc]
        results.append((doc, expected, ok, record_path if ok else
                        f"not found in {doc}; {record_path} gives this text"))
    return results


def main():
    results = run_checks()
    for doc, expected, ok, note in results:
        flat = " ".join(expected.split())
        print(f"{'ok  ' if ok else 'FAIL'} {doc}: {flat!r} ({note})")
    failed = sum(not ok for *_, ok, _ in results)
    print(f"{len(results) - failed} of {len(results)} figures match their records")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
