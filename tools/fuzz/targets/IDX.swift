// Fuzz target: the IDX reader (plain and gzipped), through its file entry point.
import CZlib
import Foundation
import VAECore
import VAETraining

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> Int32 {
    seedMode { dir in
        let images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3] + (0..<18).map { UInt8($0 * 14) }
        let labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 4, 3, 1, 4, 1]
        try writeSeed(images, dir, "images.idx")
        try writeSeed(labels, dir, "labels.idx")
        // The same files gzipped, as the data sets ship.
        for (name, bytes) in [("images", images), ("labels", labels)] {
            let path = "\(dir)/\(name).idx.gz"
            let file = gzopen(path, "wb")!
            _ = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
            gzclose(file)
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    withScratchFile(UnsafeRawBufferPointer(start: data, count: count)) { path in
        attempt { () throws(VaertError) in
            let contents = try IDX.read(path)
            precondition(contents.bytes.count == contents.dims.reduce(1, *))
        }
    }
    return 0
}
