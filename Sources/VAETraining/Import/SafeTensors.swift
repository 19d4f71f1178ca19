import Foundation
import VAECore
import VAERuntime

/// A `.safetensors` file (8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range, then the data), read and checked before use. F32, F16 and BF16 tensors are
/// returned as floats.
public struct SafeTensors {
    public struct Tensor {
        public var shape: [Int]
        public var values: [Float]
    }

    public let path: String
    public let tensors: [String: Tensor]
    /// Tensors of other dtypes, by name (BatchNorm's I64 `num_batches_tracked`): refused only if used.
    public let otherTypes: [String: String]

    /// Tensors from elsewhere (an ONNX graph), under the name of the file they came from.
    public init(path: String, tensors: [String: Tensor]) {
        self.path = path
        self.tensors = tensors
        otherTypes = [:]
    }

    public init(path: String) throws(VaertError) {
        self.path = path
        let data = try FileIO.withContents(of: path) { Data($0) }
        guard data.count >= 8 else { throw VaertError(.truncated, "\(path): \(data.count) bytes, not a safetensors file") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8), headerLength <= 100_000_000 else {
            throw VaertError(.truncated, "\(path): header of \(headerLength) bytes does not fit in the \(data.count)-byte file")
        }
        let headerEnd = 8 + Int(headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: data[8..<headerEnd]) as? [String: Any] else {
            throw VaertError(.malformed, "\(path): the header is not a JSON object")
        }
        let payload = data[headerEnd...]
        var tensors: [String: Tensor] = [:], otherTypes: [String: String] = [:]
        for (name, entry) in json where name != "__metadata__" {
            guard let entry = entry as? [String: Any], let dtype = entry["dtype"] as? String, let shape = entry["shape"] as? [Int],
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw VaertError(.malformed, "\(path): tensor '\(name)' lacks dtype, shape or data_offsets") }
            let elementSize: Int
            switch dtype {
            case "F32": elementSize = 4
            case "F16", "BF16": elementSize = 2
            case "I64", "I32", "I16", "I8", "U8", "BOOL":
                otherTypes[name] = dtype
                continue
            default: throw VaertError(.unsupported, "\(path): tensor '\(name)' has dtype \(dtype); vaert imports F32, F16 and BF16")
            }
            guard shape.allSatisfy({ $0 >= 0 && $0 <= 1 << 30 }) else { throw VaertError(.malformed, "\(path): tensor '\(name)' has shape \(shape)") }
            let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= payload.count, count < Int.max / elementSize, end - begin == count * elementSize else {
                throw VaertError(.malformed, "\(path): tensor '\(name)': bytes \(begin)..<\(end) do not hold \(shape) \(dtype) within the \(payload.count) data bytes")
            }
            var values = [Float](repeating: 0, count: count)
            payload.withUnsafeBytes { raw in
                let base = raw.baseAddress! + begin
                for i in 0..<count {
                    switch dtype {
                    case "F32": values[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    case "F16": values[i] = TensorEncoding.floatFromHalf(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    default: values[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                    }
                }
            }
            tensors[name] = Tensor(shape: shape, values: values)
        }
        self.tensors = tensors
        self.otherTypes = otherTypes
    }

    /// The tensor called `name`, with a one-line error naming it when it is missing or holds NaN / infinity.
    public func tensor(_ name: String) throws(VaertError) -> Tensor {
        guard let t = tensors[name] else {
            if let dtype = otherTypes[name] {
                throw VaertError(.unsupported, "\(path): tensor '\(name)' has dtype \(dtype); vaert imports F32, F16 and BF16")
            }
            throw VaertError(.missingTensor, "\(path): no tensor '\(name)' (the file has \(tensors.keys.sorted().prefix(12).joined(separator: ", ")))")
        }
        if let bad = t.values.firstIndex(where: { !$0.isFinite }) {
            throw VaertError(.nonFiniteInput, "\(path): tensor '\(name)' holds \(t.values[bad]) at element \(bad)")
        }
        return t
    }
}
