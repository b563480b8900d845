/// Container ids become directory names under the state root and cgroup
/// names, so they are checked before anything is created.
public enum ContainerID {
    /// A directory and cgroup name: NAME_MAX.
    public static let maxLength = 255

    public static func validate(_ id: String) throws {
        if id.isEmpty { throw RuntimeError.invalidID(id, reason: "must not be empty") }
        if id.utf8.count > maxLength {
            throw RuntimeError.invalidID(String(id.prefix(32)) + "…", reason: "longer than \(maxLength) bytes")
        }
        // Two "." Characters in a row, as `id.contains("..")` would say; written
        // out because that overload lives in _StringProcessing, whose (with
        // _RegexParser) 1.3 MB it would link into the static binary.
        if id == "." || id == ".." || zip(id, id.dropFirst()).contains(where: { $0 == "." && $1 == "." }) {
            throw RuntimeError.invalidID(id, reason: "must not contain \"..\"")
        }
        for c in id.utf8 {
            let ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)
                || c == 0x5f || c == 0x2b || c == 0x2e || c == 0x2d || c == 0x2c // "," as runc accepts it
            if !ok { throw RuntimeError.invalidID(id, reason: "only letters, digits and _ + . - , are allowed") }
        }
    }
}
