#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fetch the offline benchmark corpora into .cache/corpora (idempotent).

- Canterbury corpus (alice29.txt, asyoulik.txt, lcet10.txt) from the brotli
  sdist's tests/testdata.
- gensim's test data: lee_background.cor (news prose) and a shortened
  Wikipedia dump, from the gensim wheel.
Both come from PyPI with `pip download`; nothing else is contacted.
"""

import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

CORPORA = Path(__file__).resolve().parent.parent / ".cache" / "corpora"
BROTLI_SDIST = "brotli==1.2.0"
GENSIM_WHEEL = "gensim==4.4.0"
CANTERBURY = ["alice29.txt", "asyoulik.txt", "lcet10.txt"]
GENSIM_FILES = ["lee_background.cor", "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"]


def pip_download(spec, binary, dest):
    flags = ["--only-binary", ":all:"] if binary else ["--no-binary", ":all:"]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", *flags, spec, "-d", dest],
                   check=True)
    return next(Path(dest).iterdir())


def main():
    CORPORA.mkdir(parents=True, exist_ok=True)
    if not all((CORPORA / f).exists() for f in CANTERBURY):
        with tempfile.TemporaryDirectory() as tmp:
            sdist = pip_download(BROTLI_SDIST, False, tmp)
            with tarfile.open(sdist) as tar:
                for member in tar.getmembers():
                    name = Path(member.name).name
                    if "/tests/testdata/" in member.name and name in CANTERBURY:
                        (CORPORA / name).write_bytes(tar.extractfile(member).read())
    if not all((CORPORA / f).exists() for f in GENSIM_FILES):
        with tempfile.TemporaryDirectory() as tmp:
            wheel = pip_download(GENSIM_WHEEL, True, tmp)
            with zipfile.ZipFile(wheel) as z:
                for name in GENSIM_FILES:
                    (CORPORA / name).write_bytes(z.read(f"gensim/test/test_data/{name}"))
    for f in CANTERBURY + GENSIM_FILES:
        print(f"{CORPORA / f}: {(CORPORA / f).stat().st_size} bytes")


if __name__ == "__main__":
    main()
