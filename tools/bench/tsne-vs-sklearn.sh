#!/usr/bin/env bash
# vaert's t-SNE against scikit-learn's on the same latent means of the course VAE, in one run
# (tools/bench/tsne-vs-sklearn.py says how each figure is computed).
# Usage: tools/bench/tsne-vs-sklearn.sh [COUNT (5000)] [THREADS (2)] [MODEL (tools/models/fashion-vae.vaert)]
# PYTHON=... selects a Python with scikit-learn (default: ../shared/bench/setup-peers.sh's).
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-5000}; threads=${2:-2}; model=${3:-tools/models/fashion-vae.vaert}
python=${PYTHON:-$HOME/.cache/vaert-peers/bin/python}
"$python" -c "import sklearn, scipy" || { echo "tsne-vs-sklearn: needs scikit-learn in $python (run ../shared/bench/setup-peers.sh)" >&2; exit 1; }
swift build -c release --product decode-cli >/dev/null 2>&1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') (family $(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -1), model $(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(nproc) cores; scikit-learn $("$python" -c 'import sklearn; print(sklearn.__version__)'); $(date -u '+%Y-%m-%d %H:%M UTC')"
.build/release/decode-cli latent-map --weights "$model" --count "$count" --method pca --threads "$threads" --out "$work/pca.svg" --coords "$work/pca.csv" >/dev/null
line=$(.build/release/decode-cli latent-map --weights "$model" --count "$count" --method tsne --threads "$threads" --out "$work/tsne.svg" --coords "$work/tsne.csv" | head -1)
echo "vaert: $line"
seconds=$(sed -n 's/.*: \([0-9.]*\) s, KL.*/\1/p' <<<"$line")
"$python" tools/bench/tsne-vs-sklearn.py "$work/tsne.csv" "$work/pca.csv" "$seconds" "$threads"
