# SPDX-License-Identifier: GPL-3.0-or-later
"""The sweep runner (python/lmsscc/sweep.py) behind bench/bench_fec.py: shard seeding, the counted
prefix, the journal (resume after a kill), in-process == Ray, and a two-node loopback Ray cluster
that loses a node mid-sweep."""
import importlib.util
import json
import os
import re
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gnuradio.lmsscc import sweep

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
RAY_BIN = Path(PY).parent / "ray"
has_ray = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not has_ray, reason="ray not installed (requirements.txt)")
COUNTS = ("decoder", "ebn0_db", "frames", "frame_errors", "bit_errors", "coded_bit_errors")
# LDPC(49,24), BP and OSD-2 at 2 and 3 dB: 4 points of <= 32 shards of 128 frames; the BP points
# reach 400 frame errors after ~10 and ~25 shards, the OSD-2 points run all 32 (~100 shards, a few
# seconds in-process: long enough to be killed halfway).
MAX_FRAMES, TARGET = 4096, 400
FEC_ARGS = ["--code", "LDPC_N49_K24", "--ebn0", "2", "3", "--decoders", "bp", "osd2",
            "--max-frames", str(MAX_FRAMES), "--batch", "128", "--min-frame-errors", str(TARGET), "--seed", "7"]


def bench_main(argv):
    return runpy.run_path(str(REPO / "bench" / "bench_fec.py"))["main"](argv)


def counts(records):
    return [tuple(r[k] for k in COUNTS) for r in records]


@pytest.fixture
def ray_dir():
    """A short session folder for Ray: its socket paths must stay under 107 bytes."""
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="lmray", dir="/tmp")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_ray():
    """One local Ray instance (2 CPUs) for the in-process tests: the apps join it instead of
    starting their own (and leave it running)."""
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="lmray", dir="/tmp")
    ray, started = sweep.init_ray("local", num_cpus=2, temp_dir=path, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The in-process sweep of FEC_ARGS (no journal, no Ray)."""
    out = tmp_path_factory.mktemp("ref") / "ref.json"
    bench_main(FEC_ARGS + ["--json", str(out)])
    return json.loads(out.read_text())


# -- the runner alone ---------------------------------------------------------------------------
def test_shard_seed_depends_on_seed_key_and_shard_only():
    draw = lambda *a: np.random.default_rng(sweep.shard_seed(*a)).integers(0, 2**62)
    assert draw(1, "a", 0) == draw(1, "a", 0)
    assert len({draw(1, "a", 0), draw(1, "a", 1), draw(1, "b", 0), draw(2, "a", 0)}) == 4


def test_counted_prefix_is_the_shortest_prefix_reaching_the_target():
    errors = lambda r: r["e"]
    res = {0: {"e": 3}, 1: {"e": 0}, 2: {"e": 5}, 4: {"e": 9}}
    assert sweep.counted_prefix(res, 6, errors, 8) == 3           # shard 4 finished but is not counted
    assert sweep.counted_prefix(res, 6, errors, 9) is None        # shard 3 still missing
    assert sweep.counted_prefix({0: {"e": 0}, 1: {"e": 0}}, 2, errors, 5) == 2   # all shards, short of it
    assert sweep.counted_prefix({0: {"e": 1}}, 1, errors, None) == 1


def toy_task(params, shard, seed):
    return {"errors": int(np.random.default_rng(seed).integers(0, params["p"] + 1)), "shards": 1}


def test_journal_resume_runs_only_missing_shards_and_ignores_a_cut_line(tmp_path):
    points = [sweep.Point({"p": p}, 20) for p in (1, 3)]
    run = lambda journal: sweep.Sweep(points, toy_task, errors=lambda r: r["errors"], target=15, seed=3,
                                      journal=journal).run()
    full = run(None)
    journal = tmp_path / "j.jsonl"
    run(journal)
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:5]) + "\n" + lines[5][:17])      # killed mid-line
    again = run(journal)
    assert again.counted == full.counted
    assert again.reused == 5 and again.executed == full.executed - 5


def test_points_with_equal_parameters_are_refused():
    with pytest.raises(ValueError, match="same parameters"):
        sweep.Sweep([sweep.Point({"p": 1}, 2)] * 2, toy_task, errors=len, target=1, seed=0)
    with pytest.raises(ValueError, match="at least one shard"):
        sweep.Point({"p": 1}, 0)


# -- bench_fec: in-process, Ray, killed and restarted -------------------------------------------
def bench_cmd(*extra):
    return [PY, str(REPO / "bench" / "bench_fec.py"), *FEC_ARGS, *map(str, extra)]


def run_lines(journal):
    """Journal lines per run id, and the set of (point, shard) they hold."""
    per_run, cells = {}, []
    for line in journal.read_text().splitlines():
        entry = json.loads(line)
        per_run[entry["run"]] = per_run.get(entry["run"], 0) + 1
        cells.append((entry["point"], entry["shard"]))
    return per_run, cells


def wait_for_lines(journal, n, proc, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if journal.exists() and len(journal.read_text().splitlines()) >= n:
            return
        if proc.poll() is not None:
            raise AssertionError(f"sweep ended before {n} shards: {proc.stderr.read()[-2000:]}")
        time.sleep(0.05)
    raise AssertionError(f"no {n} journal lines after {timeout} s")


@needs_ray
def test_ray_local_gives_the_in_process_counts(tmp_path, reference, shared_ray):
    out = tmp_path / "ray.json"
    bench_main(FEC_ARGS + ["--json", str(out), "--ray", "local"])
    assert shared_ray.is_initialized()                          # joined the fixture's instance
    records = json.loads(out.read_text())
    assert counts(records) == counts(reference)
    assert [r["frame_errors"] >= TARGET or r["frames"] == MAX_FRAMES for r in records] == [True] * 4
    assert len({r["frames"] for r in records}) > 1            # the points stopped at different shards


@needs_ray
def test_killed_in_process_sweep_restarted_on_ray_local_recomputes_nothing(tmp_path, reference, ray_dir):
    journal = tmp_path / "j.jsonl"
    first = subprocess.Popen(bench_cmd("--journal", journal), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    wait_for_lines(journal, 10, first)
    first.kill()
    first.wait()
    written = len(journal.read_text().splitlines())
    out = tmp_path / "resumed.json"
    r = subprocess.run(bench_cmd("--journal", journal, "--json", out, "--ray", "local", "--ray-cpus", 2,
                                 "--ray-temp-dir", ray_dir),
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    assert counts(json.loads(out.read_text())) == counts(reference)          # none lost
    per_run, cells = run_lines(journal)
    assert len(cells) == len(set(cells))                                    # none recomputed
    assert len(per_run) == 2 and sum(per_run.values()) == len(cells)
    executed, reused = map(int, re.search(r"sweep: (\d+) shards run, (\d+) taken", r.stdout).groups())
    assert written < len(cells)                                             # killed halfway
    assert executed == len(cells) - written and reused >= 1


# -- a two-node cluster on loopback --------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_node_cluster(ray_dir):
    """`ray start --head` and a second `ray start --address` on this machine, each node of one CPU,
    advertised on a loopback address, without dashboard, with a token of the test's own. Each runs
    in a session of its own, so the test stops exactly its processes (not every Ray on the machine,
    as `ray stop` would)."""
    ip, port = sweep.LOCAL_NODE_IP, free_port()
    env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32),
               RAY_USAGE_STATS_ENABLED="0")
    common = ["--num-cpus", "1", "--node-ip-address", ip, "--disable-usage-stats"]
    head = subprocess.Popen([str(RAY_BIN), "start", "--head", "--port", str(port), "--include-dashboard=false",
                             "--temp-dir", str(ray_dir), *common],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    if head.wait(timeout=120) != 0:
        pytest.fail(f"ray start --head failed: {head.stderr.read()[-2000:]}")
    worker = subprocess.Popen([str(RAY_BIN), "start", "--address", f"{ip}:{port}", "--block", *common],
                              env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        yield {"address": f"{ip}:{port}", "env": env, "worker": worker}
    finally:
        for pgid in (worker.pid, head.pid):     # the session leaders' groups hold each node's processes
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        worker.wait()


def wait_for_nodes(address, env, n, timeout=90):
    probe = ("import ray, sys, time\n"
             f"ray.init(address={address!r}, _node_ip_address={address.split(':')[0]!r}, log_to_driver=False)\n"
             "t0 = time.time()\n"
             f"while sum(x['Alive'] for x in ray.nodes()) < {n} and time.time() - t0 < {timeout}:\n"
             "    time.sleep(0.5)\n"
             "print(sorted({x['NodeManagerAddress'] for x in ray.nodes() if x['Alive']}),"
             " sum(x['Alive'] for x in ray.nodes()))\n")
    r = subprocess.run([PY, "-c", probe], env=env, capture_output=True, text=True, timeout=timeout + 60)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip()


@needs_ray
def test_two_node_cluster_loses_a_node_mid_sweep_and_loses_no_shard(tmp_path, reference, two_node_cluster):
    cluster = two_node_cluster
    # Both nodes up and advertised on loopback only.
    assert wait_for_nodes(cluster["address"], cluster["env"], 2) == f"['{sweep.LOCAL_NODE_IP}'] 2"
    journal, out = tmp_path / "j.jsonl", tmp_path / "cluster.json"
    proc = subprocess.Popen(bench_cmd("--journal", journal, "--json", out, "--ray", cluster["address"]),
                            env=cluster["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_lines(journal, 10, proc)
    os.killpg(cluster["worker"].pid, signal.SIGKILL)            # the second node dies with its tasks
    at_kill = len(journal.read_text().splitlines())
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    assert counts(json.loads(out.read_text())) == counts(reference)
    _, cells = run_lines(journal)
    assert len(cells) == len(set(cells)) and at_kill < len(cells)    # the head ran the rest


# -- --workers: data-parallel training on Ray Train ---------------------------------------------
def test_local_batches_add_up_to_the_global_batch():
    from gnuradio.lmsscc import ddp
    assert [ddp.local_batch(130, r, 4) for r in range(4)] == [33, 33, 32, 32]
    with pytest.raises(ValueError, match="smaller than --workers"):
        ddp.local_batch(1, 0, 2)


@needs_ray
def test_train_ecct_on_two_workers_trains_with_the_global_batch(tmp_path, shared_ray, capsys):
    from gnuradio.lmsscc.fec.decoders import ECCTDecoder
    from gnuradio.lmsscc.fec.weights import load_ecct

    stem = tmp_path / "ddp"
    train = runpy.run_path(str(REPO / "train" / "train_ecct.py"))["main"]
    train(["--code", "BCH_N31_K16", "--layers", "1", "--d-model", "8", "--heads", "2", "--steps", "12",
           "--batch", "32", "--eval-ebn0", "5", "--eval-frames", "200", "--eval-decoders", "ecct",
           "--out", str(stem), "--workers", "2"])
    assert "2 worker(s): 384 samples in" in capsys.readouterr().out
    card = json.loads(stem.with_suffix(".json").read_text())
    assert card["data_parallel_workers"] == 2
    assert card["training"]["steps"] == 12 and card["training"]["samples_seen"] == 12 * 32
    trained, _, code = load_ecct(str(stem.with_suffix(".safetensors")))
    import torch
    from gnuradio.lmsscc.fec.ecct import ECCT
    torch.manual_seed(0)                                   # the workers' initial weights (--seed 0)
    fresh = ECCT(trained.cfg, code.H).state_dict()
    moved = [k for k, v in trained.state_dict().items() if not torch.equal(v, fresh[k])]
    assert moved, "12 Adam steps left every weight at its initial value"
    assert ECCTDecoder(str(stem.with_suffix(".safetensors"))).decode(np.ones((2, 31), np.float32)).shape == (2, 31)


@needs_ray
@pytest.mark.skipif(not (REPO / ".cache" / "corpora" / "lee_background.cor").exists(),
                    reason="corpora missing: run `make data`")
def test_train_jscc_on_two_workers_writes_a_card_of_the_run(tmp_path, shared_ray):
    from gnuradio.lmsscc.jscc import io

    stem = tmp_path / "jscc_ddp"
    runpy.run_path(str(REPO / "train" / "train_jscc.py"))["main"](
        ["--out", str(stem), "--checkpoint", str(tmp_path / "ckpt"), "--minutes", "0.05", "--d-model", "32",
         "--layers", "1", "--ff", "64", "--words", "300", "--batch", "16", "--eval-sentences", "8",
         "--workers", "2"])
    model, vocab, card = io.load_jscc(stem)
    assert card["training"]["hyper_parameters"]["workers"] == 2
    assert card["training"]["steps"] > 0 and card["training"]["samples_seen"] >= card["training"]["steps"]
    assert model.cfg.d_model == 32 and len(vocab) == model.cfg.vocab_size
