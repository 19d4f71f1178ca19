import Foundation
import Testing
import TestSupport

/// Faults a command must survive without losing work or leaving partial files: SIGKILL in the middle of
/// training, and a disk that fills up while writing.
@Suite(.serialized) struct FaultTests {
    let decodeCLI = "\(TestSupport.binDir)/decode-cli"
    let vaeTrain = "\(TestSupport.binDir)/vae-train"
    static let training = ["--train-limit", "4096", "--test-limit", "200", "--hidden", "64,32", "--latent", "4", "--batch-size", "64",
                           "--epochs", "8", "--seed", "5"]

    @Test("kill -9 at random moments, then --resume: training goes on from the last checkpoint and ends with the uninterrupted run's model, bit for bit")
    func killAndResume() throws {
        try TestSupport.withTemporaryFolder { folder in
            let start = Date()
            let whole = try TestSupport.run(vaeTrain, Self.training + ["--out", "\(folder)/whole.vaert"])
            #expect(whole.status == 0, "\(whole.stderr)")
            let duration = Date().timeIntervalSince(start)

            // Each run is killed by its progress, not by the clock alone (the machine's load changes how long
            // an epoch takes): after its first or second epoch line, plus a random part of an epoch, so the
            // kill can land in training or in a checkpoint write and always before the run ends (8 epochs,
            // at most 2 lost or done per kill).
            let out = "\(folder)/killed.vaert", checkpoint = "\(folder)/killed.ckpt", log = "\(folder)/killed.log"
            let epochSeconds = duration / 8
            var moments: [String] = [], kills = 0
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<3 {
                let lines = Int.random(in: 0...1, using: &generator)
                let delay = Double.random(in: 0...(0.5 * epochSeconds), using: &generator)
                moments.append(String(format: "%.2f s after %d epochs", delay, lines))
                let resume = FileManager.default.fileExists(atPath: checkpoint) ? ["--resume"] : []
                var reached: Date?
                let killed = try TestSupport.runAndKill(vaeTrain, Self.training + ["--out", out] + resume, stderr: log) {
                    if reached == nil, Self.epochLines(log) >= lines { reached = Date() }
                    return reached.map { Date().timeIntervalSince($0) >= delay } ?? false
                }
                if killed { kills += 1 }
                // Whatever the moment, the checkpoint on disk is whole: it loads (its CRC checks out).
                if FileManager.default.fileExists(atPath: checkpoint) {
                    let check = try TestSupport.run(vaeTrain, ["eval", "--weights", checkpoint, "--test-limit", "50"])
                    #expect(check.status == 0, "killed at \(moments): checkpoint unreadable: \(check.stderr)")
                }
            }
            try? FileManager.default.removeItem(atPath: log)
            let resume = FileManager.default.fileExists(atPath: checkpoint) ? ["--resume"] : []
            let finish = try TestSupport.run(vaeTrain, Self.training + ["--out", out] + resume)
            #expect(finish.status == 0, "\(finish.stderr)")
            #expect(kills == 3, "only \(kills) of 3 runs were still going at \(moments) (the whole run took \(duration) s)")
            let a = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/whole.vaert"))
            let b = try Data(contentsOf: URL(fileURLWithPath: out))
            #expect(a == b, "killed at \(moments): the final model differs from the uninterrupted run's")
        }
    }

    /// How many "epoch N:" lines a run has written to its log so far.
    static func epochLines(_ log: String) -> Int {
        TestSupport.readText(log).split(separator: "\n").filter { $0.hasPrefix("epoch ") }.count
    }

    /// Runs `arguments` under a file-size limit of `kilobytes` (a full disk for a write that crosses it:
    /// the write fails with EFBIG; SIGXFSZ is ignored so the command sees the error).
    func runWithFullDisk(_ executable: String, _ arguments: [String], kilobytes: Int) throws -> (status: Int32, stderr: String) {
        let quoted = ([executable] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let r = try TestSupport.run("/bin/sh", ["-c", "trap '' XFSZ; ulimit -f \(kilobytes * 2); exec \(quoted)"])
        return (r.status, r.stderr)
    }

    /// Whether the commands can run under a file-size limit at all: ThreadSanitizer's runtime cannot (it
    /// dies of SIGBUS at start-up), so under --sanitize=thread the disk-full test is skipped.
    static let fileSizeLimitWorks: Bool = {
        let probe = try? TestSupport.run("/bin/sh", ["-c", "trap '' XFSZ; ulimit -f 8; exec '\(TestSupport.binDir)/decode-cli' --help"])
        return probe?.status == 0
    }()

    @Test("a full disk: each command reports it in one line, exits non-zero, and leaves no partial or temporary file",
          .enabled(if: fileSizeLimitWorks, "the commands cannot start under a file-size limit (ThreadSanitizer)"))
    func diskFull() throws {
        try TestSupport.withTemporaryFolder { folder in
            let commands: [(String, [String], String)] = [
                ("decode-cli sample --grid", [decodeCLI, "sample", "--weights", TestSupport.readyModel, "--count", "64", "--grid", "\(folder)/grid.jpg"], "grid.jpg"),
                ("decode-cli latent-map", [decodeCLI, "latent-map", "--weights", TestSupport.readyModel, "--count", "2000", "--out", "\(folder)/map.svg"], "map.svg"),
                ("vae-train", [vaeTrain, "--train-limit", "256", "--test-limit", "64", "--epochs", "1", "--out", "\(folder)/m.vaert"], "m.ckpt"),
            ]
            for (name, command, _) in commands {
                let r = try runWithFullDisk(command[0], Array(command.dropFirst()), kilobytes: 4)
                #expect(r.status != 0, "\(name) succeeded on a full disk")
                let lines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("epoch ") && !$0.contains("[") }
                #expect(lines.count == 1 && (r.stderr.contains("too large") || r.stderr.contains("No space")), "\(name): \(r.stderr)")
            }
            let left = try FileManager.default.contentsOfDirectory(atPath: folder)
            #expect(left.isEmpty, "left behind: \(left)")
        }
    }
}
