import Foundation
import Testing
import TestSupport
import VAECore
import VAETraining

@Suite struct IDXTests {
    /// Writes an IDX file of unsigned bytes; gzipped through the system's gzip when asked.
    func write(_ path: String, dims: [Int], payload: [UInt8], magic: [UInt8] = [0, 0, 8], gzip: Bool = false) throws {
        var bytes = magic + [UInt8(dims.count)]
        for d in dims { bytes += [UInt8(d >> 24 & 0xff), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff)] }
        bytes += payload
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        if gzip { try TestSupport.run("/usr/bin/gzip", ["-f", path]) }
    }

    func expectError(_ folder: String, contains fragments: [String]) {
        do {
            _ = try Dataset.load(folder: folder, split: .train)
            Issue.record("expected an error")
        } catch {
            #expect(!error.message.contains("\n"))
            for f in fragments { #expect(error.message.contains(f), "\(error.message) lacks \(f)") }
        }
    }

    @Test("reads gzipped and plain IDX files into [0, 1] floats with labels")
    func reads() throws {
        for gzip in [false, true] {
            try TestSupport.withTemporaryFolder { folder in
                try write("\(folder)/train-images-idx3-ubyte", dims: [2, 2, 3], payload: [0, 255, 51, 102, 0, 0, 1, 2, 3, 4, 5, 255], gzip: gzip)
                try write("\(folder)/train-labels-idx1-ubyte", dims: [2], payload: [7, 3], magic: [0, 0, 8], gzip: gzip)
                let d = try Dataset.load(folder: folder, split: .train)
                #expect(d.count == 2 && d.shape == Shape3(channels: 1, height: 2, width: 3) && d.labels == [7, 3])
                #expect(d.images[1] == 1 && abs(d.images[2] - 0.2) < 1e-7 && d.images[11] == 1)
            }
        }
    }

    @Test("missing, truncated, wrong-magic and inconsistent files give one-line errors naming the file")
    func errors() throws {
        try TestSupport.withTemporaryFolder { folder in
            expectError("\(folder)/nowhere", contains: ["nowhere", "no such data folder"])
            expectError(folder, contains: ["train-images-idx3-ubyte", "no such file"])
            let images = "\(folder)/train-images-idx3-ubyte", labels = "\(folder)/train-labels-idx1-ubyte"
            try write(images, dims: [3, 2, 2], payload: [UInt8](repeating: 1, count: 12))
            try write(labels, dims: [2], payload: [1, 2])
            expectError(folder, contains: ["train-labels-idx1-ubyte", "2 labels", "3 images"])
            try write(images, dims: [3, 2, 2], payload: [UInt8](repeating: 1, count: 10))
            expectError(folder, contains: ["train-images-idx3-ubyte", "truncated"])
            try write(images, dims: [3, 2, 2], payload: [UInt8](repeating: 1, count: 12), magic: [0x1f, 0, 8])
            expectError(folder, contains: ["train-images-idx3-ubyte", "bad magic"])
            try write(images, dims: [3, 2, 2], payload: [UInt8](repeating: 1, count: 12), magic: [0, 0, 0x0d])
            expectError(folder, contains: ["element type"])
        }
    }
}
