#!/usr/bin/env bash
# Runs on a lent GPU machine (see the device tool), from the repository root,
# with gpu-bundle/ carried (built here by scripts/build-gpu-bundle.sh) and the
# example media carried in examples/. Runs the carried test binaries (their
# CUDA-vs-CPU parity tests run only where a GPU is present), the flow
# benchmark (a batch of 32 clips x 80 pairs on the GPU beside the CPU), and
# the example task on GPU and CPU, and prints a short table.
set -uo pipefail
cd "$(dirname "$0")/.."
SP=$(python3 -c 'import torch,pathlib;print(pathlib.Path(torch.__file__).parent.parent)' 2>/dev/null)
export LD_LIBRARY_PATH="$PWD/gpu-bundle/lib${SP:+:$SP/nvidia/cu13/lib}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
for f in gpu-bundle/bin/*.xz gpu-bundle/bench/*.xz; do [ -e "$f" ] && xz -d -f "$f"; done
chmod +x gpu-bundle/bin/* gpu-bundle/bench/* 2>/dev/null
export LEOMA_EXAMPLES_DIR="$PWD/examples"
log=${OUT:-/tmp}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
printf '| check | result | seconds |\n|---|---|---:|\n'
for t in gpu-bundle/bin/*; do
  name=$(basename "$t")
  [ "$name" = leoma-gpu ] && continue
  missing=$(ldd "$t" | grep 'not found' || true)
  if [ -n "$missing" ]; then printf '| %s | missing libs: %s | |\n' "$name" "$(echo "$missing" | awk '{print $1}' | tr '\n' ' ')"; continue; fi
  start=$(date +%s.%N)
  if "$t" --test-threads 1 --nocapture > "$log/$name.log" 2>&1; then r=pass; else r=FAIL; fi
  printf '| %s | %s (%s) | %.1f |\n' "$name" "$r" "$(grep -E '^test result' "$log/$name.log" | tail -1 | cut -c14-60)" "$(echo "$(date +%s.%N) - $start" | bc)"
done
for mode in gpu cpu; do
  flag=""; [ $mode = cpu ] && flag="--cpu"
  start=$(date +%s.%N)
  if gpu-bundle/bin/leoma-gpu evaluate examples/task --clip models/tiny/clip --siglip models/tiny/siglip --dino models/tiny/dinov2 $flag --out "$log/eval-$mode.json" 2>"$log/eval-$mode.log"; then r=ok; else r=FAIL; fi
  printf '| evaluate example (%s, tiny models) | %s | %.1f |\n' "$mode" "$r" "$(echo "$(date +%s.%N) - $start" | bc)"
done
echo
grep -hE '^pair [0-9]+: max' "$log/flow_cuda_parity.log" 2>/dev/null
for b in gpu-bundle/bench/*; do [ -x "$b" ] && "$b" --bench 2>&1 | tee "$log/bench-$(basename "$b").log"; done
