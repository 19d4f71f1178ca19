#!/usr/bin/env bash
# How many epochs a cvae needs before its samples show their class: trains the default cvae (beta 2) and
# one with beta 1 for 1 ... EPOCHS epochs (continuing each run with --resume, which gives the same bits
# as an uninterrupted run), and after each epoch prints the share of 1000 class-conditional samples that
# a classifier trained on the real images labels with the class they were asked for
# (`vae-train eval --class-accuracy`). About 1 minute per epoch and beta on 2 cores.
# Usage: tools/cvae-epochs.sh [EPOCHS]      (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-5}
swift build -c release --product vae-train >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| epochs | beta 2 (default) | beta 1 |"
echo "| --- | --- | --- |"
for e in $(seq 1 "$epochs"); do
    row="| $e |"
    for beta in 2 1; do
        resume=(); [ "$e" -gt 1 ] && resume=(--resume)
        .build/release/vae-train --model cvae --beta "$beta" --epochs "$e" --out "$work/cvae-$beta.vaert" "${resume[@]}" > /dev/null
        share=$(.build/release/vae-train eval --weights "$work/cvae-$beta.vaert" --class-accuracy --json | sed 's/.*"class_accuracy_samples": \([0-9.]*\).*/\1/')
        row="$row $(awk -v s="$share" 'BEGIN { printf "%.1f%%", 100 * s }') |"
    done
    echo "$row"
done
