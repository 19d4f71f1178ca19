import VAECore

// Model kinds and likelihoods are stored by their file names ("vae", "bernoulli") in checkpoints' JSON,
// as in weights files; a name this build does not know is a decoding error, never a default.

extension ModelKind: Codable {}
extension Likelihood: Codable {}

extension NamedInFile where Self: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let value = Self(rawValue: name) else {
            let known = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(name)' is not one of \(known)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
