# SPDX-License-Identifier: GPL-3.0-or-later
"""Linear block codes: parity-check loaders, a systematic generator over GF(2), an encoder.

Two file formats are read:
  * MacKay alist (``*.alist``): LDPC/MacKay/CCSDS benchmark codes and GNU Radio's gr-fec files;
  * dense text (``*.txt``): an (n-k) x n 0/1 parity-check matrix, one row per line (BCH, Polar).

A code is referred to by NAME (file stem, e.g. ``LDPC_N49_K24``) or by a path. Names are looked up in
the benchmark set shipped inside this package (``codes_db/``) and then in GNU Radio's alist folder.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CODES_DB = Path(__file__).resolve().parent / "codes_db"
GR_ALIST_DIRS = (Path("/usr/share/gnuradio/fec/ldpc"), Path("/usr/local/share/gnuradio/fec/ldpc"))


def read_alist(path) -> np.ndarray:
    """Parse a MacKay alist file into a dense uint8 parity-check matrix of shape (m, n).

    Column lists are authoritative; zero entries are padding (some writers pad to the max weight).
    The row lists, when present, must describe the same matrix.
    """
    tokens = Path(path).read_text().split()
    values = [int(t) for t in tokens]
    n, m = values[0], values[1]
    pos = 4  # skip "n m" and the two max weights
    col_weights = values[pos:pos + n]
    pos += n
    row_weights = values[pos:pos + m]
    pos += m
    max_col_w, max_row_w = values[2], values[3]
    H = np.zeros((m, n), dtype=np.uint8)
    # Column lines hold either exactly col_weight entries or max_col_w entries (zero padded).
    padded = len(values) >= pos + n * max_col_w + m * max_row_w
    for j in range(n):
        width = max_col_w if padded else col_weights[j]
        for r in values[pos:pos + width]:
            if r > 0:
                H[r - 1, j] = 1
        pos += width
    _check_alist_rows(H, values, pos, row_weights, max_row_w, padded)
    return H


def _check_alist_rows(H, values, pos, row_weights, max_row_w, padded):
    """Cross-check the row section against the columns when the file carries it."""
    m = H.shape[0]
    for i in range(m):
        width = max_row_w if padded else row_weights[i]
        if pos + width > len(values):
            return  # row section absent or truncated: columns alone define H
        cols = [c - 1 for c in values[pos:pos + width] if c > 0]
        if sorted(cols) != list(np.flatnonzero(H[i])):
            raise ValueError(f"alist row {i} disagrees with the column lists")
        pos += width


def read_dense(path) -> np.ndarray:
    """Parse a dense 0/1 text matrix (one row per line, entries separated by blanks)."""
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    H = np.array([[int(v) for v in row] for row in rows], dtype=np.uint8)
    if not np.isin(H, (0, 1)).all():
        raise ValueError(f"{path}: entries must be 0 or 1")
    return H


def gf2_rref(A: np.ndarray):
    """Reduced row echelon form over GF(2). Returns (R, pivot_columns)."""
    R = (A.copy() & 1).astype(np.uint8)
    pivots = []
    row = 0
    for col in range(R.shape[1]):
        if row >= R.shape[0]:
            break
        hits = np.flatnonzero(R[row:, col])
        if hits.size == 0:
            continue
        p = row + hits[0]
        if p != row:
            R[[row, p]] = R[[p, row]]
        others = np.flatnonzero(R[:, col])
        others = others[others != row]
        R[others] ^= R[row]
        pivots.append(col)
        row += 1
    return R, pivots


def systematic_generator(H: np.ndarray):
    """Generator G (k x n) with G H^T = 0 over GF(2), systematic on the returned info positions.

    The non-pivot columns of rref(H) are free: choosing them arbitrarily fixes the pivot (parity)
    bits, so they are the information positions and G restricted to them is the identity.
    """
    R, pivots = gf2_rref(H)
    n = H.shape[1]
    info = np.array([c for c in range(n) if c not in set(pivots)], dtype=np.int64)
    k = info.size
    G = np.zeros((k, n), dtype=np.uint8)
    G[np.arange(k), info] = 1
    # Row r of R reads: x[pivot_r] + sum_{free f} R[r, f] x[f] = 0 (mod 2).
    for r, pc in enumerate(pivots):
        G[:, pc] = R[r, info]
    if np.any((G.astype(np.int64) @ H.T.astype(np.int64)) % 2):
        raise AssertionError("G H^T != 0: generator derivation failed")
    return G, info


def resolve_code_path(name_or_path) -> Path:
    """Find a code file: an existing path, a name in codes_db/, or a GNU Radio alist name."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    stem = p.name
    candidates = [CODES_DB / f"{stem}.alist", CODES_DB / f"{stem}.txt", CODES_DB / stem]
    for d in GR_ALIST_DIRS:
        candidates += [d / f"{stem}.alist", d / stem]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"unknown code {name_or_path!r}; known: {', '.join(list_codes())}")


def list_codes():
    """Names of the shipped benchmark codes and GNU Radio's alist codes."""
    names = sorted(p.stem for p in CODES_DB.glob("*") if p.suffix in (".alist", ".txt"))
    for d in GR_ALIST_DIRS:
        if d.is_dir():
            names += sorted(p.stem for p in d.glob("*.alist"))
    return names


@dataclass
class LinearCode:
    """A binary linear code defined by its parity-check matrix H (m x n, rows may be dependent)."""
    name: str
    H: np.ndarray
    G: np.ndarray = field(repr=False)
    info_positions: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        return self.H.shape[1]

    @property
    def k(self) -> int:
        return self.G.shape[0]

    @property
    def rate(self) -> float:
        return self.k / self.n

    @property
    def sha256(self) -> str:
        """Hash of H (shape + entries): ties trained weights to the exact matrix they saw."""
        h = hashlib.sha256()
        h.update(np.array(self.H.shape, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(self.H, dtype=np.uint8).tobytes())
        return h.hexdigest()

    def encode(self, info_bits) -> np.ndarray:
        """Encode (..., k) bits into (..., n) codewords; vectorized over leading axes."""
        u = np.asarray(info_bits, dtype=np.uint8)
        if u.shape[-1] != self.k:
            raise ValueError(f"expected last axis {self.k}, got {u.shape[-1]}")
        # uint8 matmul could overflow for k >= 256; int32 accumulation is exact here.
        return ((u.astype(np.int32) @ self.G.astype(np.int32)) & 1).astype(np.uint8)

    def extract_info(self, codewords) -> np.ndarray:
        """Information bits of (..., n) codewords (the systematic positions)."""
        return np.asarray(codewords)[..., self.info_positions]

    def syndrome(self, words) -> np.ndarray:
        """(..., m) syndrome of (..., n) hard words with respect to ALL rows of H."""
        w = np.asarray(words, dtype=np.int32)
        return ((w @ self.H.T.astype(np.int32)) & 1).astype(np.uint8)

    def is_codeword(self, words) -> np.ndarray:
        return ~self.syndrome(words).any(axis=-1)


def code_from_matrix(H: np.ndarray, name: str = "custom") -> LinearCode:
    H = np.asarray(H, dtype=np.uint8)
    G, info = systematic_generator(H)
    return LinearCode(name=name, H=H, G=G, info_positions=info)


_CACHE: dict = {}


def load_code(name_or_path) -> LinearCode:
    """Load a code by name (``LDPC_N49_K24``, ``n_0100_k_0042_gap_02``) or by file path."""
    path = resolve_code_path(name_or_path)
    key = os.fspath(path.resolve())
    if key not in _CACHE:
        H = read_alist(path) if path.suffix == ".alist" else read_dense(path)
        _CACHE[key] = code_from_matrix(H, name=path.stem)
    return _CACHE[key]
