# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the message (PDU) blocks: parse, build, count, log.

A PDU is pmt.cons(metadata dict, uniform vector) on a port named 'pdus'.
Blocks never raise out of a message handler: bad input is logged once per
kind, counted, and dropped, so the flowgraph keeps running. An exception that
is not an input error is a bug of the block: it is dropped too, but logged
with its traceback and counted under the reason INTERNAL_ERROR.
"""

from __future__ import annotations

import re
import traceback
from collections import Counter

import numpy as np
import pmt

PDU_PORT = pmt.intern("pdus")

# The package refuses input it cannot use with a ValueError or a subclass
# (BadPdu, MessageFormatError, FrameError, UnicodeDecodeError): a validation
# drop. Any other exception out of a block's processing (TypeError,
# IndexError, AttributeError, ...) is a bug: an internal error.
INPUT_ERRORS = (ValueError,)
INTERNAL_ERROR = "internal error"  # the drop reason (kind) of every internal error
# Internal errors of every block in this process, by exception type: what the
# tests that feed bad input check stays empty (tests/reliability/conftest.py).
INTERNAL_ERRORS_SEEN = Counter()

_VECTOR_CHECKS = {
    "u8": pmt.is_u8vector,
    "f32": pmt.is_f32vector,
    "c32": pmt.is_c32vector,
}
_TO_NUMPY = {
    "u8": lambda v: np.asarray(pmt.u8vector_elements(v), dtype=np.uint8),
    "f32": lambda v: np.asarray(pmt.f32vector_elements(v), dtype=np.float32),
    "c32": lambda v: np.asarray(pmt.c32vector_elements(v), dtype=np.complex64),
}
_TO_PMT = {
    "u8": lambda a: pmt.init_u8vector(len(a), np.asarray(a, dtype=np.uint8).tolist()),
    "f32": lambda a: pmt.init_f32vector(len(a), np.asarray(a, dtype=np.float32).tolist()),
    "c32": lambda a: pmt.init_c32vector(len(a), np.asarray(a, dtype=np.complex64).tolist()),
}


class BadPdu(ValueError):
    """A PDU that a block cannot use; the message says why."""


def parse_pdu(msg, kind: str = "u8", max_items: int | None = None) -> tuple[dict, np.ndarray]:
    """(metadata as a Python dict, payload as a NumPy array) or BadPdu."""
    if not pmt.is_pair(msg):
        raise BadPdu("message is not a PDU (expected pmt.cons(metadata, vector))")
    meta, vec = pmt.car(msg), pmt.cdr(msg)
    if not (pmt.is_dict(meta) or pmt.is_null(meta)):
        raise BadPdu("PDU metadata is not a dictionary")
    if not _VECTOR_CHECKS[kind](vec):
        raise BadPdu(f"PDU payload is not a {kind} vector")
    n = pmt.length(vec)
    if max_items is not None and n > max_items:
        raise BadPdu(f"PDU of {n} items exceeds the limit of {max_items}")
    meta_dict = pmt.to_python(meta) if pmt.is_dict(meta) else {}
    return dict(meta_dict or {}), _TO_NUMPY[kind](vec)


def make_pdu(meta: dict, data, kind: str = "u8"):
    d = pmt.make_dict()
    for key, value in meta.items():
        d = pmt.dict_add(d, pmt.intern(str(key)), pmt.to_pmt(value))
    return pmt.cons(d, _TO_PMT[kind](data))


def finite_setting(name: str, value) -> float:
    """A block parameter that must be a finite number (constructors and run-time setters)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not np.isfinite(number):
        raise ValueError(f"{name} must be finite, not {number}")
    return number


def reason_kind(reason: str) -> str:
    """The kind of a drop or failure reason, the key of stats()' drop_reasons and
    failure_reasons: numbers vary with the input (sizes, token counts), the kind does not."""
    return re.sub(r"\d+", "N", reason.split(":")[0])[:80]


def block_stats(drops: DropCounter, failures: Counter, pdus_out: int, **inputs) -> dict:
    """The one stats() vocabulary of the package's blocks:

    pdus_in / samples_in  what the block took in (PDUs on 'pdus', or stream samples)
    pdus_out              PDUs it published, failure reports included
    failed                published reports of a failure (crc_ok False, empty payload)
    failure_reasons       failed by kind of reason
    dropped               inputs it could not use, dropped without an output
    drop_reasons          dropped by kind of reason
    last_drop             the last drop's reason in full ('' if none)
    """
    return {**inputs, "pdus_out": pdus_out,
            "failed": sum(failures.values()), "failure_reasons": dict(failures),
            "dropped": drops.total, "drop_reasons": dict(drops.reasons), "last_drop": drops.last}


class DropCounter:
    """Counts dropped PDUs by reason and logs the first of each reason."""

    def __init__(self, logger):
        self.logger = logger
        self.reasons = Counter()
        self.last = ""  # the last reason, in full
        self._logged_bugs = set()  # (exception type, file, line) whose traceback was logged

    def drop(self, reason: str) -> None:
        self.last = reason
        key = reason_kind(reason)
        if self.reasons[key] == 0:
            self.logger.warn(f"dropping PDU: {reason} (further drops of this kind are only counted)")
        self.reasons[key] += 1

    def internal_error(self, error: Exception) -> None:
        """Drop for a bug (call inside the except clause): counted under
        INTERNAL_ERROR; the traceback is logged once per place it was raised."""
        where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
        bug = (type(error).__name__, where and where.filename, where and where.lineno)
        INTERNAL_ERRORS_SEEN[type(error).__name__] += 1
        if bug not in self._logged_bugs:
            self._logged_bugs.add(bug)
            self.logger.error(f"{INTERNAL_ERROR} (a bug, not bad input): "
                              f"{''.join(traceback.format_exception(error)).rstrip()}")
        self.drop(f"{INTERNAL_ERROR}: {type(error).__name__}: {error}")

    @property
    def total(self) -> int:
        return sum(self.reasons.values())


class PduBlock:
    """Mixin for message blocks with one 'pdus' input and one 'pdus' output:
    parse the PDU (``in_kind`` vector, at most ``max_items``), ``process(meta,
    data)`` -> list of (meta, data, kind) to publish. An input error
    (INPUT_ERRORS: BadPdu, format errors, bad text) drops the PDU with its
    reason; any other exception is a bug, dropped as an internal error with
    its traceback logged: the flowgraph keeps running.

    Use as ``class b(PduBlock, gr.basic_block)`` and call ``_setup_pdu(name)``
    after ``gr.basic_block.__init__``.
    """

    in_kind = "u8"
    max_items: int | None = None

    def _setup_pdu(self, name: str) -> None:
        from gnuradio import gr

        self.logger = gr.logger(f"lmsscc.{name}")
        self.drops = DropCounter(self.logger)
        self.pdus_in = 0
        self.pdus_out = 0
        self.failures = Counter()  # published failure reports by kind (count_failure)
        self.message_port_register_in(PDU_PORT)
        self.message_port_register_out(PDU_PORT)
        self.set_msg_handler(PDU_PORT, self._on_pdu)

    def process(self, meta: dict, data):
        raise NotImplementedError

    def _on_pdu(self, msg):
        self.pdus_in += 1
        try:
            meta, data = parse_pdu(msg, self.in_kind, self.max_items)
            outputs = self.process(meta, data)
        except INPUT_ERRORS as e:
            self.drops.drop(str(e))
            return
        except Exception as e:  # never let one message stop the flowgraph
            self.drops.internal_error(e)
            return
        for out_meta, out_data, kind in outputs:
            self.message_port_pub(PDU_PORT, make_pdu(out_meta, out_data, kind))
            self.pdus_out += 1

    def count_failure(self, reason: str) -> None:
        """Count an output that reports a failure (the block logs it itself)."""
        self.failures[reason_kind(reason)] += 1

    def stats(self) -> dict:
        return block_stats(self.drops, self.failures, self.pdus_out, pdus_in=self.pdus_in)
