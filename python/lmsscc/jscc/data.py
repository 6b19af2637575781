# SPDX-License-Identifier: GPL-3.0-or-later
"""Sentence preparation and train/test splits for the text JSCC (DeepSC-style).

DeepSC (Xie et al., IEEE TSP 2021) lower-cases its corpus, splits punctuation off words and keeps
sentences of 4-30 words. We do the same on the offline corpora that `make data` fetches:
gensim's Wikipedia excerpt (wiki markup, cleaned here) and the Lee news corpus. The split is by a hash
of the prepared sentence, so it is stable whatever order or subset of corpora is read, and a sentence
that occurs twice never lands on both sides.
"""

from __future__ import annotations

import bz2
import html
import re
import zlib
from pathlib import Path

MIN_WORDS, MAX_WORDS = 4, 30
TEST_PERCENT = 10  # held-out share

# Words (letters/digits, inner apostrophes and hyphens) or single punctuation marks.
_TOKEN = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*|[^\sa-z0-9]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def words(sentence: str) -> list[str]:
    """The token list of a prepared sentence (lower case, punctuation split off)."""
    return _TOKEN.findall(sentence.lower())


def prepare(sentence: str) -> str | None:
    """Lower-cased, tokens joined by single spaces; None if outside 4-30 words or not plain text."""
    toks = words(sentence)
    n_words = sum(1 for t in toks if t[0].isalnum())
    if not (MIN_WORDS <= n_words <= MAX_WORDS) or len(toks) > MAX_WORDS + 8:
        return None
    if any(ord(c) > 127 for t in toks for c in t):  # ASCII only: keeps the word vocabulary small
        return None
    return " ".join(toks)


def is_test(prepared: str) -> bool:
    return zlib.crc32(prepared.encode()) % 100 < TEST_PERCENT


def split_sentences(text: str) -> list[str]:
    out = []
    for para in text.splitlines():
        out.extend(s.strip() for s in _SENTENCE_END.split(para.strip()) if s.strip())
    return out


def clean_wiki(markup: str) -> str:
    """Plain prose paragraphs from MediaWiki markup (templates, refs, tables, links removed)."""
    t = html.unescape(markup)
    t = re.sub(r"<ref[^>]*/>", "", t)
    t = re.sub(r"<ref.*?</ref>", "", t, flags=re.S)
    t = re.sub(r"<!--.*?-->", "", t, flags=re.S)
    for _ in range(3):  # nested templates, innermost first
        t = re.sub(r"\{\{[^{}]*\}\}", "", t)
    t = re.sub(r"\{\|.*?\|\}", "", t, flags=re.S)  # tables
    t = re.sub(r"\[\[(?:File|Image|Category):[^\]]*\]\]", "", t)
    t = re.sub(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]", r"\1", t)  # [[target|label]] -> label
    t = re.sub(r"\[https?://\S+ ([^\]]*)\]", r"\1", t)
    t = re.sub(r"<[^>]+>", "", t)
    t = t.replace("'''", "").replace("''", "")
    keep = [ln for ln in t.splitlines()
            if ln.strip() and not re.match(r"\s*[=*#:;|!{}]", ln) and len(ln) > 80]
    return "\n".join(keep)


def corpus_sentences(corpora: Path) -> dict[str, list[str]]:
    """Prepared, de-duplicated sentences per source: {'news': [...], 'wiki': [...]}."""
    out = {}
    news = corpora / "lee_background.cor"
    if news.exists():
        out["news"] = split_sentences(news.read_text(encoding="utf-8"))
    wiki = sorted(corpora.glob("enwiki-*.bz2"))
    if wiki:
        markup = bz2.decompress(wiki[0].read_bytes()).decode("utf-8", "replace")
        out["wiki"] = split_sentences(clean_wiki(markup))
    result = {}
    for name, sents in out.items():
        prepared = dict.fromkeys(p for p in map(prepare, sents) if p)
        result[name] = list(prepared)
    return result


def train_test_split(sentences: list[str]) -> tuple[list[str], list[str]]:
    train = [s for s in sentences if not is_test(s)]
    test = [s for s in sentences if is_test(s)]
    return train, test


def default_corpora() -> Path:
    """The repository's .cache/corpora (from `make data`), found from this file or the cwd."""
    for base in (Path(__file__).resolve(), Path.cwd() / "x"):
        for parent in base.parents:
            if (parent / ".cache" / "corpora").is_dir():
                return parent / ".cache" / "corpora"
    raise FileNotFoundError("no .cache/corpora found: run `make data` in the repository")


def held_out_news(n: int | None = None, corpora: Path | None = None) -> list[str]:
    """The held-out (test-split) news sentences, in corpus order: what the benchmarks send."""
    sents = corpus_sentences(corpora or default_corpora())["news"]
    test = [s for s in sents if is_test(s)]
    return test if n is None else test[:n]


def held_out_news_texts(n: int | None = None, corpora: Path | None = None, fits=None) -> list[str]:
    """Held-out news sentences as lower-cased natural text (the source every scheme sends), in corpus
    order, de-duplicated; `fits(prepared)` may exclude sentences (e.g. too long for the JSCC)."""
    raw = (corpora or default_corpora()) / "lee_background.cor"
    out, seen = [], set()
    for s in split_sentences(raw.read_text(encoding="utf-8")):
        p = prepare(s)
        if p and is_test(p) and p not in seen and (fits is None or fits(p)):
            seen.add(p)
            out.append(" ".join(s.lower().split()))
    return out if n is None else out[:n]
