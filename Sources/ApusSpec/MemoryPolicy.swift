/// `linux.memoryPolicy`, applied with set_mempolicy(2).
public struct MemoryPolicy: JSONCodable, Equatable {
    public var mode: MemoryPolicyMode
    /// A node list such as "0-3,7" (see `CPUList`).
    public var nodes: String?
    public var flags: [MemoryPolicyFlag]?

    public init(mode: MemoryPolicyMode, nodes: String? = nil, flags: [MemoryPolicyFlag]? = nil) {
        self.mode = mode
        self.nodes = nodes
        self.flags = flags
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        mode = try r.required("mode")
        nodes = try r.optional("nodes")
        flags = try r.optional("flags")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("mode", mode)
        b.set("nodes", nodes)
        b.set("flags", flags)
        return b.json
    }
}

public enum MemoryPolicyMode: String, JSONStringEnum {
    case MPOL_DEFAULT, MPOL_PREFERRED, MPOL_BIND, MPOL_INTERLEAVE, MPOL_LOCAL
    case MPOL_PREFERRED_MANY, MPOL_WEIGHTED_INTERLEAVE

    public static var kind: String { "memory policy mode" }

    /// The kernel's mode number (include/uapi/linux/mempolicy.h).
    public var value: Int32 {
        switch self {
        case .MPOL_DEFAULT: return 0
        case .MPOL_PREFERRED: return 1
        case .MPOL_BIND: return 2
        case .MPOL_INTERLEAVE: return 3
        case .MPOL_LOCAL: return 4
        case .MPOL_PREFERRED_MANY: return 5
        case .MPOL_WEIGHTED_INTERLEAVE: return 6
        }
    }
}

public enum MemoryPolicyFlag: String, JSONStringEnum {
    case MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES, MPOL_F_STATIC_NODES

    public static var kind: String { "memory policy flag" }

    /// The mode flag bit OR-ed into set_mempolicy's mode argument.
    public var value: Int32 {
        switch self {
        case .MPOL_F_NUMA_BALANCING: return 1 << 13
        case .MPOL_F_RELATIVE_NODES: return 1 << 14
        case .MPOL_F_STATIC_NODES: return 1 << 15
        }
    }
}
