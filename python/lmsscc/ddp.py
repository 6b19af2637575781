# SPDX-License-Identifier: GPL-3.0-or-later
"""Data-parallel training on Ray Train (TorchTrainer, torch DDP over the gloo backend, CPU) for
the trainers' --workers N (train/train_ecct.py, train/train_jscc.py; docs/scale.md).

Each of the N workers runs the app's worker loop on its share of the global batch (batch / N);
DDP averages the gradients, so a step sees the gradient of the whole batch, as single-process
training does (equal in expectation: the workers draw different samples). Rank 0 decides the
schedule (its clock, its step count) and broadcasts it every step, so every worker applies the
same learning rate and all stop together; rank 0 sends the final weights back as a Ray Train
checkpoint. Ray is imported only here.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

WEIGHTS_FILE = "model.safetensors"
STATE_FILE = "state.json"


def add_cli_options(parser):
    """The --workers options shared by the trainers (train/train_ecct.py, train/train_jscc.py)."""
    parser.add_argument("--workers", type=int, default=None,
                        help="data-parallel training on N Ray Train workers (DDP, gloo, CPU), same global "
                             "--batch; fresh runs on the CPU only (docs/scale.md)")
    parser.add_argument("--ray", default="local", help="with --workers: 'local' or a Ray cluster address")
    parser.add_argument("--ray-storage", default=None,
                        help="with --workers on a multi-node cluster: a folder (or URI) all nodes share, for "
                             "the final weights (default: a scratch folder here, removed afterwards)")


def world():
    """(rank, world size) of this worker."""
    import ray.train
    ctx = ray.train.get_context()
    return ctx.get_world_rank(), ctx.get_world_size()


def prepare(model):
    """The model wrapped for DDP (gloo, CPU); unwrapped with world size 1."""
    import ray.train.torch
    return ray.train.torch.prepare_model(model, move_to_device=False)


def local_batch(global_batch: int, rank: int, size: int) -> int:
    """This worker's share of the global batch (the first ranks take the remainder)."""
    if global_batch < size:
        raise ValueError(f"--batch {global_batch} is smaller than --workers {size}")
    return global_batch // size + (1 if rank < global_batch % size else 0)


def shared_schedule(value: float) -> float:
    """Rank 0's value (progress, stop flag...) on every worker: one broadcast per call."""
    import torch
    import torch.distributed as dist
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return value
    t = torch.tensor([float(value)], dtype=torch.float64)
    dist.broadcast(t, src=0)
    return float(t.item())


def report_final(model, state: dict):
    """Rank 0 reports the trained weights and the training state; the other ranks report nothing."""
    import ray.train
    from safetensors.torch import save_file

    rank, _ = world()
    if rank != 0:
        ray.train.report({}, checkpoint=None)
        return
    module = getattr(model, "module", model)
    with tempfile.TemporaryDirectory() as d:
        save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()},
                  str(Path(d) / WEIGHTS_FILE))
        (Path(d) / STATE_FILE).write_text(json.dumps(state))
        ray.train.report({"samples": state.get("samples", 0)}, checkpoint=ray.train.Checkpoint.from_directory(d))


def fit(worker_loop, config: dict, workers: int, *, ray_address: str = "local", storage: str | None = None,
        name: str = "train"):
    """Run worker_loop(config) on `workers` Ray Train workers; returns (state_dict, state) that rank
    0 reported with report_final. ray_address: 'local' (Ray on this machine, loopback) or a
    cluster address; storage: where Ray Train keeps its run folder (shared storage on a cluster)."""
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    import ray.train
    from ray.train.torch import TorchConfig, TorchTrainer
    from safetensors.torch import load_file

    from .sweep import init_ray, ship_by_value

    ship_by_value(worker_loop)
    # Workers' logs stay in the Ray session folder (Ray Train's controller polls the state API,
    # absent without the dashboard, and says so every second); failures still raise here.
    ray, started = init_ray(ray_address, num_cpus=max(workers, os.cpu_count() or 1)
                            if ray_address == "local" else None, log_to_driver=False)
    scratch = None if storage else tempfile.mkdtemp(prefix="lmsscc-train-")   # removed at the end
    try:
        storage = storage or scratch
        trainer = TorchTrainer(worker_loop, train_loop_config=config,
                               scaling_config=ray.train.ScalingConfig(num_workers=workers, use_gpu=False),
                               torch_config=TorchConfig(backend="gloo"),
                               run_config=ray.train.RunConfig(name=name, storage_path=storage))
        result = trainer.fit()
        if result.checkpoint is None:
            raise RuntimeError(f"Ray Train run {name} ended without the final weights: {result.error}")
        with result.checkpoint.as_directory() as d:
            return load_file(str(Path(d) / WEIGHTS_FILE)), json.loads((Path(d) / STATE_FILE).read_text())
    finally:
        if started:
            ray.shutdown()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
