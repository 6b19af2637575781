#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build and run the gr-lmsscc fuzz targets (see docs/reliability.md).
#
#   fuzz/run.sh build                   build the libFuzzer binaries only
#   fuzz/run.sh range  [libFuzzer args] C++ range decoder + CDF quantizer
#   fuzz/run.sh parsers [libFuzzer args] message.unpack, parse_frame, parse_phy_header (atheris)
#   e.g. fuzz/run.sh range -runs=1000000     or     fuzz/run.sh parsers -max_total_time=60
#
# C++ targets: clang -fsanitize=fuzzer,address,undefined, every UB report fatal.
# Needs: clang (or clang-14) and libclang-rt-14-dev; atheris in .venv for 'parsers'.
# New inputs and crash artifacts go to $FUZZ_OUT/<target>/ (default fuzz/out,
# ignored); the committed seeds in fuzz/corpus/<target>/ are only read.
# Exit status: 0 no finding, 77 toolchain missing, anything else a finding.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
BUILD="${FUZZ_BUILD:-$REPO/build/fuzz}"
PY="${PYTHON:-$REPO/.venv/bin/python}"
OUT="${FUZZ_OUT:-$REPO/fuzz/out}"  # new corpus units and crash artifacts

find_clang() {
    for c in clang++ clang++-14 clang++-15 clang++-16; do
        command -v "$c" >/dev/null && { echo "$c"; return; }
    done
    echo "fuzz/run.sh: no clang++ found (apt-get install clang-14 libclang-rt-14-dev)" >&2
    exit 77
}

build_range() {
    local cxx; cxx="$(find_clang)"
    mkdir -p "$BUILD"
    local bin="$BUILD/fuzz_range_decoder"
    local srcs=("$HERE/fuzz_range_decoder.cc" "$REPO/lib/range_coder.cc" "$REPO/lib/cdf_quantizer.cc")
    if [ ! -x "$bin" ] || [ -n "$(find "${srcs[@]}" "$REPO/include" -newer "$bin" 2>/dev/null)" ]; then
        if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
                "$cxx" -x c++ -fsanitize=fuzzer,address,undefined - -o "$BUILD/probe" 2>/dev/null; then
            echo "fuzz/run.sh: $cxx cannot link libFuzzer + sanitizers (apt-get install libclang-rt-14-dev)" >&2
            exit 77
        fi
        "$cxx" -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
            -I"$REPO/include" "${srcs[@]}" -o "$bin"
    fi
    echo "$bin"
}

run_target() {
    local name="$1"; shift
    mkdir -p "$OUT/$name"
    local opts=(-print_final_stats=1 -max_len=2048 -artifact_prefix="$OUT/$name/crash-")
    case "$name" in
        range)
            local bin; bin="$(build_range)"
            "$bin" "${opts[@]}" "$@" "$OUT/$name" "$HERE/corpus/$name" ;;
        parsers)
            "$PY" -c 'import atheris' 2>/dev/null || { echo "fuzz/run.sh: atheris missing in $PY (pip install atheris)" >&2; exit 77; }
            "$PY" "$HERE/fuzz_parsers.py" "${opts[@]}" "$@" "$OUT/$name" "$HERE/corpus/$name" ;;
        *) echo "unknown target $name (range|parsers)" >&2; exit 2 ;;
    esac
}

case "${1:-}" in
    build) build_range ;;
    range|parsers) t="$1"; shift; run_target "$t" "$@" ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
esac
