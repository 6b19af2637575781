# SPDX-License-Identifier: GPL-3.0-or-later
"""Classic general-purpose compressors, run as their command-line tools with
the settings the comparisons name (xz -9e, zstd -19, brotli -q 11, gzip -9)."""

from __future__ import annotations

import shutil
import subprocess

CLASSIC_TOOLS = {
    "xz -9e": ["xz", "-9e", "-c"],
    "zstd -19": ["zstd", "-19", "-c", "-q"],
    "brotli -q 11": ["brotli", "-q", "11", "-c"],
    "gzip -9": ["gzip", "-9", "-n", "-c"],
}


def available_tools() -> dict:
    return {name: cmd for name, cmd in CLASSIC_TOOLS.items() if shutil.which(cmd[0])}


def classic_sizes(data: bytes, tools: dict | None = None) -> dict:
    """Compressed size in bytes of ``data`` for each available tool."""
    sizes = {}
    for name, cmd in (tools or available_tools()).items():
        out = subprocess.run(cmd, input=data, capture_output=True, check=True).stdout
        sizes[name] = len(out)
    return sizes
