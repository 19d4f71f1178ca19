#!/usr/bin/env bash
# Guards against the fmaf trap: compiles VAECore as the package does on x86-64 (-O, -target-cpu haswell,
# VAERT_FMA) and as a baseline x86-64 build, and checks the generated assembly: the kernels must use
# vfmadd instructions, and neither build may call libm's fmaf (one call per lane, ~160x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -m)" = x86_64 ] || { echo "check-kernel-asm: x86-64 only, skipped on $(uname -m)"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sources=$(find Sources/VAECore -name '*.swift')
swiftc -O -wmo -parse-as-library -module-name VAECore -target-cpu haswell -DVAERT_FMA -emit-assembly $sources -o "$work/fma.s"
swiftc -O -wmo -parse-as-library -module-name VAECore -emit-assembly $sources -o "$work/base.s"
fused=$(grep -c 'vfmadd' "$work/fma.s" || true)
calls=$(cat "$work/fma.s" "$work/base.s" | grep -cE 'call.*\bfmaf' || true)
echo "check-kernel-asm: $fused vfmadd instructions in the FMA build, $calls calls to fmaf in either build"
[ "$fused" -gt 0 ] && [ "$calls" -eq 0 ]
