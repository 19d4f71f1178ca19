// swift_consumer: a normal Swift program (with the Swift runtime) that calls libvaert through vaert.h.
// Linked with the Embedded libvaert.a, it shows that the library's Swift internals stay local and do not
// clash with the program's own runtime.   swift_consumer MODEL.vaert
import CVaert
var model: OpaquePointer? = nil
guard vaert_open_file(CommandLine.arguments[1], &model) == VAERT_OK else { fatalError(String(cString: vaert_last_error())) }
var z = [Float](repeating: 0, count: 4 * 20)
var pixels = [Float](repeating: 0, count: 4 * 784)
_ = vaert_sample_latent(model, 42, 0, 4, &z)
_ = vae_decode(model, z, 4, &pixels)
// Swift's own runtime in use alongside: allocate, hash, format.
let words = Dictionary(uniqueKeysWithValues: (0..<100).map { ("k\($0)", $0) })
print("sum \(pixels.reduce(0, +)) dictionary \(words.count)")
vaert_close(model)
