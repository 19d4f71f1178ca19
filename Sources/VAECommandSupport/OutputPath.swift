/// Checks of output file names, made before any work is done.
public enum OutputPath {
    /// Why `path`, given with `option`, cannot name a file of `format` (say "JPEG" or "SVG") whose
    /// extensions are `extensions`, or nil when it can: JPEG bytes under a `.png` name would mislead
    /// every program that opens the file.
    public static func problem(_ path: String, option: String, format: String, extensions: [String]) -> String? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let ext = name.contains(".") ? String(name.split(separator: ".").last!).lowercased() : ""
        if extensions.contains(ext) { return nil }
        let allowed = extensions.map { "." + $0 }.joined(separator: " or ")
        return "\(option) \(path): vaert writes \(format) here, so the name must end in \(allowed)\(ext.isEmpty ? "" : ", not .\(ext)")"
    }

    public static func jpegProblem(_ path: String, option: String) -> String? {
        problem(path, option: option, format: "JPEG", extensions: ["jpg", "jpeg"])
    }

    public static func svgProblem(_ path: String, option: String) -> String? {
        problem(path, option: option, format: "SVG", extensions: ["svg"])
    }
}
