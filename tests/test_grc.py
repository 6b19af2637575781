# SPDX-License-Identifier: GPL-3.0-or-later
"""Every block YAML parses and every example flowgraph compiles with grcc."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from testutil import installed_grc_dir

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "examples").glob("*.grc"))
BLOCK_YAMLS = sorted((REPO / "grc").glob("*.block.yml"))


@pytest.mark.parametrize("path", BLOCK_YAMLS, ids=lambda p: p.name)
def test_block_yaml_is_complete(path):
    block = yaml.safe_load(path.read_text())
    assert block["id"].startswith("lmsscc_") and path.name == f"{block['id']}.block.yml"
    assert block["templates"]["imports"] == "from gnuradio import lmsscc"
    assert block["templates"]["make"].startswith(f"lmsscc.{block['id'].removeprefix('lmsscc_')}(")
    assert block["file_format"] == 1
    assert (installed_grc_dir() / path.name).exists(), "block YAML not installed"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_compiles(path, tmp_path):
    grcc = shutil.which("grcc")
    assert grcc, "grcc (gnuradio-companion's compiler) is missing"
    # a private HOME: GRC's block cache (~/.cache/grc_gnuradio) trusts file mtimes
    env = dict(os.environ, GRC_BLOCKS_PATH=str(installed_grc_dir()), HOME=str(tmp_path / "home"))
    r = subprocess.run([sys.executable, grcc, "-o", str(tmp_path), str(path)],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    generated = tmp_path / (path.stem + ".py")
    assert generated.exists()
    compile(generated.read_text(), str(generated), "exec")
