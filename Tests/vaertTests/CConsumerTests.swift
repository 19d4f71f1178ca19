import Foundation
import Testing
import TestSupport
import VAECore
import VAETraining

/// C programs that include only vaert.h and link libvaert as the README says (pkg-config), built with cc.
/// Needs `tools/build-lib.sh` to have run (tools/test.sh does it first).
@Suite(.serialized) struct CConsumerTests {
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
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
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

    @Test("the C example builds as the README says, runs, and writes JPEGs")
    func example() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
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
