# SPDX-License-Identifier: GPL-3.0-or-later
"""gr-lmsscc: language-model source coding and neural channel decoding for GNU Radio.

Importing this package is cheap: only the C++ kernels load here. Every block
(BLOCKS below; some need torch and transformers) loads on first use, so
``lmsscc.lm_arith_encoder(...)``, ``lmsscc.burst_channel(...)`` and the rest work
as the GRC YAML calls them without slowing down ``from gnuradio import lmsscc``.
"""

import importlib

from .lmsscc_python import (  # noqa: F401  (C++ kernels)
    RC_MAX_PRECISION,
    RC_MIN_PRECISION,
    RangeDecoder,
    RangeEncoder,
    logits_to_cdf,
    logits_to_cdf_lse,
    probs_to_cdf,
)

__version__ = "0.1.0"

# Every GNU Radio block of the package, as the GRC YAML calls it
# (`from gnuradio import lmsscc`, `lmsscc.NAME(...)`): block -> defining module.
BLOCKS = {
    # Source coding
    "lm_arith_encoder": ".source.blocks",
    "lm_arith_decoder": ".source.blocks",
    # Channel coding
    "fec_encoder": ".fec.blocks",
    "bp_decoder": ".fec.blocks",
    "osd_decoder": ".fec.blocks",
    "ecct_decoder": ".fec.blocks",
    # Link
    "link_tx": ".phy.blocks",
    "link_tx_stream": ".phy.blocks",
    "link_rx": ".phy.blocks",
    "link_rx_stream": ".phy.blocks",
    "burst_channel": ".phy.blocks",
    # JSCC
    "jscc_mapper": ".jscc.blocks",
    "jscc_demapper": ".jscc.blocks",
    "jscc_mapper_ts": ".jscc.blocks",
    "jscc_demapper_ts": ".jscc.blocks",
    "jscc_channel": ".jscc.blocks",
}

# name -> submodule that defines it, imported lazily on first use (PEP 562)
_LAZY = {
    **BLOCKS,
    "LMCodec": ".source.codec",
    "load_model": ".source.models",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
