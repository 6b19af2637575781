# SPDX-License-Identifier: GPL-3.0-or-later
"""Code library: parsers, systematic generator, encoder, agreement with gr-fec's LDPC encoder."""
import numpy as np
import pytest

from gnuradio.lmsscc.fec import codes
from gnuradio.lmsscc.fec.codes import gf2_rref, load_code

SHIPPED = sorted(p.stem for p in codes.CODES_DB.iterdir() if p.suffix in (".alist", ".txt"))


def test_all_benchmark_codes_are_shipped():
    for name in ("LDPC_N49_K24", "POLAR_N64_K32", "BCH_N63_K45", "POLAR_N128_K64", "CCSDS_N128_K64"):
        assert name in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_generator_and_parity_check_agree(name):
    code = load_code(name)
    assert not ((code.G.astype(int) @ code.H.T.astype(int)) % 2).any()
    _, pivots = gf2_rref(code.H)
    assert code.k == code.n - len(pivots)                       # full dimension of the null space
    np.testing.assert_array_equal(code.G[:, code.info_positions], np.eye(code.k, dtype=np.uint8))
    # The file name announces (n, k): N.._K.. must match what we derived.
    n_str, k_str = name.split("_N")[1].split("_K")
    assert (code.n, code.k) == (int(n_str), int(k_str))


@pytest.mark.parametrize("name", SHIPPED)
def test_encoder_output_satisfies_every_check(name):
    code = load_code(name)
    info = np.random.default_rng(0).integers(0, 2, (200, code.k))
    cw = code.encode(info)
    assert code.is_codeword(cw).all()
    np.testing.assert_array_equal(code.extract_info(cw), info)
    # Vectorised over leading axes too.
    assert code.encode(info.reshape(10, 20, code.k)).shape == (10, 20, code.n)


def test_alist_reader_matches_row_lists(tmp_path):
    H = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], dtype=np.uint8)
    # Unpadded alist written by hand: n m, max weights, col weights, row weights, cols, rows.
    text = "4 2\n2 3\n1 2 1 2\n3 3\n1\n1 2\n2\n1 2\n1 2 4\n2 3 4\n"
    p = tmp_path / "tiny.alist"
    p.write_text(text)
    np.testing.assert_array_equal(codes.read_alist(p), H)
    p.write_text(text.replace("2 3 4\n", "1 3 4\n"))
    with pytest.raises(ValueError):
        codes.read_alist(p)


def test_gnuradio_alist_by_name():
    if "n_0100_k_0042_gap_02" not in codes.list_codes():
        pytest.skip("GNU Radio's gr-fec alist files are not installed")
    code = load_code("n_0100_k_0042_gap_02")
    assert (code.n, code.k) == (100, 42)
    assert code.is_codeword(code.encode(np.ones((3, 42), np.uint8))).all()


def test_same_info_positions_as_grfec_ldpc_encoder():
    """gr-fec's own LDPC encoder (3.10) is systematic on the same positions as our generator."""
    from gnuradio import blocks, fec, gr

    code = load_code("LDPC_N49_K24")
    path = str(codes.resolve_code_path("LDPC_N49_K24"))
    info = np.random.default_rng(5).integers(0, 2, (8, code.k)).astype(np.uint8)
    tb = gr.top_block()
    src = blocks.vector_source_b(info.reshape(-1).tolist(), False)
    enc = fec.extended_encoder(fec.ldpc_encoder.make(path), threading=None, puncpat="11")
    snk = blocks.vector_sink_b()
    tb.connect(src, enc, snk)
    tb.run()
    cw = np.array(snk.data(), dtype=np.uint8).reshape(-1, code.n)
    assert code.is_codeword(cw).all()
    np.testing.assert_array_equal(code.extract_info(cw), info)
    np.testing.assert_array_equal(code.info_positions[:4], [13, 20, 27, 28])
