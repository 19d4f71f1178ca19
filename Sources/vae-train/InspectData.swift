import ArgumentParser
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

struct InspectData: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect-data", abstract: "Write a grid of training images as the trainer sees them.")

    @Option(help: "Folder of IDX files or of JPEG images.")
    var data = Dataset.defaultFolder
    @Option(help: "Size JPEG images are resized to, HxW.")
    var imageSize = "28x28"
    @Option(help: "Channels of JPEG images as the model sees them: 1 or 3.")
    var channels = 1
    @Option(help: "Images in the grid.")
    var count = 64
    @Option(help: "Images per row.")
    var nrow = 8
    @Option(help: "Output JPEG (.jpg or .jpeg).")
    var grid: String
    @Flag(help: "Leave out JPEG files that do not decode (listed as warnings) instead of stopping.")
    var skipBadImages = false

    func validate() throws {
        try requirePositive(count, "--count")
        try requirePositive(nrow, "--nrow")
        guard ShapeOption.image(imageSize, channels: channels) != nil else { throw ValidationError("--image-size must be HxW and --channels 1 or 3") }
        if let problem = OutputPath.jpegProblem(grid, option: "--grid") { throw ValidationError(problem) }
    }

    func run() throws {
        try CommandErrors.reporting("vae-train") {
            let shape = ImageFolder.isImageFolder(data) ? ShapeOption.image(imageSize, channels: channels) : nil
            let set = try Dataset.open(folder: data, split: .train, limit: count, shape: shape, skipBadImages: skipBadImages)
            let tiles = set.images.withUnsafeBufferPointer { ImageGrid.make($0, count: set.count, shape: set.shape, columns: nrow) }
            try tiles.pixels.withUnsafeBufferPointer { p in try JPEG.write(p.baseAddress!, shape: tiles.shape, quality: 90, to: grid) }
            let classes = Set(set.labels).count
            say("wrote \(grid): \(set.count) training images of \(set.name), \(set.shape), \(classes) classes among them\(set.skippedSummary)")
        }
    }
}
