/// `linux.resources`: cgroup limits. Every field is optional because "absent"
/// means "leave the cgroup's current value alone" (e.g. on `apus update`).
public struct Resources: JSONCodable, Equatable {
    public var devices: [DeviceCgroupRule]?
    public var memory: MemoryResources?
    public var cpu: CPUResources?
    public var pids: PidsResources?
    public var blockIO: BlockIOResources?
    public var hugepageLimits: [HugepageLimit]?
    public var network: NetworkResources?
    public var rdma: [String: RdmaResource]?
    /// cgroup v2 file name -> content, written verbatim.
    public var unified: [String: String]?

    public init() {}

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        devices = try r.optional("devices")
        memory = try r.optional("memory")
        cpu = try r.optional("cpu")
        pids = try r.optional("pids")
        blockIO = try r.optional("blockIO")
        hugepageLimits = try r.optional("hugepageLimits")
        network = try r.optional("network")
        rdma = try r.optional("rdma")
        unified = try r.optional("unified")
    }

    // Key order follows the Go struct so output matches runc's.
    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("devices", devices)
        b.set("memory", memory)
        b.set("cpu", cpu)
        b.set("pids", pids)
        b.set("blockIO", blockIO)
        b.set("hugepageLimits", hugepageLimits)
        b.set("network", network)
        b.set("rdma", rdma)
        b.set("unified", unified)
        return b.json
    }
}

/// One entry of `linux.resources.devices`, the device cgroup allow/deny list.
/// Absent `type`, `major`, `minor` mean "all" (`a`, `*`, `*`).
public struct DeviceCgroupRule: JSONCodable, Equatable {
    public var allow: Bool
    /// "a", "b" or "c".
    public var type: String?
    public var major: Int64?
    public var minor: Int64?
    /// A combination of "r", "w" and "m".
    public var access: String?

    public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
        self.allow = allow
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        allow = try r.required("allow")
        type = try r.optional("type")
        major = try r.optional("major")
        minor = try r.optional("minor")
        access = try r.optional("access")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("allow", allow)
        b.set("type", type)
        b.set("major", major)
        b.set("minor", minor)
        b.set("access", access)
        return b.json
    }
}

/// `linux.resources.pids`. `limit` is required in runtime-spec v1.2
/// (v1.3 made it optional); -1 means "max".
public struct PidsResources: JSONCodable, Equatable {
    public var limit: Int64

    public init(limit: Int64) { self.limit = limit }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        limit = try r.required("limit")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("limit", limit)
        return b.json
    }
}

/// One entry of `linux.resources.hugepageLimits`.
public struct HugepageLimit: JSONCodable, Equatable {
    /// "<size><K|M|G>B", e.g. "2MB".
    public var pageSize: String
    public var limit: UInt64

    public init(pageSize: String, limit: UInt64) { self.pageSize = pageSize; self.limit = limit }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        pageSize = try r.required("pageSize")
        limit = try r.required("limit")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("pageSize", pageSize)
        b.set("limit", limit)
        return b.json
    }
}

/// `linux.resources.network` (cgroup v1 net_cls / net_prio).
public struct NetworkResources: JSONCodable, Equatable {
    public var classID: UInt32?
    public var priorities: [InterfacePriority]?

    public init(classID: UInt32? = nil, priorities: [InterfacePriority]? = nil) {
        self.classID = classID
        self.priorities = priorities
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        classID = try r.optional("classID")
        priorities = try r.optional("priorities")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("classID", classID)
        b.set("priorities", priorities)
        return b.json
    }
}

public struct InterfacePriority: JSONCodable, Equatable {
    public var name: String
    public var priority: UInt32

    public init(name: String, priority: UInt32) { self.name = name; self.priority = priority }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        name = try r.required("name")
        priority = try r.required("priority")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("name", name)
        b.set("priority", priority)
        return b.json
    }
}

/// One value of `linux.resources.rdma`, keyed by device name.
public struct RdmaResource: JSONCodable, Equatable {
    public var hcaHandles: UInt32?
    public var hcaObjects: UInt32?

    public init(hcaHandles: UInt32? = nil, hcaObjects: UInt32? = nil) {
        self.hcaHandles = hcaHandles
        self.hcaObjects = hcaObjects
    }

    public init(json: JSONValue, path: JSONPath) throws {
        let r = try ObjectReader(json, path: path)
        hcaHandles = try r.optional("hcaHandles")
        hcaObjects = try r.optional("hcaObjects")
    }

    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("hcaHandles", hcaHandles)
        b.set("hcaObjects", hcaObjects)
        return b.json
    }
}
