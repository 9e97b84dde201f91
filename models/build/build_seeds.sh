#!/usr/bin/env bash
# Trains seed variants of the bundled models (same tokenizer, data and recipe as build.sh; other
# initialisation and data order) into models/<model>/seeds/seed-<k>, weights stored as float16.
#   models/build/build_seeds.sh [first last]   (default seeds 1..4; sentiment variants first: they are quicker)
#   MODELS=lm models/build/build_seeds.sh 3 4   only the LM's variants 3 and 4
# Each variant is written only when its training has finished; seed_reference.py then writes every variant's
# float64 reference and its held-out accuracy with the stored float16 weights.
# BUILD_THREADS=1 trains with one thread (two builds side by side on two cores; the bundled variants were
# trained so); float sums may then differ in the last bits from a two-thread build of the same seed.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
FIRST=${1:-1}
LAST=${2:-4}
LM_STEPS=${LM_STEPS:-300}
LM_STEPS2=${LM_STEPS2:-250}
SENT_STEPS=${SENT_STEPS:-500}
MODELS=${MODELS:-"sentiment lm"}  # which models to train variants of
mkdir -p models/build/.cache
build() {  # script model steps-args...
  local script=$1 model=$2 k=$3; shift 3
  local out=models/$model/seeds/seed-$k tmp=models/build/.cache/$model-seed-$k
  rm -rf "$tmp"
  $PY "models/build/$script" --train-seed "$k" --out "$tmp" "$@" 2>&1 | grep --line-buffered -v -e TracerWarning -e "^  " \
    | tee "models/build/.cache/$model-seed-$k.log"
  rm -rf "$tmp/reference" "$out"
  mkdir -p "$(dirname "$out")"
  mv "$tmp" "$out"
}
[[ " $MODELS " == *" sentiment "* ]] && for k in $(seq "$FIRST" "$LAST"); do build build_sentiment.py promptscope-tiny-sentiment "$k" --steps "$SENT_STEPS"; done
[[ " $MODELS " == *" lm "* ]] && for k in $(seq "$FIRST" "$LAST"); do build build_lm.py promptscope-tiny-lm "$k" --steps "$LM_STEPS" --steps2 "$LM_STEPS2"; done
$PY models/build/seed_reference.py
