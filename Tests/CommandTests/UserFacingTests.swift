import Foundation
import Testing
import TestSupport

/// What a new user meets at the command line: conditional sampling, provenance and the data it points
/// to, --resume with other options, output names, messages and help, bad images in a JPEG folder.
@Suite(.serialized) struct UserFacingTests {
    let decodeCLI = "\(TestSupport.binDir)/decode-cli"
    let vaeTrain = "\(TestSupport.binDir)/vae-train"
    let exportWeights = "\(TestSupport.binDir)/export-weights"
    let cvae = "\(TestSupport.root)/tools/models/fashion-cvae.vaert"

    func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test("sample on a conditional model: sample i gets class i mod K, as --class gives it; --class out of range names the option")
    func conditionalSample() throws {
        try TestSupport.withTemporaryFolder { folder in
            let all = try TestSupport.run(decodeCLI, ["sample", "--weights", cvae, "--count", "12", "--out", "\(folder)/all"])
            #expect(all.status == 0, "\(all.stderr)")
            let three = try TestSupport.run(decodeCLI, ["sample", "--weights", cvae, "--count", "12", "--class", "3", "--out", "\(folder)/three"])
            #expect(three.status == 0, "\(three.stderr)")
            // Sample 3 has class 3 either way; sample 4 has class 4 by default.
            #expect(contents("\(folder)/all/sample-000003.jpg") == contents("\(folder)/three/sample-000003.jpg"))
            #expect(contents("\(folder)/all/sample-000004.jpg") != contents("\(folder)/three/sample-000004.jpg"))
            let shard = try TestSupport.run(decodeCLI, ["sample", "--weights", cvae, "--count", "12", "--shard", "1/2", "--out", "\(folder)/shard"])
            #expect(shard.status == 0 && contents("\(folder)/shard/sample-000007.jpg") == contents("\(folder)/all/sample-000007.jpg"))
            let help = try TestSupport.run(decodeCLI, ["sample", "--help"])
            #expect(help.stdout.contains("class i mod K"))
            let bad = try TestSupport.run(decodeCLI, ["sample", "--weights", cvae, "--class", "10", "--grid", "\(folder)/g.jpg"])
            #expect(bad.status == 1 && bad.stderr.contains("--class 10") && bad.stderr.contains("classes 0 to 9") && !bad.stderr.contains("label 0"), "\(bad.stderr)")
        }
    }

    @Test("a cvae trains with beta 2 unless told otherwise, and its file says so")
    func cvaeDefaultBeta() throws {
        try TestSupport.withTemporaryFolder { folder in
            let r = try TestSupport.run(vaeTrain, ["--model", "cvae", "--train-limit", "256", "--test-limit", "64", "--hidden", "16", "--latent", "2",
                                                   "--epochs", "1", "--out", "\(folder)/c.vaert"])
            #expect(r.status == 0 && r.stdout.contains("cvae 784-16-2 (bernoulli), β = 2,"), "\(r.stdout)\(r.stderr)")
            #expect(try TestSupport.run(exportWeights, ["inspect", "\(folder)/c.vaert"]).stdout.contains("vaert.train.beta = 2.0"))
        }
    }

    @Test("latent-map --method tsne: an SVG that says t-SNE, a CSV of points and latents, and the same map for 1 and 2 threads")
    func tsneLatentMap() throws {
        try TestSupport.withTemporaryFolder { folder in
            func map(_ threads: Int) throws -> (stdout: String, csv: String) {
                let r = try TestSupport.run(decodeCLI, ["latent-map", "--weights", TestSupport.readyModel, "--count", "400", "--method", "tsne", "--iterations", "300",
                                                        "--threads", "\(threads)", "--out", "\(folder)/map.svg", "--coords", "\(folder)/map.csv"])
                #expect(r.status == 0, "\(r.stderr)")
                return (r.stdout, TestSupport.readText("\(folder)/map.csv"))
            }
            let one = try map(1), two = try map(2)
            #expect(one.csv == two.csv)
            let kl = one.stdout.firstMatch(of: /KL divergence ([0-9.]+)/).flatMap { Double($0.1) }
            #expect(one.stdout.contains("t-SNE of 400 points") && kl.map { $0 > 0.2 && $0 < 3 } == true, "\(one.stdout)")
            let lines = one.csv.split(separator: "\n")
            #expect(lines.count == 401 && lines[0] == "index,label,x,y," + (0..<20).map { "z\($0)" }.joined(separator: ","))
            #expect(lines[1].split(separator: ",").count == 24 && lines[400].hasPrefix("399,"))
            let svg = TestSupport.readText("\(folder)/map.svg")
            #expect(svg.contains("t-SNE of z, perplexity 30") && svg.contains("Ankle boot") && svg.components(separatedBy: "<circle").count == 401 + 10)
            let refused = try TestSupport.run(decodeCLI, ["latent-map", "--weights", TestSupport.readyModel, "--count", "25", "--method", "tsne", "--out", "\(folder)/small.svg"])
            #expect(refused.status != 0 && refused.stderr.contains("below the number of points (25)"), "\(refused.stderr)")
        }
    }

    @Test("codec: 8 bits per dimension are 20 raw bytes for a 20-d code and fewer coded, at the same PSNR; JPEG's file is its payload plus headers; a CVAE is refused")
    func codec() throws {
        try TestSupport.withTemporaryFolder { folder in
            let r = try TestSupport.run(decodeCLI, ["codec", "--weights", TestSupport.readyModel, "--count", "200", "--calibration", "500",
                                                    "--bits", "8", "--qualities", "50", "--out", "\(folder)/rd.svg"])
            #expect(r.status == 0, "\(r.stderr)")
            // | codec | bytes | payload | PSNR | SSIM |, split into cells
            let rows = Dictionary(r.stdout.split(separator: "\n").filter { $0.hasPrefix("| latent") || $0.hasPrefix("| JPEG") }.map { line in
                let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                return (cells[0], cells.dropFirst().map { Double($0) })
            }, uniquingKeysWith: { a, _ in a })
            let float = rows["latent, f32 (unquantised)"], raw = rows["latent, 8 bits per dimension, raw"]
            let coded = rows["latent, 8 bits per dimension, arithmetic-coded"], jpeg = rows["JPEG, quality 50"]
            #expect(float?[0] == 80 && raw?[0] == 20 && coded.map { $0[0]! > 10 && $0[0]! < 20 } == true, "\(r.stdout)")
            #expect(raw?[2] == coded?[2] && raw.map { abs($0[2]! - float![2]!) < 0.05 && $0[2]! > 15 } == true, "\(r.stdout)")
            #expect(jpeg.map { $0[0]! > $0[1]! + 100 && $0[2]! > 25 && $0[3]! > 0.8 && $0[3]! < 1 } == true, "\(r.stdout)")
            let svg = TestSupport.readText("\(folder)/rd.svg")
            #expect(svg.components(separatedBy: "<polyline").count == 5 && svg.contains("JPEG, entropy-coded payload only"))
            let refused = try TestSupport.run(decodeCLI, ["codec", "--weights", cvae, "--count", "10"])
            #expect(refused.status != 0 && refused.stderr.contains("conditional model"), "\(refused.stderr)")
        }
    }

    @Test("vq-vae: vae-train reports the codebook's perplexity and codes in use, resumes, reconstructs; sample needs a prior; codec counts the grid's bits")
    func vqVAE() throws {
        try TestSupport.withTemporaryFolder { folder in
            let train = ["--model", "vq-vae", "--conv", "8,16", "--codebook-size", "64", "--train-limit", "512", "--test-limit", "128",
                         "--out", "\(folder)/vq.vaert"]
            let r = try TestSupport.run(vaeTrain, train + ["--epochs", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("vq-vae 784-c8-c16 to a 7x7 grid of 64 codes of 16") && r.stdout.contains("of 64 codes in use"), "\(r.stdout)")
            let perplexity = r.stdout.firstMatch(of: /codebook perplexity ([0-9.]+), ([0-9]+) of 64/).flatMap { (Double($0.1), Int($0.2)) }
            #expect(perplexity.map { $0.0! >= 1 && $0.0! <= Double($0.1!) && $0.1! <= 64 } == true, "\(r.stdout)")
            let resumed = try TestSupport.run(vaeTrain, train + ["--epochs", "2", "--resume", "--ema"])
            #expect(resumed.status != 0 && resumed.stderr.contains("--ema (the checkpoint's codebook moves by its gradient)"), "\(resumed.stderr)")
            let more = try TestSupport.run(vaeTrain, train + ["--epochs", "2", "--resume"])
            #expect(more.status == 0 && more.stdout.contains("epoch 2: test reconstruction loss"), "\(more.stderr)")
            let latent = try TestSupport.run(vaeTrain, ["--model", "vq-vae", "--latent", "20"])
            #expect(latent.status != 0 && latent.stderr.contains("set --conv, not --latent"), "\(latent.stderr)")
            let reconstruct = try TestSupport.run(decodeCLI, ["reconstruct", "--weights", "\(folder)/vq.vaert", "--count", "8", "--grid", "\(folder)/r.jpg"])
            #expect(reconstruct.status == 0 && FileManager.default.fileExists(atPath: "\(folder)/r.jpg"), "\(reconstruct.stderr)")
            let sample = try TestSupport.run(decodeCLI, ["sample", "--weights", "\(folder)/vq.vaert", "--count", "4", "--grid", "\(folder)/s.jpg"])
            #expect(sample.status != 0 && sample.stderr.contains("prior") && !FileManager.default.fileExists(atPath: "\(folder)/s.jpg"), "\(sample.stderr)")
            let job = try TestSupport.run(decodeCLI, ["sample", "--weights", "\(folder)/vq.vaert", "--count", "4", "--out", "\(folder)/job"])
            #expect(job.status != 0 && job.stderr.contains("prior") && !FileManager.default.fileExists(atPath: "\(folder)/job"), "\(job.stderr)")
            let codec = try TestSupport.run(decodeCLI, ["codec", "--weights", "\(folder)/vq.vaert", "--count", "100", "--calibration", "300", "--qualities", "50"])
            #expect(codec.status == 0 && codec.stdout.contains("| VQ codes, 49 × 6 bits, raw | 37.0 |"), "\(codec.stdout)\(codec.stderr)")
            let coded = codec.stdout.firstMatch(of: /\| VQ codes, arithmetic-coded \| ([0-9.]+) \|/).flatMap { Double($0.1) }
            #expect(coded.map { $0 > 5 && $0 < 37 } == true, "\(codec.stdout)")
            // The prior: trained into a copy of the file; then sample draws from it, grid i by (seed, i).
            let prior = try TestSupport.run(vaeTrain, ["prior", "--weights", "\(folder)/vq.vaert", "--out", "\(folder)/vqp.vaert", "--epochs", "2",
                                                       "--channels", "8", "--layers", "1", "--train-limit", "512", "--test-limit", "128"])
            #expect(prior.status == 0 && prior.stdout.contains("a uniform prior costs 203.8 nats (294 bits) a grid"), "\(prior.stdout)\(prior.stderr)")
            let nll = prior.stdout.matches(of: /test ([0-9.]+) nats/).compactMap { Double($0.1) }
            #expect(nll.count == 2 && nll[1] < nll[0] && nll[1] < 203.8, "\(prior.stdout)")
            let notVQ = try TestSupport.run(vaeTrain, ["prior", "--weights", TestSupport.readyModel, "--out", "\(folder)/x.vaert"])
            #expect(notVQ.status != 0 && notVQ.stderr.contains("only a vq-vae has a prior"), "\(notVQ.stderr)")
            for (count, name) in [(4, "a"), (2, "b")] {
                let s = try TestSupport.run(decodeCLI, ["sample", "--weights", "\(folder)/vqp.vaert", "--count", "\(count)", "--seed", "5", "--out", "\(folder)/\(name)"])
                #expect(s.status == 0, "\(s.stderr)")
            }
            let first = ["a", "b"].map { FileManager.default.contents(atPath: "\(folder)/\($0)/sample-000001.jpg") }
            #expect(first[0] != nil && first[0] == first[1], "sample 1 is the same in a job of 4 and of 2")
            let inspect = try TestSupport.run(exportWeights, ["inspect", "\(folder)/vqp.vaert"])
            #expect(inspect.stdout.contains("prior masked_conv2d 16x7x7 -> 8x7x7 relu kernel 5x5 stride 1 padding 2 output_padding 0 mask A"), "\(inspect.stdout)")
            let eval = try TestSupport.run(vaeTrain, ["eval", "--weights", "\(folder)/vqp.vaert", "--test-limit", "64"])
            #expect(eval.status == 0, "a file with a prior still evaluates: \(eval.stderr)")
        }
    }

    @Test("explorer: one HTML page with its style, script and data filled in (the module as given, a decoder-only model); bad names and files refused in one line")
    func explorerPage() throws {
        try TestSupport.withTemporaryFolder { folder in
            let module: [UInt8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]  // an empty wasm module: the page's tests run the real one
            FileManager.default.createFile(atPath: "\(folder)/m.wasm", contents: Data(module))
            let r = try TestSupport.run(decodeCLI, ["explorer", "--weights", TestSupport.readyModel, "--wasm", "\(folder)/m.wasm", "--points", "50",
                                                    "--method", "pca", "--out", "\(folder)/e.html"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("model int8 decoder") && r.stdout.contains("50 map points"), "\(r.stdout)")
            let html = String(decoding: contents("\(folder)/e.html") ?? Data(), as: UTF8.self)
            #expect(!html.contains("/*vaert:") && !html.contains("<!--vaert:"))
            #expect(html.contains("window.vaertExplorer") && html.contains("image-rendering: pixelated"))
            let json = html.components(separatedBy: "<script type=\"application/json\" id=\"vaert-data\">").last!.components(separatedBy: "</script>")[0]
            let data = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
            #expect(Set(data.keys) == ["wasm", "model", "images", "latents", "map", "dtype", "modelBytes", "wasmBytes"])
            #expect(data["dtype"] as? String == "int8" && data["wasmBytes"] as? Int == module.count)
            let map = data["map"] as! [String: Any]
            #expect((map["x"] as! [Double]).count == 50 && (map["labels"] as! [Int]).count == 50)
            #expect((map["classNames"] as! [String]).first == "T-shirt/top")

            // Option errors come first on their line (ArgumentParser adds the usage); a missing file is one line.
            let cases: [([String], String, Bool)] = [
                (["--out", "\(folder)/e.txt"], "must end in .html or .htm", false),
                (["--points", "1", "--out", "\(folder)/f.html"], "--points must be 2 to 5000", false),
                (["--wasm", "\(folder)/none.wasm", "--out", "\(folder)/f.html"], "none.wasm", true),
            ]
            for (arguments, message, oneLine) in cases {
                let bad = try TestSupport.run(decodeCLI, ["explorer", "--weights", TestSupport.readyModel, "--wasm", "\(folder)/m.wasm"] + arguments)
                let lines = bad.stderr.split(separator: "\n")
                #expect(bad.status != 0 && lines.first?.contains(message) == true && (!oneLine || lines.count == 1), "\(arguments): \(bad.stderr)")
            }
            let decoderOnly = try TestSupport.run(exportWeights, [TestSupport.readyModel, "--decoder-only", "--out", "\(folder)/d.vaert"])
            #expect(decoderOnly.status == 0, "\(decoderOnly.stderr)")
            let noEncoder = try TestSupport.run(decodeCLI, ["explorer", "--weights", "\(folder)/d.vaert", "--wasm", "\(folder)/m.wasm", "--out", "\(folder)/g.html"])
            #expect(noEncoder.status != 0 && noEncoder.stderr.contains("needs the encoder"), "\(noEncoder.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(folder)/f.html") && !FileManager.default.fileExists(atPath: "\(folder)/g.html"))
        }
    }

    @Test("a grid named .png is refused before any work, and latent-map wants .svg")
    func outputNames() throws {
        try TestSupport.withTemporaryFolder { folder in
            for arguments in [["sample", "--weights", TestSupport.readyModel, "--grid", "\(folder)/x.png"],
                              ["reconstruct", "--weights", TestSupport.readyModel, "--grid", "\(folder)/x.png"],
                              ["classes", "--weights", cvae, "--grid", "\(folder)/x.png"],
                              ["latent-map", "--weights", TestSupport.readyModel, "--out", "\(folder)/x.png"]] {
                let r = try TestSupport.run(decodeCLI, arguments)
                #expect(r.status != 0 && r.stderr.contains("x.png") && r.stderr.contains("not .png"), "\(arguments[0]): \(r.stderr)")
            }
            let inspect = try TestSupport.run(vaeTrain, ["inspect-data", "--grid", "\(folder)/x.png"])
            #expect(inspect.status != 0 && inspect.stderr.contains("must end in .jpg or .jpeg"))
            let upper = try TestSupport.run(decodeCLI, ["sample", "--weights", TestSupport.readyModel, "--count", "2", "--grid", "\(folder)/x.JPEG"])
            #expect(upper.status == 0, "\(upper.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["x.JPEG"])
        }
    }

    @Test("messages name the option at fault, each default is printed once, and vae-train --help shows the training options")
    func messagesAndHelp() throws {
        let epochs = try TestSupport.run(vaeTrain, ["--epochs", "0"])
        #expect(epochs.status != 0 && epochs.stderr.contains("--epochs must be positive, got 0") && !epochs.stderr.contains("--latent"), "\(epochs.stderr)")
        for command in [["eval", "--help"], ["--help"], ["inspect-data", "--help"]] {
            let help = try TestSupport.run(vaeTrain, command).stdout
            #expect(!help.lowercased().contains("(default saltpepper"), "\(command)")
            for line in help.split(separator: "\n") { #expect(line.components(separatedBy: "default").count <= 2, "\(command): \(line)") }
        }
        let top = try TestSupport.run(vaeTrain, ["--help"])
        #expect(top.status == 0 && top.stdout.contains("--latent") && top.stdout.contains("--kl-warmup") && top.stdout.contains("eval"))
    }

    @Test("provenance: vaert.train.* metadata in the file and in inspect; the training line shows beta; --resume refuses contradicting options; decode-cli finds the JPEG data the model was trained on")
    func provenanceAndResume() throws {
        try TestSupport.withTemporaryFolder { folder in
            // A JPEG data set of two classes, from the conditional model's own samples.
            for c in 0..<2 {
                let r = try TestSupport.run(decodeCLI, ["sample", "--weights", cvae, "--class", "\(c)", "--count", "40", "--seed", "\(c)", "--out", "\(folder)/jpegs/c\(c)"])
                #expect(r.status == 0, "\(r.stderr)")
            }
            let common = ["--data", "\(folder)/jpegs", "--image-size", "20x16", "--channels", "3", "--hidden", "32", "--latent", "3", "--beta", "2",
                          "--batch-size", "16", "--out", "\(folder)/m.vaert"]
            let first = try TestSupport.run(vaeTrain, common + ["--epochs", "1"])
            #expect(first.status == 0 && first.stdout.contains("β = 2,"), "\(first.stdout)\(first.stderr)")
            let inspect = try TestSupport.run(exportWeights, ["inspect", "\(folder)/m.vaert"]).stdout
            for entry in ["vaert.train.kind = beta-vae", "vaert.train.beta = 2.0", "vaert.train.loss = bce", "vaert.train.epochs = 1", "vaert.train.learning_rate = 0.001",
                          "vaert.train.batch_size = 16", "vaert.train.seed = 0", "vaert.train.data = \(folder)/jpegs", "vaert.train.vaert_version = 0.1.0"] {
                #expect(inspect.contains(entry), "\(entry)")
            }
            // decode-cli reads the model's JPEG data without --data (3x20x16, not Fashion-MNIST).
            let reconstruct = try TestSupport.run(decodeCLI, ["reconstruct", "--weights", "\(folder)/m.vaert", "--count", "4", "--grid", "\(folder)/r.jpg"])
            #expect(reconstruct.status == 0, "\(reconstruct.stderr)")
            let map = try TestSupport.run(decodeCLI, ["latent-map", "--weights", "\(folder)/m.vaert", "--out", "\(folder)/map.svg"])
            #expect(map.status == 0, "\(map.stderr)")

            let contradicting = try TestSupport.run(vaeTrain, ["--model", "ae", "--latent", "8", "--epochs", "2", "--resume", "--out", "\(folder)/m.vaert"])
            #expect(contradicting.status == 1 && contradicting.stderr.contains("--model ae (the checkpoint's is beta-vae)")
                    && contradicting.stderr.contains("--latent 8 (the checkpoint's is 3)") && contradicting.stderr.split(separator: "\n").count == 1,
                    "\(contradicting.stderr)")
            let grown = try TestSupport.run(vaeTrain, ["--epochs", "2", "--resume", "--out", "\(folder)/m.vaert"])
            #expect(grown.status == 0 && grown.stdout.contains("epoch 2: test negative ELBO"), "\(grown.stderr)")
            #expect(try TestSupport.run(exportWeights, ["inspect", "\(folder)/m.vaert"]).stdout.contains("vaert.train.epochs = 2"))
            let same = try TestSupport.run(vaeTrain, ["--epochs", "3", "--resume", "--latent", "3", "--beta", "2", "--data", "\(folder)/jpegs", "--out", "\(folder)/m.vaert"])
            #expect(same.status == 0, "\(same.stderr)")

            // Moved data: the recorded folder is gone, and the message says what to give.
            try FileManager.default.moveItem(atPath: "\(folder)/jpegs", toPath: "\(folder)/moved")
            let moved = try TestSupport.run(decodeCLI, ["reconstruct", "--weights", "\(folder)/m.vaert", "--grid", "\(folder)/r.jpg"])
            #expect(moved.status == 1 && moved.stderr.contains("\(folder)/jpegs") && moved.stderr.contains("--data"), "\(moved.stderr)")
        }
    }

    @Test("bad images in a JPEG folder: one line per file, then stop before training; --skip-bad-images trains without them and counts them")
    func badImages() throws {
        try TestSupport.withTemporaryFolder { folder in
            let r = try TestSupport.run(decodeCLI, ["sample", "--weights", TestSupport.readyModel, "--count", "30", "--out", "\(folder)/jpegs"])
            #expect(r.status == 0, "\(r.stderr)")
            let whole = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/jpegs/sample-000000.jpg"))
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: "\(folder)/jpegs/sample-000000.jpg"))
            try Data().write(to: URL(fileURLWithPath: "\(folder)/jpegs/sample-000001.jpg"))
            let arguments = ["--data", "\(folder)/jpegs", "--hidden", "16", "--latent", "2", "--epochs", "1", "--out", "\(folder)/m.vaert"]
            let refused = try TestSupport.run(vaeTrain, arguments)
            let lines = refused.stderr.split(separator: "\n")
            #expect(refused.status == 1 && lines.count == 3, "\(refused.stderr)")
            #expect(lines.first?.contains("bad image: \(folder)/jpegs/sample-000000.jpg: Premature end of JPEG file") == true, "\(refused.stderr)")
            #expect(lines.dropFirst().first?.contains("sample-000001.jpg") == true && lines.last?.contains("--skip-bad-images") == true)
            #expect(!FileManager.default.fileExists(atPath: "\(folder)/m.vaert"))
            let skipped = try TestSupport.run(vaeTrain, arguments + ["--skip-bad-images"])
            #expect(skipped.status == 0 && skipped.stdout.contains("25 training images of jpegs (2 bad images left out)"), "\(skipped.stdout)\(skipped.stderr)")
        }
    }
}
