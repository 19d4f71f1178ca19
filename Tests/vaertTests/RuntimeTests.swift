import Foundation
import Testing
import TestSupport
import VAECore
import VAERuntime

@Suite struct RuntimeTests {
    func model() throws -> Model { try Model.open(path: TestSupport.readyModel) }

    @Test("the ready model opens with its metadata: a Fashion-MNIST VAE under 245 nats")
    func readyModel() throws {
        let m = try model()
        #expect(m.kind == .vae && m.latentDim == 20 && m.imageShape == Shape3(channels: 1, height: 28, width: 28))
        #expect(m.file.metadataValue(MetadataKey.dataset) == .string("fashion-mnist"))
        guard case .f32(let elbo)? = m.file.metadataValue(MetadataKey.testNegELBO) else { Issue.record("no test ELBO"); return }
        #expect(elbo > 200 && elbo <= 245)
    }

    @Test("decode is bit-identical for any batch size and from many threads at once")
    func deterministicDecode() throws {
        let m = try model()
        let n = 300  // more than one pass of 256 rows
        let z = TestSupport.randomFloats(n * m.latentDim, seed: 4, in: -2...2)
        var whole = [Float](repeating: 0, count: n * m.pixelCount)
        try m.decode(z, batch: n, pixels: &whole)
        var single = [Float](repeating: 0, count: m.pixelCount)
        for i in [0, 5, 255, 256, 299] {
            try z.withUnsafeBufferPointer { try m.decode($0.baseAddress! + i * m.latentDim, batch: 1, pixels: &single) }
            #expect(single == Array(whole[(i * m.pixelCount)..<((i + 1) * m.pixelCount)]), "row \(i)")
        }
        let results = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: 8)
        defer { _ = results.deinitialize(); results.deallocate() }
        nonisolated(unsafe) let out = results
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            var pixels = [Float](repeating: 0, count: n * m.pixelCount)
            try? m.decode(z, batch: n, pixels: &pixels)
            (out.baseAddress! + t).initialize(to: pixels)
        }
        for t in 0..<8 { #expect(results[t] == whole) }
    }

    @Test("sampling: sample i depends only on (seed, i)")
    func sampling() throws {
        let m = try model()
        var all = [Float](repeating: 0, count: 10 * m.pixelCount), part = [Float](repeating: 0, count: 3 * m.pixelCount)
        try m.sample(seed: 11, first: 0, count: 10, pixels: &all)
        try m.sample(seed: 11, first: 6, count: 3, pixels: &part)
        #expect(part == Array(all[(6 * m.pixelCount)..<(9 * m.pixelCount)]))
    }

    @Test("JPEG: a whole file or none; errors name the file")
    func jpeg() throws {
        try TestSupport.withTemporaryFolder { folder in
            let gradient = (0..<(3 * 16 * 24)).map { Float($0 % 24) / 23 }
            try JPEG.write(gradient, shape: Shape3(channels: 3, height: 16, width: 24), quality: 90, to: "\(folder)/ok.jpg")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/ok.jpg"))
            #expect(bytes.prefix(2) == Data([0xFF, 0xD8]) && bytes.suffix(2) == Data([0xFF, 0xD9]))
            do throws(VaertError) {
                try JPEG.write(gradient, shape: Shape3(channels: 3, height: 16, width: 24), quality: 90, to: "\(folder)/no/such/dir.jpg")
                Issue.record("expected a write error")
            } catch {
                #expect(error.status == .ioWrite && error.message.contains("no/such/dir.jpg"))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["ok.jpg"])
        }
    }

    @Test("status codes and version agree with Include/vaert.h")
    func headerAgrees() throws {
        let header = try String(contentsOfFile: "\(TestSupport.root)/Include/vaert.h", encoding: .utf8)
        let names: [Status: String] = [
            .ok: "VAERT_OK", .nullArgument: "VAERT_E_NULL_ARGUMENT", .invalidArgument: "VAERT_E_INVALID_ARGUMENT",
            .nonFiniteInput: "VAERT_E_NON_FINITE_INPUT", .unsupported: "VAERT_E_UNSUPPORTED", .ioOpen: "VAERT_E_IO_OPEN",
            .ioRead: "VAERT_E_IO_READ", .ioWrite: "VAERT_E_IO_WRITE", .badMagic: "VAERT_E_BAD_MAGIC",
            .unsupportedVersion: "VAERT_E_UNSUPPORTED_VERSION", .byteOrder: "VAERT_E_BYTE_ORDER", .truncated: "VAERT_E_TRUNCATED",
            .checksum: "VAERT_E_CHECKSUM", .malformed: "VAERT_E_MALFORMED", .missingTensor: "VAERT_E_MISSING_TENSOR",
            .outOfMemory: "VAERT_E_OUT_OF_MEMORY", .bufferTooSmall: "VAERT_E_BUFFER_TOO_SMALL", .jpeg: "VAERT_E_JPEG",
        ]
        for status in Status.allCases {
            let name = try #require(names[status])
            #expect(header.contains("\(name) = \(status.rawValue),") || header.contains("\(name) = \(status.rawValue) "), "\(name)")
        }
        #expect(header.contains("#define VAERT_VERSION_MAJOR \(LibraryVersion.major)\n"))
        #expect(header.contains("#define VAERT_VERSION_MINOR \(LibraryVersion.minor)\n"))
        #expect(header.contains("#define VAERT_VERSION_PATCH \(LibraryVersion.patch)\n"))
        #expect(header.contains("#define VAERT_FORMAT_VERSION \(WeightsFormat.version)\n"))
        #expect(Model.maxBatch.nonzeroBitCount == 1 && header.contains("#define VAERT_MAX_BATCH ((size_t)1 << \(Model.maxBatch.trailingZeroBitCount))\n"))
    }
}
