"""gr-lmsscc: language-model source coding and neural channel decoding for GNU Radio.

Importing this package is cheap: only the C++ kernels load here. The blocks
(which need torch and transformers) load on first use, so
``lmsscc.lm_arith_encoder(...)`` works as GRC expects without slowing down
``from gnuradio import lmsscc``.
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

# name -> submodule that defines it, imported lazily (PEP 562)
_LAZY = {
    "lm_arith_encoder": ".source.blocks",
    "lm_arith_decoder": ".source.blocks",
    "LMCodec": ".source.codec",
    "load_model": ".source.lm",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
