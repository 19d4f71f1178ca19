import ArgumentParser
import Foundation
import VAECore
import VAETraining
import VAECommandSupport
import VAERuntime

@main
struct VAETrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-train",
        abstract: "Train autoencoders and variational autoencoders on IDX image data or JPEG folders, and evaluate them.",
        subcommands: [Train.self, Eval.self, Prior.self, InspectData.self],
        defaultSubcommand: Train.self)

    /// `vae-train --help` shows the training options, which are what a user wants first (training is the
    /// default command), followed by the other subcommands.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--help"] || arguments == ["-h"] || arguments == ["help"] {
            print(helpMessage(for: Train.self))
            print("""

                SUBCOMMANDS:
                  train (default)   train a model and export it: vae-train [options] is vae-train train [options]
                  eval              negative ELBO, importance-weighted NLL, PSNR gain, code statistics of a weights file
                  prior             train a vq-vae's PixelCNN prior over its codes, stored in its weights file
                  inspect-data      a grid of training images as the trainer sees them

                  See 'vae-train help <subcommand>' for detailed help.
                """)
            return
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

func fail(_ message: String) -> Never { CommandErrors.fail("vae-train", message) }

func defaultThreads() -> Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }


/// An option that must be positive, with a message naming it.
func requirePositive<T: Comparable & Numeric>(_ value: T?, _ option: String) throws {
    if let value, value <= 0 { throw ValidationError("\(option) must be positive, got \(value)") }
}
