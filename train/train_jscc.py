#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Train the DeepSC-style text JSCC (python/lmsscc/jscc) on the offline corpora.

    nice -n 10 .venv/bin/python train/train_jscc.py --minutes 25 \
        --out python/lmsscc/weights/jscc_text

Mixed-SNR, mixed-channel training (steps cycle through --fading: by default AWGN and Rayleigh
block fading, python/lmsscc/phy/channels.py; per-symbol SNR uniform in [--snr-min, --snr-max] dB
per sentence). Checkpoints (safetensors + JSON, no pickle) every
--checkpoint-minutes to .cache/jscc_ckpt/ (or --checkpoint); --resume continues from them.
The final card records the hyper-parameters, samples seen, wall time and test metrics.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent


def _source_tree_package():
    """Make the source tree importable as gnuradio.lmsscc without its C++ kernels (training needs
    no `make install`); its subpackages import each other relatively, as installed."""
    import types

    if "gnuradio" not in sys.modules:
        try:
            import gnuradio  # noqa: F401
        except ImportError:
            sys.modules["gnuradio"] = types.ModuleType("gnuradio")
    package = types.ModuleType("gnuradio.lmsscc")
    package.__path__ = [str(REPO / "python" / "lmsscc")]
    sys.modules["gnuradio.lmsscc"] = package


try:  # the installed module, else the source tree
    import gnuradio.lmsscc.jscc  # noqa: F401
except ImportError:
    _source_tree_package()
from gnuradio.lmsscc import ddp  # noqa: E402
from gnuradio.lmsscc.jscc import data, evaluate, io  # noqa: E402
from gnuradio.lmsscc.jscc.model import JSCCConfig, TextJSCC  # noqa: E402
from gnuradio.lmsscc.jscc.vocab import Vocab  # noqa: E402
from gnuradio.lmsscc.phy.channels import FADING  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(REPO / "python/lmsscc/weights/jscc_text"), help="path stem")
    p.add_argument("--minutes", type=float, default=25.0, help="training wall-time budget")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=150, help="steps of linear warm-up")
    p.add_argument("--words", type=int, default=6000, help="whole words in the vocabulary")
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--ff", type=int, default=384)
    p.add_argument("--symbols-per-token", type=int, default=4)
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--snr-min", type=float, default=-2.0)
    p.add_argument("--snr-max", type=float, default=20.0)
    p.add_argument("--fading", nargs="+", choices=FADING, default=["none", "block"],
                   help="fading modes the training steps cycle through (and the card's metrics cover)")
    p.add_argument("--checkpoint-minutes", type=float, default=3.0)
    p.add_argument("--checkpoint", help="checkpoint path stem (default: .cache/jscc_ckpt/<name of --out>);"
                   " kept out of the weights folder, which is installed and shipped")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-sentences", type=int, default=400, help="held-out sentences for the card")
    p.add_argument("--corpora", default=str(REPO / ".cache" / "corpora"))
    ddp.add_cli_options(p)
    return p.parse_args(argv)


def load_splits(args):
    """Train on news + wiki training splits; the test split is kept for the card's metrics."""
    corpora = data.corpus_sentences(Path(args.corpora))
    train, test = [], []
    for sents in corpora.values():
        tr, te = data.train_test_split(sents)
        train += tr
        test += te
    return train, test


def to_ids(vocab, sentences, max_len):
    """Token id lists (with </s>) of the sentences that fit max_len positions."""
    out = []
    for s in sentences:
        ids = vocab.encode(s) + [vocab.eos]
        if len(ids) <= max_len:
            out.append(ids)
    return out


def batches(seqs, batch, rng):
    """Batches of similar length (cheaper: each batch is cut to its longest sentence)."""
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]) + rng.random() * 6)
    chunks = [order[i:i + batch] for i in range(0, len(order), batch)]
    rng.shuffle(chunks)
    for chunk in chunks:
        n = max(len(seqs[i]) for i in chunk)
        yield torch.tensor([seqs[i] + [0] * (n - len(seqs[i])) for i in chunk])


def loss_fn(logits, ids):
    """Cross-entropy on the tokens and the </s>; later pad positions are ignored (the receiver
    stops at the first </s>)."""
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids.reshape(-1),
                                             ignore_index=0)


def save_checkpoint(stem, model, opt, state):
    tensors = {"model." + k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    names = {p: n for n, p in model.named_parameters()}
    for p, st in opt.state.items():
        for key in ("exp_avg", "exp_avg_sq"):
            tensors[f"opt.{key}.{names[p]}"] = st[key].detach().cpu().contiguous()
        state["adam_step"] = int(st["step"])
    save_file(tensors, str(stem) + ".ckpt.safetensors")
    Path(str(stem) + ".ckpt.json").write_text(json.dumps(state, indent=1))


def load_checkpoint(stem, model, opt):
    tensors = load_file(str(stem) + ".ckpt.safetensors")
    state = json.loads(Path(str(stem) + ".ckpt.json").read_text())
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    for n, p in model.named_parameters():
        opt.state[p] = {"step": torch.tensor(float(state["adam_step"])),
                        "exp_avg": tensors[f"opt.exp_avg.{n}"].to(p.device),
                        "exp_avg_sq": tensors[f"opt.exp_avg_sq.{n}"].to(p.device)}
    return state


def lr_at(args, step, frac_time):
    """Linear warm-up, then cosine decay over the wall-time budget (to 5% of the peak)."""
    warm = min(1.0, (step + 1) / args.warmup)
    return args.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac_time))))


def train_step(model, opt, ids, snr, fading):
    """One AdamW step on a batch of token ids; returns the loss (a float)."""
    model.train()
    loss = loss_fn(model(ids, snr, fading), ids)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


def train_in_process(args, model, opt, seqs, rng, state, ckpt):
    """The single-process loop: until the wall-time budget is spent, checkpoints on the way."""
    budget = args.minutes * 60
    t0, last_ckpt = time.time() - state["seconds"], time.time()
    bar = tqdm(total=int(budget), unit="s", file=sys.stderr, initial=int(state["seconds"]))
    ema = None
    done = False
    while not done:
        for ids in batches(seqs, args.batch, rng):
            elapsed = time.time() - t0
            if elapsed >= budget:
                done = True
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(args, state["step"], elapsed / budget)
            ids = ids.to(args.device)
            snr = torch.empty(ids.shape[0]).uniform_(args.snr_min, args.snr_max)
            fading = args.fading[state["step"] % len(args.fading)]
            loss = train_step(model, opt, ids, snr.to(args.device), fading)
            state["step"] += 1
            state["samples"] += ids.shape[0]
            state["seconds"] = time.time() - t0
            ema = loss if ema is None else 0.98 * ema + 0.02 * loss
            bar.n = int(min(budget, state["seconds"]))
            bar.set_postfix(step=state["step"], loss=f"{ema:.3f}")
            if time.time() - last_ckpt > args.checkpoint_minutes * 60:
                save_checkpoint(ckpt, model, opt, state)
                last_ckpt = time.time()
    bar.close()
    save_checkpoint(ckpt, model, opt, state)


# -- --workers N: data-parallel training on Ray Train (python/lmsscc/ddp.py) --------------------------
def ddp_worker_loop(config):
    """One Ray Train worker. Every worker walks the same global batches (same shuffling seed) and
    trains on its rows of each (rows rank, rank + N, ...); SNRs are drawn per worker. Rank 0's
    clock sets the learning rate and the stop for all (ddp.shared_schedule)."""

    args, seqs = argparse.Namespace(**config["args"]), config["seqs"]
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)                    # the same initial weights on every worker
    rank, size = ddp.world()
    model = ddp.prepare(TextJSCC(JSCCConfig(**config["model_config"])))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    torch.manual_seed(args.seed * 1_000_003 + 7_919 * rank)     # this worker's SNR draws
    rng, state, t0 = random.Random(args.seed), {"step": 0, "samples": 0, "seconds": 0.0, "workers": size}, time.time()
    budget = args.minutes * 60
    while True:
        for ids in batches(seqs, args.batch, rng):
            progress = ddp.shared_schedule((time.time() - t0) / budget)
            if progress >= 1.0:
                state["seconds"] = time.time() - t0
                return ddp.report_final(model, state)
            for g in opt.param_groups:
                g["lr"] = lr_at(args, state["step"], progress)
            mine = ids[rank::size]
            if mine.shape[0] == 0:              # a last batch smaller than the worker count
                mine = ids[:1]
            snr = torch.empty(mine.shape[0]).uniform_(args.snr_min, args.snr_max)
            train_step(model, opt, mine, snr, args.fading[state["step"] % len(args.fading)])
            state["step"] += 1
            state["samples"] += ids.shape[0]


def train_with_workers(args, model, vocab, seqs, state):
    """Train `model` on --workers Ray Train workers; loads the result into it, returns the state
    (no checkpoints or --resume on this path)."""
    from dataclasses import asdict


    if args.resume or args.device != "cpu":
        raise SystemExit("--workers: fresh CPU runs only (no --resume, no --device)")
    weights, got = ddp.fit(ddp_worker_loop, {"args": vars(args), "seqs": seqs, "model_config": asdict(model.cfg)},
                           args.workers, ray_address=args.ray, name=f"train_jscc_{Path(args.out).name}", storage=args.ray_storage)
    model.load_state_dict(weights)
    print(f"{args.workers} worker(s): {got['samples']} samples in {got['seconds']:.1f} s, "
          f"{got['samples'] / got['seconds']:,.0f} samples/s", file=sys.stderr)
    return {**state, **got, "vocab": vocab.tokens}


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    stem = Path(args.out)
    ckpt = Path(args.checkpoint) if args.checkpoint else REPO / ".cache" / "jscc_ckpt" / stem.name
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    train, test = load_splits(args)
    ckpt_json = Path(str(ckpt) + ".ckpt.json")
    if args.resume and ckpt_json.exists():
        vocab = Vocab(json.loads(ckpt_json.read_text())["vocab"])
    else:
        vocab = Vocab.build(train, args.words)
    cfg = JSCCConfig(len(vocab), args.max_len, args.d_model, 4, args.layers, args.ff, args.symbols_per_token)
    model = TextJSCC(cfg).to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    state = {"step": 0, "samples": 0, "seconds": 0.0, "vocab": vocab.tokens, "args": vars(args)}
    if args.resume and ckpt_json.exists():
        state = load_checkpoint(ckpt, model, opt)
        print(f"resumed at step {state['step']}, {state['samples']} samples", file=sys.stderr)
    seqs = to_ids(vocab, train, cfg.max_len)
    print(f"{len(seqs)} training sentences (of {len(train)}), vocab {len(vocab)}, "
          f"{sum(p.numel() for p in model.parameters())/1e6:.2f} M parameters", file=sys.stderr)
    if args.workers:
        state = train_with_workers(args, model, vocab, seqs, state)
    else:
        train_in_process(args, model, opt, seqs, rng, state, ckpt)
    model.eval()
    metrics = evaluate.evaluate(model, vocab, test[:args.eval_sentences], snrs=(0, 5, 10, 20),
                                fadings=args.fading)
    card = {"model": "DeepSC-style text JSCC (non-autoregressive transformer decoder)",
            "channel_uses_per_sentence": cfg.channel_uses, "training": {
                "corpora": "gensim enwiki excerpt + Lee news (train split, 90% by sentence hash)",
                "sentences": len(seqs), "samples_seen": state["samples"], "steps": state["step"],
                "wall_seconds": round(state["seconds"], 1), "hyper_parameters": vars(args)},
            "test_metrics": metrics,
            "test_set": f"first {min(args.eval_sentences, len(test))} held-out sentences "
                        "(news + wiki test split)"}
    io.save_jscc(model, vocab, card, stem)
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
