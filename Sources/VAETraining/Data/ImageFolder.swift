import Foundation
import VAECore
import VAERuntime

/// A folder of JPEG images as a data set: one sub-folder per class (sorted names are classes 0, 1, ...),
/// or images directly in the folder (all class 0). `train/` and `test/` sub-folders, when both exist, are
/// the splits; otherwise every tenth image (in sorted order) is held out as the test split.
/// Images are converted to the requested channels and resized (bilinear) to the shape.
public enum ImageFolder {
    static let extensions: Set<String> = ["jpg", "jpeg", "JPG", "JPEG"]

    /// Whether `folder` looks like a JPEG data set rather than an IDX one.
    public static func isImageFolder(_ folder: String) -> Bool {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: folder) else { return false }
        if names.contains(where: { $0.contains("idx3-ubyte") }) { return false }
        return names.contains { extensions.contains(($0 as NSString).pathExtension) } || names.contains { name in
            var isDirectory: ObjCBool = false
            return fm.fileExists(atPath: "\(folder)/\(name)", isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }

    public static func load(folder: String, split: Dataset.Split, shape: Shape3, limit: Int? = nil) throws(VaertError) -> Dataset {
        let fm = FileManager.default
        var root = folder
        var holdOut = true
        let splitFolder = split == .train ? "train" : "test"
        if isDirectory("\(folder)/train") && isDirectory("\(folder)/test") {
            root = "\(folder)/\(splitFolder)"
            holdOut = false
        }
        guard let names = try? fm.contentsOfDirectory(atPath: root).sorted() else { throw VaertError(.ioOpen, "\(root): cannot list the folder") }
        let classFolders = names.filter { isDirectory("\(root)/\($0)") }
        var files: [(path: String, label: Int)] = []
        if classFolders.isEmpty {
            files = names.filter { extensions.contains(($0 as NSString).pathExtension) }.map { ("\(root)/\($0)", 0) }
        } else {
            for (label, name) in classFolders.enumerated() {
                let inside = ((try? fm.contentsOfDirectory(atPath: "\(root)/\(name)")) ?? []).sorted()
                files += inside.filter { extensions.contains(($0 as NSString).pathExtension) }.map { ("\(root)/\(name)/\($0)", label) }
            }
        }
        if holdOut { files = files.enumerated().filter { ($0.offset % 10 == 9) == (split == .test) }.map(\.element) }
        if let limit { files = Array(files.prefix(limit)) }
        guard !files.isEmpty else { throw VaertError(.ioOpen, "\(root): no JPEG images (.jpg, .jpeg) for the \(splitFolder) split") }
        var images = [Float](repeating: 0, count: files.count * shape.count)
        var labels: [UInt8] = [], bad: [BadImage] = []
        for file in files {
            // A file that does not decode (empty, truncated, corrupt: libjpeg's warnings count as errors
            // here) is listed, not padded with grey and trained on.
            let decoded: JPEG.Decoded
            do throws(VaertError) { decoded = try JPEG.read(file.path) } catch {
                bad.append(BadImage(path: file.path, message: error.message))
                continue
            }
            images.withUnsafeMutableBufferPointer { out in
                resample(decoded, to: shape, into: out.baseAddress! + labels.count * shape.count)
            }
            labels.append(UInt8(truncatingIfNeeded: file.label))
        }
        images.removeLast((files.count - labels.count) * shape.count)
        var data = Dataset(images: images, labels: labels, shape: shape, name: URL(fileURLWithPath: folder).lastPathComponent)
        data.skipped = bad
        return data
    }

    /// Converts to `shape.channels` (gray: mean of RGB; RGB from gray: repeated) and resizes to height × width
    /// by bilinear sampling of pixel centres, values scaled to [0, 1], planar channels.
    static func resample(_ image: JPEG.Decoded, to shape: Shape3, into out: UnsafeMutablePointer<Float>) {
        let plane = shape.height * shape.width
        func sample(_ x: Int, _ y: Int, _ c: Int) -> Float {
            let base = (y * image.width + x) * image.components
            if shape.channels == 1 && image.components == 3 {
                return (Float(image.samples[base]) + Float(image.samples[base + 1]) + Float(image.samples[base + 2])) / (3 * 255)
            }
            return Float(image.samples[base + min(c, image.components - 1)]) / 255
        }
        for c in 0..<shape.channels {
            for y in 0..<shape.height {
                let sy = min(max((Float(y) + 0.5) * Float(image.height) / Float(shape.height) - 0.5, 0), Float(image.height - 1))
                let y0 = Int(sy), y1 = min(y0 + 1, image.height - 1), fy = sy - Float(y0)
                for x in 0..<shape.width {
                    let sx = min(max((Float(x) + 0.5) * Float(image.width) / Float(shape.width) - 0.5, 0), Float(image.width - 1))
                    let x0 = Int(sx), x1 = min(x0 + 1, image.width - 1), fx = sx - Float(x0)
                    let top = sample(x0, y0, c) * (1 - fx) + sample(x1, y0, c) * fx
                    let bottom = sample(x0, y1, c) * (1 - fx) + sample(x1, y1, c) * fx
                    out[c * plane + y * shape.width + x] = top * (1 - fy) + bottom * fy
                }
            }
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
