#!/usr/bin/env bash
# Trains one model of each kind on Fashion-MNIST (10 epochs, seed 0) into tools/models/, the models the
# README's figures and the model-zoo tests use. About 60 minutes on 2 cores (the conv-vae, the vq-vae and its prior most of it).
# Usage: tools/train-model-zoo.sh [OUT_DIR]      (VAE_TRAIN=path runs another vae-train binary, EXPORT_WEIGHTS another export-weights)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-tools/models}
if [ -z "${VAE_TRAIN:-}" ]; then swift build -c release --product vae-train >&2; fi
vae_train=${VAE_TRAIN:-.build/release/vae-train}
mkdir -p "$out"
train() { name=$1; shift; "$vae_train" --epochs 10 --seed 0 --out "$out/$name.vaert" "$@"; rm -f "$out/$name.ckpt" "$out/$name.curves.svg"; }
train fashion-vae
train fashion-conv-vae --model conv-vae
train fashion-cvae --model cvae --beta 2   # beta 2 keeps class information out of z (see README)
train fashion-dae --model dae --noise saltpepper:0.3 --latent 64
train fashion-sparse-ae --model sparse-ae --latent 64 --sparsity 0.05 --sparsity-weight 3
train fashion-cae --model cae --latent 64 --contractive 10
train fashion-vq-vae --model vq-vae   # a 7x7 grid of codes from 512 vectors of 64
"$vae_train" prior --weights "$out/fashion-vq-vae.vaert" --epochs 10 --seed 0   # its PixelCNN prior, stored in the same file
# Made for a microcontroller (tools/device): 16 -> 256 -> 784; its int8 form has every layer in int8 (the
# integer path on every target, to the same bits), 206 KB of decoder weights.
train fashion-micro-vae --latent 16 --hidden 256
export_weights=${EXPORT_WEIGHTS:-.build/release/export-weights}
[ -n "${EXPORT_WEIGHTS:-}" ] || swift build -c release --product export-weights >&2
"$export_weights" convert "$out/fashion-micro-vae.vaert" --dtype int8 --int8-everywhere --out "$out/fashion-micro-vae-int8.vaert"
