# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the tests (a module of its own: every conftest.py is
imported as `conftest`, so helpers there would clash between folders)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APPS = REPO / "apps"
# user CLIs, benchmarks and trainers each have a folder of their own
SCRIPT_DIRS = (APPS, REPO / "bench", REPO / "train")

# short messages of the source-coding tests: Europarl-style lines, non-ASCII, the empty message
SENTENCES = [
    "Madam President, on a point of order.",
    "The sitting was suspended at noon.",
    "I would like to thank the rapporteur.",
    "The vote will take place tomorrow.",
    "Ça suffit! 你好 🚀",
    "",
    "The debate is closed.",
]


def script_path(name: str) -> Path:
    """The repository script called `name` (with or without .py) in apps/, bench/ or train/."""
    file = name if name.endswith(".py") else f"{name}.py"
    for folder in SCRIPT_DIRS:
        if (folder / file).is_file():
            return folder / file
    raise FileNotFoundError(f"no script {file} in {', '.join(d.name for d in SCRIPT_DIRS)}")


def run_app(name, *args, **kw):
    """Run the script `name` (apps/, bench/ or train/) with this interpreter; text output, 10-minute cap."""
    return subprocess.run([sys.executable, str(script_path(name)), *map(str, args)],
                          capture_output=True, text=kw.pop("text", True), timeout=kw.pop("timeout", 600), **kw)


def installed_grc_dir() -> Path:
    """Where `make install` put the block YAML: <prefix>/share/gnuradio/grc/blocks."""
    import gnuradio.lmsscc as pkg

    # <prefix>/lib/python3.11/site-packages/gnuradio/lmsscc/__init__.py -> <prefix>
    prefix = Path(pkg.__file__).resolve().parents[5]
    return prefix / "share" / "gnuradio" / "grc" / "blocks"


def heldout_news_texts(n=40):
    """The first n held-out news sentences of the JSCC split (from `make data`'s
    corpora; corpus text is not copied into the repository); skips without them."""
    import pytest

    from gnuradio.lmsscc.jscc import data

    try:
        return data.held_out_news_texts(n)
    except FileNotFoundError as e:
        pytest.skip(str(e))
