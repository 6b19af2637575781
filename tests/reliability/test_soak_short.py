"""A short soak (bench/soak.py has the long one): messages through the
loopback flowgraph; at high SNR none lost, duplicated or wrong, at low SNR
every burst accounted for by one report and every failure by its stage."""

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


def test_high_snr_none_lost_duplicated_or_wrong(soak, tiny_lm):
    r = soak.soak(tiny_lm, esn0_db=12, n=80, seed=5, warmup=10)
    assert r["outcomes"] == {"ok": 80, "lost": 0, "duplicated": 0, "unexpected_reports": 0}, r
    assert r["rx_stats"]["dropped"] == 0 and r["channel_stats"]["dropped"] == 0
    assert r["rss_growth_mb"] < 25, r["rss_mb"]  # 80 messages: a leak of whole bursts would show


def test_low_snr_every_failure_accounted_for(soak, tiny_lm):
    r = soak.soak(tiny_lm, esn0_db=0.0, n=40, seed=6, warmup=0)
    out = r["outcomes"]
    assert out["lost"] == 0 and out["duplicated"] == 0 and out["unexpected_reports"] == 0, r
    assert "WRONG_TEXT_OR_SEQ" not in out
    assert out.get("ok", 0) + out.get("failed", 0) == 40
    assert out.get("failed", 0) > 0  # 0 dB Es/N0 must cost some messages
    assert sum(r["failures_by_stage"].values()) == out["failed"]
    assert not [k for k in r["failures_by_stage"] if k.startswith("other")], r["failures_by_stage"]
