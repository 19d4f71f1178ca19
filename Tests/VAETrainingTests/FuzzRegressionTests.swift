import Foundation
import Testing
import TestSupport
import VAECore
import VAETraining
import VAERuntime

/// Every input the fuzzers (tools/fuzz) found a problem with, kept in tools/fuzz/regressions/TARGET/,
/// replayed through the parser's ordinary entry point: each must fail cleanly, with a one-line message.
@Suite struct FuzzRegressionTests {
    static let folder = "\(TestSupport.root)/tools/fuzz/regressions"

    static func files(_ target: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(folder)/\(target)")) ?? []).sorted().map { "\(folder)/\(target)/\($0)" }
    }

    func expectCleanFailure(_ file: String, _ body: () throws(VaertError) -> Void) {
        do throws(VaertError) {
            try body()
            Issue.record("\(file) was accepted")
        } catch {
            #expect(!error.message.isEmpty && !error.message.contains("\n"), "\(file): \(error.message)")
        }
    }

    @Test("the kept fuzzer findings exist and each fails cleanly")
    func replay() throws {
        let idx = Self.files("idx"), safetensors = Self.files("safetensors"), architecture = Self.files("architecture")
        #expect(!idx.isEmpty && !safetensors.isEmpty && !architecture.isEmpty)
        for file in idx { expectCleanFailure(file) { () throws(VaertError) in _ = try IDX.read(file) } }
        for file in safetensors {
            expectCleanFailure(file) { () throws(VaertError) in
                let st = try SafeTensors(path: file)
                _ = try PyTorchImport.build(st, try PyTorchImport.inferDescription(st, image: nil))
            }
        }
        let stateDict = try Result { () throws(VaertError) in try SafeTensors(path: "\(TestSupport.root)/Tests/Fixtures/pytorch/conv_decoder.safetensors") }.get()
        for file in architecture {
            expectCleanFailure(file) { () throws(VaertError) in
                _ = try PyTorchImport.build(stateDict, try PyTorchImport.description(fromJSON: file))
            }
        }
        for file in Self.files("model") + Self.files("checkpoint") {
            expectCleanFailure(file) { () throws(VaertError) in _ = try Model.open(path: file) }
        }
    }
}
