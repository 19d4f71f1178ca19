import Foundation
import VAECore
import VAETraining

/// How the commands report failure: one line on standard error, exit status 1.
public enum CommandErrors {
    public static func fail(_ tool: String, _ message: String) -> Never {
        FileHandle.standardError.write(Data("\(tool): error: \(message)\n".utf8))
        exit(1)
    }

    /// Runs `body`; a `VaertError` it throws becomes a one-line error and exit status 1.
    public static func reporting(_ tool: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as VaertError {
            fail(tool, error.message)
        } catch let error as BadImagesError {
            for image in error.images {
                FileHandle.standardError.write(Data("\(tool): bad image: \(image.message)\n".utf8))
            }
            let n = error.images.count
            fail(tool, "\(n) image\(n == 1 ? "" : "s") in \(error.folder) did not decode (listed above): fix or remove \(n == 1 ? "it" : "them"), or pass --skip-bad-images to leave \(n == 1 ? "it" : "them") out")
        }
    }
}

/// Writes one line to standard output at once (unbuffered), so that progress lines reach a log file as
/// they happen.
public func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
