#!/usr/bin/env bash
# Trains one model of each kind on Fashion-MNIST (10 epochs, seed 0) into tools/models/, the models the
# README's figures and the model-zoo tests use. About 20 minutes on 2 cores (the conv-vae is most of it).
# Usage: tools/train-model-zoo.sh [OUT_DIR]      (VAE_TRAIN=path runs another vae-train binary)
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
