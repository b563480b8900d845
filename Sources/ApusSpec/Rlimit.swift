/// One entry of `process.rlimits`, applied with setrlimit(2)/prlimit(2).
public struct POSIXRlimit: JSONCodable, Equatable {
    public var type: RlimitType
    public var hard: UInt64
    public var soft: UInt64

    public init(type: RlimitType, hard: UInt64, soft: UInt64) {
        self.type = type
        self.hard = hard
        self.soft = soft
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        type = try r.required("type")
        hard = try r.required("hard")
        soft = try r.required("soft")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("type", type)
        b.set("hard", hard)
        b.set("soft", soft)
        return b.json
    }
}

/// The resources getrlimit(2) knows on Linux. An unknown name is a decoding
/// error, as the spec requires for types that cannot be mapped to the kernel.
public enum RlimitType: String, JSONStringEnum {
    case RLIMIT_AS, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_FSIZE, RLIMIT_LOCKS
    case RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_NOFILE, RLIMIT_NPROC
    case RLIMIT_RSS, RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIMIT_SIGPENDING, RLIMIT_STACK

    public static var kind: String { "rlimit" }

    /// The kernel's resource number (include/uapi/asm-generic/resource.h;
    /// the same on every architecture Apus targets).
    public var resource: Int32 {
        switch self {
        case .RLIMIT_CPU: return 0
        case .RLIMIT_FSIZE: return 1
        case .RLIMIT_DATA: return 2
        case .RLIMIT_STACK: return 3
        case .RLIMIT_CORE: return 4
        case .RLIMIT_RSS: return 5
        case .RLIMIT_NPROC: return 6
        case .RLIMIT_NOFILE: return 7
        case .RLIMIT_MEMLOCK: return 8
        case .RLIMIT_AS: return 9
        case .RLIMIT_LOCKS: return 10
        case .RLIMIT_SIGPENDING: return 11
        case .RLIMIT_MSGQUEUE: return 12
        case .RLIMIT_NICE: return 13
        case .RLIMIT_RTPRIO: return 14
        case .RLIMIT_RTTIME: return 15
        }
    }
}
