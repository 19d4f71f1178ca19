import Foundation

/// Peak signal-to-noise ratio for pixels in [0, 1]: 10 · log10(1 / MSE), in dB.
public enum PSNR {
    public static func decibels(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        var sum = 0.0
        for i in 0..<count { sum += Double((a[i] - b[i]) * (a[i] - b[i])) }
        return 10 * log10(1 / max(sum / Double(max(count, 1)), 1e-12))
    }
}
