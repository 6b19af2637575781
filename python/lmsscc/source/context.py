# SPDX-License-Identifier: GPL-3.0-or-later
"""Priming contexts: text that both ends of a link know, fed to the language
model before every message (the LM analogue of a zstd dictionary).

A context is identified by name and the digest of its text; it goes into the
coding fingerprint. Built-in contexts live in contexts/*.txt; any UTF-8 text
file can be used too (both ends need the same file).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

BUILTIN_DIR = Path(__file__).resolve().parent / "contexts"


@dataclass(frozen=True)
class PrimingContext:
    name: str
    text: str

    @property
    def digest(self) -> bytes:
        return hashlib.blake2b(self.text.encode("utf-8"), digest_size=16).digest()

    def describe(self) -> str:
        return f"{self.name} ({len(self.text)} chars, digest {self.digest.hex()[:8]})"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.txt"))


def load_context(name_or_path) -> PrimingContext | None:
    """None/"none" -> no context; a built-in name; or a UTF-8 text file."""
    if name_or_path in (None, "", "none"):
        return None
    builtin = BUILTIN_DIR / f"{name_or_path}.txt"
    if builtin.is_file():
        return PrimingContext(str(name_or_path), builtin.read_text(encoding="utf-8"))
    path = Path(name_or_path)
    if path.is_file():
        try:
            return PrimingContext(path.name, path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ValueError(f"priming context file {path} is not UTF-8 text") from None
    raise ValueError(
        f"unknown priming context {name_or_path!r}: use one of {builtin_names()} or a text file path"
    )


def builtin_contexts() -> list[PrimingContext]:
    return [load_context(n) for n in builtin_names()]
