// Fuzz target: PyTorch import driven by a JSON architecture description, over a fixed state dict
// (Tests/Fixtures/pytorch/conv_decoder.safetensors, whose description is the seed).
import Foundation
import VAECore
import VAETraining

let stateDict: SafeTensors = {
    let path = ProcessInfo.processInfo.environment["VAERT_FUZZ_STATE_DICT"] ?? "Tests/Fixtures/pytorch/conv_decoder.safetensors"
    do throws(VaertError) { return try SafeTensors(path: path) } catch { fatalError("fuzz-architecture: \(error.message)") }
}()

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> Int32 {
    seedMode { dir in
        let seed = ProcessInfo.processInfo.environment["VAERT_FUZZ_STATE_DICT"].map { $0.replacingOccurrences(of: ".safetensors", with: ".json") }
            ?? "Tests/Fixtures/pytorch/conv_decoder.json"
        try writeSeed(Array(try Data(contentsOf: URL(fileURLWithPath: seed))), dir, "conv_decoder.json")
    }
    _ = stateDict
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchitecture(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    withScratchFile(UnsafeRawBufferPointer(start: data, count: count)) { path in
        attempt { () throws(VaertError) in
            let description = try PyTorchImport.description(fromJSON: path)
            let bytes = try PyTorchImport.build(stateDict, description).serialize()
            _ = try bytes.withUnsafeBytes { p in Result { () throws(VaertError) in try Model(copying: p) } }.get()
        }
    }
    return 0
}
