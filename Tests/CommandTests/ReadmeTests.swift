import Foundation
import Testing
import TestSupport

/// The README says what its commands print: its C program compiles without warnings and runs, its model-zoo
/// table gives the figures `vae-train eval` prints for the committed models, and its size table the sizes
/// `tools/build-embedded.sh cross` measured (tools/test.sh runs it before the tests).
@Suite(.serialized) struct ReadmeTests {
    static let readme = (try? String(contentsOfFile: "\(TestSupport.root)/README.md", encoding: .utf8)) ?? ""
    let vaeTrain = "\(TestSupport.binDir)/vae-train"

    /// The README's table row that starts with `start`.
    func row(_ start: String) -> String {
        Self.readme.split(separator: "\n").first { $0.hasPrefix(start) }.map(String.init) ?? ""
    }

    func eval(_ name: String, _ extra: [String] = []) throws -> [String: Any] {
        let r = try TestSupport.run(vaeTrain, ["eval", "--weights", "\(TestSupport.root)/tools/models/fashion-\(name).vaert", "--json"] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    func f(_ value: Any?, _ format: String) -> String { String(format: format, (value as? Double) ?? .nan) }

    @Test("the README's C program is tools/example/first_sample.c; it compiles with -Wall -Wextra -Werror with cc and gcc, and writes a JPEG",
          .enabled(if: TestSupport.Artifact.library.isAvailable, "needs libvaert laid out: run tools/build-lib.sh (tools/test.sh does)"))
    func cProgram() throws {
        let source = try String(contentsOfFile: "\(TestSupport.root)/tools/example/first_sample.c", encoding: .utf8)
        #expect(Self.readme.contains("```c\n" + source + "```"), "the README's C block differs from tools/example/first_sample.c")
        try TestSupport.withTemporaryFolder { folder in
            let pc = "\(TestSupport.root)/.build/vaert/lib/pkgconfig"
            let flags = try TestSupport.run("/usr/bin/pkg-config", ["--cflags", "--libs", "vaert"], environment: ["PKG_CONFIG_PATH": pc])
            #expect(flags.status == 0, "run tools/build-lib.sh first: \(flags.stderr)")
            let libs = flags.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            for compiler in ["/usr/bin/cc", "/usr/bin/gcc"] where FileManager.default.fileExists(atPath: compiler) {
                let built = try TestSupport.run(compiler, ["-std=c99", "-Wall", "-Wextra", "-Werror", "\(TestSupport.root)/tools/example/first_sample.c", "-o", "\(folder)/first"] + libs)
                #expect(built.status == 0, "\(compiler): \(built.stderr)")
            }
            let run = try TestSupport.run("/bin/sh", ["-c", "cd '\(folder)' && ./first '\(TestSupport.readyModel)'"])
            #expect(run.status == 0, "\(run.stderr)")
            let jpeg = FileManager.default.contents(atPath: "\(folder)/first.jpg") ?? Data()
            #expect(jpeg.prefix(2) == Data([0xFF, 0xD8]) && jpeg.suffix(2) == Data([0xFF, 0xD9]))
        }
    }

    @Test("the model-zoo table and the measured figures are what vae-train eval prints for the committed models")
    func zooTable() throws {
        let vae = try eval("vae", ["--iw-samples", "1000"])
        let elbo = f(vae["neg_elbo"], "%.2f"), iw = f(vae["iw_nll"], "%.2f")
        #expect(row("| `fashion-vae` |").contains("negative ELBO \(elbo) nats/image; IW-NLL (k = 1000, first 1000) \(iw)"), "\(elbo), \(iw)")
        #expect(row("| test negative ELBO after 10 epochs").contains("| \(elbo) nats/image"))
        #expect(row("| IW-NLL, k = 1000").contains("| \(iw) nats/image"))
        #expect(Self.readme.contains("test negative ELBO \(elbo) nats per image, from `vae-train eval"))

        let conv = try eval("conv-vae")
        #expect(row("| `fashion-conv-vae` |").contains("negative ELBO **\(f(conv["neg_elbo"], "%.2f"))**, below the MLP VAE's \(elbo)"))

        let cvae = try eval("cvae", ["--class-accuracy"])
        let real = f(cvae["classifier_accuracy_real"].map { ($0 as! Double) * 100 }, "%.1f%%")
        let samples = f(cvae["class_accuracy_samples"].map { ($0 as! Double) * 100 }, "%.1f%%")
        #expect(row("| `fashion-cvae` |").contains("(\(real) on the real test set) gives \(samples) of 1000"), "\(real), \(samples)")
        #expect(row("| 10 |").hasPrefix("| 10 | \(samples) |"), "the cvae-epochs table's 10th epoch is the committed model")

        let dae = try eval("dae")
        #expect(row("| `fashion-dae` |").contains("PSNR \(f(dae["psnr_corrupted_db"], "%.2f")) dB corrupted → \(f(dae["psnr_denoised_db"], "%.2f")) dB denoised: **+\(f(dae["psnr_gain_db"], "%.2f")) dB**"))
        let sparse = try eval("sparse-ae")
        #expect(row("| `fashion-sparse-ae` |").contains("mean code activation \(f(sparse["mean_code_activation"], "%.3f")) (ρ = 0.05); reconstruction \(f(sparse["reconstruction"], "%.1f")) nats"))
        let vq = try eval("vq-vae")
        #expect(row("| `fashion-vq-vae` |").contains("the conv VAE's reconstruction term is \(f(conv["reconstruction"], "%.2f"))"))
        #expect(row("| `fashion-vq-vae` |").contains("reconstruction \(f(vq["reconstruction"], "%.2f")) nats; the test set's codes have perplexity \(f(vq["codebook_perplexity"], "%.1f")), \(f(vq["codes_in_use"], "%.0f")) of the 512 in use"))
        let micro = try eval("micro-vae"), microInt8 = try eval("micro-vae-int8")
        #expect(row("| `fashion-micro-vae` |").contains("negative ELBO \(f(micro["neg_elbo"], "%.2f")) nats/image against the course VAE's \(elbo)"))
        #expect(row("| `fashion-micro-vae` |").contains("`--dtype int8 --int8-everywhere`) \(f(microInt8["neg_elbo"], "%.2f")) |"))
        let cae = try eval("cae")
        #expect(row("| `fashion-cae` |").contains("contractive term \(f(cae["contractive_term"], "%.2f")) per image, below its value at initialisation; reconstruction \(f(cae["reconstruction"], "%.1f")) nats"))
    }

    @Test("the embedded size table is what tools/build-embedded.sh cross measured, within the 0.5% by which builds of the same source differ",
          .enabled(if: TestSupport.Artifact.embedded.isAvailable, "needs the Embedded builds: run tools/build-embedded.sh cross (tools/test.sh does)"))
    func embeddedSizes() throws {
        let path = "\(TestSupport.root)/.build/embedded/sizes.txt"
        let sizes = try #require(try? String(contentsOfFile: path, encoding: .utf8), "run tools/build-embedded.sh cross first: \(path) is missing")
        let lines = sizes.split(separator: "\n")
        #expect(lines.count == 4)
        for line in lines {
            let fields = line.split(separator: " ").map(String.init)
            let tableRow = row("| \(fields[0]) ")
            // The table's last two cells, without the thousands separators.
            let cells = tableRow.split(separator: "|").suffix(2).map { Int($0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")) ?? -1 }
            for (measured, stated) in zip([Int(fields[1])!, Int(fields[2])!], cells) {
                #expect(abs(measured - stated) * 200 <= measured, "\(fields[0]): the build measured \(fields[1]) and \(fields[2]); the README says \(tableRow)")
            }
        }
    }
}
