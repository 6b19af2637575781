#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""lm_zip: compress text files with a language model and a range coder.

    lm_zip.py compress IN OUT [--engine E] [--context C] [--header-format F] ...
    lm_zip.py decompress IN OUT

The file records the settings it was made with (engine, header format,
precision, priming context, chunking, model), so `decompress IN OUT` needs no
flags; a flag that contradicts the file is refused with one line. IN or OUT
may be '-' for stdin/stdout. --stats prints one JSON object on stdout (or
stderr when OUT is stdout).
"""

import argparse
import json
import sys
from dataclasses import replace

from gnuradio.lmsscc.source import ENGINE_CHOICES, HEADER_FORMATS

# Values used when neither the command line nor the file says otherwise.
COMPRESS_DEFAULTS = dict(precision=24, threads=1, header_format="lean", context="none",
                         chunk_chars=4096)
# Version-1 files (LMZ1) record nothing; these were the defaults that wrote them.
LEGACY_DEFAULTS = dict(engine="hf", precision=24, threads=1, context="none")


class SettingsError(Exception):
    """A flag contradicts the file, or the file needs something not here."""


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["compress", "decompress"])
    p.add_argument("input", help="input file, or - for stdin")
    p.add_argument("output", help="output file, or - for stdout")
    p.add_argument("--model", help="'default' (embedded SmolLM2-135M, the default), a .gguf file, "
                   "or a local HF model folder (decompress: the one the file names)")
    p.add_argument("--precision", type=int, help="range coder precision in bits (default 24)")
    p.add_argument("--threads", type=int, help="threads (default 1; hf engine: part of the fingerprint)")
    p.add_argument("--engine", choices=ENGINE_CHOICES,
                   help="auto (default): native for Llama-family GGUF models, hf otherwise; "
                        "hf: transformers; native: the deterministic C++ engine (fast, batched)")
    p.add_argument("--header-format", choices=HEADER_FORMATS,
                   help="message header of each chunk (default lean: smallest; standard: CRC-32)")
    p.add_argument("--batch", type=int, default=8,
                   help="native engine: chunks coded concurrently in one batched model step")
    p.add_argument("--context",
                   help="priming context both ends know: none (default), a built-in name "
                        "(europarl, news, radio) or a text file")
    p.add_argument("--chunk-chars", type=int, help="characters per independent chunk (default 4096)")
    p.add_argument("--stats", action="store_true", help="print a JSON summary")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no settings line")
    return p.parse_args(argv)


def read_input(path):
    return sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()


def write_output(path, data):
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        with open(path, "wb") as f:
            f.write(data)


def compress_settings(args):
    """ZipSettings from the flags and the defaults (context digest filled later)."""
    from gnuradio.lmsscc.source import choose_engine, lmzip

    values = {k: getattr(args, k) if getattr(args, k) is not None else v
              for k, v in COMPRESS_DEFAULTS.items()}
    model = args.model or "default"
    engine = args.engine if args.engine not in (None, "auto") else choose_engine(model)
    if values["header_format"] == "standard" and values["context"] != "none":
        raise SettingsError("the standard header format cannot carry a priming context: "
                            "use --header-format compact or lean")
    return replace(lmzip.DEFAULTS, engine=engine, model=model, **values)


def _flag(name, value):
    return f"--{name.replace('_', '-')} {value}"


def decompress_settings(args, container, infile):
    """The file's settings, checked against every flag given; raises
    SettingsError with one line where they disagree."""
    from gnuradio.lmsscc.source import lmzip, load_context, message

    recorded = container.settings
    if recorded is None:  # version 1: the flags, or the defaults of the time
        version = container.messages[0][0] >> 4 if container.messages else 1
        values = {k: getattr(args, k) if getattr(args, k) not in (None, "auto") else v
                  for k, v in LEGACY_DEFAULTS.items()}
        return replace(lmzip.DEFAULTS, model=args.model or "default",
                       header_format=message.HEADER_FORMAT_NAMES.get(version, "standard"), **values)
    checked = ["engine", "precision", "header_format", "chunk_chars"]
    if recorded.engine == "hf":  # the native engine's logits do not depend on threads
        checked.append("threads")
    for name in checked:
        given = getattr(args, name)
        if given is not None and given != "auto" and given != getattr(recorded, name):
            raise SettingsError(
                f"{infile} was compressed with {_flag(name, getattr(recorded, name))}, not "
                f"{_flag(name, given)}: drop the flag (the file records its settings)")
    if args.context is not None:
        ctx = load_context(args.context)
        digest = ctx.digest[: lmzip.CONTEXT_DIGEST_BYTES] if ctx else b""
        if digest != recorded.context_digest:
            was = recorded.context or "an unknown built-in"
            raise SettingsError(
                f"{infile} was compressed with --context {was}, which is not the given --context "
                f"{args.context}: drop the flag (the file records its settings)")
        recorded = replace(recorded, context=args.context)
    threads = args.threads if args.threads is not None else recorded.threads
    return replace(recorded, model=args.model or recorded.model, threads=threads)


def load_codec(settings, infile=None):
    """The model and codec for the settings (a file context is checked against
    the digest the file records)."""
    from gnuradio.lmsscc.source import LMCodec, NumericSettings, builtin_names, load_context, lmzip
    from gnuradio.lmsscc.source import shared_model

    if settings.context == "":
        raise SettingsError(
            f"{infile} was primed with a built-in context this lm_zip does not have (digest "
            f"{settings.context_digest.hex()}; built-in here: {', '.join(builtin_names())}): pass "
            "--context FILE with that text")
    try:
        ctx = load_context(settings.context)
    except ValueError as e:
        where = f"{infile} was primed with '{settings.context}', not a built-in context: " if infile else ""
        raise SettingsError(f"{where}{e}") from None
    recorded_digest = settings.context_digest
    if infile and recorded_digest and ctx.digest[: lmzip.CONTEXT_DIGEST_BYTES] != recorded_digest:
        raise SettingsError(f"{infile} was primed with another text named '{settings.context}' "
                            f"(digest {settings.context_digest.hex()}): pass --context with that file")
    lm = shared_model(settings.model, NumericSettings(threads=settings.threads, engine=settings.engine))
    try:
        codec = LMCodec(lm, precision=settings.precision, context=ctx,
                        header_format=settings.header_format)
    except ValueError as e:
        raise SettingsError(str(e)) from None
    return lm, codec


def batched_runner(args, lm, codec):
    if lm.settings.engine != "native" or args.batch <= 1:
        return None
    from gnuradio.lmsscc.source import LMCodec
    from gnuradio.lmsscc.source.models import batching

    def same_codec(m):
        return LMCodec(m, precision=codec.precision, context=codec.context,
                       header_format=codec.header_format)

    return (lambda texts: batching.encode_batch(same_codec, lm, texts),
            lambda msgs: batching.decode_batch(same_codec, lm, msgs), args.batch)


def run(args):
    from tqdm import tqdm

    from gnuradio.lmsscc.source import lmzip

    data = read_input(args.input)
    bar_kw = dict(unit="tok", disable=True if args.quiet else None, file=sys.stderr)
    if args.mode == "compress":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SettingsError(f"{args.input} is not UTF-8 text ({e}); lm_zip codes text only") from None
        settings = compress_settings(args)
        lm, codec = load_codec(settings)
    else:
        container = lmzip.read_container(data)
        settings = decompress_settings(args, container, args.input)
        lm, codec = load_codec(settings, args.input)
    if not args.quiet:
        print(f"lm_zip: {settings.describe()}", file=sys.stderr)
    batched = batched_runner(args, lm, codec)
    if args.mode == "compress":
        total = sum(len(lm.tokenize(p)) for p in lmzip.split_text(text, settings.chunk_chars))
        with tqdm(total=total, desc="compress", **bar_kw) as bar:
            out, stats = lmzip.compress(codec, text, settings.chunk_chars, progress=bar.update,
                                        batched=batched, model=settings.model)
    else:
        total = lmzip.chunk_tokens(codec, container.messages)  # checks every header first
        with tqdm(total=total, desc="decompress", **bar_kw) as bar:
            decoded, stats = lmzip.decompress(codec, container, progress=bar.update, batched=batched)
        out = decoded.encode("utf-8")
    write_output(args.output, out)
    if args.stats:
        summary = dict(stats.as_dict(), mode=args.mode, model=lm.name, engine=settings.engine,
                       header_format=settings.header_format, context=settings.context,
                       precision=settings.precision)
        stream = sys.stderr if args.output == "-" else sys.stdout
        print(json.dumps(summary), file=stream)


def main(argv=None):
    args = parse_args(argv)
    from gnuradio.lmsscc.source import MessageFormatError

    try:
        run(args)
    except (SettingsError, MessageFormatError, ValueError, OSError) as e:
        sys.exit(f"lm_zip: {e}")


if __name__ == "__main__":
    main()
