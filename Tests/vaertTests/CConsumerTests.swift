import Foundation
import Testing
import TestSupport
import TrainingTestSupport
import VAECore
import VAETraining
import VAERuntime
import vaert

/// C programs that include only vaert.h and link libvaert as the README says (pkg-config), built with cc.
/// Needs `tools/build-lib.sh` to have run (tools/test.sh does it first).
@Suite(.serialized, .enabled(if: TestSupport.Artifact.library.isAvailable, "needs libvaert laid out: run tools/build-lib.sh (tools/test.sh does)"))
struct CConsumerTests {
    static let prefix = "\(TestSupport.root)/.build/vaert"

    func compile(_ source: String, package: String, output: String) throws {
        let pc = "\(Self.prefix)/lib/pkgconfig"
        #expect(FileManager.default.fileExists(atPath: "\(pc)/\(package).pc"), "run tools/build-lib.sh first: \(pc)/\(package).pc is missing")
        let flags = try TestSupport.run("/usr/bin/pkg-config", ["--cflags", "--libs", package], environment: ["PKG_CONFIG_PATH": pc])
        #expect(flags.status == 0, "pkg-config: \(flags.stderr)")
        let args = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", source, "-o", output] + flags.stdout.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty } + ["-lm"]
        let cc = try TestSupport.run("/usr/bin/cc", args)
        #expect(cc.status == 0, "cc failed: \(cc.stderr)")
    }

    @Test("C API: every reachable error path, then the C decode equals the trainer's forward pass within 1e-5", arguments: ["vaert", "vaert-static"])
    func apiAndParity(package: String) throws {
        try TestSupport.withTemporaryFolder { folder in
            try compile("\(TestSupport.root)/Tests/CPrograms/c_api_check.c", package: package, output: "\(folder)/check")

            let trainer = try Evaluation.trainer(weightsPath: TestSupport.readyModel, batchSize: 128, seed: 0, threads: 1)
            let a = trainer.options.architecture
            let count = 1000
            let z = TestSupport.randomFloats(count * a.latent, seed: 77, in: -3...3)
            try z.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(folder)/z.bin")) }
            let result = try TestSupport.run("\(folder)/check", [TestSupport.readyModel, "\(folder)/z.bin", "\(folder)/pixels.bin"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("checks passed"))

            let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/pixels.bin"))
            let fromC = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(fromC.count == count * a.pixels)
            var expected: [Float] = []
            for first in stride(from: 0, to: count, by: 128) {
                let rows = min(128, count - first)
                z.withUnsafeBufferPointer { trainer.latentBatch.update(from: $0.baseAddress! + first * a.latent, count: rows * a.latent) }
                trainer.decodeForward(rows: rows)
                expected += UnsafeBufferPointer(start: trainer.logits, count: rows * a.pixels).map { FastMath.sigmoid($0) }
            }
            let difference = TestSupport.maxAbsDifference(fromC, expected)
            #expect(difference <= 1e-5, "max abs difference \(difference)")
        }
    }

    @Test("every kind: trained, exported, decoded from C equal to the trainer's decoder within 1e-5; anomaly scores rank noise above data",
          arguments: [ModelKind.vae, .betaVAE, .ae, .convVAE, .convAE, .dae, .sparseAE, .cae, .cvae])
    func kinds(kind: ModelKind) throws {
        try TestSupport.withTemporaryFolder { folder in
            try compile("\(TestSupport.root)/Tests/CPrograms/c_decode.c", package: "vaert", output: "\(folder)/decode")
            let shape = Shape3(channels: 1, height: 12, width: 12)
            let data = TestSupport.blobs(count: 64, shape: shape)
            let trainer = TestSupport.tinyTrainer(kind: kind, shape: shape, hidden: kind == .cae ? [] : [24], latent: 3, batch: 8,
                                                  beta: kind == .betaVAE ? 4 : 1, conv: kind.isConvolutional ? [4, 6] : [], classes: kind.isConditional ? 4 : 0)
            for _ in 0..<25 { _ = try trainer.trainEpoch(data) { _, _ in } }
            try FileIO.writeAtomically(trainer.net.weightsFile().serialize(), to: "\(folder)/m.vaert")

            let a = trainer.options.architecture
            let count = 8
            let z = TestSupport.randomFloats(count * a.latent, seed: 9, in: -2...2)
            let labels = (0..<count).map { Int32($0 % 4) }
            try z.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(folder)/z.bin")) }
            try labels.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(folder)/labels.bin")) }
            let noise = TestSupport.randomFloats(4 * a.pixels, seed: 10, in: 0...1)
            let images = Array(data.images[0..<(4 * a.pixels)]) + noise
            try images.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(folder)/images.bin")) }
            let run = try TestSupport.run("\(folder)/decode", ["\(folder)/m.vaert", "\(folder)/z.bin", "\(folder)/pixels.bin", "\(folder)/labels.bin",
                                                               "\(folder)/scores.bin", "\(folder)/images.bin"])
            #expect(run.status == 0, "\(run.stderr)")
            let fromC = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/pixels.bin")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }

            let expected = trainerDecode(trainer, z: z, labels: labels)
            #expect(TestSupport.maxAbsDifference(fromC, expected) <= 1e-5, "\(kind)")

            let scores = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/scores.bin")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(scores.count == 8 && scores.allSatisfy(\.isFinite))
            #expect(scores[4...].min()! > scores[..<4].max()!, "\(kind): scores \(scores)")
        }
    }

    @Test("PyTorch's RGB VAE (ConvTranspose2d, BatchNorm2d, LeakyReLU, Conv2d, Tanh; Conv2d, ELU, SiLU, two heads) through both ONNX exporters and safetensors + JSON: C decodes within 1e-4 of PyTorch, encodes μ and log σ² within 1e-4, images in [-1, 1]",
          arguments: ["dynamo", "legacy", "safetensors"])
    func onnxParity(source: String) throws {
        try TestSupport.withTemporaryFolder { folder in
            try compile("\(TestSupport.root)/Tests/CPrograms/c_decode.c", package: "vaert", output: "\(folder)/decode")
            let fixtures = "\(TestSupport.root)/Tests/Fixtures/pytorch"
            let input = source == "safetensors" ? ["\(fixtures)/rgb_vae.safetensors", "--arch", "\(fixtures)/rgb_vae.json"]
                : ["--encoder", "\(fixtures)/rgb_encoder_\(source).onnx", "--decoder", "\(fixtures)/rgb_decoder_\(source).onnx"]
            let export = try TestSupport.run("\(TestSupport.binDir)/export-weights", input + ["--out", "\(folder)/m.vaert"])
            #expect(export.status == 0, "\(export.stderr)")
            let run = try TestSupport.run("\(folder)/decode", ["\(folder)/m.vaert", "\(fixtures)/rgb_decoder_z.bin", "\(folder)/pixels.bin", "encode",
                                                               "\(fixtures)/rgb_encoder_x.bin", "\(folder)/moments.bin"])
            #expect(run.status == 0, "\(run.stderr)")
            func floats(_ path: String) throws -> [Float] {
                try Data(contentsOf: URL(fileURLWithPath: path)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            }
            let pixels = try floats("\(folder)/pixels.bin"), expected = try floats("\(fixtures)/rgb_decoder_expected.bin")
            #expect(pixels.count == 8 * 3 * 64 * 64 && pixels.count == expected.count)
            #expect(TestSupport.maxAbsDifference(pixels, expected) <= 1e-4, "\(source): decode")
            #expect(pixels.min()! < 0 && pixels.max()! > 0, "\(source): a Tanh output, signed")
            let moments = try floats("\(folder)/moments.bin"), expectedMoments = try floats("\(fixtures)/rgb_encoder_expected.bin")
            #expect(moments.count == 8 * 32 && moments.count == expectedMoments.count)
            #expect(TestSupport.maxAbsDifference(moments, expectedMoments) <= 1e-4, "\(source): encode")
            let model = try Model.open(path: "\(folder)/m.vaert")
            #expect(model.imageRange == .signed && model.imageShape == Shape3(channels: 3, height: 64, width: 64) && model.latentDim == 16)
        }
    }

    @Test("every committed Fashion-MNIST model: the C decode equals the trainer's decoder within 1e-5",
          arguments: ["vae", "conv-vae", "cvae", "dae", "sparse-ae", "cae"])
    func zoo(name: String) throws {
        try TestSupport.withTemporaryFolder { folder in
            try compile("\(TestSupport.root)/Tests/CPrograms/c_decode.c", package: "vaert", output: "\(folder)/decode")
            let path = "\(TestSupport.root)/tools/models/fashion-\(name).vaert"
            let trainer = try Evaluation.trainer(weightsPath: path, batchSize: 64, seed: 0, threads: 2)
            let a = trainer.options.architecture
            let count = 64
            // Codes in the range each kind's decoder sees: N(0, 1)-like for VAEs, (0, 1) for sigmoid codes.
            let z = TestSupport.randomFloats(count * a.latent, seed: 3, in: a.codeActivation == .sigmoid ? 0...1 : -2...2)
            let labels = (0..<count).map { Int32($0 % 10) }
            try z.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(folder)/z.bin")) }
            try labels.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(folder)/labels.bin")) }
            let run = try TestSupport.run("\(folder)/decode", [path, "\(folder)/z.bin", "\(folder)/pixels.bin", "\(folder)/labels.bin"])
            #expect(run.status == 0, "\(run.stderr)")
            let fromC = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/pixels.bin")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            let expected = trainerDecode(trainer, z: z, labels: labels)
            #expect(TestSupport.maxAbsDifference(fromC, expected) <= 1e-5, "\(name)")
        }
    }

    /// Compiles Tests/CPrograms/PROGRAM.c against the shared library and runs it on a zoo model.
    func runCheck(_ program: String, model name: String) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestSupport.withTemporaryFolder { folder in
            try compile("\(TestSupport.root)/Tests/CPrograms/\(program).c", package: "vaert", output: "\(folder)/check")
            return try TestSupport.run("\(folder)/check", ["\(TestSupport.root)/tools/models/fashion-\(name).vaert"])
        }
    }

    @Test("every status the header declares is returned by some call (a C program reaches each one)")
    func everyStatusReachable() throws {
        let header = try String(contentsOfFile: "\(TestSupport.root)/Include/vaert.h", encoding: .utf8)
        let enumBody = try #require(header.range(of: "typedef enum vaert_status {").flatMap { start in
            header.range(of: "} vaert_status;", range: start.upperBound..<header.endIndex).map { header[start.upperBound..<$0.lowerBound] }
        })
        let declared = enumBody.split(separator: "\n").compactMap { line -> String? in
            let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
            guard words.count >= 3, words[0].hasPrefix("VAERT_"), words[1] == "=" else { return nil }
            return "\(words[2].trimmingCharacters(in: CharacterSet(charactersIn: ","))) \(words[0])"
        }
        #expect(declared.count == 18, "\(declared)")
        try TestSupport.withTemporaryFolder { folder in
            try compile("\(TestSupport.root)/Tests/CPrograms/c_status_check.c", package: "vaert", output: "\(folder)/check")
            let run = try TestSupport.run("\(folder)/check", [TestSupport.readyModel, folder])
            #expect(run.status == 0 && run.stdout.contains("every status reached"), "\(run.stdout)\(run.stderr)")
            for status in declared {
                #expect(run.stdout.contains("reached \(status) ("), "no call returned \(status)")
            }
        }
    }

    @Test("after warm-up no call allocates; results are bit-identical for 1, 2 and 4 threads and from 8 caller threads",
          arguments: ["vae", "conv-vae", "cvae"])
    func runtimeGuarantees(name: String) throws {
        let run = try runCheck("c_runtime_check", model: name)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("threads 2: 0 heap allocations") && run.stdout.contains("runtime checks passed"), "\(run.stdout)")
    }

    @Test("caller-owned memory: in-place open, exact workspace sizes (one byte fewer is refused), no allocation from the first call, same bits",
          arguments: ["vae", "conv-vae", "cvae"])
    func workspace(name: String) throws {
        let run = try runCheck("c_workspace_check", model: name)
        #expect(run.status == 0 && run.stdout.contains("workspace checks passed"), "\(run.stdout)\(run.stderr)")
    }

    #if arch(x86_64)
    @Test("any x86-64: under qemu64 (no AVX) the library picks its baseline kernels and gives the same bits as they do natively, within 1e-5 of the AVX2 kernels",
          arguments: ["vae", "conv-vae"])
    func anyX86(name: String) throws {
        let qemu = "/usr/bin/qemu-x86_64"
        #expect(FileManager.default.fileExists(atPath: qemu), "install Debian's qemu-user (tools/setup.sh does)")
        try TestSupport.withTemporaryFolder { folder in
            try compile("\(TestSupport.root)/Tests/CPrograms/c_decode.c", package: "vaert", output: "\(folder)/decode")
            let path = "\(TestSupport.root)/tools/models/fashion-\(name).vaert"
            let z = TestSupport.randomFloats(16 * 20, seed: 12, in: -2...2)
            try z.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(folder)/z.bin")) }
            func decode(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, into file: String) throws -> (String, [Float]) {
                let run = try TestSupport.run(executable, arguments + [path, "\(folder)/z.bin", "\(folder)/\(file)"], environment: environment)
                #expect(run.status == 0, "\(run.stderr)")
                let pixels = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(file)")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                return (run.stdout, pixels)
            }
            let (emulatedKernels, emulated) = try decode(qemu, ["-cpu", "qemu64", "\(folder)/decode"], into: "emulated.bin")
            let (baselineKernels, baseline) = try decode("\(folder)/decode", [], environment: ["VAERT_KERNELS": "baseline"], into: "baseline.bin")
            let (nativeKernels, native) = try decode("\(folder)/decode", [], into: "native.bin")
            let (avx2Kernels, avx2) = try decode("\(folder)/decode", [], environment: ["VAERT_KERNELS": "avx2"], into: "avx2.bin")
            #expect(emulatedKernels.contains("kernels: baseline") && baselineKernels.contains("kernels: baseline"))
            #expect(emulated.count == 16 * 784 && emulated == baseline)
            #expect(TestSupport.maxAbsDifference(native, baseline) <= 1e-5)
            // On an AVX-512 CPU the widest build runs; it gives the AVX2 build's very bits (same sums, same order).
            #expect(avx2Kernels.contains("kernels: avx2") && (nativeKernels.contains("kernels: avx512") || nativeKernels.contains("kernels: avx2")))
            #expect(native == avx2)
        }
    }
    #endif

    /// The trainer's own decoder (its training forward path, sigmoid applied to the logits) on `z` and
    /// one-hot classes; at most the trainer's batch size of rows.
    func trainerDecode(_ trainer: Trainer, z: [Float], labels: [Int32]) -> [Float] {
        let a = trainer.options.architecture
        let count = z.count / a.latent
        let stride = a.decoderInputs
        for r in 0..<count {
            for j in 0..<a.latent { trainer.latentBatch[r * stride + j] = z[r * a.latent + j] }
            if a.classCount > 0 { OneHot.write(Int(labels[r]), classes: a.classCount, into: trainer.latentBatch + r * stride + a.latent) }
        }
        trainer.decodeForward(rows: count)
        return UnsafeBufferPointer(start: trainer.logits, count: count * a.pixels).map { FastMath.sigmoid($0) }
    }

    @Test("CMake: find_package(vaert) gives vaert::vaert and vaert::vaert_static; the C example builds with both and they write the same JPEGs; another minor version is refused")
    func cmake() throws {
        let cmake = "/usr/bin/cmake"
        #expect(FileManager.default.fileExists(atPath: cmake), "install Debian's cmake (tools/setup.sh does)")
        try TestSupport.withTemporaryFolder { folder in
            let configure = try TestSupport.run(cmake, ["-S", "\(TestSupport.root)/tools/example", "-B", "\(folder)/build", "-DCMAKE_PREFIX_PATH=\(Self.prefix)"])
            #expect(configure.status == 0, "\(configure.stdout)\(configure.stderr)")
            let build = try TestSupport.run(cmake, ["--build", "\(folder)/build"])
            #expect(build.status == 0, "\(build.stdout)\(build.stderr)")
            for program in ["decode_example", "decode_example_static"] {
                try FileManager.default.createDirectory(atPath: "\(folder)/\(program)", withIntermediateDirectories: true)
                let run = try TestSupport.run("\(folder)/build/\(program)", [TestSupport.readyModel, "\(folder)/\(program)", "3", "5"])
                #expect(run.status == 0 && run.stdout.contains("wrote 3 JPEGs"), "\(program): \(run.stderr)")
            }
            for i in 0..<3 {
                let name = "sample-00000\(i).jpg"
                let shared = FileManager.default.contents(atPath: "\(folder)/decode_example/\(name)")
                #expect(shared != nil && shared == FileManager.default.contents(atPath: "\(folder)/decode_example_static/\(name)"))
            }
            let ldd = try TestSupport.run("/usr/bin/ldd", ["\(folder)/build/decode_example_static"])
            #expect(!ldd.stdout.contains("libvaert") && !ldd.stdout.contains("libswiftCore"), "\(ldd.stdout)")
            // A project asking for another 0.x minor version does not find this one.
            try "cmake_minimum_required(VERSION 3.16)\nproject(p C)\nfind_package(vaert 0.2 REQUIRED)\n".write(toFile: "\(folder)/CMakeLists.txt", atomically: true, encoding: .utf8)
            let newer = try TestSupport.run(cmake, ["-S", folder, "-B", "\(folder)/newer", "-DCMAKE_PREFIX_PATH=\(Self.prefix)"])
            #expect(newer.status != 0 && (newer.stderr + newer.stdout).contains("0.1.0"), "\(newer.stderr)")
        }
    }

    @Test("the C example builds as the README says, runs, and writes JPEGs")
    func example() throws {
        try TestSupport.withTemporaryFolder { folder in
            try compile("\(TestSupport.root)/tools/example/decode_example.c", package: "vaert", output: "\(folder)/decode_example")
            let run = try TestSupport.run("\(folder)/decode_example", [TestSupport.readyModel, folder, "3", "5"])
            #expect(run.status == 0, "\(run.stderr)")
            for i in 0..<3 {
                let jpeg = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/sample-00000\(i).jpg"))
                #expect(jpeg.prefix(2) == Data([0xFF, 0xD8]) && jpeg.suffix(2) == Data([0xFF, 0xD9]))
            }
            let missing = try TestSupport.run("\(folder)/decode_example", ["\(folder)/missing.vaert", folder])
            #expect(missing.status == 1 && missing.stderr.contains("missing.vaert"))
        }
    }
}
