import Foundation
import VAECore
import VAERuntime

/// An ONNX file (`ModelProto`) read for what import needs: the graph's nodes, initializers, inputs and
/// outputs, with their field numbers from onnx.proto3. Tensors are decoded to floats or integers here,
/// every size checked against the format's limits and the bytes present before anything is allocated;
/// weights in an external-data sidecar (`.onnx.data`, as the dynamo exporter writes them) are read from
/// files inside the model's own folder only.
public struct ONNXModel {
    public struct Tensor {
        public var dims: [Int]
        /// FLOAT, FLOAT16 and DOUBLE tensors.
        public var floats: [Float] = []
        /// INT64, INT32 and BOOL tensors (shapes, indices, axes).
        public var ints: [Int64] = []
        public var isFloat: Bool
        public var count: Int { dims.reduce(1, *) }
    }

    public struct Attribute {
        public var float: Float?
        public var int: Int64?
        public var string: String?
        public var tensor: Tensor?
        public var floats: [Float] = []
        public var ints: [Int64] = []
    }

    public struct Node {
        public var name: String
        public var op: String
        public var domain: String
        public var inputs: [String]
        public var outputs: [String]
        public var attributes: [String: Attribute]
        /// How error messages name it: "node 3 'Conv_12' (Conv)".
        public var label: String { "node '\(name)' (\(op))" }
    }

    /// A graph input or output: its name and dims (nil for a symbolic dim such as the batch).
    public struct Value {
        public var name: String
        public var dims: [Int?]
    }

    public let path: String
    public let opset: Int
    public let nodes: [Node]
    public let initializers: [String: Tensor]
    public let inputs: [Value]
    public let outputs: [Value]

    /// The opsets import is written for (torch.onnx.export writes 13 to 21 by its options).
    public static let opsets = 13...21
    /// The most values a tensor may hold (the weights format's own limit).
    static let maximumValues = 1 << 28

    public init(path: String) throws(VaertError) {
        let bytes = try FileIO.withContents(of: path) { [UInt8]($0) }
        try self.init(bytes: bytes, path: path, folder: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    /// Parses `bytes`; external data is read from `folder` (nil: refused, as for the fuzzer).
    public init(bytes: [UInt8], path: String, folder: String?) throws(VaertError) {
        self.path = path
        let model = try ProtobufReader(bytes[...], what: path).fields()
        guard !model.isEmpty else { throw VaertError(.malformed, "\(path): empty file, not an ONNX model") }
        var opset: Int?
        for f in model where f.number == 8 {
            let entry = try Self.message(f, "\(path): opset_import")
            let domain = try ProtobufReader.string(entry, number: 1, what: "\(path): opset_import") ?? ""
            if domain == "" || domain == "ai.onnx" {
                opset = Int(truncatingIfNeeded: try ProtobufReader.varints(entry, number: 2, what: "\(path): opset_import").last ?? 0)
            }
        }
        guard let graphField = model.last(where: { $0.number == 7 }), graphField.wireType == .lengthDelimited else {
            throw VaertError(.malformed, "\(path): no graph: not an ONNX model (exported by torch.onnx.export?)")
        }
        guard let opset, Self.opsets.contains(opset) else {
            throw VaertError(.unsupported, "\(path): ONNX opset \(opset.map(String.init) ?? "none"); vaert imports opsets \(Self.opsets.lowerBound) to \(Self.opsets.upperBound) (torch.onnx.export(..., opset_version=18))")
        }
        self.opset = opset
        let graph = try ProtobufReader(graphField.bytes, what: "\(path): graph").fields()
        var external = ExternalData(folder: folder, model: path)
        var initializers: [String: Tensor] = [:]
        for f in graph where f.number == 5 {
            let (name, tensor) = try Self.tensor(try Self.message(f, "\(path): initializer"), path: path, external: &external)
            initializers[name] = tensor
        }
        var nodes: [Node] = []
        for f in graph where f.number == 1 {
            nodes.append(try Self.node(try Self.message(f, "\(path): node \(nodes.count)"), index: nodes.count, path: path, external: &external))
        }
        self.nodes = nodes
        self.initializers = initializers
        inputs = try graph.filter { $0.number == 11 }.map { (f) throws(VaertError) in try Self.value(f, path: path) }
            .filter { initializers[$0.name] == nil }  // IR 3 lists initializers among the inputs
        outputs = try graph.filter { $0.number == 12 }.map { (f) throws(VaertError) in try Self.value(f, path: path) }
    }

    static func message(_ f: ProtobufReader.Field, _ what: String) throws(VaertError) -> [ProtobufReader.Field] {
        guard f.wireType == .lengthDelimited else { throw VaertError(.malformed, "\(what): field \(f.number) should be a message") }
        return try ProtobufReader(f.bytes, what: what).fields()
    }

    static func node(_ fields: [ProtobufReader.Field], index: Int, path: String, external: inout ExternalData) throws(VaertError) -> Node {
        let what = "\(path): node \(index)"
        var node = Node(name: try ProtobufReader.string(fields, number: 3, what: what) ?? "\(index)",
                        op: try ProtobufReader.string(fields, number: 4, what: what) ?? "",
                        domain: try ProtobufReader.string(fields, number: 7, what: what) ?? "",
                        inputs: try strings(fields, number: 1, what: what), outputs: try strings(fields, number: 2, what: what), attributes: [:])
        guard !node.op.isEmpty, let first = node.outputs.first, !first.isEmpty else {
            throw VaertError(.malformed, "\(what) ('\(node.name)'): a node needs an op and an output")
        }
        for f in fields where f.number == 5 {
            let a = try message(f, "\(what) attribute")
            guard let name = try ProtobufReader.string(a, number: 1, what: "\(what) attribute") else {
                throw VaertError(.malformed, "\(what): an attribute without a name")
            }
            let where_ = "\(path): \(node.label) attribute '\(name)'"
            var attribute = Attribute()
            if let x = a.last(where: { $0.number == 2 }) {
                guard x.wireType == .fixed32 else { throw VaertError(.malformed, "\(where_): f should be a float") }
                attribute.float = Float(bitPattern: UInt32(truncatingIfNeeded: x.varint))
            }
            attribute.int = try ProtobufReader.varints(a.filter { $0.number == 3 }, number: 3, what: where_).last
            if let s = a.last(where: { $0.number == 4 }) {
                attribute.string = String(decoding: s.bytes, as: UTF8.self)
            }
            if let t = a.last(where: { $0.number == 5 }) {
                attribute.tensor = try tensor(try message(t, where_), path: path, external: &external).1
            }
            attribute.floats = try ProtobufReader.floats(a, number: 7, what: where_)
            attribute.ints = try ProtobufReader.varints(a, number: 8, what: where_)
            node.attributes[name] = attribute
        }
        return node
    }

    static func strings(_ fields: [ProtobufReader.Field], number: Int, what: String) throws(VaertError) -> [String] {
        try fields.filter { $0.number == number }.map { (f) throws(VaertError) in
            guard f.wireType == .lengthDelimited, let s = String(validating: f.bytes, as: UTF8.self) else {
                throw VaertError(.malformed, "\(what): field \(number) should be a UTF-8 string")
            }
            return s
        }
    }

    /// A ValueInfoProto: name (1), type (2) → tensor_type (1) → shape (2) → dim (1) → dim_value (1) | dim_param (2).
    static func value(_ f: ProtobufReader.Field, path: String) throws(VaertError) -> Value {
        let what = "\(path): graph input or output"
        let v = try message(f, what)
        let name = try ProtobufReader.string(v, number: 1, what: what) ?? ""
        var dims: [Int?] = []
        if let type = v.last(where: { $0.number == 2 }), let tensorType = try message(type, what).last(where: { $0.number == 1 }),
           let shape = try message(tensorType, what).last(where: { $0.number == 2 }) {
            for d in try message(shape, what) where d.number == 1 {
                let dim = try message(d, what)
                let value = try ProtobufReader.varints(dim.filter { $0.number == 1 }, number: 1, what: what).last
                dims.append(value.flatMap { $0 > 0 && $0 <= 1 << 30 ? Int($0) : nil })
            }
        }
        return Value(name: name, dims: dims)
    }

    /// A TensorProto: dims (1), data_type (2), float_data (4), int32_data (5), int64_data (7), name (8),
    /// raw_data (9), double_data (10), external_data (13, key/value pairs), data_location (14, 1 = external).
    static func tensor(_ t: [ProtobufReader.Field], path: String, external: inout ExternalData) throws(VaertError) -> (String, Tensor) {
        let name = try ProtobufReader.string(t, number: 8, what: "\(path): tensor") ?? ""
        let what = "\(path): tensor '\(name)'"
        let rawDims = try ProtobufReader.varints(t, number: 1, what: what)
        guard rawDims.count <= 8, rawDims.allSatisfy({ $0 >= 0 && $0 <= 1 << 30 }) else {
            throw VaertError(.malformed, "\(what): dims \(rawDims) (at most 8 dims of at most 2^30)")
        }
        let dims = rawDims.map { Int($0) }
        var count = 1
        for d in dims {
            count = count.multipliedReportingOverflow(by: d).overflow ? Int.max : count * d
            guard count <= maximumValues else { throw VaertError(.unsupported, "\(what): dims \(dims) hold more than 2^28 values") }
        }
        let type = try ProtobufReader.varints(t, number: 2, what: what).last ?? 0
        // Element size in raw bytes, and whether it is read as floats.
        let (size, isFloat): (Int, Bool)
        switch type {
        case 1: (size, isFloat) = (4, true)     // FLOAT
        case 10: (size, isFloat) = (2, true)    // FLOAT16
        case 11: (size, isFloat) = (8, true)    // DOUBLE
        case 7: (size, isFloat) = (8, false)    // INT64
        case 6: (size, isFloat) = (4, false)    // INT32
        case 9: (size, isFloat) = (1, false)    // BOOL
        default:
            throw VaertError(.unsupported, "\(what): data type \(type); vaert imports FLOAT, FLOAT16, DOUBLE, INT64, INT32 and BOOL tensors")
        }
        var tensor = Tensor(dims: dims, isFloat: isFloat)
        let location = try ProtobufReader.varints(t, number: 14, what: what).last ?? 0
        var raw: ArraySlice<UInt8>?
        if location == 1 {
            raw = try external.bytes(for: t, count: count * size, what: what)
        } else if let r = t.last(where: { $0.number == 9 }) {
            guard r.wireType == .lengthDelimited else { throw VaertError(.malformed, "\(what): raw_data should be bytes") }
            raw = r.bytes
        }
        if let raw {
            guard raw.count == count * size else {
                throw VaertError(.malformed, "\(what): \(raw.count) bytes of data for dims \(dims) of \(size)-byte values")
            }
            let base = raw.startIndex
            func word(_ i: Int, _ n: Int) -> UInt64 {
                var v: UInt64 = 0
                for b in 0..<n { v |= UInt64(raw[base + i * n + b]) << UInt64(8 * b) }
                return v
            }
            switch type {
            case 1: tensor.floats = (0..<count).map { Float(bitPattern: UInt32(word($0, 4))) }
            case 10: tensor.floats = (0..<count).map { TensorEncoding.floatFromHalf(UInt16(word($0, 2))) }
            case 11: tensor.floats = (0..<count).map { Float(Double(bitPattern: word($0, 8))) }
            case 7: tensor.ints = (0..<count).map { Int64(bitPattern: word($0, 8)) }
            case 6: tensor.ints = (0..<count).map { Int64(Int32(bitPattern: UInt32(word($0, 4)))) }
            default: tensor.ints = (0..<count).map { Int64(word($0, 1)) }
            }
        } else {
            switch type {
            case 1, 10:
                // FLOAT in float_data; FLOAT16 as its bits in int32_data.
                tensor.floats = type == 1 ? try ProtobufReader.floats(t, number: 4, what: what)
                    : try ProtobufReader.varints(t, number: 5, what: what).map { TensorEncoding.floatFromHalf(UInt16(truncatingIfNeeded: $0)) }
            case 11:
                tensor.floats = try doubles(t, what: what).map { Float($0) }
            case 7: tensor.ints = try ProtobufReader.varints(t, number: 7, what: what)
            default: tensor.ints = try ProtobufReader.varints(t, number: 5, what: what).map { Int64(Int32(truncatingIfNeeded: $0)) }
            }
            let got = isFloat ? tensor.floats.count : tensor.ints.count
            guard got == count else { throw VaertError(.malformed, "\(what): \(got) values for dims \(dims)") }
        }
        return (name, tensor)
    }

    /// double_data (10): fixed64 fields or packed runs of them.
    static func doubles(_ t: [ProtobufReader.Field], what: String) throws(VaertError) -> [Double] {
        var out: [Double] = []
        for f in t where f.number == 10 {
            switch f.wireType {
            case .fixed64: out.append(Double(bitPattern: f.varint))
            case .lengthDelimited:
                guard f.bytes.count % 8 == 0 else { throw VaertError(.malformed, "\(what): double_data packs \(f.bytes.count) bytes") }
                var p = f.bytes.startIndex
                while p < f.bytes.endIndex {
                    var v: UInt64 = 0
                    for b in 0..<8 { v |= UInt64(f.bytes[p + b]) << UInt64(8 * b) }
                    out.append(Double(bitPattern: v))
                    p += 8
                }
            default: throw VaertError(.malformed, "\(what): double_data should hold doubles")
            }
        }
        return out
    }

    /// The sidecar files of external data, each read once, named relative to the model's folder.
    struct ExternalData {
        let folder: String?
        let model: String
        var files: [String: [UInt8]] = [:]

        mutating func bytes(for t: [ProtobufReader.Field], count: Int, what: String) throws(VaertError) -> ArraySlice<UInt8> {
            var entries: [String: String] = [:]
            for f in t where f.number == 13 {
                let e = try ONNXModel.message(f, "\(what) external_data")
                if let key = try ProtobufReader.string(e, number: 1, what: what) {
                    entries[key] = try ProtobufReader.string(e, number: 2, what: what) ?? ""
                }
            }
            guard let location = entries["location"] else { throw VaertError(.malformed, "\(what): external data without a location") }
            // A file from strangers names the sidecar: it must be a plain relative path inside the model's folder.
            let parts = location.split(separator: "/", omittingEmptySubsequences: false)
            guard !location.isEmpty, !location.hasPrefix("/"), !location.contains("\\"), !location.contains("\0"),
                  parts.allSatisfy({ !$0.isEmpty && $0 != ".." && $0 != "." })
            else {
                throw VaertError(.invalidArgument, "\(what): external data location '\(location)' is not a relative path inside the model's folder (no absolute paths, no '..')")
            }
            guard let folder else { throw VaertError(.unsupported, "\(what): external data ('\(location)') cannot be read here") }
            if files[location] == nil {
                files[location] = try FileIO.withContents(of: "\(folder)/\(location)") { [UInt8]($0) }
            }
            let file = files[location]!
            guard let offset = Int(entries["offset"] ?? "0"), offset >= 0, offset <= file.count else {
                throw VaertError(.malformed, "\(what): external data offset '\(entries["offset"] ?? "")' is outside '\(location)' (\(file.count) bytes)")
            }
            let length = Int(entries["length"] ?? "") ?? count
            guard length == count, length <= file.count - offset else {
                throw VaertError(.malformed, "\(what): external data of \(length) bytes at \(offset) in '\(location)' (\(file.count) bytes); the tensor needs \(count)")
            }
            return file[offset..<(offset + length)]
        }
    }
}
