/// A Semantic Versioning 2.0.0 version, as `ociVersion` must be.
public struct SemVer: Equatable, CustomStringConvertible {
    public var major: UInt64
    public var minor: UInt64
    public var patch: UInt64
    public var prerelease: String?
    public var build: String?

    /// Parses `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`; nil if `text` breaks
    /// the grammar (leading zeros, empty identifiers, stray characters).
    public init?(_ text: String) {
        var rest = Substring(text)
        var build: Substring?
        if let plus = rest.firstIndex(of: "+") {
            build = rest[rest.index(after: plus)...]
            rest = rest[..<plus]
        }
        var prerelease: Substring?
        if let dash = rest.firstIndex(of: "-") {
            prerelease = rest[rest.index(after: dash)...]
            rest = rest[..<dash]
        }
        let core = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard core.count == 3, core.allSatisfy(SemVer.isNumber),
              let major = UInt64(core[0]), let minor = UInt64(core[1]), let patch = UInt64(core[2])
        else { return nil }
        if let prerelease {
            let ids = prerelease.split(separator: ".", omittingEmptySubsequences: false)
            guard ids.allSatisfy({ SemVer.isIdentifier($0) && (!$0.allSatisfy(\.isASCIIDigit) || SemVer.isNumber($0)) })
            else { return nil }
        }
        if let build {
            guard build.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(SemVer.isIdentifier)
            else { return nil }
        }
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease.map(String.init)
        self.build = build.map(String.init)
    }

    public var description: String {
        var s = "\(major).\(minor).\(patch)"
        if let prerelease { s += "-" + prerelease }
        if let build { s += "+" + build }
        return s
    }

    /// Digits without a leading zero (a lone "0" is fine).
    private static func isNumber(_ s: Substring) -> Bool {
        !s.isEmpty && s.allSatisfy(\.isASCIIDigit) && (s.count == 1 || s.first != "0")
    }

    private static func isIdentifier(_ s: Substring) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isASCIIDigit || $0.isASCIILetter || $0 == "-" }
    }
}

extension Character {
    // `isASCII` first: a digit plus a combining mark sorts between "0" and "9" too.
    var isASCIIDigit: Bool { isASCII && ("0"..."9").contains(self) }
    var isASCIILetter: Bool { isASCII && (("a"..."z").contains(self) || ("A"..."Z").contains(self)) }
}
