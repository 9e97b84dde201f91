#!/usr/bin/env bash
# Rebuilds models/promptscope-tiny-lm, models/promptscope-tiny-sentiment and models/promptscope-tiny-long from nothing.
#   models/build/build.sh            full build (fixed step counts, deterministic)
#   models/build/build.sh --quick    briefly trained versions with the same files and interfaces
# Needs Debian's packages: python3-torch python3-onnx python3-numpy python3-regex libopenblas0-pthread
# python3.11-doc (the English training text). Intermediate files go to models/build/.cache (not committed).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
LM_STEPS=${LM_STEPS:-300}
LM_STEPS2=${LM_STEPS2:-250}
SENT_STEPS=${SENT_STEPS:-500}
LONG_STEPS_B=${LONG_STEPS_B:-600}
LONG_STEPS_I=${LONG_STEPS_I:-300}
LONG_STEPS_J=${LONG_STEPS_J:-120}
if [[ "${1:-}" == "--quick" ]]; then LM_STEPS=60; LM_STEPS2=0; SENT_STEPS=200; LONG_STEPS_B=20; LONG_STEPS_I=10; LONG_STEPS_J=10; fi
if ! $PY -c "import torch, onnx, numpy, regex" 2>/dev/null || [[ ! -d /usr/share/doc/python3.11/html/_sources ]]; then
  echo "missing build dependencies; install them with:" >&2
  echo "  apt-get install -y python3-torch python3-onnx python3-numpy python3-regex libopenblas0-pthread python3.11-doc" >&2
  exit 1
fi
mkdir -p models/build/.cache
start=$(date +%s)
$PY models/build/build_lm.py --steps "$LM_STEPS" --steps2 "$LM_STEPS2" 2>&1 | grep --line-buffered -v -e TracerWarning -e "^  " | tee models/build/.cache/build_lm.log
$PY models/build/build_sentiment.py --steps "$SENT_STEPS" 2>&1 | grep --line-buffered -v -e TracerWarning -e "^  " | tee models/build/.cache/build_sentiment.log
# the long-context model reuses the tiny LM's tokenizer, so it comes after it
$PY models/build/build_long.py --steps-b "$LONG_STEPS_B" --steps-i "$LONG_STEPS_I" --peak-i 5e-4 --i-pack 4 --i-attn 1 --i-readout 30 --steps-j "$LONG_STEPS_J" 2>&1 | grep --line-buffered -v -e TracerWarning -e "^  " | tee models/build/.cache/build_long.log
# its held-out accuracy as the engine measures it (onnxruntime through the ModelRunner), into eval/metrics.json
if [[ -d node_modules ]]; then node --import tsx test/eval/longContext.ts; fi
echo "build finished in $(( $(date +%s) - start ))s"
