#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One-shot GPU training of the paper-size ECCT on LDPC(49,24), sized for <= 9 minutes on one H200.
#
# Exact command (device machine, repository root; $OUT is the folder that comes back):
#   OUT=$OUT bash bench/gpu_train_ecct.sh
# What it does: train/train_ecct.py --variant paper, N=6 layers, d=128, 8 heads, bf16 autocast,
# batch 4096, all-zero codewords and AWGN noise drawn on the GPU (no host round trip per step),
# MINUTES (default 7) of training on a cosine schedule, a safetensors checkpoint (model + Adam
# state) every 60 s into $OUT, then evaluation at 4/5/6 dB on EVAL_FRAMES (default 1,000,000)
# random codewords per point, encoded and decoded on the GPU, and BP-50 on BP_FRAMES host frames
# of the same points. Everything is wrapped in `timeout` (LIMIT_S, default 540 s): if it fires, the
# last checkpoint in $OUT is still usable (`train/train_ecct.py ... --export-only --ckpt FILE`).
# Outputs in $OUT:
#   ecct_LDPC_N49_K24_awgn_gpu.safetensors / .json   weights + card (config incl. "variant")
#   ecct_LDPC_N49_K24_awgn_gpu.ckpt.safetensors      last checkpoint
#   ecct_gpu_record.json                             run record: command, config, training
#                                                    (steps, samples_seen, samples_per_s, ...), final_metrics
#   train.log                                        the training log
# CPU smoke test (tests/fec/test_ecct.py runs this, seconds):
#   OUT=/tmp/x DEVICE=cpu MINUTES=0.03 LAYERS=1 D_MODEL=8 HEADS=2 BATCH=64 EVAL_FRAMES=2000 \
#       BP_FRAMES=200 bash bench/gpu_train_ecct.sh
# Any variable below can be overridden from the environment the same way.
set -euo pipefail

: "${OUT:?set OUT to the output folder}"
DEVICE=${DEVICE:-cuda}
CODE=${CODE:-LDPC_N49_K24}
MINUTES=${MINUTES:-7}
LIMIT_S=${LIMIT_S:-540}
LAYERS=${LAYERS:-6}
D_MODEL=${D_MODEL:-128}
HEADS=${HEADS:-8}
BATCH=${BATCH:-4096}
LR=${LR:-1e-3}
EVAL_FRAMES=${EVAL_FRAMES:-1000000}
BP_FRAMES=${BP_FRAMES:-100000}
THREADS=${THREADS:-4}

cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-}
if [[ -z "$PYTHON" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
mkdir -p "$OUT"

# Without the installed module (a bare GPU machine has torch but not GNU Radio), import the pure
# Python channel-coding package (with the channel model and the training helpers it imports)
# straight from the source tree through a small shim package.
if ! "$PYTHON" -c "import gnuradio.lmsscc.fec.ecct" 2>/dev/null; then
    SHIM=$(mktemp -d)
    mkdir -p "$SHIM/gnuradio/lmsscc"
    echo '"""source-tree shim: channel coding only"""' > "$SHIM/gnuradio/lmsscc/__init__.py"
    for part in fec phy ddp.py; do ln -s "$ROOT/python/lmsscc/$part" "$SHIM/gnuradio/lmsscc/$part"; done
    ln -s "$ROOT/python/lmsscc/weights" "$SHIM/gnuradio/lmsscc/weights"
    export PYTHONPATH="$SHIM${PYTHONPATH:+:$PYTHONPATH}"
    "$PYTHON" -c "import gnuradio.lmsscc.fec.ecct, safetensors, tqdm" || {
        echo "gpu_train_ecct: needs torch, numpy, safetensors and tqdm for $PYTHON" >&2; exit 2; }
fi

STEM="$OUT/ecct_${CODE}_awgn_gpu"
set -x
timeout --signal=INT "$LIMIT_S" "$PYTHON" train/train_ecct.py --code "$CODE" --fading none \
    --variant paper --layers "$LAYERS" --d-model "$D_MODEL" --heads "$HEADS" --bf16 \
    --batch "$BATCH" --lr "$LR" --minutes "$MINUTES" --device "$DEVICE" --threads "$THREADS" \
    --ckpt "$STEM.ckpt.safetensors" --ckpt-minutes 1 --resume \
    --eval-on-device --eval-ebn0 4 5 6 --eval-frames "$EVAL_FRAMES" --eval-bp-frames "$BP_FRAMES" \
    --out "$STEM" --record "$OUT/ecct_gpu_record.json" 2>&1 | tee "$OUT/train.log"
