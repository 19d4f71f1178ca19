import Foundation
import Testing
import TestSupport

/// The commands as a user runs them. Needs `swift build -c release` (tools/test.sh) and Fashion-MNIST
/// at its Debian path (`apt-get install dataset-fashion-mnist`).
@Suite(.serialized) struct CommandTests {
    let decodeCLI = "\(TestSupport.binDir)/decode-cli"
    let vaeTrain = "\(TestSupport.binDir)/vae-train"

    func isJPEG(_ path: String) -> Bool {
        guard let d = FileManager.default.contents(atPath: path) else { return false }
        return d.prefix(2) == Data([0xFF, 0xD8]) && d.suffix(2) == Data([0xFF, 0xD9])
    }

    @Test("decode-cli sample: a grid and one JPEG per sample; shards together equal the whole run")
    func sample() throws {
        try TestSupport.withTemporaryFolder { folder in
            let whole = try TestSupport.run(decodeCLI, ["sample", "--weights", TestSupport.readyModel, "--count", "6", "--seed", "3",
                                                        "--out", "\(folder)/whole", "--grid", "\(folder)/grid.jpg", "--nrow", "3"])
            #expect(whole.status == 0, "\(whole.stderr)")
            #expect(isJPEG("\(folder)/grid.jpg"))
            for shard in ["0/2", "1/2"] {
                let r = try TestSupport.run(decodeCLI, ["sample", "--weights", TestSupport.readyModel, "--count", "6", "--seed", "3",
                                                        "--out", "\(folder)/shards", "--shard", shard])
                #expect(r.status == 0, "\(r.stderr)")
            }
            // Besides the samples, each folder holds its job's manifest (vaert-job.json, per shard with --shard).
            let names = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/whole").filter { $0.hasPrefix("sample-") }.sorted()
            #expect(names == (0..<6).map { "sample-00000\($0).jpg" })
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(folder)/shards").filter { $0.hasPrefix("sample-") }.sorted() == names)
            for name in names {
                #expect(FileManager.default.contents(atPath: "\(folder)/whole/\(name)") == FileManager.default.contents(atPath: "\(folder)/shards/\(name)"))
            }
        }
    }

    @Test("decode-cli reconstruct writes originals and reconstructions")
    func reconstruct() throws {
        try TestSupport.withTemporaryFolder { folder in
            let r = try TestSupport.run(decodeCLI, ["reconstruct", "--weights", TestSupport.readyModel, "--count", "8", "--nrow", "4", "--grid", "\(folder)/r.jpg"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(isJPEG("\(folder)/r.jpg"))
        }
    }

    @Test("bad arguments and files: one-line errors, non-zero exit, nothing left behind")
    func errors() throws {
        try TestSupport.withTemporaryFolder { folder in
            let missing = try TestSupport.run(decodeCLI, ["sample", "--weights", "\(folder)/none.vaert", "--grid", "\(folder)/g.jpg"])
            #expect(missing.status == 1 && missing.stderr.contains("none.vaert") && missing.stderr.split(separator: "\n").count == 1)
            try Data("not a model".utf8).write(to: URL(fileURLWithPath: "\(folder)/bad.vaert"))
            let bad = try TestSupport.run(decodeCLI, ["sample", "--weights", "\(folder)/bad.vaert", "--grid", "\(folder)/g.jpg"])
            #expect(bad.status == 1 && bad.stderr.contains("bad magic"))
            let unwritable = try TestSupport.run(decodeCLI, ["sample", "--weights", TestSupport.readyModel, "--grid", "\(folder)/no/dir/g.jpg"])
            #expect(unwritable.status == 1 && unwritable.stderr.contains("no/dir/g.jpg"))
            let zero = try TestSupport.run(decodeCLI, ["sample", "--weights", TestSupport.readyModel, "--count", "0", "--grid", "\(folder)/g.jpg"])
            #expect(zero.status != 0)
            let hidden = try TestSupport.run(vaeTrain, ["--hidden", "400,x", "--out", "\(folder)/m.vaert"])
            #expect(hidden.status != 0 && hidden.stderr.contains("--hidden"))
            let noData = try TestSupport.run(vaeTrain, ["--data", "\(folder)/nowhere", "--out", "\(folder)/m.vaert"])
            #expect(noData.status == 1 && noData.stderr.contains("nowhere") && noData.stderr.split(separator: "\n").count == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["bad.vaert"])
        }
    }

    @Test("vae-train --activation: the hidden layers take it (its parameter in the file), it trains, and export keeps it; SiLU and bad values are refused",
          arguments: ["leaky_relu:0.2", "tanh", "elu"])
    func hiddenActivation(option: String) throws {
        try TestSupport.withTemporaryFolder { folder in
            let run = try TestSupport.run(vaeTrain, ["--train-limit", "1024", "--test-limit", "200", "--hidden", "64", "--latent", "4", "--epochs", "2",
                                                     "--batch-size", "64", "--activation", option, "--out", "\(folder)/m.vaert"])
            #expect(run.status == 0, "\(run.stderr)")
            func elbo(_ epoch: Int) -> Double? {
                run.stdout.split(separator: "\n").last { $0.hasPrefix("epoch \(epoch): test negative ELBO") }
                    .flatMap { $0.split(separator: " ").dropFirst(5).first }.flatMap { Double($0) }
            }
            #expect((elbo(2) ?? 1e9) < (elbo(1) ?? 0) && (elbo(2) ?? 1e9) < 600, "it learns: \(run.stdout)")
            let export = try TestSupport.run("\(TestSupport.binDir)/export-weights", ["\(folder)/m.vaert", "--decoder-only", "--dtype", "int8", "--out", "\(folder)/d.vaert"])
            #expect(export.status == 0, "\(export.stderr)")
            let expected = option == "leaky_relu:0.2" ? "leaky_relu(0.2)" : option == "elu" ? "elu(1.0)" : "tanh"
            for file in ["m.vaert", "d.vaert"] {
                let inspect = try TestSupport.run("\(TestSupport.binDir)/export-weights", ["inspect", "\(folder)/\(file)"])
                #expect(inspect.stdout.contains("decoder dense 4x1x1 -> 64x1x1 \(expected)") && inspect.stdout.contains("-> 1x28x28 sigmoid"), "\(inspect.stdout)")
            }
        }
        for bad in ["silu", "sigmoid", "leaky_relu:x", "tanh:2", "relu:"] {
            let refused = try TestSupport.run(vaeTrain, ["--activation", bad, "--epochs", "1", "--out", "/tmp/never.vaert"])
            #expect(refused.status != 0 && refused.stderr.contains("--activation must be"), "\(bad): \(refused.stderr)")
        }
    }

    @Test("vae-train: train, checkpoint, resume, export, curves; eval --json")
    func trainResumeEval() throws {
        try TestSupport.withTemporaryFolder { folder in
            let common = ["--train-limit", "512", "--test-limit", "200", "--hidden", "64,32", "--latent", "4", "--batch-size", "64", "--out", "\(folder)/m.vaert"]
            let first = try TestSupport.run(vaeTrain, common + ["--epochs", "1"])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("epoch 1: test negative ELBO"))
            for file in ["m.vaert", "m.ckpt", "m.curves.svg"] { #expect(FileManager.default.fileExists(atPath: "\(folder)/\(file)"), "\(file)") }
            let resumed = try TestSupport.run(vaeTrain, common + ["--epochs", "2", "--resume"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(resumed.stdout.contains("resuming") && resumed.stdout.contains("epoch 2: test negative ELBO") && !resumed.stdout.contains("epoch 1:"))
            let svg = try String(contentsOfFile: "\(folder)/m.curves.svg", encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("polyline") && svg.contains("KL"))

            let eval = try TestSupport.run(vaeTrain, ["eval", "--weights", "\(folder)/m.vaert", "--test-limit", "200", "--iw-samples", "16", "--iw-images", "20", "--json"])
            #expect(eval.status == 0, "\(eval.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
            let elbo = try #require(json?["neg_elbo"] as? Double), iw = try #require(json?["iw_nll"] as? Double)
            #expect(elbo > 200 && elbo < 600 && iw > 100 && iw < elbo + 5, "neg ELBO \(elbo), IW-NLL \(iw)")
        }
    }
}
