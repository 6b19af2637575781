# SPDX-License-Identifier: GPL-3.0-or-later
"""Monte-Carlo sweeps split into shards, run in this process or on a Ray cluster.

A sweep is a list of points (for bench_fec: code, channel, decoder, Eb/N0). Each point is measured
in shards: shard i of a point is one task that draws its random numbers from its own seed,
derived from (global seed, the point's seed key, i) with numpy's SeedSequence spawn keys. A shard's
result therefore does not depend on where, when or next to what it ran, and so neither do the
totals:

  counted shards of a point = the shortest prefix 0..j of its shards whose error sum reaches the
  target, or all of its shards when no prefix does.

The in-process executor runs shards 0, 1, 2, ... and stops at that prefix. The Ray executor keeps
several shards of several points in flight; shards past the prefix that were already running
finish and are journaled, but are not counted. Both return the same counted shards for the same
seed, whatever the number of workers.

Journal (resumption): every finished shard is appended to a JSONL file as one line
{"point", "shard", "seed", "run", "result"}; a restarted sweep with the same journal reads it first
and runs only the shards it lacks (a line cut short by a kill is ignored). A point's identity is
the canonical JSON of its parameters, so changing a parameter never reuses a stale shard.

Ray is imported only when a RayExecutor is built (`--ray local` or `--ray ADDRESS` in the apps).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass
class Point:
    """One measured point. params go to the task (JSON-able); shards is the most shards it may
    take (e.g. max_frames / frames per shard); points sharing a seed_key see the same random
    draws shard by shard (bench_fec: every decoder of an Eb/N0 point sees the same frames)."""
    params: dict
    shards: int
    seed_key: str | None = None
    key: str = field(init=False)

    def __post_init__(self):
        if self.shards < 1:
            raise ValueError(f"a point needs at least one shard, got {self.shards}")
        self.key = json.dumps(self.params, sort_keys=True, separators=(",", ":"))
        if self.seed_key is None:
            self.seed_key = self.key


def shard_seed(global_seed: int, seed_key: str, shard: int) -> np.random.SeedSequence:
    """The shard's own seed: SeedSequence(global seed) spawned at (hash of the seed key, shard)."""
    key_word = int.from_bytes(hashlib.sha256(seed_key.encode()).digest()[:8], "little")
    return np.random.SeedSequence(int(global_seed), spawn_key=(key_word, int(shard)))


def counted_prefix(results: dict, n_shards: int, errors: Callable[[dict], int], target: int | None):
    """Length of the counted prefix of shards if the point is decided by `results` (shard ->
    result), else None. Decided: a prefix of finished shards reaches the target, or all shards
    finished."""
    total = 0
    for i in range(n_shards):
        if i not in results:
            return None
        if target is not None:
            total += errors(results[i])
            if total >= target:
                return i + 1
    return n_shards


class Journal:
    """Append-only JSONL of finished shards; one line per shard, written and flushed at once."""

    def __init__(self, path, global_seed: int):
        self.path = Path(path) if path else None
        self.seed = int(global_seed)
        self.run = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.done: dict[tuple[str, int], dict] = {}
        if self.path and self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:      # the last line of a killed run may be cut short
                    continue
                if entry.get("seed") == self.seed:
                    self.done.setdefault((entry["point"], entry["shard"]), entry["result"])
        self._file = None

    def add(self, point: Point, shard: int, result: dict):
        self.done[(point.key, shard)] = result
        if self.path is None:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a")
        line = json.dumps({"point": point.key, "shard": shard, "seed": self.seed, "run": self.run,
                           "result": result})
        self._file.write(line + "\n")
        self._file.flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class SweepResult:
    """Counted shard results per point (in shard order), and what this run did."""
    counted: list[list[dict]]
    executed: int
    reused: int


def _progress(total, desc):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="shard", file=sys.stderr, mininterval=1.0)


class InProcessExecutor:
    """Runs the shards one after the other in this process (the default)."""

    def run(self, sweep: "Sweep", bar):
        for p_index, point in enumerate(sweep.points):
            shard = 0
            while sweep.decided(p_index) is None:
                sweep.finish(p_index, shard, sweep.run_or_reuse(point, shard), bar)
                shard += 1

    def close(self):
        pass


# Ray rewrites 127.0.0.1 given as a node address to the machine's routable address; any other
# 127/8 address is kept, so a local instance advertises (and its nodes dial) loopback only.
LOCAL_NODE_IP = "127.0.0.2"


def _loopback_host(address: str) -> str | None:
    host = address.rpartition(":")[0] if ":" in address else address
    return host if host.startswith("127.") else None


def init_ray(address: str, num_cpus: int | None = None, temp_dir: str | None = None, **kw):
    """Start ('local') or join (an address) Ray unless this process already has it; returns (the
    ray module, whether this call started it). Also used by the trainers' --workers."""
    import ray

    if ray.is_initialized():
        return ray, False
    if address == "local":
        ray.init(num_cpus=num_cpus, include_dashboard=False, _node_ip_address=LOCAL_NODE_IP,
                 _temp_dir=temp_dir, configure_logging=False, **kw)
    else:
        # A driver beside a loopback cluster must name the same node address.
        ray.init(address=address, _node_ip_address=_loopback_host(address), configure_logging=False, **kw)
    return ray, True


def ship_by_value(fn):
    """A function of a script (apps/...) loaded as a module is not importable on the workers:
    have Ray pickle its module by value, as it does for __main__."""
    import ray

    module = sys.modules.get(fn.__module__)
    if module is not None and not fn.__module__.startswith("gnuradio.") and fn.__module__ != "__main__":
        ray.cloudpickle.register_pickle_by_value(module)


class RayExecutor:
    """Ray tasks, at most `in_flight` at once (default twice the cluster's CPUs). address: 'local'
    starts Ray on this machine (advertised on loopback, no dashboard), else the address of a
    running cluster's head ('auto' or 'HOST:PORT'). A task lost with its node is retried
    (max_retries) on another node; its result is the same, since it depends on its seed alone."""

    def __init__(self, address: str = "local", num_cpus: int | None = None, in_flight: int | None = None,
                 max_retries: int = 3, temp_dir: str | None = None):
        self.ray, self.started_here = init_ray(address, num_cpus, temp_dir, log_to_driver=False)
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        self.in_flight = in_flight or max(2, 2 * cpus)
        self.max_retries = max_retries

    def _remote(self, task):
        ship_by_value(task)
        # retry_exceptions stays off: a task that raises is a bug, not a lost node.
        return self.ray.remote(num_cpus=1, max_retries=self.max_retries)(task)

    def run(self, sweep: "Sweep", bar):
        remote = self._remote(sweep.task)
        # The shared context goes to the object store once; each task gets a reference.
        extra = () if sweep.context is None else (self.ray.put(sweep.context),)
        next_shard = [0] * len(sweep.points)
        pending = {}                                        # ObjectRef -> (point index, shard)

        def submit_round():
            # One more shard for every undecided point per round: points advance together.
            progressed = False
            for p_index, point in enumerate(sweep.points):
                if len(pending) >= self.in_flight:
                    return progressed
                while sweep.decided(p_index) is None and next_shard[p_index] < point.shards:
                    shard = next_shard[p_index]
                    next_shard[p_index] += 1
                    if (point.key, shard) in sweep.journal.done:
                        sweep.finish(p_index, shard, sweep.reuse(point, shard), bar)
                        continue
                    ref = remote.remote(point.params, shard, shard_seed(sweep.seed, point.seed_key, shard), *extra)
                    pending[ref] = (p_index, shard)
                    progressed = True
                    break
            return progressed

        while True:
            while len(pending) < self.in_flight and submit_round():
                pass
            if not pending:
                break
            ready, _ = self.ray.wait(list(pending), num_returns=1)
            p_index, shard = pending.pop(ready[0])
            result = self.ray.get(ready[0])
            sweep.executed += 1
            sweep.journal.add(sweep.points[p_index], shard, result)
            sweep.finish(p_index, shard, result, bar)

    def close(self):
        if self.started_here:
            self.ray.shutdown()


class Sweep:
    """task(params, shard, seed: SeedSequence[, context]) -> JSON-able result dict; errors(result)
    -> int (what the target counts); target None: every shard of every point runs. context: data
    every task reads (e.g. the messages to send), shipped once per sweep; it is not part of a
    point's identity, so put a digest of it in the params when it can change."""

    def __init__(self, points: list[Point], task: Callable, *, errors: Callable[[dict], int] = None,
                 target: int | None, seed: int, journal: str | Path | None = None, desc: str = "sweep",
                 on_point_done: Callable[[int, list[dict]], None] | None = None, context=None):
        if target is not None and errors is None:
            raise ValueError("an error target needs an errors(result) function")
        keys = [p.key for p in points]
        if len(set(keys)) != len(keys):
            raise ValueError("two sweep points have the same parameters")
        self.points, self.task, self.errors, self.target = points, task, errors, target
        self.seed, self.desc, self.on_point_done, self.context = int(seed), desc, on_point_done, context
        self.journal = Journal(journal, seed)
        self.results = [dict() for _ in points]
        self._decided: list[int | None] = [None] * len(points)
        self.executed = self.reused = 0

    def decided(self, p_index):
        return self._decided[p_index]

    def reuse(self, point, shard):
        self.reused += 1
        return self.journal.done[(point.key, shard)]

    def run_or_reuse(self, point, shard):
        if (point.key, shard) in self.journal.done:
            return self.reuse(point, shard)
        seed = shard_seed(self.seed, point.seed_key, shard)
        result = (self.task(point.params, shard, seed) if self.context is None
                  else self.task(point.params, shard, seed, self.context))
        self.executed += 1
        self.journal.add(point, shard, result)
        return result

    def finish(self, p_index, shard, result, bar):
        """Record one shard; when its point becomes decided, shrink the bar's total to the shards
        the point really needed and report the point."""
        self.results[p_index][shard] = result
        bar.update(1)
        if self._decided[p_index] is not None:      # a shard in flight past the counted prefix
            bar.total += 1                          # (the total had dropped it when the point decided)
            return
        point = self.points[p_index]
        prefix = counted_prefix(self.results[p_index], point.shards, self.errors, self.target)
        if prefix is None:
            return
        self._decided[p_index] = prefix
        finished_beyond = sum(1 for s in self.results[p_index] if s >= prefix)
        bar.total -= point.shards - prefix - finished_beyond
        bar.refresh()
        if self.on_point_done:
            self.on_point_done(p_index, [self.results[p_index][i] for i in range(prefix)])

    def run(self, executor=None) -> SweepResult:
        executor = executor or InProcessExecutor()
        bar = _progress(sum(p.shards for p in self.points), self.desc)
        try:
            executor.run(self, bar)
        finally:
            bar.close()
            self.journal.close()
        counted = [[self.results[i][s] for s in range(self._decided[i])] for i in range(len(self.points))]
        return SweepResult(counted, self.executed, self.reused)


def sum_results(results: list[dict]) -> dict:
    """Field-wise sum of shard results (numbers added, lists concatenated in shard order)."""
    total: dict = {}
    for r in results:
        for k, v in r.items():
            if isinstance(v, list):
                total.setdefault(k, []).extend(v)
            else:
                total[k] = total.get(k, 0) + v
    return total


def make_executor(args):
    """From the options of add_cli_options: in-process without --ray, else Ray (imported here,
    only then)."""
    if not args.ray:
        return InProcessExecutor()
    return RayExecutor(args.ray, num_cpus=args.ray_cpus, temp_dir=args.ray_temp_dir)


def add_cli_options(parser):
    """The sweep options shared by the benchmark apps."""
    g = parser.add_argument_group("sweep (sharding, Ray, resumption; docs/scale.md)")
    g.add_argument("--ray", default=None, metavar="local|ADDRESS",
                   help="run the shards as Ray tasks: 'local' starts Ray on this machine, otherwise the "
                        "address of a running cluster (e.g. 127.0.0.1:6379 or auto); default in-process")
    g.add_argument("--ray-cpus", type=int, default=None, help="CPUs of a --ray local instance (default all)")
    g.add_argument("--ray-temp-dir", default=None, help="session folder of a --ray local instance")
    g.add_argument("--journal", default=None, metavar="JSONL",
                   help="append each finished shard here; a restarted sweep skips the shards it holds")
    return g
