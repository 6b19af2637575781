"""gr-lmsscc: language-model source coding and neural channel decoding for GNU Radio.

Importing this package is cheap: the C++ kernels are loaded here, while the
subpackages that need torch (``source``, ``channel``) load on first use.
"""

from .lmsscc_python import (  # noqa: F401  (C++ kernels)
    RC_MAX_PRECISION,
    RC_MIN_PRECISION,
    RangeDecoder,
    RangeEncoder,
    logits_to_cdf,
    probs_to_cdf,
)

__version__ = "0.1.0"
