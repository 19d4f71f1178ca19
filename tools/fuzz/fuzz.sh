#!/usr/bin/env bash
# libFuzzer targets for every parser of outside bytes (swiftc -sanitize=fuzzer,address):
#   model         a weights file opened from memory (copied and in place), then run on a small batch
#   idx           the IDX reader, plain and gzipped
#   safetensors   PyTorch import: a .safetensors state dict, architecture inferred from tensor names
#   architecture  PyTorch import: a JSON architecture description over a fixed state dict
#   checkpoint    the training checkpoint reader
#   onnx          ONNX import: the protobuf messages, constant folding and lowering of a torch.onnx.export graph
#
#   tools/fuzz/fuzz.sh build                     .build/fuzz/fuzz-TARGET for each target
#   tools/fuzz/fuzz.sh run TARGET [SECONDS] [libFuzzer options...]
#                                                fuzz one target (default 600 s) from its seed corpus
#                                                (.build/fuzz/corpus/TARGET, seeds written by the target);
#                                                a crash, leak or timeout writes .build/fuzz/crash-TARGET-*
#   tools/fuzz/fuzz.sh smoke [SECONDS]           build, replay tools/fuzz/regressions, fuzz each target
#                                                for SECONDS (default 45) and print its executions; exits 1
#                                                on any finding (CI runs this)
#   tools/fuzz/fuzz.sh regress                   replay every file in tools/fuzz/regressions/TARGET/ once
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source tools/modules.sh
out=$root/.build/fuzz
targets="model idx safetensors architecture checkpoint onnx"
what=${1:-smoke}
# Let libFuzzer see crashes directly (the Swift runtime's backtracer would run first and muddle the report).
export SWIFT_BACKTRACE=enable=no

build() {
    local obj=$out/obj
    mkdir -p "$obj"
    cat > "$obj/module.modulemap" <<MAP
module _VaertCPU { header "$root/Sources/_VaertCPU/include/vaert_cpu.h" export * }
module _VaertSupport { header "$root/Sources/_VaertSupport/include/vaert_support.h" export * }
MAP
    local sanitize="-sanitize=fuzzer,address"
    for c in Sources/_VaertCPU/cpu.c Sources/_VaertSupport/*.c; do
        clang -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/_VaertCPU/include -I Sources/_VaertSupport/include \
            -c "$c" -o "$obj/$(basename "$c" .c).c.o"
    done
    # One whole-module object and its .swiftmodule per module, as SwiftPM's targets (tools/modules.sh).
    local name
    for name in $VAERT_RUNTIME_MODULES $VAERT_TRAINER_MODULES; do
        swiftc -O -g -wmo -parse-as-library $sanitize $(module_flags $name) -module-name "$name" -I "$obj" -I Sources/CZlib \
            -emit-module -emit-module-path "$obj/$name.swiftmodule" -c $(module_sources $name) -o "$obj/$name.o"
    done
    for t in $targets; do
        local file; file=$(ls tools/fuzz/targets/*.swift | grep -i "/$t.swift$")
        swiftc -O -g -parse-as-library $sanitize -module-name "fuzz_$t" -I "$obj" -I Sources/CZlib \
            tools/fuzz/targets/Common.swift "$file" "$obj"/*.o -ljpeg -lz -o "$out/fuzz-$t"
    done
    echo "fuzz targets: $(for t in $targets; do printf '%s ' "$out/fuzz-$t"; done)"
}

# seeds TARGET: the target's seed corpus, written by the target itself.
seeds() {
    local corpus=$out/corpus/$1
    mkdir -p "$corpus"
    VAERT_FUZZ_SEEDS="$corpus" "$out/fuzz-$1"
}

run() {
    local t=$1 seconds=${2:-600}; shift; [ $# -gt 0 ] && shift
    seeds "$t"
    mkdir -p "$out/findings"
    # Inputs up to 64 KB; 10 s for one input is a hang; 2 GB of RSS is a leak or an unbounded allocation.
    "$out/fuzz-$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/findings/crash-$t-" "$@" "$out/corpus/$t" 2>&1 | tee "$out/$t.log" | grep -E "^#[0-9]+.*(INITED|DONE)|ERROR|stat::number_of_executed_units|SUMMARY" || true
    grep -q "^stat::number_of_executed_units" "$out/$t.log" && ! grep -qE "ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)" "$out/$t.log"
}

regress() {
    local failed=0
    for t in $targets; do
        local dir=tools/fuzz/regressions/$t
        [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] || continue
        if "$out/fuzz-$t" "$dir"/* > "$out/regress-$t.log" 2>&1; then
            echo "regressions $t: $(ls "$dir" | wc -l) files pass"
        else
            echo "regressions $t: FAILED (see $out/regress-$t.log)"; failed=1
        fi
    done
    return $failed
}

case $what in
    build) build ;;
    run) [ $# -ge 2 ] || { echo "usage: tools/fuzz/fuzz.sh run TARGET [SECONDS] [libFuzzer options...]" >&2; exit 2; }
         shift; run "$@" ;;
    regress) regress ;;
    smoke)
        seconds=${2:-45}
        build
        regress
        failed=0
        for t in $targets; do
            if run "$t" "$seconds"; then echo "fuzz $t: $(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log") executions in ${seconds} s, no findings"
            else echo "fuzz $t: FINDINGS (see $out/$t.log and $out/findings)"; failed=1; fi
        done
        exit $failed ;;
    *) echo "usage: tools/fuzz/fuzz.sh build|run TARGET [SECONDS]|smoke [SECONDS]|regress" >&2; exit 2 ;;
esac
