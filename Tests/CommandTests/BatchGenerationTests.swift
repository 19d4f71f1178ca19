import Foundation
import Testing
import TestSupport
import VAECore
import VAETraining

/// decode-cli sample as a batch job: the same bytes for any thread count, shards in parallel processes
/// that together equal one run, kill -9 and --resume, tar shards with their JSON and latents, memory that
/// does not grow with the count.
@Suite(.serialized) struct BatchGenerationTests {
    let decodeCLI = "\(TestSupport.binDir)/decode-cli"
    let cvae = "\(TestSupport.root)/tools/models/fashion-cvae.vaert"

    func sample(_ arguments: [String], model: String = TestSupport.readyModel) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestSupport.run(decodeCLI, ["sample", "--weights", model] + arguments)
    }

    /// Every file of a folder, by name, with its bytes.
    func files(_ folder: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            out[name] = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)"))
        }
        return out
    }

    @Test("the same bytes for 1, 2 and 3 threads, in JPEG folders and tar shards with latents")
    func anyThreadCount() throws {
        try TestSupport.withTemporaryFolder { folder in
            for format in ["jpeg", "tar"] {
                var results: [[String: Data]] = []
                for threads in [1, 2, 3] {
                    let out = "\(folder)/\(format)-\(threads)"
                    let r = try sample(["--count", "2500", "--seed", "4", "--format", format, "--shard-size", "1000", "--latents", "--out", out,
                                        "--threads", "\(threads)"], model: cvae)
                    #expect(r.status == 0, "\(r.stderr)")
                    results.append(try files(out))
                }
                #expect(results[0].count == (format == "jpeg" ? 2502 : 7), "\(format): \(results[0].count) files")
                #expect(results[0] == results[1] && results[0] == results[2], "\(format): output differs between thread counts")
            }
        }
    }

    @Test("tar shards hold NNNNNNNNN.jpg and .json per sample; the JSON and the latents reproduce each image")
    func tarShards() throws {
        try TestSupport.withTemporaryFolder { folder in
            let r = try sample(["--count", "25", "--seed", "9", "--format", "tar", "--shard-size", "10", "--latents", "--out", "\(folder)/tar"], model: cvae)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(folder)/tar").sorted() == [
                "samples-000000.latents.npy", "samples-000000.tar", "samples-000001.latents.npy", "samples-000001.tar",
                "samples-000002.latents.npy", "samples-000002.tar", "vaert-job.json"])
            let tar = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/tar/samples-000002.tar"))
            let members = try #require(tar.withUnsafeBytes { TarArchive.members($0) })
            #expect(members.map(\.name) == (20..<25).flatMap { ["0000000\($0).jpg", "0000000\($0).json"] })
            // System tar reads it, and the JSON says how sample 23 was made.
            let listed = try TestSupport.run("/bin/tar", ["-xOf", "\(folder)/tar/samples-000002.tar", "000000023.json"])
            #expect(listed.status == 0 && listed.stdout == "{\"seed\": 9, \"index\": 23, \"class\": 3}\n", "\(listed.stdout)\(listed.stderr)")
            // The image in the tar is decode-cli's own JPEG of sample 23, and the latents are its z.
            let single = try sample(["--count", "25", "--seed", "9", "--out", "\(folder)/jpegs"], model: cvae)
            #expect(single.status == 0)
            let extracted = "\(folder)/x"
            try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
            #expect(try TestSupport.run("/bin/tar", ["-xf", "\(folder)/tar/samples-000002.tar", "-C", extracted]).status == 0)
            #expect(FileManager.default.contents(atPath: "\(extracted)/000000023.jpg") == FileManager.default.contents(atPath: "\(folder)/jpegs/sample-000023.jpg"))
            let npy = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/tar/samples-000002.latents.npy"))
            #expect(npy.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) && npy.count == NumpyArray.fileSize(rows: 5, columns: 20))
            let header = NumpyArray.header(rows: 5, columns: 20).count
            let stored = npy.dropFirst(header).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            let model = try Model.open(path: cvae)
            var z = [Float](repeating: 0, count: 5 * 20)
            try model.sampleLatents(seed: 9, first: 20, count: 5, into: &z)
            #expect(stored == z)
        }
    }

    @Test("4 shards in parallel processes together equal one run, byte for byte (JPEG folder and tar)")
    func parallelShards() throws {
        try TestSupport.withTemporaryFolder { folder in
            for format in ["jpeg", "tar"] {
                let common = ["--count", "3001", "--seed", "2", "--format", format, "--shard-size", "500", "--threads", "1"]
                #expect(try sample(common + ["--out", "\(folder)/\(format)-whole"]).status == 0)
                let group = DispatchGroup(), statuses = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 4)
                defer { statuses.deallocate() }
                nonisolated(unsafe) let out = statuses
                let decodeCLI = self.decodeCLI
                for k in 0..<4 {
                    DispatchQueue.global().async(group: group) {
                        out[k] = (try? TestSupport.run(decodeCLI, ["sample", "--weights", TestSupport.readyModel] + common
                                                       + ["--shard", "\(k)/4", "--out", "\(folder)/\(format)-shards"]).status) ?? -1
                    }
                }
                group.wait()
                #expect(Array(statuses) == [0, 0, 0, 0])
                var whole = try files("\(folder)/\(format)-whole"), shards = try files("\(folder)/\(format)-shards")
                // Each process writes the manifest of its own part; the samples are what must agree.
                whole = whole.filter { !$0.key.hasPrefix("vaert-job") }
                #expect(shards.keys.filter { $0.hasPrefix("vaert-job") }.sorted() == (0..<4).map { "vaert-job-\($0)-of-4.json" })
                shards = shards.filter { !$0.key.hasPrefix("vaert-job") }
                #expect(whole.count == (format == "jpeg" ? 3001 : 7) && whole == shards, "\(format): the shards' union differs from one run")
            }
        }
    }

    @Test("kill -9 at random points of the job, then --resume: complete files are kept, the rest made again, and the folder equals an uninterrupted run's", arguments: ["jpeg", "tar"])
    func killAndResume(format: String) throws {
        try TestSupport.withTemporaryFolder { folder in
            let common = ["sample", "--weights", TestSupport.readyModel, "--count", "30000", "--seed", "7", "--format", format, "--shard-size", "2000", "--latents"]
            #expect(try TestSupport.run(decodeCLI, common + ["--out", "\(folder)/whole"]).status == 0)
            // Each kill comes when a file a random way into the job appears: always in the middle of a run.
            var kills = 0, points: [Int] = []
            var generator = SystemRandomNumberGenerator()
            for attempt in 0..<3 {
                let point = Int.random(in: (attempt * 9000 + 500)..<((attempt + 1) * 9000), using: &generator)
                points.append(point)
                let marker = format == "jpeg" ? "\(folder)/killed/sample-\(String(format: "%06d", point)).jpg" : "\(folder)/killed/samples-\(String(format: "%06d", point / 2000)).tar"
                let arguments = common + ["--out", "\(folder)/killed"] + (attempt > 0 ? ["--resume"] : [])
                if try TestSupport.runAndKill(decodeCLI, arguments, when: { FileManager.default.fileExists(atPath: marker) }) { kills += 1 }
            }
            let finish = try TestSupport.run(decodeCLI, common + ["--out", "\(folder)/killed", "--resume"])
            #expect(finish.status == 0, "\(finish.stderr)")
            #expect(kills == 3, "killed \(kills) of 3 runs (at samples \(points))")
            let whole = try files("\(folder)/whole"), resumed = try files("\(folder)/killed")
            #expect(whole.keys.sorted() == resumed.keys.sorted(), "killed at samples \(points): other files than the uninterrupted run's")
            #expect(whole == resumed, "killed at samples \(points): the resumed folder differs from the uninterrupted run's")
            // A resumed job with other options is refused, naming them.
            let other = try TestSupport.run(decodeCLI, common.map { $0 == "7" ? "8" : $0 } + ["--out", "\(folder)/killed", "--resume"])
            #expect(other.status == 1 && other.stderr.contains("seed 8 (the job's is 7)"), "\(other.stderr)")
        }
    }

    @Test("memory does not grow with the count: peak RSS for 40,000 samples within 10% of that for 2,000",
          .enabled(if: TestSupport.sanitizer == nil, "a sanitizer's allocator sets the peak (ASan's quarantine grows to 256 MB)"))
    func boundedMemory() throws {
        try TestSupport.withTemporaryFolder { folder in
            var peaks: [Int] = []
            for count in [2000, 40000] {
                let r = try TestSupport.runMeasured(decodeCLI, ["sample", "--weights", TestSupport.readyModel, "--count", "\(count)", "--format", "tar",
                                                                "--out", "\(folder)/\(count)"])
                #expect(r.status == 0, "\(r.stderr)")
                peaks.append(r.peakKilobytes)
            }
            #expect(Double(peaks[1]) <= 1.1 * Double(peaks[0]) && peaks[1] < 100_000, "peak RSS \(peaks) KB")
        }
    }

    @Test("a grid past 4096 images is refused, saying why")
    func gridCap() throws {
        try TestSupport.withTemporaryFolder { folder in
            let grid = try sample(["--count", "5000", "--grid", "\(folder)/g.jpg"])
            #expect(grid.status != 0 && grid.stderr.contains("more than 4096"), "\(grid.stderr)")
        }
    }
}
