# SPDX-License-Identifier: GPL-3.0-or-later
"""Text JSCC (DeepSC-style): the analog end-to-end baseline that LM-SSCC is compared against.

Blocks load lazily so that importing the package needs no GNU Radio runtime for training."""

import importlib

_LAZY = {"jscc_mapper": ".blocks", "jscc_demapper": ".blocks", "JSCCCodec": ".codec",
         "load_jscc": ".io"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
