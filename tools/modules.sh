# The Swift module graph and kernel flags, for the scripts that compile modules by hand
# (build-embedded.sh, fuzz/fuzz.sh, check-kernel-asm.sh). Package.swift states the same graph for SwiftPM.
# Source it from the repository root.

# The runtime's modules, in dependency order: each imports only modules before it.
VAERT_RUNTIME_MODULES="VAEKernelTypes VAEKernels VAECore VAERuntime vaert"
# The trainer's, on top of the runtime's (VAEKernelsAVX2 is VAECore's second kernel build on x86-64; the
# commands' own files are not modules).
VAERT_TRAINER_MODULES="VAEKernelsAVX2 VAETrainingKernels VAETraining"
# The AVX2 + FMA code generation of VAEKernelsAVX2, VAETrainingKernels and VAETraining (Package.swift's
# fastKernelSettings): without VAERT_FMA the kernels use a * b + c, never libm fmaf.
VAERT_FAST_FLAGS="-target-cpu haswell -DVAERT_FMA -DVAERT_AVX2"

# module_sources NAME: the module's Swift files (symbolic links included), sorted.
module_sources() { find "Sources/$1" -name '*.swift' | sort; }

# module_flags NAME: the code-generation flags the package gives module NAME on x86-64.
module_flags() {
    case $1 in VAEKernelsAVX2|VAETrainingKernels|VAETraining) echo "$VAERT_FAST_FLAGS" ;; *) echo "" ;; esac
}
