// Fuzz target: PyTorch import from a .safetensors state dict (header JSON, tensor table, data), with the
// architecture inferred from tensor names, then written as a vaert file and opened.
import Foundation
import VAECore
import VAETraining

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> Int32 {
    seedMode { dir in
        // A course-style VAE state dict (fc1..fc5) over 4x4 images, and a small nn.Sequential decoder.
        func tensor(_ name: String, _ shape: [Int], dtype: String = "F32") -> (String, [Int], String) { (name, shape, dtype) }
        let dicts: [(String, [(String, [Int], String)])] = [
            ("course", [tensor("fc1.weight", [5, 16]), tensor("fc1.bias", [5]), tensor("fc21.weight", [2, 5]), tensor("fc21.bias", [2]),
                        tensor("fc22.weight", [2, 5]), tensor("fc22.bias", [2]), tensor("fc3.weight", [5, 2]), tensor("fc3.bias", [5]),
                        tensor("fc4.weight", [16, 5]), tensor("fc4.bias", [16])]),
            ("sequential-f16", [tensor("0.weight", [5, 2], dtype: "F16"), tensor("0.bias", [5], dtype: "F16"),
                                tensor("2.weight", [16, 5], dtype: "BF16"), tensor("2.bias", [16], dtype: "BF16")]),
        ]
        for (name, tensors) in dicts {
            var header = "{\"__metadata__\":{\"format\":\"pt\"}"
            var payload: [UInt8] = []
            for (i, (tensorName, shape, dtype)) in tensors.enumerated() {
                let size = dtype == "F32" ? 4 : 2
                let count = shape.reduce(1, *)
                let begin = payload.count
                for k in 0..<count * size { payload.append(UInt8(truncatingIfNeeded: (k * 37 + i * 11) % 61 + (k % size == size - 1 ? 0x3c : 0))) }
                header += ",\"\(tensorName)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(payload.count)]}"
            }
            header += "}"
            var bytes: [UInt8] = []
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
            try writeSeed(bytes + Array(header.utf8) + payload, dir, "\(name).safetensors")
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    withScratchFile(UnsafeRawBufferPointer(start: data, count: count)) { path in
        attempt { () throws(VaertError) in
            let st = try SafeTensors(path: path)
            // The course layout is inferred whole; an nn.Sequential needs one activation per Linear layer.
            let layers = st.tensors.keys.filter { $0.hasSuffix(".weight") }.count
            let activations = (0..<layers).map { $0 == layers - 1 ? "sigmoid" : "relu" }
            let description: PyTorchImport.Description
            if let course = try? PyTorchImport.inferDescription(st, image: nil) {
                description = course
            } else {
                description = try PyTorchImport.inferDescription(st, image: nil, activations: activations)
            }
            let bytes = try PyTorchImport.build(st, description).serialize()
            _ = try bytes.withUnsafeBytes { p in Result { () throws(VaertError) in try Model(copying: p) } }.get()
        }
    }
    return 0
}
