# SPDX-License-Identifier: GPL-3.0-or-later
"""Repository conventions that a check can see: the licence, the user apps
installed by `cmake --install` (and sharing code only through the package),
no committed file under a git-ignored path, and tests/ mirroring the
package."""

import ast
import os
import re
import subprocess
from pathlib import Path

import pytest

from testutil import APPS, REPO, installed_grc_dir

PACKAGE = REPO / "python" / "lmsscc"
# tests/ folders that mirror no package folder, by design
TEST_ONLY_FOLDERS = {"reliability", "vectors"}
APP_NAMES = sorted(p.name for p in APPS.glob("*.py"))


def test_license_is_gpl3():
    text = (REPO / "LICENSE").read_text()
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 3, 29 June 2007" in text


def test_clang_format_matches_the_cpp_style():
    style = (REPO / ".clang-format").read_text()
    assert re.search(r"^IndentWidth: 4$", style, re.M) and re.search(r"^ColumnLimit: 100$", style, re.M)


def test_every_app_is_installed_by_cmake():
    listed = set(re.findall(r"^\s*(\S+\.py)$", (APPS / "CMakeLists.txt").read_text(), re.M))
    assert listed == set(APP_NAMES)
    assert "add_subdirectory(apps)" in (REPO / "CMakeLists.txt").read_text()


@pytest.mark.parametrize("name", APP_NAMES)
def test_installed_app_runs_help(name, tmp_path):
    """`make install` put the app into <prefix>/bin; it runs from anywhere,
    with nothing from the checkout on its path."""
    prefix = installed_grc_dir().parents[3]  # <prefix>/share/gnuradio/grc/blocks
    app = prefix / "bin" / name
    assert app.is_file() and os.access(app, os.X_OK), f"{app} not installed: run make install"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([str(app), "--help"], capture_output=True, text=True, cwd=tmp_path, env=env,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("usage: "), r.stderr[-2000:]


@pytest.mark.parametrize("name", APP_NAMES)
def test_apps_share_code_only_through_the_package(name):
    """An app imports no other app (installed, they are separate programs)."""
    apps = {Path(n).stem for n in APP_NAMES}
    tree = ast.parse((APPS / name).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert not imported & apps, (f"{name} imports the app(s) {imported & apps}: "
                                 "move that code into the package")


def test_no_committed_file_is_git_ignored():
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    r = subprocess.run(["git", "ls-files", "-ci", "--exclude-standard"], cwd=REPO,
                       capture_output=True, text=True, check=True)
    assert r.stdout == "", f"committed but ignored by .gitignore:\n{r.stdout}"


def _folders(root: Path) -> set[str]:
    """Folders below root holding Python files, as paths relative to root."""
    return {str(p.parent.relative_to(root)) for p in root.rglob("*.py")
            if p.parent != root and "__pycache__" not in p.parts}


def test_tests_mirror_the_package():
    packages = _folders(PACKAGE)
    for folder in sorted(_folders(REPO / "tests")):
        if folder.split(os.sep)[0] in TEST_ONLY_FOLDERS:
            continue
        assert folder in packages, f"tests/{folder} mirrors no folder of python/lmsscc"


SPDX = "SPDX-License-Identifier: GPL-3.0-or-later"


def _source_files() -> list[str]:
    """The tracked files written in a language with comments: code, build and CI scripts."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    suffixes = (".py", ".cc", ".h", ".sh", ".cmake")
    return [n for n in names if n.endswith(suffixes) or Path(n).name in ("CMakeLists.txt", "Makefile")
            or n == ".ci/run"]


def test_every_source_file_names_its_licence():
    """Each file says its licence in its first lines (SPDX), as GNU Radio's own sources do."""
    files = _source_files()
    assert len(files) > 100
    missing = [n for n in files if (REPO / n).is_file()
               and SPDX not in "\n".join((REPO / n).read_text().split("\n")[:3])]
    assert not missing, f"no '{SPDX}' line in the first 3 lines of: {missing}"


MAX_LIB_LINES = 600


def test_no_cpp_file_over_600_lines():
    """One concern per file in lib/ and include/ (the engine was split by concern for this)."""
    files = sorted((REPO / "lib").glob("*.[ch]*")) + sorted((REPO / "include").rglob("*.h"))
    assert len(files) > 10
    long = {f.name: n for f in files if (n := len(f.read_text().splitlines())) > MAX_LIB_LINES}
    assert not long, f"over {MAX_LIB_LINES} lines: {long}"
