# The Swift module graph and kernel flags, for the scripts that compile modules by hand
# (build-embedded.sh, fuzz/fuzz.sh, check-kernel-asm.sh). Package.swift states the same graph for SwiftPM.
# Source it from the repository root.

# The runtime's modules, in dependency order: each imports only modules before it.
VAERT_RUNTIME_MODULES="VAEKernelTypes VAEKernels VAECore VAERuntime vaert"
# The trainer's, on top of the runtime's (VAEKernelsAVX2 and VAEKernelsAVX512 are VAECore's other kernel
# builds on x86-64; the commands' own files are not modules).
VAERT_TRAINER_MODULES="VAEKernelsAVX2 VAEKernelsAVX512 VAETrainingKernels VAETraining"
# The AVX2 + FMA code generation of VAEKernelsAVX2, VAETrainingKernels and VAETraining (Package.swift's
# fastKernelSettings): without VAERT_FMA the kernels use a * b + c, never libm fmaf.
VAERT_FAST_FLAGS="-target-cpu haswell -DVAERT_FMA -DVAERT_AVX2"
# The AVX-512 build's (Package.swift's widestKernelSettings).
VAERT_WIDEST_FLAGS="-target-cpu skylake-avx512 -DVAERT_FMA -DVAERT_AVX2 -DVAERT_AVX512"

# module_sources NAME: the module's Swift files (symbolic links included), sorted.
module_sources() { find "Sources/$1" -name '*.swift' | sort; }

# module_flags NAME: the code-generation flags the package gives module NAME on x86-64.
module_flags() {
    case $1 in
        VAEKernelsAVX2|VAETrainingKernels|VAETraining) echo "$VAERT_FAST_FLAGS" ;;
        VAEKernelsAVX512) echo "$VAERT_WIDEST_FLAGS" ;;
        *) echo "" ;;
    esac
}

# embedded_flags TARGET: the code generation of the Embedded runtime for the host, a cross target (a
# triple) or a board of tools/device/run.sh. Cores without SIMD units get the compact kernels (one element at a time);
# VAERT_FMA wherever the FPU fuses a multiply-add (the compact scalar exp then rounds as the desktop's
# vector one does, so int8 models decode to the same bits).
embedded_flags() {
    # LLVM's ARM load/store optimizer miscompiles Swift code for Thumb-2: it merges loads through the
    # swiftself register (r10) into an `ldm r10!` whose writeback clobbers r10, which the Swift calling
    # convention keeps callee-saved (found running the build bare metal under qemu-system-arm; without the
    # pass it decodes as the desktop library does). It costs about 540 bytes of code.
    # Cortex-M4/M7 have the DSP extension: the integer kernels use its SXTB16 + SMLAD.
    local arm="-Osize -DVAERT_COMPACT_KERNELS -DVAERT_ARM_DSP -Xllvm -arm-load-store-opt=false"
    case $1 in
        host) echo "-O $VAERT_FAST_FLAGS" ;;  # x86-64 with AVX2 + FMA
        armv7em-none-none-eabi|cortex-m4) echo "$arm -DVAERT_FMA -Xcc -mfloat-abi=hard -Xcc -mfpu=fpv4-sp-d16" ;;
        cortex-m7) echo "$arm -DVAERT_FMA -Xcc -mfloat-abi=hard -Xcc -mcpu=cortex-m7 -Xcc -mfpu=fpv5-d16" ;;
        cortex-m4-soft) echo "$arm -Xcc -mfloat-abi=soft" ;;  # no FPU: every float operation is a libgcc call
        riscv32-none-none-eabi|rv32) echo "-Osize -DVAERT_COMPACT_KERNELS -DVAERT_FMA -Xcc -march=rv32imafc -Xcc -mabi=ilp32f" ;;
        aarch64-none-none-elf) echo "-Osize -DVAERT_FMA" ;;  # NEON tiles
        wasm32-unknown-none-wasm) echo "-Osize -DVAERT_COMPACT_KERNELS" ;;  # no fused multiply-add in wasm32's core set
        *) echo "embedded_flags: unknown target $1" >&2; return 1 ;;
    esac
}

# embedded_triple TARGET: the Swift target triple of a cross target or board.
embedded_triple() {
    case $1 in
        cortex-m4|cortex-m7|cortex-m4-soft) echo armv7em-none-none-eabi ;;
        rv32) echo riscv32-none-none-eabi ;;
        host) echo x86_64-unknown-linux-gnu ;;
        *) echo "$1" ;;
    esac
}

# embedded_modules DIR TARGET: the runtime's modules in Embedded Swift for TARGET, whole-module, one
# DIR/NAME.o each (function sections, for --gc-sections). Needs the C module maps in
# .build/embedded/maps (tools/build-embedded.sh writes them).
embedded_modules() {
    local dir=$1 target=$2 name triple flags
    triple=$(embedded_triple "$target"); flags=$(embedded_flags "$target")
    mkdir -p "$dir"
    for name in $VAERT_RUNTIME_MODULES; do
        # shellcheck disable=SC2046,SC2086
        swiftc -enable-experimental-feature Embedded -wmo -parse-as-library -target "$triple" -module-name "$name" \
            -I "$dir" -I .build/embedded/maps -Xfrontend -function-sections -emit-module -emit-module-path "$dir/$name.swiftmodule" \
            $flags -c $(module_sources "$name") -o "$dir/$name.o"
    done
}
