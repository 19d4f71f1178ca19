#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, train the course's VAE on
# Fashion-MNIST (10 epochs, batch 128, Adam 1e-3, BCE, beta 1), then write sample and reconstruction grids.
# Usage: tools/run-main.sh [OUT_DIR]    (default: out/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out}
tools/setup.sh
swift build -c release
mkdir -p "$out"
.build/release/vae-train --epochs 10 --out "$out/fashion-vae.vaert"
.build/release/decode-cli sample --weights "$out/fashion-vae.vaert" --count 64 --seed 0 --grid "$out/samples.jpg"
.build/release/decode-cli reconstruct --weights "$out/fashion-vae.vaert" --count 32 --grid "$out/reconstructions.jpg"
echo "done: $out/fashion-vae.vaert, $out/samples.jpg, $out/reconstructions.jpg, $out/fashion-vae.curves.svg"
