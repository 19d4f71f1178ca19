import Foundation
import VAECore

/// Images as floats in [0, 1] (count × channels × height × width) with optional labels.
public struct Dataset: Sendable {
    public var images: [Float]
    public var labels: [UInt8]
    public var shape: Shape3
    public var count: Int
    /// Where it came from, for metadata and messages.
    public var name: String
    /// Image files left out because they did not decode (`skipBadImages`).
    public var skipped: [BadImage] = []

    public var pixelCount: Int { shape.count }

    public init(images: [Float], labels: [UInt8], shape: Shape3, name: String) {
        self.images = images
        self.labels = labels
        self.shape = shape
        self.count = images.count / max(shape.count, 1)
        self.name = name
    }

    public enum Split: String, Sendable {
        case train
        case test = "t10k"
    }

    /// The default data folder: Fashion-MNIST from Debian's `dataset-fashion-mnist`.
    public static let defaultFolder = "/usr/share/datasets/fashion-mnist"

    /// " (N bad images left out)" when images were skipped, else "": for summary lines.
    public var skippedSummary: String { skipped.isEmpty ? "" : " (\(skipped.count) bad image\(skipped.count == 1 ? "" : "s") left out)" }

    /// Loads a split of the data set in `folder`: IDX files, or a folder of JPEG images (`ImageFolder`),
    /// which are resized to `shape` (default 1 × 28 × 28). IDX images must already have `shape` when given.
    /// JPEG files that do not decode stop the load (`BadImagesError`, listing them all) unless
    /// `skipBadImages`, which leaves them out and lists them in `skipped`.
    public static func open(folder: String, split: Split, limit: Int? = nil, shape: Shape3? = nil, skipBadImages: Bool = false) throws -> Dataset {
        if ImageFolder.isImageFolder(folder) {
            let data = try ImageFolder.load(folder: folder, split: split, shape: shape ?? Shape3(channels: 1, height: 28, width: 28), limit: limit)
            if !data.skipped.isEmpty && !skipBadImages { throw BadImagesError(folder: folder, images: data.skipped) }
            guard data.count > 0 else { throw VaertError(.ioRead, "\(folder): none of the \(data.skipped.count) images of the \(split == .train ? "training" : "test") split decoded") }
            return data
        }
        let data = try load(folder: folder, split: split, limit: limit)
        if let shape, data.shape != shape {
            throw VaertError(.invalidArgument, "\(folder): images are \(data.shape) but \(shape) is needed")
        }
        return data
    }

    /// The training and test splits, with every bad image of both listed before anything stops.
    public static func openSplits(folder: String, trainLimit: Int?, testLimit: Int?, shape: Shape3?, skipBadImages: Bool) throws -> (Dataset, Dataset) {
        var bad: [BadImage] = []
        func load(_ split: Split, _ limit: Int?, _ shape: Shape3?) throws -> Dataset? {
            do {
                return try open(folder: folder, split: split, limit: limit, shape: shape, skipBadImages: skipBadImages)
            } catch let error as BadImagesError {
                bad += error.images
                return nil
            }
        }
        let train = try load(.train, trainLimit, shape)
        let test = try load(.test, testLimit, train?.shape ?? shape)
        guard let train, let test else { throw BadImagesError(folder: folder, images: bad) }
        return (train, test)
    }

    /// Loads `<folder>/<split>-images-idx3-ubyte[.gz]` and its labels file, checking they agree.
    public static func load(folder: String, split: Split, limit: Int? = nil) throws(VaertError) -> Dataset {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw VaertError(.ioOpen, "\(folder): no such data folder (install Fashion-MNIST with `apt-get install dataset-fashion-mnist`, or pass --data DIR)")
        }
        let imagePath = try find(folder, "\(split.rawValue)-images-idx3-ubyte")
        let labelPath = try find(folder, "\(split.rawValue)-labels-idx1-ubyte")
        let images = try IDX.read(imagePath)
        guard images.dims.count == 3 else { throw VaertError(.malformed, "\(imagePath): expected 3 dimensions (count, rows, columns), found \(images.dims)") }
        let labels = try IDX.read(labelPath)
        guard labels.dims.count == 1 else { throw VaertError(.malformed, "\(labelPath): expected 1 dimension, found \(labels.dims)") }
        guard labels.dims[0] == images.dims[0] else {
            throw VaertError(.malformed, "\(labelPath): \(labels.dims[0]) labels for the \(images.dims[0]) images of \(imagePath)")
        }
        let shape = Shape3(channels: 1, height: images.dims[1], width: images.dims[2])
        let n = min(images.dims[0], limit ?? Int.max)
        let floats = images.bytes[0..<(n * shape.count)].map { Float($0) / 255 }
        let name = URL(fileURLWithPath: folder).lastPathComponent
        return Dataset(images: floats, labels: Array(labels.bytes[0..<n]), shape: shape, name: name)
    }

    static func find(_ folder: String, _ stem: String) throws(VaertError) -> String {
        for candidate in ["\(folder)/\(stem).gz", "\(folder)/\(stem)"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw VaertError(.ioOpen, "\(folder)/\(stem)[.gz]: no such file")
    }
}

/// An image file that could not be decoded, and the one-line message that says why (it names the file).
public struct BadImage: Sendable {
    public var path: String
    public var message: String
}

/// Image files of a data folder that did not decode: training would otherwise go on without them, or
/// with damaged pixels. `CommandErrors` prints one line per file.
public struct BadImagesError: Error {
    public var folder: String
    public var images: [BadImage]
}
