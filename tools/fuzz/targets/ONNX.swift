// Fuzz target: ONNX import (the protobuf wire format, ModelProto down to TensorProto, constant folding,
// lowering to layers), then the weights file built from it and, for a decoder, opened by the runtime.
// External data is refused here (no folder): a fuzzed file must not read others.
import Foundation
import VAECore
import VAERuntime
import VAETraining

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> Int32 {
    seedMode { dir in
        // Real exports (tools/fuzz/seeds/onnx, written by tools/pytorch/make_fixtures.py): a tiny RGB decoder
        // and encoder from both torch.onnx exporters, the op graph and the refused graphs.
        let seeds = "tools/fuzz/seeds/onnx"
        for name in try FileManager.default.contentsOfDirectory(atPath: seeds) {
            try writeSeed(Array(try Data(contentsOf: URL(fileURLWithPath: "\(seeds)/\(name)"))), dir, name)
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    attempt { () throws(VaertError) in
        let model = try ONNXModel(bytes: Array(UnsafeBufferPointer(start: data, count: count)), path: "fuzz.onnx", folder: nil)
        let graph = try ONNXImport.lower(model, as: nil)
        let encoder = graph.role == .encoder ? graph : nil, decoder = graph.role == .decoder ? graph : nil
        let (description, tensors) = try ONNXImport.description(encoder: encoder, decoder: decoder, image: nil, path: "fuzz.onnx")
        let bytes = try PyTorchImport.build(tensors, description).serialize()
        if decoder != nil {
            _ = try bytes.withUnsafeBytes { p in Result { () throws(VaertError) in try Model(copying: p) } }.get()
        }
    }
    return 0
}
