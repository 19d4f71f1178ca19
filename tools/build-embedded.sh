#!/usr/bin/env bash
# Builds the runtime (the modules of VAERT_RUNTIME_MODULES in tools/modules.sh: kernel types, kernels,
# VAECore, VAERuntime and the C ABI of Sources/vaert) in Embedded Swift, from the same source files as the
# package, with no Swift runtime library.
#
#   tools/build-embedded.sh host     .build/embedded/host/libvaert.a: x86-64 Linux with the C glue, for AVX2 +
#                                    FMA CPUs (one kernel build: in Embedded Swift a client module re-emits the
#                                    code it calls from another module, so the portable and AVX2 builds cannot
#                                    be kept apart as in the package). Its only global symbols are the C API's
#                                    (everything else is localised: ld -r, then objcopy --keep-global-symbols),
#                                    so it links into a plain C program (cc app.c libvaert.a -lm -Wl,--gc-sections; -ljpeg too if it writes JPEGs) and
#                                    next to a normal Swift runtime without clashing.
#   tools/build-embedded.sh cross    the Swift part for armv7em-none-none-eabi, aarch64-none-none-elf,
#                                    riscv32-none-none-eabi and wasm32-unknown-none-wasm (-Osize), and a report
#                                    of the code (.text) and data a decode-only program keeps (linked with
#                                    --gc-sections from the entry points a device uses: in-place model,
#                                    workspace, decode and sample).
#                                    For wasm32 it also links vaert.wasm, runnable under node with
#                                    tools/wasm/decode.mjs and the module `decode-cli explorer` puts in its
#                                    page (the decode-only API plus vaert_get_image_range); for AArch64, decode-linux, a static Linux
#                                    program without a C library, runnable under qemu-aarch64
#                                    (tools/freestanding/decode_linux.c).
#   tools/build-embedded.sh wasm     only the wasm32 target of cross (what `decode-cli explorer` needs).
#   tools/build-embedded.sh          both.
# With --check-budgets, exits 1 when a cross target's decode-only code or data grows past its budget in
# tools/embedded-budgets.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source tools/modules.sh
out=$root/.build/embedded
# The Swift toolchain's own LLVM tools (no other LLVM install needed).
tools=$(dirname "$(command -v swiftc)")
what=${1:-all}; [ "$what" = --check-budgets ] && what=all
check_budgets=0; for a in "$@"; do [ "$a" = --check-budgets ] && check_budgets=1; done
mkdir -p "$out/maps"
# Module maps for the C targets (SwiftPM writes its own; swiftc needs them spelled out).
cat > "$out/maps/module.modulemap" <<EOF
module _VaertCPU { header "$root/Sources/_VaertCPU/include/vaert_cpu.h" export * }
module _VaertSupport { header "$root/Sources/_VaertSupport/include/vaert_support.h" export * }
EOF
api=$(sed -n 's/^VAERT_API [^(]*[ *]\([a-z_0-9]*\)(.*/\1/p' Include/vaert.h | sort -u)
# What a device that decodes uses: the model in place, a workspace of its own, decode and sample.
decode_api="vaert_model_size vaert_init_static vaert_open_memory_in_place vaert_close vaert_get_kind vaert_get_latent_dim vaert_get_image_shape vaert_get_class_count
            vaert_workspace_size vae_decode_ws vaert_sample_ws vaert_sample_latent vaert_status_string vaert_last_error vaert_version_number"

build_host() {
    local dir=$out/host
    rm -rf "$dir"; mkdir -p "$dir"
    embedded_modules "$dir" host
    for c in Sources/_VaertCPU/cpu.c Sources/_VaertSupport/*.c; do
        cc -O2 -fPIC -ffunction-sections -I Sources/_VaertCPU/include -I Sources/_VaertSupport/include -c "$c" -o "$dir/$(basename "$c" .c).c.o"
    done
    # One relocatable object, keeping only what the C API reaches (unused code such as derived String
    # comparisons would otherwise pull in Unicode tables), then every other symbol made local.
    printf '%s\n' $api > "$dir/api.txt"
    local roots=""; for f in $api; do roots="$roots -u $f"; done
    ld -r --gc-sections $roots "$dir"/*.o -o "$dir/vaert-all.o"
    "$tools/llvm-objcopy" --keep-global-symbols="$dir/api.txt" "$dir/vaert-all.o"
    rm -f "$dir/libvaert.a"
    ar rcs "$dir/libvaert.a" "$dir/vaert-all.o"
    echo "embedded host: $dir/libvaert.a ($("$tools/llvm-nm" -g --defined-only "$dir/libvaert.a" | grep -c ' T ') global functions)"
}

# section_sizes FILE: bytes of code (TEXT sections) and of initialised data (DATA: .rodata, .data, ...).
section_sizes() {
    local text=0 data=0 size kind
    while read -r size kind; do
        case $kind in
            TEXT) text=$((text + 16#$size)) ;;
            DATA) data=$((data + 16#$size)) ;;
        esac
    done < <("$tools/llvm-objdump" -h "$1" | awk '$1 ~ /^[0-9]+$/ && NF >= 5 {print $3, $NF}')
    echo "$text $data"
}

# build_cross TARGET...
build_cross() {
    printf '%-26s %10s %8s\n' target decode-text data
    for target in "$@"; do
        local dir=$out/$target
        rm -rf "$dir"; mkdir -p "$dir"
        embedded_modules "$dir" $target
        local text data
        if [ $target = wasm32-unknown-none-wasm ]; then
            local exports=""; for f in $decode_api; do exports="$exports --export=$f"; done
            "$tools/wasm-ld" --no-entry --gc-sections --allow-undefined $exports "$dir"/*.o -o "$dir/decode.wasm"
            read -r text data <<<"$(section_sizes "$dir/decode.wasm")"
            # A runnable module for node (tools/wasm/decode.mjs): the same code plus a freestanding
            # allocator, mem* functions and the message buffer.
            "$tools/clang" --target=wasm32-unknown-unknown -ffreestanding -nostdlib -O2 -c tools/freestanding/support.c -o "$dir/support.c.o"
            "$tools/wasm-ld" --no-entry --gc-sections $exports --export=vaert_get_image_range --export=malloc "$dir"/*.o -o "$dir/vaert.wasm"
        else
            local roots=""; for f in $decode_api; do roots="$roots -u $f"; done
            "$tools/ld.lld" --gc-sections --unresolved-symbols=ignore-all -e vae_decode_ws $roots "$dir"/*.o -o "$dir/decode.elf"
            read -r text data <<<"$(section_sizes "$dir/decode.elf")"
        fi
        if [ $target = aarch64-none-none-elf ]; then
            # The same objects as a static AArch64 Linux program without a C library, for qemu-aarch64
            # (tools/freestanding/decode_linux.c); every symbol must resolve.
            local c="$tools/clang --target=aarch64-linux-gnu -ffreestanding -nostdlib -fno-stack-protector -fno-math-errno -O2 -I Include"
            mkdir -p "$dir/linux"
            $c -c tools/freestanding/decode_linux.c -o "$dir/linux/decode_linux.c.o"
            $c -c tools/freestanding/support.c -o "$dir/linux/support.c.o"
            "$tools/ld.lld" -static --gc-sections -e _start "$dir"/linux/*.o "$dir"/*.o -o "$dir/decode-linux"
        fi
        printf '%-26s %10s %8s\n' $target "$text" "$data"
        echo "$target $text $data" >> "$out/sizes.txt"
        integer_instructions $target
    done
}

# integer_instructions TARGET: the integer kernels' instructions must be in the decode-only program
# (Cortex-M's dual 16-bit multiply-accumulate, AArch64's widening multiply and pairwise accumulate).
integer_instructions() {
    local wanted
    case $1 in
        armv7em-none-none-eabi) wanted="smlad sxtb16" ;;
        aarch64-none-none-elf) wanted="smull sadalp" ;;
        *) return 0 ;;
    esac
    local listing; listing=$("$tools/llvm-objdump" -d "$out/$1/decode.elf")
    for instruction in $wanted; do
        grep -qE "\b$instruction\b" <<<"$listing" || { echo "$1: the integer kernels lost $instruction" >&2; exit 1; }
    done
    # The miscompile that -arm-load-store-opt=false avoids: a load-multiple that writes back swiftself.
    if [ "$1" = armv7em-none-none-eabi ] && grep -qE "\bldm(ia)?(\.w)?[[:space:]]+r10!" <<<"$listing"; then
        echo "$1: an ldm writes back r10 (swiftself), which LLVM's ARM load/store optimizer miscompiles" >&2; exit 1
    fi
}

check() {
    local failed=0
    while read -r target text data; do
        read -r _ max_text max_data <<<"$(grep "^$target " tools/embedded-budgets.txt)"
        if [ "$text" -gt "$max_text" ] || [ "$data" -gt "$max_data" ]; then
            echo "over budget: $target decode-only text $text (budget $max_text), data $data (budget $max_data)"
            failed=1
        fi
    done < "$out/sizes.txt"
    [ $failed -eq 0 ] && echo "embedded sizes within budget (tools/embedded-budgets.txt)"
    return $failed
}

cross_targets="armv7em-none-none-eabi aarch64-none-none-elf riscv32-none-none-eabi wasm32-unknown-none-wasm"
rm -f "$out/sizes.txt"
case $what in
    host) build_host ;;
    cross) build_cross $cross_targets ;;
    wasm) build_cross wasm32-unknown-none-wasm ;;
    all) build_host; build_cross $cross_targets ;;
    *) echo "usage: tools/build-embedded.sh [host|cross|wasm] [--check-budgets]" >&2; exit 2 ;;
esac
if [ $check_budgets -eq 1 ] && [ -f "$out/sizes.txt" ]; then check; fi
