#!/usr/bin/env python3
"""lm_zip: compress text files with a language model and a range coder.

    lm_zip.py compress IN OUT [--model NAME] [--stats]
    lm_zip.py decompress IN OUT [--model NAME] [--stats]

IN or OUT may be '-' for stdin/stdout. --stats prints one JSON object on
stdout (or stderr when OUT is stdout). The receiver must use the same model
and settings; a mismatch is refused by fingerprint.
"""

import argparse
import json
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["compress", "decompress"])
    p.add_argument("input", help="input file, or - for stdin")
    p.add_argument("output", help="output file, or - for stdout")
    p.add_argument("--model", default="default",
                   help="'default' (embedded SmolLM2-135M), a .gguf file, or a local HF model folder")
    p.add_argument("--precision", type=int, default=24, help="range coder precision in bits (default 24)")
    p.add_argument("--threads", type=int, default=1, help="threads (hf engine: part of the fingerprint)")
    p.add_argument("--engine", default="hf", choices=["hf", "native"],
                   help="hf: transformers; native: the deterministic C++ engine (fast, batched)")
    p.add_argument("--batch", type=int, default=8,
                   help="native engine: chunks coded concurrently in one batched model step")
    p.add_argument("--context", default="none",
                   help="priming context both ends know: none, a built-in name (europarl, news, radio) or a text file")
    p.add_argument("--chunk-chars", type=int, default=4096, help="characters per independent chunk")
    p.add_argument("--stats", action="store_true", help="print a JSON summary")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
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


def main(argv=None):
    args = parse_args(argv)
    from tqdm import tqdm

    from gnuradio.lmsscc.source import LMCodec, MessageFormatError, NumericSettings, load_context, load_model
    from gnuradio.lmsscc.source import lmzip

    data = read_input(args.input)
    if args.mode == "compress":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            sys.exit(f"lm_zip: {args.input} is not UTF-8 text ({e}); lm_zip codes text only")
    lm = load_model(args.model, NumericSettings(threads=args.threads, engine=args.engine))
    try:
        codec = LMCodec(lm, precision=args.precision, context=load_context(args.context))
    except ValueError as e:
        sys.exit(f"lm_zip: {e}")
    bar_kw = dict(unit="tok", disable=True if args.quiet else None, file=sys.stderr)
    batched = None
    if args.engine == "native" and args.batch > 1:
        from gnuradio.lmsscc.source import native_engine

        def make_codec(m):
            return LMCodec(m, precision=args.precision, context=codec.context)

        batched = (lambda texts: native_engine.encode_batch(make_codec, lm, texts),
                   lambda msgs: native_engine.decode_batch(make_codec, lm, msgs), args.batch)
    try:
        if args.mode == "compress":
            total = sum(len(lm.tokenize(p)) for p in lmzip.split_text(text, args.chunk_chars))
            with tqdm(total=total, desc="compress", **bar_kw) as bar:
                out, stats = lmzip.compress(codec, text, args.chunk_chars, progress=bar.update,
                                            batched=batched)
        else:
            total = lmzip.chunk_tokens(codec, lmzip.split_container(data))
            with tqdm(total=total, desc="decompress", **bar_kw) as bar:
                decoded, stats = lmzip.decompress(codec, data, progress=bar.update, batched=batched)
            out = decoded.encode("utf-8")
    except (MessageFormatError, ValueError) as e:
        sys.exit(f"lm_zip: {e}")
    write_output(args.output, out)
    if args.stats:
        summary = dict(stats.as_dict(), mode=args.mode, model=lm.name, precision=args.precision)
        stream = sys.stderr if args.output == "-" else sys.stdout
        print(json.dumps(summary), file=stream)


if __name__ == "__main__":
    main()
