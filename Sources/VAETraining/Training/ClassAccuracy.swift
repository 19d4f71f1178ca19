import VAECore
import VAERuntime

/// Whether a conditional model's samples show the class they are asked for: a classifier trained on the
/// real images labels samples of each class, and the share it labels as requested is the score. A CVAE
/// whose z carries the class (at β 1, or trained too briefly) scores near chance, 1/K.
public enum ClassAccuracy {
    public struct Result: Sendable {
        /// The classifier's accuracy on the real test images: the ceiling the samples are judged against.
        public var real: Double
        /// The share of samples the classifier gives the class they were generated for.
        public var samples: Double
        public var sampleCount: Int
    }

    /// Trains the classifier on `train` for `epochs` epochs, scores it on `test`, then labels `perClass`
    /// samples of every class of `model` (seed `seed`, sample indices 0, 1, ... in class order).
    public static func measure(_ model: Model, train: Dataset, test: Dataset, perClass: Int = 100, epochs: Int = 2, seed: UInt64 = 1) throws(VaertError) -> Result {
        guard model.kind.isConditional else { throw VaertError(.unsupported, "class accuracy needs a conditional model (cvae), not a \(model.kind.name)") }
        guard train.pixelCount == model.pixelCount, test.pixelCount == model.pixelCount else {
            throw VaertError(.invalidArgument, "the data's images are \(train.shape), the model's \(model.imageShape)")
        }
        let classifier = Classifier(inputs: train.pixelCount, classes: model.classCount)
        classifier.train(train, epochs: epochs)
        let real = zip(classifier.predict(test.images, count: test.count), test.labels).filter { $0 == Int($1) }.count
        let labels = (0..<model.classCount).flatMap { [Int32](repeating: Int32($0), count: perClass) }
        var samples = [Float](repeating: 0, count: labels.count * model.pixelCount)
        try model.sample(seed: seed, first: 0, count: labels.count, labels: labels, pixels: &samples)
        let correct = zip(classifier.predict(samples, count: labels.count), labels).filter { $0 == Int($1) }.count
        return Result(real: Double(real) / Double(max(test.count, 1)), samples: Double(correct) / Double(labels.count), sampleCount: labels.count)
    }
}
