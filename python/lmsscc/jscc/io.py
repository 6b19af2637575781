# SPDX-License-Identifier: GPL-3.0-or-later
"""Safe save/load of the text JSCC: safetensors weights (fp16 to keep the shipped file small,
loaded back as fp32) + a JSON card holding the configuration, the vocabulary and the training record.
No pickle anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .model import JSCCConfig, TextJSCC
from .vocab import Vocab

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_NAME = "jscc_text"


def save_jscc(model: TextJSCC, vocab: Vocab, card: dict, path_stem: Path, half: bool = True) -> None:
    path_stem = Path(path_stem)
    tensors = {k: (v.half() if half and v.is_floating_point() else v).contiguous().cpu()
               for k, v in model.state_dict().items()}
    save_file(tensors, str(path_stem.with_suffix(".safetensors")))
    card = dict(card, config=model.cfg.to_dict(), vocab=vocab.tokens)
    path_stem.with_suffix(".json").write_text(json.dumps(card, indent=1))


def resolve(name_or_path=None) -> Path:
    """A path stem: a bare name is looked up in the package's weights folder."""
    p = Path(name_or_path or DEFAULT_NAME)
    if p.suffix in (".json", ".safetensors"):
        p = p.with_suffix("")
    if not p.with_suffix(".json").exists() and (WEIGHTS_DIR / p.name).with_suffix(".json").exists():
        p = WEIGHTS_DIR / p.name
    return p


def load_jscc(name_or_path=None, device: str = "cpu") -> tuple[TextJSCC, Vocab, dict]:
    """(model in eval mode, vocabulary, card) from weights/<name>.{safetensors,json} or a path."""
    stem = resolve(name_or_path)
    card = json.loads(stem.with_suffix(".json").read_text())
    vocab = Vocab(card["vocab"])
    model = TextJSCC(JSCCConfig(**card["config"]))
    state = {k: v.float() if v.is_floating_point() else v
             for k, v in load_file(str(stem.with_suffix(".safetensors"))).items()}
    model.load_state_dict(state)
    return model.to(device).eval(), vocab, card
