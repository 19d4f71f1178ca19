import Foundation
import Testing
import TestSupport

/// The bare-metal boards (tools/device/run.sh): Cortex-M4 on mps2-an386, Cortex-M7 on mps2-an500 and RV32
/// on virt, each decoding the zoo's micro VAE in f32 and int8 from flash, in static memory of the exact
/// sizes, against the native library; and a damaged array refused.
/// Not under the sanitizers: the boards run no code of the sanitized build.
@Suite(.serialized,
       .enabled(if: ProcessInfo.processInfo.environment["VAERT_REQUIRE_ARTIFACTS"] == "1"
                    || FileManager.default.fileExists(atPath: "/usr/bin/qemu-system-arm"),
                "needs qemu-system-arm, qemu-system-misc and gcc-arm-none-eabi (tools/setup.sh installs them)"),
       .enabled(if: TestSupport.sanitizer == nil, "the boards run no code of the sanitized build"))
struct DeviceTests {
    /// A part's memory (the linker scripts' limits).
    static let parts: [String: (flash: Int, ram: Int)] = [
        "cortex-m4": (1 << 20, 192 << 10), "cortex-m7": (2 << 20, 1 << 20), "rv32": (4 << 20, 512 << 10),
    ]

    /// "cortex-m4 int8: ok, 16 images, N instructions/image, X instructions/MAC, flash F bytes, RAM R bytes (...)"
    struct Line {
        var instructions: Int, perMAC: Double, flash: Int, ram: Int, detail: String

        init?(_ text: Substring) {
            let words = text.split(separator: " ")
            func number(before unit: String) -> Substring? { words.firstIndex(of: Substring(unit)).map { words[$0 - 1] } }
            func number(after name: String) -> Substring? { words.firstIndex(of: Substring(name)).map { words[$0 + 1] } }
            guard text.contains(": ok, 16 images, "), let i = number(before: "instructions/image,").flatMap({ Int($0) }),
                  let m = number(before: "instructions/MAC,").flatMap({ Double($0) }),
                  let f = number(after: "flash").flatMap({ Int($0) }), let r = number(after: "RAM").flatMap({ Int($0) }),
                  let open = text.firstIndex(of: "(") else { return nil }
            (instructions, perMAC, flash, ram, detail) = (i, m, f, r, String(text[open...]))
        }
    }

    @Test("every board decodes 16 samples of the micro VAE bare metal: int8 to the native library's bits, f32 within 1e-6; within the part and the budgets; a damaged array refused")
    func boards() throws {
        let run = try TestSupport.run("/bin/bash", ["\(TestSupport.root)/tools/device/run.sh", "--check-budgets"])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        for (board, part) in Self.parts {
            var f32Flash = 0
            for form in ["f32", "int8"] {
                let found = lines.first { $0.hasPrefix("\(board) \(form): ") }
                guard let text = found, let line = Line(text) else {
                    Issue.record("no result line for \(board) \(form): \(run.stdout)")
                    continue
                }
                #expect(line.flash < part.flash && line.ram < part.ram, "\(text)")
                #expect(line.instructions > 100_000 && line.perMAC > 1 && line.perMAC < 8, "\(text)")
                if form == "int8" {
                    #expect(line.detail.contains("the same bits as native"), "\(text)")
                    // The int8 decoder's weights are 206 KB against 823 KB of f32: the flash saved is the weights'.
                    #expect(line.flash < 310_000 && f32Flash - line.flash > 600_000, "the int8 weights' saving, not code, sets the flash: \(text)")
                } else {
                    f32Flash = line.flash
                    let difference = line.detail.split(separator: " ").dropFirst().first.flatMap { Double($0) }
                    #expect(line.detail.hasPrefix("(within ") && (difference ?? 1) <= 1e-6, "\(text)")
                }
            }
            let refusal = lines.first { $0.hasPrefix("\(board) damaged model: refused, exit non-zero: model: ") }
            #expect(refusal?.contains("checksum mismatch") == true, "\(run.stdout)")
        }
        // Cortex-M4's targets (the int8 one bounded by its inner loop: see the README).
        let m4 = lines.first { $0.hasPrefix("cortex-m4 f32: ") }.flatMap { Line($0) }
        #expect((m4?.perMAC ?? 99) <= 3, "f32 on Cortex-M4: at most 3 instructions per multiply-add")
        #expect(run.stdout.contains("device figures within budget"), "\(run.stdout)")
    }

    @Test("the soft-float build's sqrtf is IEEE's, bit for bit, on every float of four binades, the subnormals and ten million others")
    func softSquareRoot() throws {
        try TestSupport.withTemporaryFolder { folder in
            let cc = try TestSupport.run("/usr/bin/cc", ["-O2", "\(TestSupport.root)/tools/freestanding/soft_sqrtf_test.c", "-lm", "-o", "\(folder)/test"])
            #expect(cc.status == 0, "\(cc.stderr)")
            let run = try TestSupport.run("\(folder)/test", [])
            #expect(run.status == 0 && run.stdout == "soft_sqrtf: ok\n", "\(run.stdout)")
        }
    }
}
