/// One entry of `linux.namespaces`: create a namespace of `type`, or join the
/// one at `path`.
public struct LinuxNamespace: JSONCodable, Equatable {
    public var type: NamespaceType
    /// Absent or "" means "create a new namespace" (Go's omitempty makes the
    /// two indistinguishable, so Apus treats them alike; see `joinPath`).
    public var path: String?

    public init(type: NamespaceType, path: String? = nil) { self.type = type; self.path = path }

    public init(json: JSONValue, path p: JSONPath) throws {
        let r = try ObjectReader(json, path: p)
        type = try r.required("type")
        path = try r.optional("path")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("type", type)
        b.set("path", path)
        return b.json
    }

    /// The namespace file to join, or nil to create a new namespace.
    public var joinPath: String? {
        guard let path, !path.isEmpty else { return nil }
        return path
    }
}

public enum NamespaceType: String, JSONStringEnum {
    case pid, network, mount, ipc, uts, user, cgroup, time

    public static var kind: String { "namespace type" }

    /// The CLONE_NEW* flag for clone(2), unshare(2) and setns(2); also what
    /// the NS_GET_NSTYPE ioctl returns for a namespace file of this type.
    public var cloneFlag: Int32 {
        switch self {
        case .mount: return 0x0002_0000
        case .cgroup: return 0x0200_0000
        case .uts: return 0x0400_0000
        case .ipc: return 0x0800_0000
        case .user: return 0x1000_0000
        case .pid: return 0x2000_0000
        case .network: return 0x4000_0000
        case .time: return 0x0000_0080
        }
    }

    /// The file name under /proc/PID/ns/.
    public var procName: String {
        switch self {
        case .pid: return "pid"
        case .network: return "net"
        case .mount: return "mnt"
        case .ipc: return "ipc"
        case .uts: return "uts"
        case .user: return "user"
        case .cgroup: return "cgroup"
        case .time: return "time"
        }
    }
}
