import Foundation
import Testing
import TestSupport
import TrainingTestSupport
import VAECore
import VAETraining
import VAERuntime

/// The epoch loop of `vae-train`, run in the test process.
@Suite struct TrainingRunTests {
    final class Events: TrainingObserver {
        var log: [String] = []
        func epochStarted(_ epoch: Int, of epochs: Int, images: Int) { log.append("start \(epoch)/\(epochs) \(images)") }
        func stepDone(images: Int, sums: LossSums) {}
        func epochTrained(_ epoch: Int, sums: LossSums) { log.append("trained \(epoch)") }
        func epochEvaluated(_ epoch: Int, test: LossSums) { log.append("tested \(epoch)") }
    }

    func paths(_ folder: String) -> TrainingRun.Paths {
        TrainingRun.Paths(weights: "\(folder)/m.vaert", checkpoint: "\(folder)/m.ckpt", curves: "\(folder)/m.curves.svg")
    }

    @Test("a run trains its epochs, writes checkpoint and curves after each, the weights at the end; a resumed run continues to the same bits")
    func epochs() throws {
        try TestSupport.withTemporaryFolder { folder in
            let (train, test) = (TestSupport.blobs(count: 64), TestSupport.blobs(count: 16, seed: 2))
            let events = Events()
            let whole = TrainingRun(trainer: TestSupport.tinyTrainer(batch: 16), trainSet: train, testSet: test, paths: paths("\(folder)/whole"))
            try FileManager.default.createDirectory(atPath: "\(folder)/whole", withIntermediateDirectories: true)
            let last = try whole.run(epochs: 2, observer: events)
            #expect(events.log == ["start 1/2 64", "trained 1", "tested 1", "start 2/2 64", "trained 2", "tested 2"])
            #expect(last.count == 16 && last.negELBOPerImage.isFinite)
            let model = try Model.open(path: "\(folder)/whole/m.vaert")
            #expect(model.kind == .vae && model.latentDim == 3)
            #expect((try String(contentsOfFile: "\(folder)/whole/m.curves.svg", encoding: .utf8)).hasPrefix("<svg"))
            // One epoch, then a resumed run from its checkpoint to two: the same weights file.
            try FileManager.default.createDirectory(atPath: "\(folder)/parts", withIntermediateDirectories: true)
            try TrainingRun(trainer: TestSupport.tinyTrainer(batch: 16), trainSet: train, testSet: test, paths: paths("\(folder)/parts")).run(epochs: 1)
            let resumed = try Checkpoint.load(path: "\(folder)/parts/m.ckpt", threads: 1)
            #expect(resumed.epochsDone == 1)
            try TrainingRun(trainer: resumed, trainSet: train, testSet: test, paths: paths("\(folder)/parts")).run(epochs: 2)
            #expect(FileManager.default.contents(atPath: "\(folder)/parts/m.vaert") == FileManager.default.contents(atPath: "\(folder)/whole/m.vaert"))
        }
    }

    @Test("a non-finite loss stops the run, naming the step and whether a good checkpoint survives")
    func stops() throws {
        try TestSupport.withTemporaryFolder { folder in
            var bad = TestSupport.blobs(count: 32)
            for i in stride(from: 0, to: bad.images.count, by: 64) { bad.images[i] = .nan }  // every image: step 1 fails
            let run = TrainingRun(trainer: TestSupport.tinyTrainer(batch: 16), trainSet: bad, testSet: TestSupport.blobs(count: 8), paths: paths(folder))
            #expect {
                try run.run(epochs: 1)
            } throws: { error in
                (error as? TrainingRun.Stopped)?.description == "the loss became NaN or infinite at step 1 (epoch 1); training stopped and no checkpoint was written yet"
            }
            #expect(!FileManager.default.fileExists(atPath: "\(folder)/m.vaert"))
        }
    }
}

@Suite struct ArchitectureCodingTests {
    @Test("an architecture is stored by its names, and an unknown kind or likelihood is refused, not taken as a vae")
    func names() throws {
        let a = Architecture(kind: .betaVAE, likelihood: .gaussian, image: Shape3(channels: 1, height: 8, width: 8), hidden: [12], latent: 3)
        let json = String(decoding: try JSONEncoder().encode(a), as: UTF8.self)
        #expect(json.contains("\"kind\":\"beta-vae\"") && json.contains("\"likelihood\":\"gaussian\""), "\(json)")
        #expect(try JSONDecoder().decode(Architecture.self, from: Data(json.utf8)) == a)
        for (from, to) in [("\"beta-vae\"", "\"gan\""), ("\"gaussian\"", "\"poisson\"")] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(Architecture.self, from: Data(json.replacingOccurrences(of: from, with: to).utf8)) }
        }
    }
}
