#!/usr/bin/env bash
# The benchmark, in one run on this machine and on the same weights:
#   - libvaert from C (tools/bench/vaert_bench.c, linked as the README says) against ONNX Runtime and
#     PyTorch eager on graphs built from the same weights file (tools/bench/peers.py): decode and encode
#     of the course VAE (f32; batch 1 also from f16 and int8 files), decode of the conv VAE; 1 and 2 threads;
#   - the Embedded Swift build of libvaert against the desktop one (when tools/build-embedded.sh host has run);
#   - training the course VAE and the conv VAE (10,000 images) with vae-train against their PyTorch twins
#     (tools/bench/train-vs-pytorch.sh).
# Prints markdown tables: images/s, the ratio vaert / peer, and vaert's fraction of the FMA peak the tool
# measures (at 2 threads, the peak of two cores running at once). Usage: tools/bench/bench.sh [SECONDS_PER_POINT] [TRAINING_EPOCHS (0 skips training)]
# PYTHON=... selects a Python with onnxruntime, torch and onnx (default: ../shared/bench/setup-peers.sh's).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-2}; epochs=${2:-10}
python=${PYTHON:-$HOME/.cache/vaert-peers/bin/python}
"$python" -c "import onnx, onnxruntime, torch" || { echo "bench: needs onnx, onnxruntime and torch in $python (run ../shared/bench/setup-peers.sh)" >&2; exit 1; }
tools/build-lib.sh >/dev/null 2>&1
swift build -c release --product export-weights >/dev/null 2>&1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cc -O2 tools/bench/vaert_bench.c $(PKG_CONFIG_PATH=.build/vaert/lib/pkgconfig pkg-config --cflags --libs vaert) -o "$work/bench"
mlp=tools/models/fashion-vae.vaert conv=tools/models/fashion-conv-vae.vaert
.build/release/export-weights convert "$mlp" --dtype f16 --out "$work/mlp-f16.vaert" >/dev/null
.build/release/export-weights convert "$mlp" --dtype int8 --out "$work/mlp-int8.vaert" >/dev/null
.build/release/export-weights convert "$mlp" --dtype int8 --int8-everywhere --out "$work/mlp-int8-everywhere.vaert" >/dev/null
family=$(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -1); model=$(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -1)
caches=$(lscpu -C=NAME,ONE-SIZE 2>/dev/null | awk 'NR > 1 && $1 != "L1i" { printf "%s%s %s", (n++ ? ", " : ""), $1, $2 }')
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') (family $family, model $model), $(nproc) cores, caches per core ${caches:-unknown}; $(date -u +%Y-%m-%d)"

# compare NAME MODEL OP BATCH...: one table row per (threads, batch).
compare() {
    local name=$1 model=$2 op=$3; shift 3
    local stack=${op/encode/encoder}; stack=${stack/decode/decoder}
    local flop
    flop=$("$python" -c "import sys; sys.path.insert(0, 'tools/bench'); import vaert_file; print(vaert_file.flop(vaert_file.read('$model'), '$stack'))")
    "$work/bench" "$model" "$op" "$seconds" "$@" > "$work/vaert.txt"
    local absolute; absolute=$(realpath "$model")
    (cd tools/bench && "$python" peers.py "$absolute" "$op" "$seconds" "$@") > "$work/peers.txt"
    python3 - "$name" "$work/vaert.txt" "$work/peers.txt" "$flop" <<'PY'
import re, sys
name, ours_text, peers_text, flop = sys.argv[1], open(sys.argv[2]).read(), open(sys.argv[3]).read(), float(sys.argv[4])
ours = {(int(t), int(b)): float(r) for t, b, r in re.findall(r"threads (\d+) batch (\d+): (\d+)", ours_text)}
peak = float(re.search(r"fma peak, one core: ([0-9.]+)", ours_text).group(1))
both = float(re.search(r"fma peak, two cores at once: ([0-9.]+)", ours_text).group(1))
for t, b, o, p in re.findall(r"threads (\d+) batch (\d+): onnxruntime (\d+) img/s pytorch (\d+)", peers_text):
    v = ours[(int(t), int(b))]
    print(f"| {name} | {b} | {t} | {v:.0f} | {1e6 / v * int(t):.1f} | {float(o):.0f} | {float(p):.0f} | {v / float(o):.2f} | {v / float(p):.2f} | {100 * v * flop / 1e9 / (peak if t == '1' else both):.0f}% |")
print(f"<!-- {name}: {flop / 1e6:.3f} MFLOP per image; FMA peak measured {peak} GFLOP/s on one core, {both} on two at once -->")
PY
}

echo
echo "| what | batch | threads | vaert img/s | vaert µs/img·thread | ONNX Runtime img/s | PyTorch img/s | vaert/ORT | vaert/PyTorch | vaert % of FMA peak |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
compare "decode, course VAE, f32" "$mlp" decode 1 64 256
compare "decode, course VAE, f16 file" "$work/mlp-f16.vaert" decode 1
compare "decode, course VAE, int8 file" "$work/mlp-int8.vaert" decode 1
compare "encode, course VAE" "$mlp" encode 1 256
compare "decode, conv VAE" "$conv" decode 1 64 256

# int8 against ONNX Runtime's dynamic quantization of the same f32 graph (peers.py --int8, IO binding).
# int8 rows: the --dtype int8 file (dense layers of 2^14 weights or more on the integer kernels, the pixel
# layer's int8 chosen output-aware; the 20 -> 400 layer f16) and the --int8-everywhere file (every layer on them).
int8_compare() {
    local op=$1; shift
    "$work/bench" "$mlp" "$op" "$seconds" "$@" > "$work/f32.txt"
    "$work/bench" "$work/mlp-int8.vaert" "$op" "$seconds" "$@" > "$work/int8.txt"
    "$work/bench" "$work/mlp-int8-everywhere.vaert" "$op" "$seconds" "$@" > "$work/everywhere.txt"
    (cd tools/bench && "$python" peers.py --int8 "$(realpath "../../$mlp")" "$op" "$seconds" "$@" 2>/dev/null) > "$work/ort.txt"
    python3 - "$op" "$work" <<'PY'
import re, sys
op, work = sys.argv[1], sys.argv[2]
rates = lambda name: {(int(t), int(b)): float(r) for t, b, r in re.findall(r"threads (\d+) batch (\d+): (\d+)", open(f"{work}/{name}.txt").read())}
f32, int8, everywhere = rates("f32"), rates("int8"), rates("everywhere")
for t, b, of, oi in re.findall(r"threads (\d+) batch (\d+): onnxruntime-f32 (\d+) img/s onnxruntime-int8 (\d+)", open(f"{work}/ort.txt").read()):
    key, of, oi = (int(t), int(b)), float(of), float(oi)
    print(f"| {op} | {b} | {t} | {f32[key]:.0f} | {int8[key]:.0f} | {everywhere[key]:.0f} | {of:.0f} | {oi:.0f} | "
          f"{int8[key] / oi:.2f} | {everywhere[key] / oi:.2f} | {f32[key] / int8[key]:.2f} | {f32[key] / everywhere[key]:.2f} |")
PY
}
echo
echo "| op | batch | threads | vaert f32 img/s | vaert int8 img/s | vaert int8-everywhere img/s | ORT f32 img/s | ORT int8 img/s | int8 / ORT int8 | everywhere / ORT int8 | int8 time / f32 time | everywhere time / f32 time |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
int8_compare decode 1 256
int8_compare encode 1 256

echo
# The Embedded Swift build (tools/build-embedded.sh host) against the desktop library, same program.
if [ -f .build/embedded/host/libvaert.a ]; then
    cc -O2 tools/bench/vaert_bench.c -I Include .build/embedded/host/libvaert.a -lm -Wl,--gc-sections -o "$work/bench-embedded"
    for build in embedded desktop; do
        program="$work/bench"; [ $build = embedded ] && program="$work/bench-embedded"
        "$program" "$mlp" decode "$seconds" 1 256 | sed -n "s/^vaert decode threads 1 /$build build, decode, course VAE, 1 thread, /p"
    done
fi
"$work/bench" "$mlp" idle
echo "kernels: $(cc -x c - -o "$work/kernels" $(PKG_CONFIG_PATH=.build/vaert/lib/pkgconfig pkg-config --cflags --libs vaert) <<<'#include <stdio.h>
#include "vaert.h"
int main(void) { puts(vaert_kernels()); return 0; }' && "$work/kernels")"
if [ "$epochs" -gt 0 ]; then
    echo
    PYTHON=$python tools/bench/train-vs-pytorch.sh "$epochs" 2 vae | tail -2
    PYTHON=$python tools/bench/train-vs-pytorch.sh "$epochs" 2 conv-vae 10000 | tail -2
fi
