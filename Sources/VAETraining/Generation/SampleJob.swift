import Foundation
import Synchronization
import VAECore
import VAERuntime

/// A batch generation job: the samples of one seed, decoded, encoded as JPEG and written in passes of
/// bounded size, so memory stays flat whatever the count. Decoding splits across the library's pool
/// (`vaert_set_threads`), JPEG encoding and writing across `threads` workers; every image depends only
/// on (seed, index), so the bytes are the same for any thread count, pass size or shard.
///
/// Output goes to a folder of `sample-N.jpg` files or to tar shards (`samples-N.tar`, the WebDataset
/// layout: `NNNNNNNNN.jpg` and `NNNNNNNNN.json` per sample), each file written to a temporary name and
/// renamed without a sync of its own; the file system is synced once, at the end, before the job reports
/// success. A job folder holds a manifest of the job (`vaert-job.json`), so that `resume` continues a
/// killed job: files already complete are kept, the rest are made again, and the result is byte for byte
/// that of an uninterrupted run.
///
/// `@unchecked Sendable`: the JPEG workers read the job's constants; `pixels` changes only between passes,
/// on the calling thread.
public final class SampleJob: @unchecked Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// One JPEG per sample in the folder.
        case jpeg
        /// Tar shards of `shardSize` samples.
        case tar
    }

    public struct Options: Sendable {
        public var seed: UInt64 = 0
        /// Samples of the whole job, all shards together.
        public var count: Int
        /// This process's part of the job: k of n.
        public var shard = 0, shards = 1
        /// One class for every sample of a conditional model; nil gives sample i class i mod K.
        public var classLabel: Int32? = nil
        /// The output folder; nil writes no files (a grid only).
        public var folder: String? = nil
        public var format: Format = .jpeg
        /// Samples per tar shard.
        public var shardSize = 10_000
        /// Also write the latent vectors: one `.npy` per tar shard, or one for the folder's samples.
        public var latents = false
        public var quality = 90
        /// JPEG workers.
        public var threads = 1
        /// Keep the decoded pixels of every sample of the range (for a grid; at most `maxKeptImages`).
        public var keepPixels = false
        /// Continue the job in `folder` instead of starting it again.
        public var resume = false

        public init(count: Int) { self.count = count }
    }

    /// The most images a job keeps in memory for a grid.
    public static let maxKeptImages = 4096
    /// Samples decoded and encoded per pass.
    static let passRows = 1024

    public let model: Model
    public let modelPath: String
    public let options: Options
    /// The sample indices this process makes.
    public let range: Range<Int>
    /// The decoded pixels of the range, with `keepPixels`.
    public private(set) var pixels: [Float] = []
    /// A pass's pixels and tar bytes, kept from pass to pass (fresh buffers cost a page fault per page).
    var passPixels: [Float], passBytes: [UInt8] = []

    public struct Summary: Sendable {
        /// Samples decoded and written by this run, and those a resumed run found complete.
        public var made = 0, kept = 0
        public var seconds = 0.0
    }

    public init(model: Model, modelPath: String, options: Options) throws(VaertError) {
        guard options.count > 0, options.shards > 0, (0..<options.shards).contains(options.shard) else {
            throw VaertError(.invalidArgument, "a job needs a count above 0 and a shard k/n with 0 <= k < n")
        }
        guard options.format == .jpeg || options.shardSize > 0 else { throw VaertError(.invalidArgument, "--shard-size must be positive") }
        try model.checkCanSample()  // before any folder or manifest is made
        if let label = options.classLabel, !(0..<Int32(model.classCount)).contains(label) {
            throw VaertError(.invalidArgument, "class \(label): the model has classes 0 to \(model.classCount - 1)")
        }
        self.model = model
        self.modelPath = modelPath
        self.options = options
        passPixels = [Float](repeating: 0, count: SampleJob.passRows * model.pixelCount)
        range = SampleJob.indices(options)
        if options.keepPixels && range.count > SampleJob.maxKeptImages {
            throw VaertError(.invalidArgument, "a grid of \(range.count) images is more than \(SampleJob.maxKeptImages): it would be too large to look at (and to keep in memory); ask for fewer samples in the grid")
        }
    }

    /// A shard's indices. JPEG files split the indices evenly; tar output splits whole tar shards, so
    /// that every tar file belongs to exactly one process.
    public static func indices(_ o: Options) -> Range<Int> {
        switch o.format {
        case .jpeg:
            return (o.shard * o.count / o.shards)..<((o.shard + 1) * o.count / o.shards)
        case .tar:
            let tars = (o.count + o.shardSize - 1) / o.shardSize
            let first = o.shard * tars / o.shards, end = (o.shard + 1) * tars / o.shards
            return min(o.count, first * o.shardSize)..<min(o.count, end * o.shardSize)
        }
    }

    // MARK: Names

    var digits: Int { max(6, String(options.count - 1).count) }

    func padded(_ n: Int, _ width: Int) -> String {
        let text = String(n)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    func jpegPath(_ index: Int) -> String { "\(options.folder!)/sample-\(padded(index, digits)).jpg" }
    func tarPath(_ tar: Int) -> String { "\(options.folder!)/samples-\(padded(tar, 6)).tar" }
    func tarLatentsPath(_ tar: Int) -> String { "\(options.folder!)/samples-\(padded(tar, 6)).latents.npy" }
    var folderLatentsPath: String { "\(options.folder!)/latents\(shardSuffix).npy" }
    var manifestPath: String { "\(options.folder!)/vaert-job\(shardSuffix).json" }
    /// Where JPEGs are written before they are renamed into the folder, in a folder per worker (one folder's
    /// lock for all workers' creates measured 1.3x slower): only files here can be partial.
    var stagingFolder: String { "\(options.folder!)/.partial\(shardSuffix)" }
    var shardSuffix: String { options.shards == 1 ? "" : "-\(options.shard)-of-\(options.shards)" }

    /// The class of sample `index`: the fixed class, or index mod K.
    func label(_ index: Int) -> Int32 { options.classLabel ?? Int32(index % max(model.classCount, 1)) }

    // MARK: Running

    public func run(progress: (Int) -> Void = { _ in }) throws -> Summary {
        let start = Date()
        var summary = Summary()
        if let folder = options.folder {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try prepareFolder(folder)
        }
        if options.keepPixels { pixels.reserveCapacity(range.count * model.pixelCount) }
        let latentsFile = try folderLatents()
        var tar = TarShard()
        var first = range.lowerBound
        while first < range.upperBound {
            var end = min(first + SampleJob.passRows, range.upperBound)
            if options.format == .tar {
                let tarIndex = first / options.shardSize
                end = min(end, (tarIndex + 1) * options.shardSize)
                if first % options.shardSize == 0 || first == range.lowerBound {
                    let complete = options.resume && isCompleteTar(tarIndex, end: min(range.upperBound, (tarIndex + 1) * options.shardSize))
                    tar = TarShard(index: tarIndex, file: complete ? nil : try StreamedFile(path: tarPath(tarIndex)))
                }
            }
            let n = end - first
            var z = [Float](repeating: 0, count: n * model.latentDim)
            try model.sampleDecoderInputs(seed: options.seed, first: UInt64(first), count: n, into: &z)
            try z.withUnsafeBytes { (b) throws(VaertError) in try latentsFile?.append(b) }
            let todo = (first..<end).map { needsWriting($0, tar: tar) }
            if todo.contains(true) || options.keepPixels {
                try makePass(first: first, z: z, todo: todo, tar: &tar)
            }
            summary.made += todo.filter { $0 }.count
            summary.kept += todo.filter { !$0 }.count
            if options.format == .tar && (end % options.shardSize == 0 || end == range.upperBound) && !tar.complete {
                try finishTar(tar)
            }
            first = end
            progress(first - range.lowerBound)
        }
        try latentsFile?.finish()
        if let folder = options.folder {
            try? FileManager.default.removeItem(atPath: stagingFolder)
            try FileIO.syncFolder(folder)
        }
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// Whether sample `index` must be made: always, unless a resumed job finds its output complete.
    func needsWriting(_ index: Int, tar: TarShard) -> Bool {
        guard options.folder != nil else { return options.keepPixels }
        guard options.resume else { return true }
        return options.format == .tar ? !tar.complete : !SampleJob.isCompleteJPEG(jpegPath(index))
    }

    /// Decodes a pass (split across the library's pool), keeps its pixels for a grid, and encodes and
    /// writes the samples `todo` marks. (Workers that each decoded their own chunks in a workspace, with
    /// no phase between decoding and encoding, measured no faster: the file system sets the pace.)
    func makePass(first: Int, z: [Float], todo: [Bool], tar: inout TarShard) throws {
        let n = todo.count, p = model.pixelCount
        let labels = model.kind.isConditional ? (first..<(first + n)).map(label) : nil
        try model.decode(z, labels: labels, batch: n, pixels: &passPixels)
        if options.keepPixels { pixels += passPixels[0..<(n * p)] }
        guard options.folder != nil else { return }
        let records = try encode(passPixels, first: first, todo: todo)
        if options.format == .tar {
            passBytes.removeAll(keepingCapacity: true)
            for record in records { passBytes += record }
            try tar.file?.append(passBytes)
            if options.latents { tar.latents += z }
        }
    }

    /// JPEG-encodes the marked images of a pass on `threads` workers, and writes each (JPEG folder) or
    /// returns its tar members (a tar shard's part, in order; empty where not marked). Workers claim runs of
    /// 16 images in turn, so that one held up by the file system does not hold up the pass.
    func encode(_ decoded: [Float], first: Int, todo: [Bool]) throws -> [[UInt8]] {
        let n = todo.count, p = model.pixelCount, shape = model.imageShape, quality = options.quality, run = 16
        let workers = max(1, min(options.threads, (n + run - 1) / run))
        var jpegs = [[UInt8]](repeating: [], count: n)
        let failure = Mutex<VaertError?>(nil), next = Atomic<Int>(0)
        /// Encodes (and writes) image j of the pass.
        @Sendable func make(_ j: Int, _ worker: Int, _ pixels: UnsafePointer<Float>, _ outputs: UnsafeMutableBufferPointer<[UInt8]>) throws(VaertError) {
            let jpeg = try JPEG.encode(pixels + j * p, shape: shape, quality: quality, range: model.imageRange)
            if options.format == .jpeg {
                try FileIO.writeWhole(jpeg, to: jpegPath(first + j), via: "\(stagingFolder)/\(worker)/sample-\(padded(first + j, digits)).jpg")
            } else {
                let name = padded(first + j, 9)
                var members: [UInt8] = []
                members.reserveCapacity(jpeg.count + 3 * TarArchive.blockSize + 512)
                TarArchive.append(name: name + ".jpg", contents: jpeg, to: &members)
                TarArchive.append(name: name + ".json", contents: metadataJSON(first + j), to: &members)
                outputs[j] = members
            }
        }
        jpegs.withUnsafeMutableBufferPointer { outputs in
            decoded.withUnsafeBufferPointer { pixels in
                nonisolated(unsafe) let (outputs, pixels) = (outputs, pixels.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    while failure.withLock({ $0 == nil }) {
                        let start = next.wrappingAdd(run, ordering: .relaxed).oldValue
                        guard start < n else { return }
                        for j in start..<min(n, start + run) where todo[j] {
                            do throws(VaertError) { try make(j, worker, pixels, outputs) } catch {
                                failure.withLock { if $0 == nil { $0 = error } }
                                return
                            }
                        }
                    }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return jpegs
    }

    /// The JSON beside each image of a tar shard: how to make it again.
    func metadataJSON(_ index: Int) -> [UInt8] {
        var fields = ["\"seed\": \(options.seed)", "\"index\": \(index)"]
        if model.kind.isConditional { fields.append("\"class\": \(label(index))") }
        return Array(("{" + fields.joined(separator: ", ") + "}\n").utf8)
    }

    // MARK: Tar shards

    /// A tar shard being written, its members streamed to the file in sample order.
    struct TarShard {
        var index = 0
        /// nil when a resumed job found the shard complete: nothing to make.
        var file: StreamedFile? = nil
        var latents: [Float] = []
        var complete: Bool { file == nil }
    }

    func finishTar(_ shard: TarShard) throws(VaertError) {
        guard let file = shard.file else { return }
        var end: [UInt8] = []
        TarArchive.finish(&end)
        try file.append(end)
        if options.latents {
            let rows = shard.latents.count / model.latentDim
            let npy = shard.latents.withUnsafeBufferPointer { NumpyArray.file($0, rows: rows, columns: model.latentDim) }
            try FileIO.writeWhole(npy, to: tarLatentsPath(shard.index), via: tarLatentsPath(shard.index) + ".tmp")
        }
        // The tar last: a tar file that is there says its shard is done.
        try file.finish()
    }

    /// The latent vectors of a folder job, streamed to one `.npy` (nil when not asked for, or when a
    /// resumed job finds the file whole).
    func folderLatents() throws(VaertError) -> StreamedFile? {
        guard options.folder != nil && options.format == .jpeg && options.latents else { return nil }
        let size = (try? FileManager.default.attributesOfItem(atPath: folderLatentsPath)[.size] as? Int) ?? nil
        if options.resume && size == NumpyArray.fileSize(rows: range.count, columns: model.latentDim) { return nil }
        return try StreamedFile(path: folderLatentsPath, header: NumpyArray.header(rows: range.count, columns: model.latentDim))
    }

    /// Whether tar shard `tar`, for samples up to `end`, is there whole: every member in order, and its
    /// latents file when the job writes one.
    func isCompleteTar(_ tar: Int, end: Int) -> Bool {
        let first = tar * options.shardSize
        guard let members = try? FileIO.withContents(of: tarPath(tar), { TarArchive.members($0) }) ?? nil,
              members.count == 2 * (end - first) else { return false }
        for (k, member) in members.enumerated() {
            let name = String(repeating: "0", count: max(0, 9 - String(first + k / 2).count)) + String(first + k / 2)
            guard member.name == name + (k % 2 == 0 ? ".jpg" : ".json") else { return false }
        }
        if options.latents {
            let size = (try? FileManager.default.attributesOfItem(atPath: tarLatentsPath(tar))[.size] as? Int) ?? nil
            return size == NumpyArray.fileSize(rows: end - first, columns: model.latentDim)
        }
        return true
    }

    /// Whether the file at `path` is a whole JPEG: it starts with the SOI marker and ends with EOI.
    static func isCompleteJPEG(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size >= 4 else { return false }
        var head: (UInt8, UInt8) = (0, 0), tail: (UInt8, UInt8) = (0, 0)
        guard pread(fd, &head, 2, 0) == 2, pread(fd, &tail, 2, off_t(info.st_size - 2)) == 2 else { return false }
        return head == (0xFF, 0xD8) && tail == (0xFF, 0xD9)
    }

    // MARK: The job folder

    /// The job's description, compared when a job is resumed.
    var manifest: [String: String] {
        var m = ["weights": modelPath, "model_crc32": String(format: "%08x", model.file.crc32), "seed": String(options.seed),
                 "count": String(options.count), "shard": "\(options.shard)/\(options.shards)", "format": options.format.rawValue,
                 "quality": String(options.quality), "latents": String(options.latents), "vaert_version": LibraryVersion.string.description]
        if options.format == .tar { m["shard_size"] = String(options.shardSize) }
        if let label = options.classLabel { m["class"] = String(label) }
        return m
    }

    /// Writes the manifest, or on resume checks it against the one there and removes the temporary files
    /// a killed run left; makes an empty staging folder.
    func prepareFolder(_ folder: String) throws {
        defer {
            try? FileManager.default.removeItem(atPath: stagingFolder)
            for worker in 0..<max(1, options.threads) {
                try? FileManager.default.createDirectory(atPath: "\(stagingFolder)/\(worker)", withIntermediateDirectories: true)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        if options.resume, let data = FileManager.default.contents(atPath: manifestPath) {
            guard let recorded = try? JSONDecoder().decode([String: String].self, from: data) else {
                throw VaertError(.malformed, "\(manifestPath): not a vaert job manifest")
            }
            // The weights may have moved; the model itself must be the same.
            let differences = manifest.keys.sorted().filter { $0 != "weights" && recorded[$0] != manifest[$0] }
                .map { "\($0) \(manifest[$0]!) (the job's is \(recorded[$0] ?? "unset"))" }
            guard differences.isEmpty else {
                throw VaertError(.invalidArgument, "--resume: \(folder) holds another job: \(differences.joined(separator: "; ")); give the same options, or another folder")
            }
            // Leftovers of a killed run: streamed files not yet renamed, and a manifest being written.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where (name.hasSuffix(".tmp") && (name.hasPrefix("samples-") || name.hasPrefix("latents"))) || (name.hasPrefix("vaert-job") && name.contains(".tmp-")) {
                try? FileManager.default.removeItem(atPath: "\(folder)/\(name)")
            }
        } else {
            try FileIO.writeAtomically(Array(try encoder.encode(manifest)), to: manifestPath)
        }
    }
}

/// A file written as a stream to `path`.tmp and renamed when finished, so that after a kill it is whole
/// or absent: a tar shard as its samples come, or a folder job's latent vectors.
final class StreamedFile {
    let path: String
    let handle: FileHandle

    init(path: String, header: [UInt8] = []) throws(VaertError) {
        self.path = path
        // open(2), not FileManager.createFile: that writes through a temporary file of its own, which a kill leaves behind.
        let fd = open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw VaertError(.ioWrite, "\(path).tmp: \(String(cString: strerror(errno)))") }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try append(header)
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(VaertError) {
        do {
            try handle.write(contentsOf: Data(bytes))
        } catch {
            throw VaertError(.ioWrite, "\(path).tmp: \(error.localizedDescription)")
        }
    }

    func append(_ bytes: [UInt8]) throws(VaertError) {
        try bytes.withUnsafeBytes { b in Result { () throws(VaertError) in try append(b) } }.get()
    }

    func finish() throws(VaertError) {
        do { try handle.close() } catch { throw VaertError(.ioWrite, "\(path).tmp: \(error.localizedDescription)") }
        guard rename(path + ".tmp", path) == 0 else { throw VaertError(.ioWrite, "\(path): could not rename the finished file") }
    }
}
