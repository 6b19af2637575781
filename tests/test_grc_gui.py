# SPDX-License-Identifier: GPL-3.0-or-later
"""GNU Radio Companion with the module's blocks, as `make grc` starts it:
every example opens without an error, headless through GRC's own Python API
(blocks resolved, flowgraph valid) and in the real GUI under a private Xvfb
display (nothing logged as a warning or error), with a screenshot of the
loopback example. LMSSCC_SCREENSHOT=PATH also saves it there
(`make grc-screenshot` writes docs/grc_loopback.png)."""

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testutil import REPO, installed_grc_dir

EXAMPLES = sorted((REPO / "examples").glob("*.grc"))
SHOWN = REPO / "examples" / "link_loopback_awgn.grc"  # opened first: the page on screen
COMPANION = Path("/usr/bin/gnuradio-companion")
SCREEN = (1600, 1000)
# What GRC prints when something does not load: its log lines ([WARNING],
# [ERROR] from the block loader), load errors, and Python tracebacks.
FAILURE_MARKS = ("[ERROR]", "[WARNING]", "[CRITICAL]", "Error", "Traceback", "Exception")


def grc_block_paths():
    return [str(installed_grc_dir()), "/usr/share/gnuradio/grc/blocks"]


@pytest.fixture(scope="module")
def platform():
    from gnuradio import gr
    from gnuradio.grc.core.platform import Platform

    p = Platform(prefs=gr.prefs(), version=gr.version(),
                 version_parts=(gr.major_version(), gr.api_version(), gr.minor_version()))
    p.build_library(grc_block_paths())
    return p


def flowgraph_problems(platform, path):
    """Blocks GRC could not resolve and validation errors of one .grc file."""
    fg = platform.make_flow_graph(str(path))
    fg.rewrite()
    fg.validate()
    problems = [f"unknown block {b.key}" for b in fg.blocks if b.is_dummy_block]
    problems += [f"{getattr(elem, 'name', elem)}: {msg}" for elem, msg in fg.iter_error_messages()]
    return problems


def test_every_lmsscc_block_is_in_the_library(platform):
    shipped = {p.name.split(".")[0] for p in (REPO / "grc").glob("lmsscc_*.block.yml")}
    assert shipped and shipped <= set(platform.blocks)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_loads_headless(platform, path):
    assert flowgraph_problems(platform, path) == []


def test_unknown_block_is_caught(platform, tmp_path):
    """The check above can fail: a flowgraph naming a block that does not exist."""
    broken = tmp_path / "broken.grc"
    broken.write_text(SHOWN.read_text().replace("id: lmsscc_link_tx\n", "id: lmsscc_no_such_block\n"))
    assert any("lmsscc_no_such_block" in p for p in flowgraph_problems(platform, broken))


def _gtk_available():
    r = subprocess.run([sys.executable, "-c", "import gi; gi.require_version('Gtk', '3.0'); "
                        "from gi.repository import Gtk"], capture_output=True)
    return r.returncode == 0


@pytest.fixture
def xvfb_display():
    if not shutil.which("Xvfb") or not _gtk_available() or not COMPANION.exists():
        pytest.skip("needs Xvfb, GTK 3 introspection and gnuradio-companion (make test installs them)")
    display = f":{random.randint(77, 400)}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                               "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
    deadline = time.time() + 20
    while not socket.exists() and server.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    if not socket.exists():
        server.kill()
        pytest.fail(f"Xvfb did not start on {display}")
    yield display
    server.terminate()
    server.wait(10)


def screenshot(display, path):
    """The whole screen through GDK (no ImageMagick needed)."""
    code = ("import sys, gi; gi.require_version('Gdk', '3.0'); from gi.repository import Gdk; "
            "w = Gdk.get_default_root_window(); "
            "Gdk.pixbuf_get_from_window(w, 0, 0, w.get_width(), w.get_height())"
            ".savev(sys.argv[1], 'png', [], [])")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=30,
                   env=dict(os.environ, DISPLAY=display))


def test_companion_opens_every_example(xvfb_display, tmp_path):
    prefs = tmp_path / "grc.conf"  # a private window layout; the user's file is not touched
    prefs.write_text(f"[main]\nmain_window_width = {SCREEN[0]}\nmain_window_height = {SCREEN[1]}\n"
                     "blocks_window_position = 1300\nconsole_window_position = 820\n")
    files = [SHOWN] + [p for p in EXAMPLES if p != SHOWN]
    log = tmp_path / "companion.log"
    env = dict(os.environ, DISPLAY=xvfb_display, GRC_PREFS_PATH=str(prefs), PYTHONUNBUFFERED="1",
               GRC_BLOCKS_PATH=str(installed_grc_dir()))
    with open(log, "w") as out:
        companion = subprocess.Popen([sys.executable, str(COMPANION), *map(str, files)], env=env,
                                     stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and companion.poll() is None:
            if log.read_text().count(">>> Done") >= len(files):
                break
            time.sleep(0.5)
        time.sleep(3)  # let the last page draw
        assert companion.poll() is None, log.read_text()
        shot = tmp_path / "grc_loopback.png"
        screenshot(xvfb_display, shot)
    finally:
        companion.terminate()
        try:
            companion.wait(10)
        except subprocess.TimeoutExpired:
            companion.kill()
    text = log.read_text()
    assert text.count(">>> Done") == len(files), text
    for path in files:
        assert f'Loading: "{path}"' in text
    assert str(installed_grc_dir()) in text  # the module's blocks are on the block path
    bad = [line for line in text.splitlines() if any(m in line for m in FAILURE_MARKS)]
    assert bad == [], text
    check_screenshot(shot)
    if os.environ.get("LMSSCC_SCREENSHOT"):
        shutil.copy(shot, REPO / os.environ["LMSSCC_SCREENSHOT"])


def check_screenshot(path):
    """The window fills the screen and shows blocks (GRC draws them in a pale
    blue-grey on a white canvas), not an empty or black screen."""
    import numpy as np
    from PIL import Image

    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert image.shape[1::-1] == SCREEN
    black = (image.max(axis=2) < 16).mean()
    assert black < 0.05, f"{black:.0%} of the screen is black: the window is not shown"
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    block_fill = int(((b > 240) & (r > 220) & (r < 245) & (g > 220) & (g < 245)).sum())
    assert block_fill > 20_000, f"no flowgraph blocks visible ({block_fill} block pixels)"
