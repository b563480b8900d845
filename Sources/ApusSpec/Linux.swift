/// `linux`: the Linux-specific part of the config.
public struct Linux: JSONCodable, Equatable {
    public var uidMappings: [IDMapping]?
    public var gidMappings: [IDMapping]?
    public var sysctl: [String: String]?
    public var resources: Resources?
    public var cgroupsPath: String?
    public var namespaces: [LinuxNamespace]?
    public var devices: [LinuxDevice]?
    public var netDevices: [String: NetDevice]?
    public var seccomp: Seccomp?
    public var rootfsPropagation: String?
    public var maskedPaths: [String]?
    public var readonlyPaths: [String]?
    public var mountLabel: String?
    public var intelRdt: IntelRdt?
    public var memoryPolicy: MemoryPolicy?
    public var personality: Personality?
    public var timeOffsets: [String: TimeOffset]?

    public init() {}

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        uidMappings = try r.optional("uidMappings")
        gidMappings = try r.optional("gidMappings")
        sysctl = try r.optional("sysctl")
        resources = try r.optional("resources")
        cgroupsPath = try r.optional("cgroupsPath")
        namespaces = try r.optional("namespaces")
        devices = try r.optional("devices")
        netDevices = try r.optional("netDevices")
        seccomp = try r.optional("seccomp")
        rootfsPropagation = try r.optional("rootfsPropagation")
        maskedPaths = try r.optional("maskedPaths")
        readonlyPaths = try r.optional("readonlyPaths")
        mountLabel = try r.optional("mountLabel")
        intelRdt = try r.optional("intelRdt")
        memoryPolicy = try r.optional("memoryPolicy")
        personality = try r.optional("personality")
        timeOffsets = try r.optional("timeOffsets")
    }

    // Key order follows the Go struct so output matches runc's.
    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("uidMappings", uidMappings)
        b.set("gidMappings", gidMappings)
        b.set("sysctl", sysctl)
        b.set("resources", resources)
        b.set("cgroupsPath", cgroupsPath)
        b.set("namespaces", namespaces)
        b.set("devices", devices)
        b.set("netDevices", netDevices)
        b.set("seccomp", seccomp)
        b.set("rootfsPropagation", rootfsPropagation)
        b.set("maskedPaths", maskedPaths)
        b.set("readonlyPaths", readonlyPaths)
        b.set("mountLabel", mountLabel)
        b.set("intelRdt", intelRdt)
        b.set("memoryPolicy", memoryPolicy)
        b.set("personality", personality)
        b.set("timeOffsets", timeOffsets)
        return b.json
    }

    /// The entry for a namespace type, if the config lists one.
    public func namespace(_ type: NamespaceType) -> LinuxNamespace? {
        namespaces?.first { $0.type == type }
    }
}

/// One value of `linux.timeOffsets`, keyed by clock name (`monotonic`, `boottime`).
public struct TimeOffset: JSONCodable, Equatable {
    public var secs: Int64?
    public var nanosecs: UInt32?

    public init(secs: Int64? = nil, nanosecs: UInt32? = nil) { self.secs = secs; self.nanosecs = nanosecs }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        secs = try r.optional("secs")
        nanosecs = try r.optional("nanosecs")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("secs", secs)
        b.set("nanosecs", nanosecs)
        return b.json
    }
}

/// One entry of `linux.devices`: a device node to create in the container.
/// `major`/`minor` are required unless `type` is "p" (checked by `validate()`).
public struct LinuxDevice: JSONCodable, Equatable {
    public var path: String
    /// "c", "b", "u" (unbuffered char) or "p" (FIFO).
    public var type: String
    public var major: Int64?
    public var minor: Int64?
    /// Decimal mode bits (the spec's "not octal" note); permission bits only in practice.
    public var fileMode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?

    public init(path: String, type: String, major: Int64? = nil, minor: Int64? = nil,
                fileMode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
        self.path = path
        self.type = type
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.uid = uid
        self.gid = gid
    }

    public init(json: JSONValue, path p: JSONPath) throws {
        let r = try ObjectReader(json, path: p)
        path = try r.required("path")
        type = try r.required("type")
        major = try r.optional("major")
        minor = try r.optional("minor")
        fileMode = try r.optional("fileMode")
        uid = try r.optional("uid")
        gid = try r.optional("gid")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("path", path)
        b.set("type", type)
        b.set("major", major)
        b.set("minor", minor)
        b.set("fileMode", fileMode)
        b.set("uid", uid)
        b.set("gid", gid)
        return b.json
    }
}

/// One value of `linux.netDevices`, keyed by the host interface name.
public struct NetDevice: JSONCodable, Equatable {
    /// The name inside the container; absent means keep the host name.
    public var name: String?

    public init(name: String? = nil) { self.name = name }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        name = try r.optional("name")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("name", name)
        return b.json
    }
}

/// linux.sysctl names and their files.
public enum Sysctl {
    /// The path below /proc/sys for a (validated) sysctl name.
    public static func procPath(_ name: String) -> String { Validator.sysctlProcPath(name) }
}
