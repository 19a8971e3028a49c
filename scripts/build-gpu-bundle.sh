#!/usr/bin/env bash
# Builds, on this CPU-only machine, everything scripts/gpu-check.sh runs on a
# lent GPU machine (which has the CUDA libraries but no Rust toolchain), into
# gpu-bundle/ (git-ignored; carry it with the device tool):
#   gpu-bundle/bin/     leoma-gpu and the test binaries that exercise CUDA code,
#                       built with --features cuda (xz-compressed: a carried tree
#                       is limited to 64 MiB)
#   gpu-bundle/bench/   the flow benchmark, likewise
#   gpu-bundle/lib/     the shared libraries they need that the GPU machine lacks
#                       (ffmpeg's, from this machine), never the CUDA stub
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/leoma-gpu/target}
eval "$(bash scripts/cuda-toolchain.sh)"
# The tests whose CUDA paths matter, plus the example task end to end.
TESTS=(flow_cuda_parity flow_accuracy model_parity example_task)
BENCHES=(flow)
out=gpu-bundle
rm -rf "$out" && mkdir -p "$out/bin" "$out/bench" "$out/lib"
cargo build --release --features cuda --bin leoma-gpu --benches "${TESTS[@]/#/--test=}" \
  --message-format=json-render-diagnostics \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["target"]["kind"][0], m["target"]["name"], m["executable"])' > "$out/executables.txt"
while read -r kind name exe; do
  case "$kind" in
    bench) [[ " ${BENCHES[*]} " == *" $name "* ]] && cp "$exe" "$out/bench/$name" ;;
    *) cp "$exe" "$out/bin/$name" ;;
  esac
done < "$out/executables.txt"
# ffmpeg and its dependencies, as this machine has them (not the CUDA libraries).
ldd "$out/bin/leoma-gpu" | awk '/=> \// {print $3}' | grep -Ev 'libc\.so|libm\.so|libpthread|libdl\.so|ld-linux|libgcc_s|libcuda|libcublas|libcurand|libcudart|libnvrtc' \
  | while read -r lib; do cp -L "$lib" "$out/lib/"; done
xz -T0 -6 "$out"/bin/* "$out"/bench/* 2>/dev/null || true
du -sh "$out"
