import Foundation
import VAERuntime

/// What a training run reports as it goes (the command draws its progress bar and epoch lines from it).
public protocol TrainingObserver: AnyObject {
    /// Epoch `epoch` (1-based) of `epochs` starts, over `images` training images.
    func epochStarted(_ epoch: Int, of epochs: Int, images: Int)
    /// A step of the epoch is done: `images` so far, with the running loss sums.
    func stepDone(images: Int, sums: LossSums)
    /// The epoch's training is done, with its loss sums.
    func epochTrained(_ epoch: Int, sums: LossSums)
    /// The epoch's test evaluation is done; the checkpoint is written next.
    func epochEvaluated(_ epoch: Int, test: LossSums)
}

/// A training run to its last epoch: each epoch trains, evaluates the test set, then writes the
/// checkpoint and the loss curves, so that a kill loses at most the epoch under way; at the end the
/// weights file. A non-finite loss stops the run before that step's update, with the last good
/// checkpoint kept.
public struct TrainingRun {
    /// Where the run writes: the weights file at the end, the checkpoint and curves after every epoch.
    public struct Paths: Sendable {
        public var weights: String
        public var checkpoint: String
        public var curves: String

        public init(weights: String, checkpoint: String, curves: String) {
            self.weights = weights
            self.checkpoint = checkpoint
            self.curves = curves
        }
    }

    /// Why a run stopped early: the step's error and whether a checkpoint survives it.
    public struct Stopped: Error, CustomStringConvertible {
        public let reason: TrainingError
        public let checkpoint: String?

        public var description: String {
            "\(reason); training stopped and " + (checkpoint.map { "the last good checkpoint is \($0)" } ?? "no checkpoint was written yet")
        }
    }

    public let trainer: Trainer
    public let trainSet: Dataset
    public let testSet: Dataset
    public let paths: Paths

    public init(trainer: Trainer, trainSet: Dataset, testSet: Dataset, paths: Paths) {
        self.trainer = trainer
        self.trainSet = trainSet
        self.testSet = testSet
        self.paths = paths
    }

    /// Trains until `epochs` epochs are done (none when a resumed trainer has them already), then writes
    /// the weights file with the last test evaluation in its metadata. Returns that evaluation.
    @discardableResult
    public func run(epochs: Int, observer: TrainingObserver? = nil) throws -> LossSums {
        var lastTest: LossSums? = nil
        while trainer.epochsDone < epochs {
            let epoch = trainer.epochsDone + 1
            observer?.epochStarted(epoch, of: epochs, images: trainSet.count)
            let sums: LossSums
            do {
                sums = try trainer.trainEpoch(trainSet) { done, s in observer?.stepDone(images: done, sums: s) }
            } catch {
                throw Stopped(reason: error, checkpoint: FileManager.default.fileExists(atPath: paths.checkpoint) ? paths.checkpoint : nil)
            }
            observer?.epochTrained(epoch, sums: sums)
            let test = trainer.evaluate(testSet)
            trainer.recordTest(test)
            lastTest = test
            observer?.epochEvaluated(epoch, test: test)
            try Checkpoint.save(trainer, to: paths.checkpoint, datasetName: trainSet.name, evaluation: test)
            try writeCurves()
        }
        let test = lastTest ?? trainer.evaluate(testSet)
        let file = trainer.net.weightsFile(extraMetadata: Checkpoint.exportMetadata(trainer, datasetName: trainSet.name, evaluation: test))
        try FileIO.writeAtomically(file.serialize(), to: paths.weights)
        return test
    }

    func writeCurves() throws {
        let svg = LossCurves.svg(history: trainer.history, tests: trainer.testHistory, stepsPerEpoch: trainer.stepsPerEpochDone,
                                 title: "\(trainer.options.architecture.summary): loss per step")
        try FileIO.writeAtomically(Array(svg.utf8), to: paths.curves)
    }
}
