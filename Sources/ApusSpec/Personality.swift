/// `linux.personality`, applied with personality(2).
public struct Personality: JSONCodable, Equatable {
    public var domain: PersonalityDomain
    /// The spec defines no flags yet; like runc, Apus warns and ignores them.
    public var flags: [String]?

    public init(domain: PersonalityDomain, flags: [String]? = nil) { self.domain = domain; self.flags = flags }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        domain = try r.required("domain")
        flags = try r.optional("flags")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("domain", domain)
        b.set("flags", flags)
        return b.json
    }
}

public enum PersonalityDomain: String, JSONStringEnum {
    case LINUX, LINUX32

    public static var kind: String { "personality domain" }

    /// PER_LINUX / PER_LINUX32 (include/uapi/linux/personality.h).
    public var value: UInt32 {
        switch self {
        case .LINUX: return 0x0000
        case .LINUX32: return 0x0008
        }
    }
}
