#!/usr/bin/env bash
# Guards the kernels' code generation. Compiles Sources/VAEKernels as the package does on x86-64, once for
# AVX2 (-O, -target-cpu haswell, VAERT_FMA: the VAEKernelsAVX2 build) and once for any x86-64 (the
# VAEKernels build), and checks the assembly:
#  - the AVX2 build uses vfmadd and vcvtph2ps (f16 weights widened in hardware);
#  - neither build calls libm's fmaf (the fmaf trap: one call per lane, ~160x slower);
#  - neither calls the standard library's generic pointwiseMax/pointwiseMin (a call per vector).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -m)" = x86_64 ] || { echo "check-kernel-asm: x86-64 only, skipped on $(uname -m)"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sources=$(find Sources/VAEKernels -name '*.swift')
swiftc -O -wmo -parse-as-library -module-name VAEKernelsAVX2 -target-cpu haswell -DVAERT_FMA -emit-assembly $sources -o "$work/fma.s"
swiftc -O -wmo -parse-as-library -module-name VAEKernels -emit-assembly $sources -o "$work/base.s"
fused=$(grep -c 'vfmadd' "$work/fma.s" || true)
widen=$(grep -c 'vcvtph2ps' "$work/fma.s" || true)
calls=$(cat "$work/fma.s" "$work/base.s" | grep -cE 'call.*\bfmaf' || true)
generic=$(cat "$work/fma.s" "$work/base.s" | grep -cE 'call.*pointwise(Max|Min)' || true)
echo "check-kernel-asm: AVX2 build: $fused vfmadd, $widen vcvtph2ps; either build: $calls calls to fmaf, $generic to pointwiseMax/Min"
[ "$fused" -gt 0 ] && [ "$widen" -gt 0 ] && [ "$calls" -eq 0 ] && [ "$generic" -eq 0 ]
