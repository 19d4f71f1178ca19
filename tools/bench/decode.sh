#!/usr/bin/env bash
# Decode benchmark in one run on the same weights: libvaert from C (tools/bench/decode_bench.c, linked as
# the README says) against ONNX Runtime and PyTorch eager on a graph built from the same weights file.
# Prints images/s, the ratio vaert / ONNX Runtime and vaert's fraction of the machine's FMA peak.
# Usage: tools/bench/decode.sh [MODEL.vaert ...]   (default: the MLP and conv VAEs of tools/models)
#        PYTHON=... to use another Python with onnxruntime, torch and onnx (default ~/.cache/vaert-peers).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-$HOME/.cache/vaert-peers/bin/python}
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(tools/models/fashion-vae.vaert tools/models/fashion-conv-vae.vaert)
tools/build-lib.sh >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cc -O2 tools/bench/decode_bench.c $(PKG_CONFIG_PATH=.build/vaert/lib/pkgconfig pkg-config --cflags --libs vaert) -lpthread -o "$work/bench"
for model in "${models[@]}"; do
    flop=$("$python" -c "import sys; sys.path.insert(0, 'tools/bench'); import vaert_file; print(vaert_file.decoder_flop(vaert_file.read('$model')))")
    echo "== $model: decoder $(awk "BEGIN {print $flop / 1e6}") MFLOP per image"
    "$work/bench" "$model" 2 "$flop" | tee "$work/vaert.txt"
    (cd tools/bench && "$python" decode_peers.py "../../$model" 2) | tee "$work/peers.txt"
    python3 - "$work/vaert.txt" "$work/peers.txt" "$flop" <<'PY'
import re, sys
ours = {(int(t), int(b)): float(r) for t, b, r in re.findall(r"vaert threads (\d+) batch (\d+): (\d+)", open(sys.argv[1]).read())}
peak = float(re.search(r"fma peak, one core: ([0-9.]+)", open(sys.argv[1]).read()).group(1))
flop = float(sys.argv[3])
print(f"{'threads':>7} {'batch':>5} {'vaert img/s':>12} {'ORT img/s':>10} {'PyTorch':>9} {'vaert/ORT':>9} {'vaert/PyTorch':>13} {'% FMA peak':>10}")
for t, b, o, p in re.findall(r"peers threads (\d+) batch (\d+): onnxruntime (\d+) img/s pytorch (\d+)", open(sys.argv[2]).read()):
    v = ours[(int(t), int(b))]
    print(f"{t:>7} {b:>5} {v:>12.0f} {float(o):>10.0f} {float(p):>9.0f} {v / float(o):>9.2f} {v / float(p):>13.2f} {100 * v * flop / 1e9 / (peak * int(t)):>9.0f}%")
PY
done
