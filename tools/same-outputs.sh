#!/usr/bin/env bash
# Runs the same commands with two builds of vaert's commands and compares every output byte for byte:
# a check for changes that must not change behaviour (a restructure, a refactor).
#
#   tools/same-outputs.sh BIN_A BIN_B     e.g. tools/same-outputs.sh /tmp/old/.build/release .build/release
#
# For every ready model: sample grids and folders, reconstructions, latent maps, f16 and int8
# exports; the PyTorch fixtures' imports; a short training run of a vae and a conv-vae (the weights file
# and its checkpoint); vae-train eval's report. Prints one line per output and exits 1 on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
a=$(cd "$1" && pwd) b=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fixtures=Tests/Fixtures/pytorch

# outputs BIN DIR: every output of the command list, written into DIR.
outputs() {
    local bin=$1 out=$2 m name
    mkdir -p "$out"
    for m in tools/models/*.vaert; do
        name=$(basename "$m" .vaert)
        "$bin/decode-cli" sample --weights "$m" --count 64 --grid "$out/$name-grid.jpg" --threads 2 >/dev/null
        "$bin/decode-cli" sample --weights "$m" --count 300 --out "$out/$name-folder" --threads 2 >/dev/null 2>&1 || true
        "$bin/decode-cli" reconstruct --weights "$m" --out "$out/$name-recon.jpg" >/dev/null 2>&1 || true
        "$bin/decode-cli" latent-map --weights "$m" --count 1000 --out "$out/$name-map.svg" >/dev/null 2>&1 || true
        "$bin/export-weights" "$m" --dtype f16 --out "$out/$name-f16.vaert" >/dev/null
        "$bin/export-weights" "$m" --dtype int8 --decoder-only --out "$out/$name-int8.vaert" --c-array "${name//-/_}_int8" >/dev/null
        "$bin/vae-train" eval --weights "$m" --test-limit 500 --json > "$out/$name-eval.json" 2>/dev/null || true
    done
    "$bin/export-weights" $fixtures/course_small.safetensors --out "$out/course_small.vaert" >/dev/null
    "$bin/export-weights" $fixtures/conv_decoder.safetensors --arch $fixtures/conv_decoder.json --out "$out/conv_decoder.vaert" >/dev/null
    for model in vae conv-vae; do
        "$bin/vae-train" --model $model --train-limit 1024 --test-limit 256 --epochs 1 --threads 2 --out "$out/train-$model.vaert" >/dev/null 2>&1
    done
    rm -f "$out"/*.log
}

outputs "$a" "$work/a"
outputs "$b" "$work/b"
(cd "$work/a" && find . -type f | sort | xargs sha256sum) > "$work/a.sums"
(cd "$work/b" && find . -type f | sort | xargs sha256sum) > "$work/b.sums"
echo "same-outputs: $(wc -l < "$work/a.sums") outputs of $a against $(wc -l < "$work/b.sums") of $b"
if diff "$work/a.sums" "$work/b.sums" > "$work/diff"; then
    echo "same-outputs: every output is byte-identical"
else
    sed 's/^/  /' "$work/diff"
    exit 1
fi
