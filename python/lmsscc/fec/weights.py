# SPDX-License-Identifier: GPL-3.0-or-later
"""Saving and loading ECCT weights: safetensors tensors + a JSON model card. No pickles anywhere."""
from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file, save_file

from .codes import load_code
from .ecct import ECCT, ECCTConfig

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"


def weights_name(code_name: str, channel: str) -> str:
    return f"ecct_{code_name}_{channel}"


def weights_for(code, weights=None):
    """`weights` (a shipped name or a path), or the code's shipped AWGN weights."""
    return weights or weights_name(code.name, "awgn")


def require_same_code(trained_code, code, weights) -> None:
    """ValueError unless weights trained for `trained_code` fit `code` (same H)."""
    if trained_code.sha256 != code.sha256:
        raise ValueError(f"weights {weights} were trained for {trained_code.name}, not {code.name}")


def save_ecct(model: ECCT, path_stem, card: dict) -> tuple[Path, Path]:
    """Write PATH.safetensors and PATH.json (the card must name the code and the config)."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    st_path = stem.with_suffix(".safetensors")
    save_file(tensors, str(st_path), metadata={"format": "pt", "code": card["code"]})
    json_path = stem.with_suffix(".json")
    json_path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return st_path, json_path


def resolve_weights(name_or_path) -> Path:
    """A .safetensors path, a path stem, or a shipped name such as ecct_LDPC_N49_K24_awgn."""
    p = Path(name_or_path)
    for cand in (p, p.with_suffix(".safetensors"), WEIGHTS_DIR / f"{p.name}.safetensors",
                 WEIGHTS_DIR / p.name):
        if cand.is_file() and cand.suffix == ".safetensors":
            return cand
    shipped = ", ".join(shipped_weights())
    raise FileNotFoundError(f"no ECCT weights {name_or_path!r}; shipped: {shipped or 'none'}")


def load_ecct(name_or_path, device: str = "cpu"):
    """Load (model, card, code). Refuses weights whose card's code hash does not match H."""
    st_path = resolve_weights(name_or_path)
    card = json.loads(st_path.with_suffix(".json").read_text())
    code = load_code(card["code"])
    if card.get("code_sha256") and card["code_sha256"] != code.sha256:
        raise ValueError(f"{st_path.name}: trained for a different H than {card['code']} here")
    # Cards written before ECCTConfig.variant existed have no such field: the dataclass default
    # ("legacy") rebuilds the architecture they were trained with.
    try:
        cfg = ECCTConfig(**card["config"])
    except TypeError as err:
        raise ValueError(f"{st_path.name}: card config not understood by this version ({err})") from None
    model = ECCT(cfg, code.H)
    model.load_state_dict(load_file(str(st_path), device="cpu"))
    return model.to(device).eval(), card, code


def shipped_weights():
    return sorted(q.stem for q in WEIGHTS_DIR.glob("ecct_*.safetensors"))
