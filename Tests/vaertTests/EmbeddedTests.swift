import Foundation
import Testing
import TestSupport

/// The Embedded Swift build of libvaert (`tools/build-embedded.sh host`, run by tools/test.sh first):
/// a static library with no Swift runtime whose only global symbols are the C API's.
@Suite(.serialized, .enabled(if: TestSupport.Artifact.library.isAvailable && TestSupport.Artifact.embedded.isAvailable,
                             "needs the Embedded builds and libvaert: run tools/build-embedded.sh and tools/build-lib.sh (tools/test.sh does)"))
struct EmbeddedTests {
    static let library = "\(TestSupport.root)/.build/embedded/host/libvaert.a"
    static let desktopLib = "\(TestSupport.root)/.build/vaert/lib"

    /// The functions vaert.h declares.
    static var api: Set<String> {
        get throws {
            let header = try String(contentsOfFile: "\(TestSupport.root)/Include/vaert.h", encoding: .utf8)
            let pattern = try NSRegularExpression(pattern: "^VAERT_API [^(]*?[ *]([a-z_0-9]+)\\(", options: .anchorsMatchLines)
            let range = NSRange(header.startIndex..., in: header)
            return Set(pattern.matches(in: header, range: range).map { String(header[Range($0.range(at: 1), in: header)!]) })
        }
    }

    /// Links the C program `source`. With the Embedded library, no -ljpeg: the test programs do not write
    /// JPEGs, and `--gc-sections` drops `vaert_write_jpeg` with its libjpeg calls (a device without libjpeg).
    func build(_ source: String, output: String, embedded: Bool) throws {
        #expect(FileManager.default.fileExists(atPath: Self.library), "run tools/build-embedded.sh host first")
        let link = embedded ? [Self.library, "-lm", "-Wl,--gc-sections"] : ["-L", Self.desktopLib, "-lvaert", "-Wl,-rpath,\(Self.desktopLib)", "-lm"]
        let cc = try TestSupport.run("/usr/bin/cc", ["-std=c99", "-O2", "-I", "\(TestSupport.root)/Include", source, "-o", output] + link)
        #expect(cc.status == 0, "cc: \(cc.stderr)")
    }

    @Test("the Embedded libvaert.a exports exactly the C API and nothing else")
    func onlyTheAPI() throws {
        let nm = try TestSupport.run("/usr/bin/env", ["llvm-nm", "-g", "--defined-only", Self.library])
        #expect(nm.status == 0, "\(nm.stderr)")
        let exported = Set(nm.stdout.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count == 3 ? String(fields[2]) : nil
        })
        let api = try Self.api
        #expect(api.count > 20 && exported == api, "extra: \(exported.subtracting(api)), missing: \(api.subtracting(exported))")
    }

    @Test("a C program linked with it needs no Swift library and decodes the desktop library's pixels bit for bit",
          arguments: ["vae", "conv-vae", "cvae"])
    func sameBitsAsDesktop(name: String) throws {
        try TestSupport.withTemporaryFolder { folder in
            let source = "\(TestSupport.root)/Tests/CPrograms/c_decode.c"
            try build(source, output: "\(folder)/embedded", embedded: true)
            try build(source, output: "\(folder)/desktop", embedded: false)
            let ldd = try TestSupport.run("/usr/bin/ldd", ["\(folder)/embedded"])
            #expect(ldd.status == 0 && !ldd.stdout.contains("swift") && !ldd.stdout.contains("jpeg"), "\(ldd.stdout)")
            let z = TestSupport.randomFloats(64 * 20, seed: 21, in: -2...2)
            let labels = (0..<64).map { Int32($0 % 10) }
            try z.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(folder)/z.bin")) }
            try labels.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(folder)/labels.bin")) }
            let model = "\(TestSupport.root)/tools/models/fashion-\(name).vaert"
            for program in ["embedded", "desktop"] {
                let run = try TestSupport.run("\(folder)/\(program)", [model, "\(folder)/z.bin", "\(folder)/\(program).bin", "\(folder)/labels.bin"])
                #expect(run.status == 0, "\(program): \(run.stderr)")
            }
            let embedded = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/embedded.bin"))
            let desktop = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/desktop.bin"))
            #expect(embedded.count == 64 * 784 * 4 && embedded == desktop)
        }
    }

    @Test("with it: no allocation after warm-up, the same bits for any thread count, and caller-owned memory (in place, exact workspaces)",
          arguments: [("c_runtime_check", "runtime checks passed"), ("c_workspace_check", "workspace checks passed")])
    func runtimeGuarantees(program: String, passed: String) throws {
        try TestSupport.withTemporaryFolder { folder in
            try build("\(TestSupport.root)/Tests/CPrograms/\(program).c", output: "\(folder)/check", embedded: true)
            let run = try TestSupport.run("\(folder)/check", [TestSupport.readyModel])
            #expect(run.status == 0 && run.stdout.contains(passed), "\(run.stdout)\(run.stderr)")
        }
    }

    @Test("a normal Swift program links it next to the Swift runtime without clashes, and decodes as with the desktop library")
    func swiftProgram() throws {
        try TestSupport.withTemporaryFolder { folder in
            try "module CVaert { header \"\(TestSupport.root)/Include/vaert.h\" export * }\n".write(toFile: "\(folder)/module.modulemap", atomically: true, encoding: .utf8)
            let source = "\(TestSupport.root)/Tests/CPrograms/swift_consumer.swift"
            let swiftc = ProcessInfo.processInfo.environment["SWIFTC"] ?? "/opt/swift/usr/bin/swiftc"
            let embedded = try TestSupport.run(swiftc, ["-O", "-I", folder, source, Self.library, "-ljpeg", "-lm", "-o", "\(folder)/embedded"])
            #expect(embedded.status == 0, "\(embedded.stderr)")
            let desktop = try TestSupport.run(swiftc, ["-O", "-I", folder, source, "-L", Self.desktopLib, "-lvaert", "-Xlinker", "-rpath", "-Xlinker", Self.desktopLib,
                                                       "-o", "\(folder)/desktop"])
            #expect(desktop.status == 0, "\(desktop.stderr)")
            let a = try TestSupport.run("\(folder)/embedded", [TestSupport.readyModel])
            let b = try TestSupport.run("\(folder)/desktop", [TestSupport.readyModel])
            #expect(a.status == 0 && b.status == 0, "\(a.stderr)\(b.stderr)")
            #expect(a.stdout.hasPrefix("sum ") && a.stdout == b.stdout, "\(a.stdout) vs \(b.stdout)")
        }
    }

    /// How each cross build runs on this machine, decoding Z.bin into OUT.bin on the device path (model in
    /// place, a workspace of its own; on AArch64 the handle in static memory too, with the allocator
    /// forbidden from the size query to close): the command before MODEL Z.bin OUT.bin.
    static func crossRunner(_ target: String) -> [String] {
        let dir = "\(TestSupport.root)/.build/embedded"
        switch target {
        case "wasm32": return ["node", "\(TestSupport.root)/tools/wasm/decode.mjs", "\(dir)/wasm32-unknown-none-wasm/vaert.wasm"]
        default: return ["qemu-aarch64", "\(dir)/aarch64-none-none-elf/decode-linux"]
        }
    }

    @Test("the wasm32 build under node and the AArch64 build under qemu-aarch64 decode within 1e-6 of the native library; on AArch64 with no allocator call at all",
          arguments: ["wasm32", "aarch64"], ["vae", "conv-vae", "vae-int8", "vae-f16", "conv-vae-int8"])
    func crossBuildsRun(target: String, name: String) throws {
        let runner = Self.crossRunner(target)
        #expect(FileManager.default.fileExists(atPath: runner[runner.count - 1]), "run tools/build-embedded.sh cross first")
        try TestSupport.withTemporaryFolder { folder in
            let z = TestSupport.randomFloats(32 * 20, seed: 31, in: -2...2)
            try z.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(folder)/z.bin")) }
            var model = "\(TestSupport.root)/tools/models/fashion-\(name).vaert"
            // int8: every dense layer on the integer kernels (NEON's smull/sadalp on AArch64), convolutions'
            // int8 widened a block at a time into the workspace; f16: dense layers widened as they stream.
            // All run where they lie, so the handle holds no weights.
            let conv = "\(TestSupport.root)/tools/models/fashion-conv-vae.vaert"
            let exports = ["vae-int8": (TestSupport.readyModel, ["--dtype", "int8", "--int8-everywhere"]), "vae-f16": (TestSupport.readyModel, ["--dtype", "f16"]),
                           "conv-vae-int8": (conv, ["--dtype", "int8"])]
            if let (source, options) = exports[name] {
                model = "\(folder)/\(name).vaert"
                let export = try TestSupport.run("\(TestSupport.binDir)/export-weights", [source, "--out", model] + options)
                #expect(export.status == 0, "\(export.stderr)")
            }
            let cross = try TestSupport.run("/usr/bin/env", runner + [model, "\(folder)/z.bin", "\(folder)/cross.bin"])
            #expect(cross.status == 0, "\(cross.stderr)")
            if target == "aarch64" {
                // "aarch64 decode, no allocation: handle N bytes, workspace M bytes"
                let handle = cross.stdout.split(separator: " ").firstIndex(of: "handle").flatMap { i in Int(cross.stdout.split(separator: " ")[i + 1]) }
                #expect(cross.stdout.contains("no allocation") && handle != nil, "\(cross.stdout)")
                #expect((handle ?? .max) < 2048, "a handle holds its layer list only: \(cross.stdout)")
            }
            try build("\(TestSupport.root)/Tests/CPrograms/c_decode.c", output: "\(folder)/native", embedded: false)
            let native = try TestSupport.run("\(folder)/native", [model, "\(folder)/z.bin", "\(folder)/native.bin"])
            #expect(native.status == 0, "\(native.stderr)")
            let load = { (file: String) throws -> [Float] in
                try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(file)")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            }
            let (pixels, reference) = (try load("cross.bin"), try load("native.bin"))
            #expect(pixels.count == 32 * 784 && pixels.count == reference.count)
            #expect(TestSupport.maxAbsDifference(pixels, reference) <= 1e-6)
        }
    }
}
