import Foundation
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

/// How an unconditional model's samples spread over the data's classes, as a classifier trained on the
/// real images sees them: a model whose samples are all one kind of thing, or blurs that fit no class,
/// shows a narrow spread or a low confidence. The real test images give the reference values.
public enum SampleClasses {
    public struct Spread: Sendable {
        /// Images labelled as each class.
        public var counts: [Int]
        /// Mean probability the classifier gives its chosen class.
        public var meanConfidence: Double
        /// Entropy of the labels' distribution in bits (log2 of the class count when even).
        public var entropyBits: Double { SampleClasses.entropyBits(counts) }
        /// The share of the most frequent label.
        public var largestShare: Double { Double(counts.max() ?? 0) / Double(max(counts.reduce(0, +), 1)) }
    }

    public struct Result: Sendable {
        public var real: Spread
        public var samples: Spread
        public var classifierAccuracy: Double
    }

    /// Trains the classifier on `train` (`epochs` epochs), then labels the test images and `count` samples of
    /// `model` (seed `seed`, indices 0 ..< count).
    public static func measure(_ model: Model, train: Dataset, test: Dataset, count: Int = 1000, epochs: Int = 2, seed: UInt64 = 1) throws(VaertError) -> Result {
        guard !model.kind.isConditional else { throw VaertError(.unsupported, "a cvae's samples are judged by class accuracy (--class-accuracy)") }
        try model.checkCanSample()
        guard train.pixelCount == model.pixelCount, test.pixelCount == model.pixelCount else {
            throw VaertError(.invalidArgument, "the data's images are \(train.shape), the model's \(model.imageShape)")
        }
        let classes = Int(train.labels.max() ?? 0) + 1
        let classifier = Classifier(inputs: train.pixelCount, classes: classes)
        classifier.train(train, epochs: epochs)
        let realProbabilities = classifier.probabilities(test.images, count: test.count)
        let correct = zip(realProbabilities, test.labels).filter { p, label in p.indices.max { p[$0] < p[$1] }! == Int(label) }.count
        var samples = [Float](repeating: 0, count: count * model.pixelCount)
        try model.sample(seed: seed, first: 0, count: count, pixels: &samples)
        return Result(real: spread(realProbabilities, classes: classes), samples: spread(classifier.probabilities(samples, count: count), classes: classes),
                      classifierAccuracy: Double(correct) / Double(max(test.count, 1)))
    }

    static func spread(_ probabilities: [[Float]], classes: Int) -> Spread {
        var counts = [Int](repeating: 0, count: classes)
        var confidence: Double = 0
        for p in probabilities {
            let best = p.indices.max { p[$0] < p[$1] }!
            counts[best] += 1
            confidence += Double(p[best])
        }
        return Spread(counts: counts, meanConfidence: confidence / Double(max(probabilities.count, 1)))
    }

    public static func entropyBits(_ counts: [Int]) -> Double {
        let total = Double(counts.reduce(0, +))
        return counts.filter { $0 > 0 }.map { let p = Double($0) / total; return -p * log2(p) }.reduce(0, +)
    }
}
