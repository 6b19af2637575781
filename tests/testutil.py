"""Helpers shared by the tests (a module of its own: every conftest.py is
imported as `conftest`, so helpers there would clash between folders)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APPS = REPO / "apps"


def run_app(name, *args, **kw):
    """Run apps/<name> with this interpreter; text output, 10-minute cap."""
    return subprocess.run([sys.executable, str(APPS / name), *map(str, args)],
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
