#!/usr/bin/env bash
# Guards the kernels' code generation. Compiles the kernel modules with the package's flags on x86-64
# (tools/modules.sh): VAEKernels for any x86-64, for AVX2 (-O, -target-cpu haswell, VAERT_FMA) the
# VAEKernelsAVX2 build and the trainer's VAETrainingKernels, and for AVX-512 (-target-cpu skylake-avx512)
# VAEKernelsAVX512, and checks the assembly:
#  - the AVX2 build uses vfmadd, and vpmaddubsw + vpmaddwd in the integer kernels, and never calls the software f16 conversion __extendhfsf2;
#  - the AVX-512 build's tiles use vfmadd on 512-bit registers (zmm);
#  - neither build calls libm's fmaf (the fmaf trap: one call per lane, ~160x slower);
#  - neither calls the standard library's generic pointwiseMax/pointwiseMin (a call per vector);
#  - the AVX2 and AVX-512 builds define no standard-library specialisation ($ss... weak symbols): builds would
#    define it under one name, and the linker keeps one copy for both, so AVX2 code could run on a CPU
#    without AVX2 (or the AVX2 path could get the slow copy, as a SIMD16<Float16> conversion once did).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -m)" = x86_64 ] || { echo "check-kernel-asm: x86-64 only, skipped on $(uname -m)"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source tools/modules.sh
# asm NAME OUT: module NAME's assembly, compiled against its dependency VAEKernelTypes.
swiftc -O -wmo -parse-as-library -module-name VAEKernelTypes -emit-module -emit-module-path "$work/VAEKernelTypes.swiftmodule" \
    $(module_sources VAEKernelTypes) -o "$work/types.o" -c
asm() { swiftc -O -wmo -parse-as-library -I "$work" -module-name "$1" $(module_flags "$1") -emit-assembly $(module_sources "$1") -o "$2"; }
asm VAEKernelsAVX2 "$work/avx2.s"
asm VAETrainingKernels "$work/training.s"
asm VAEKernelsAVX512 "$work/avx512.s"
cat "$work/avx2.s" "$work/training.s" "$work/avx512.s" > "$work/fma.s"
asm VAEKernels "$work/base.s"
fused=$(grep -c 'vfmadd' "$work/fma.s" || true)
integer=$(grep -cE 'vpmaddubsw|vpmaddwd' "$work/avx2.s" || true)
wide=$(grep -cE 'vfmadd[0-9]+ps.*%zmm' "$work/avx512.s" || true)
calls=$(cat "$work/fma.s" "$work/base.s" | grep -cE 'call.*\bfmaf' || true)
generic=$(cat "$work/fma.s" "$work/base.s" | grep -cE 'call.*pointwise(Max|Min)' || true)
soft=$(grep -cE 'call.*__extendhfsf2' "$work/fma.s" || true)
shared=$(awk '$1 == ".weak" && $2 ~ /^\$ss/ { weak[$2] = 1 } $1 == ".type" && $2 ~ /@function$/ { sub(/,@function$/, "", $2); if ($2 in weak) n++ } END { print n + 0 }' "$work/fma.s")
echo "check-kernel-asm: AVX2 and AVX-512 builds: $fused vfmadd ($wide on zmm), $integer vpmaddubsw/vpmaddwd, $soft calls to __extendhfsf2, $shared standard-library specialisations; any build: $calls calls to fmaf, $generic to pointwiseMax/Min"
[ "$fused" -gt 0 ] && [ "$wide" -gt 0 ] && [ "$integer" -gt 0 ] && [ "$soft" -eq 0 ] && [ "$shared" -eq 0 ] && [ "$calls" -eq 0 ] && [ "$generic" -eq 0 ]
