import Foundation
import Testing
import TestSupport
import VAECore
import VAETraining
import VAERuntime

@Suite struct ImageFolderTests {
    /// Writes a class-per-folder JPEG data set: class "a" dark images, class "b" bright RGB ones, 10 each.
    func makeFolder() throws -> String {
        let folder = try TestSupport.temporaryFolder()
        for (name, value, channels) in [("a", Float(0.1), 1), ("b", Float(0.9), 3)] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(name)", withIntermediateDirectories: true)
            for i in 0..<10 {
                let shape = Shape3(channels: channels, height: 40, width: 30)
                let pixels = [Float](repeating: value, count: shape.count)
                try JPEG.write(pixels, shape: shape, quality: 95, to: "\(folder)/\(name)/\(i).jpg")
            }
        }
        return folder
    }

    @Test("JPEG folders: classes from sub-folders, resized and converted, every tenth image held out for test")
    func loads() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(ImageFolder.isImageFolder(folder))
        let train = try Dataset.open(folder: folder, split: .train, shape: Shape3(channels: 1, height: 28, width: 28))
        let test = try Dataset.open(folder: folder, split: .test, shape: Shape3(channels: 1, height: 28, width: 28))
        #expect(train.count == 18 && test.count == 2 && train.shape == Shape3(channels: 1, height: 28, width: 28))
        #expect(Set(train.labels) == [0, 1] && test.labels == [0, 1])
        let first = train.images[0..<784], last = train.images[(17 * 784)..<(18 * 784)]
        #expect(first.allSatisfy { abs($0 - 0.1) < 0.03 } && last.allSatisfy { abs($0 - 0.9) < 0.03 })
        let rgb = try Dataset.open(folder: folder, split: .test, shape: Shape3(channels: 3, height: 8, width: 8))
        #expect(rgb.images.count == 2 * 3 * 64)
    }

    /// Damages three training images: a truncated JPEG, an empty file, and bytes that are no JPEG.
    static func damage(_ folder: String) throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/a/0.jpg"))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: "\(folder)/a/0.jpg"))
        try Data().write(to: URL(fileURLWithPath: "\(folder)/a/1.jpg"))
        try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: "\(folder)/b/2.jpg"))
    }

    @Test("bad images (truncated, empty, not JPEG) are each listed with a one-line message, and stop the load unless skipped")
    func badImages() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.damage(folder)
        do {
            _ = try Dataset.open(folder: folder, split: .train)
            Issue.record("expected the bad images to stop the load")
        } catch let error as BadImagesError {
            #expect(error.images.map(\.path) == ["\(folder)/a/0.jpg", "\(folder)/a/1.jpg", "\(folder)/b/2.jpg"])
            #expect(error.images.allSatisfy { $0.message.hasPrefix($0.path + ": ") && !$0.message.contains("\n") })
            #expect(error.images[0].message.contains("Premature end of JPEG file"), "\(error.images[0].message)")
        }
        let kept = try Dataset.open(folder: folder, split: .train, skipBadImages: true)
        #expect(kept.count == 15 && kept.labels.count == 15 && kept.skipped.count == 3 && kept.skippedSummary == " (3 bad images left out)")
        #expect(kept.images.count == 15 * 784 && kept.labels == [UInt8](repeating: 0, count: 7) + [UInt8](repeating: 1, count: 8))
        #expect(try Dataset.open(folder: folder, split: .test).count == 2)
    }
}
