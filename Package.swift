// swift-tools-version:6.0
import PackageDescription

// Kernels need AVX2+FMA code generation: a SIMD fused multiply-add compiled for plain x86-64
// becomes one libm `fmaf` call per lane (measured 160x slower). `VAERT_FMA` selects the fused
// path in the kernels; without it they use `a * b + c`.
#if arch(x86_64)
let kernelSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"]), .define("VAERT_FMA")]
#elseif arch(arm64)
let kernelSettings: [SwiftSetting] = [.define("VAERT_FMA")]
#else
let kernelSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "vaert",
    products: [
        // MARK: Public API
        .library(name: "vaert", type: .dynamic, targets: ["vaert"]),
        .library(name: "vaert-static", type: .static, targets: ["vaert"]),
        .library(name: "VAECore", targets: ["VAECore"]),
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
        .target(name: "VAECore", exclude: ["README.md", "WEIGHTS_FORMAT.md"], swiftSettings: kernelSettings),
        .target(name: "vaert", dependencies: ["VAECore", "_VaertSupport"], exclude: ["README.md"], swiftSettings: kernelSettings),
        .target(name: "VAETraining", dependencies: ["VAECore", "vaert", "CZlib"], exclude: ["README.md"], swiftSettings: kernelSettings),

        // MARK: Commands
        .executableTarget(name: "vae-train", dependencies: [
            "VAETraining", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "decode-cli", dependencies: [
            "VAETraining", "vaert", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "export-weights", dependencies: [
            "VAETraining", "vaert", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: Implementation details
        .target(name: "_VaertSupport", linkerSettings: [.linkedLibrary("jpeg")]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["VAECore", "VAETraining"], path: "Tests/TestSupport"),
        .testTarget(name: "VAECoreTests", dependencies: ["VAECore", "TestSupport"]),
        .testTarget(name: "vaertTests", dependencies: ["vaert", "VAECore", "TestSupport"]),
        .testTarget(name: "VAETrainingTests", dependencies: ["VAETraining", "VAECore", "TestSupport"]),
        .testTarget(name: "CommandTests", dependencies: ["TestSupport"]),
    ]
)
