// swift-tools-version:6.0
import PackageDescription

// Kernel builds. A SIMD fused multiply-add compiled for plain x86-64 becomes one libm `fmaf` call per
// lane (measured 160x slower), so `VAERT_FMA` selects the fused path only where the build targets a CPU
// with FMA; without it the kernels use `a * b + c`.
//
// On x86-64 the kernel files are compiled three times: `VAEKernels` for any x86-64, `VAEKernelsAVX2`
// (symbolic links to the same files) for AVX2 + FMA + F16C, and `VAEKernelsAVX512` (the same again) for
// AVX-512 F/BW/DQ/VL, whose tiles are twice as wide. VAECore picks one at run time from CPUID, so
// libvaert runs on any x86-64. The trainer and the commands are built for AVX2 machines.
// (tools/modules.sh gives the scripts that compile modules by hand the same graph and flags.)
#if arch(x86_64)
let portableKernelSettings: [SwiftSetting] = []
let fastKernelSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"]), .define("VAERT_FMA"), .define("VAERT_AVX2")]
let widestKernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "skylake-avx512"]), .define("VAERT_FMA"), .define("VAERT_AVX2"), .define("VAERT_AVX512"),
]
let kernelTargets: [Target] = [
    .target(name: "VAEKernels", dependencies: ["VAEKernelTypes"], exclude: ["README.md"], swiftSettings: portableKernelSettings),
    .target(name: "VAEKernelsAVX2", dependencies: ["VAEKernelTypes"], swiftSettings: fastKernelSettings),
    .target(name: "VAEKernelsAVX512", dependencies: ["VAEKernelTypes"], swiftSettings: widestKernelSettings),
]
let kernelDependencies: [Target.Dependency] = ["VAEKernels", "VAEKernelsAVX2", "VAEKernelsAVX512"]
#else
#if arch(arm64)
let portableKernelSettings: [SwiftSetting] = [.define("VAERT_FMA")]
#else
let portableKernelSettings: [SwiftSetting] = []
#endif
let fastKernelSettings = portableKernelSettings
let kernelTargets: [Target] = [
    .target(name: "VAEKernels", dependencies: ["VAEKernelTypes"], exclude: ["README.md"], swiftSettings: portableKernelSettings),
]
let kernelDependencies: [Target.Dependency] = ["VAEKernels"]
#endif

let package = Package(
    name: "vaert",
    products: [
        // MARK: Public API
        .library(name: "vaert", type: .dynamic, targets: ["vaert"]),
        .library(name: "vaert-static", type: .static, targets: ["vaert"]),
        .library(name: "VAECore", targets: ["VAECore"]),
        .library(name: "VAERuntime", targets: ["VAERuntime"]),
        .library(name: "VAETraining", targets: ["VAETraining"]),
        .executable(name: "vae-train", targets: ["vae-train"]),
        .executable(name: "decode-cli", targets: ["decode-cli"]),
        .executable(name: "export-weights", targets: ["export-weights"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: Public API
        .target(name: "VAECore", dependencies: kernelDependencies + ["VAEKernelTypes", "_VaertCPU"], exclude: ["README.md", "WEIGHTS_FORMAT.md"]),
        .target(name: "VAERuntime", dependencies: ["VAECore", "_VaertSupport"], exclude: ["README.md"]),
        .target(name: "vaert", dependencies: ["VAERuntime", "_VaertSupport"], exclude: ["README.md"]),
        .target(name: "VAETraining", dependencies: ["VAERuntime", "VAETrainingKernels", "CZlib", "_VaertCPU"], exclude: ["README.md"], swiftSettings: fastKernelSettings),

        // MARK: Commands
        .target(name: "VAECommandSupport", dependencies: ["VAETraining"], exclude: ["README.md"]),
        .executableTarget(name: "vae-train", dependencies: [
            "VAETraining", "VAECommandSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Explorer/: the page `decode-cli explorer` writes (HTML, CSS and script, filled in with the model).
        .executableTarget(name: "decode-cli", dependencies: [
            "VAETraining", "VAECommandSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], resources: [.copy("Explorer")]),
        .executableTarget(name: "export-weights", dependencies: [
            "VAETraining", "VAECommandSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: Implementation details
        .target(name: "VAEKernelTypes", exclude: ["README.md"]),
        // The trainer's own kernel (the loss), compiled for its AVX2 target.
        .target(name: "VAETrainingKernels", dependencies: ["VAEKernelTypes"], exclude: ["README.md"], swiftSettings: fastKernelSettings),
        .target(name: "_VaertSupport", exclude: ["README.md"], linkerSettings: [.linkedLibrary("jpeg")]),
        .target(name: "_VaertCPU", exclude: ["README.md"]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: Tests
        // TestSupport needs only the runtime, so that VAECoreTests test the core without the trainer.
        .target(name: "TestSupport", dependencies: ["VAERuntime"], path: "Tests/TestSupport"),
        .target(name: "TrainingTestSupport", dependencies: ["TestSupport", "VAETraining"], path: "Tests/TrainingTestSupport"),
        .testTarget(name: "VAECoreTests", dependencies: ["VAECore", "TestSupport"]),
        .testTarget(name: "vaertTests", dependencies: ["vaert", "VAERuntime", "TestSupport", "TrainingTestSupport"]),
        .testTarget(name: "VAETrainingTests", dependencies: ["VAETraining", "VAERuntime", "TestSupport", "TrainingTestSupport"]),
        .testTarget(name: "CommandTests", dependencies: ["TestSupport", "TrainingTestSupport"]),
        // Run by vaertTests under a time limit (a hang must fail, not stall), and under ThreadSanitizer.
        .executableTarget(name: "vaert-pool-stress", dependencies: ["vaert", "VAERuntime"], path: "Tests/PoolStress"),
    ] + kernelTargets
)
