import Foundation
import VAERuntime

/// Shared helpers for vaert's tests: paths, tolerances, finite differences, tiny models and data sets.
public enum TestSupport {
    /// The repository root (this file is Tests/TestSupport/Support.swift).
    public static let root: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Where `swift build` put the commands: beside the test bundle, for the configuration under test
    /// (override with VAERT_BIN_DIR).
    public static var binDir: String {
        ProcessInfo.processInfo.environment["VAERT_BIN_DIR"]
            ?? URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent().path
    }

    /// The sanitizer the suite runs under (tools/sanitize.sh sets VAERT_SANITIZER), or nil: memory
    /// measured under one is the sanitizer's (ASan's quarantine alone holds 256 MB of freed blocks).
    public static var sanitizer: String? { ProcessInfo.processInfo.environment["VAERT_SANITIZER"] }

    /// Artifacts some suites need beyond `swift build`: libvaert laid out by `tools/build-lib.sh`
    /// (.build/vaert) and the Embedded builds of `tools/build-embedded.sh` (.build/embedded). Under a
    /// plain `swift test` those suites are skipped when the artifact is missing, with a message naming
    /// the script; `tools/test.sh` builds them all and sets VAERT_REQUIRE_ARTIFACTS=1, under which they
    /// always run (and a missing artifact fails them).
    public enum Artifact: String {
        case library = ".build/vaert/lib/pkgconfig/vaert.pc"
        case embedded = ".build/embedded/sizes.txt"

        public var isAvailable: Bool {
            ProcessInfo.processInfo.environment["VAERT_REQUIRE_ARTIFACTS"] == "1" || FileManager.default.fileExists(atPath: "\(root)/\(rawValue)")
        }
    }

    /// The committed ready model.
    public static var readyModel: String { "\(root)/tools/models/fashion-vae.vaert" }

    public static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "comparing \(a.count) with \(b.count) values")
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// `count` values from a fixed stream, uniform in [lo, hi).
    public static func randomFloats(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { RandomStream(seed: seed, purpose: .initialization).uniforms(item: 9999, into: $0) }
        return out.map { range.lowerBound + (range.upperBound - range.lowerBound) * $0 }
    }

    /// Central difference of `f` with respect to `*x`.
    public static func finiteDifference(_ x: UnsafeMutablePointer<Float>, step h: Float = 1e-3, _ f: () -> Double) -> Double {
        let saved = x.pointee
        x.pointee = saved + h
        let up = f()
        x.pointee = saved - h
        let down = f()
        x.pointee = saved
        return (up - down) / Double(2 * h)
    }

    /// True when an analytic gradient agrees with its finite difference: |a − n| ≤ tol · max(1, |n|).
    public static func gradientsAgree(_ analytic: Double, _ numeric: Double, tolerance: Double = 2e-2) -> Bool {
        abs(analytic - numeric) <= tolerance * max(1, abs(numeric))
    }

    /// Recomputes the CRC of a weights file after a test changed its bytes, so the next check is reached.
    public static func resealCRC(_ bytes: inout [UInt8]) {
        let crc = bytes.withUnsafeBytes { WeightsFile.checksum($0) }
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: HeaderField.crc32, as: UInt32.self) }
    }

    public static func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
    }

    /// Runs a program; returns its exit status and output. With a `timeout` in seconds, a program still
    /// running then is killed (SIGKILL) and reported with status -1, so that a hang fails a test instead
    /// of stalling the run.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           timeout: Double? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let r = try runMeasured(executable, arguments, environment: environment, timeout: timeout)
        return (r.status, r.stdout, r.stderr)
    }

    /// As `run`, also giving the program's peak resident memory in kilobytes.
    public static func runMeasured(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                                   timeout: Double? = nil) throws -> (status: Int32, stdout: String, stderr: String, peakKilobytes: Int) {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pid = try spawn(executable, arguments, environment: environment, stdout: "\(folder)/out", stderr: "\(folder)/err")
        // The peak RSS comes from the program's own VmHWM, polled while it runs: the one wait4 reports is kept
        // across exec, and posix_spawn's child starts out as this large test process.
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var status: Int32 = 0, timedOut = false, peak = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            peak = max(peak, highWaterKilobytes(pid))
            if let deadline, Date() > deadline {
                timedOut = true
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(2000)
        }
        let stdout = readText("\(folder)/out")
        var stderr = readText("\(folder)/err")
        if timedOut { stderr += "killed after \(timeout!) s: \(executable) did not finish\n" }
        return (timedOut ? -1 : exitCode(status), stdout, stderr, peak)
    }

    /// Starts a program (its stderr into the file `stderr`) and SIGKILLs it as soon as `condition` holds
    /// (polled every millisecond) if it is still running; returns whether it was killed.
    public static func runAndKill(_ executable: String, _ arguments: [String], stderr: String = "/dev/null",
                                  when condition: () -> Bool) throws -> Bool {
        let pid = try spawn(executable, arguments, environment: nil, stdout: "/dev/null", stderr: stderr)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if condition() {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return (status & 0x7f) == SIGKILL
            }
            usleep(1000)
        }
        return false
    }

    /// VmHWM of a running process, in kilobytes (0 when it cannot be read).
    static func highWaterKilobytes(_ pid: pid_t) -> Int {
        let status = readText("/proc/\(pid)/status")
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// A file's text, read with POSIX calls: Foundation's readers leak a buffer on an empty file (found by
    /// LeakSanitizer), and a program's stderr is often empty.
    public static func readText(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An exit status, or 128 + the signal for a program killed by one (as a shell reports it).
    static func exitCode(_ status: Int32) -> Int32 { (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }

    /// posix_spawn with an empty signal mask and default handlers: test threads block signals, and a child
    /// that inherits a blocked SIGCHLD (as Foundation's `Process` leaves it) waits forever for its own
    /// children (cmake does). Output goes to files, not pipes, so a killed program cannot hold one open.
    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String]?, stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let env = ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 }.map { "\($0)=\($1)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: executable, "errno": spawned]) }
        return pid
    }

    /// A fresh temporary folder.
    public static func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "vaert-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs `body` with a fresh temporary folder, removed afterwards whatever `body` does.
    public static func withTemporaryFolder<R>(_ body: (String) throws -> R) throws -> R {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try body(folder)
    }
}
