import Foundation
import Testing
import TestSupport
import VAECore

@Suite struct MathTests {
    @Test("exp: SIMD and scalar agree with libm within 3e-7 relative")
    func exp() {
        var worst: Double = 0
        var x: Float = -87
        while x < 88 {
            let reference = Foundation.exp(Double(x))
            let scalar = FastMath.exp(x)
            let vector = FastMath.exp(Vector(repeating: x))
            worst = max(worst, abs(Double(scalar) - reference) / reference)
            #expect(abs(vector[3] - scalar) <= 2.5e-7 * scalar, "\(x)")  // fused vs separate multiply-add: within an ulp or two
            x += 0.0371
        }
        #expect(worst < 3e-7, "worst relative error \(worst)")
        #expect(FastMath.exp(-1e30) > 0 && FastMath.exp(1e30).isFinite && FastMath.exp(.nan).isNaN && FastMath.exp(Vector(repeating: .nan))[0].isNaN)
    }

    @Test("log and log1p agree with libm")
    func log() {
        for x: Float in [1e-30, 1e-7, 0.3, 0.70710678, 1, 1.5, 2, 10, 12345.6, 3e38] {
            let reference = Foundation.log(Double(x))
            #expect(abs(Double(FastMath.log(x)) - reference) <= 2e-7 * max(1, abs(reference)), "log \(x)")
            #expect(abs(Double(FastMath.log(Vector(repeating: x))[5]) - reference) <= 2e-7 * max(1, abs(reference)), "vector log \(x)")
        }
        for x: Float in [0, 1e-12, 1e-7, 1e-3, 0.5, 1] {
            let reference = Foundation.log1p(Double(x))
            #expect(abs(Double(FastMath.log1p(x)) - reference) <= 2e-7 * max(reference, 1e-30) + 1e-12, "log1p \(x)")
            #expect(abs(Double(FastMath.log1p(Vector(repeating: x))[2]) - reference) <= 2e-7 * max(reference, 1e-30) + 1e-12, "vector log1p \(x)")
        }
    }

    @Test("sin and cos of 2πt")
    func sinCos() {
        var t: Float = -3
        while t < 3 {
            let (s, c) = FastMath.sinCosTwoPi(t)
            #expect(abs(Double(s) - Foundation.sin(2 * Double.pi * Double(t))) < 3e-6)
            #expect(abs(Double(c) - Foundation.cos(2 * Double.pi * Double(t))) < 3e-6)
            t += 0.01237
        }
    }

    @Test("sigmoid saturates cleanly at large logits")
    func sigmoid() {
        #expect(FastMath.sigmoid(1e4) == 1)
        #expect(FastMath.sigmoid(-1e4) >= 0 && FastMath.sigmoid(-1e4) < 1e-30)
        #expect(abs(FastMath.sigmoid(0) - 0.5) < 1e-7)
        #expect(abs(FastMath.sigmoid(Vector(repeating: 2))[0] - FastMath.sigmoid(2)) < 1e-7)
    }

    @Test("every activation: the vector form gives the scalar reference's bits (NaN stays NaN), and the closed forms within 3e-7",
          arguments: [Activation.identity, .relu, .sigmoid, .leakyRelu(slope: 0.2), .leakyRelu(slope: 0.01), .tanh, .elu(alpha: 1), .elu(alpha: 0.5), .silu])
    func activations(activation: Activation) {
        var values: [Float] = [0, -0.0, 1e-8, -1e-8, 100, -100, .nan, .infinity, -.infinity]
        var x: Float = -12
        while x < 12 { values.append(x); x += 0.0137 }
        while values.count % vectorWidth != 0 { values.append(0.5) }
        var vector = values
        ActivationKernel.apply(activation, &vector, count: vector.count)
        for (v, got) in zip(values, vector) {
            let reference = ActivationKernel.reference(activation, v)
            #expect(got.bitPattern == reference.bitPattern || (got.isNaN && reference.isNaN), "\(activation.name)(\(v)): \(got) vs \(reference)")
            guard v.isFinite else { continue }
            let d = Double(v)
            let exact: Double
            switch activation {
            case .identity: exact = d
            case .relu: exact = max(d, 0)
            case .sigmoid: exact = 1 / (1 + Foundation.exp(-d))
            case .leakyRelu(let slope): exact = d < 0 ? d * Double(slope) : d
            case .tanh: exact = Foundation.tanh(d)
            case .elu(let alpha): exact = d > 0 ? d : Double(alpha) * Foundation.expm1(d)
            case .silu: exact = d / (1 + Foundation.exp(-d))
            }
            #expect(abs(Double(reference) - exact) <= 3e-7 * max(1, abs(exact)), "\(activation.name)(\(v)) = \(reference), exactly \(exact)")
        }
        #expect(ActivationKernel.reference(activation, .nan).isNaN)
    }

    @Test("CRC-32 check value of \"123456789\"")
    func crc() {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
    }
}

@Suite struct RandomTests {
    @Test("Philox4x32-10 known answers (Random123 kat_vectors)")
    func knownAnswers() {
        #expect(Philox.block(counter: SIMD4(0, 0, 0, 0), key: SIMD2(0, 0)) == SIMD4(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8))
        #expect(Philox.block(counter: SIMD4(repeating: 0xffff_ffff), key: SIMD2(repeating: 0xffff_ffff))
            == SIMD4(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd))
        #expect(Philox.block(counter: SIMD4(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), key: SIMD2(0xa409_3822, 0x299f_31d0))
            == SIMD4(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1))
    }

    @Test("normals have mean 0 and variance 1; item i does not depend on other items")
    func normals() {
        let stream = RandomStream(seed: 42, purpose: .latentSample)
        var values = [Float](repeating: 0, count: 7)
        var sum = 0.0, squares = 0.0, count = 0
        for item in 0..<20000 {
            values.withUnsafeMutableBufferPointer { stream.normals(item: UInt64(item), into: $0) }
            for v in values {
                sum += Double(v)
                squares += Double(v * v)
                count += 1
            }
        }
        let mean = sum / Double(count)
        let variance = squares / Double(count) - mean * mean
        #expect(abs(mean) < 0.01 && abs(variance - 1) < 0.02, "mean \(mean) variance \(variance)")
        var again = [Float](repeating: 0, count: 7)
        again.withUnsafeMutableBufferPointer { stream.normals(item: 19999, into: $0) }
        #expect(again == values)
    }
}
