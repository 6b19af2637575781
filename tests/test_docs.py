# SPDX-License-Identifier: GPL-3.0-or-later
"""The documents agree with their committed records (bench/check_docs.py),
the checker catches a drifted figure, and the disagreements of issue 13 stay
fixed."""

import importlib.util
import re
import shutil

import pytest

from testutil import REPO

DOCS = sorted((REPO / "docs").glob("*.md")) + [REPO / "README.md"]


@pytest.fixture(scope="module")
def check_docs():
    spec = importlib.util.spec_from_file_location("check_docs", REPO / "bench" / "check_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_headline_figure_matches_its_record(check_docs):
    failures = [f"{doc}: {note}\n    expected: {text!r}"
                for doc, text, ok, note in check_docs.run_checks() if not ok]
    assert not failures, "\n".join(failures)


def test_the_checker_catches_a_drifted_figure(check_docs, tmp_path):
    for part in ("docs", "README.md"):
        src = REPO / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / part)
    link = tmp_path / "docs" / "link.md"
    link.write_text(link.read_text().replace("124.5 characters", "142 characters"))
    record = tmp_path / "docs" / "data" / "source_lean.json"
    record.write_text(record.read_text().replace('"lm_coded_bits": 21736', '"lm_coded_bits": 21737'))
    failed = {(doc, text) for doc, text, ok, _ in check_docs.run_checks(repo=tmp_path) if not ok}
    assert any(doc == "docs/link.md" and "124.5" in text for doc, text in failed)
    assert any(doc == "docs/source_coding.md" and "21,737" in text for doc, text in failed)
    assert len(failed) == 2


def test_each_results_document_has_checks(check_docs):
    checked = {doc for doc, *_ in check_docs.CHECKS}
    for doc in ("README.md", "docs/source_coding.md", "docs/engine.md", "docs/link.md",
                "docs/channel_coding.md", "docs/context_coding.md", "docs/results.md"):
        assert doc in checked, doc


def test_cited_records_are_committed_under_docs_data():
    """Every docs/data/ file a document names exists; no document cites notes
    outside the repository."""
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for name in re.findall(r"docs/data/([\w.-]+\.(?:json|md|txt))", text):
            assert (REPO / "docs" / "data" / name).is_file(), f"{path.name} cites missing docs/data/{name}"
        assert "shared/NOTES" not in text and "shared NOTES" not in text, path.name


def test_issue_13_disagreements_stay_fixed():
    read = {p.relative_to(REPO).as_posix(): p.read_text(encoding="utf-8") for p in DOCS}
    flat = {k: " ".join(v.split()) for k, v in read.items()}
    assert "The link uses the hybrid" not in flat["README.md"]
    assert "142 characters and 257" not in flat["docs/link.md"]
    assert "25,784 bits, 1.801" not in flat["docs/source_coding.md"]
    assert "met **per core**" not in flat["docs/channel_coding.md"]
    assert "not met in wall-clock on the shared machine" in flat["docs/channel_coding.md"]
    engine = flat["docs/engine.md"]
    assert "8-stream aggregate >= 500 tokens/s not reached" not in engine
    assert "No measured multi-thread speed-up" not in engine


def test_readme_names_the_links_default_decoder():
    """README states the default channel decoder of the link; it must be the code's."""
    from gnuradio.lmsscc.phy.link import LinkConfig

    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert f'`LinkConfig.decoder = "{LinkConfig().decoder}"`' in readme
