#!/usr/bin/env bash
# Two builds of vaert against each other, in one run, interleaved: is a change (a refactor, a new kernel)
# within noise? Both trees must have run tools/build-lib.sh and `swift build -c release`.
#
#   tools/bench/ab-builds.sh TREE_A TREE_B [ROUNDS] [SECONDS_PER_POINT]
#
# Per round and build: decode and encode of the course VAE and decode of the conv VAE through
# tools/bench/vaert_bench.c (1 and 2 threads), and one epoch of vae-train (the course VAE, 2 threads,
# 20,000 images). Prints the median of the rounds for each point and the ratio B / A.
set -euo pipefail
cd "$(dirname "$0")/../.."
a=$(cd "$1" && pwd) b=$(cd "$2" && pwd) rounds=${3:-3} seconds=${4:-1}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for t in a b; do
    tree=${!t}
    cc -O2 tools/bench/vaert_bench.c $(PKG_CONFIG_PATH=$tree/.build/vaert/lib/pkgconfig pkg-config --cflags --libs vaert) \
        -Wl,-rpath,$tree/.build/vaert/lib -o "$work/bench-$t"
done
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%d); A = $a, B = $b, $rounds rounds"
mlp=$PWD/tools/models/fashion-vae.vaert conv=$PWD/tools/models/fashion-conv-vae.vaert
for r in $(seq "$rounds"); do
    for t in a b; do
        tree=${!t}
        {
            "$work/bench-$t" "$mlp" decode "$seconds" 1 256 | sed 's/^vaert /mlp /'
            "$work/bench-$t" "$mlp" encode "$seconds" 256 | sed 's/^vaert /mlp /'
            "$work/bench-$t" "$conv" decode "$seconds" 64 | sed 's/^vaert /conv /'
            start=$(date +%s.%N)
            "$tree/.build/release/vae-train" --train-limit 20000 --test-limit 100 --epochs 1 --threads 2 --out "$work/train-$t.vaert" >/dev/null 2>&1
            echo "train epoch: $(echo "$(date +%s.%N) - $start" | bc) s"
        } >> "$work/$t.txt"
    done
done
python3 - "$work/a.txt" "$work/b.txt" <<'PY'
import re, statistics, sys
def points(path):
    out = {}
    for line in open(path):
        m = re.match(r"(\w+ \w+ threads \d+ batch \d+): (\d+) img/s", line) or re.match(r"(train epoch): ([0-9.]+) s", line)
        if m: out.setdefault(m.group(1), []).append(float(m.group(2)))
    return {k: statistics.median(v) for k, v in out.items()}
a, b = points(sys.argv[1]), points(sys.argv[2])
print("| point | A | B | B / A |\n| --- | --- | --- | --- |")
for k in a:
    unit = "s" if k == "train epoch" else "img/s"
    print(f"| {k} | {a[k]:,.0f} {unit} | {b[k]:,.0f} {unit} | {b[k] / a[k]:.3f} |" if unit == "img/s" else f"| {k} | {a[k]:.2f} s | {b[k]:.2f} s | {b[k] / a[k]:.3f} |")
PY
