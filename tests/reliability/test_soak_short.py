# SPDX-License-Identifier: GPL-3.0-or-later
"""A short soak (bench/soak.py has the long one): messages through the
loopback flowgraph; at high SNR none lost, duplicated or wrong and resident
memory not growing by a burst a message, at low SNR every burst accounted
for by one report and every failure by its stage."""

import importlib.util
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


@pytest.fixture(scope="module")
def soak():
    spec = importlib.util.spec_from_file_location("lmsscc_bench_soak", SOAK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A soak message is a burst of about 3,500 samples, 28 kB as complex64: a block
# that kept every burst would grow RSS by ~28 kB a message. Without a leak the
# growth after the warm-up measures 1-2 kB a message (the soak's own
# bookkeeping and the allocator's pools), so the limit sits between the two.
MAX_GROWTH_KB_PER_MESSAGE = 8
HIGH_SNR_MESSAGES = 300  # after a 100-message warm-up; ~20 s


def test_high_snr_none_lost_duplicated_or_wrong_and_no_leak(soak, tiny_lm):
    n = HIGH_SNR_MESSAGES
    r = soak.soak(tiny_lm, esn0_db=12, n=n, seed=5, warmup=100)
    assert r["outcomes"] == {"ok": n, "lost": 0, "duplicated": 0, "unexpected_reports": 0}, r
    assert r["rx_stats"]["dropped"] == 0 and r["channel_stats"]["dropped"] == 0
    assert r["rss_growth_kb_per_message"] < MAX_GROWTH_KB_PER_MESSAGE, (
        f"RSS grows {r['rss_growth_kb_per_message']} kB a message: "
        f"{r['rss_after_warmup_mb']} MB after the warm-up, then {r['rss_mb']}")


def test_low_snr_every_failure_accounted_for(soak, tiny_lm):
    r = soak.soak(tiny_lm, esn0_db=0.0, n=40, seed=6, warmup=0)
    out = r["outcomes"]
    assert out["lost"] == 0 and out["duplicated"] == 0 and out["unexpected_reports"] == 0, r
    assert "WRONG_TEXT_OR_SEQ" not in out
    assert out.get("ok", 0) + out.get("failed", 0) == 40
    assert out.get("failed", 0) > 0  # 0 dB Es/N0 must cost some messages
    assert sum(r["failures_by_stage"].values()) == out["failed"]
    assert not [k for k in r["failures_by_stage"] if k.startswith("other")], r["failures_by_stage"]
